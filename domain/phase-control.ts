// The bureau moves a phase: closes the phase under way now, or gives a phase a later end (when
// the province moves a deadline). Pure: the campaign workflow applies it to its windows and
// tells each indicator its own windows; the CLI shows the same refusals.
import type { BusinessCalendar } from './calendar.ts';
import type { PhaseName } from './definition.ts';
import { PHASE_ZH } from './labels.ts';
import { Refusal } from './refusal.ts';
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

/** A move the rules refuse, in English and Chinese (domain/refusal.ts). */
export class PhaseMoveRefused extends Refusal {}

const refuse = (message: string, zh?: string): never => {
  throw new PhaseMoveRefused(message, zh);
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
  if (i < 0)
    refuse(
      `unknown phase "${String(move.phase)}": one of ${PHASE_ORDER.join(', ')}`,
      `没有阶段“${String(move.phase)}”：阶段是 ${PHASE_ORDER.join('、')}`,
    );
  const copy = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
  const phases = copy(current.phases);
  let dataEntry = copy(current.dataEntry);
  const w = phases[move.phase];
  const next = PHASE_ORDER[i + 1];
  const label = `${move.phase} (${PHASE_ZH[move.phase]})`;
  const zh = `“${PHASE_ZH[move.phase]}”阶段`;
  if (w.end <= now)
    refuse(
      `${label} is already over: it ended ${formatLocal(w.end, tz)}`,
      `${zh}已于 ${formatLocal(w.end, tz)} 结束`,
    );

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
        `${zh}不是进行中的阶段，只有进行中的阶段可以提前结束` +
          (w.start > now ? `（它于 ${formatLocal(w.start, tz)} 开始）` : ''),
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

  if (move.action !== 'extend')
    refuse(
      `unknown action "${String(move.action)}": close or extend`,
      `没有操作“${String(move.action)}”：只能 close（提前结束）或 extend（延长）`,
    );
  const until = move.until;
  if (until === undefined || !Number.isFinite(until))
    refuse('extending a phase needs --until', '延长阶段需要给出新的结束时间：请写明延至何时');
  if (until! <= now)
    refuse(
      `the new end ${formatLocal(until!, tz)} is not in the future`,
      `新的结束时间 ${formatLocal(until!, tz)} 已经过去`,
    );
  if (until! <= w.end)
    refuse(
      `the new end ${formatLocal(until!, tz)} is not later than the current end ${formatLocal(w.end, tz)}`,
      `新的结束时间 ${formatLocal(until!, tz)} 不晚于现在的结束时间 ${formatLocal(w.end, tz)}`,
    );
  if (next && until! >= phases[next].end)
    refuse(
      `${label} cannot end after ${next} (${PHASE_ZH[next]}) ends (${formatLocal(phases[next].end, tz)}): extend ${next} first`,
      `${zh}不能晚于“${PHASE_ZH[next]}”阶段的结束时间（${formatLocal(phases[next].end, tz)}）：请先延长“${PHASE_ZH[next]}”`,
    );
  w.end = until!;
  if (move.phase === 'dataEntry') {
    for (const s of Object.values(dataEntry)) s.end = Math.max(s.end, until!);
  }
  if (next && phases[next].start < until!) {
    if (phases[next].start <= now)
      refuse(
        `${next} (${PHASE_ZH[next]}) has already begun: ${label} cannot end after it`,
        `“${PHASE_ZH[next]}”阶段已经开始：${zh}不能在它之后结束`,
      );
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
