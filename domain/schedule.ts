// Schedule maths: phase windows as instants, the data-entry schedule, and the reminder and
// escalation instants of a task. Pure: used by workflows and by the CLI's `schedule` command.
import type { BusinessCalendar } from './calendar.ts';
import type { Delay, EscalationStep, PhaseName, Recipient } from './definition.ts';
import { parseDurationMs, parseMoment, type Instant, type LocalDate } from './time.ts';

export interface Window {
  start: Instant;
  end: Instant;
}

/**
 * A window bound written in a definition file as an instant. A bare date means the start of
 * that day's working hours for a start, and the end of them for an end.
 */
export function momentToInstant(
  text: string,
  bound: 'start' | 'end',
  calendar: BusinessCalendar,
): Instant {
  const m = parseMoment(text, calendar.timeZone);
  if (!m) throw new Error(`not a date or date-time: ${text}`);
  if (m.kind === 'instant') return m.instant;
  return bound === 'start' ? calendar.startOfWorkingDay(m.date) : calendar.endOfWorkingDay(m.date);
}

export function windowOf(w: { start: string; end: string }, calendar: BusinessCalendar): Window {
  return {
    start: momentToInstant(w.start, 'start', calendar),
    end: momentToInstant(w.end, 'end', calendar),
  };
}

export interface PhaseWindow extends Window {
  phase: PhaseName;
  startDate: LocalDate;
  endDate: LocalDate;
  workingDays: number;
}

export function phaseWindows(
  phases: Record<PhaseName, { start: string; end: string }>,
  calendar: BusinessCalendar,
): PhaseWindow[] {
  const order: PhaseName[] = ['training', 'dataEntry', 'verification', 'reporting'];
  return order.map((phase) => {
    const w = windowOf(phases[phase], calendar);
    const startDate = calendar.localDate(w.start);
    const endDate = calendar.localDate(w.end);
    return {
      phase,
      ...w,
      startDate,
      endDate,
      workingDays: calendar.workingDaysBetween(startDate, endDate).length,
    };
  });
}

export interface DataEntrySlot {
  code: string;
  /** The local date of the indicator's data-entry day. */
  date: LocalDate;
  /** When its questionnaire opens and when it is due. */
  start: Instant;
  due: Instant;
  /** 0-based index of the day (or demo slot) in the window. */
  day: number;
}

export interface DataEntryOptions {
  start: string;
  indicatorsPerDay: number;
  slot?: string | undefined;
}

/**
 * N indicators per working day from the window's start, skipping weekends and holidays and
 * counting adjusted working days; or, with a demo `slot` duration, N per slot back to back.
 */
export function dataEntrySchedule(
  codes: string[],
  opts: DataEntryOptions,
  calendar: BusinessCalendar,
): DataEntrySlot[] {
  const start = momentToInstant(opts.start, 'start', calendar);
  const slotMs = opts.slot ? parseDurationMs(opts.slot) : null;
  if (slotMs !== null && slotMs !== undefined) {
    return codes.map((code, i) => {
      const day = Math.floor(i / opts.indicatorsPerDay);
      const s = start + day * slotMs;
      return { code, day, date: calendar.localDate(s), start: s, due: s + slotMs };
    });
  }
  const firstDate = calendar.workingDayOnOrAfter(calendar.localDate(start));
  return codes.map((code, i) => {
    const day = Math.floor(i / opts.indicatorsPerDay);
    const date = calendar.addWorkingDays(firstDate, day);
    const open =
      day === 0
        ? Math.max(start, calendar.startOfWorkingDay(date))
        : calendar.startOfWorkingDay(date);
    return { code, day, date, start: open, due: calendar.endOfWorkingDay(date) };
  });
}

/** The instant a delay after `from`: a plain duration, or working days on the calendar. */
export function addDelay(from: Instant, delay: Delay, calendar: BusinessCalendar): Instant {
  if ('workingDays' in delay) return calendar.addWorkingDaysToInstant(from, delay.workingDays);
  const ms = parseDurationMs(delay.duration);
  if (ms === null) throw new Error(`bad duration ${delay.duration}`);
  return from + ms;
}

export interface PlannedReminder {
  kind: 'reminder';
  at: Instant;
  /** The ISO offset before due that produced it, e.g. `P1D`. */
  offset: string;
}

export interface PlannedEscalation {
  kind: 'escalation';
  at: Instant;
  /** 1-based step of the ladder. */
  level: number;
  notify: Recipient[];
  label?: string | undefined;
}

/**
 * Reminder instants for a task due at `due`, latest offset first in time order; offsets that
 * would fall before `notBefore` (the task's creation) are dropped.
 */
export function reminderInstants(
  due: Instant,
  offsets: string[],
  notBefore: Instant,
): PlannedReminder[] {
  return offsets
    .map((offset) => ({
      kind: 'reminder' as const,
      offset,
      at: due - (parseDurationMs(offset) ?? 0),
    }))
    .filter((r) => r.at > notBefore && r.at < due)
    .sort((a, b) => a.at - b.at);
}

/** Escalation instants: step 1 its delay after `due`, each later step its delay after the last. */
export function escalationInstants(
  due: Instant,
  ladder: EscalationStep[],
  calendar: BusinessCalendar,
): PlannedEscalation[] {
  const out: PlannedEscalation[] = [];
  let at = due;
  ladder.forEach((step, i) => {
    at = addDelay(at, step.after, calendar);
    out.push({ kind: 'escalation', at, level: i + 1, notify: step.notify, label: step.label });
  });
  return out;
}

export type Colour = 'green' | 'yellow' | 'red';

/** Green on track, yellow within the warning window before due, red overdue. */
export function colourAt(now: Instant, due: Instant, warningMs: number): Colour {
  if (now >= due) return 'red';
  if (now >= due - warningMs) return 'yellow';
  return 'green';
}
