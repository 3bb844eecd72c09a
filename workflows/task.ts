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

export async function taskWorkflow(input: TaskInput): Promise<TaskOutcome> {
  // Only a workflow of the task's own campaign may start it; a task started by anyone else
  // (a client with a roster, policy and channels of its choosing) is refused before it records
  // anything (patched: executions from before ran whoever started them).
  const refusal = unparentedTaskRefusal(input, workflowInfo().parent?.workflowId ?? null);
  if (refusal && patched('refuse-unparented')) refuseToRun(refusal);

  const calendar = new BusinessCalendar(input.calendar);
  const warningMs = parseDurationMs(input.policy.warningWindow) ?? 0;
  const createdAt = Date.now();
  const signals = new Signals();

  let state: TaskState = 'open';
  let assignee = input.assignee;
  let due = input.due;
  /** When the current due instant was set: reminders before it are not sent late. */
  let dueSetAt = createdAt;
  let createdRecorded = false;
  /** Bumped when the due instant changes, so reminders and escalations re-arm. */
  let dueGeneration = 0;
  let escalationLevel = 0;
  let extensionsUsed = 0;
  let pendingExtension: TaskView['pendingExtension'] = null;
  let lastSubmission: Submission | null = null;
  let lastReturnReason: string | null = null;
  let completedAt: Instant | null = null;
  let onTime: boolean | null = null;
  /** Whether any submission came after the due time then in force. */
  let wasLate = false;
  let seq = 0;
  let version = 0;
  const fired = new Set<string>();
  const processed = new Map<string, ActionResult>();
  const lastSA = new Map<string, unknown>();

  const terminal = () => state === 'done' || state === 'cancelled';
  const chasing = () => state === 'open' || state === 'returned';
  const colour = (): Colour =>
    terminal() || state === 'submitted' ? 'green' : colourAt(Date.now(), due, warningMs);

  const view = (): TaskView => ({
    taskId: input.taskId,
    campaignId: input.campaignId,
    indicator: input.indicator,
    kind: input.kind,
    title: input.title,
    unitId: input.unitId,
    assignee,
    reviewer: input.review ? (reviewersOf(input.roster, input.unitId)[0] ?? null) : null,
    state,
    due,
    colour: colour(),
    escalationLevel,
    extensionsUsed,
    pendingExtension,
    lastSubmission,
    lastReturnReason,
    completedAt,
    onTime,
    eventCount: seq,
  });

  const facts = (): TaskFacts => ({
    unitId: input.unitId,
    assignee,
    state,
    review: input.review,
    due,
    extensionsUsed,
    policy: input.policy,
    completion: input.completion,
  });

  /** Search attributes and current details: what an auditor sees in the Temporal UI. */
  const publish = () => {
    const wanted: [string, SearchAttributeUpdatePair][] = [
      ['state', { key: SA.state, value: state }],
      ['assignee', { key: SA.assignee, value: assignee }],
      ['colour', { key: SA.colour, value: colour() }],
      ['level', { key: SA.escalationLevel, value: escalationLevel }],
      ['due', { key: SA.due, value: new Date(due) }],
    ];
    const changed = wanted.filter(([k, pair]) => {
      const v = pair.value instanceof Date ? pair.value.getTime() : pair.value;
      if (lastSA.get(k) === v) return false;
      lastSA.set(k, v);
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
    const event: TaskEventRecord = { seq: ++seq, at: Date.now(), type, actor, detail, recipients };
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
    dueGeneration++;
    dueSetAt = Date.now();
    escalationLevel = 0;
  };

  // ---- timers ----
  const pendingTimers = (): Timer[] => {
    if (!chasing()) return [];
    const now = Date.now();
    const timers: Timer[] = [];
    for (const r of reminderInstants(due, input.policy.reminders, dueSetAt)) {
      if (!fired.has(`${dueGeneration}:r:${r.offset}`))
        timers.push({ kind: 'reminder', at: r.at, offset: r.offset });
    }
    for (const e of escalationInstants(due, input.policy.escalation, calendar)) {
      if (e.level > escalationLevel)
        timers.push({
          kind: 'escalation',
          at: e.at,
          level: e.level,
          notify: e.notify,
          label: e.label,
        });
    }
    for (const at of [due - warningMs, due]) if (at > now) timers.push({ kind: 'colour', at });
    return timers.sort((a, b) => a.at - b.at);
  };

  const fire = async (timer: Timer, skipped?: string[]) => {
    if (timer.kind === 'colour') return publish();
    const caughtUp = skipped?.length ? { skipped } : {};
    if (timer.kind === 'reminder') {
      fired.add(`${dueGeneration}:r:${timer.offset}`);
      // A reminder whose moment passed long ago (e.g. after a worker outage) is still sent once.
      await record('reminded', null, { offset: timer.offset, due, ...caughtUp }, [assignee]);
      return;
    }
    escalationLevel = timer.level;
    await record(
      'escalated',
      null,
      { level: timer.level, label: timer.label ?? null, notify: timer.notify, due, ...caughtUp },
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
        fired.add(`${dueGeneration}:r:${t.offset}`);
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
        if (!createdRecorded && patched('created-first')) await condition(() => createdRecorded);
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
        const prior = processed.get(`${name}:${req.requestId}`);
        if (prior) return prior;
        // Checked again after the wait above: a refusal here too is the update's answer, never
        // an error that would fail the workflow task.
        const effect = refusable(() => checkRequest(name, req, facts(), input.roster, Date.now()));
        version++;
        await apply(req, effect);
        const result: ActionResult = {
          taskId: input.taskId,
          state,
          due,
          assignee,
          ...(effect.extension ? { extension: effect.extension } : {}),
        };
        processed.set(`${name}:${req.requestId}`, result);
        if (processed.size > MAX_REMEMBERED_REQUESTS) {
          processed.delete(processed.keys().next().value as string);
        }
        return result;
      },
      {
        validator: (req: Req) => {
          checkShape(name, req);
          if (processed.has(`${name}:${req?.requestId}`)) return;
          refusable(() => checkRequest(name, req, facts(), input.roster, Date.now()));
        },
      },
    );
  }
  const who = (recipients: Recipient[]) =>
    resolveRecipients(input.roster, recipients, { unitId: input.unitId, assignee });

  action(submitUpdate, 'submit', async (req) => {
    const now = Date.now();
    lastSubmission = {
      at: now,
      by: req.actor,
      note: req.note,
      data: req.data,
      evidence: req.evidence ?? [],
    };
    const submittedOnTime = now <= due;
    if (!submittedOnTime) wasLate = true;
    // A submission answers any pending request for more time.
    pendingExtension = null;
    const detail = {
      ...enteredBy(req),
      note: req.note ?? null,
      data: req.data ?? null,
      evidence: req.evidence ?? [],
      onTime: submittedOnTime,
    };
    if (input.review) {
      state = 'submitted';
      await record('submitted', req.actor, detail, reviewersOf(input.roster, input.unitId));
      return;
    }
    state = 'done';
    completedAt = now;
    onTime = submittedOnTime;
    await record('submitted', req.actor, detail, []);
    await record('done', null, { onTime }, [assignee]);
  });

  action(approveUpdate, 'approve', async (req) => {
    state = 'done';
    completedAt = Date.now();
    onTime = lastSubmission !== null && lastSubmission.at <= due;
    // Work first handed in late stays late, even when a return moved the due time and the
    // resubmission met it (patched: executions before this rule keep their old verdict).
    if (patched('late-stays-late') && wasLate) onTime = false;
    await record('approved', req.actor, { ...enteredBy(req), note: req.note ?? null, onTime }, [
      assignee,
    ]);
  });

  action(returnUpdate, 'return', async (req) => {
    state = 'returned';
    lastReturnReason = req.reason;
    due = Math.max(due, addDelay(Date.now(), input.policy.returnDue, calendar));
    resetChase();
    await record('returned', req.actor, { ...enteredBy(req), reason: req.reason, due }, [assignee]);
  });

  action(extendUpdate, 'extend', async (req, effect) => {
    if (effect.extension === 'requested') {
      pendingExtension = { until: req.until, reason: req.reason, by: req.actor };
      await record(
        'extension-requested',
        req.actor,
        { ...enteredBy(req), until: req.until, reason: req.reason },
        extensionApproversOf(input.roster, input.policy.extensionApprovers, input.unitId),
      );
      return;
    }
    const from = due;
    due = req.until;
    extensionsUsed++;
    pendingExtension = null;
    resetChase();
    await record(
      'extended',
      req.actor,
      { ...enteredBy(req), from, until: req.until, reason: req.reason },
      [assignee],
    );
  });

  action(reassignUpdate, 'reassign', async (req) => {
    const from = assignee;
    assignee = req.to;
    await record('reassigned', req.actor, { ...enteredBy(req), from, to: req.to }, [req.to, from]);
  });

  action(cancelUpdate, 'cancel', async (req) => {
    state = 'cancelled';
    pendingExtension = null;
    completedAt = Date.now();
    await record('cancelled', req.actor, { ...enteredBy(req), reason: req.reason }, [assignee]);
  });

  // The parent tells the task that the bureau moved its phase or cancelled the campaign; the
  // life loop applies it in order with the timers and records it with the bureau's person.
  // Only the task's parent can send it, and it is applied only once the parent confirms it.
  const controls: TaskControl[] = [];
  signals.onConfirmed(
    taskControlSignal,
    () => workflowInfo().parent?.workflowId ?? null,
    (c) => {
      controls.push(c);
      version++;
    },
  );
  const applyControl = async (c: TaskControl) => {
    if (terminal()) return;
    if (c.kind === 'cancel') {
      state = 'cancelled';
      pendingExtension = null;
      completedAt = Date.now();
      await record('cancelled', c.actor, { reason: c.reason, campaign: true }, [assignee]);
      return;
    }
    if (c.due === due) return;
    const from = due;
    due = c.due;
    resetChase();
    await record(
      'redated',
      c.actor,
      { from, until: c.due, reason: c.reason, phase: c.phase, action: c.action },
      [assignee],
    );
  };

  setHandler(taskViewQuery, view);
  setHandler(requirementsQuery, () => input.completion);

  // ---- life ----
  const created = record('created', null, { due, title: input.title, review: input.review }, [
    assignee,
  ]);
  createdRecorded = true;
  await created;

  while (!terminal()) {
    const control = controls.shift();
    if (control) {
      await applyControl(control);
      continue;
    }
    const seen = version;
    const next = pendingTimers()[0];
    if (!next) {
      await condition(() => version !== seen || terminal());
    } else if (next.at <= Date.now()) {
      // Overdue timers (e.g. after an outage of every worker) fire at once: the latest of them
      // only (patched: executions from before fired each in order).
      const overdue = pendingTimers().filter((t) => t.kind !== 'colour' && t.at <= Date.now());
      if (overdue.length > 1 && patched('catch-up-latest')) await catchUp(overdue);
      else await fire(next);
    } else if (!(await condition(() => version !== seen || terminal(), next.at - Date.now()))) {
      await fire(next);
    }
  }
  publish();
  await condition(allHandlersFinished);
  const outcome: TaskOutcome = {
    taskId: input.taskId,
    state: state as 'done' | 'cancelled',
    completedAt: completedAt ?? Date.now(),
    onTime: onTime ?? false,
    escalationLevel,
    submission: lastSubmission,
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
