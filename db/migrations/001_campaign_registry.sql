-- The campaign registry: each campaign's definition as it was started, with its units,
-- people and indicators flattened for reports and for joining against tasks later.
CREATE TABLE IF NOT EXISTS campaigns (
  campaign_id   text PRIMARY KEY,
  name          text NOT NULL,
  county        text NOT NULL,
  year          integer NOT NULL,
  time_zone     text NOT NULL,
  definition    jsonb NOT NULL,
  calendar      jsonb NOT NULL,
  workflow_id   text NOT NULL UNIQUE,
  started_by    text,
  created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS units (
  campaign_id   text NOT NULL REFERENCES campaigns(campaign_id) ON DELETE CASCADE,
  unit_id       text NOT NULL,
  name          text NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('bureau', 'department', 'evaluator', 'leadership')),
  PRIMARY KEY (campaign_id, unit_id)
);

CREATE TABLE IF NOT EXISTS people (
  campaign_id   text NOT NULL,
  person_id     text NOT NULL,
  unit_id       text NOT NULL,
  name          text NOT NULL,
  role          text NOT NULL,
  title         text,
  phone         text,
  PRIMARY KEY (campaign_id, person_id),
  FOREIGN KEY (campaign_id, unit_id) REFERENCES units(campaign_id, unit_id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS indicators (
  campaign_id   text NOT NULL REFERENCES campaigns(campaign_id) ON DELETE CASCADE,
  code          text NOT NULL,
  name          text NOT NULL,
  lead_unit     text NOT NULL,
  cooperating_units text[] NOT NULL DEFAULT '{}',
  team_leader   text NOT NULL,
  position      integer NOT NULL,
  PRIMARY KEY (campaign_id, code)
);
