// One indicator's lifecycle: training → data entry → verification → reporting →
// (rectification) → closed. Each phase starts supervised tasks as children; their outcomes come
// back by signal. The third-party evaluator's evidence requests and verified items arrive as
// updates during verification; the results arrive from the campaign.
import {
  allHandlersFinished,
  condition,
  getExternalWorkflowHandle,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  ParentClosePolicy,
  upsertSearchAttributes,
  patched,
  workflowInfo,
} from '@temporalio/workflow';
import { refuse, registerAction } from './lib/actions.ts';
import type { createActivities } from '../activities/index.ts';
import { BusinessCalendar } from '../domain/calendar.ts';
import {
  rectificationWorkflowId,
  type IndicatorInput,
  type IndicatorPhase,
  type IndicatorState,
  type RectificationInput,
} from '../domain/campaign.ts';
import {
  campaignCancelledSignal,
  cancelRectificationSignal,
  indicatorClosedSignal,
  indicatorStatusQuery,
  rectificationClosedSignal,
  requestEvidenceUpdate,
  startRectificationUpdate,
  resultsSignal,
  verifyUpdate,
  windowsMovedSignal,
  type CampaignCancelled,
  type IndicatorResult,
  type WindowsMoved,
} from '../domain/messages.ts';
import { addDelay } from '../domain/schedule.ts';
import { PHASE_ZH } from '../domain/labels.ts';
import { BUREAU_ACTS, requireBureauLead, requireEvaluator } from '../domain/who-may.ts';
import { SA } from '../domain/search-attributes.ts';
import { ActionRequests } from './lib/requests.ts';
import { refuseUnlessStartedBy } from './lib/parentage.ts';
import { Signals } from './lib/signals.ts';
import { NewTasks, Projections } from './lib/projections.ts';
import { rectificationStartOptions, taskStartOptions } from '../domain/task-start.ts';
import {
  requiresEvidence,
  resolveRecipients,
  taskIdOf,
  type TaskInput,
  type TaskKind,
  type TaskControl,
  type TaskOutcome,
} from '../domain/task.ts';
import { taskControlSignal } from '../domain/messages.ts';
import type { Instant } from '../domain/time.ts';

const { projectTasksCreated } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 milliseconds', maximumInterval: '1 minute' },
});
const { projectIndicator, recordVerification } = proxyLocalActivities<
  ReturnType<typeof createActivities>
>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/** Thrown at the lifecycle's next wait once the campaign is cancelled. */
class Stopped extends Error {}

/**
 * Everything an indicator workflow changes as it runs, in one place: its handlers read, claim
 * and change it here (where it stands, its tasks and their outcomes, requests handled).
 */
class IndicatorRun {
  /** What the board shows. */
  phase!: IndicatorPhase;
  /** Where the lifecycle stands (the same, but during a rectification started by hand). */
  stage!: IndicatorPhase;
  state!: IndicatorState;
  flagged!: boolean;
  result!: IndicatorResult | null;
  questionnaire!: Record<string, unknown> | null;
  version!: number;
  evidenceSeq!: number;
  verifySeq!: number;
  tasks!: Map<string, TaskKind>;
  outcomes!: Map<string, TaskOutcome>;
  trainingTasks!: string[];
  questionnaireTask!: string | null;
  /** The phase windows now in force: the plan's, until the bureau moves a phase. */
  w!: WindowsMoved['windows'];
  /** Bumped when the windows move or the campaign is cancelled, so that every wait re-plans. */
  moved!: number;
  cancelled!: CampaignCancelled | null;
  /** The phase and state last written to the search attributes (written again on a change). */
  upserted!: string | null;
  handled!: ActionRequests<string>;
  rectification!: { reason: string; actor: string | null } | null;
  rectificationClosed!: boolean;
}

export async function indicatorWorkflow(
  input: IndicatorInput,
): Promise<{ code: string; result: IndicatorResult | null }> {
  const st = new IndicatorRun();
  const { plan, shared } = input;
  // Only the campaign's own workflow starts an indicator (patched inside).
  refuseUnlessStartedBy({ kind: 'indicator', campaignId: shared.campaignId }, [shared.campaignId]);
  const calendar = new BusinessCalendar(shared.calendar);
  const roster = shared.roster;
  st.phase = 'scheduled';
  st.stage = 'scheduled';
  st.state = 'waiting';
  st.flagged = false;
  st.result = null;
  st.questionnaire = null;
  st.version = 0;
  st.evidenceSeq = 0;
  st.verifySeq = 0;
  st.tasks = new Map<string, TaskKind>();
  st.outcomes = new Map<string, TaskOutcome>();
  st.trainingTasks = [];
  st.questionnaireTask = null;
  st.w = {
    training: plan.training,
    dataEntry: plan.dataEntry,
    verification: plan.verification,
    reporting: plan.reporting,
  };
  st.moved = 0;
  st.cancelled = null;

  const openTasks = () => [...st.tasks.keys()].filter((id) => !st.outcomes.has(id));
  // Projections by ordinary activities, not awaited (patched: executions from before project
  // by local activities and let each task project its own creation).
  const oneTask = patched('one-task-action');
  const projections = oneTask ? new Projections() : null;
  const newTasks = projections ? new NewTasks(projections, projectTasksCreated) : null;
  const signals = new Signals();
  const campaignId = input.campaignWorkflowId;

  st.upserted = null;
  const project = async () => {
    st.version++;
    if (st.upserted !== `${st.phase}/${st.state}` || !patched('upsert-on-change')) {
      upsertSearchAttributes([
        { key: SA.phase, value: st.phase },
        { key: SA.state, value: st.state },
      ]);
      st.upserted = `${st.phase}/${st.state}`;
    }
    setCurrentDetails(
      `${plan.name}（${plan.code}）：${PHASE_ZH[st.phase]}，${st.state}；牵头单位 ${plan.leadUnit}；` +
        `事项 ${st.tasks.size} 项，未完成 ${openTasks().length} 项` +
        (st.flagged ? '；存在数据核验差异，已报审批局和县领导' : '') +
        (st.result
          ? `；得分 ${st.result.score}，排名 ${st.result.rank}${st.result.rectify ? `，需整改（${st.result.rectify}）` : ''}`
          : '') +
        '。',
    );
    await projectIndicator({
      campaignId: shared.campaignId,
      code: plan.code,
      phase: st.phase,
      state: st.state,
      flagged: st.flagged,
      score: st.result?.score ?? null,
      rank: st.result?.rank ?? null,
      rectificationReason: st.result?.rectify ?? null,
      questionnaire: st.questionnaire,
      version: st.version,
    });
  };

  const personOf = (id: string) => roster.people.find((p) => p.id === id);
  /** The person who does a unit's work for this indicator: a filler of that unit, else its staff. */
  const workerOf = (unitId: string): string | undefined =>
    plan.fillers.find((f) => personOf(f)?.unitId === unitId) ??
    roster.people.find((p) => p.unitId === unitId && p.role === 'staff')?.id ??
    roster.people.find((p) => p.unitId === unitId && p.role === 'deputy')?.id;

  const startTask = async (t: {
    kind: TaskKind;
    unitId: string;
    assignee: string;
    title: string;
    due: Instant;
    review: boolean;
    key?: string;
    completion?: Partial<TaskInput['completion']>;
    instructions?: string;
  }): Promise<string> => {
    if (st.cancelled) throw new Stopped();
    const input: TaskInput = {
      taskId: taskIdOf({
        campaignId: shared.campaignId,
        indicator: plan.code,
        kind: t.kind,
        unitId: t.unitId,
        key: t.key,
      }),
      campaignId: shared.campaignId,
      indicator: plan.code,
      kind: t.kind,
      title: t.title,
      unitId: t.unitId,
      assignee: t.assignee,
      review: t.review,
      due: t.due,
      policy: shared.policy,
      calendar: shared.calendar,
      roster,
      completion: { note: false, evidence: false, fields: [], ...t.completion },
      channels: shared.channels,
      instructions: t.instructions,
    };
    st.tasks.set(input.taskId, t.kind);
    // One activity projects the creation of every task started in this workflow task.
    if (newTasks) {
      input.createdProjected = true;
      newTasks.add(input);
    }
    await startChild('taskWorkflow', {
      ...taskStartOptions(input),
      args: [input],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
    return input.taskId;
  };

  // Signals apply only once their one possible sender confirms them (workflows/lib/signals.ts):
  // a task of this indicator, or the campaign.
  signals.onTaskFinished((id) => st.tasks.has(id), st.outcomes);
  signals.onConfirmed(
    resultsSignal,
    () => campaignId,
    (r) => {
      st.result = r;
    },
  );

  const tell = async (taskIds: string[], control: TaskControl) => {
    await Promise.all(
      taskIds.map(async (id) => {
        try {
          await getExternalWorkflowHandle(id).signal(
            taskControlSignal,
            signals.note(taskControlSignal, id, control),
          );
        } catch {
          // A task that has just finished needs no telling.
        }
      }),
    );
  };
  const openOfKind = (...kinds: TaskKind[]) =>
    openTasks().filter((id) => kinds.includes(st.tasks.get(id)!));

  // The bureau moved a phase: the new windows hold from now on, and the open tasks of a phase
  // whose end moved are given the new end as their due instant (their timers re-arm).
  signals.onConfirmed(
    windowsMovedSignal,
    () => campaignId,
    async ({ windows, move }) => {
      const trainingEnd = st.w.training.end;
      const dataEntryEnd = st.w.dataEntry.end;
      Object.assign(st.w, windows);
      st.moved++;
      const base = {
        actor: move.actor,
        reason: move.reason,
        phase: move.phase,
        action: move.action,
      };
      if (st.w.training.end !== trainingEnd)
        await tell(openOfKind('training'), { kind: 'redate', due: st.w.training.end, ...base });
      if (st.w.dataEntry.end !== dataEntryEnd)
        await tell(openOfKind('questionnaire', 'contribution'), {
          kind: 'redate',
          due: st.w.dataEntry.end,
          ...base,
        });
    },
  );
  signals.onConfirmed(
    campaignCancelledSignal,
    () => campaignId,
    (c) => {
      st.cancelled ??= c;
      st.moved++;
    },
  );
  setHandler(indicatorStatusQuery, () => ({
    code: plan.code,
    phase: st.phase,
    state: st.state,
    flagged: st.flagged,
    tasks: [...st.tasks.keys()],
    openTasks: openTasks(),
    result: st.result,
  }));

  // Handled requests are remembered per action (patched: executions from before share one set).
  st.handled = new ActionRequests(patched('requests-per-action'));

  /** The evaluator's acts: by the evaluator's people, and none once the campaign was cancelled. */
  const evaluatorWhileRunning = (actor: string) => {
    requireEvaluator(roster, actor);
    if (st.cancelled)
      refuse(
        `the campaign was cancelled: ${st.cancelled.reason}`,
        `本次考核已撤销：${st.cancelled.reason}`,
      );
  };

  registerAction(requestEvidenceUpdate, st.handled, {
    name: 'requestEvidence',
    fenced: true,
    check: (req) => {
      evaluatorWhileRunning(req.actor);
      if (st.stage !== 'verification')
        refuse(
          `evidence can be requested during verification; ${plan.code} is in ${st.stage}`,
          `印证资料在“信息核验”阶段调取；指标 ${plan.code} 现处于“${PHASE_ZH[st.stage]}”`,
        );
      const unit = roster.units.find((u) => u.id === req.unit);
      if (!unit) refuse(`unknown unit "${req.unit}"`, `本次考核没有单位“${req.unit}”`);
      if (unit!.kind !== 'department' && unit!.kind !== 'bureau')
        refuse(
          `unit "${req.unit}" is a ${unit!.kind} unit; ask a department`,
          `“${unit!.name}”不是职能部门：请向部门调取`,
        );
      if (!workerOf(req.unit))
        refuse(
          `unit "${req.unit}" has nobody to assign the request to`,
          `“${req.unit}”没有可承办的人员`,
        );
      if (!req.what?.trim()) refuse('say what evidence is requested', '请写明调取哪些印证资料');
    },
    apply: async (req, claim) => {
      const due = addDelay(Date.now(), input.evidenceDue, calendar);
      const assignee = workerOf(req.unit)!;
      const taskId = await startTask({
        kind: 'evidence',
        unitId: req.unit,
        assignee,
        key: String(++st.evidenceSeq),
        title: `${plan.name} 印证资料：${req.what}`,
        due,
        review: false,
        completion: { evidence: true },
        instructions: `第三方评价机构（${req.actor}）要求提供：${req.what}`,
      });
      const r = { taskId, due };
      claim(r);
      await project();
      return r;
    },
  });

  registerAction(verifyUpdate, st.handled, {
    name: 'verify',
    fenced: true,
    check: (req) => {
      evaluatorWhileRunning(req.actor);
      if (st.stage !== 'verification' && st.stage !== 'reporting')
        refuse(
          `items are verified during verification; ${plan.code} is in ${st.stage}`,
          `核验在“信息核验”阶段进行；指标 ${plan.code} 现处于“${PHASE_ZH[st.stage]}”`,
        );
      if (!req.item?.trim()) refuse('say which item was verified', '请写明核验的是哪一项');
      if (req.outcome !== 'confirmed' && req.outcome !== 'discrepant')
        refuse(
          'the outcome is confirmed or discrepant',
          '核验结果只能是 confirmed（一致）或 discrepant（有差异）',
        );
    },
    apply: async (req, claim) => {
      const seq = ++st.verifySeq;
      const discrepant = req.outcome === 'discrepant';
      if (discrepant) {
        st.flagged = true;
        st.state = 'flagged';
      }
      const recipients = discrepant
        ? resolveRecipients(roster, ['bureau', 'leadership'], {
            unitId: plan.leadUnit,
            assignee: '',
          })
        : [];
      await recordVerification({
        campaignId: shared.campaignId,
        code: plan.code,
        seq,
        item: req.item,
        outcome: req.outcome,
        note: req.note ?? null,
        actor: req.actor,
        at: Date.now(),
        notice: discrepant
          ? {
              noticeId: `${shared.campaignId}#${plan.code}#verify#${seq}`,
              campaignId: shared.campaignId,
              taskId: null,
              kind: 'data-integrity',
              recipients,
              title: `【数据核验差异】${plan.name}：${req.item}`,
              body: [
                `第三方评价机构 ${req.actor} 核验发现差异：${req.item}`,
                req.note ? `说明：${req.note}` : '',
                `牵头单位：${plan.leadUnit}`,
              ]
                .filter(Boolean)
                .join('\n'),
              channels: shared.channels,
            }
          : null,
      });
      const r = verifyResult(req.item, req.outcome);
      claim(r);
      await project();
      return r;
    },
  });
  const verifyResult = (item: string, outcome: 'confirmed' | 'discrepant') => ({
    indicator: plan.code,
    item,
    outcome,
    flagged: st.flagged,
  });

  st.rectification = null;
  st.rectificationClosed = false;
  signals.onConfirmed(
    rectificationClosedSignal,
    () => rectificationWorkflowId(shared.campaignId, plan.code),
    () => {
      st.rectificationClosed = true;
    },
  );

  const beginRectification = async (reason: string, actor: string | null) => {
    const settings = input.rectification!;
    st.rectification = { reason, actor };
    const leadPerson = workerOf(plan.leadUnit)!;
    const rInput: RectificationInput = {
      campaignId: shared.campaignId,
      code: plan.code,
      name: plan.name,
      leadUnit: plan.leadUnit,
      leadPerson,
      reason,
      startedBy: actor,
      shared,
      stepDue: settings.stepDue,
      progressEvery: settings.progressEvery,
      workdayEnd: settings.workdayEnd,
      indicatorWorkflowId: workflowInfo().workflowId,
      ...(settings.continueAsNewAfter !== undefined
        ? { continueAsNewAfter: settings.continueAsNewAfter }
        : {}),
    };
    await startChild('rectificationWorkflow', {
      ...rectificationStartOptions(rInput, false),
      args: [rInput],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
    st.phase = 'rectification';
    st.state = 'in-progress';
    await project();
  };

  registerAction(startRectificationUpdate, st.handled, {
    name: 'startRectification',
    fenced: true,
    check: (req) => {
      requireBureauLead(roster, req.actor, BUREAU_ACTS.rectify);
      if (!req.reason?.trim())
        refuse('starting a rectification by hand needs a reason', '发起整改需要写明原因');
      if (st.cancelled)
        refuse(
          `the campaign was cancelled: ${st.cancelled.reason}`,
          `本次考核已撤销：${st.cancelled.reason}`,
        );
      if (!input.rectification)
        refuse(
          'this indicator was started before the rectification loop existed',
          '该指标启动时尚无整改流程，不能在此发起整改',
        );
      if (st.rectification !== null)
        refuse(
          `the rectification of ${plan.code} is already under way`,
          `指标 ${plan.code} 的整改已在进行中`,
        );
      if (st.stage === 'scheduled' || st.stage === 'training' || st.stage === 'dataEntry') {
        refuse(
          `${plan.code} is in ${st.stage}: rectification follows verification`,
          `指标 ${plan.code} 现处于“${PHASE_ZH[st.stage]}”：整改在信息核验之后进行`,
        );
      }
    },
    apply: async (req, claim) => {
      await beginRectification(req.reason, req.actor);
      const r = { workflowId: rectificationWorkflowId(shared.campaignId, plan.code) };
      claim(r);
      return r;
    },
  });

  /**
   * Waits until `done()` holds or the instant `by()` passes (re-read whenever the windows move);
   * true when `done()` holds. A cancelled campaign stops the lifecycle at its next wait.
   */
  const waitFor = async (
    done: () => boolean,
    by: () => Instant = () => Infinity,
    opts: { timerFirst?: boolean } = {},
  ) => {
    // `timerFirst` keeps the shape of the waits written before the windows could move (a
    // condition with a timeout of at least 1 ms, checked by the condition itself), so that
    // their histories replay unchanged.
    let first = opts.timerFirst ?? false;
    for (;;) {
      if (st.cancelled) throw new Stopped();
      const ms = by() - Date.now();
      if (!first) {
        if (done()) return true;
        if (ms <= 0) return false;
      }
      first = false;
      const seen = st.moved;
      const wake = () => done() || st.moved !== seen;
      if (ms === Infinity) await condition(wake);
      else if (!(await condition(wake, Math.max(1, ms)))) return done();
    }
  };
  const until = async (at: () => Instant) => {
    await waitFor(() => false, at);
  };
  const enter = async (p: IndicatorPhase, s: IndicatorState) => {
    st.stage = p;
    // A rectification started by hand keeps the board on rectification while the lifecycle
    // goes on underneath (evidence and verification still follow the stage).
    if (st.rectification === null) {
      st.phase = p;
      if (st.state !== 'flagged') st.state = s;
    }
    await project();
  };

  await project();

  // 前期培训: the team leader and every filler attend, due at the end of the training window.
  const lifecycle = async () => {
    await until(() => st.w.training.start);
    await enter('training', 'in-progress');
    const trainees = [...new Set([plan.teamLeader, ...plan.fillers])].flatMap(
      (id) => personOf(id) ?? [],
    );
    st.trainingTasks.push(
      ...(await Promise.all(
        trainees.map((p) =>
          startTask({
            kind: 'training',
            unitId: p.unitId,
            assignee: p.id,
            key: p.id,
            title: `${plan.name} 填报培训（${p.name}）`,
            due: st.w.training.end,
            review: false,
            instructions: plan.guide ? `学习填报指引：${plan.guide}` : undefined,
          }),
        ),
      )),
    );
    await waitFor(
      () => st.trainingTasks.every((t) => st.outcomes.has(t)),
      () => st.w.training.end,
      { timerFirst: true },
    );

    // 数据填报: on the indicator's day, the lead unit's questionnaire (reviewed by the bureau)
    // and each cooperating unit's contribution.
    await until(() => st.w.dataEntry.start);
    await enter('dataEntry', 'in-progress');
    const contributions = plan.cooperatingUnits.flatMap((unitId) => {
      const assignee = workerOf(unitId);
      return assignee ? [{ unitId, assignee }] : [];
    });
    const [qTask] = await Promise.all([
      startTask({
        kind: 'questionnaire',
        unitId: plan.leadUnit,
        assignee: workerOf(plan.leadUnit)!,
        title: `${plan.name} 问卷填报`,
        due: st.w.dataEntry.end,
        review: true,
        // The definition's evidence list (应提供：…) makes evidence required (patched: tasks started before keep theirs).
        completion: {
          fields: plan.fields,
          evidence: requiresEvidence(plan.evidence) && patched('questionnaire-evidence'),
        },
        instructions: plan.guide ? `按《填报指引》填报：${plan.guide}` : undefined,
      }),
      ...contributions.map((c) =>
        startTask({
          kind: 'contribution',
          unitId: c.unitId,
          assignee: c.assignee,
          title: `${plan.name} 配合填报（${c.unitId}）`,
          due: st.w.dataEntry.end,
          review: false,
          completion: { note: true },
        }),
      ),
    ]);
    st.questionnaireTask = qTask;

    const captureQuestionnaire = async () => {
      const o = st.questionnaireTask ? st.outcomes.get(st.questionnaireTask) : undefined;
      if (o?.state === 'done' && !st.questionnaire) {
        st.questionnaire = o.submission?.data ?? {};
        if (st.state !== 'flagged' && st.rectification === null) st.state = 'done';
        await project();
      }
    };
    const questionnaireDone = () => st.outcomes.has(qTask);
    await waitFor(questionnaireDone, () => st.w.verification.start, { timerFirst: true });
    await captureQuestionnaire();

    // 信息核验: evidence requests and verified items arrive as updates (above). A questionnaire
    // still open keeps running and escalating; it is captured when it is done.
    await until(() => st.w.verification.start);
    await enter('verification', st.questionnaire ? 'done' : 'in-progress');
    if (!st.questionnaire) {
      await waitFor(questionnaireDone, () => st.w.reporting.start, { timerFirst: true });
      await captureQuestionnaire();
    }

    // 编制报告: wait for the evaluation's results from the campaign.
    await until(() => st.w.reporting.start);
    await enter('reporting', st.questionnaire ? (st.flagged ? 'flagged' : 'done') : 'in-progress');
    await waitFor(() => st.result !== null || st.rectification !== null);
    await captureQuestionnaire();
    if (patched('rectification-loop') && input.rectification) {
      // A weak result starts the rectification loop (unless the bureau already started it by
      // hand); the indicator closes when the loop has closed and the results are in.
      const r = st.result as IndicatorResult | null;
      if (r?.rectify && st.rectification === null) await beginRectification(r.rectify, null);
      if (st.rectification !== null) await waitFor(() => st.rectificationClosed);
      await waitFor(() => st.result !== null);
    } else {
      const r = st.result as IndicatorResult | null;
      if (r?.rectify) {
        // Executions from before the rectification loop: marked, waiting on the board.
        st.phase = 'rectification';
        st.state = 'awaiting-rectification';
        await project();
        await waitFor(() => false);
      }
    }
  };

  try {
    await lifecycle();
    st.phase = 'closed';
    st.state = 'closed';
  } catch (e) {
    if (!(e instanceof Stopped)) throw e;
    // The campaign was cancelled: every open task and a rectification under way end with the
    // bureau's reason; the indicator closes as cancelled.
    const c = st.cancelled!;
    await tell(openTasks(), { kind: 'cancel', actor: c.actor, reason: c.reason });
    if (st.rectification !== null && !st.rectificationClosed) {
      try {
        await getExternalWorkflowHandle(
          rectificationWorkflowId(shared.campaignId, plan.code),
        ).signal(
          cancelRectificationSignal,
          signals.note(
            cancelRectificationSignal,
            rectificationWorkflowId(shared.campaignId, plan.code),
            c,
          ),
        );
      } catch {
        // Already closed.
      }
    }
    st.phase = 'closed';
    st.state = 'cancelled';
  }
  await project();
  await condition(allHandlersFinished);
  await projections?.drained();
  try {
    await getExternalWorkflowHandle(input.campaignWorkflowId).signal(
      indicatorClosedSignal,
      signals.note(indicatorClosedSignal, input.campaignWorkflowId, { code: plan.code }),
    );
  } catch {
    // The campaign has already closed.
  }
  return { code: plan.code, result: st.result };
}
