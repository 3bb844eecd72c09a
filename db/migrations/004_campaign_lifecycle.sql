-- The campaign lifecycle: each indicator's phase and state, the enterprise list and the
-- verification sample, verified items, evaluation results, and the daily dispatch digests.
ALTER TABLE campaigns ADD COLUMN IF NOT EXISTS phase text NOT NULL DEFAULT 'scheduled';
ALTER TABLE campaigns ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT 'running';
ALTER TABLE campaigns ADD COLUMN IF NOT EXISTS updated_at timestamptz NOT NULL DEFAULT now();

CREATE TABLE IF NOT EXISTS indicator_status (
  campaign_id  text NOT NULL,
  code         text NOT NULL,
  phase        text NOT NULL,
  state        text NOT NULL,
  flagged      boolean NOT NULL DEFAULT false,
  score        numeric,
  rank         integer,
  rectification_reason text,
  questionnaire jsonb,
  version      integer NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (campaign_id, code)
);

CREATE TABLE IF NOT EXISTS enterprises (
  campaign_id   text NOT NULL,
  credit_code   text NOT NULL,
  name          text NOT NULL,
  industry      text,
  town          text,
  imported_by   text NOT NULL,
  imported_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (campaign_id, credit_code)
);

CREATE TABLE IF NOT EXISTS samples (
  campaign_id   text NOT NULL,
  seed          text NOT NULL,
  proportion    numeric NOT NULL,
  population    integer NOT NULL,
  size          integer NOT NULL,
  enterprises   text[] NOT NULL,
  drawn_by      text NOT NULL,
  drawn_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (campaign_id, seed, population)
);

CREATE TABLE IF NOT EXISTS verifications (
  campaign_id  text NOT NULL,
  code         text NOT NULL,
  seq          integer NOT NULL,
  item         text NOT NULL,
  outcome      text NOT NULL CHECK (outcome IN ('confirmed', 'discrepant')),
  note         text,
  actor        text NOT NULL,
  at           timestamptz NOT NULL,
  PRIMARY KEY (campaign_id, code, seq)
);

CREATE TABLE IF NOT EXISTS results (
  campaign_id  text NOT NULL,
  code         text NOT NULL,
  score        numeric NOT NULL,
  rank         integer NOT NULL,
  imported_by  text NOT NULL,
  imported_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (campaign_id, code)
);

CREATE TABLE IF NOT EXISTS dispatches (
  campaign_id  text NOT NULL,
  date         date NOT NULL,
  digest       jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (campaign_id, date)
);
