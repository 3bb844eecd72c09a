// The typical-case cap (典型案例上限) as the CLI checks it before a case is requested, proposed or
// selected: an indicator with the definition's maximum of selected cases takes no further one.
// The database keeps the same rule for any client (db/migrations/067_highlights.sql).
import type pg from 'pg';
import { caseLimitRefusal, maxTypicalCases } from '../../domain/highlights.ts';
import type { CampaignDefinition } from '../../domain/definition.ts';
import { CliError, EXIT } from '../errors.ts';

/** Refuses, in both languages, a typical case for an indicator that has its maximum selected. */
export async function requireCasePlace(
  pool: pg.Pool,
  campaignId: string,
  indicator: string,
  what: 'request' | 'propose' | 'select',
  exceptTask?: string,
): Promise<void> {
  const r = await pool.query<{ definition: CampaignDefinition; name: string | null; n: string }>(
    `SELECT c.definition, i.name,
            (SELECT count(*) FROM highlights h
              WHERE h.campaign_id = c.campaign_id AND h.indicator = $2 AND h.kind = 'case'
                AND h.state = 'selected' AND h.task_id IS DISTINCT FROM $3) AS n
       FROM campaigns c LEFT JOIN indicators i ON i.campaign_id = c.campaign_id AND i.code = $2
      WHERE c.campaign_id = $1`,
    [campaignId, indicator, exceptTask ?? null],
  );
  const row = r.rows[0];
  if (!row) throw new CliError(`no campaign "${campaignId}" is recorded (see \`campaign list\`)`);
  if (row.name === null)
    throw new CliError(
      `unknown indicator "${indicator}" of campaign ${campaignId}`,
      EXIT.refused,
      undefined,
      {
        en: `unknown indicator "${indicator}" of campaign ${campaignId}`,
        zh: `本次考核没有指标“${indicator}”`,
      },
    );
  const max = maxTypicalCases(row.definition);
  const selected = Number(row.n);
  if (selected >= max) {
    const refusal = caseLimitRefusal({ code: indicator, name: row.name }, selected, max, what);
    throw new CliError(
      refusal.en,
      EXIT.refused,
      { indicator, selected, max },
      { en: refusal.en, zh: refusal.zh },
    );
  }
}

/**
 * Before the bureau approves a task: when it is a typical case, the indicator its proposal
 * names must still have a place. Other tasks pass unchecked.
 */
export async function requireCasePlaceForApproval(pool: pg.Pool, taskId: string): Promise<void> {
  const r = await pool.query<{ campaign_id: string; indicator: string | null; kind: string }>(
    `SELECT t.campaign_id, coalesce(h.indicator, t.indicator) AS indicator, t.kind
       FROM tasks t LEFT JOIN highlights h USING (task_id) WHERE t.task_id = $1`,
    [taskId],
  );
  const row = r.rows[0];
  if (!row || row.kind !== 'case' || !row.indicator) return;
  await requireCasePlace(pool, row.campaign_id, row.indicator, 'select', taskId);
}
