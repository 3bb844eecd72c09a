// The campaign plan: what each indicator's lifecycle does when, computed once from the
// definition and the calendar, and carried by the campaign and indicator workflows. Pure.
import type { BusinessCalendar, ResolvedCalendar } from './calendar.ts';
import { rosterOf, taskPolicyOf } from './campaign-parts.ts';
import type {
  CampaignDefinition,
  ChannelConfig,
  Delay,
  Indicator,
  PhaseName,
} from './definition.ts';
import type { CampaignWindows } from './phase-control.ts';
import type { ResultRow } from './imports.ts';
import { dataEntrySchedule, phaseWindows, type Window } from './schedule.ts';
import type { Roster, TaskPolicy } from './task.ts';
import { parseClock, zonedInstant, type Instant } from './time.ts';

export {
  CAMPAIGN_PHASES,
  INDICATOR_PHASES,
  type CampaignPhase,
  type IndicatorPhase,
  type IndicatorState,
} from './phases.ts';
import type { CampaignPhase } from './phases.ts';

/** Everything an indicator's tasks need that is shared across the campaign. */
export interface SharedTaskContext {
  campaignId: string;
  roster: Roster;
  policy: TaskPolicy;
  calendar: ResolvedCalendar;
  channels: ChannelConfig[];
}

export interface IndicatorPlan {
  code: string;
  name: string;
  leadUnit: string;
  cooperatingUnits: string[];
  teamLeader: string;
  fillers: string[];
  fields: Indicator['fields'];
  evidence: string[];
  guide?: string | undefined;
  training: Window;
  dataEntry: Window;
  verification: Window;
  reporting: Window;
}

export interface CampaignPlan {
  campaignId: string;
  name: string;
  county: string;
  year: number;
  timeZone: string;
  phases: Record<PhaseName, Window>;
  dispatchAt: string;
  dispatchRecipients: string[];
  evidenceDue: Delay;
  samplingProportion: number;
  triggers: { scoreBelow?: number | undefined; rankBottom?: number | undefined };
  rectification: {
    stepDue: Delay;
    progressEvery: string;
    workdayEnd: string;
    continueAsNewAfter?: number | undefined;
  };
  shared: SharedTaskContext;
  indicators: IndicatorPlan[];
}

export function planCampaign(
  def: CampaignDefinition,
  cal: ResolvedCalendar,
  calendar: BusinessCalendar,
): CampaignPlan {
  const windows = phaseWindows(def.phases, calendar);
  const phases = Object.fromEntries(
    windows.map((w) => [w.phase, { start: w.start, end: w.end }]),
  ) as Record<PhaseName, Window>;
  const order = def.phases.dataEntry.order ?? def.indicators.map((i) => i.code);
  const slots = new Map(
    dataEntrySchedule(order, def.phases.dataEntry, calendar).map((s) => [s.code, s]),
  );
  const bureauAndLeaders = def.units
    .filter((u) => u.kind === 'bureau' || u.kind === 'leadership')
    .map((u) => u.id);
  return {
    campaignId: def.campaign.id,
    name: def.campaign.name,
    county: def.campaign.county,
    year: def.campaign.year,
    timeZone: def.campaign.timeZone,
    phases,
    dispatchAt: def.dispatch.at,
    dispatchRecipients: def.dispatch.recipients ?? bureauAndLeaders,
    evidenceDue: def.phases.verification.evidenceDue,
    samplingProportion: def.phases.verification.samplingProportion,
    triggers: def.rectification.triggers,
    rectification: {
      stepDue: def.rectification.stepDue,
      progressEvery: def.rectification.progressEvery,
      workdayEnd: def.calendar.workdayEnd,
    },
    shared: {
      campaignId: def.campaign.id,
      roster: rosterOf(def),
      policy: taskPolicyOf(def),
      calendar: cal,
      channels: def.notifications.channels,
    },
    indicators: def.indicators.map((i) => {
      const slot = slots.get(i.code);
      if (!slot) throw new Error(`no data-entry slot for ${i.code}`);
      return {
        code: i.code,
        name: i.name,
        leadUnit: i.leadUnit,
        cooperatingUnits: i.cooperatingUnits,
        teamLeader: i.teamLeader,
        fillers: i.fillers,
        fields: i.fields,
        evidence: i.evidence,
        guide: i.guide,
        training: phases.training,
        dataEntry: { start: slot.start, end: slot.due },
        verification: phases.verification,
        reporting: phases.reporting,
      };
    }),
  };
}

export function campaignPhaseAt(phases: Record<PhaseName, Window>, now: Instant): CampaignPhase {
  if (now < phases.training.start) return 'scheduled';
  if (now < phases.dataEntry.start) return 'training';
  if (now < phases.verification.start) return 'dataEntry';
  if (now < phases.reporting.start) return 'verification';
  if (now < phases.reporting.end) return 'reporting';
  return 'closing';
}

/** The instants at which the campaign's phase changes, after `now`. */
export function phaseBoundaries(phases: Record<PhaseName, Window>): Instant[] {
  return [
    phases.training.start,
    phases.dataEntry.start,
    phases.verification.start,
    phases.reporting.start,
    phases.reporting.end,
  ];
}

/**
 * The next daily-dispatch instant strictly after `after`: the dispatch time on a working day,
 * from the first day of training to the last day of reporting; null when there is none left.
 */
export function nextDispatchAt(
  calendar: BusinessCalendar,
  phases: Record<PhaseName, Window>,
  at: string,
  after: Instant,
): Instant | null {
  const clock = parseClock(at);
  if (!clock) throw new Error(`bad dispatch time ${at}`);
  const firstDay = calendar.localDate(phases.training.start);
  const lastDay = calendar.localDate(phases.reporting.end);
  let day = calendar.workingDayOnOrAfter(
    after > phases.training.start ? calendar.localDate(after) : firstDay,
  );
  for (let i = 0; i < 400 && day <= lastDay; i++) {
    const [y, m, d] = day.split('-').map(Number) as [number, number, number];
    const instant = zonedInstant(
      y,
      m,
      d,
      clock.hour,
      clock.minute,
      clock.second,
      calendar.timeZone,
    );
    if (instant > after) return instant;
    day = calendar.addWorkingDays(day, 1);
  }
  return null;
}

/**
 * Every daily-dispatch instant that falls inside the campaign's window, from the start of
 * training to the end of reporting (at most `max`): empty for a rehearsal held outside working
 * hours, whose minutes never meet the dispatch time.
 */
export function dispatchInstants(
  calendar: BusinessCalendar,
  phases: Record<PhaseName, Window>,
  at: string,
  max = 400,
): Instant[] {
  const out: Instant[] = [];
  let after = phases.training.start - 1;
  while (out.length < max) {
    const next = nextDispatchAt(calendar, phases, at, after);
    if (next === null || next > phases.reporting.end) break;
    out.push(next);
    after = next;
  }
  return out;
}

/** Whether a result meets the rectification triggers: a score below, or a rank in the bottom N. */
export function meetsTriggers(
  triggers: CampaignPlan['triggers'],
  result: { score: number; rank: number },
  rankedCount: number,
): string | null {
  const reasons: string[] = [];
  if (triggers.scoreBelow !== undefined && result.score < triggers.scoreBelow) {
    reasons.push(`score ${result.score} below ${triggers.scoreBelow}`);
  }
  if (triggers.rankBottom !== undefined && result.rank > rankedCount - triggers.rankBottom) {
    reasons.push(`rank ${result.rank} of ${rankedCount} in the bottom ${triggers.rankBottom}`);
  }
  return reasons.length ? reasons.join('; ') : null;
}

/**
 * A rectification's reason for people, in their language. The campaign composes the reason of
 * a triggered rectification in English (`score 68.5 below 75; rank 12 of 12 in the bottom 3`,
 * kept as it is in histories and in PostgreSQL); in Chinese each known part is said in Chinese.
 * A reason somebody wrote (a rectification started by hand) is shown as written.
 */
export function rectificationReasonText(reason: string, lang: 'zh' | 'en'): string {
  if (lang === 'en') return reason;
  const parts = reason.split('; ');
  const zh = parts.map((part) => {
    const score = /^score (-?[\d.]+) below (-?[\d.]+)$/.exec(part);
    if (score) return `得分 ${score[1]}，低于 ${score[2]} 分`;
    const rank = /^rank (\d+) of (\d+) in the bottom (\d+)$/.exec(part);
    if (rank) return `排名第 ${rank[1]}（共 ${rank[2]} 项），位列后 ${rank[3]} 名`;
    return null;
  });
  return zh.every((x) => x !== null) ? zh.join('；') : reason;
}

/** The indicator workflow's id: `campaign/indicator`. */
export const indicatorWorkflowId = (campaignId: string, code: string) => `${campaignId}/${code}`;

export interface CampaignInput {
  definition: CampaignDefinition;
  calendar: ResolvedCalendar;
  plan: CampaignPlan;
  startedBy: string | null;
  /**
   * Continue as new after this many clock cycles even when the server does not suggest it yet
   * (keeps histories short; tests use it to prove nothing is lost across runs).
   */
  continueAsNewAfter?: number;
  /** Carried across continue-as-new. */
  carried?: {
    recorded: boolean;
    indicatorsStarted: boolean;
    closed: string[];
    lastDispatchAt: Instant | null;
    results: ResultRow[] | null;
    /** Outcomes of recent requests (results, phase moves, cancellation), by request id. */
    handledRequests: [string, unknown][];
    /** The windows in force after the bureau moved phases (absent: the plan's). */
    windows?: CampaignWindows;
    cancelled?: { actor: string; reason: string; at: Instant } | null;
    eventSeq?: number;
    /** What the campaign signalled to its indicators, for them to confirm (workflows/lib/signals.ts). */
    sentSignals?: Record<string, unknown[]>;
    /** Ids of the tasks the bureau raised outside the plan. */
    raisedTasks?: string[];
    /** Indicators rectified by hand after they had closed. */
    rectifiedClosed?: string[];
  };
}

export interface IndicatorInput {
  plan: IndicatorPlan;
  shared: SharedTaskContext;
  evidenceDue: Delay;
  /** The campaign workflow's id, told when the indicator closes. */
  campaignWorkflowId: string;
  /** Settings of the rectification loop (absent in executions from before it existed). */
  rectification?: CampaignPlan['rectification'];
}

export interface RectificationInput {
  campaignId: string;
  code: string;
  name: string;
  leadUnit: string;
  /** Who writes the steps for the lead unit. */
  leadPerson: string;
  reason: string;
  startedBy: string | null;
  shared: SharedTaskContext;
  stepDue: Delay;
  progressEvery: string;
  workdayEnd: string;
  /** Told when the rectification closes; null when started outside an indicator workflow. */
  indicatorWorkflowId: string | null;
  /** Continue as new after this many progress reports (tests; otherwise when suggested). */
  continueAsNewAfter?: number | undefined;
  /** The state a rectification continued as new carries (its measures under way). */
  carried?: RectificationCarried | undefined;
}

export interface RectificationCarried {
  problems: unknown[];
  causes: unknown[];
  gaps: unknown;
  measures: { no: number; problem: number; taskId: string }[];
  outcomes: [string, unknown][];
  started: string[];
  reports: number;
  cancelled: { actor: string; reason: string } | null;
  handled: [string, { no: number; taskId: string }][];
  sentSignals: Record<string, unknown[]>;
  version: number;
}

export const rectificationWorkflowId = (campaignId: string, code: string) =>
  `${campaignId}/${code}/rectification`;

/** The person who does a unit's work for an indicator: a filler of that unit, else its staff. */
export function workerOf(
  plan: Pick<IndicatorPlan, 'fillers'>,
  roster: Roster,
  unitId: string,
): string | undefined {
  const personOf = (id: string) => roster.people.find((p) => p.id === id);
  return (
    plan.fillers.find((f) => personOf(f)?.unitId === unitId) ??
    roster.people.find((p) => p.unitId === unitId && p.role === 'staff')?.id ??
    roster.people.find((p) => p.unitId === unitId && p.role === 'deputy')?.id
  );
}

export function rectificationInputFor(
  plan: CampaignPlan,
  code: string,
  reason: string,
  startedBy: string | null,
  indicatorWorkflowId: string | null,
): RectificationInput {
  const p = plan.indicators.find((i) => i.code === code);
  if (!p) throw new Error(`unknown indicator ${code}`);
  const leadPerson = workerOf(p, plan.shared.roster, p.leadUnit);
  if (!leadPerson) throw new Error(`nobody in ${p.leadUnit} to write the rectification`);
  return {
    campaignId: plan.campaignId,
    code,
    name: p.name,
    leadUnit: p.leadUnit,
    leadPerson,
    reason,
    startedBy,
    shared: plan.shared,
    stepDue: plan.rectification.stepDue,
    progressEvery: plan.rectification.progressEvery,
    workdayEnd: plan.rectification.workdayEnd,
    indicatorWorkflowId,
    ...(plan.rectification.continueAsNewAfter !== undefined
      ? { continueAsNewAfter: plan.rectification.continueAsNewAfter }
      : {}),
  };
}
