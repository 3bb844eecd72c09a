// Projections of the rectification loop: its state, its measures (the ledger's rows) and its
// progress reports, each idempotent.
import type pg from 'pg';
import type { ChannelConfig } from '../domain/definition.ts';
import { insertNotice } from './campaign.ts';

export function rectificationActivities(deps: { pool: pg.Pool }) {
  const { pool } = deps;
  return {
    async projectRectification(r: {
      campaignId: string;
      code: string;
      reason: string;
      state: string;
      benchmark: string | null;
      closed: boolean;
      version: number;
      /**
       * Started by the bureau after its indicator had closed: the indicator's board row shows
       * the rectification while it runs, and closed again after it.
       */
      standalone?: boolean;
    }): Promise<void> {
      if (r.standalone) {
        await pool.query(
          `UPDATE indicator_status SET phase = CASE WHEN $3 THEN 'closed' ELSE 'rectification' END,
             state = CASE WHEN $3 THEN 'closed' ELSE 'in-progress' END,
             rectification_reason = coalesce(rectification_reason, $4),
             version = version + 1, updated_at = now()
           WHERE campaign_id = $1 AND code = $2`,
          [r.campaignId, r.code, r.closed, r.reason],
        );
      }
      await pool.query(
        `INSERT INTO rectifications (campaign_id, code, workflow_id, reason, state, benchmark, started_at, closed_at, version)
         VALUES ($1, $2, $1 || '/' || $2 || '/rectification', $3, $4, $5, now(), CASE WHEN $6 THEN now() END, $7)
         ON CONFLICT (campaign_id, code) DO UPDATE SET state = EXCLUDED.state, benchmark = EXCLUDED.benchmark,
           closed_at = CASE WHEN $6 THEN coalesce(rectifications.closed_at, now()) END, version = EXCLUDED.version
         WHERE rectifications.version < EXCLUDED.version`,
        [r.campaignId, r.code, r.reason, r.state, r.benchmark, r.closed, r.version],
      );
    },

    async recordRectificationItem(i: {
      campaignId: string;
      code: string;
      no: number;
      problemNo: number;
      finding: string;
      problem: string;
      cause: string;
      gap: string;
      measure: string;
      unitId: string;
      person: string;
      taskId: string;
      addedReason: string | null;
      addedBy: string | null;
    }): Promise<void> {
      await pool.query(
        `INSERT INTO rectification_items (campaign_id, code, no, problem_no, finding, problem, cause, gap, measure,
           unit_id, person, task_id, added_reason, added_by)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14) ON CONFLICT DO NOTHING`,
        [
          i.campaignId,
          i.code,
          i.no,
          i.problemNo,
          i.finding,
          i.problem,
          i.cause,
          i.gap,
          i.measure,
          i.unitId,
          i.person,
          i.taskId,
          i.addedReason,
          i.addedBy,
        ],
      );
    },

    async recordRectificationProgress(p: {
      campaignId: string;
      code: string;
      seq: number;
      total: number;
      closed: number;
      channels: ChannelConfig[];
    }): Promise<void> {
      const overdue = Number(
        (
          await pool.query(
            `SELECT count(*) AS n FROM rectification_items r JOIN tasks t USING (task_id)
             WHERE r.campaign_id = $1 AND r.code = $2 AND t.state IN ('open', 'returned') AND t.due_at < now()`,
            [p.campaignId, p.code],
          )
        ).rows[0].n,
      );
      await pool.query(
        `INSERT INTO rectification_progress (campaign_id, code, seq, at, total, closed, overdue)
         VALUES ($1,$2,$3, now(), $4,$5,$6) ON CONFLICT DO NOTHING`,
        [p.campaignId, p.code, p.seq, p.total, p.closed, overdue],
      );
      const recipients = (
        await pool.query<{ person_id: string }>(
          `SELECT p.person_id FROM people p JOIN units u USING (campaign_id, unit_id)
           WHERE p.campaign_id = $1 AND u.kind = 'bureau' AND p.role IN ('coordinator', 'head')`,
          [p.campaignId],
        )
      ).rows.map((r) => r.person_id);
      await insertNotice(pool, {
        noticeId: `${p.campaignId}#${p.code}#rectification-progress#${p.seq}`,
        campaignId: p.campaignId,
        taskId: null,
        kind: 'rectification-progress',
        recipients,
        title: `【整改进展】${p.code} 第 ${p.seq} 次报告`,
        body: `整改措施 ${p.total} 项，已销号 ${p.closed} 项，逾期 ${overdue} 项。`,
        channels: p.channels,
      });
    },
  };
}
