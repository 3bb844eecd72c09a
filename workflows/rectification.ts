// The rectification loop (整改) of one weak indicator, owned by its lead unit: find the problems
// (查问题), analyse the causes (摆原因), find the gaps (找差距), define the measures (定措施) — each
// step a supervised task the bureau approves or returns, the last one being the plan — then each
// measure a supervised task for its owner unit until done with evidence and accepted by the
// bureau (销号); a returned measure is reopened with a reason and a new deadline. Progress is
// reported on a timer until the last measure is closed; the indicator closes with it.
import {
  allHandlersFinished,
  condition,
  getExternalWorkflowHandle,
  ParentClosePolicy,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertSearchAttributes,
  continueAsNew,
  patched,
  workflowInfo,
} from '@temporalio/workflow';
import { refuse, registerAction } from './lib/actions.ts';
import type { createActivities } from '../activities/index.ts';
import { BusinessCalendar } from '../domain/calendar.ts';
import { indicatorWorkflowId, type RectificationInput } from '../domain/campaign.ts';
import {
  addMeasureUpdate,
  cancelRectificationSignal,
  rectificationClosedSignal,
  rectificationStatusQuery,
  type AddMeasureRequest,
  type CampaignCancelled,
} from '../domain/messages.ts';
import {
  measureProblems,
  measureDue,
  type Causes,
  type Gaps,
  type Measures,
  type Problems,
  type StepKind,
} from '../domain/rectification.ts';
import { addDelay } from '../domain/schedule.ts';
import { BUREAU_ACTS, requireBureauLead } from '../domain/who-may.ts';
import { SA } from '../domain/search-attributes.ts';
import { refuseUnlessStartedBy } from './lib/parentage.ts';
import { ActionRequests } from './lib/requests.ts';
import { Signals } from './lib/signals.ts';
import { taskStartOptions } from '../domain/task-start.ts';
import { taskIdOf, type TaskInput, type TaskOutcome } from '../domain/task.ts';
import { taskControlSignal } from '../domain/messages.ts';
import { parseDurationMs } from '../domain/time.ts';

const { projectRectification, recordRectificationItem, recordRectificationProgress } =
  proxyLocalActivities<ReturnType<typeof createActivities>>({
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
  });

const STEP_TITLES: Record<StepKind, string> = {
  'rectify-problems': '查问题：列出评价报告指出的问题',
  'rectify-causes': '摆原因：逐个问题分析原因',
  'rectify-gaps': '找差距：对标先进地区找差距',
  'rectify-measures': '定措施：逐个问题制定整改措施（整改方案）',
};

interface Measure {
  no: number;
  problem: number;
  taskId: string;
}

/**
 * Everything a rectification workflow changes as it runs, in one place: its handlers read,
 * claim and change it here (steps, measures and their outcomes, requests handled).
 */
class RectificationRun {
  outcomes!: Map<string, TaskOutcome>;
  measures!: Measure[];
  state!: 'steps' | 'measures' | 'closed' | 'cancelled';
  step!: StepKind | null;
  problems!: Problems['problems'];
  causes!: Causes['causes'];
  gaps!: Gaps | null;
  version!: number;
  /** Requests handled, by bare request id (one action; the ids carried across runs). */
  handled!: ActionRequests;
  /** The state last written to the search attributes (written again on a change). */
  upserted!: string | null;
  started!: string[];
  cancelled!: CampaignCancelled | null;
  stepData!: Map<StepKind, unknown>;
}

export async function rectificationWorkflow(
  input: RectificationInput,
): Promise<{ code: string; state: 'closed' | 'cancelled' }> {
  const st = new RectificationRun();
  const { shared } = input;
  // Only its indicator, or the campaign for an indicator already closed, starts a rectification.
  refuseUnlessStartedBy({ kind: 'rectification', campaignId: input.campaignId }, [
    indicatorWorkflowId(input.campaignId, input.code),
    input.campaignId,
  ]);
  const calendar = new BusinessCalendar(shared.calendar);
  const roster = shared.roster;
  // A rectification that continued as new resumes with its measures under way.
  const carried = input.carried;
  st.outcomes = new Map<string, TaskOutcome>((carried?.outcomes ?? []) as [string, TaskOutcome][]);
  st.measures = [...(carried?.measures ?? [])];
  st.state = carried ? 'measures' : 'steps';
  st.step = null;
  st.problems = (carried?.problems ?? []) as Problems['problems'];
  st.causes = (carried?.causes ?? []) as Causes['causes'];
  st.gaps = (carried?.gaps ?? null) as Gaps | null;
  st.version = carried?.version ?? 0;
  st.handled = new ActionRequests(false, carried?.handled);

  const closedCount = () =>
    st.measures.filter((m) => st.outcomes.get(m.taskId)?.state === 'done').length;
  const finishedCount = () => st.measures.filter((m) => st.outcomes.has(m.taskId)).length;

  st.upserted = null;
  const project = async () => {
    st.version++;
    if (st.upserted !== st.state || !patched('upsert-on-change')) {
      upsertSearchAttributes([
        { key: SA.phase, value: 'rectification' },
        { key: SA.state, value: st.state },
      ]);
      st.upserted = st.state;
    }
    setCurrentDetails(
      `${input.name}（${input.code}）整改：` +
        (st.state === 'steps' && st.step ? `进行中——${STEP_TITLES[st.step]}` : '') +
        (st.state === 'measures'
          ? `整改措施 ${st.measures.length} 项，已销号 ${closedCount()} 项`
          : '') +
        (st.state === 'closed' ? `全部 ${st.measures.length} 项措施已销号` : '') +
        (st.state === 'cancelled' ? '已取消' : '') +
        `；原因：${input.reason}。`,
    );
    await projectRectification({
      campaignId: input.campaignId,
      code: input.code,
      reason: input.reason,
      state: st.state,
      benchmark: st.gaps?.benchmark ?? null,
      closed: st.state === 'closed' || st.state === 'cancelled',
      version: st.version,
      standalone: input.indicatorWorkflowId === null,
    });
  };

  // The campaign was cancelled: every open step or measure ends with the bureau's reason, and
  // the loop below ends as cancelled once they have.
  st.started = [...(carried?.started ?? [])];
  st.cancelled = carried?.cancelled ?? null;
  // Signals apply only once their one possible sender confirms them (workflows/lib/signals.ts):
  // a step or measure of this rectification, or its indicator.
  const signals = new Signals(carried?.sentSignals);
  signals.onTaskFinished((id) => st.started.includes(id), st.outcomes);

  signals.onConfirmed(
    cancelRectificationSignal,
    () => input.indicatorWorkflowId,
    async (c) => {
      if (st.cancelled) return;
      st.cancelled = c;
      await Promise.all(
        st.started
          .filter((id) => !st.outcomes.has(id))
          .map(async (id) => {
            try {
              await getExternalWorkflowHandle(id).signal(
                taskControlSignal,
                signals.note(taskControlSignal, id, {
                  kind: 'cancel',
                  actor: c.actor,
                  reason: c.reason,
                }),
              );
            } catch {
              // Finished meanwhile.
            }
          }),
      );
    },
  );
  setHandler(rectificationStatusQuery, () => ({
    state: st.state,
    step: st.step,
    measures: st.measures.map((m) => ({
      no: m.no,
      taskId: m.taskId,
      closed: st.outcomes.get(m.taskId)?.state === 'done',
    })),
  }));

  const baseTask = (
    over: Partial<TaskInput> & Pick<TaskInput, 'kind' | 'unitId' | 'assignee' | 'title' | 'due'>,
    key?: string,
  ): TaskInput => ({
    taskId: taskIdOf({
      campaignId: input.campaignId,
      indicator: input.code,
      kind: over.kind,
      unitId: over.unitId,
      key,
    }),
    campaignId: input.campaignId,
    indicator: input.code,
    review: true,
    policy: shared.policy,
    calendar: shared.calendar,
    roster,
    completion: { note: false, evidence: false, fields: [] },
    channels: shared.channels,
    ...over,
  });

  const start = async (task: TaskInput) => {
    st.started.push(task.taskId);
    await startChild('taskWorkflow', {
      ...taskStartOptions(task),
      args: [task],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
    return task.taskId;
  };

  const startMeasure = async (
    m: { problem: number; measure: string; unit: string; person: string; due: string },
    reason: string | null,
    actor: string | null,
  ) => {
    // The number and the task id are taken before the first await, so that two measures added
    // at once (or one added while the plan's measures start) never share them.
    const no = st.measures.length + 1;
    const task = baseTask(
      {
        kind: 'measure',
        unitId: m.unit,
        assignee: m.person,
        title: `${input.name} 整改措施 ${no}：${m.measure}`,
        due: measureDue(m.due, shared.calendar.timeZone, input.workdayEnd),
        completion: { note: true, evidence: true, fields: [] },
        instructions: `问题 ${m.problem}：${st.problems[m.problem - 1]?.description ?? ''}`,
      },
      `m${no}`,
    );
    const taskId = task.taskId;
    st.measures.push({ no, problem: m.problem, taskId });
    await start(task);
    const p = st.problems[m.problem - 1];
    await recordRectificationItem({
      campaignId: input.campaignId,
      code: input.code,
      no,
      problemNo: m.problem,
      finding: p?.finding ?? '',
      problem: p?.description ?? '',
      cause: st.causes
        .filter((c) => c.problem === m.problem)
        .map((c) => c.cause)
        .join('；'),
      gap: (st.gaps?.gaps ?? [])
        .filter((g) => g.problem === m.problem)
        .map((g) => g.gap)
        .join('；'),
      measure: m.measure,
      unitId: m.unit,
      person: m.person,
      taskId,
      addedReason: reason,
      addedBy: actor,
    });
    return { no, taskId };
  };

  registerAction(addMeasureUpdate, st.handled, {
    name: 'addMeasure',
    fenced: true,
    check: (req: AddMeasureRequest) => {
      if (st.cancelled)
        refuse(
          `the campaign was cancelled: ${(st.cancelled as CampaignCancelled).reason}`,
          `本次考核已撤销：${(st.cancelled as CampaignCancelled).reason}`,
        );
      requireBureauLead(roster, req.actor, BUREAU_ACTS.addMeasure);
      if (st.state !== 'measures')
        refuse(
          `measures can be added once the plan is approved; the rectification is in ${st.state}`,
          `整改方案审核通过后才能增加措施；整改现处于“${st.state === 'steps' ? '制定方案' : st.state === 'closed' ? '已销号' : '已取消'}”`,
        );
      if (!req.reason?.trim()) refuse('adding a measure needs a reason', '增加措施需要写明原因');
      if (!req.measure?.trim()) refuse('say what the measure is', '请写明措施内容');
      if (!Number.isInteger(req.problem) || req.problem < 1 || req.problem > st.problems.length) {
        refuse(
          `there is no problem ${req.problem} (${st.problems.length} listed)`,
          `没有第 ${req.problem} 个问题（共列出 ${st.problems.length} 个）`,
        );
      }
      const bad = measureProblems(req, {
        problemCount: st.problems.length,
        roster,
        timeZone: shared.calendar.timeZone,
        now: Date.now(),
        workdayEnd: input.workdayEnd,
      });
      if (bad.length)
        refuse(bad.map((p) => p.en).join('; '), `措施有误：${bad.map((p) => p.zh).join('；')}`);
    },
    apply: async (req, claim) => {
      const r = await startMeasure(req, req.reason, req.actor);
      claim(r);
      await project();
      return r;
    },
  });

  await project();

  // The four steps, each a task of the lead unit that the bureau approves or returns.
  st.stepData = new Map<StepKind, unknown>();
  for (const kind of carried
    ? []
    : (['rectify-problems', 'rectify-causes', 'rectify-gaps', 'rectify-measures'] as const)) {
    if (st.cancelled) {
      st.state = 'cancelled';
      break;
    }
    st.step = kind;
    const taskId = await start(
      baseTask({
        kind,
        unitId: input.leadUnit,
        assignee: input.leadPerson,
        title: `${input.name} ${STEP_TITLES[kind]}`,
        due: addDelay(Date.now(), input.stepDue, calendar),
        completion: {
          note: false,
          evidence: false,
          fields: [],
          step: { kind, problemCount: st.problems.length, timeZone: shared.calendar.timeZone },
        },
        instructions: `整改原因：${input.reason}`,
      }),
    );
    await project();
    await condition(() => st.outcomes.has(taskId));
    const o = st.outcomes.get(taskId)!;
    if (o.state !== 'done') {
      st.state = 'cancelled';
      break;
    }
    st.stepData.set(kind, o.submission?.data);
    if (kind === 'rectify-problems') st.problems = (o.submission?.data as Problems).problems;
    if (kind === 'rectify-causes') st.causes = (o.submission?.data as Causes).causes;
    if (kind === 'rectify-gaps') st.gaps = o.submission?.data as Gaps;
  }

  if (st.state === 'steps' || carried) {
    if (!carried) {
      // The plan is approved: every measure becomes a task of its owner unit.
      st.state = 'measures';
      st.step = null;
      for (const m of (st.stepData.get('rectify-measures') as Measures).measures)
        if (!st.cancelled) await startMeasure(m, null, null);
      await project();
    }

    const every = parseDurationMs(input.progressEvery) ?? 7 * 86_400_000;
    let reports = carried?.reports ?? 0;
    let reportsThisRun = 0;
    // Wakes only for the last measure closing or for the progress report: updates that add
    // measures change nothing this loop waits on.
    while (finishedCount() < st.measures.length) {
      const allDone = await condition(() => finishedCount() === st.measures.length, every);
      if (!allDone) {
        reports++;
        await recordRectificationProgress({
          campaignId: input.campaignId,
          code: input.code,
          seq: reports,
          total: st.measures.length,
          closed: closedCount(),
          channels: shared.channels,
        });
        await project();
        reportsThisRun++;
        // A year of weekly reports must not grow one history without bound: continue as new,
        // carrying the measures under way (their tasks signal this workflow id, any run).
        const limit =
          input.continueAsNewAfter !== undefined && reportsThisRun >= input.continueAsNewAfter;
        if (
          (workflowInfo().continueAsNewSuggested || limit) &&
          finishedCount() < st.measures.length &&
          patched('rectification-continue-as-new')
        ) {
          await condition(allHandlersFinished);
          await continueAsNew<typeof rectificationWorkflow>({
            ...input,
            carried: {
              problems: st.problems,
              causes: st.causes,
              gaps: st.gaps,
              measures: st.measures,
              outcomes: [...st.outcomes.entries()],
              started: st.started,
              reports,
              cancelled: st.cancelled,
              handled: st.handled.entries() as [string, { no: number; taskId: string }][],
              sentSignals: signals.carried(),
              version: st.version,
            },
          });
        }
      }
    }
    st.state = closedCount() > 0 && !st.cancelled ? 'closed' : 'cancelled';
  }
  await project();
  await condition(allHandlersFinished);
  if (input.indicatorWorkflowId) {
    try {
      await getExternalWorkflowHandle(input.indicatorWorkflowId).signal(
        rectificationClosedSignal,
        signals.note(rectificationClosedSignal, input.indicatorWorkflowId, {
          code: input.code,
          state: st.state === 'closed' ? 'closed' : 'cancelled',
        }),
      );
    } catch {
      // The indicator has closed already.
    }
  }
  return { code: input.code, state: st.state === 'closed' ? 'closed' : 'cancelled' };
}
