// `campaign report assessment` and `campaign assessment adjust`: the units' assessment (考核)
// computed from the projections by domain/assessment.ts, every point traced to its rule, task
// and event, with the bureau's adjustments (append-only, each with its reason) beside it.
import type pg from 'pg';
import {
  assess,
  assessmentPolicyOf,
  type AssessedEvent,
  type AssessedTask,
  type AssessedVerification,
  type AssessmentEntry,
  type AssessmentPolicy,
  type AssessmentRule,
} from '../../domain/assessment.ts';
import { BusinessCalendar, type ResolvedCalendar } from '../../domain/calendar.ts';
import { formatLocal } from '../../domain/time.ts';
import { insertAssessmentAdjustment } from '../campaign-data.ts';
import { withDb } from '../connections.ts';
import { CliError, EXIT } from '../errors.ts';
import { emitSheets, type Format, type Sheet } from '../export.ts';
import { colour, printJson, t, type Lang, type OutputOptions } from '../output.ts';
import { withProgress } from '../progress.ts';
import { loadCampaign } from './board.ts';
import { BUREAU, requireRole } from './roles.ts';

export interface AssessmentLine extends AssessmentEntry {
  /** The type of the event `eventSeq` names: a task event's type, or `verification`. */
  eventType?: string;
}

export interface Adjustment {
  no: number;
  points: number;
  reason: string;
  by: string;
  at: string;
}

export interface UnitAssessmentRow {
  unitId: string;
  unitName: string;
  base: number;
  deductions: number;
  bonuses: number;
  /** What the rules give: base − deductions (capped) + bonuses. */
  computed: number;
  adjustments: Adjustment[];
  adjusted: number;
  /** The computed figure with the adjustments. */
  total: number;
  entries: AssessmentLine[];
}

export interface AssessmentReport {
  campaignId: string;
  name: string;
  asOf: string;
  policy: AssessmentPolicy;
  units: UnitAssessmentRow[];
}

const round = (n: number) => Math.round(n * 100) / 100;

/** The assessment of every department of a campaign as the projections have it at `now`. */
export async function assessmentReport(
  pool: pg.Pool,
  campaignId: string,
  now = Date.now(),
): Promise<AssessmentReport> {
  const c = await loadCampaign(pool, campaignId);
  const policy = assessmentPolicyOf(c.definition);
  const cal = (
    await pool.query<{ calendar: ResolvedCalendar }>(
      'SELECT calendar FROM campaigns WHERE campaign_id = $1',
      [campaignId],
    )
  ).rows[0]!.calendar;
  const units = (
    await pool.query<{ unit_id: string; name: string }>(
      `SELECT unit_id, name FROM units WHERE campaign_id = $1 AND kind = 'department'`,
      [campaignId],
    )
  ).rows;
  // In the definition's order, as the board and the workbook list them.
  const order = new Map(c.definition.units.map((u, i) => [u.id, i]));
  units.sort((a, b) => (order.get(a.unit_id) ?? 1e9) - (order.get(b.unit_id) ?? 1e9));
  const leadUnitOf = Object.fromEntries(
    (
      await pool.query<{ code: string; lead_unit: string }>(
        'SELECT code, lead_unit FROM indicators WHERE campaign_id = $1',
        [campaignId],
      )
    ).rows.map((r) => [r.code, r.lead_unit]),
  );
  const tasks = (
    await pool.query<{
      task_id: string;
      unit_id: string;
      indicator: string | null;
      kind: string;
      state: string;
      due_at: Date;
      completed_at: Date | null;
      completed_seq: number | null;
    }>(
      `SELECT t.task_id, t.unit_id, t.indicator, t.kind, t.state, t.due_at, t.completed_at,
              (SELECT max(e.seq) FROM task_events e
                WHERE e.task_id = t.task_id AND e.type = 'done') AS completed_seq
         FROM tasks t WHERE t.campaign_id = $1 ORDER BY t.task_id`,
      [campaignId],
    )
  ).rows.map((r): AssessedTask => ({
    taskId: r.task_id,
    unitId: r.unit_id,
    indicator: r.indicator,
    kind: r.kind,
    state: r.state,
    dueAt: r.due_at.getTime(),
    completedAt: r.completed_at?.getTime() ?? null,
    completedSeq: r.completed_seq,
  }));
  const events = (
    await pool.query<{
      task_id: string;
      seq: number;
      unit_id: string;
      type: string;
      at: Date;
      detail: Record<string, unknown>;
    }>(
      `SELECT task_id, seq, unit_id, type, at, detail FROM task_events
        WHERE campaign_id = $1 ORDER BY task_id, seq`,
      [campaignId],
    )
  ).rows.map((r): AssessedEvent => ({
    taskId: r.task_id,
    seq: r.seq,
    unitId: r.unit_id,
    type: r.type,
    at: r.at.getTime(),
    detail: r.detail ?? {},
  }));
  const verifications = (
    await pool.query<{ code: string; seq: number; item: string; outcome: string; at: Date }>(
      `SELECT code, seq, item, outcome, at FROM verifications WHERE campaign_id = $1
        ORDER BY code, seq`,
      [campaignId],
    )
  ).rows.map((r): AssessedVerification => ({
    indicator: r.code,
    item: r.item,
    outcome: r.outcome === 'discrepant' ? 'discrepant' : 'confirmed',
    at: r.at.getTime(),
    seq: r.seq,
  }));
  const results = (
    await pool.query<{ code: string; rank: number }>(
      'SELECT code, rank FROM results WHERE campaign_id = $1 ORDER BY code',
      [campaignId],
    )
  ).rows.map((r) => ({ indicator: r.code, rank: r.rank }));
  const adjustments = (
    await pool.query<{
      no: number;
      unit_id: string;
      points: string;
      reason: string;
      by_person: string;
      at: Date;
    }>(
      `SELECT no, unit_id, points, reason, by_person, at FROM assessment_adjustments
        WHERE campaign_id = $1 ORDER BY no`,
      [campaignId],
    )
  ).rows;
  const computed = assess({
    policy,
    calendar: new BusinessCalendar(cal),
    units: units.map((u) => u.unit_id),
    leadUnitOf,
    tasks,
    events,
    verifications,
    results,
    now,
  });
  const typeOf = new Map(events.map((e) => [`${e.taskId}\u0000${e.seq}`, e.type]));
  const minute = (d: Date | number) =>
    formatLocal(typeof d === 'number' ? d : d.getTime(), c.timeZone).slice(0, 16);
  return {
    campaignId,
    name: c.name,
    asOf: minute(now),
    policy,
    units: computed.map((u, i): UnitAssessmentRow => {
      const adj = adjustments
        .filter((a) => a.unit_id === u.unitId)
        .map((a) => ({
          no: a.no,
          points: Number(a.points),
          reason: a.reason,
          by: a.by_person,
          at: minute(a.at),
        }));
      const adjusted = round(adj.reduce((s, a) => s + a.points, 0));
      return {
        unitId: u.unitId,
        unitName: units[i]!.name,
        base: u.base,
        deductions: u.deductions,
        bonuses: u.bonuses,
        computed: u.points,
        adjustments: adj,
        adjusted,
        total: round(u.points + adjusted),
        entries: u.entries.map((e): AssessmentLine => {
          if (e.eventSeq === undefined) return e;
          if (e.rule === 'discrepancy') return { ...e, eventType: 'verification' };
          const type = e.taskId ? typeOf.get(`${e.taskId}\u0000${e.eventSeq}`) : undefined;
          return type ? { ...e, eventType: type } : e;
        }),
      };
    }),
  };
}

const RULE: Record<AssessmentRule | 'adjustment', [string, string]> = {
  late: ['逾期', 'late'],
  escalation: ['督办', 'escalation'],
  return: ['退回', 'return'],
  discrepancy: ['核验不实', 'discrepancy'],
  trainingNotDone: ['未完成培训', 'training not done'],
  rankBonus: ['名次加分', 'rank bonus'],
  cap: ['扣分封顶', 'cap'],
  adjustment: ['审批局调整', 'adjustment'],
};

/** The entry's words in Chinese, from the English the computation gives. */
function detailZh(e: AssessmentEntry): string {
  let m: RegExpExecArray | null;
  if (e.rule === 'late' && (m = /^(\d+) working day/.exec(e.detail)))
    return `逾期 ${m[1]} 个工作日${/still open/.test(e.detail) ? '（仍未完成）' : ''}`;
  if (e.rule === 'escalation' && (m = /level (\d+)/.exec(e.detail))) return `督办升至第 ${m[1]} 级`;
  if (e.rule === 'return')
    return `提交被退回${e.detail.includes(': ') ? `：${e.detail.slice(e.detail.indexOf(': ') + 2)}` : ''}`;
  if (e.rule === 'discrepancy' && (m = /"(.*)"/.exec(e.detail))) return `核验事项「${m[1]}」不实`;
  if (e.rule === 'trainingNotDone') return '培训任务到期未完成';
  if (e.rule === 'rankBonus' && (m = /rank (\d+) \(band: rank ≤ (\d+)\)/.exec(e.detail)))
    return `排名第 ${m[1]}（前 ${m[2]} 名档）`;
  if (e.rule === 'cap' && (m = /capped at ([\d.]+) \(([\d.]+) computed\)/.exec(e.detail)))
    return `扣分以 ${m[1]} 分封顶（计算扣分 ${m[2]}）`;
  return e.detail;
}

const signed = (n: number) => (n > 0 ? `+${n}` : `${n}`);

/** The event an entry comes from, for people: `#5 escalated`, `核验 ns#2`. */
function eventText(e: AssessmentLine, lang: Lang): string | null {
  if (e.eventSeq === undefined) return null;
  if (e.eventType === 'verification')
    return t(
      lang,
      `核验 ${e.indicator}#${e.eventSeq}`,
      `verification ${e.indicator}#${e.eventSeq}`,
    );
  return `#${e.eventSeq}${e.eventType ? ` ${e.eventType}` : ''}`;
}

/** Two sheets: the figures per unit, and every entry and adjustment behind them. */
export function assessmentSheets(report: AssessmentReport, lang: Lang): Sheet[] {
  const L = (zh: string, en: string) => t(lang, zh, en);
  const unitLabel = (u: UnitAssessmentRow) => `${u.unitName} (${u.unitId})`;
  const summary: Sheet = {
    title: `${L('单位考核', 'Units’ assessment')} — ${report.name}`,
    columns: [
      { header: L('单位', 'Unit'), width: 26 },
      { header: L('基础分', 'Base'), width: 8 },
      { header: L('扣分', 'Deductions'), width: 8 },
      { header: L('扣分上限', 'Cap'), width: 8 },
      { header: L('加分', 'Bonuses'), width: 8 },
      { header: L('计算得分', 'Computed'), width: 9 },
      { header: L('调整（理由）', 'Adjustments (reason)'), width: 36 },
      { header: L('最终得分', 'Total'), width: 9 },
    ],
    rows: report.units.map((u) => [
      unitLabel(u),
      u.base,
      u.deductions,
      report.policy.cap,
      u.bonuses,
      u.computed,
      u.adjustments.map((a) => `${signed(a.points)}（${a.reason}）`).join('\n') || null,
      u.total,
    ]),
    fills: report.units.map((u) => (u.deductions >= report.policy.cap ? 'FFF8D7DA' : null)),
  };
  const detailRows: (string | number | null)[][] = [];
  for (const u of report.units) {
    for (const e of u.entries)
      detailRows.push([
        unitLabel(u),
        L(...RULE[e.rule]),
        e.points,
        e.indicator ?? null,
        e.taskId ?? null,
        eventText(e, lang),
        lang === 'zh' ? detailZh(e) : e.detail,
      ]);
    for (const a of u.adjustments)
      detailRows.push([
        unitLabel(u),
        L(...RULE.adjustment),
        a.points,
        null,
        null,
        L(`调整 #${a.no}`, `adjustment #${a.no}`),
        L(`${a.reason}（${a.by}，${a.at}）`, `${a.reason} (${a.by}, ${a.at})`),
      ]);
  }
  const details: Sheet = {
    title: `${L('考核明细', 'Assessment entries')} — ${report.name}`,
    columns: [
      { header: L('单位', 'Unit'), width: 26 },
      { header: L('规则', 'Rule'), width: 12 },
      { header: L('分值', 'Points'), width: 8 },
      { header: L('指标', 'Indicator'), width: 10 },
      { header: L('任务', 'Task'), width: 40 },
      { header: L('事件', 'Event'), width: 16 },
      { header: L('说明', 'Detail'), width: 36 },
    ],
    rows: detailRows,
  };
  return [summary, details];
}

export async function assessmentReportCommand(
  campaignId: string,
  opts: { format: Format; out?: string; force?: boolean },
  out: OutputOptions,
): Promise<void> {
  const report = await withProgress(
    { label: t(out.lang, '计算单位考核', 'computing the units’ assessment'), json: out.json },
    () => withDb((pool) => assessmentReport(pool, campaignId)),
  );
  if (out.json && opts.format === 'table' && !opts.out) return printJson(report);
  await emitSheets(assessmentSheets(report, out.lang), opts.format, opts.out, {
    ...out,
    force: opts.force,
  });
}

/** The bureau adjusts a unit's assessment by some points, with a reason (append-only). */
export async function adjustAssessmentCommand(
  campaignId: string,
  opts: { unit: string; points: string; reason: string; as: string },
  out: OutputOptions,
): Promise<void> {
  const points = opts.points.trim() === '' ? NaN : Number(opts.points);
  if (!Number.isFinite(points) || points === 0 || Math.abs(points) > 1000)
    throw new CliError(
      `--points "${opts.points}" must be a number of points other than 0, from -1000 to 1000`,
      EXIT.usage,
    );
  const reason = opts.reason.trim();
  if (!reason || reason.length > 2000)
    throw new CliError('--reason must say why, in at most 2000 characters', EXIT.usage);
  const row = await withDb(async (pool) => {
    const c = await loadCampaign(pool, campaignId);
    requireRole(c.definition, opts.as, [BUREAU], 'adjust the assessment');
    const unit = c.definition.units.find((u) => u.id === opts.unit);
    if (!unit || unit.kind !== 'department')
      throw new CliError(
        `--unit "${opts.unit}" is not a department of campaign "${campaignId}" (${c.definition.units
          .filter((u) => u.kind === 'department')
          .map((u) => u.id)
          .join(', ')})`,
      );
    const r = await insertAssessmentAdjustment(pool, campaignId, {
      unit: opts.unit,
      points,
      reason,
      by: opts.as,
    });
    return { ...r, timeZone: c.timeZone };
  });
  const result = {
    campaignId,
    no: row.no,
    unit: opts.unit,
    points,
    reason,
    by: opts.as,
    at: formatLocal(row.at.getTime(), row.timeZone).slice(0, 16),
  };
  if (out.json) return printJson(result);
  console.log(
    `${colour.ok('✓')} ${t(
      out.lang,
      `已记录调整 #${result.no}：${opts.unit} ${signed(points)} 分（${reason}）`,
      `adjustment #${result.no} recorded: ${opts.unit} ${signed(points)} points (${reason})`,
    )}`,
  );
}
