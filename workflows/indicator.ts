// One indicator's lifecycle: training → data entry → verification → reporting →
// (rectification) → closed. Each phase starts supervised tasks as children; their outcomes come
// back by signal. The third-party evaluator's evidence requests and verified items arrive as
// updates during verification; the results arrive from the campaign.
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  getExternalWorkflowHandle,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  ParentClosePolicy,
  upsertSearchAttributes,
  patched,
  workflowInfo,
} from '@temporalio/workflow';
import { setFencedUpdate } from './lib/fence.ts';
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
import { refusalFailureOptions } from '../domain/refusal.ts';
import { SA } from '../domain/search-attributes.ts';
import { ActionRequests } from './lib/requests.ts';
import { refuseUnlessStartedBy } from './lib/parentage.ts';
import { Signals } from './lib/signals.ts';
import { taskStartOptions } from '../domain/task-start.ts';
import {
  resolveRecipients,
  taskIdOf,
  type TaskInput,
  type TaskKind,
  type TaskControl,
  type TaskOutcome,
} from '../domain/task.ts';
import { taskControlSignal, taskFinishedSignal } from '../domain/messages.ts';
import type { Instant } from '../domain/time.ts';

const { projectIndicator, recordVerification } = proxyLocalActivities<
  ReturnType<typeof createActivities>
>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/** Thrown at the lifecycle's next wait once the campaign is cancelled. */
class Stopped extends Error {}

export async function indicatorWorkflow(
  input: IndicatorInput,
): Promise<{ code: string; result: IndicatorResult | null }> {
  const { plan, shared } = input;
  // Only the campaign's own workflow starts an indicator (patched inside).
  refuseUnlessStartedBy({ kind: 'indicator', campaignId: shared.campaignId }, [shared.campaignId]);
  const calendar = new BusinessCalendar(shared.calendar);
  const roster = shared.roster;
  /** What the board shows. */
  let phase: IndicatorPhase = 'scheduled';
  /** Where the lifecycle stands (the same, but during a rectification started by hand). */
  let stage: IndicatorPhase = 'scheduled';
  let state: IndicatorState = 'waiting';
  let flagged = false;
  let result: IndicatorResult | null = null;
  let questionnaire: Record<string, unknown> | null = null;
  let version = 0;
  let evidenceSeq = 0;
  let verifySeq = 0;
  const tasks = new Map<string, TaskKind>();
  const outcomes = new Map<string, TaskOutcome>();
  const trainingTasks: string[] = [];
  let questionnaireTask: string | null = null;
  /** The phase windows now in force: the plan's, until the bureau moves a phase. */
  const w: WindowsMoved['windows'] = {
    training: plan.training,
    dataEntry: plan.dataEntry,
    verification: plan.verification,
    reporting: plan.reporting,
  };
  /** Bumped when the windows move or the campaign is cancelled, so that every wait re-plans. */
  let moved = 0;
  let cancelled: CampaignCancelled | null = null;

  const openTasks = () => [...tasks.keys()].filter((id) => !outcomes.has(id));
  const signals = new Signals();
  const campaignId = input.campaignWorkflowId;

  /** The phase and state last written to the search attributes (written again on a change). */
  let upserted: string | null = null;
  const project = async () => {
    version++;
    if (upserted !== `${phase}/${state}` || !patched('upsert-on-change')) {
      upsertSearchAttributes([
        { key: SA.phase, value: phase },
        { key: SA.state, value: state },
      ]);
      upserted = `${phase}/${state}`;
    }
    setCurrentDetails(
      `${plan.name}（${plan.code}）：${PHASE_ZH[phase]}，${state}；牵头单位 ${plan.leadUnit}；` +
        `事项 ${tasks.size} 项，未完成 ${openTasks().length} 项` +
        (flagged ? '；存在数据核验差异，已报审批局和县领导' : '') +
        (result
          ? `；得分 ${result.score}，排名 ${result.rank}${result.rectify ? `，需整改（${result.rectify}）` : ''}`
          : '') +
        '。',
    );
    await projectIndicator({
      campaignId: shared.campaignId,
      code: plan.code,
      phase,
      state,
      flagged,
      score: result?.score ?? null,
      rank: result?.rank ?? null,
      rectificationReason: result?.rectify ?? null,
      questionnaire,
      version,
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
    if (cancelled) throw new Stopped();
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
    tasks.set(input.taskId, t.kind);
    await startChild('taskWorkflow', {
      ...taskStartOptions(input),
      args: [input],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
    return input.taskId;
  };

  // Signals apply only once their one possible sender confirms them (workflows/lib/signals.ts):
  // a task of this indicator, or the campaign.
  signals.onConfirmed(
    taskFinishedSignal,
    (o) => (tasks.has(o.taskId) && !outcomes.has(o.taskId) ? o.taskId : null),
    (o) => {
      outcomes.set(o.taskId, o);
    },
  );
  signals.onConfirmed(
    resultsSignal,
    () => campaignId,
    (r) => {
      result = r;
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
    openTasks().filter((id) => kinds.includes(tasks.get(id)!));

  // The bureau moved a phase: the new windows hold from now on, and the open tasks of a phase
  // whose end moved are given the new end as their due instant (their timers re-arm).
  signals.onConfirmed(
    windowsMovedSignal,
    () => campaignId,
    async ({ windows, move }) => {
      const trainingEnd = w.training.end;
      const dataEntryEnd = w.dataEntry.end;
      Object.assign(w, windows);
      moved++;
      const base = {
        actor: move.actor,
        reason: move.reason,
        phase: move.phase,
        action: move.action,
      };
      if (w.training.end !== trainingEnd)
        await tell(openOfKind('training'), { kind: 'redate', due: w.training.end, ...base });
      if (w.dataEntry.end !== dataEntryEnd)
        await tell(openOfKind('questionnaire', 'contribution'), {
          kind: 'redate',
          due: w.dataEntry.end,
          ...base,
        });
    },
  );
  signals.onConfirmed(
    campaignCancelledSignal,
    () => campaignId,
    (c) => {
      cancelled ??= c;
      moved++;
    },
  );
  setHandler(indicatorStatusQuery, () => ({
    code: plan.code,
    phase,
    state,
    flagged,
    tasks: [...tasks.keys()],
    openTasks: openTasks(),
    result,
  }));

  const refuse = (message: string, zh?: string): never => {
    throw ApplicationFailure.create(refusalFailureOptions({ en: message, zh: zh ?? message }));
  };
  const requireEvaluator = (actor: string) => {
    const p = personOf(actor);
    if (!p)
      refuse(
        `unknown person "${actor}": not on the campaign's roster`,
        `查无此人“${actor}”：不在本次考核的人员名单中`,
      );
    const unit = roster.units.find((u) => u.id === p!.unitId);
    if (unit?.kind !== 'evaluator')
      refuse(
        `${actor} is not with the third-party evaluator: only the evaluator may do this`,
        `${actor} 不属于第三方评估机构：只有评估机构人员可以办理`,
      );
  };
  // Handled requests are remembered per action (patched: executions from before share one set).
  const handled = new ActionRequests(patched('requests-per-action'));

  setFencedUpdate(
    requestEvidenceUpdate,
    async (req) => {
      const prior = handled.get('requestEvidence', req.requestId) as
        { taskId: string; due: number } | undefined;
      if (prior) return prior;
      const due = addDelay(Date.now(), input.evidenceDue, calendar);
      const assignee = workerOf(req.unit)!;
      const taskId = await startTask({
        kind: 'evidence',
        unitId: req.unit,
        assignee,
        key: String(++evidenceSeq),
        title: `${plan.name} 印证资料：${req.what}`,
        due,
        review: false,
        completion: { evidence: true },
        instructions: `第三方评价机构（${req.actor}）要求提供：${req.what}`,
      });
      const r = { taskId, due };
      handled.set('requestEvidence', req.requestId, r);
      await project();
      return r;
    },
    {
      validator: (req) => {
        if (handled.has('requestEvidence', req?.requestId)) return;
        if (!req?.requestId) refuse('a request id is required', '缺少请求编号');
        requireEvaluator(req.actor);
        if (cancelled)
          refuse(
            `the campaign was cancelled: ${cancelled.reason}`,
            `本次考核已撤销：${cancelled.reason}`,
          );
        if (stage !== 'verification')
          refuse(
            `evidence can be requested during verification; ${plan.code} is in ${stage}`,
            `印证资料在“信息核验”阶段调取；指标 ${plan.code} 现处于“${PHASE_ZH[stage]}”`,
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
        if (!req.what?.trim())
          refuse('say what evidence is requested (--what)', '请写明调取哪些印证资料（--what）');
      },
    },
  );

  setFencedUpdate(
    verifyUpdate,
    async (req) => {
      const prior = handled.get('verify', req.requestId) as
        ReturnType<typeof verifyResult> | undefined;
      if (prior) return prior;
      const seq = ++verifySeq;
      const discrepant = req.outcome === 'discrepant';
      if (discrepant) {
        flagged = true;
        state = 'flagged';
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
      handled.set('verify', req.requestId, r);
      await project();
      return r;
    },
    {
      validator: (req) => {
        if (handled.has('verify', req?.requestId)) return;
        if (!req?.requestId) refuse('a request id is required', '缺少请求编号');
        requireEvaluator(req.actor);
        if (cancelled)
          refuse(
            `the campaign was cancelled: ${cancelled.reason}`,
            `本次考核已撤销：${cancelled.reason}`,
          );
        if (stage !== 'verification' && stage !== 'reporting')
          refuse(
            `items are verified during verification; ${plan.code} is in ${stage}`,
            `核验在“信息核验”阶段进行；指标 ${plan.code} 现处于“${PHASE_ZH[stage]}”`,
          );
        if (!req.item?.trim())
          refuse('say which item was verified (--item)', '请写明核验的是哪一项（--item）');
        if (req.outcome !== 'confirmed' && req.outcome !== 'discrepant')
          refuse(
            'the outcome is confirmed or discrepant',
            '核验结果只能是 confirmed（一致）或 discrepant（有差异）',
          );
      },
    },
  );
  const verifyResult = (item: string, outcome: 'confirmed' | 'discrepant') => ({
    indicator: plan.code,
    item,
    outcome,
    flagged,
  });

  let rectification: { reason: string; actor: string | null } | null = null;
  let rectificationClosed = false;
  signals.onConfirmed(
    rectificationClosedSignal,
    () => rectificationWorkflowId(shared.campaignId, plan.code),
    () => {
      rectificationClosed = true;
    },
  );

  const beginRectification = async (reason: string, actor: string | null) => {
    const settings = input.rectification!;
    rectification = { reason, actor };
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
      workflowId: rectificationWorkflowId(shared.campaignId, plan.code),
      args: [rInput],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: `整改：${plan.name}（${plan.code}），牵头单位 ${plan.leadUnit}`,
      staticDetails: `原因：${reason}`,
      typedSearchAttributes: [
        { key: SA.campaignId, value: shared.campaignId },
        { key: SA.indicator, value: plan.code },
        { key: SA.unit, value: plan.leadUnit },
        { key: SA.kind, value: 'rectification' },
        { key: SA.phase, value: 'rectification' },
      ],
    });
    phase = 'rectification';
    state = 'in-progress';
    await project();
  };

  setFencedUpdate(
    startRectificationUpdate,
    async (req) => {
      const prior = handled.get('startRectification', req.requestId) as
        { workflowId: string } | undefined;
      if (prior) return prior;
      await beginRectification(req.reason, req.actor);
      const r = { workflowId: rectificationWorkflowId(shared.campaignId, plan.code) };
      handled.set('startRectification', req.requestId, r);
      return r;
    },
    {
      validator: (req) => {
        if (handled.has('startRectification', req?.requestId)) return;
        if (!req?.requestId) refuse('a request id is required', '缺少请求编号');
        const p = personOf(req.actor);
        const unit = roster.units.find((u) => u.id === p?.unitId);
        if (!p || unit?.kind !== 'bureau' || !['coordinator', 'head'].includes(p.role)) {
          refuse(
            `${req.actor} may not start a rectification: the bureau's coordinators and head may`,
            `${req.actor} 无权发起整改：由审批局的协调人和主要负责人发起`,
          );
        }
        if (!req.reason?.trim())
          refuse(
            'starting a rectification by hand needs a reason',
            '发起整改需要写明原因（--reason）',
          );
        if (cancelled)
          refuse(
            `the campaign was cancelled: ${cancelled.reason}`,
            `本次考核已撤销：${cancelled.reason}`,
          );
        if (!input.rectification)
          refuse(
            'this indicator was started before the rectification loop existed',
            '该指标启动时尚无整改流程，不能在此发起整改',
          );
        if (rectification !== null)
          refuse(
            `the rectification of ${plan.code} is already under way`,
            `指标 ${plan.code} 的整改已在进行中`,
          );
        if (stage === 'scheduled' || stage === 'training' || stage === 'dataEntry') {
          refuse(
            `${plan.code} is in ${stage}: rectification follows verification`,
            `指标 ${plan.code} 现处于“${PHASE_ZH[stage]}”：整改在信息核验之后进行`,
          );
        }
      },
    },
  );

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
      if (cancelled) throw new Stopped();
      const ms = by() - Date.now();
      if (!first) {
        if (done()) return true;
        if (ms <= 0) return false;
      }
      first = false;
      const seen = moved;
      const wake = () => done() || moved !== seen;
      if (ms === Infinity) await condition(wake);
      else if (!(await condition(wake, Math.max(1, ms)))) return done();
    }
  };
  const until = async (at: () => Instant) => {
    await waitFor(() => false, at);
  };
  const enter = async (p: IndicatorPhase, s: IndicatorState) => {
    stage = p;
    // A rectification started by hand keeps the board on rectification while the lifecycle
    // goes on underneath (evidence and verification still follow the stage).
    if (rectification === null) {
      phase = p;
      if (state !== 'flagged') state = s;
    }
    await project();
  };

  await project();

  // 前期培训: the team leader and every filler attend, due at the end of the training window.
  const lifecycle = async () => {
    await until(() => w.training.start);
    await enter('training', 'in-progress');
    const trainees = [...new Set([plan.teamLeader, ...plan.fillers])].flatMap(
      (id) => personOf(id) ?? [],
    );
    trainingTasks.push(
      ...(await Promise.all(
        trainees.map((p) =>
          startTask({
            kind: 'training',
            unitId: p.unitId,
            assignee: p.id,
            key: p.id,
            title: `${plan.name} 填报培训（${p.name}）`,
            due: w.training.end,
            review: false,
            instructions: plan.guide ? `学习填报指引：${plan.guide}` : undefined,
          }),
        ),
      )),
    );
    await waitFor(
      () => trainingTasks.every((t) => outcomes.has(t)),
      () => w.training.end,
      { timerFirst: true },
    );

    // 数据填报: on the indicator's day, the lead unit's questionnaire (reviewed by the bureau)
    // and each cooperating unit's contribution.
    await until(() => w.dataEntry.start);
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
        due: w.dataEntry.end,
        review: true,
        completion: { fields: plan.fields },
        instructions: plan.guide ? `按《填报指引》填报：${plan.guide}` : undefined,
      }),
      ...contributions.map((c) =>
        startTask({
          kind: 'contribution',
          unitId: c.unitId,
          assignee: c.assignee,
          title: `${plan.name} 配合填报（${c.unitId}）`,
          due: w.dataEntry.end,
          review: false,
          completion: { note: true },
        }),
      ),
    ]);
    questionnaireTask = qTask;

    const captureQuestionnaire = async () => {
      const o = questionnaireTask ? outcomes.get(questionnaireTask) : undefined;
      if (o?.state === 'done' && !questionnaire) {
        questionnaire = o.submission?.data ?? {};
        if (state !== 'flagged' && rectification === null) state = 'done';
        await project();
      }
    };
    const questionnaireDone = () => outcomes.has(qTask);
    await waitFor(questionnaireDone, () => w.verification.start, { timerFirst: true });
    await captureQuestionnaire();

    // 信息核验: evidence requests and verified items arrive as updates (above). A questionnaire
    // still open keeps running and escalating; it is captured when it is done.
    await until(() => w.verification.start);
    await enter('verification', questionnaire ? 'done' : 'in-progress');
    if (!questionnaire) {
      await waitFor(questionnaireDone, () => w.reporting.start, { timerFirst: true });
      await captureQuestionnaire();
    }

    // 编制报告: wait for the evaluation's results from the campaign.
    await until(() => w.reporting.start);
    await enter('reporting', questionnaire ? (flagged ? 'flagged' : 'done') : 'in-progress');
    await waitFor(() => result !== null || rectification !== null);
    await captureQuestionnaire();
    if (patched('rectification-loop') && input.rectification) {
      // A weak result starts the rectification loop (unless the bureau already started it by
      // hand); the indicator closes when the loop has closed and the results are in.
      const r = result as IndicatorResult | null;
      if (r?.rectify && rectification === null) await beginRectification(r.rectify, null);
      if (rectification !== null) await waitFor(() => rectificationClosed);
      await waitFor(() => result !== null);
    } else {
      const r = result as IndicatorResult | null;
      if (r?.rectify) {
        // Executions from before the rectification loop: marked, waiting on the board.
        phase = 'rectification';
        state = 'awaiting-rectification';
        await project();
        await waitFor(() => false);
      }
    }
  };

  try {
    await lifecycle();
    phase = 'closed';
    state = 'closed';
  } catch (e) {
    if (!(e instanceof Stopped)) throw e;
    // The campaign was cancelled: every open task and a rectification under way end with the
    // bureau's reason; the indicator closes as cancelled.
    const c = cancelled!;
    await tell(openTasks(), { kind: 'cancel', actor: c.actor, reason: c.reason });
    if (rectification !== null && !rectificationClosed) {
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
    phase = 'closed';
    state = 'cancelled';
  }
  await project();
  await condition(allHandlersFinished);
  try {
    await getExternalWorkflowHandle(input.campaignWorkflowId).signal(
      indicatorClosedSignal,
      signals.note(indicatorClosedSignal, input.campaignWorkflowId, { code: plan.code }),
    );
  } catch {
    // The campaign has already closed.
  }
  return { code: plan.code, result };
}
