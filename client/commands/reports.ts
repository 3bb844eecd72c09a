// `campaign report dispatch`: the daily dispatch digest (每日调度) as stored by the campaign on a
// working day, or computed now for a day not yet dispatched.
import type pg from 'pg';
import { computeDispatch, DispatchError, type DispatchDigest } from '../../activities/dispatch.ts';
import { BusinessCalendar } from '../../domain/calendar.ts';
import type { ResolvedCalendar } from '../../domain/calendar.ts';
import { label } from '../../domain/labels.ts';
import { progressOf } from '../../domain/rectification.ts';
import { dispatchInstants } from '../../domain/campaign.ts';
import type { CampaignDefinition, PhaseName } from '../../domain/definition.ts';
import { colourAt, phaseWindows } from '../../domain/schedule.ts';
import {
  formatLocal,
  isLocalDate,
  localDateOf,
  parseClock,
  zonedInstant,
} from '../../domain/time.ts';
import { CliError, EXIT } from '../errors.ts';
import { emitSheets, type Format, type Sheet } from '../export.ts';
import { printJson, t, type Lang, type OutputOptions } from '../output.ts';
import { createProgress, withProgress } from '../progress.ts';
import { withDb } from '../connections.ts';
import { loadCampaign } from './board.ts';
import { dispatchPublicitySheets } from './publicity-sheet.ts';

export async function dispatchReportCommand(
  campaignId: string,
  opts: { date?: string; format: Format; out?: string; force?: boolean },
  out: OutputOptions,
): Promise<void> {
  const loading = createProgress({
    label: t(out.lang, '汇总每日调度', 'collecting the daily dispatch'),
    json: out.json,
  });
  const digest = await withDb((pool) => dispatchDigest(pool, campaignId, opts.date)).finally(() =>
    loading.done(),
  );
  if (out.json && opts.format === 'table' && !opts.out) return printJson(digest);
  if (digest.note && !out.json) console.error(digest.note);
  const sheets = [
    dispatchSheet(digest, out.lang),
    ...questionnaireSheet(digest, out.lang),
    ...dispatchPublicitySheets(digest, out.lang),
  ];
  await emitSheets(sheets, opts.format, opts.out, {
    ...out,
    force: opts.force,
  });
}

/** The digest of a day as stored by the campaign, or computed now for a day not yet dispatched. */
export async function dispatchDigest(
  pool: pg.Pool,
  campaignId: string,
  day?: string,
): Promise<DispatchDigest> {
  const c = await loadCampaign(pool, campaignId);
  const date = day ?? localDateOf(Date.now(), c.timeZone);
  if (!isLocalDate(date))
    throw new CliError(`--date "${day}" is not a date YYYY-MM-DD`, EXIT.usage);
  const stored = await pool.query<{ digest: DispatchDigest }>(
    'SELECT digest FROM dispatches WHERE campaign_id = $1 AND date = $2',
    [campaignId, date],
  );
  // The digest as it was computed and sent that day, kept by the campaign at send time.
  if (stored.rows[0]) return { ...stored.rows[0].digest, sent: true };
  const cal = (
    await pool.query<{ calendar: ResolvedCalendar }>(
      'SELECT calendar FROM campaigns WHERE campaign_id = $1',
      [campaignId],
    )
  ).rows[0]!.calendar;
  const calendar = new BusinessCalendar(cal);
  const noDispatch = whyNoDispatch(c.definition, calendar, date);
  const todayHere = localDateOf(Date.now(), c.timeZone);
  // A past day shows what was sent then; when nothing was, it says why instead of guessing.
  if (noDispatch && date < todayHere) throw new CliError(noDispatch);
  const note =
    noDispatch ??
    (date < todayHere
      ? `no digest was stored for ${date} (the worker did not send one that day); computed now from the projections`
      : undefined);
  const clock = parseClock(c.definition.dispatch.at) ?? { hour: 17, minute: 30, second: 0 };
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  // Today not yet dispatched: the digest as of now; another day: as of its dispatch time.
  const today = localDateOf(Date.now(), c.timeZone);
  const at =
    date === today
      ? Date.now()
      : Math.min(Date.now(), zonedInstant(y, m, d, clock.hour, clock.minute, 0, c.timeZone));
  // Since the previous working day's dispatch.
  let prev = date;
  for (let i = 0; i < 30; i++) {
    const [py, pm, pd] = prev.split('-').map(Number) as [number, number, number];
    prev = localDateOf(zonedInstant(py, pm, pd, 12, 0, 0, c.timeZone) - 86_400_000, c.timeZone);
    if (calendar.isWorkingDay(prev)) break;
  }
  const [py, pm, pd] = prev.split('-').map(Number) as [number, number, number];
  try {
    // Not sent (yet): computed now, and said so.
    return {
      ...(await computeDispatch(
        pool,
        campaignId,
        at,
        zonedInstant(py, pm, pd, clock.hour, clock.minute, 0, c.timeZone),
      )),
      sent: false,
      ...(note ? { note } : {}),
    };
  } catch (e) {
    if (e instanceof DispatchError) throw new CliError(e.message);
    throw e;
  }
}

/**
 * Why no digest is sent on `date`, or null when one is (or will be): a campaign rehearsed
 * outside working hours has no dispatch in its window at all; a day off or a day outside the
 * campaign has none either.
 */
export function whyNoDispatch(
  def: CampaignDefinition,
  calendar: BusinessCalendar,
  date: string,
): string | null {
  const windows = Object.fromEntries(
    phaseWindows(def.phases, calendar).map((w) => [w.phase, { start: w.start, end: w.end }]),
  ) as Record<PhaseName, { start: number; end: number }>;
  const all = dispatchInstants(calendar, windows, def.dispatch.at);
  const tz = def.campaign.timeZone;
  const span = `${formatLocal(windows.training.start, tz)} – ${formatLocal(windows.reporting.end, tz)}`;
  if (all.length === 0)
    return `no daily dispatch falls in the window of campaign ${def.campaign.id} (${span}): the digest is sent at ${def.dispatch.at} on working days, outside the campaign's hours (a rehearsal outside working hours has none)`;
  if (!all.some((i) => localDateOf(i, tz) === date)) {
    if (!calendar.isWorkingDay(date))
      return `no daily dispatch on ${date}: it is not a working day`;
    return `no daily dispatch on ${date}: the campaign's dispatches run from ${localDateOf(all[0]!, tz)} to ${localDateOf(all[all.length - 1]!, tz)} (${span})`;
  }
  return null;
}

/** The sampled enterprises' response rates, per indicator and per department (none before a sample). */
export function questionnaireSheet(digest: DispatchDigest, lang: Lang): Sheet[] {
  const q = digest.questionnaire;
  if (!q) return [];
  const L = (zh: string, en: string) => t(lang, zh, en);
  const pct = (r: { rate: number | null }) =>
    r.rate === null ? '—' : `${Math.round(r.rate * 1000) / 10}%`;
  const names = new Map(digest.indicators.map((i) => [i.code, i.name]));
  return [
    {
      title: `${L('企业问卷答卷率', 'Enterprise questionnaire response rate')} ${pct(q.total)} (${q.total.answered}/${q.total.expected})`,
      columns: [
        { header: L('指标 / 责任部门', 'Indicator / department'), width: 26 },
        { header: L('应答', 'Expected'), width: 8 },
        { header: L('已答', 'Answered'), width: 8 },
        { header: L('答卷率', 'Rate'), width: 10 },
      ],
      rows: [
        ...q.byIndicator
          .filter((r) => r.expected)
          .map((r) => [`${r.code} ${names.get(r.code) ?? ''}`, r.expected, r.answered, pct(r)]),
        ...q.byUnit.map((r) => [`${L('部门', 'unit')} ${r.unit}`, r.expected, r.answered, pct(r)]),
      ],
    },
  ];
}

/** The digest as one sheet: one row per indicator. */
/** Names for a dispatch sheet read by people (the portal's page): a task's title, a person's name. */
export interface DispatchNames {
  task: Map<string, string>;
  person: Map<string, string>;
}

export function dispatchSheet(digest: DispatchDigest, lang: Lang, names?: DispatchNames): Sheet {
  const L = (zh: string, en: string) => t(lang, zh, en);
  const short = (taskId: string) => names?.task.get(taskId) ?? taskId.split('/').slice(2).join('/');
  const list = (xs: { taskId: string }[]) => xs.map((x) => short(x.taskId)).join('\n');
  return {
    title: `${L('每日调度', 'Daily dispatch')} ${digest.date} — ${digest.campaignName}`,
    columns: [
      { header: L('指标', 'Indicator'), width: 22 },
      { header: L('阶段', 'Phase'), width: 12 },
      { header: L('状态', 'State'), width: 14 },
      { header: L('昨日以来完成', 'Done since last'), width: 30 },
      { header: L('今日到期', 'Due today'), width: 30 },
      { header: L('明日到期', 'Due tomorrow'), width: 30 },
      { header: L('逾期', 'Overdue'), width: 30 },
      { header: L('督办', 'Escalated'), width: 36 },
    ],
    rows: digest.indicators.map((i) => [
      `${i.code} ${i.name}${i.flagged ? ' ⚑' : ''}`,
      label(lang, i.phase),
      label(lang, i.state),
      list(i.done),
      list(i.dueToday),
      list(i.dueTomorrow),
      list(i.overdue),
      i.escalated
        .map((e) =>
          names
            ? L(
                `${e.level} 级督办：${short(e.taskId)} → ${e.recipients.map((r) => names.person.get(r) ?? r).join('、')}`,
                `level ${e.level}: ${short(e.taskId)} → ${e.recipients.map((r) => names.person.get(r) ?? r).join(', ')}`,
              )
            : `L${e.level} ${e.taskId.split('/').slice(2).join('/')} → ${e.recipients.join(',')}`,
        )
        .join('\n'),
    ]),
    fills: digest.indicators.map((i) =>
      i.overdue.length ? 'FFF8D7DA' : i.dueToday.length ? 'FFFFF3CD' : null,
    ),
  };
}

export interface LedgerRow {
  no: number;
  indicator: string;
  problem: string;
  cause: string;
  gap: string;
  measure: string;
  unit: string;
  person: string;
  due: string;
  progress: string;
  state: 'closed' | 'cancelled' | 'green' | 'yellow' | 'red';
  closedAt: string | null;
}

/** The rectification ledger (整改台账): one row per measure, numbered across the campaign. */
export async function ledgerRows(
  campaignId: string,
  db?: pg.Pool,
): Promise<{ rows: LedgerRow[]; timeZone: string; name: string }> {
  const read = async (pool: pg.Pool) => {
    const c = await loadCampaign(pool, campaignId);
    const r = await pool.query<{
      code: string;
      indicator_name: string;
      no: number;
      finding: string;
      problem: string;
      cause: string;
      gap: string;
      measure: string;
      unit_name: string;
      person_name: string;
      due_at: Date;
      state: string;
      warning_ms: string;
      completed_at: Date | null;
      submitted: boolean;
    }>(
      `SELECT r.code, i.name AS indicator_name, r.no, r.finding, r.problem, r.cause, r.gap, r.measure,
              coalesce(u.name, r.unit_id) AS unit_name, coalesce(p.name, r.person) AS person_name,
              t.due_at, t.state, t.warning_ms, t.completed_at, (t.last_submission IS NOT NULL) AS submitted
         FROM rectification_items r
         JOIN tasks t ON t.task_id = r.task_id
         JOIN indicators i ON i.campaign_id = r.campaign_id AND i.code = r.code
         LEFT JOIN units u ON u.campaign_id = r.campaign_id AND u.unit_id = r.unit_id
         LEFT JOIN people p ON p.campaign_id = r.campaign_id AND p.person_id = r.person
        WHERE r.campaign_id = $1
        ORDER BY i.position, r.no`,
      [campaignId],
    );
    const now = Date.now();
    const rows = r.rows.map((x, i): LedgerRow => ({
      no: i + 1,
      indicator: x.indicator_name,
      problem: x.finding ? `${x.problem}（${x.finding}）` : x.problem,
      cause: x.cause,
      gap: x.gap,
      measure: x.measure,
      unit: x.unit_name,
      person: x.person_name,
      due: formatLocal(x.due_at.getTime(), c.timeZone).slice(0, 16),
      progress: progressOf(x.state, x.submitted),
      state:
        x.state === 'done'
          ? 'closed'
          : x.state === 'cancelled'
            ? 'cancelled'
            : x.state === 'submitted'
              ? 'green'
              : colourAt(now, x.due_at.getTime(), Number(x.warning_ms)),
      // To the minute, as people write dates on a ledger.
      closedAt:
        x.completed_at && x.state === 'done'
          ? formatLocal(x.completed_at.getTime(), c.timeZone).slice(0, 16)
          : null,
    }));
    return { rows, timeZone: c.timeZone, name: c.name };
  };
  return db ? read(db) : withDb(read);
}

const PROGRESS_EN: Record<string, string> = {
  未启动: 'not started',
  进行中: 'in progress',
  待验收: 'awaiting acceptance',
  已退回整改: 'returned',
  已验收: 'accepted',
  已取消: 'cancelled',
};

const STATE_LABEL: Record<LedgerRow['state'], [string, string]> = {
  closed: ['已销号', 'closed'],
  cancelled: ['已取消', 'cancelled'],
  green: ['绿灯', 'green'],
  yellow: ['黄灯', 'yellow'],
  red: ['红灯', 'red'],
};
const STATE_FILL: Record<LedgerRow['state'], string | null> = {
  closed: 'FFD4EDDA',
  green: 'FFD4EDDA',
  yellow: 'FFFFF3CD',
  red: 'FFF8D7DA',
  cancelled: null,
};

export async function ledgerReportCommand(
  campaignId: string,
  opts: { format: Format; out?: string; force?: boolean },
  out: OutputOptions,
): Promise<void> {
  const { rows, name } = await withProgress(
    { label: t(out.lang, '读取整改台账', 'reading the rectification ledger'), json: out.json },
    () => ledgerRows(campaignId),
  );
  if (out.json && opts.format === 'table' && !opts.out) return printJson(rows);
  await emitSheets([ledgerSheet(rows, name, out.lang)], opts.format, opts.out, {
    ...out,
    force: opts.force,
  });
}

/** The ledger as a sheet: headings in the language asked for, a fill per state. */
export function ledgerSheet(rows: LedgerRow[], name: string, lang: Lang): Sheet {
  const L = (zh: string, en: string) => t(lang, zh, en);
  return {
    title: `${L('整改台账', 'Rectification ledger')} — ${name}`,
    columns: [
      { header: L('序号', 'No.'), width: 6 },
      { header: L('指标', 'Indicator'), width: 12 },
      { header: L('问题', 'Problem'), width: 24 },
      { header: L('原因', 'Cause'), width: 18 },
      { header: L('差距', 'Gap'), width: 18 },
      { header: L('措施', 'Measure'), width: 24 },
      { header: L('责任单位', 'Unit'), width: 14 },
      { header: L('责任人', 'Person'), width: 10 },
      { header: L('完成时限', 'Due'), width: 11 },
      { header: L('进展', 'Progress'), width: 9 },
      { header: L('状态', 'State'), width: 9 },
      { header: L('销号时间', 'Closed'), width: 11 },
    ],
    rows: rows.map((r) => [
      r.no,
      r.indicator,
      r.problem,
      r.cause,
      r.gap,
      r.measure,
      r.unit,
      r.person,
      r.due,
      lang === 'zh' ? r.progress : (PROGRESS_EN[r.progress] ?? r.progress),
      t(lang, ...STATE_LABEL[r.state]),
      r.closedAt,
    ]),
    fills: rows.map((r) => STATE_FILL[r.state]),
  };
}
