// `campaign validate <file>` and `campaign schedule <file>`.
import { BusinessCalendar } from '../../domain/calendar.ts';
import { dispatchInstants } from '../../domain/campaign.ts';
import type { PhaseName } from '../../domain/definition.ts';
import { dataEntrySchedule, phaseWindows } from '../../domain/schedule.ts';
import { formatIsoOffset, formatLocal } from '../../domain/time.ts';
import type { DefinitionProblem } from '../../domain/validate.ts';
import { loadDefinitionFile, type LoadedDefinition } from '../definition-file.ts';
import { CliError } from '../errors.ts';
import { problemPlace } from '../workbook.ts';
import {
  colour,
  errColour,
  noColour,
  printJson,
  t,
  table,
  type OutputOptions,
  type Palette,
} from '../output.ts';

function problemLines(file: string, problems: DefinitionProblem[], c: Palette): string {
  return problems
    .map((p: DefinitionProblem & { sheet?: string }) =>
      p.sheet
        ? `  ${c.dim(file)}  ${c.bold(problemPlace(p))}  ${p.message}`
        : `  ${c.dim(`${file}${p.line ? `:${p.line}` : ''}`)}  ${c.bold(p.path)}  ${p.message}`,
    )
    .join('\n');
}

export async function validateCommand(file: string, out: OutputOptions): Promise<void> {
  const r = await loadDefinitionFile(file);
  if (out.json) {
    printJson({
      valid: r.valid,
      file,
      errors: r.errors,
      warnings: r.warnings,
      summary: r.summary ?? null,
    });
  } else if (r.valid && r.summary) {
    const s = r.summary;
    console.log(
      `${colour.ok('✓')} ${file}: ${t(out.lang, '定义有效', 'valid')} — ${s.name} (${s.campaignId}), ` +
        t(
          out.lang,
          `${s.units} 个单位，${s.people} 人，${s.indicators} 项指标`,
          `${s.units} units, ${s.people} people, ${s.indicators} indicators`,
        ),
    );
    if (r.warnings.length) {
      console.log(colour.warn(t(out.lang, '提醒：', 'Warnings:')));
      console.log(problemLines(file, r.warnings, colour));
    }
  } else {
    console.error(
      `${errColour.bad('✗')} ${file}: ${t(out.lang, `发现 ${r.errors.length} 处错误`, `${r.errors.length} problem(s)`)}`,
    );
    console.error(problemLines(file, r.errors, errColour));
  }
  if (!r.valid) process.exitCode = 1;
}

/** Loads a definition for a command that needs a valid one; refuses with every error. */
export async function requireValidDefinition(
  file: string,
): Promise<Required<Pick<LoadedDefinition, 'definition' | 'calendar'>> & LoadedDefinition> {
  const r = await loadDefinitionFile(file);
  if (!r.valid || !r.definition || !r.calendar) {
    throw new CliError(
      `${file} is not a valid campaign definition:\n${problemLines(file, r.errors, noColour)}`,
      1,
      { errors: r.errors },
    );
  }
  return r as Required<Pick<LoadedDefinition, 'definition' | 'calendar'>> & LoadedDefinition;
}

const WEEKDAY_ZH = ['周日', '周一', '周二', '周三', '周四', '周五', '周六'];
const WEEKDAY_EN = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

export async function scheduleCommand(file: string, out: OutputOptions): Promise<void> {
  const { definition: def, calendar: cal } = await requireValidDefinition(file);
  const calendar = new BusinessCalendar(cal);
  const tz = def.campaign.timeZone;
  const phases = phaseWindows(def.phases, calendar);
  const codes = def.phases.dataEntry.order ?? def.indicators.map((i) => i.code);
  const slots = dataEntrySchedule(codes, def.phases.dataEntry, calendar);
  const nameOf = new Map(def.indicators.map((i) => [i.code, i.name]));
  const dispatches = dispatchInstants(
    calendar,
    Object.fromEntries(phases.map((p) => [p.phase, { start: p.start, end: p.end }])) as Record<
      PhaseName,
      { start: number; end: number }
    >,
    def.dispatch.at,
  );
  const dayNote = (date: string) => {
    const kind = calendar.describe(date);
    const wd = new Date(`${date}T00:00:00Z`).getUTCDay();
    const name = out.lang === 'zh' ? WEEKDAY_ZH[wd] : WEEKDAY_EN[wd];
    return kind === 'adjusted-workday'
      ? `${name} (${t(out.lang, '调休上班', 'adjusted working day')})`
      : (name ?? '');
  };
  // Non-working weekdays and worked weekends inside the campaign's windows, for the reader.
  const first = phases[0]?.startDate ?? '';
  const last = phases[phases.length - 1]?.endDate ?? '';
  const specialDays = [
    ...cal.holidays
      .filter((d) => d >= first && d <= last)
      .map((date) => ({ date, kind: 'holiday' as const })),
    ...cal.workdays
      .filter((d) => d >= first && d <= last)
      .map((date) => ({ date, kind: 'adjusted-workday' as const })),
  ].sort((a, b) => a.date.localeCompare(b.date));

  if (out.json) {
    printJson({
      campaignId: def.campaign.id,
      timeZone: tz,
      phases: phases.map((p) => ({
        phase: p.phase,
        start: formatIsoOffset(p.start, tz),
        end: formatIsoOffset(p.end, tz),
        startDate: p.startDate,
        endDate: p.endDate,
        workingDays: p.workingDays,
      })),
      dataEntry: slots.map((s) => ({
        code: s.code,
        name: nameOf.get(s.code),
        date: s.date,
        day: s.day + 1,
        start: formatIsoOffset(s.start, tz),
        due: formatIsoOffset(s.due, tz),
        dayKind: calendar.describe(s.date),
      })),
      specialDays,
      dispatch: {
        at: def.dispatch.at,
        count: dispatches.length,
        first: dispatches[0] === undefined ? null : formatIsoOffset(dispatches[0], tz),
        last:
          dispatches.length === 0 ? null : formatIsoOffset(dispatches[dispatches.length - 1]!, tz),
      },
    });
    return;
  }
  const phaseLabel: Record<string, string> = {
    training: t(out.lang, '前期培训', 'training'),
    dataEntry: t(out.lang, '数据填报', 'data entry'),
    verification: t(out.lang, '信息核验', 'verification'),
    reporting: t(out.lang, '编制报告', 'reporting'),
  };
  console.log(colour.bold(`${def.campaign.name} (${def.campaign.id}) — ${tz}`));
  console.log(
    table(
      [
        t(out.lang, '阶段', 'Phase'),
        t(out.lang, '开始', 'Start'),
        t(out.lang, '结束', 'End'),
        t(out.lang, '工作日', 'Working days'),
      ],
      phases.map((p) => [
        phaseLabel[p.phase] ?? p.phase,
        formatLocal(p.start, tz),
        formatLocal(p.end, tz),
        p.workingDays,
      ]),
    ),
  );
  console.log(
    table(
      [
        t(out.lang, '第几天', 'Day'),
        t(out.lang, '日期', 'Date'),
        t(out.lang, '星期', 'Weekday'),
        t(out.lang, '指标', 'Indicator'),
        t(out.lang, '截止', 'Due'),
      ],
      slots.map((s) => [
        s.day + 1,
        s.date,
        dayNote(s.date),
        `${s.code} ${nameOf.get(s.code) ?? ''}`,
        formatLocal(s.due, tz),
      ]),
    ),
  );
  console.log(
    dispatches.length
      ? t(
          out.lang,
          `每日调度：${dispatches.length} 次，每个工作日 ${def.dispatch.at}（${formatLocal(dispatches[0]!, tz)} 起）`,
          `Daily dispatch: ${dispatches.length} digests, at ${def.dispatch.at} on working days (from ${formatLocal(dispatches[0]!, tz)})`,
        )
      : colour.warn(
          t(
            out.lang,
            `每日调度：活动时间内没有调度（调度时间 ${def.dispatch.at}，不在活动的时段内，如工作时间外的演练）`,
            `Daily dispatch: none falls in the campaign's window (sent at ${def.dispatch.at}, outside its hours, as in a rehearsal outside working hours)`,
          ),
        ),
  );
  if (specialDays.length) {
    console.log(
      t(out.lang, '期间的节假日与调休：', 'Holidays and adjusted working days in the campaign: ') +
        specialDays
          .map(
            (d) =>
              `${d.date} ${d.kind === 'holiday' ? t(out.lang, '放假', 'off') : t(out.lang, '上班', 'worked')}`,
          )
          .join(', '),
    );
  }
}
