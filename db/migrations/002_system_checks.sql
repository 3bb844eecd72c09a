-- Written by the system-check workflow (`campaign doctor`): proof that a worker, a timer and
-- an activity reach PostgreSQL end to end. One row per workflow run, written idempotently.
CREATE TABLE IF NOT EXISTS system_checks (
  check_id      text PRIMARY KEY,
  workflow_id   text NOT NULL,
  run_id        text NOT NULL,
  requested_at  timestamptz NOT NULL,
  slept_ms      bigint NOT NULL,
  workflow_time timestamptz NOT NULL,
  written_at    timestamptz NOT NULL DEFAULT now()
);
