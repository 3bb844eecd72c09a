-- Supervised tasks (督办事项): a projection of each task workflow, its events, submissions,
-- and the notification outbox. Workflows own the process state; these rows are written by
-- idempotent activities keyed by task id and event sequence.
CREATE TABLE IF NOT EXISTS tasks (
  task_id          text PRIMARY KEY,
  workflow_id      text NOT NULL,
  campaign_id      text NOT NULL,
  indicator        text,
  kind             text NOT NULL,
  title            text NOT NULL,
  unit_id          text NOT NULL,
  assignee         text NOT NULL,
  reviewer         text,
  review           boolean NOT NULL,
  state            text NOT NULL CHECK (state IN ('open', 'submitted', 'returned', 'done', 'cancelled')),
  due_at           timestamptz NOT NULL,
  warning_ms       bigint NOT NULL,
  time_zone        text NOT NULL,
  escalation_level integer NOT NULL DEFAULT 0,
  extensions_used  integer NOT NULL DEFAULT 0,
  pending_extension jsonb,
  last_submission  jsonb,
  last_return_reason text,
  created_at       timestamptz NOT NULL,
  completed_at     timestamptz,
  on_time          boolean,
  last_seq         integer NOT NULL,
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS tasks_by_campaign_unit ON tasks (campaign_id, unit_id);
CREATE INDEX IF NOT EXISTS tasks_by_campaign_indicator ON tasks (campaign_id, indicator);
CREATE INDEX IF NOT EXISTS tasks_by_campaign_state ON tasks (campaign_id, state);

CREATE TABLE IF NOT EXISTS task_events (
  task_id     text NOT NULL,
  seq         integer NOT NULL,
  campaign_id text NOT NULL,
  unit_id     text NOT NULL,
  at          timestamptz NOT NULL,
  type        text NOT NULL,
  actor       text,
  detail      jsonb NOT NULL DEFAULT '{}',
  recipients  text[] NOT NULL DEFAULT '{}',
  PRIMARY KEY (task_id, seq)
);
CREATE INDEX IF NOT EXISTS task_events_by_campaign ON task_events (campaign_id, at);

CREATE TABLE IF NOT EXISTS submissions (
  task_id   text NOT NULL,
  seq       integer NOT NULL,
  at        timestamptz NOT NULL,
  by_person text NOT NULL,
  note      text,
  data      jsonb,
  evidence  text[] NOT NULL DEFAULT '{}',
  on_time   boolean NOT NULL,
  PRIMARY KEY (task_id, seq)
);

-- The outbox: one notice per event that reaches people, one delivery per channel. The
-- worker's dispatcher sends pending deliveries with backoff and records every failure.
CREATE TABLE IF NOT EXISTS notices (
  notice_id   text PRIMARY KEY,
  campaign_id text NOT NULL,
  task_id     text,
  event_seq   integer,
  kind        text NOT NULL,
  recipients  text[] NOT NULL,
  title       text NOT NULL,
  body        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS notice_deliveries (
  notice_id       text NOT NULL REFERENCES notices(notice_id) ON DELETE CASCADE,
  channel_id      text NOT NULL,
  channel         jsonb NOT NULL,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error      text,
  sent_at         timestamptz,
  PRIMARY KEY (notice_id, channel_id)
);
CREATE INDEX IF NOT EXISTS notice_deliveries_due ON notice_deliveries (next_attempt_at) WHERE status = 'pending';

-- A unit's performance record (the basis for 扣分): tasks on time and late, escalations by level.
CREATE OR REPLACE VIEW unit_performance AS
SELECT t.campaign_id,
       t.unit_id,
       count(*)                                                        AS tasks,
       count(*) FILTER (WHERE t.state = 'done' AND t.on_time)          AS done_on_time,
       count(*) FILTER (WHERE t.state = 'done' AND NOT t.on_time)      AS done_late,
       count(*) FILTER (WHERE t.state IN ('open', 'returned', 'submitted') AND t.due_at < now()
                              AND t.state <> 'submitted')              AS open_overdue,
       coalesce(sum(e.level1), 0)                                      AS escalations_level1,
       coalesce(sum(e.level2), 0)                                      AS escalations_level2,
       coalesce(sum(e.level3plus), 0)                                  AS escalations_level3_plus
FROM tasks t
LEFT JOIN (
  SELECT task_id,
         count(*) FILTER (WHERE (detail->>'level')::int = 1) AS level1,
         count(*) FILTER (WHERE (detail->>'level')::int = 2) AS level2,
         count(*) FILTER (WHERE (detail->>'level')::int >= 3) AS level3plus
  FROM task_events WHERE type = 'escalated' GROUP BY task_id
) e ON e.task_id = t.task_id
GROUP BY t.campaign_id, t.unit_id;
