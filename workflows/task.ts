// The supervised task (督办事项) as a workflow. Timers chase the work: reminders before the due
// instant, an escalation ladder after it, colour changes for the board. People act through
// updates whose validators refuse what the rules forbid before it touches the history. An
// action is accepted, applied and answered in one workflow task; its events are projected to
// PostgreSQL (and their notices into the outbox) by one ordinary activity scheduled in that same
// task (workflows/lib/projections.ts). Executions that began before (patched
// 'one-task-action') keep their fence and their local activity per event.
import {
  ApplicationFailure,
  condition,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  allHandlersFinished,
  getExternalWorkflowHandle,
  patched,
  proxyActivities,
  log,
} from '@temporalio/workflow';
import { ActionRequests } from './lib/requests.ts';
import { refusable, registerAction } from './lib/actions.ts';
import { Projections } from './lib/projections.ts';
import type { SearchAttributeUpdatePair, UpdateDefinition } from '@temporalio/common';
import type { createActivities } from '../activities/index.ts';
import { BusinessCalendar } from '../domain/calendar.ts';
import {
  addDelay,
  colourAt,
  escalationInstants,
  reminderInstants,
  type Colour,
} from '../domain/schedule.ts';
import { refusalFailureOptions } from '../domain/refusal.ts';
import { unparentedTaskRefusal } from '../domain/task-start.ts';
import { SA } from '../domain/search-attributes.ts';
import { Signals } from './lib/signals.ts';
import {
  checkRequest,
  enteredBy,
  extensionApproversOf,
  resolveRecipients,
  reviewersOf,
  type ActionResult,
  type Submission,
  type TaskAction,
  type TaskControl,
  type TaskEventRecord,
  type TaskFacts,
  type TaskInput,
  type TaskOutcome,
  type TaskState,
  type TaskView,
} from '../domain/task.ts';
import {
  approveUpdate,
  cancelUpdate,
  extendUpdate,
  reassignUpdate,
  requirementsQuery,
  returnUpdate,
  submitUpdate,
  taskControlSignal,
  taskFinishedSignal,
  taskViewQuery,
} from '../domain/messages.ts';
import type { Recipient } from '../domain/definition.ts';
import { describeTask } from '../domain/task-text.ts';
import { parseDurationMs, type Instant } from '../domain/time.ts';

const { projectTaskEvent } = proxyLocalActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', backoffCoefficient: 2 },
});
// The one-task path's projection: an ordinary activity, scheduled in the workflow task that
// changed the state. The database's refusals for good come back as non-retryable failures.
const { projectTaskEvents } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '500 milliseconds',
    maximumInterval: '1 minute',
    backoffCoefficient: 2,
  },
});

type Timer =
  | { kind: 'reminder'; at: Instant; offset: string }
  | {
      kind: 'escalation';
      at: Instant;
      level: number;
      notify: Recipient[];
      label?: string | undefined;
    }
  | { kind: 'colour'; at: Instant };

/** The action updates, all refused alike by a task that refuses to run. */
const ACTION_UPDATES = [
  submitUpdate,
  approveUpdate,
  returnUpdate,
  extendUpdate,
  reassignUpdate,
  cancelUpdate,
] as unknown as UpdateDefinition<ActionResult, [unknown]>[];

/**
 * A task that was not started by a workflow of its campaign (domain/task-start.ts
 * `unparentedTaskRefusal`) ends at once, failed with the refusal: it records nothing, projects
 * nothing to PostgreSQL and notifies nobody; an action sent with its start is refused with the
 * same reason, and the UI shows the reason as its current details.
 */
function refuseToRun(reason: { en: string; zh: string }): never {
  log.warn('task workflow refused', { reason: reason.en });
  const failure = () => ApplicationFailure.create(refusalFailureOptions(reason));
  for (const def of ACTION_UPDATES) {
    setHandler(
      def,
      (_req: unknown): ActionResult => {
        throw failure();
      },
      {
        validator: (_req: unknown) => {
          throw failure();
        },
      },
    );
  }
  upsertSearchAttributes([{ key: SA.state, value: 'refused' }]);
  setCurrentDetails(`${reason.zh}\n\n${reason.en}`);
  throw failure();
}

/**
 * Everything a task workflow changes as it runs, in one place: its action handlers read, claim
 * and change it here (state, assignee, due instant and chase, submissions, requests handled).
 */
class TaskRun {
  state: TaskState = 'open';
  assignee: string;
  due: number;
  /** When the current due instant was set: reminders before it are not sent late. */
  dueSetAt: number;
  createdRecorded = false;
  /** Bumped when the due instant changes, so reminders and escalations re-arm. */
  dueGeneration = 0;
  escalationLevel = 0;
  extensionsUsed = 0;
  pendingExtension: TaskView['pendingExtension'] = null;
  lastSubmission: Submission | null = null;
  lastReturnReason: string | null = null;
  completedAt: Instant | null = null;
  onTime: boolean | null = null;
  /** Whether any submission came after the due time then in force. */
  wasLate = false;
  seq = 0;
  version = 0;
  fired = new Set<string>();
  requests = new ActionRequests(true);
  lastSA = new Map<string, unknown>();
  controls: TaskControl[] = [];
  /** Events recorded and not yet handed to a projection. */
  unprojected: TaskEventRecord[] = [];

  constructor(input: TaskInput, createdAt: number) {
    this.assignee = input.assignee;
    this.due = input.due;
    this.dueSetAt = createdAt;
  }
}

export async function taskWorkflow(input: TaskInput): Promise<TaskOutcome> {
  // Only a workflow of the task's own campaign may start it; a task started by anyone else
  // (a client with a roster, policy and channels of its choosing) is refused before it records
  // anything (patched: executions from before ran whoever started them).
  const refusal = unparentedTaskRefusal(input, workflowInfo().parent?.workflowId ?? null);
  if (refusal && patched('refuse-unparented')) refuseToRun(refusal);
  // One workflow task per action (patched: executions from before fence each action behind an
  // empty activity and project every event by a local activity).
  const oneTask = patched('one-task-action');

  const calendar = new BusinessCalendar(input.calendar);
  const warningMs = parseDurationMs(input.policy.warningWindow) ?? 0;
  const createdAt = Date.now();
  const signals = new Signals();
  const st = new TaskRun(input, createdAt);

  const terminal = () => st.state === 'done' || st.state === 'cancelled';
  const chasing = () => st.state === 'open' || st.state === 'returned';
  const colour = (): Colour =>
    terminal() || st.state === 'submitted' ? 'green' : colourAt(Date.now(), st.due, warningMs);

  const view = (): TaskView => ({
    taskId: input.taskId,
    campaignId: input.campaignId,
    indicator: input.indicator,
    kind: input.kind,
    title: input.title,
    unitId: input.unitId,
    assignee: st.assignee,
    reviewer: input.review ? (reviewersOf(input.roster, input.unitId)[0] ?? null) : null,
    state: st.state,
    due: st.due,
    colour: colour(),
    escalationLevel: st.escalationLevel,
    extensionsUsed: st.extensionsUsed,
    pendingExtension: st.pendingExtension,
    lastSubmission: st.lastSubmission,
    lastReturnReason: st.lastReturnReason,
    completedAt: st.completedAt,
    onTime: st.onTime,
    eventCount: st.seq,
  });

  const facts = (): TaskFacts => ({
    unitId: input.unitId,
    assignee: st.assignee,
    state: st.state,
    review: input.review,
    due: st.due,
    extensionsUsed: st.extensionsUsed,
    policy: input.policy,
    completion: input.completion,
  });

  const projections = oneTask ? new Projections(() => publish()) : null;

  /** Search attributes and current details: what an auditor sees in the Temporal UI. */
  const publish = () => {
    const wanted: [string, SearchAttributeUpdatePair][] = [
      ['state', { key: SA.state, value: st.state }],
      ['assignee', { key: SA.assignee, value: st.assignee }],
      ['colour', { key: SA.colour, value: colour() }],
      ['level', { key: SA.escalationLevel, value: st.escalationLevel }],
      ['due', { key: SA.due, value: new Date(st.due) }],
    ];
    const changed = wanted.filter(([k, pair]) => {
      const v = pair.value instanceof Date ? pair.value.getTime() : pair.value;
      if (st.lastSA.get(k) === v) return false;
      st.lastSA.set(k, v);
      return true;
    });
    if (changed.length) upsertSearchAttributes(changed.map(([, pair]) => pair));
    const stuck = projections?.stuck() ?? [];
    setCurrentDetails(
      describeTask(view(), input.calendar.timeZone) +
        (stuck.length
          ? `\n\n⚠ 数据库拒收了 ${stuck.length} 项记录（${stuck[0]!.message}）：排除原因后运行 campaign doctor --retry。`
          : ''),
    );
  };

  const projectionStatic = {
    review: input.review,
    warningMs,
    createdAt,
    workflowId: workflowInfo().workflowId,
    timeZone: input.calendar.timeZone,
  };

  /** Records an event of the task's history; `project` hands it to PostgreSQL. */
  const record = (
    type: TaskEventRecord['type'],
    actor: string | null,
    detail: Record<string, unknown>,
    recipients: string[],
  ) => {
    st.unprojected.push({ seq: ++st.seq, at: Date.now(), type, actor, detail, recipients });
  };

  /**
   * Hands the recorded events to PostgreSQL. On the one-task path: one ordinary activity for
   * all of them, scheduled now and not awaited. Before it: one local activity per event, each
   * awaited, with the search attributes published before each.
   */
  const project = async (): Promise<void> => {
    if (projections) {
      const events = st.unprojected.splice(0);
      publish();
      if (!events.length) return;
      const task = view();
      const what = `事项记录 ${events.map((e) => `${e.seq}（${e.type}）`).join('、')}`;
      projections.run(what, () =>
        projectTaskEvents({ task, static: projectionStatic, events, channels: input.channels }),
      );
      return;
    }
    for (let e = st.unprojected.shift(); e; e = st.unprojected.shift()) {
      publish();
      await projectTaskEvent({
        task: view(),
        static: projectionStatic,
        event: e,
        channels: input.channels,
      });
    }
  };

  const recordCreated = () => {
    record('created', null, { due: st.due, title: input.title, review: input.review }, [
      st.assignee,
    ]);
    // Projected already by the parent, with its sibling tasks in one activity.
    if (oneTask && input.createdProjected) st.unprojected.pop();
    st.createdRecorded = true;
  };

  const resetChase = () => {
    st.dueGeneration++;
    st.dueSetAt = Date.now();
    st.escalationLevel = 0;
  };

  // ---- timers ----
  const pendingTimers = (): Timer[] => {
    if (!chasing()) return [];
    const now = Date.now();
    const timers: Timer[] = [];
    for (const r of reminderInstants(st.due, input.policy.reminders, st.dueSetAt)) {
      if (!st.fired.has(`${st.dueGeneration}:r:${r.offset}`))
        timers.push({ kind: 'reminder', at: r.at, offset: r.offset });
    }
    for (const e of escalationInstants(st.due, input.policy.escalation, calendar)) {
      if (e.level > st.escalationLevel)
        timers.push({
          kind: 'escalation',
          at: e.at,
          level: e.level,
          notify: e.notify,
          label: e.label,
        });
    }
    for (const at of [st.due - warningMs, st.due])
      if (at > now) timers.push({ kind: 'colour', at });
    return timers.sort((a, b) => a.at - b.at);
  };

  const fire = async (timer: Timer, skipped?: string[]) => {
    if (timer.kind === 'colour') return publish();
    const caughtUp = skipped?.length ? { skipped } : {};
    if (timer.kind === 'reminder') {
      st.fired.add(`${st.dueGeneration}:r:${timer.offset}`);
      // A reminder whose moment passed long ago (e.g. after a worker outage) is still sent once.
      record('reminded', null, { offset: timer.offset, due: st.due, ...caughtUp }, [st.assignee]);
      return project();
    }
    st.escalationLevel = timer.level;
    record(
      'escalated',
      null,
      {
        level: timer.level,
        label: timer.label ?? null,
        notify: timer.notify,
        due: st.due,
        ...caughtUp,
      },
      who(timer.notify),
    );
    return project();
  };

  /**
   * Several reminders or escalation steps overdue at once (after an outage of every worker, or
   * a task created with its ladder already past): only the latest is sent, and the event names
   * the ones skipped, so that people get one notice, not a flood.
   */
  const catchUp = async (overdue: Timer[]) => {
    const latest = overdue[overdue.length - 1]!;
    const skipped: string[] = [];
    for (const t of overdue.slice(0, -1)) {
      if (t.kind === 'reminder') {
        st.fired.add(`${st.dueGeneration}:r:${t.offset}`);
        skipped.push(`reminder ${t.offset}`);
      } else if (t.kind === 'escalation') skipped.push(`escalation ${t.level}`);
    }
    await fire(latest, skipped);
  };

  // ---- actions ----
  /**
   * Registers an action: its rules (domain/task.ts checkRequest) refuse in the validator; the
   * handler changes the state (`change`, synchronous), records its events and answers with the
   * task as it now stands, its projection scheduled in the same workflow task. Executions from
   * before wait for their creation, fence, and await their projections.
   */
  function action<Req extends { requestId: string; actor: string }>(
    def: UpdateDefinition<ActionResult, [Req]>,
    name: TaskAction,
    change: (req: Req, effect: { extension?: 'granted' | 'requested' }) => void,
  ) {
    const check = (req: Req) =>
      refusable(() => checkRequest(name, req, facts(), input.roster, Date.now()));
    const answer = (effect: { extension?: 'granted' | 'requested' }): ActionResult => ({
      taskId: input.taskId,
      state: st.state,
      due: st.due,
      assignee: st.assignee,
      ...(effect.extension ? { extension: effect.extension } : {}),
      ...(oneTask ? { version: st.seq, view: view() } : {}),
    });
    if (oneTask) {
      registerAction(def, st.requests, {
        name,
        check,
        apply: (req) => {
          // An action that arrives with the start may run before the life below has begun:
          // the creation is recorded first, so the audit trail reads created → submitted.
          if (!st.createdRecorded) recordCreated();
          const effect = check(req);
          st.version++;
          change(req, effect);
          void project();
          return answer(effect);
        },
      });
      return;
    }
    registerAction(def, st.requests, {
      name,
      check,
      fenced: true,
      // An action that arrives with the start (in the first workflow task) waits until the
      // task has recorded its creation (patched: executions from before kept their order).
      settle: () =>
        !st.createdRecorded && patched('created-first')
          ? condition(() => st.createdRecorded)
          : undefined,
      apply: async (req) => {
        const effect = check(req);
        st.version++;
        change(req, effect);
        await project();
        return answer(effect);
      },
    });
  }
  const who = (recipients: Recipient[]) =>
    resolveRecipients(input.roster, recipients, { unitId: input.unitId, assignee: st.assignee });

  action(submitUpdate, 'submit', (req) => {
    const now = Date.now();
    st.lastSubmission = {
      at: now,
      by: req.actor,
      note: req.note,
      data: req.data,
      evidence: req.evidence ?? [],
    };
    const submittedOnTime = now <= st.due;
    if (!submittedOnTime) st.wasLate = true;
    // A submission answers any pending request for more time.
    st.pendingExtension = null;
    const detail = {
      ...enteredBy(req),
      note: req.note ?? null,
      data: req.data ?? null,
      evidence: req.evidence ?? [],
      onTime: submittedOnTime,
    };
    if (input.review) {
      st.state = 'submitted';
      record('submitted', req.actor, detail, reviewersOf(input.roster, input.unitId));
      return;
    }
    st.state = 'done';
    st.completedAt = now;
    st.onTime = submittedOnTime;
    record('submitted', req.actor, detail, []);
    record('done', null, { onTime: st.onTime }, [st.assignee]);
  });

  action(approveUpdate, 'approve', (req) => {
    st.state = 'done';
    st.completedAt = Date.now();
    st.onTime = st.lastSubmission !== null && st.lastSubmission.at <= st.due;
    // Work first handed in late stays late, even when a return moved the due time and the
    // resubmission met it (patched: executions before this rule keep their old verdict).
    if (patched('late-stays-late') && st.wasLate) st.onTime = false;
    record(
      'approved',
      req.actor,
      { ...enteredBy(req), note: req.note ?? null, onTime: st.onTime },
      [st.assignee],
    );
  });

  action(returnUpdate, 'return', (req) => {
    st.state = 'returned';
    st.lastReturnReason = req.reason;
    st.due = Math.max(st.due, addDelay(Date.now(), input.policy.returnDue, calendar));
    resetChase();
    record('returned', req.actor, { ...enteredBy(req), reason: req.reason, due: st.due }, [
      st.assignee,
    ]);
  });

  action(extendUpdate, 'extend', (req, effect) => {
    if (effect.extension === 'requested') {
      st.pendingExtension = { until: req.until, reason: req.reason, by: req.actor };
      record(
        'extension-requested',
        req.actor,
        { ...enteredBy(req), until: req.until, reason: req.reason },
        extensionApproversOf(input.roster, input.policy.extensionApprovers, input.unitId),
      );
      return;
    }
    const from = st.due;
    st.due = req.until;
    st.extensionsUsed++;
    st.pendingExtension = null;
    resetChase();
    record(
      'extended',
      req.actor,
      { ...enteredBy(req), from, until: req.until, reason: req.reason },
      [st.assignee],
    );
  });

  action(reassignUpdate, 'reassign', (req) => {
    const from = st.assignee;
    st.assignee = req.to;
    record('reassigned', req.actor, { ...enteredBy(req), from, to: req.to }, [req.to, from]);
  });

  action(cancelUpdate, 'cancel', (req) => {
    st.state = 'cancelled';
    st.pendingExtension = null;
    st.completedAt = Date.now();
    record('cancelled', req.actor, { ...enteredBy(req), reason: req.reason }, [st.assignee]);
  });

  // The parent tells the task that the bureau moved its phase or cancelled the campaign; the
  // life loop applies it in order with the timers and records it with the bureau's person.
  // Only the task's parent can send it, and it is applied only once the parent confirms it.
  signals.onConfirmed(
    taskControlSignal,
    () => workflowInfo().parent?.workflowId ?? null,
    (c) => {
      st.controls.push(c);
      st.version++;
    },
  );
  const applyControl = async (c: TaskControl) => {
    if (terminal()) return;
    if (c.kind === 'cancel') {
      st.state = 'cancelled';
      st.pendingExtension = null;
      st.completedAt = Date.now();
      record('cancelled', c.actor, { reason: c.reason, campaign: true }, [st.assignee]);
      return project();
    }
    if (c.due === st.due) return;
    const from = st.due;
    st.due = c.due;
    resetChase();
    record(
      'redated',
      c.actor,
      { from, until: c.due, reason: c.reason, phase: c.phase, action: c.action },
      [st.assignee],
    );
    return project();
  };

  setHandler(taskViewQuery, view);
  setHandler(requirementsQuery, () => input.completion);

  // ---- life ----
  if (!st.createdRecorded) recordCreated();
  await project();

  while (!terminal()) {
    const control = st.controls.shift();
    if (control) {
      await applyControl(control);
      continue;
    }
    const seen = st.version;
    const next = pendingTimers()[0];
    if (!next) {
      await condition(() => st.version !== seen || terminal());
    } else if (next.at <= Date.now()) {
      // Overdue timers (e.g. after an outage of every worker) fire at once: the latest of them
      // only (patched: executions from before fired each in order).
      const overdue = pendingTimers().filter((t) => t.kind !== 'colour' && t.at <= Date.now());
      if (overdue.length > 1 && patched('catch-up-latest')) await catchUp(overdue);
      else await fire(next);
    } else if (!(await condition(() => st.version !== seen || terminal(), next.at - Date.now()))) {
      await fire(next);
    }
  }
  publish();
  await condition(allHandlersFinished);
  // Everything the task did is in PostgreSQL before it tells its parent and ends.
  await projections?.drained();
  const outcome: TaskOutcome = {
    taskId: input.taskId,
    state: st.state as 'done' | 'cancelled',
    completedAt: st.completedAt ?? Date.now(),
    onTime: st.onTime ?? false,
    escalationLevel: st.escalationLevel,
    submission: st.lastSubmission,
  };
  const parent = workflowInfo().parent;
  if (parent) {
    // The parent may have continued as new since it started this task: signal its current run.
    try {
      await getExternalWorkflowHandle(parent.workflowId).signal(
        taskFinishedSignal,
        signals.note(taskFinishedSignal, parent.workflowId, outcome),
      );
    } catch {
      // A parent that has already closed no longer needs the outcome; the result still has it.
    }
  }
  return outcome;
}
