// `campaign report dispatch`: the daily dispatch digest (每日调度) as stored by the campaign on a
// working day, or computed now for a day not yet dispatched.
import { computeDispatch, DispatchError, type DispatchDigest } from '../../activities/dispatch.ts';
import { BusinessCalendar } from '../../domain/calendar.ts';
import type { ResolvedCalendar } from '../../domain/calendar.ts';
import { isLocalDate, localDateOf, parseClock, zonedInstant } from '../../domain/time.ts';
import { CliError, EXIT } from '../errors.ts';
import { emitSheets, type Format, type Sheet } from '../export.ts';
import { printJson, t, type OutputOptions } from '../output.ts';
import { loadCampaign, withDb } from './campaign.ts';

export async function dispatchReportCommand(
  campaignId: string,
  opts: { date?: string; format: Format; out?: string },
  out: OutputOptions,
): Promise<void> {
  const digest = await withDb(async (pool): Promise<DispatchDigest> => {
    const c = await loadCampaign(pool, campaignId);
    const date = opts.date ?? localDateOf(Date.now(), c.timeZone);
    if (!isLocalDate(date))
      throw new CliError(`--date "${opts.date}" is not a date YYYY-MM-DD`, EXIT.usage);
    const stored = await pool.query<{ digest: DispatchDigest }>(
      'SELECT digest FROM dispatches WHERE campaign_id = $1 AND date = $2',
      [campaignId, date],
    );
    if (stored.rows[0]) return stored.rows[0].digest;
    const cal = (
      await pool.query<{ calendar: ResolvedCalendar }>(
        'SELECT calendar FROM campaigns WHERE campaign_id = $1',
        [campaignId],
      )
    ).rows[0]!.calendar;
    const calendar = new BusinessCalendar(cal);
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
      return await computeDispatch(
        pool,
        campaignId,
        at,
        zonedInstant(py, pm, pd, clock.hour, clock.minute, 0, c.timeZone),
      );
    } catch (e) {
      if (e instanceof DispatchError) throw new CliError(e.message);
      throw e;
    }
  });
  if (out.json && opts.format === 'table' && !opts.out) return printJson(digest);
  const L = (zh: string, en: string) => t(out.lang, zh, en);
  const list = (xs: { taskId: string }[]) =>
    xs.map((x) => x.taskId.split('/').slice(2).join('/')).join('\n');
  const sheet: Sheet = {
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
      i.phase,
      i.state,
      list(i.done),
      list(i.dueToday),
      list(i.dueTomorrow),
      list(i.overdue),
      i.escalated
        .map(
          (e) =>
            `L${e.level} ${e.taskId.split('/').slice(2).join('/')} → ${e.recipients.join(',')}`,
        )
        .join('\n'),
    ]),
    fills: digest.indicators.map((i) =>
      i.overdue.length ? 'FFF8D7DA' : i.dueToday.length ? 'FFFFF3CD' : null,
    ),
  };
  await emitSheets([sheet], opts.format, opts.out);
}
