-- The rectification loop (整改): one row per rectification and one per measure, from which the
-- ledger (整改台账) is made together with the measure tasks' state.
CREATE TABLE IF NOT EXISTS rectifications (
  campaign_id  text NOT NULL,
  code         text NOT NULL,
  workflow_id  text NOT NULL,
  reason       text NOT NULL,
  state        text NOT NULL,
  benchmark    text,
  started_at   timestamptz NOT NULL,
  closed_at    timestamptz,
  version      integer NOT NULL,
  PRIMARY KEY (campaign_id, code)
);

CREATE TABLE IF NOT EXISTS rectification_items (
  campaign_id  text NOT NULL,
  code         text NOT NULL,
  no           integer NOT NULL,
  problem_no   integer NOT NULL,
  finding      text NOT NULL,
  problem      text NOT NULL,
  cause        text NOT NULL,
  gap          text NOT NULL,
  measure      text NOT NULL,
  unit_id      text NOT NULL,
  person       text NOT NULL,
  task_id      text NOT NULL,
  added_reason text,
  added_by     text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (campaign_id, code, no)
);

CREATE TABLE IF NOT EXISTS rectification_progress (
  campaign_id  text NOT NULL,
  code         text NOT NULL,
  seq          integer NOT NULL,
  at           timestamptz NOT NULL,
  total        integer NOT NULL,
  closed       integer NOT NULL,
  overdue      integer NOT NULL,
  PRIMARY KEY (campaign_id, code, seq)
);
