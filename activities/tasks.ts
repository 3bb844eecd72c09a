// Projection of task workflows into PostgreSQL: the task row, its events, its submissions and
// the notices of the outbox — in one transaction per event, idempotent by (task id, seq), so
// that a retried activity writes nothing twice.
import type pg from 'pg';
import type { ChannelConfig } from '../domain/definition.ts';
import { noticeText } from '../domain/task-text.ts';
import { withTransaction } from '../db/pool.ts';
import { refusedForGood, type RefusedListener } from './projection-errors.ts';
import type { TaskEventRecord, TaskView } from '../domain/task.ts';

export interface ProjectTaskEventInput {
  task: TaskView;
  static: {
    review: boolean;
    warningMs: number;
    createdAt: number;
    workflowId: string;
    timeZone: string;
  };
  event: TaskEventRecord;
  channels: ChannelConfig[];
}

/** Several events of one task, projected at once: the task row as it stands after the last. */
export interface ProjectTaskEventsInput {
  task: TaskView;
  static: ProjectTaskEventInput['static'];
  events: TaskEventRecord[];
  channels: ChannelConfig[];
}

export interface TaskActivityDeps {
  pool: pg.Pool;
  /** Test hook: called after the transaction commits; throwing forces a retry. */
  afterProjection?: (taskId: string, seq: number) => void;
  /**
   * Fault tests only: called before a batch of events is written; 'lose' makes the projection
   * report success without writing anything (the negative control of the catch-up test).
   */
  beforeProjection?: (taskId: string, seqs: number[]) => 'lose' | void;
  /** Told of every projection PostgreSQL refused for good (the worker's /health). */
  projectionRefused?: RefusedListener;
}

export function channelId(c: ChannelConfig, index: number): string {
  return c.id ?? `${c.type}-${index + 1}`;
}

const ts = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? null : new Date(ms);

export function taskActivities(deps: TaskActivityDeps) {
  return {
    /**
     * Does nothing. An update handler schedules it (an ordinary activity, not a local one) so
     * that the workflow task that accepts the update completes, and the server records the
     * acceptance, before the handler changes anything or projects it (see workflows/task.ts).
     */
    async acknowledgeUpdate(): Promise<void> {},

    async projectTaskEvent(input: ProjectTaskEventInput): Promise<void> {
      await projectOne(deps.pool, input);
      deps.afterProjection?.(input.task.taskId, input.event.seq);
    },

    /**
     * The one-task path's projection: every event an action or a timer recorded, in one
     * transaction, the task row as it stands after them (moved forward only). A database
     * refusal for good fails it as non-retryable (activities/projection-errors.ts).
     */
    /**
     * The creation of several new tasks at once, by the workflow that starts them: one
     * transaction for all (each task then skips projecting its own creation).
     */
    async projectTasksCreated(tasks: ProjectTaskEventInput[]): Promise<void> {
      if (!tasks.length) return;
      await refusedForGood(
        `the creation of tasks ${tasks.map((t) => t.task.taskId).join(', ')}`,
        () =>
          withTransaction(deps.pool, async (client) => {
            for (const t of tasks) await projectOne(client, t);
          }),
      );
    },

    async projectTaskEvents(input: ProjectTaskEventsInput): Promise<void> {
      const last = input.events[input.events.length - 1];
      if (!last) return;
      const seqs = input.events.map((e) => e.seq);
      if (deps.beforeProjection?.(input.task.taskId, seqs) === 'lose') return;
      const what = `task ${input.task.taskId} events ${seqs.join(', ')}`;
      await refusedForGood(
        what,
        async () => {
          const one = (q: Queryable, event: TaskEventRecord) =>
            projectOne(q, {
              task: input.task,
              static: input.static,
              event,
              channels: input.channels,
            });
          if (input.events.length === 1) await one(deps.pool, last);
          else
            await withTransaction(deps.pool, async (client) => {
              for (const e of input.events) await one(client, e);
            });
        },
        deps.projectionRefused,
      );
      for (const seq of seqs) deps.afterProjection?.(input.task.taskId, seq);
    },
  };
}

type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

/** One event of a task: the task row (only moved forward), the event, its submission and notice. */
async function projectOne(q: Queryable, input: ProjectTaskEventInput): Promise<void> {
  const { task: v, event: e } = input;
  const notice = e.recipients.length > 0 ? noticeText(e, v, input.static.timeZone) : null;
  const channels = notice ? input.channels.map((c, i) => ({ ...c, id: channelId(c, i) })) : [];
  // One statement, so one round trip and one atomic change: the task row (only moved
  // forward), the event, the submission, the notice and its deliveries, each idempotent.
  await q.query({
    // Prepared once per connection: the planner's work is not repeated on every event.
    name: 'project-task-event',
    text: `WITH task AS (
           INSERT INTO tasks (task_id, workflow_id, campaign_id, indicator, kind, title, unit_id, assignee, reviewer,
             review, state, due_at, warning_ms, time_zone, escalation_level, extensions_used, pending_extension,
             last_submission, last_return_reason, created_at, completed_at, on_time, last_seq, updated_at)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23, now())
           ON CONFLICT (task_id) DO UPDATE SET
             assignee = EXCLUDED.assignee, reviewer = EXCLUDED.reviewer, state = EXCLUDED.state,
             due_at = EXCLUDED.due_at, escalation_level = EXCLUDED.escalation_level,
             extensions_used = EXCLUDED.extensions_used, pending_extension = EXCLUDED.pending_extension,
             last_submission = EXCLUDED.last_submission, last_return_reason = EXCLUDED.last_return_reason,
             completed_at = EXCLUDED.completed_at, on_time = EXCLUDED.on_time,
             last_seq = EXCLUDED.last_seq, updated_at = now()
           WHERE tasks.last_seq < EXCLUDED.last_seq
           RETURNING 1
         ), event AS (
           INSERT INTO task_events (task_id, seq, campaign_id, unit_id, at, type, actor, detail, recipients)
           VALUES ($1, $23, $3, $7, $24, $25, $26, $27, $28)
           ON CONFLICT (task_id, seq) DO NOTHING
           RETURNING 1
         ), submission AS (
           INSERT INTO submissions (task_id, seq, at, by_person, note, data, evidence, on_time)
           SELECT $1, $23, $24, $26, $27::jsonb->>'note', $27::jsonb->'data',
                  ARRAY(SELECT jsonb_array_elements_text(coalesce($27::jsonb->'evidence', '[]'))),
                  coalesce(($27::jsonb->>'onTime')::boolean, false)
           WHERE $25 = 'submitted'
           ON CONFLICT (task_id, seq) DO NOTHING
           RETURNING 1
         ), notice AS (
           INSERT INTO notices (notice_id, campaign_id, task_id, event_seq, kind, recipients, title, body)
           SELECT $1 || '#' || $23, $3, $1, $23, $25, $28, $29, $30
           WHERE $29::text IS NOT NULL
           ON CONFLICT (notice_id) DO NOTHING
           RETURNING notice_id
         )
         INSERT INTO notice_deliveries (notice_id, channel_id, channel)
         SELECT n.notice_id, c->>'id', c FROM notice n, jsonb_array_elements($31::jsonb) c
         ON CONFLICT (notice_id, channel_id) DO NOTHING`,
    values: [
      v.taskId,
      input.static.workflowId,
      v.campaignId,
      v.indicator,
      v.kind,
      v.title,
      v.unitId,
      v.assignee,
      v.reviewer,
      input.static.review,
      v.state,
      ts(v.due),
      input.static.warningMs,
      input.static.timeZone,
      v.escalationLevel,
      v.extensionsUsed,
      v.pendingExtension ? JSON.stringify(v.pendingExtension) : null,
      v.lastSubmission ? JSON.stringify(v.lastSubmission) : null,
      v.lastReturnReason,
      ts(input.static.createdAt),
      ts(v.completedAt),
      v.onTime,
      e.seq,
      ts(e.at),
      e.type,
      e.actor,
      JSON.stringify(e.detail),
      e.recipients,
      notice?.title ?? null,
      notice?.body ?? null,
      JSON.stringify(channels),
    ],
  });
}
