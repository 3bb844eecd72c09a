// Time-zone and ISO-8601 helpers. Pure code: used by workflows, activities and the CLI alike.
// Instants are epoch milliseconds (numbers) so they serialise into workflow histories as-is.

export type Instant = number;

/** A local calendar date, `YYYY-MM-DD`. */
export type LocalDate = string;

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const LOCAL_DATETIME_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/;
const ZONED_DATETIME_RE =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;
const CLOCK_RE = /^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$/;
const DURATION_RE = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

const formatterCache = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatterCache.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      weekday: 'short',
    });
    formatterCache.set(timeZone, f);
  }
  return f;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 = Sunday … 6 = Saturday */
  weekday: number;
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

export function localParts(instant: Instant, timeZone: string): LocalParts {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(instant))) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: WEEKDAYS[parts.weekday ?? ''] ?? 0,
  };
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

export function localDateOf(instant: Instant, timeZone: string): LocalDate {
  const p = localParts(instant, timeZone);
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}`;
}

/** `YYYY-MM-DD HH:mm` (seconds when not zero) in the given zone, for people. */
export function formatLocal(instant: Instant, timeZone: string): string {
  const p = localParts(instant, timeZone);
  const base = `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)} ${pad(p.hour)}:${pad(p.minute)}`;
  return p.second ? `${base}:${pad(p.second)}` : base;
}

/** ISO 8601 with the zone's offset, e.g. `2026-10-08T18:00:00+08:00`. */
export function formatIsoOffset(instant: Instant, timeZone: string): string {
  const p = localParts(instant, timeZone);
  const offsetMin = Math.round(
    (Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) -
      Math.floor(instant / 1000) * 1000) /
      60000,
  );
  const sign = offsetMin >= 0 ? '+' : '-';
  const abs = Math.abs(offsetMin);
  return (
    `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}

/** The instant at which the wall clock in `timeZone` shows the given local time. */
export function zonedInstant(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  timeZone: string,
): Instant {
  const asUtc = Date.UTC(year, month - 1, day, hour, minute, second);
  // Two passes settle the offset, also across a daylight-saving change.
  let guess = asUtc;
  for (let i = 0; i < 2; i++) {
    const p = localParts(guess, timeZone);
    const shown = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
    guess += asUtc - shown;
  }
  return guess;
}

export function isLocalDate(s: string): boolean {
  const m = DATE_RE.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const dt = new Date(Date.UTC(y, mo - 1, d));
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === mo - 1 && dt.getUTCDate() === d;
}

export function parseClock(s: string): { hour: number; minute: number; second: number } | null {
  const m = CLOCK_RE.exec(s);
  if (!m) return null;
  return { hour: Number(m[1]), minute: Number(m[2]), second: Number(m[3] ?? 0) };
}

/** The local date `days` calendar days after `date`. */
export function addCalendarDays(date: LocalDate, days: number): LocalDate {
  const m = DATE_RE.exec(date);
  if (!m) throw new Error(`not a date: ${date}`);
  const dt = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + days));
  return `${pad(dt.getUTCFullYear(), 4)}-${pad(dt.getUTCMonth() + 1)}-${pad(dt.getUTCDate())}`;
}

/** 0 = Sunday … 6 = Saturday, of a local date (independent of zone). */
export function weekdayOf(date: LocalDate): number {
  const m = DATE_RE.exec(date);
  if (!m) throw new Error(`not a date: ${date}`);
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))).getUTCDay();
}

export function yearOf(date: LocalDate): number {
  return Number(date.slice(0, 4));
}

export type ParsedMoment =
  { kind: 'date'; date: LocalDate } | { kind: 'instant'; instant: Instant };

/**
 * Parses a moment written in a definition file or on the command line: a date (`2026-10-08`),
 * a local date-time in the campaign's zone (`2026-10-08T09:00`, `2026-10-08 09:00:30`) or a
 * date-time with an offset (`2026-10-08T01:00:00Z`). Returns null when it is none of these.
 */
export function parseMoment(s: string, timeZone: string): ParsedMoment | null {
  const text = s.trim();
  if (DATE_RE.test(text)) return isLocalDate(text) ? { kind: 'date', date: text } : null;
  let m = LOCAL_DATETIME_RE.exec(text);
  if (m) {
    if (!isLocalDate(`${m[1]}-${m[2]}-${m[3]}`)) return null;
    const [h, mi, se] = [Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
    if (h > 23 || mi > 59 || se > 59) return null;
    return {
      kind: 'instant',
      instant: zonedInstant(Number(m[1]), Number(m[2]), Number(m[3]), h, mi, se, timeZone),
    };
  }
  m = ZONED_DATETIME_RE.exec(text);
  if (m) {
    if (!isLocalDate(`${m[1]}-${m[2]}-${m[3]}`)) return null;
    const ms = Date.parse(text.replace(' ', 'T'));
    return Number.isFinite(ms) ? { kind: 'instant', instant: ms } : null;
  }
  return null;
}

export interface Duration {
  weeks: number;
  days: number;
  hours: number;
  minutes: number;
  seconds: number;
}

/** Parses an ISO 8601 duration such as `P3D`, `PT2H`, `PT90S`, `P1DT12H`. Null if invalid. */
export function parseDuration(s: string): Duration | null {
  const m = DURATION_RE.exec(s.trim());
  if (!m || s.trim() === 'P' || s.trim().endsWith('T')) return null;
  if (m.slice(1).every((g) => g === undefined)) return null;
  return {
    weeks: Number(m[1] ?? 0),
    days: Number(m[2] ?? 0),
    hours: Number(m[3] ?? 0),
    minutes: Number(m[4] ?? 0),
    seconds: Number(m[5] ?? 0),
  };
}

/** A duration's length in milliseconds, days counted as 24 hours. */
export function durationMs(d: Duration): number {
  return ((((d.weeks * 7 + d.days) * 24 + d.hours) * 60 + d.minutes) * 60 + d.seconds) * 1000;
}

export function parseDurationMs(s: string): number | null {
  const d = parseDuration(s);
  return d ? durationMs(d) : null;
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
