// The supervised task (督办事项): its input, its state, and the
// rules of who may do what in which state. Pure and shared: the task workflow enforces these
// rules in its update validators; the CLI uses the same types.
import type { ResolvedCalendar } from './calendar.ts';
import type {
  ChannelConfig,
  Delay,
  EscalationStep,
  QuestionnaireField,
  Recipient,
  UnitKind,
} from './definition.ts';
import { validateFieldData } from './fields.ts';
import { checkStepProblems, type StepKind } from './rectification.ts';
import type { Colour } from './schedule.ts';
import type { Instant } from './time.ts';
import { Refusal } from './refusal.ts';

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
  'enterprise-assist',
  // A department's proposal of a highlight or a typical case (突出亮点), reviewed by the bureau.
  'highlight',
  'case',
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

export type { Roster, RosterPerson, RosterUnit } from './roster.ts';
import type { Roster, RosterPerson } from './roster.ts';

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
  /**
   * The parent projected the task's creation to PostgreSQL itself, with its siblings in one
   * activity (domain/task-start.ts `creationRecord`): the task does not project it again.
   */
  createdProjected?: boolean | undefined;
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
  /**
   * The task's event count after the action: PostgreSQL shows the action once the task's row
   * has reached it (`tasks.last_seq`). Absent from answers of tasks started before it existed.
   */
  version?: number;
  /** The task as it stands after the action, for a reader that shows it at once. */
  view?: TaskView;
}

/**
 * Sent by the task's parent when the bureau moved the task's phase (a new due instant) or
 * cancelled the whole campaign; the task records it with the bureau's person and reason.
 */
export type TaskControl =
  | { kind: 'redate'; due: Instant; actor: string; reason: string; phase: string; action: string }
  | { kind: 'cancel'; actor: string; reason: string };

// ---- rules ----

export { Refusal } from './refusal.ts';

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
  if (!p)
    throw new Refusal(
      `unknown person "${id}": not on the campaign's roster`,
      `查无此人“${id}”：不在本次考核的人员名单中`,
    );
  return p;
}

const ROLE_ZH: Record<string, string> = {
  staff: '工作人员',
  deputy: '分管负责人',
  head: '主要负责人',
  coordinator: '协调人',
  evaluator: '评估人员',
};
const STATE_ZH: Record<string, string> = {
  open: '办理中',
  submitted: '已提交待审核',
  returned: '已退回',
  done: '已完成',
  cancelled: '已取消',
};
const ACTION_ZH: Record<string, string> = {
  submit: '提交',
  approve: '审核通过',
  return: '退回',
  extend: '延期',
  reassign: '转派',
  cancel: '撤销',
};
/** A person as people read them: 刘填报员（scjgj-staff1）. */
function zhPerson(p: RosterPerson): string {
  return `${p.name}（${p.id}）`;
}
function zhUnit(roster: Roster, unitId: string): string {
  return roster.units.find((u) => u.id === unitId)?.name ?? unitId;
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
      `该事项${STATE_ZH[t.state] ?? t.state}，不能${ACTION_ZH[action] ?? action}（${allowed
        .map((x) => STATE_ZH[x] ?? x)
        .join('或')}时才可以）`,
    );
  }
}

/** Whether a questionnaire needs evidence: its definition lists the evidence to give (应提供：…). */
export function requiresEvidence(expected: readonly string[] | undefined): boolean {
  return (expected ?? []).some((e) => typeof e === 'string' && e.trim() !== '');
}

/**
 * Evidence a submission must carry: at least one file when the task requires evidence, or when
 * the definition lists what to give (`expected`, e.g. 政策文件、办件记录). Throws a Refusal naming
 * what is expected.
 */
export function checkRequiredEvidence(
  required: boolean,
  given: number,
  expected: readonly string[] = [],
): void {
  if ((!required && !requiresEvidence(expected)) || given > 0) return;
  const list = expected.filter((e) => e.trim());
  throw new Refusal(
    `supporting evidence (印证资料) is required${list.length ? ` (expected: ${list.join(', ')})` : ''}: give at least one --evidence`,
    `该事项需要印证资料${list.length ? `（应提供：${list.join('、')}）` : ''}：请先上传至少一份佐证材料，再提交`,
  );
}

/**
 * An extension's new due time: one still to come (a due time in the past would make the task
 * overdue and escalate it the moment it is granted), and later than the current one. Throws a
 * Refusal saying which.
 */
export function checkExtensionDeadline(until: Instant, due: Instant, now: Instant): void {
  if (until <= now)
    throw new Refusal(
      'the new due time is in the past: give one still to come',
      '新的截止时间已经过去：请给出尚未到来的时间',
    );
  if (until <= due)
    throw new Refusal(
      'the new due time must be later than the current one',
      '新的截止时间必须晚于现在的截止时间',
    );
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
    throw new Refusal('a request id is required', '缺少请求编号');
  if (!req.actor || typeof req.actor !== 'string')
    throw new Refusal('the acting person (--as) is required', '请说明由谁办理（办理人）');
  const actor = person(roster, req.actor);
  switch (action) {
    case 'submit': {
      requireState(action, t, OPEN_STATES);
      if (actor.unitId !== t.unitId) {
        throw new Refusal(
          `${actor.id} belongs to "${actor.unitId}", not to the task's unit "${t.unitId}"`,
          `${zhPerson(actor)}属于${zhUnit(roster, actor.unitId)}，该事项由${zhUnit(roster, t.unitId)}办理，只有该单位的人员可以提交`,
        );
      }
      if (t.completion.note && !req.note?.trim())
        throw new Refusal(
          'a note is required to complete this task',
          '完成该事项需要填写办理说明：请在“说明”一栏写明办理情况后再提交',
        );
      checkRequiredEvidence(t.completion.evidence, req.evidence?.length ?? 0);
      for (const e of req.evidence ?? []) {
        if (typeof e !== 'string' || !e.trim())
          throw new Refusal('an evidence reference is empty', '有一项印证资料为空');
      }
      if (t.completion.step) {
        const { kind, problemCount, timeZone } = t.completion.step;
        const problems = checkStepProblems(kind, req.data, {
          problemCount,
          roster,
          timeZone,
          now,
        });
        if (problems.length)
          throw new Refusal(
            `the ${kind} data are not valid: ${problems.map((p) => p.en).join('; ')}`,
            `填报内容有误：${problems.map((p) => p.zh).join('；')}`,
          );
      } else if (t.completion.fields.length > 0 || req.data) {
        const problems = validateFieldData(t.completion.fields, req.data);
        if (problems.length)
          throw new Refusal(
            `the data are not valid: ${problems.map((p) => p.message).join('; ')}`,
            `填报内容有误：${problems.map((p) => p.message).join('；')}`,
          );
      }
      return {};
    }
    case 'approve':
    case 'return': {
      requireState(action, t, ['submitted']);
      if (actor.unitId === t.unitId)
        throw new Refusal(
          `a reviewer may not ${action} their own unit's work (${actor.id} is in "${t.unitId}")`,
          `不能审核本单位的事项：${zhPerson(actor)}就在${zhUnit(roster, t.unitId)}`,
        );
      if (!isReviewer(roster, actor, t.unitId)) {
        throw new Refusal(
          `${actor.id} (${actor.role} in "${actor.unitId}") may not review this task: the bureau's coordinators and head review`,
          unitKind(roster, t.unitId) === 'bureau'
            ? `${zhPerson(actor)}不能审核该事项：审批局自身的事项由县领导审核`
            : `${zhPerson(actor)}（${zhUnit(roster, actor.unitId)}${ROLE_ZH[actor.role] ?? actor.role}）不能审核该事项：由审批局的协调人和主要负责人审核`,
        );
      }
      if (action === 'return' && !req.reason?.trim())
        throw new Refusal('a return needs a reason', '退回需要写明原因：请在“退回原因”一栏填写');
      return {};
    }
    case 'extend': {
      requireState(action, t, OPEN_STATES);
      if (!req.reason?.trim())
        throw new Refusal('an extension needs a reason', '延期需要写明原因：请在“原因”一栏填写');
      if (typeof req.until !== 'number' || !Number.isFinite(req.until))
        throw new Refusal(
          'an extension needs a new due time (--until)',
          '延期需要给出新的截止时间：请在“延至”一栏选择日期和时间',
        );
      checkExtensionDeadline(req.until, t.due, now);
      if (t.extensionsUsed >= t.policy.maxExtensions) {
        throw new Refusal(
          `this task has had ${t.extensionsUsed} extension(s), the most the policy allows`,
          `该事项已延期 ${t.extensionsUsed} 次，已达规则允许的上限`,
        );
      }
      if (canGrantExtension(roster, actor, t)) return { extension: 'granted' };
      if (actor.unitId === t.unitId) return { extension: 'requested' };
      throw new Refusal(
        `${actor.id} may neither ask for nor grant an extension of this task`,
        `${zhPerson(actor)}既不能申请也不能批准该事项延期：由${zhUnit(roster, t.unitId)}申请，按规则由审批局批准`,
      );
    }
    case 'reassign': {
      requireState(action, t, OPEN_STATES);
      const to = person(roster, req.to ?? '');
      if (to.unitId !== t.unitId)
        throw new Refusal(
          `${to.id} is not in the task's unit "${t.unitId}": reassign within the unit`,
          `${zhPerson(to)}不在${zhUnit(roster, t.unitId)}：只能转派给本单位的人员`,
        );
      if (to.id === t.assignee)
        throw new Refusal(`${to.id} is already the assignee`, `${zhPerson(to)}已经是承办人`);
      const unitLeader =
        actor.unitId === t.unitId && (actor.role === 'deputy' || actor.role === 'head');
      if (!unitLeader && !isBureauOfficer(roster, actor)) {
        const leaderElsewhere = actor.role === 'deputy' || actor.role === 'head';
        throw new Refusal(
          leaderElsewhere
            ? `${actor.id} (${actor.role} of "${actor.unitId}") may not reassign a task of "${t.unitId}": its own deputy or head, or the bureau, may`
            : `${actor.id} (${actor.role}) may not reassign: the unit's deputy or head, or the bureau, may`,
          leaderElsewhere
            ? `${zhPerson(actor)}是${zhUnit(roster, actor.unitId)}的${ROLE_ZH[actor.role]}，不能转派${zhUnit(roster, t.unitId)}的事项：由该单位的分管或主要负责人，或审批局转派`
            : `${zhPerson(actor)}（${ROLE_ZH[actor.role] ?? actor.role}）不能转派：由${zhUnit(roster, t.unitId)}的分管或主要负责人，或审批局转派`,
        );
      }
      return {};
    }
    case 'cancel': {
      requireState(action, t, ['open', 'returned', 'submitted']);
      if (actor.unitId === t.unitId) {
        throw new Refusal(
          `${actor.id} may not cancel their own unit's task`,
          `${zhPerson(actor)}不能撤销本单位的事项：由审批局撤销`,
        );
      }
      if (!isOverseer(roster, actor, t.unitId)) {
        throw new Refusal(
          `${actor.id} may not cancel a task: only the bureau may (the county leadership for the bureau's own)`,
          `${zhPerson(actor)}不能撤销事项：只有审批局可以撤销（审批局自身的事项由县领导撤销）`,
        );
      }
      if (!req.reason?.trim())
        throw new Refusal(
          'a cancellation needs a reason',
          '撤销需要写明原因：请写明为何撤销该事项',
        );
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
