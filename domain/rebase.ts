// Moves a campaign's phase windows so that training begins at a given instant: how a
// demonstration or a rehearsal runs a definition now. Training starts at that very instant;
// dates move by working days, so that every window keeps as many working days as written
// whatever the date it is moved to (a window of nine working days stays nine, across a weekend
// or New Year's Day); date-times on training's first day move by the exact interval
// (minute-scale demonstrations), later ones by working days at the same clock time.
import type { BusinessCalendar } from './calendar.ts';
import type { CampaignDefinition } from './definition.ts';
import {
  addCalendarDays,
  formatIsoOffset,
  localDateOf,
  localParts,
  parseClock,
  parseDurationMs,
  parseMoment,
  zonedInstant,
  type Instant,
  type LocalDate,
} from './time.ts';

/** Calendar days from `a` to `b` (negative when `b` is earlier). */
function daysBetween(a: LocalDate, b: LocalDate): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
}

/**
 * The definition moved to begin at `begin`. `calendar` must know the working days of the years
 * the definition is written for and of those it is moved to (one resolved calendar can hold
 * both).
 */
export function rebaseDefinition(
  def: CampaignDefinition,
  begin: Instant,
  calendar: BusinessCalendar,
): CampaignDefinition {
  const tz = def.campaign.timeZone;
  const open = parseClock(def.calendar.workdayStart) ?? { hour: 9, minute: 0, second: 0 };
  const first = parseMoment(def.phases.training.start, tz);
  if (!first) throw new Error('training.start is not a moment');
  const firstDate = first.kind === 'instant' ? localDateOf(first.instant, tz) : first.date;
  const firstInstant =
    first.kind === 'instant'
      ? first.instant
      : zonedInstant(
          +first.date.slice(0, 4),
          +first.date.slice(5, 7),
          +first.date.slice(8, 10),
          open.hour,
          open.minute,
          0,
          tz,
        );
  const delta = begin - firstInstant;
  const beginDate = localDateOf(begin, tz);
  // Training begins on the day asked for even when that is a day off (a rehearsal on a
  // Saturday); its working days are then counted from the next working day, as they were
  // counted from a first day that was a working day.
  const anchor = calendar.isWorkingDay(firstDate)
    ? calendar.workingDayOnOrAfter(beginDate)
    : beginDate;
  /** As many working days after the new first day as `date` is after the old one. */
  const moveDate = (date: LocalDate): LocalDate => {
    if (date <= firstDate) return addCalendarDays(beginDate, daysBetween(firstDate, date));
    // Days off at the end (a window that ends on a Sunday) stay days off after the move.
    let lastWorked = date;
    let trailing = 0;
    while (lastWorked > firstDate && !calendar.isWorkingDay(lastWorked)) {
      lastWorked = addCalendarDays(lastWorked, -1);
      trailing++;
    }
    const worked =
      lastWorked > firstDate
        ? calendar.workingDaysBetween(addCalendarDays(firstDate, 1), lastWorked).length
        : 0;
    const base = worked === 0 ? beginDate : calendar.addWorkingDays(anchor, worked);
    return addCalendarDays(base, trailing);
  };
  const move = (text: string): string => {
    const m = parseMoment(text, tz);
    if (!m) return text;
    if (m.kind === 'date') return moveDate(m.date);
    const date = localDateOf(m.instant, tz);
    if (date === firstDate) return formatIsoOffset(m.instant + delta, tz);
    const clock = localParts(m.instant, tz);
    const to = moveDate(date);
    return formatIsoOffset(
      zonedInstant(
        +to.slice(0, 4),
        +to.slice(5, 7),
        +to.slice(8, 10),
        clock.hour,
        clock.minute,
        clock.second,
        tz,
      ),
      tz,
    );
  };
  const out = structuredClone(def);
  const PHASES = ['training', 'dataEntry', 'verification', 'reporting'] as const;
  for (const phase of PHASES) {
    out.phases[phase].start = move(out.phases[phase].start);
    out.phases[phase].end = move(out.phases[phase].end);
  }
  // The first day's moments shift by the begin's offset, later days' keep their clock: begun
  // late in the day, a first-day moment can land past a later day's moved one (windows of hours
  // that cross midnight). The written order holds anyway: a moment that would move before one
  // written earlier keeps its written distance from it instead.
  const edges = PHASES.flatMap((phase) =>
    (['start', 'end'] as const).flatMap((edge) => {
      const was = parseMoment(def.phases[phase][edge], tz);
      const now = parseMoment(out.phases[phase][edge], tz);
      return was?.kind === 'instant' && now?.kind === 'instant'
        ? [{ phase, edge, was: was.instant, now: now.instant }]
        : [];
    }),
  );
  const inOrder = [...edges].sort((a, b) => a.was - b.was);
  for (let i = 1; i < inOrder.length; i++) {
    const prev = inOrder[i - 1]!;
    const e = inOrder[i]!;
    const least = prev.now + (e.was - prev.was);
    if (e.now < prev.now || (e.was > prev.was && e.now <= prev.now)) {
      e.now = least;
      out.phases[e.phase][e.edge] = formatIsoOffset(least, tz);
    }
  }
  // Training begins at the moment asked for, also when it is written as a date (which would
  // mean the start of that working day: hours ahead when "now" is early in the morning where
  // the campaign is, or past when it is late).
  out.phases.training.start = formatIsoOffset(begin, tz);
  out.campaign.year = localParts(begin, tz).year;
  return out;
}

/**
 * Runs a definition `factor` times faster, for demonstrations and end-to-end tests: every phase
 * window keeps its place relative to training's start but lasts 1/factor as long, and every
 * ISO duration of the policy, the evidence deadline, the data-entry slot and the rectification
 * is divided by the factor (to whole seconds, at least one). Delays in working days and the
 * daily dispatch hour cannot be sped up and stay as written. Windows must be date-times.
 */
export function paceDefinition(def: CampaignDefinition, factor: number): CampaignDefinition {
  if (!(factor >= 1 && factor <= 3600)) throw new Error(`pace ${factor} is not between 1 and 3600`);
  const tz = def.campaign.timeZone;
  const instantOf = (text: string, path: string): Instant => {
    const m = parseMoment(text, tz);
    if (!m || m.kind !== 'instant')
      throw new Error(`phases.${path} is a date (${text}); a paced campaign needs date-times`);
    return m.instant;
  };
  const anchor = instantOf(def.phases.training.start, 'training.start');
  const out = structuredClone(def);
  for (const phase of ['training', 'dataEntry', 'verification', 'reporting'] as const) {
    for (const edge of ['start', 'end'] as const) {
      const at = instantOf(out.phases[phase][edge], `${phase}.${edge}`);
      out.phases[phase][edge] = formatIsoOffset(anchor + Math.round((at - anchor) / factor), tz);
    }
  }
  const fast = (iso: string): string => {
    const ms = parseDurationMs(iso);
    return ms === null ? iso : `PT${Math.max(1, Math.round(ms / factor / 1000))}S`;
  };
  const fastDelay = <D extends { duration: string } | { workingDays: number }>(d: D): D =>
    'duration' in d ? { ...d, duration: fast(d.duration) } : d;
  const dataEntry = out.phases.dataEntry;
  if (dataEntry.slot) dataEntry.slot = fast(dataEntry.slot);
  out.phases.verification.evidenceDue = fastDelay(out.phases.verification.evidenceDue);
  const policy = out.policy;
  policy.reminders = policy.reminders.map(fast);
  policy.warningWindow = fast(policy.warningWindow);
  policy.escalation = policy.escalation.map((s) => ({ ...s, after: fastDelay(s.after) }));
  policy.returnDue = fastDelay(policy.returnDue);
  const r = out.rectification;
  r.stepDue = fastDelay(r.stepDue);
  r.measureDue = fastDelay(r.measureDue);
  r.progressEvery = fast(r.progressEvery);
  return out;
}
