// Activities of the campaign and indicator workflows: the campaign record, phase and state
// projections, verified items, results, and the daily dispatch digest. All idempotent.
import type pg from 'pg';
import { withTransaction } from '../db/pool.ts';
import type {
  CampaignPlan,
  CampaignPhase,
  IndicatorPhase,
  IndicatorState,
} from '../domain/campaign.ts';
import type { ResolvedCalendar } from '../domain/calendar.ts';
import type { CampaignDefinition, ChannelConfig } from '../domain/definition.ts';
import type { ResultRow } from '../domain/imports.ts';
import { computeDispatch, questionnaireLines, type DispatchDigest } from './dispatch.ts';
import { publicityLine } from './dispatch-publicity.ts';
import type { OutboundNotice } from './notify/channels.ts';
import { channelId } from './tasks.ts';

export interface RecordCampaignInput {
  definition: CampaignDefinition;
  calendar: ResolvedCalendar;
  plan: CampaignPlan;
  workflowId: string;
  startedBy: string | null;
}

export interface IndicatorProjection {
  campaignId: string;
  code: string;
  phase: IndicatorPhase;
  state: IndicatorState;
  flagged: boolean;
  score: number | null;
  rank: number | null;
  rectificationReason: string | null;
  questionnaire: Record<string, unknown> | null;
  version: number;
}

export interface CampaignEventInput {
  campaignId: string;
  seq: number;
  at: number;
  type: 'phase-closed' | 'phase-extended' | 'cancelled' | 'task-raised';
  actor: string;
  reason: string;
  detail: Record<string, unknown>;
  /** The windows in force after a phase moved. */
  windows?: unknown;
}

/** A notice to put in the outbox, with the channels it goes out on. */
export interface NoticeInput extends OutboundNotice {
  channels: ChannelConfig[];
}

/** Inserts a notice and its deliveries once (the outbox), in the given client's transaction. */
export async function insertNotice(db: pg.Pool | pg.PoolClient, n: NoticeInput): Promise<void> {
  if (n.recipients.length === 0) return;
  const channels = n.channels.map((c, i) => ({ ...c, id: channelId(c, i) }));
  await db.query(
    `WITH notice AS (
       INSERT INTO notices (notice_id, campaign_id, task_id, event_seq, kind, recipients, title, body)
       VALUES ($1, $2, $3, NULL, $4, $5, $6, $7)
       ON CONFLICT (notice_id) DO NOTHING RETURNING notice_id)
     INSERT INTO notice_deliveries (notice_id, channel_id, channel)
     SELECT n.notice_id, c->>'id', c FROM notice n, jsonb_array_elements($8::jsonb) c
     ON CONFLICT (notice_id, channel_id) DO NOTHING`,
    [
      n.noticeId,
      n.campaignId,
      n.taskId,
      n.kind,
      n.recipients,
      n.title,
      n.body,
      JSON.stringify(channels),
    ],
  );
}

export function campaignActivities(deps: { pool: pg.Pool }) {
  const { pool } = deps;
  return {
    async recordCampaign(input: RecordCampaignInput): Promise<void> {
      const { definition: def, plan } = input;
      await withTransaction(pool, async (client) => {
        await client.query(
          `INSERT INTO campaigns (campaign_id, name, county, year, time_zone, definition, calendar, workflow_id, started_by)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT (campaign_id) DO NOTHING`,
          [
            plan.campaignId,
            plan.name,
            plan.county,
            plan.year,
            plan.timeZone,
            JSON.stringify(def),
            JSON.stringify(input.calendar),
            input.workflowId,
            input.startedBy,
          ],
        );
        for (const u of def.units) {
          await client.query(
            `INSERT INTO units (campaign_id, unit_id, name, kind) VALUES ($1,$2,$3,$4) ON CONFLICT DO NOTHING`,
            [plan.campaignId, u.id, u.name, u.kind],
          );
          for (const p of u.people) {
            await client.query(
              `INSERT INTO people (campaign_id, person_id, unit_id, name, role, title, phone)
               VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING`,
              [plan.campaignId, p.id, u.id, p.name, p.role, p.title ?? null, p.phone ?? null],
            );
          }
        }
        for (const [position, i] of def.indicators.entries()) {
          await client.query(
            `INSERT INTO indicators (campaign_id, code, name, lead_unit, cooperating_units, team_leader, position)
             VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING`,
            [
              plan.campaignId,
              i.code,
              i.name,
              i.leadUnit,
              i.cooperatingUnits,
              i.teamLeader,
              position,
            ],
          );
          await client.query(
            `INSERT INTO indicator_status (campaign_id, code, phase, state, version)
             VALUES ($1,$2,'scheduled','waiting',0) ON CONFLICT DO NOTHING`,
            [plan.campaignId, i.code],
          );
        }
      });
    },

    /** A decision of the bureau on the whole campaign, once by its sequence number. */
    async recordCampaignEvent(e: CampaignEventInput): Promise<void> {
      await withTransaction(pool, async (client) => {
        const r = await client.query(
          `INSERT INTO campaign_events (campaign_id, seq, at, type, actor, reason, detail)
           VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (campaign_id, seq) DO NOTHING`,
          [
            e.campaignId,
            e.seq,
            new Date(e.at),
            e.type,
            e.actor,
            e.reason,
            JSON.stringify(e.detail),
          ],
        );
        if (r.rowCount === 0) return;
        await client.query(
          `UPDATE campaigns SET windows = COALESCE($2::jsonb, windows),
             cancelled_at = CASE WHEN $3 THEN $4::timestamptz ELSE cancelled_at END,
             cancel_reason = CASE WHEN $3 THEN $5 ELSE cancel_reason END,
             updated_at = now()
           WHERE campaign_id = $1`,
          [
            e.campaignId,
            e.windows ? JSON.stringify(e.windows) : null,
            e.type === 'cancelled',
            new Date(e.at),
            e.reason,
          ],
        );
      });
    },

    async projectCampaign(input: {
      campaignId: string;
      phase: CampaignPhase;
      status: 'running' | 'completed' | 'cancelled';
    }): Promise<void> {
      await pool.query(
        `UPDATE campaigns SET phase = $2, status = $3, updated_at = now() WHERE campaign_id = $1`,
        [input.campaignId, input.phase, input.status],
      );
    },

    async projectIndicator(p: IndicatorProjection): Promise<void> {
      await pool.query(
        `INSERT INTO indicator_status (campaign_id, code, phase, state, flagged, score, rank, rectification_reason, questionnaire, version, updated_at)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10, now())
         ON CONFLICT (campaign_id, code) DO UPDATE SET phase = EXCLUDED.phase, state = EXCLUDED.state,
           flagged = EXCLUDED.flagged, score = EXCLUDED.score, rank = EXCLUDED.rank,
           rectification_reason = EXCLUDED.rectification_reason, questionnaire = EXCLUDED.questionnaire,
           version = EXCLUDED.version, updated_at = now()
         WHERE indicator_status.version < EXCLUDED.version`,
        [
          p.campaignId,
          p.code,
          p.phase,
          p.state,
          p.flagged,
          p.score,
          p.rank,
          p.rectificationReason,
          p.questionnaire ? JSON.stringify(p.questionnaire) : null,
          p.version,
        ],
      );
    },

    async recordVerification(v: {
      campaignId: string;
      code: string;
      seq: number;
      item: string;
      outcome: 'confirmed' | 'discrepant';
      note: string | null;
      actor: string;
      at: number;
      notice: NoticeInput | null;
    }): Promise<void> {
      await withTransaction(pool, async (client) => {
        await client.query(
          `INSERT INTO verifications (campaign_id, code, seq, item, outcome, note, actor, at)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT DO NOTHING`,
          [v.campaignId, v.code, v.seq, v.item, v.outcome, v.note, v.actor, new Date(v.at)],
        );
        if (v.notice) await insertNotice(client, v.notice);
      });
    },

    async recordResults(input: {
      campaignId: string;
      results: ResultRow[];
      actor: string;
    }): Promise<void> {
      await withTransaction(pool, async (client) => {
        for (const r of input.results) {
          await client.query(
            `INSERT INTO results (campaign_id, code, score, rank, imported_by) VALUES ($1,$2,$3,$4,$5)
             ON CONFLICT (campaign_id, code) DO UPDATE SET score = EXCLUDED.score, rank = EXCLUDED.rank,
               imported_by = EXCLUDED.imported_by, imported_at = now()`,
            [input.campaignId, r.code, r.score, r.rank, input.actor],
          );
        }
      });
    },

    /** Compiles, stores (once per day) and sends the daily dispatch digest. */
    async compileDispatch(input: {
      campaignId: string;
      at: number;
      since: number;
      recipients: string[];
      channels: ChannelConfig[];
    }): Promise<{ date: string; indicators: number; overdue: number }> {
      const digest: DispatchDigest = await computeDispatch(
        pool,
        input.campaignId,
        input.at,
        input.since,
      );
      await pool.query(
        `INSERT INTO dispatches (campaign_id, date, digest) VALUES ($1, $2, $3) ON CONFLICT (campaign_id, date) DO NOTHING`,
        [input.campaignId, digest.date, JSON.stringify(digest)],
      );
      const overdue = digest.indicators.reduce((n, i) => n + i.overdue.length, 0);
      await insertNotice(pool, {
        noticeId: `${input.campaignId}#dispatch#${digest.date}`,
        campaignId: input.campaignId,
        taskId: null,
        kind: 'dispatch',
        recipients: input.recipients,
        title: `【每日调度】${digest.date} ${digest.campaignName}`,
        body: [
          `完成 ${digest.totals.doneSinceYesterday} 项，今日到期 ${digest.totals.dueToday} 项，明日到期 ${digest.totals.dueTomorrow} 项，逾期 ${overdue} 项，督办 ${digest.totals.escalated} 次。`,
          ...digest.indicators
            .filter((i) => i.overdue.length || i.escalated.length)
            .map((i) => `${i.name}：逾期 ${i.overdue.length} 项，督办 ${i.escalated.length} 次`),
          ...questionnaireLines(digest),
          ...publicityLine(digest),
        ].join('\n'),
        channels: input.channels,
      });
      return { date: digest.date, indicators: digest.indicators.length, overdue };
    },
  };
}
