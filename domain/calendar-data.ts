// Resolves a campaign's business calendar from the maintained Chinese holiday data
// (the `chinese-days` package) plus the overrides in the definition. Not for workflow code:
// workflows receive the resolved lists in their input.
import { createRequire } from 'node:module';
import type { ResolvedCalendar } from './calendar.ts';

interface ChineseDaysData {
  holidays: Record<string, string>;
  workdays: Record<string, string>;
}

const require = createRequire(import.meta.url);
const data = require('chinese-days/dist/chinese-days.json') as ChineseDaysData;

/** Years for which the holiday package has public-holiday data. */
export const KNOWN_HOLIDAY_YEARS: ReadonlySet<number> = new Set(
  Object.keys(data.holidays).map((d) => Number(d.slice(0, 4))),
);

export interface CalendarOverrides {
  chineseHolidays: boolean;
  workdayStart: string;
  workdayEnd: string;
  holidays: string[];
  workdays: string[];
}

/**
 * The calendar for the given years: the package's holidays and adjusted working days for
 * those years (when enabled), then the definition's own lists on top. A date listed by the
 * definition wins over the package.
 */
export function resolveCalendar(
  timeZone: string,
  years: number[],
  overrides: CalendarOverrides,
): ResolvedCalendar {
  const wanted = new Set(years.map(String));
  const holidays = new Set<string>();
  const workdays = new Set<string>();
  if (overrides.chineseHolidays) {
    for (const d of Object.keys(data.holidays)) if (wanted.has(d.slice(0, 4))) holidays.add(d);
    for (const d of Object.keys(data.workdays)) if (wanted.has(d.slice(0, 4))) workdays.add(d);
  }
  for (const d of overrides.holidays) {
    workdays.delete(d);
    holidays.add(d);
  }
  for (const d of overrides.workdays) {
    holidays.delete(d);
    workdays.add(d);
  }
  return {
    timeZone,
    workdayStart: overrides.workdayStart,
    workdayEnd: overrides.workdayEnd,
    holidays: [...holidays].sort(),
    workdays: [...workdays].sort(),
  };
}
