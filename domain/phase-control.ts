// The bureau moves a phase: closes the phase under way now, or gives a phase a later end (when
// the province moves a deadline). Pure: the campaign workflow applies it to its windows and
// tells each indicator its own windows; the CLI shows the same refusals.
import type { BusinessCalendar } from './calendar.ts';
import type { PhaseName } from './definition.ts';
import { PHASE_ZH } from './labels.ts';
import { dataEntrySchedule, type Window } from './schedule.ts';
import { formatIsoOffset, formatLocal, type Instant } from './time.ts';

export const PHASE_ORDER: PhaseName[] = ['training', 'dataEntry', 'verification', 'reporting'];

export type PhaseAction = 'close' | 'extend';

export interface PhaseMoveRequest {
  requestId: string;
  actor: string;
  phase: PhaseName;
  action: PhaseAction;
  /** The new end, for `extend`. */
  until?: Instant | undefined;
  reason: string;
}

/** The campaign's windows and each indicator's data-entry window (its day, or demo slot). */
export interface CampaignWindows {
  phases: Record<PhaseName, Window>;
  dataEntry: Record<string, Window>;
}

export interface PhaseMoveContext {
  calendar: BusinessCalendar;
  /** Data-entry options of the definition, to lay out the days again from a new start. */
  dataEntry: { indicatorsPerDay: number; slot?: string | undefined };
  /** Indicator codes in data-entry order. */
  order: string[];
}

export class PhaseMoveRefused extends Error {}

const refuse = (message: string): never => {
  throw new PhaseMoveRefused(message);
};

/**
 * The windows after the move, or a PhaseMoveRefused that says why not. Closing ends the phase
 * under way at `now` and begins the next one now if it was to begin later; extending gives a
 * phase that has not ended a later end, pushing the next phase's start back when it would
 * overlap (never past that phase's own end: extend that one first).
 */
export function movePhase(
  current: CampaignWindows,
  move: Pick<PhaseMoveRequest, 'phase' | 'action' | 'until'>,
  now: Instant,
  ctx: PhaseMoveContext,
): CampaignWindows {
  const tz = ctx.calendar.timeZone;
  const i = PHASE_ORDER.indexOf(move.phase);
  if (i < 0) refuse(`unknown phase "${String(move.phase)}": one of ${PHASE_ORDER.join(', ')}`);
  const copy = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
  const phases = copy(current.phases);
  let dataEntry = copy(current.dataEntry);
  const w = phases[move.phase];
  const next = PHASE_ORDER[i + 1];
  const label = `${move.phase} (${PHASE_ZH[move.phase]})`;
  if (w.end <= now) refuse(`${label} is already over: it ended ${formatLocal(w.end, tz)}`);

  const relayDataEntry = (start: Instant) => {
    const slots = dataEntrySchedule(
      ctx.order,
      { ...ctx.dataEntry, start: formatIsoOffset(start, tz) },
      ctx.calendar,
    );
    dataEntry = Object.fromEntries(slots.map((s) => [s.code, { start: s.start, end: s.due }]));
    const last = Math.max(...slots.map((s) => s.due));
    phases.dataEntry.end = Math.max(phases.dataEntry.end, last);
  };

  if (move.action === 'close') {
    const nextStart = next ? phases[next].start : Infinity;
    if (w.start > now || (next && nextStart <= now))
      refuse(
        `${label} is not the phase under way; only the phase under way can be closed` +
          (w.start > now ? ` (it begins ${formatLocal(w.start, tz)})` : ''),
      );
    w.end = now;
    if (move.phase === 'dataEntry') {
      for (const s of Object.values(dataEntry)) {
        s.start = Math.min(s.start, now);
        s.end = Math.min(s.end, now);
      }
    }
    if (next && nextStart > now) {
      phases[next].start = now;
      if (next === 'dataEntry') relayDataEntry(now);
    }
    return { phases, dataEntry };
  }

  if (move.action !== 'extend') refuse(`unknown action "${String(move.action)}": close or extend`);
  const until = move.until;
  if (until === undefined || !Number.isFinite(until)) refuse('extending a phase needs --until');
  if (until! <= now) refuse(`the new end ${formatLocal(until!, tz)} is not in the future`);
  if (until! <= w.end)
    refuse(
      `the new end ${formatLocal(until!, tz)} is not later than the current end ${formatLocal(w.end, tz)}`,
    );
  if (next && until! >= phases[next].end)
    refuse(
      `${label} cannot end after ${next} (${PHASE_ZH[next]}) ends (${formatLocal(phases[next].end, tz)}): extend ${next} first`,
    );
  w.end = until!;
  if (move.phase === 'dataEntry') {
    for (const s of Object.values(dataEntry)) s.end = Math.max(s.end, until!);
  }
  if (next && phases[next].start < until!) {
    if (phases[next].start <= now)
      refuse(`${next} (${PHASE_ZH[next]}) has already begun: ${label} cannot end after it`);
    phases[next].start = until!;
    if (next === 'dataEntry') relayDataEntry(until!);
  }
  return { phases, dataEntry };
}

/** An indicator's four windows out of the campaign's. */
export function indicatorWindows(
  w: CampaignWindows,
  code: string,
): { training: Window; dataEntry: Window; verification: Window; reporting: Window } {
  return {
    training: w.phases.training,
    dataEntry: w.dataEntry[code] ?? w.phases.dataEntry,
    verification: w.phases.verification,
    reporting: w.phases.reporting,
  };
}
