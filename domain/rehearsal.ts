// A rehearsal: a definition moved to begin at a given moment (`campaign start --begin`) and/or
// run faster (`--pace`), then validated again, for demonstrations, end-to-end tests and the
// benchmarks. It works on any date: moved to begin in December, a campaign's later phases and
// its rectification run into the next year, which is allowed; a year whose holidays the
// calendar package does not know yet is a warning, never a refusal. The clock is passed in, so
// that what "now" means is the caller's (and a test's) choice.
import { BusinessCalendar, type ResolvedCalendar } from './calendar.ts';
import { resolveCalendar } from './calendar-data.ts';
import type { CampaignDefinition } from './definition.ts';
import { paceDefinition, rebaseDefinition } from './rebase.ts';
import { localParts, parseMoment, type Instant } from './time.ts';
import { validateDefinition, type DefinitionProblem } from './validate.ts';

export interface RehearsalOptions {
  /** "now", or a date-time in the campaign's time zone (or with an offset). */
  begin?: string;
  /** How many times faster, 1 to 3600. */
  pace?: number;
}

export interface Rehearsal {
  definition: CampaignDefinition;
  calendar: ResolvedCalendar;
  /** What the moved definition's validation warns of (calendar years the package lacks, …). */
  warnings: DefinitionProblem[];
}

/** Why a rehearsal cannot be made: a bad option (`usage`) or a moved definition that fails. */
export class RehearsalError extends Error {
  constructor(
    message: string,
    readonly kind: 'usage' | 'invalid',
  ) {
    super(message);
    this.name = 'RehearsalError';
  }
}

/** The moment `begin` names, with "now" read from `now`. */
export function beginInstant(begin: string, timeZone: string, now: () => Instant): Instant {
  if (begin === 'now') return now();
  const m = parseMoment(begin, timeZone);
  if (!m || m.kind !== 'instant') {
    throw new RehearsalError(
      `--begin "${begin}" is not "now" or a date-time such as 2026-12-01T09:00`,
      'usage',
    );
  }
  return m.instant;
}

/**
 * One calendar for moving the definition: the working days of the years it is written for and
 * of those it moves to (each with the two after it, for phases and rectification running on).
 */
export function movingCalendar(def: CampaignDefinition, begin: Instant): ResolvedCalendar {
  const tz = def.campaign.timeZone;
  const from = Math.min(def.campaign.year, localParts(begin, tz).year);
  const to = Math.max(def.campaign.year, localParts(begin, tz).year) + 2;
  const years = Array.from({ length: to - from + 1 }, (_, i) => from + i);
  return resolveCalendar(tz, years, def.calendar);
}

/** The definition moved and paced as asked, validated, with its calendar and warnings. */
export function rehearse(
  def: CampaignDefinition,
  opts: RehearsalOptions,
  now: () => Instant,
): Rehearsal {
  let moved = structuredClone(def);
  if (opts.begin !== undefined) {
    const tz = def.campaign.timeZone;
    const begin = beginInstant(opts.begin, tz, now);
    moved = rebaseDefinition(moved, begin, new BusinessCalendar(movingCalendar(def, begin)));
  }
  if (opts.pace !== undefined) {
    if (!Number.isFinite(opts.pace) || opts.pace < 1 || opts.pace > 3600) {
      throw new RehearsalError(`--pace "${opts.pace}" is not a number from 1 to 3600`, 'usage');
    }
    try {
      moved = paceDefinition(moved, opts.pace);
    } catch (e) {
      throw new RehearsalError(`--pace: ${(e as Error).message}`, 'usage');
    }
  }
  const checked = validateDefinition(moved);
  if (!checked.valid || !checked.calendar) {
    throw new RehearsalError(
      `the definition moved by --begin/--pace is not valid: ${checked.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`,
      'invalid',
    );
  }
  return { definition: moved, calendar: checked.calendar, warnings: checked.warnings };
}
