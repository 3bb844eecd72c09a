// The business calendar: which local dates are working days, and working-day arithmetic.
// Pure and deterministic — workflows receive a ResolvedCalendar in their input and build one
// of these; the holiday data itself is resolved outside workflow code (calendar-data.ts).
import {
  addCalendarDays,
  localDateOf,
  localParts,
  parseClock,
  weekdayOf,
  zonedInstant,
  type Instant,
  type LocalDate,
} from './time.ts';

export interface ResolvedCalendar {
  timeZone: string;
  /** Local clock time a working day starts, `HH:mm`. */
  workdayStart: string;
  /** Local clock time a working day ends, `HH:mm`. */
  workdayEnd: string;
  /** Dates that are days off although they fall Monday–Friday (public holidays). */
  holidays: LocalDate[];
  /** Dates that are working days although they fall on a weekend (调休 adjusted working days). */
  workdays: LocalDate[];
}

/** Working days are searched at most this far ahead before giving up (a calendar error). */
const MAX_SCAN_DAYS = 3660;

/** A calendar that cannot answer: no working day within reach, a count out of range. */
export class CalendarError extends Error {
  override name = 'CalendarError';
}

export class BusinessCalendar {
  readonly timeZone: string;
  private readonly holidays: Set<string>;
  private readonly workdays: Set<string>;
  private readonly start: { hour: number; minute: number; second: number };
  private readonly end: { hour: number; minute: number; second: number };

  constructor(readonly data: ResolvedCalendar) {
    this.timeZone = data.timeZone;
    this.holidays = new Set(data.holidays);
    this.workdays = new Set(data.workdays);
    const start = parseClock(data.workdayStart);
    const end = parseClock(data.workdayEnd);
    if (!start || !end) throw new CalendarError('calendar: workdayStart/workdayEnd must be HH:mm');
    this.start = start;
    this.end = end;
  }

  isWorkingDay(date: LocalDate): boolean {
    if (this.workdays.has(date)) return true;
    if (this.holidays.has(date)) return false;
    const wd = weekdayOf(date);
    return wd !== 0 && wd !== 6;
  }

  /** Why a date is or is not a working day, for schedules people read. */
  describe(date: LocalDate): 'workday' | 'weekend' | 'holiday' | 'adjusted-workday' {
    if (this.workdays.has(date)) return 'adjusted-workday';
    if (this.holidays.has(date)) return 'holiday';
    const wd = weekdayOf(date);
    return wd === 0 || wd === 6 ? 'weekend' : 'workday';
  }

  /** `date` itself when it is a working day, otherwise the next working day. */
  workingDayOnOrAfter(date: LocalDate): LocalDate {
    let d = date;
    for (let i = 0; i < MAX_SCAN_DAYS; i++) {
      if (this.isWorkingDay(d)) return d;
      d = addCalendarDays(d, 1);
    }
    throw new CalendarError(`calendar: no working day within ${MAX_SCAN_DAYS} days of ${date}`);
  }

  /**
   * The n-th working day after `date` (date itself not counted); n = 0 gives `date` when it
   * is a working day, else the next one.
   */
  addWorkingDays(date: LocalDate, n: number): LocalDate {
    if (!Number.isInteger(n) || n < 0)
      throw new CalendarError(`calendar: bad working-day count ${n}`);
    if (n === 0) return this.workingDayOnOrAfter(date);
    let d = date;
    let left = n;
    for (let i = 0; i < MAX_SCAN_DAYS && left > 0; i++) {
      d = addCalendarDays(d, 1);
      if (this.isWorkingDay(d)) left--;
    }
    if (left > 0)
      throw new CalendarError(`calendar: ran out of days adding ${n} working days to ${date}`);
    return d;
  }

  /** Working days from `from` to `to`, both included. */
  workingDaysBetween(from: LocalDate, to: LocalDate): LocalDate[] {
    const out: LocalDate[] = [];
    for (let d = from, i = 0; d <= to && i < MAX_SCAN_DAYS; d = addCalendarDays(d, 1), i++) {
      if (this.isWorkingDay(d)) out.push(d);
    }
    return out;
  }

  startOfWorkingDay(date: LocalDate): Instant {
    return this.at(date, this.start);
  }

  endOfWorkingDay(date: LocalDate): Instant {
    return this.at(date, this.end);
  }

  localDate(instant: Instant): LocalDate {
    return localDateOf(instant, this.timeZone);
  }

  /**
   * The first moment at or after `instant` that lies within working hours of a working day.
   */
  nextWorkingMoment(instant: Instant): Instant {
    const date = this.localDate(instant);
    if (this.isWorkingDay(date)) {
      const open = this.startOfWorkingDay(date);
      if (instant < open) return open;
      if (instant < this.endOfWorkingDay(date)) return instant;
    }
    return this.startOfWorkingDay(this.addWorkingDays(date, 1));
  }

  /**
   * `n` working days after `instant`, at the same local clock time: due Friday 18:00 plus one
   * working day is Monday 18:00 (or the Tuesday after a Monday holiday).
   */
  addWorkingDaysToInstant(instant: Instant, n: number): Instant {
    const p = localParts(instant, this.timeZone);
    const date = this.addWorkingDays(this.localDate(instant), n);
    return this.at(date, p);
  }

  private at(date: LocalDate, t: { hour: number; minute: number; second: number }): Instant {
    const [y, m, d] = date.split('-').map(Number) as [number, number, number];
    return zonedInstant(y, m, d, t.hour, t.minute, t.second, this.timeZone);
  }
}
