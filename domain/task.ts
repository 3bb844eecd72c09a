// The supervised task (督办事项): its input, its state, the messages that reach it, and the
// rules of who may do what in which state. Pure and shared: the task workflow enforces these
// rules in its update validators; the CLI uses the same types.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ResolvedCalendar } from './calendar.ts';
import type {
  ChannelConfig,
  Delay,
  EscalationStep,
  QuestionnaireField,
  Recipient,
  Role,
  UnitKind,
} from './definition.ts';
import { validateFieldData } from './fields.ts';
import { checkStepData, type StepKind } from './rectification.ts';
import type { Colour } from './schedule.ts';
import type { Instant } from './time.ts';

export const TASK_KINDS = [
  'training',
  'questionnaire',
  'contribution',
  'evidence',
  'rectify-problems',
  'rectify-causes',
  'rectify-gaps',
  'rectify-measures',
  'measure',
  'adhoc',
] as const;
export type TaskKind = (typeof TASK_KINDS)[number];

export const TASK_STATES = ['open', 'submitted', 'returned', 'done', 'cancelled'] as const;
export type TaskState = (typeof TASK_STATES)[number];

export const TASK_ACTIONS = [
  'submit',
  'approve',
  'return',
  'extend',
  'reassign',
  'cancel',
] as const;
export type TaskAction = (typeof TASK_ACTIONS)[number];

export interface RosterPerson {
  id: string;
  name: string;
  unitId: string;
  role: Role;
  /** Only in inputs recorded before contact details left histories; never read. */
  handle?: string | undefined;
  /** Only in inputs recorded before contact details left histories; never read. */
  phone?: string | undefined;
}

export interface RosterUnit {
  id: string;
  name: string;
  kind: UnitKind;
}

export interface Roster {
  units: RosterUnit[];
  people: RosterPerson[];
}

export interface TaskPolicy {
  reminders: string[];
  warningWindow: string;
  escalation: EscalationStep[];
  returnDue: Delay;
  extensionApprovers: ('bureau' | 'deputy' | 'head')[];
  maxExtensions: number;
}

export interface CompletionRequirements {
  note: boolean;
  evidence: boolean;
  fields: QuestionnaireField[];
  /** For a rectification step: the shape its data must have, checked against earlier steps. */
  step?: { kind: StepKind; problemCount: number; timeZone: string } | undefined;
}

export interface TaskInput {
  taskId: string;
  campaignId: string;
  /** Indicator code, or null for campaign-level work. */
  indicator: string | null;
  kind: TaskKind;
  title: string;
  unitId: string;
  assignee: string;
  /** Whether the bureau reviews a submission (approve or return) before it is done. */
  review: boolean;
  due: Instant;
  policy: TaskPolicy;
  calendar: ResolvedCalendar;
  roster: Roster;
  completion: CompletionRequirements;
  channels: ChannelConfig[];
  /** Free-form context for people: what exactly is asked. */
  instructions?: string | undefined;
}

export interface TaskEventRecord {
  seq: number;
  at: Instant;
  type:
    | 'created'
    | 'reminded'
    | 'escalated'
    | 'submitted'
    | 'returned'
    | 'approved'
    | 'extension-requested'
    | 'extended'
    | 'reassigned'
    | 'cancelled'
    | 'done'
    | 'colour'
    | 'redated';
  actor: string | null;
  detail: Record<string, unknown>;
  recipients: string[];
}

export interface Submission {
  at: Instant;
  by: string;
  note?: string | undefined;
  data?: Record<string, unknown> | undefined;
  evidence: string[];
}

export interface TaskView {
  taskId: string;
  campaignId: string;
  indicator: string | null;
  kind: TaskKind;
  title: string;
  unitId: string;
  assignee: string;
  reviewer: string | null;
  state: TaskState;
  due: Instant;
  colour: Colour;
  escalationLevel: number;
  extensionsUsed: number;
  pendingExtension: { until: Instant; reason: string; by: string } | null;
  lastSubmission: Submission | null;
  lastReturnReason: string | null;
  completedAt: Instant | null;
  /** On time: submitted (finally approved) before the due instant in force at the time. */
  onTime: boolean | null;
  eventCount: number;
}

export interface TaskOutcome {
  taskId: string;
  state: 'done' | 'cancelled';
  completedAt: Instant;
  onTime: boolean;
  escalationLevel: number;
  submission: Submission | null;
}

// ---- messages ----

interface WithActor {
  /** Idempotency key: the same request id twice is applied once. */
  requestId: string;
  actor: string;
  /**
   * Who typed the action in on the actor's behalf (代录): the bureau's operator at the command
   * line. Absent when the person acted themselves (the portal, where they are signed in).
   */
  operator?: string | undefined;
}

/** The event detail that records an action entered on someone's behalf (代录). */
export function enteredBy(req: { operator?: unknown }): { enteredBy?: string } {
  return typeof req.operator === 'string' && req.operator.trim()
    ? { enteredBy: req.operator.trim().slice(0, 120) }
    : {};
}

export interface SubmitRequest extends WithActor {
  note?: string | undefined;
  data?: Record<string, unknown> | undefined;
  evidence?: string[] | undefined;
}
export interface ApproveRequest extends WithActor {
  note?: string | undefined;
}
export interface ReturnRequest extends WithActor {
  reason: string;
}
export interface ExtendRequest extends WithActor {
  until: Instant;
  reason: string;
}
export interface ReassignRequest extends WithActor {
  to: string;
}
export interface CancelRequest extends WithActor {
  reason: string;
}

export interface ActionResult {
  taskId: string;
  state: TaskState;
  due: Instant;
  assignee: string;
  /** For `extend`: whether the actor's extension was granted or only requested. */
  extension?: 'granted' | 'requested';
}

export const submitUpdate = defineUpdate<ActionResult, [SubmitRequest]>('submit');
export const approveUpdate = defineUpdate<ActionResult, [ApproveRequest]>('approve');
export const returnUpdate = defineUpdate<ActionResult, [ReturnRequest]>('return');
export const extendUpdate = defineUpdate<ActionResult, [ExtendRequest]>('extend');
export const reassignUpdate = defineUpdate<ActionResult, [ReassignRequest]>('reassign');
export const cancelUpdate = defineUpdate<ActionResult, [CancelRequest]>('cancel');
export const taskViewQuery = defineQuery<TaskView>('view');
/** Sent by a finished task to its parent workflow (also after the parent continued as new). */
export const taskFinishedSignal = defineSignal<[TaskOutcome]>('taskFinished');
export const requirementsQuery = defineQuery<CompletionRequirements>('requirements');

/**
 * Sent by the task's parent when the bureau moved the task's phase (a new due instant) or
 * cancelled the whole campaign; the task records it with the bureau's person and reason.
 */
export type TaskControl =
  | { kind: 'redate'; due: Instant; actor: string; reason: string; phase: string; action: string }
  | { kind: 'cancel'; actor: string; reason: string };
export const taskControlSignal = defineSignal<[TaskControl]>('control');

// ---- rules ----

export class Refusal extends Error {
  override name = 'Refusal';
}

/** What the rules need to know about the task at the moment of the request. */
export interface TaskFacts {
  unitId: string;
  assignee: string;
  state: TaskState;
  review: boolean;
  due: Instant;
  extensionsUsed: number;
  policy: Pick<TaskPolicy, 'extensionApprovers' | 'maxExtensions'>;
  completion: CompletionRequirements;
}

function person(roster: Roster, id: string): RosterPerson {
  const p = roster.people.find((x) => x.id === id);
  if (!p) throw new Refusal(`unknown person "${id}": not on the campaign's roster`);
  return p;
}

function unitKind(roster: Roster, unitId: string): UnitKind | undefined {
  return roster.units.find((u) => u.id === unitId)?.kind;
}

/** Who reviews a unit's work: the bureau's coordinators and head; for the bureau's own work,
 * the county leadership. */
export function reviewersOf(roster: Roster, taskUnit: string): string[] {
  return roster.people
    .filter((p) => p.unitId !== taskUnit && isReviewer(roster, p, taskUnit))
    .map((p) => p.id);
}

/** The bureau's reviewers; for the bureau's own work, the county leadership reviews. */
export function isReviewer(roster: Roster, actor: RosterPerson, taskUnit: string): boolean {
  const actorKind = unitKind(roster, actor.unitId);
  if (unitKind(roster, taskUnit) === 'bureau') return actorKind === 'leadership';
  return actorKind === 'bureau' && (actor.role === 'coordinator' || actor.role === 'head');
}

function isBureauOfficer(roster: Roster, actor: RosterPerson): boolean {
  return (
    unitKind(roster, actor.unitId) === 'bureau' &&
    (actor.role === 'coordinator' || actor.role === 'head')
  );
}

/**
 * The people who decide for "the bureau" on a unit's task: the bureau's coordinators and head,
 * or, for the bureau's own work, the county leadership — nobody decides on their own work.
 */
function isOverseer(roster: Roster, actor: RosterPerson, taskUnit: string): boolean {
  if (unitKind(roster, taskUnit) === 'bureau')
    return unitKind(roster, actor.unitId) === 'leadership';
  return isBureauOfficer(roster, actor) && actor.unitId !== taskUnit;
}

function canGrantExtension(roster: Roster, actor: RosterPerson, t: TaskFacts): boolean {
  return t.policy.extensionApprovers.some((who) =>
    who === 'bureau'
      ? isOverseer(roster, actor, t.unitId)
      : actor.unitId === t.unitId && actor.role === who,
  );
}

/** Who may grant an extension of a unit's task under the policy (the recipients of a request). */
export function extensionApproversOf(
  roster: Roster,
  approvers: TaskPolicy['extensionApprovers'],
  taskUnit: string,
): string[] {
  return roster.people
    .filter((p) =>
      approvers.some((who) =>
        who === 'bureau'
          ? isOverseer(roster, p, taskUnit)
          : p.unitId === taskUnit && p.role === who,
      ),
    )
    .map((p) => p.id);
}

const OPEN_STATES: TaskState[] = ['open', 'returned'];

function requireState(action: TaskAction, t: TaskFacts, allowed: TaskState[]): void {
  if (!allowed.includes(t.state)) {
    throw new Refusal(
      `cannot ${action} a task that is ${t.state} (allowed when ${allowed.join(' or ')})`,
    );
  }
}

/**
 * Checks a request against the roster, the task's state and its completion requirements.
 * Throws a Refusal naming the reason; returns what the request will do otherwise.
 */
export function checkRequest(
  action: TaskAction,
  req: Partial<SubmitRequest & ReturnRequest & ExtendRequest & ReassignRequest & CancelRequest>,
  t: TaskFacts,
  roster: Roster,
  now: Instant,
): { extension?: 'granted' | 'requested' } {
  if (!req.requestId || typeof req.requestId !== 'string')
    throw new Refusal('a request id is required');
  if (!req.actor || typeof req.actor !== 'string')
    throw new Refusal('the acting person (--as) is required');
  const actor = person(roster, req.actor);
  switch (action) {
    case 'submit': {
      requireState(action, t, OPEN_STATES);
      if (actor.unitId !== t.unitId) {
        throw new Refusal(
          `${actor.id} belongs to "${actor.unitId}", not to the task's unit "${t.unitId}"`,
        );
      }
      if (t.completion.note && !req.note?.trim())
        throw new Refusal('a note is required to complete this task');
      if (t.completion.evidence && !(req.evidence?.length ?? 0)) {
        throw new Refusal(
          'supporting evidence (印证资料) is required: give at least one --evidence',
        );
      }
      for (const e of req.evidence ?? []) {
        if (typeof e !== 'string' || !e.trim()) throw new Refusal('an evidence reference is empty');
      }
      if (t.completion.step) {
        const { kind, problemCount, timeZone } = t.completion.step;
        const problems = checkStepData(kind, req.data, { problemCount, roster, timeZone, now });
        if (problems.length)
          throw new Refusal(`the ${kind} data are not valid: ${problems.join('; ')}`);
      } else if (t.completion.fields.length > 0 || req.data) {
        const problems = validateFieldData(t.completion.fields, req.data);
        if (problems.length)
          throw new Refusal(`the data are not valid: ${problems.map((p) => p.message).join('; ')}`);
      }
      return {};
    }
    case 'approve':
    case 'return': {
      requireState(action, t, ['submitted']);
      if (actor.unitId === t.unitId)
        throw new Refusal(
          `a reviewer may not ${action} their own unit's work (${actor.id} is in "${t.unitId}")`,
        );
      if (!isReviewer(roster, actor, t.unitId)) {
        throw new Refusal(
          `${actor.id} (${actor.role} in "${actor.unitId}") may not review this task: the bureau's coordinators and head review`,
        );
      }
      if (action === 'return' && !req.reason?.trim()) throw new Refusal('a return needs a reason');
      return {};
    }
    case 'extend': {
      requireState(action, t, OPEN_STATES);
      if (!req.reason?.trim()) throw new Refusal('an extension needs a reason');
      if (typeof req.until !== 'number' || !Number.isFinite(req.until))
        throw new Refusal('an extension needs a new due time (--until)');
      if (req.until <= t.due)
        throw new Refusal('the new due time must be later than the current one');
      if (req.until <= now) throw new Refusal('the new due time is in the past');
      if (t.extensionsUsed >= t.policy.maxExtensions) {
        throw new Refusal(
          `this task has had ${t.extensionsUsed} extension(s), the most the policy allows`,
        );
      }
      if (canGrantExtension(roster, actor, t)) return { extension: 'granted' };
      if (actor.unitId === t.unitId) return { extension: 'requested' };
      throw new Refusal(`${actor.id} may neither ask for nor grant an extension of this task`);
    }
    case 'reassign': {
      requireState(action, t, OPEN_STATES);
      const to = person(roster, req.to ?? '');
      if (to.unitId !== t.unitId)
        throw new Refusal(
          `${to.id} is not in the task's unit "${t.unitId}": reassign within the unit`,
        );
      if (to.id === t.assignee) throw new Refusal(`${to.id} is already the assignee`);
      const unitLeader =
        actor.unitId === t.unitId && (actor.role === 'deputy' || actor.role === 'head');
      if (!unitLeader && !isBureauOfficer(roster, actor)) {
        throw new Refusal(
          `${actor.id} (${actor.role}) may not reassign: the unit's deputy or head, or the bureau, may`,
        );
      }
      return {};
    }
    case 'cancel': {
      requireState(action, t, ['open', 'returned', 'submitted']);
      if (actor.unitId === t.unitId) {
        throw new Refusal(`${actor.id} may not cancel their own unit's task`);
      }
      if (!isOverseer(roster, actor, t.unitId)) {
        throw new Refusal(
          `${actor.id} may not cancel a task: only the bureau may (the county leadership for the bureau's own)`,
        );
      }
      if (!req.reason?.trim()) throw new Refusal('a cancellation needs a reason');
      return {};
    }
  }
}

/** People an escalation step or a reminder reaches, by role relative to the task's unit. */
export function resolveRecipients(
  roster: Roster,
  recipients: Recipient[],
  task: { unitId: string; assignee: string },
): string[] {
  const out = new Set<string>();
  const kindOf = (unitId: string) => unitKind(roster, unitId);
  for (const r of recipients) {
    for (const p of roster.people) {
      const hit =
        (r === 'assignee' && p.id === task.assignee) ||
        (r === 'staff' && p.unitId === task.unitId && p.role === 'staff') ||
        (r === 'deputy' && p.unitId === task.unitId && p.role === 'deputy') ||
        (r === 'head' && p.unitId === task.unitId && p.role === 'head') ||
        (r === 'bureau' &&
          kindOf(p.unitId) === 'bureau' &&
          (p.role === 'coordinator' || p.role === 'head')) ||
        (r === 'leadership' && kindOf(p.unitId) === 'leadership');
      if (hit) out.add(p.id);
    }
  }
  return [...out];
}

/** Stable, readable task id: campaign / indicator / kind / unit [/ key]. */
export function taskIdOf(parts: {
  campaignId: string;
  indicator: string | null;
  kind: TaskKind;
  unitId: string;
  key?: string | undefined;
}): string {
  return [
    parts.campaignId,
    parts.indicator ?? '_',
    parts.kind,
    parts.unitId,
    ...(parts.key ? [parts.key] : []),
  ].join('/');
}
