// The read side of a campaign: its record, the list of campaigns and the board (看板), from
// PostgreSQL alone. Kept apart from the commands that talk to Temporal, so that `campaign
// status` and `campaign list` load neither the Temporal client nor the workflow definitions.
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { colourAt, type Colour } from '../../domain/schedule.ts';
import { label } from '../../domain/labels.ts';
import { formatIsoOffset, formatLocal } from '../../domain/time.ts';
import type { CampaignDefinition } from '../../domain/definition.ts';
import { questionnaireSummary } from '../../db/questionnaire.ts';
import { percent, type ResponseRates } from '../../domain/questionnaire.ts';
import { connectTemporal, withDb } from '../connections.ts';
import { SA } from '../../domain/search-attributes.ts';
import { CliError } from '../errors.ts';
import { colour, printJson, t, table, type Lang, type OutputOptions } from '../output.ts';

export interface CampaignRecord {
  definition: CampaignDefinition;
  timeZone: string;
  name: string;
  phase: string;
}

export async function loadCampaign(pool: pg.Pool, campaignId: string): Promise<CampaignRecord> {
  const r = await pool.query<{
    definition: CampaignDefinition;
    time_zone: string;
    name: string;
    phase: string;
  }>('SELECT definition, time_zone, name, phase FROM campaigns WHERE campaign_id = $1', [
    campaignId,
  ]);
  const row = r.rows[0];
  if (!row) throw new CliError(`no campaign "${campaignId}" is recorded (see \`campaign list\`)`);
  return { definition: row.definition, timeZone: row.time_zone, name: row.name, phase: row.phase };
}

/**
 * The campaign as recorded, refused when it has ended: this is the one place that decides what
 * may no longer happen to a closed or cancelled campaign (its workflow decides while it runs).
 */
export async function loadRunningCampaign(
  pool: pg.Pool,
  campaignId: string,
): Promise<CampaignRecord> {
  const c = await loadCampaign(pool, campaignId);
  const r = await pool.query<{ status: string; cancel_reason: string | null }>(
    'SELECT status, cancel_reason FROM campaigns WHERE campaign_id = $1',
    [campaignId],
  );
  const row = r.rows[0];
  if (row?.status === 'cancelled')
    throw new CliError(`campaign ${campaignId} was cancelled: ${row.cancel_reason ?? ''}`);
  if (row?.status === 'completed') throw new CliError(`campaign ${campaignId} has closed`);
  return c;
}

export async function listCommand(out: OutputOptions): Promise<void> {
  const rows = await withDb(
    async (pool) =>
      (
        await pool.query<{
          campaign_id: string;
          name: string;
          phase: string;
          status: string;
          created_at: Date;
        }>(
          'SELECT campaign_id, name, phase, status, created_at FROM campaigns ORDER BY created_at DESC',
        )
      ).rows,
  );
  const list = rows.map((r) => ({
    campaignId: r.campaign_id,
    name: r.name,
    phase: r.phase,
    status: r.status,
  }));
  if (out.json) return printJson(list);
  if (!list.length) return console.log(t(out.lang, '还没有考核评价活动。', 'No campaigns yet.'));
  console.log(
    table(
      [
        t(out.lang, '编号', 'Id'),
        t(out.lang, '名称', 'Name'),
        t(out.lang, '阶段', 'Phase'),
        t(out.lang, '状态', 'Status'),
      ],
      list.map((c) => [c.campaignId, c.name, label(out.lang, c.phase), label(out.lang, c.status)]),
    ),
  );
}

const WORST: Record<Colour, number> = { green: 0, yellow: 1, red: 2 };

export interface BoardRow {
  code: string;
  name: string;
  phase: string;
  state: string;
  due: string | null;
  overdue: number;
  escalationLevel: number;
  colour: Colour;
  openTasks: number;
  flagged: boolean;
  score: number | null;
  rank: number | null;
}

export interface Board {
  campaignId: string;
  name: string;
  phase: string;
  timeZone: string;
  indicators: BoardRow[];
  /** The bureau's decisions on the campaign: phases moved, the campaign cancelled. */
  decisions: BoardDecision[];
  /** The sampled enterprises' questionnaire response rates (null before a sample). */
  questionnaire: (ResponseRates & { sampleSeed: string }) | null;
}

export interface BoardDecision {
  at: string;
  type: 'phase-closed' | 'phase-extended' | 'cancelled' | 'task-raised';
  actor: string;
  reason: string;
  phase: string | null;
  end: string | null;
}

/** The campaign's board (看板) as PostgreSQL has it now: one row per indicator. */
export async function readBoard(
  pool: pg.Pool,
  campaignId: string,
  now = Date.now(),
): Promise<Board> {
  const campaign = await loadCampaign(pool, campaignId);
  const indicators = await pool.query<{
    code: string;
    name: string;
    phase: string | null;
    state: string | null;
    flagged: boolean | null;
    score: string | null;
    rank: number | null;
  }>(
    `SELECT i.code, i.name, s.phase, s.state, s.flagged, s.score, s.rank FROM indicators i
     LEFT JOIN indicator_status s USING (campaign_id, code) WHERE i.campaign_id = $1 ORDER BY i.position`,
    [campaignId],
  );
  const tasks = await pool.query<{
    indicator: string | null;
    state: string;
    due_at: Date;
    warning_ms: string;
    escalation_level: number;
  }>(
    `SELECT indicator, state, due_at, warning_ms, escalation_level FROM tasks WHERE campaign_id = $1 AND state IN ('open', 'returned')`,
    [campaignId],
  );
  const rows = indicators.rows.map((i): BoardRow => {
    const open = tasks.rows.filter((x) => x.indicator === i.code);
    const due = open.length ? Math.min(...open.map((x) => x.due_at.getTime())) : null;
    const colours = open.map((x) => colourAt(now, x.due_at.getTime(), Number(x.warning_ms)));
    const worst = colours.reduce<Colour>((a, c) => (WORST[c] > WORST[a] ? c : a), 'green');
    return {
      code: i.code,
      name: i.name,
      phase: i.phase ?? 'scheduled',
      state: i.state ?? 'waiting',
      due: due === null ? null : formatIsoOffset(due, campaign.timeZone),
      overdue: open.filter((x) => x.due_at.getTime() <= now).length,
      escalationLevel: open.reduce((m, x) => Math.max(m, x.escalation_level), 0),
      colour: worst,
      openTasks: open.length,
      flagged: i.flagged ?? false,
      score: i.score === null ? null : Number(i.score),
      rank: i.rank,
    };
  });
  const events = await pool.query<{
    at: Date;
    type: BoardDecision['type'];
    actor: string;
    reason: string;
    detail: { phase?: string; end?: number };
  }>(
    'SELECT at, type, actor, reason, detail FROM campaign_events WHERE campaign_id = $1 ORDER BY seq',
    [campaignId],
  );
  return {
    campaignId,
    name: campaign.name,
    phase: campaign.phase,
    timeZone: campaign.timeZone,
    indicators: rows,
    questionnaire: await questionnaireSummary(pool, campaignId),
    decisions: events.rows.map((e) => ({
      at: formatIsoOffset(e.at.getTime(), campaign.timeZone),
      type: e.type,
      actor: e.actor,
      reason: e.reason,
      phase: e.detail.phase ?? null,
      end:
        typeof e.detail.end === 'number' ? formatIsoOffset(e.detail.end, campaign.timeZone) : null,
    })),
  };
}

/** The board for people: a heading and an aligned table, coloured on a terminal. */
export function renderBoard(b: Board, lang: Lang): string {
  const paint = (c: Colour, s: string) =>
    c === 'red' ? colour.bad(s) : c === 'yellow' ? colour.warn(s) : colour.ok(s);
  const light = {
    green: t(lang, '绿', 'green'),
    yellow: t(lang, '黄', 'yellow'),
    red: t(lang, '红', 'red'),
  };
  const heading = colour.bold(
    `${b.name} (${b.campaignId}) — ${t(lang, '阶段', 'phase')}: ${label(lang, b.phase)}`,
  );
  return `${heading}\n${table(
    [
      t(lang, '指标', 'Indicator'),
      t(lang, '阶段', 'Phase'),
      t(lang, '状态', 'State'),
      t(lang, '待办', 'Open'),
      t(lang, '最近截止', 'Next due'),
      t(lang, '逾期', 'Overdue'),
      t(lang, '督办', 'Escalation'),
      t(lang, '灯', 'Light'),
    ],
    b.indicators.map((r) => [
      `${r.code} ${r.name}${r.flagged ? ' ⚑' : ''}`,
      label(lang, r.phase),
      label(lang, r.state),
      r.openTasks,
      r.due ? formatLocal(Date.parse(r.due), b.timeZone) : '—',
      r.overdue,
      r.escalationLevel,
      paint(r.colour, light[r.colour]),
    ]),
  )}${b.questionnaire ? `\n${questionnaireLine(b.questionnaire, lang)}` : ''}${b.decisions.map((d) => `\n${decisionLine(d, b.timeZone, lang)}`).join('')}`;
}

/** The questionnaire's rate under the board: overall, and each department still short of it. */
function questionnaireLine(q: ResponseRates, lang: Lang): string {
  const short = q.byUnit.filter((u) => u.answered < u.expected);
  return `${t(lang, '企业问卷答卷率', 'Enterprise questionnaire response rate')} ${percent(q.total)} (${q.total.answered}/${q.total.expected})${short.map((u) => `  ${u.unit} ${percent(u)}`).join('')}`;
}

/** One decision of the bureau, as the board lists it under the table. */
function decisionLine(d: BoardDecision, tz: string, lang: Lang): string {
  const when = formatLocal(Date.parse(d.at), tz);
  const phase = d.phase ? label(lang, d.phase) : '';
  const what =
    d.type === 'cancelled'
      ? t(lang, '撤销活动', 'campaign cancelled')
      : d.type === 'phase-closed'
        ? t(lang, `${phase}提前结束`, `${phase} closed`)
        : d.type === 'task-raised'
          ? t(lang, '下达事项', 'task raised')
          : t(
              lang,
              `${phase}延至 ${d.end ? formatLocal(Date.parse(d.end), tz) : ''}`,
              `${phase} extended to ${d.end ? formatLocal(Date.parse(d.end), tz) : ''}`,
            );
  return `${when} ${what}（${d.actor}：${d.reason}）`;
}

export async function statusCommand(campaignId: string, out: OutputOptions): Promise<void> {
  const b = await withDb((pool) => readBoard(pool, campaignId));
  const held = await heldProjections(campaignId);
  if (out.json) {
    return printJson({
      campaignId: b.campaignId,
      name: b.name,
      phase: b.phase,
      indicators: b.indicators,
      decisions: b.decisions,
      questionnaire: b.questionnaire,
      projectionsHeld: held,
    });
  }
  console.log(renderBoard(b, out.lang));
  if (held?.length)
    console.log(
      colour.bad(
        t(
          out.lang,
          `⚠ 数据库拒收了 ${held.length} 个流程的记录，看板可能不全：${held.join('、')}；排除原因后运行 campaign doctor --retry`,
          `⚠ PostgreSQL refused what ${held.length} workflow(s) recorded, so the board may be incomplete: ${held.join(', ')}; fix the cause, then run campaign doctor --retry`,
        ),
      ),
    );
}

/**
 * The campaign's workflows that hold projections PostgreSQL refused for good (search attribute
 * ProjectionStuck), or null when Temporal cannot be asked (the board itself comes from
 * PostgreSQL and is shown all the same).
 */
async function heldProjections(campaignId: string): Promise<string[] | null> {
  let temporal: Awaited<ReturnType<typeof connectTemporal>>;
  try {
    temporal = await connectTemporal();
  } catch {
    return null;
  }
  try {
    return await heldProjectionsOf(temporal.client, campaignId);
  } finally {
    await temporal.close();
  }
}

/**
 * The same through a Temporal client of the caller's (the portal's, the doctor's), for one
 * campaign or (without one) every campaign; null on any failure.
 */
export async function heldProjectionsOf(
  client: Client,
  campaignId?: string,
): Promise<string[] | null> {
  try {
    const ids: string[] = [];
    const ofCampaign = campaignId
      ? `${SA.campaignId.name} = ${JSON.stringify(campaignId)} AND `
      : '';
    const query = `${ofCampaign}${SA.projectionStuck.name} = true AND ExecutionStatus = "Running"`;
    for await (const w of client.workflow.list({ query })) {
      ids.push(w.workflowId);
      if (ids.length >= 50) break;
    }
    return ids;
  } catch {
    return null;
  }
}
