// The campaign: one evaluation for one county and year. It records the definition, starts one
// indicator workflow per indicator, and runs the campaign-level clock — the phase windows and
// the daily dispatch on working days — until every indicator has closed. It imports the
// results and tells each indicator whether it must be rectified. It continues as new when its
// history grows, carrying its small state.
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  ParentClosePolicy,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
  patched,
} from '@temporalio/workflow';
import { refuse, registerAction, type Action } from './lib/actions.ts';
import type { SignalDefinition, UpdateDefinition } from '@temporalio/common';
import type { createActivities } from '../activities/index.ts';
import { BusinessCalendar } from '../domain/calendar.ts';
import {
  campaignPhaseAt,
  indicatorWorkflowId,
  meetsTriggers,
  rectificationInputFor,
  rectificationWorkflowId,
  nextDispatchAt,
  phaseBoundaries,
  type CampaignInput,
  type CampaignPhase,
  type IndicatorInput,
} from '../domain/campaign.ts';
import {
  campaignCancelledSignal,
  campaignStatusQuery,
  cancelCampaignUpdate,
  indicatorClosedSignal,
  movePhaseUpdate,
  raiseTaskUpdate,
  recordResultsUpdate,
  rectifyClosedUpdate,
  resultsSignal,
  windowsMovedSignal,
  type PhaseMoveResult,
} from '../domain/messages.ts';
import {
  indicatorWindows,
  movePhase,
  PhaseMoveRefused,
  type CampaignWindows,
  type PhaseMoveContext,
  type PhaseMoveRequest,
} from '../domain/phase-control.ts';
import { MAX_RANK } from '../domain/definition.ts';
import { PHASE_ZH } from '../domain/labels.ts';
import { raisedTask, RaiseRefused, type RaiseTaskRequest } from '../domain/raise-task.ts';
import { rectificationStartOptions, taskStartOptions } from '../domain/task-start.ts';
import { enteredBy } from '../domain/task.ts';
import { taskFinishedSignal } from '../domain/messages.ts';
import { BUREAU_ACTS, requireBureauLead, type BureauAct } from '../domain/who-may.ts';
import { SA } from '../domain/search-attributes.ts';
import { Signals } from './lib/signals.ts';
import { ActionRequests } from './lib/requests.ts';
import { formatLocal } from '../domain/time.ts';

const { recordCampaign, projectCampaign, recordResults, recordCampaignEvent } =
  proxyLocalActivities<ReturnType<typeof createActivities>>({
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
  });
const { compileDispatch } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '5 minutes' },
});

/**
 * Everything a campaign workflow changes as it runs, in one place: its handlers read, claim
 * and change it here (windows and phase, closed indicators, results, requests handled).
 */
class CampaignRun {
  closed!: Set<string>;
  lastDispatchAt!: number | null;
  results!: NonNullable<CampaignInput['carried']>['results'];
  handled!: ActionRequests<string>;
  /** The phase windows in force: the plan's, until the bureau moves a phase. */
  windows!: CampaignWindows;
  cancelled!: NonNullable<NonNullable<CampaignInput['carried']>['cancelled']> | null;
  /**
   * What the clock loop goes by: the windows and the cancellation once their handler has
   * finished its awaits. A handler that woke the loop before its local activity returned would
   * let the loop's commands and its own interleave differently on replay.
   */
  clockWindows!: CampaignWindows;
  stopped!: boolean;
  eventSeq!: number;
  phase!: CampaignPhase;
  version!: number;
  /** The phase last written to the search attribute: written again only when it changes. */
  upsertedPhase!: string | null;
  raised!: Set<string>;
  rectified!: Set<string>;
  /** The phase last written to the projection (a move changes `phase` before the loop sees it). */
  projectedPhase!: CampaignPhase;
  cycles!: number;
}

export async function campaignWorkflow(
  input: CampaignInput,
): Promise<{ campaignId: string; closed: string[] }> {
  const st = new CampaignRun();
  const { plan } = input;
  const calendar = new BusinessCalendar(input.calendar);
  const carried = input.carried ?? {
    recorded: false,
    indicatorsStarted: false,
    closed: [],
    lastDispatchAt: null,
    results: null,
    handledRequests: [],
  };
  st.closed = new Set(carried.closed);
  st.lastDispatchAt = carried.lastDispatchAt;
  st.results = carried.results;
  // Handled requests are remembered per action (patched: executions from before share one set).
  // A department proposes a highlight or a typical case of its own accord (patched: before,
  // only the bureau could raise the task that carries a proposal).
  const departmentsPropose = patched('departments-propose');
  st.handled = patched('requests-per-action')
    ? new ActionRequests(true, carried.handledRequests)
    : new ActionRequests(false, carried.handledRequests, Number.POSITIVE_INFINITY);
  st.windows = carried.windows ?? {
    phases: plan.phases,
    dataEntry: Object.fromEntries(plan.indicators.map((i) => [i.code, i.dataEntry])),
  };
  st.cancelled = carried.cancelled ?? null;
  st.clockWindows = st.windows;
  st.stopped = st.cancelled !== null;
  st.eventSeq = carried.eventSeq ?? 0;
  st.phase = campaignPhaseAt(st.windows.phases, Date.now());
  st.version = 0;
  const codes = plan.indicators.map((i) => i.code);

  st.upsertedPhase = null;
  const describe = () => {
    if (st.upsertedPhase !== st.phase || !patched('upsert-on-change')) {
      upsertSearchAttributes([{ key: SA.phase, value: st.phase }]);
      st.upsertedPhase = st.phase;
    }
    setCurrentDetails(
      `${plan.name}：${PHASE_ZH[st.phase]}；指标 ${codes.length} 项，已结束 ${st.closed.size} 项` +
        (st.lastDispatchAt
          ? `；最近一次每日调度 ${formatLocal(st.lastDispatchAt, plan.timeZone)}`
          : '') +
        (st.results ? `；已导入评价结果 ${st.results.length} 项` : '') +
        '。',
    );
  };

  // What the campaign signalled to its indicators (carried across continue-as-new), and the one
  // signal it takes from them, applied only once the indicator confirms it (lib/signals.ts).
  const signals = new Signals(carried.sentSignals);
  signals.onConfirmed(
    indicatorClosedSignal,
    ({ code }) => (codes.includes(code) ? indicatorWorkflowId(plan.campaignId, code) : null),
    ({ code }) => {
      st.closed.add(code);
      st.version++;
    },
  );
  setHandler(campaignStatusQuery, () => ({
    campaignId: plan.campaignId,
    phase: st.phase,
    closedIndicators: [...st.closed],
    lastDispatch: st.lastDispatchAt ? new Date(st.lastDispatchAt).toISOString() : null,
    resultsImported: st.results !== null,
    windows: st.windows.phases,
    cancelled: st.cancelled,
  }));

  const roster = input.plan.shared.roster;
  const requireBureau = (actor: string, act: BureauAct) => requireBureauLead(roster, actor, act);
  /** An action of the bureau's coordinators and head: who may, then the action's own rules. */
  const bureauAction = <Req extends { requestId: string; actor: string }, Res>(
    def: UpdateDefinition<Res, [Req]>,
    name: string,
    act: BureauAct,
    action: Pick<Action<Req, Res>, 'check' | 'apply'>,
  ) =>
    registerAction(def, st.handled, {
      name,
      fenced: true,
      check: (req) => {
        requireBureau(req.actor, act);
        action.check(req);
      },
      apply: action.apply,
    });
  /**
   * A department's person raising a highlight or typical case for themselves to propose (the
   * bureau still selects or returns it): the same task the bureau would raise, assigned to the
   * proposer, in their own department.
   */
  const proposesForItself = (req: RaiseTaskRequest) => {
    const p = input.plan.shared.roster.people.find((x) => x.id === req?.actor);
    const unit = input.plan.shared.roster.units.find((u) => u.id === p?.unitId);
    return (
      !!p &&
      unit?.kind === 'department' &&
      (req.kind === 'highlight' || req.kind === 'case') &&
      req.assignee === p.id &&
      req.unit === p.unitId
    );
  };
  /** What may still happen to the campaign: refused alike everywhere once it has ended. */
  const requireRunning = () => {
    if (st.cancelled)
      refuse(
        `campaign ${plan.campaignId} was cancelled: ${st.cancelled.reason}`,
        `考核 ${plan.campaignId} 已撤销：${st.cancelled.reason}`,
      );
    if (st.phase === 'closed')
      refuse(`campaign ${plan.campaignId} has closed`, `考核 ${plan.campaignId} 已结束`);
  };

  const moveContext: PhaseMoveContext = {
    calendar,
    dataEntry: {
      indicatorsPerDay: input.definition.phases.dataEntry.indicatorsPerDay,
      slot: input.definition.phases.dataEntry.slot,
    },
    order: input.definition.phases.dataEntry.order ?? codes,
  };
  const moved = (req: PhaseMoveRequest): CampaignWindows => {
    try {
      return movePhase(st.windows, req, Date.now(), moveContext);
    } catch (e) {
      if (e instanceof PhaseMoveRefused) refuse(e.message, e.zh);
      throw e;
    }
  };
  /**
   * Signals every indicator still open, once they have all been started (an indicator not yet
   * started would miss it; they start within the campaign's first tasks).
   */
  const tellIndicators = async <A>(signal: SignalDefinition<[A]>, arg: (code: string) => A) => {
    await condition(() => carried.indicatorsStarted);
    await Promise.all(
      codes
        .filter((c) => !st.closed.has(c))
        .map(async (c) => {
          try {
            const to = indicatorWorkflowId(plan.campaignId, c);
            await getExternalWorkflowHandle(to).signal(signal, signals.note(signal, to, arg(c)));
          } catch {
            // An indicator that has closed meanwhile needs no telling.
          }
        }),
    );
  };

  bureauAction(movePhaseUpdate, 'movePhase', BUREAU_ACTS.movePhase, {
    check: (req) => {
      if (!req.reason?.trim()) refuse('moving a phase needs a reason', '调整阶段需要写明原因');
      requireRunning();
      moved(req);
    },
    apply: async (req, claim): Promise<PhaseMoveResult> => {
      // Everything is decided before the first await, so concurrent moves apply one by one.
      st.windows = moved(req);
      st.phase = campaignPhaseAt(st.windows.phases, Date.now());
      const seq = ++st.eventSeq;
      const at = Date.now();
      const w = st.windows.phases[req.phase];
      const outcome: PhaseMoveResult = {
        campaignId: plan.campaignId,
        phase: req.phase,
        action: req.action,
        start: w.start,
        end: w.end,
        campaignPhase: st.phase,
      };
      claim(outcome);
      await recordCampaignEvent({
        campaignId: plan.campaignId,
        seq,
        at,
        type: req.action === 'close' ? 'phase-closed' : 'phase-extended',
        actor: req.actor,
        reason: req.reason,
        detail: { phase: req.phase, start: w.start, end: w.end, requestId: req.requestId },
        windows: st.windows.phases,
      });
      const move = {
        phase: req.phase,
        action: req.action,
        actor: req.actor,
        reason: req.reason,
        at,
      };
      const now = st.windows;
      await tellIndicators(windowsMovedSignal, (c) => ({
        windows: indicatorWindows(now, c),
        move,
      }));
      st.clockWindows = st.windows;
      st.version++;
      return outcome;
    },
  });

  bureauAction(cancelCampaignUpdate, 'cancelCampaign', BUREAU_ACTS.cancel, {
    check: (req) => {
      if (!req.reason?.trim())
        refuse('cancelling a campaign needs a reason', '撤销考核需要写明原因');
      requireRunning();
    },
    apply: async (req, claim) => {
      const at = Date.now();
      st.cancelled = { actor: req.actor, reason: req.reason, at };
      const seq = ++st.eventSeq;
      const outcome = { campaignId: plan.campaignId, status: 'cancelled' as const };
      claim(outcome);
      await recordCampaignEvent({
        campaignId: plan.campaignId,
        seq,
        at,
        type: 'cancelled',
        actor: req.actor,
        reason: req.reason,
        detail: { requestId: req.requestId },
      });
      await tellIndicators(campaignCancelledSignal, () => ({
        actor: req.actor,
        reason: req.reason,
      }));
      st.stopped = true;
      st.version++;
      return outcome;
    },
  });

  // The bureau raises a task outside the plan: decided here, from the recorded roster, policy
  // and channels; the task runs as a child and its end needs nothing from the campaign.
  st.raised = new Set<string>(carried.raisedTasks ?? []);
  const raise = (req: RaiseTaskRequest) => {
    try {
      return raisedTask(plan, req, Date.now());
    } catch (e) {
      if (e instanceof RaiseRefused) refuse(e.message, e.zh);
      throw e;
    }
  };
  setHandler(taskFinishedSignal, () => undefined);
  registerAction(raiseTaskUpdate, st.handled, {
    name: 'raiseTask',
    fenced: true,
    check: (req: RaiseTaskRequest) => {
      if (!(departmentsPropose && proposesForItself(req)))
        requireBureau(req.actor, BUREAU_ACTS.raiseTask);
      requireRunning();
      const task = raise(req);
      if (st.raised.has(task.taskId))
        refuse(
          `task ${task.taskId} was already raised: give it another key`,
          `该事项已下达过：请换一个事项编号`,
        );
    },
    apply: async (req, claim) => {
      const task = raise(req);
      // Claimed before the first await: the same task raised twice at once is refused.
      st.raised.add(task.taskId);
      const outcome = { taskId: task.taskId, due: task.due };
      claim(outcome);
      try {
        await startChild('taskWorkflow', {
          ...taskStartOptions(task),
          args: [task],
          parentClosePolicy: ParentClosePolicy.ABANDON,
        });
      } catch (e) {
        throw ApplicationFailure.nonRetryable(
          `task ${task.taskId} could not be started: ${(e as Error).message}`,
          'Refused',
        );
      }
      const seq = ++st.eventSeq;
      await recordCampaignEvent({
        campaignId: plan.campaignId,
        seq,
        at: Date.now(),
        type: 'task-raised',
        actor: req.actor,
        reason: task.title,
        detail: {
          taskId: task.taskId,
          unit: task.unitId,
          assignee: task.assignee,
          due: task.due,
          requestId: req.requestId,
          ...enteredBy(req),
        },
      });
      return outcome;
    },
  });

  // The bureau rectifies an indicator that has already closed: the rectification runs on its own
  // (an open indicator takes the same request itself, update startRectification).
  st.rectified = new Set<string>(carried.rectifiedClosed ?? []);
  bureauAction(rectifyClosedUpdate, 'rectifyClosed', BUREAU_ACTS.rectify, {
    check: (req) => {
      requireRunning();
      if (!codes.includes(req.code))
        refuse(`unknown indicator "${req.code}"`, `本次考核没有指标“${req.code}”`);
      if (typeof req.reason !== 'string' || !req.reason.trim())
        refuse('starting a rectification by hand needs a reason', '发起整改需要写明原因');
      if (!st.closed.has(req.code))
        refuse(
          `${req.code} has not closed: its indicator takes the rectification itself`,
          `指标 ${req.code} 尚未结束：请在该指标下发起整改`,
        );
      if (st.rectified.has(req.code))
        refuse(
          `the rectification of ${req.code} was already started`,
          `指标 ${req.code} 的整改已经发起`,
        );
      try {
        rectificationInputFor(plan, req.code, req.reason, req.actor, null);
      } catch (e) {
        refuse((e as Error).message, `无法发起整改：${(e as Error).message}`);
      }
    },
    apply: async (req, claim) => {
      st.rectified.add(req.code);
      const workflowId = rectificationWorkflowId(plan.campaignId, req.code);
      const outcome = { workflowId };
      claim(outcome);
      const r = rectificationInputFor(plan, req.code, req.reason.trim(), req.actor, null);
      try {
        await startChild('rectificationWorkflow', {
          ...rectificationStartOptions(r, true),
          args: [r],
          parentClosePolicy: ParentClosePolicy.ABANDON,
        });
      } catch {
        throw ApplicationFailure.nonRetryable(
          `the rectification of ${req.code} was already started`,
          'Refused',
        );
      }
      return outcome;
    },
  });

  bureauAction(recordResultsUpdate, 'recordResults', BUREAU_ACTS.results, {
    check: (req) => {
      if (st.cancelled) refuse(`campaign ${plan.campaignId} was cancelled: ${st.cancelled.reason}`);
      if (st.phase !== 'reporting' && st.phase !== 'closing')
        refuse(
          `results are imported during reporting; the campaign is in ${st.phase}`,
          `评价结果在“编制报告”阶段导入；本次考核现处于“${PHASE_ZH[st.phase] ?? st.phase}”`,
        );
      if (st.results !== null)
        refuse('results were already imported for this campaign', '本次考核的评价结果已经导入过');
      if (!Array.isArray(req.results))
        refuse('the results are a list of indicators', '评价结果应为各指标的列表');
      const known = new Set(codes);
      const unknown = req.results.filter((r) => !known.has(r.code)).map((r) => r.code);
      if (unknown.length)
        refuse(
          `unknown indicator(s): ${unknown.join(', ')}`,
          `本次考核没有这些指标：${unknown.join('、')}`,
        );
      const bad = req.results.filter(
        (r) =>
          typeof r.score !== 'number' ||
          !(r.score >= 0 && r.score <= 100) ||
          !Number.isInteger(r.rank) ||
          r.rank < 1 ||
          r.rank > MAX_RANK,
      );
      if (bad.length)
        refuse(
          `a score is 0 to 100 and a rank a whole number from 1 to ${MAX_RANK}; not so for: ${bad.map((r) => r.code).join(', ')}`,
          `得分应为 0 到 100，排名应为 1 到 ${MAX_RANK} 的整数；这些指标不符：${bad.map((r) => r.code).join('、')}`,
        );
      const twice = codes.filter((c) => req.results.filter((r) => r.code === c).length > 1);
      if (twice.length)
        refuse(
          `results name these indicators more than once: ${twice.join(', ')}`,
          `这些指标的结果出现了不止一次：${twice.join('、')}`,
        );
      const missing = codes.filter((c) => !req.results.some((r) => r.code === c));
      if (missing.length)
        refuse(
          `results are missing for: ${missing.join(', ')}`,
          `缺少这些指标的评价结果：${missing.join('、')}`,
        );
    },
    apply: async (req, claim) => {
      // Claimed before the first await: a second import arriving while this one is recorded is
      // refused by the validator, never applied twice.
      st.results = req.results;
      await recordResults({ campaignId: plan.campaignId, results: req.results, actor: req.actor });
      await condition(() => carried.indicatorsStarted);
      const rectificationStarted: string[] = [];
      await Promise.all(
        req.results.map(async (r) => {
          const rectify = meetsTriggers(plan.triggers, r, req.results.length);
          if (rectify) rectificationStarted.push(r.code);
          const to = indicatorWorkflowId(plan.campaignId, r.code);
          await getExternalWorkflowHandle(to).signal(
            resultsSignal,
            signals.note(resultsSignal, to, { score: r.score, rank: r.rank, rectify }),
          );
        }),
      );
      const outcome = {
        imported: req.results.length,
        rectificationStarted: rectificationStarted.sort(),
      };
      claim(outcome);
      // The clock loop wakes once the import is done (as it always has: saved histories replay).
      st.version++;
      return outcome;
    },
  });

  if (!carried.recorded) {
    await recordCampaign({
      definition: input.definition,
      calendar: input.calendar,
      plan,
      workflowId: workflowInfo().workflowId,
      startedBy: input.startedBy,
    });
    carried.recorded = true;
  }
  if (!carried.indicatorsStarted) {
    await Promise.all(
      plan.indicators.map((p) => {
        const child: IndicatorInput = {
          plan: p,
          shared: plan.shared,
          evidenceDue: plan.evidenceDue,
          campaignWorkflowId: workflowInfo().workflowId,
          rectification: plan.rectification,
        };
        return startChild('indicatorWorkflow', {
          workflowId: indicatorWorkflowId(plan.campaignId, p.code),
          args: [child],
          parentClosePolicy: ParentClosePolicy.ABANDON,
          staticSummary: `指标：${p.name}（${p.code}），牵头单位 ${p.leadUnit}`,
          typedSearchAttributes: [
            { key: SA.campaignId, value: plan.campaignId },
            { key: SA.indicator, value: p.code },
            { key: SA.unit, value: p.leadUnit },
            { key: SA.kind, value: 'indicator' },
            { key: SA.phase, value: 'scheduled' },
          ],
        });
      }),
    );
    carried.indicatorsStarted = true;
  }
  await projectCampaign({ campaignId: plan.campaignId, phase: st.phase, status: 'running' });
  describe();

  const finished = () =>
    st.stopped ||
    (st.closed.size === codes.length && Date.now() >= st.clockWindows.phases.reporting.end);

  st.projectedPhase = st.phase;
  st.cycles = 0;
  while (!finished()) {
    st.cycles++;
    const now = Date.now();
    const nextPhase = phaseBoundaries(st.clockWindows.phases).find((b) => b > now) ?? null;
    const nextDispatch = nextDispatchAt(
      calendar,
      st.clockWindows.phases,
      plan.dispatchAt,
      Math.max(now, st.lastDispatchAt ?? 0),
    );
    const next = [nextPhase, nextDispatch]
      .filter((x): x is number => x !== null)
      .sort((a, b) => a - b)[0];
    const seen = st.version;
    if (next === undefined) await condition(() => st.version !== seen || finished());
    else await condition(() => st.version !== seen || finished(), Math.max(1, next - Date.now()));

    if (st.stopped) break;
    const at = Date.now();
    const newPhase = campaignPhaseAt(st.clockWindows.phases, at);
    if (newPhase !== st.phase || st.projectedPhase !== st.phase) {
      st.projectedPhase = newPhase;
      st.phase = newPhase;
      await projectCampaign({ campaignId: plan.campaignId, phase: st.phase, status: 'running' });
    }
    if (nextDispatch !== null && at >= nextDispatch) {
      const since = st.lastDispatchAt ?? st.clockWindows.phases.training.start;
      st.lastDispatchAt = nextDispatch;
      await compileDispatch({
        campaignId: plan.campaignId,
        at: nextDispatch,
        since,
        recipients: plan.shared.roster.people
          .filter((p) => plan.dispatchRecipients.includes(p.unitId) && p.role !== 'staff')
          .map((p) => p.id),
        channels: plan.shared.channels,
      });
    }
    describe();
    const cycleLimit =
      input.continueAsNewAfter !== undefined && st.cycles >= input.continueAsNewAfter;
    if ((workflowInfo().continueAsNewSuggested || cycleLimit) && !finished()) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof campaignWorkflow>({
        ...input,
        carried: {
          ...carried,
          closed: [...st.closed],
          lastDispatchAt: st.lastDispatchAt,
          results: st.results,
          handledRequests: [...st.handled.entries()].slice(-50),
          windows: st.windows,
          cancelled: st.cancelled,
          eventSeq: st.eventSeq,
          sentSignals: signals.carried(),
          raisedTasks: [...st.raised],
          rectifiedClosed: [...st.rectified],
        },
      });
    }
  }
  if (st.cancelled) {
    st.phase = 'cancelled';
    await projectCampaign({ campaignId: plan.campaignId, phase: st.phase, status: 'cancelled' });
  } else {
    st.phase = 'closed';
    await projectCampaign({ campaignId: plan.campaignId, phase: st.phase, status: 'completed' });
  }
  describe();
  await condition(allHandlersFinished);
  return { campaignId: plan.campaignId, closed: [...st.closed] };
}
