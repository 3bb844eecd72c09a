// Projection of task workflows into PostgreSQL: the task row, its events, its submissions and
// the notices of the outbox — in one transaction per event, idempotent by (task id, seq), so
// that a retried activity writes nothing twice.
import type pg from 'pg';
import type { ChannelConfig } from '../domain/definition.ts';
import { noticeText } from '../domain/task-text.ts';
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

export interface TaskActivityDeps {
  pool: pg.Pool;
  /** Test hook: called after the transaction commits; throwing forces a retry. */
  afterProjection?: (taskId: string, seq: number) => void;
}

export function channelId(c: ChannelConfig, index: number): string {
  return c.id ?? `${c.type}-${index + 1}`;
}

const ts = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? null : new Date(ms);

export function taskActivities(deps: TaskActivityDeps) {
  return {
    async projectTaskEvent(input: ProjectTaskEventInput): Promise<void> {
      const { task: v, event: e } = input;
      const client = await deps.pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(
          `INSERT INTO tasks (task_id, workflow_id, campaign_id, indicator, kind, title, unit_id, assignee, reviewer,
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
           WHERE tasks.last_seq < EXCLUDED.last_seq`,
          [
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
          ],
        );
        await client.query(
          `INSERT INTO task_events (task_id, seq, campaign_id, unit_id, at, type, actor, detail, recipients)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT (task_id, seq) DO NOTHING`,
          [
            v.taskId,
            e.seq,
            v.campaignId,
            v.unitId,
            ts(e.at),
            e.type,
            e.actor,
            JSON.stringify(e.detail),
            e.recipients,
          ],
        );
        if (e.type === 'submitted') {
          await client.query(
            `INSERT INTO submissions (task_id, seq, at, by_person, note, data, evidence, on_time)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (task_id, seq) DO NOTHING`,
            [
              v.taskId,
              e.seq,
              ts(e.at),
              e.actor,
              (e.detail.note as string | null) ?? null,
              e.detail.data ? JSON.stringify(e.detail.data) : null,
              (e.detail.evidence as string[] | undefined) ?? [],
              e.detail.onTime === true,
            ],
          );
        }
        if (e.recipients.length > 0) {
          const noticeId = `${v.taskId}#${e.seq}`;
          const text = noticeText(e, v, input.static.timeZone);
          await client.query(
            `INSERT INTO notices (notice_id, campaign_id, task_id, event_seq, kind, recipients, title, body)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (notice_id) DO NOTHING`,
            [noticeId, v.campaignId, v.taskId, e.seq, e.type, e.recipients, text.title, text.body],
          );
          for (const [i, c] of input.channels.entries()) {
            await client.query(
              `INSERT INTO notice_deliveries (notice_id, channel_id, channel) VALUES ($1,$2,$3)
               ON CONFLICT (notice_id, channel_id) DO NOTHING`,
              [noticeId, channelId(c, i), JSON.stringify(c)],
            );
          }
        }
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
      deps.afterProjection?.(v.taskId, e.seq);
    },
  };
}
