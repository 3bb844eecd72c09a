// The supervised task (督办事项) as a workflow. Timers chase the work: reminders before the due
// instant, an escalation ladder after it, colour changes for the board. People act through
// updates whose validators refuse what the rules forbid before it touches the history. Every
// event is projected to PostgreSQL (and its notices into the outbox) by a local activity.
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
import { checkShape } from './lib/fence.ts';
import { Signals } from './lib/signals.ts';
import {
  checkRequest,
  enteredBy,
  extensionApproversOf,
  Refusal,
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
const { acknowledgeUpdate } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '10 seconds' },
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

/** Requests remembered for idempotency; older ones are forgotten beyond this many. */
const MAX_REMEMBERED_REQUESTS = 200;

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
  state!: TaskState;
  assignee!: string;
  due!: number;
  /** When the current due instant was set: reminders before it are not sent late. */
  dueSetAt!: number;
  createdRecorded!: boolean;
  /** Bumped when the due instant changes, so reminders and escalations re-arm. */
  dueGeneration!: number;
  escalationLevel!: number;
  extensionsUsed!: number;
  pendingExtension!: TaskView['pendingExtension'];
  lastSubmission!: Submission | null;
  lastReturnReason!: string | null;
  completedAt!: Instant | null;
  onTime!: boolean | null;
  /** Whether any submission came after the due time then in force. */
  wasLate!: boolean;
  seq!: number;
  version!: number;
  fired!: Set<string>;
  processed!: Map<string, ActionResult>;
  lastSA!: Map<string, unknown>;
  controls!: TaskControl[];
}

export async function taskWorkflow(input: TaskInput): Promise<TaskOutcome> {
  const st = new TaskRun();
  // Only a workflow of the task's own campaign may start it; a task started by anyone else
  // (a client with a roster, policy and channels of its choosing) is refused before it records
  // anything (patched: executions from before ran whoever started them).
  const refusal = unparentedTaskRefusal(input, workflowInfo().parent?.workflowId ?? null);
  if (refusal && patched('refuse-unparented')) refuseToRun(refusal);

  const calendar = new BusinessCalendar(input.calendar);
  const warningMs = parseDurationMs(input.policy.warningWindow) ?? 0;
  const createdAt = Date.now();
  const signals = new Signals();

  st.state = 'open';
  st.assignee = input.assignee;
  st.due = input.due;
  st.dueSetAt = createdAt;
  st.createdRecorded = false;
  st.dueGeneration = 0;
  st.escalationLevel = 0;
  st.extensionsUsed = 0;
  st.pendingExtension = null;
  st.lastSubmission = null;
  st.lastReturnReason = null;
  st.completedAt = null;
  st.onTime = null;
  st.wasLate = false;
  st.seq = 0;
  st.version = 0;
  st.fired = new Set<string>();
  st.processed = new Map<string, ActionResult>();
  st.lastSA = new Map<string, unknown>();

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
    setCurrentDetails(describeTask(view(), input.calendar.timeZone));
  };

  const record = async (
    type: TaskEventRecord['type'],
    actor: string | null,
    detail: Record<string, unknown>,
    recipients: string[],
  ) => {
    const event: TaskEventRecord = {
      seq: ++st.seq,
      at: Date.now(),
      type,
      actor,
      detail,
      recipients,
    };
    publish();
    await projectTaskEvent({
      task: view(),
      static: {
        review: input.review,
        warningMs,
        createdAt,
        workflowId: workflowInfo().workflowId,
        timeZone: input.calendar.timeZone,
      },
      event,
      channels: input.channels,
    });
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
      await record('reminded', null, { offset: timer.offset, due: st.due, ...caughtUp }, [
        st.assignee,
      ]);
      return;
    }
    st.escalationLevel = timer.level;
    await record(
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
  /** Runs a rule check; its Refusal becomes the ApplicationFailure that refuses the update. */
  const refusable = <T>(check: () => T): T => {
    try {
      return check();
    } catch (e) {
      if (e instanceof Refusal) throw ApplicationFailure.create(refusalFailureOptions(e));
      throw e;
    }
  };
  /** Registers an action: a validator that refuses by the rules, a handler that applies it. */
  function action<Req extends { requestId: string; actor: string }>(
    def: UpdateDefinition<ActionResult, [Req]>,
    name: TaskAction,
    apply: (req: Req, effect: { extension?: 'granted' | 'requested' }) => Promise<void>,
  ) {
    setHandler(
      def,
      async (req: Req): Promise<ActionResult> => {
        // An action that arrives with the start (in the first workflow task) waits until the
        // task has recorded its creation, so the audit trail reads created → submitted
        // (patched: executions from before kept their order).
        if (!st.createdRecorded && patched('created-first'))
          await condition(() => st.createdRecorded);
        // The update's acceptance made durable before anything is projected: the workflow
        // task ends here (it schedules an ordinary activity that does nothing), so that the
        // server has recorded the update as accepted. Without it, a worker killed while the
        // projection's local activity ran left PostgreSQL showing the action done although
        // the server had dropped the update (its workflow task never completed), and the
        // caller, told "no worker answered", had no reason to try again. The checks below run
        // after the wait, against the state as it is then (patched: executions from before
        // keep their histories). A timer would do as well but fires only about a second later.
        // Inline, not through a helper of workflows/lib/fence.ts: an extra async call here
        // yields once more before the handler goes on, which changes the order of commands
        // in histories recorded without the patch (task-update-with-start.json replays it).
        if (patched('accepted-before-projection')) await acknowledgeUpdate();
        const prior = st.processed.get(`${name}:${req.requestId}`);
        if (prior) return prior;
        // Checked again after the wait above: a refusal here too is the update's answer, never
        // an error that would fail the workflow task.
        const effect = refusable(() => checkRequest(name, req, facts(), input.roster, Date.now()));
        st.version++;
        await apply(req, effect);
        const result: ActionResult = {
          taskId: input.taskId,
          state: st.state,
          due: st.due,
          assignee: st.assignee,
          ...(effect.extension ? { extension: effect.extension } : {}),
        };
        st.processed.set(`${name}:${req.requestId}`, result);
        if (st.processed.size > MAX_REMEMBERED_REQUESTS) {
          st.processed.delete(st.processed.keys().next().value as string);
        }
        return result;
      },
      {
        validator: (req: Req) => {
          checkShape(name, req);
          if (st.processed.has(`${name}:${req?.requestId}`)) return;
          refusable(() => checkRequest(name, req, facts(), input.roster, Date.now()));
        },
      },
    );
  }
  const who = (recipients: Recipient[]) =>
    resolveRecipients(input.roster, recipients, { unitId: input.unitId, assignee: st.assignee });

  action(submitUpdate, 'submit', async (req) => {
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
      await record('submitted', req.actor, detail, reviewersOf(input.roster, input.unitId));
      return;
    }
    st.state = 'done';
    st.completedAt = now;
    st.onTime = submittedOnTime;
    await record('submitted', req.actor, detail, []);
    await record('done', null, { onTime: st.onTime }, [st.assignee]);
  });

  action(approveUpdate, 'approve', async (req) => {
    st.state = 'done';
    st.completedAt = Date.now();
    st.onTime = st.lastSubmission !== null && st.lastSubmission.at <= st.due;
    // Work first handed in late stays late, even when a return moved the due time and the
    // resubmission met it (patched: executions before this rule keep their old verdict).
    if (patched('late-stays-late') && st.wasLate) st.onTime = false;
    await record(
      'approved',
      req.actor,
      { ...enteredBy(req), note: req.note ?? null, onTime: st.onTime },
      [st.assignee],
    );
  });

  action(returnUpdate, 'return', async (req) => {
    st.state = 'returned';
    st.lastReturnReason = req.reason;
    st.due = Math.max(st.due, addDelay(Date.now(), input.policy.returnDue, calendar));
    resetChase();
    await record('returned', req.actor, { ...enteredBy(req), reason: req.reason, due: st.due }, [
      st.assignee,
    ]);
  });

  action(extendUpdate, 'extend', async (req, effect) => {
    if (effect.extension === 'requested') {
      st.pendingExtension = { until: req.until, reason: req.reason, by: req.actor };
      await record(
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
    await record(
      'extended',
      req.actor,
      { ...enteredBy(req), from, until: req.until, reason: req.reason },
      [st.assignee],
    );
  });

  action(reassignUpdate, 'reassign', async (req) => {
    const from = st.assignee;
    st.assignee = req.to;
    await record('reassigned', req.actor, { ...enteredBy(req), from, to: req.to }, [req.to, from]);
  });

  action(cancelUpdate, 'cancel', async (req) => {
    st.state = 'cancelled';
    st.pendingExtension = null;
    st.completedAt = Date.now();
    await record('cancelled', req.actor, { ...enteredBy(req), reason: req.reason }, [st.assignee]);
  });

  // The parent tells the task that the bureau moved its phase or cancelled the campaign; the
  // life loop applies it in order with the timers and records it with the bureau's person.
  // Only the task's parent can send it, and it is applied only once the parent confirms it.
  st.controls = [];
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
      await record('cancelled', c.actor, { reason: c.reason, campaign: true }, [st.assignee]);
      return;
    }
    if (c.due === st.due) return;
    const from = st.due;
    st.due = c.due;
    resetChase();
    await record(
      'redated',
      c.actor,
      { from, until: c.due, reason: c.reason, phase: c.phase, action: c.action },
      [st.assignee],
    );
  };

  setHandler(taskViewQuery, view);
  setHandler(requirementsQuery, () => input.completion);

  // ---- life ----
  const created = record(
    'created',
    null,
    { due: st.due, title: input.title, review: input.review },
    [st.assignee],
  );
  st.createdRecorded = true;
  await created;

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
