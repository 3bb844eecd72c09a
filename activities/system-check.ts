// Activity of the system-check workflow: one idempotent row per check.
import type pg from 'pg';

export interface SystemCheckRecord {
  checkId: string;
  workflowId: string;
  runId: string;
  requestedAt: number;
  sleptMs: number;
  workflowTime: number;
}

export function systemCheckActivities(deps: { pool: pg.Pool }) {
  return {
    async recordSystemCheck(r: SystemCheckRecord): Promise<void> {
      await deps.pool.query(
        `INSERT INTO system_checks (check_id, workflow_id, run_id, requested_at, slept_ms, workflow_time)
         VALUES ($1, $2, $3, to_timestamp($4 / 1000.0), $5, to_timestamp($6 / 1000.0))
         ON CONFLICT (check_id) DO NOTHING`,
        [r.checkId, r.workflowId, r.runId, r.requestedAt, r.sleptMs, r.workflowTime],
      );
    },
  };
}
