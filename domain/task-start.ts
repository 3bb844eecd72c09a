// How a task workflow is started, the same from a parent workflow (as a child) and from the
// CLI (ad-hoc supervision): its id, its search attributes and its static summary for the UI.
import { WorkflowIdReusePolicy, type SearchAttributePair } from '@temporalio/common';
import { rectificationWorkflowId, type RectificationInput } from './campaign.ts';
import { SA } from './search-attributes.ts';
import { colourAt } from './schedule.ts';
import { reviewersOf, type TaskEventRecord, type TaskInput, type TaskView } from './task.ts';
import { formatLocal, parseDurationMs } from './time.ts';

export function taskStartOptions(input: TaskInput): {
  workflowId: string;
  workflowIdReusePolicy: WorkflowIdReusePolicy;
  staticSummary: string;
  staticDetails: string;
  typedSearchAttributes: SearchAttributePair[];
} {
  const tz = input.calendar.timeZone;
  const pairs: SearchAttributePair[] = [
    { key: SA.campaignId, value: input.campaignId },
    { key: SA.unit, value: input.unitId },
    { key: SA.kind, value: input.kind },
    { key: SA.state, value: 'open' },
    { key: SA.colour, value: 'green' },
    { key: SA.assignee, value: input.assignee },
    { key: SA.escalationLevel, value: 0 },
    { key: SA.due, value: new Date(input.due) },
  ];
  if (input.indicator) pairs.push({ key: SA.indicator, value: input.indicator });
  return {
    workflowId: input.taskId,
    // A task id names one piece of work: never a second run under the same id, which would
    // restart its event numbering and collide with the first run's records.
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    staticSummary: `督办事项：${input.title}（${input.unitId}）`,
    staticDetails: [
      `Campaign ${input.campaignId}${input.indicator ? `, indicator ${input.indicator}` : ''}, kind ${input.kind}.`,
      `Unit ${input.unitId}, assignee ${input.assignee}, first due ${formatLocal(input.due, tz)} (${tz}).`,
      input.review ? 'The bureau reviews the submission.' : 'Done on submission (no review).',
      input.instructions ?? '',
    ]
      .filter(Boolean)
      .join('\n'),
    typedSearchAttributes: pairs,
  };
}

/**
 * Who may start a task workflow: only a workflow of the campaign its input names. Every
 * legitimate task is a child of its campaign's workflow (a task raised by the bureau, id the
 * campaign id), of one of its indicators (`<campaign>/<indicator>`) or of an indicator's
 * rectification (`<campaign>/<indicator>/rectification`), and its own id begins with the
 * campaign id too. A task started straight from a client (with a roster, policy and channels of
 * the caller's choosing), or by a workflow of another campaign, is refused: the reason, or null
 * when the parent may start it.
 */
export function unparentedTaskRefusal(
  input: Pick<TaskInput, 'taskId' | 'campaignId'>,
  parentWorkflowId: string | null,
): { en: string; zh: string } | null {
  const prefix = `${input.campaignId}/`;
  const ownCampaign =
    typeof input.campaignId === 'string' &&
    input.campaignId !== '' &&
    typeof input.taskId === 'string' &&
    parentWorkflowId !== null &&
    (parentWorkflowId === input.campaignId || parentWorkflowId.startsWith(prefix));
  if (ownCampaign && input.taskId.startsWith(prefix)) return null;
  const how =
    parentWorkflowId === null
      ? { en: 'it was started directly, without a parent workflow', zh: '此次启动没有上级流程' }
      : ownCampaign
        ? {
            en: `its id does not begin with "${prefix}"`,
            zh: `其编号不以“${prefix}”开头`,
          }
        : {
            en: `it was started by workflow "${parentWorkflowId}", which is not one of campaign "${input.campaignId}"`,
            zh: `启动它的流程“${parentWorkflowId}”不属于考核活动“${input.campaignId}”`,
          };
  return {
    en:
      `Task ${input.taskId} refused: a task runs only as the child of a workflow of its campaign ` +
      `"${input.campaignId}" (the campaign, an indicator or a rectification), and ${how.en}. ` +
      'Raise a task outside the plan with `campaign task create`.',
    zh:
      `督办事项 ${input.taskId} 被拒绝：督办事项只能由所属考核活动“${input.campaignId}”的流程` +
      `（活动、指标或整改）启动，${how.zh}。计划外的督办事项请用 \`campaign task create\` 发起。`,
  };
}

/**
 * Who may start an indicator or a rectification workflow: only the workflows of its campaign
 * that start them in the product — an indicator only by its campaign, a rectification only by
 * its indicator or (for an indicator that has already closed) by its campaign. Without this an
 * "indicator" started by hand under a campaign's prefix, with a roster of the caller's choosing,
 * would pass the task's rule and start tasks. The reason, or null when the parent may start it.
 */
export function childWorkflowRefusal(
  what: { kind: 'indicator' | 'rectification'; workflowId: string; campaignId: string },
  parentWorkflowId: string | null,
  allowedParents: readonly string[],
): { en: string; zh: string } | null {
  if (parentWorkflowId !== null && allowedParents.includes(parentWorkflowId)) return null;
  const en = what.kind === 'indicator' ? 'An indicator' : 'A rectification';
  const zh = what.kind === 'indicator' ? '指标流程' : '整改流程';
  const by = allowedParents.map((p) => `"${p}"`).join(' or ');
  const byZh = allowedParents.map((p) => `“${p}”`).join('或');
  return {
    en:
      `${en} workflow ${what.workflowId} refused: it runs only as the child of ${by} of campaign ` +
      `"${what.campaignId}", and ` +
      (parentWorkflowId === null
        ? 'it was started directly, without a parent workflow.'
        : `it was started by workflow "${parentWorkflowId}".`),
    zh:
      `${zh} ${what.workflowId} 被拒绝：只能由考核活动“${what.campaignId}”的流程${byZh}启动，` +
      (parentWorkflowId === null
        ? '此次启动没有上级流程。'
        : `启动它的是流程“${parentWorkflowId}”。`),
  };
}

/**
 * How a rectification workflow is started: by its indicator, or by the campaign for an
 * indicator that has closed (`byHand`: the starter named in its details, and never a second run
 * under the same id).
 */
export function rectificationStartOptions(
  r: RectificationInput,
  byHand: boolean,
): {
  workflowId: string;
  workflowIdReusePolicy?: WorkflowIdReusePolicy;
  staticSummary: string;
  staticDetails: string;
  typedSearchAttributes: SearchAttributePair[];
} {
  return {
    workflowId: rectificationWorkflowId(r.campaignId, r.code),
    ...(byHand ? { workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE } : {}),
    staticSummary: `整改：${r.name}（${r.code}），牵头单位 ${r.leadUnit}`,
    staticDetails: byHand ? `原因：${r.reason}（${r.startedBy} 发起）` : `原因：${r.reason}`,
    typedSearchAttributes: [
      { key: SA.campaignId, value: r.campaignId },
      { key: SA.indicator, value: r.code },
      { key: SA.unit, value: r.leadUnit },
      { key: SA.kind, value: 'rectification' },
      { key: SA.phase, value: 'rectification' },
    ],
  };
}

/** What a task projects of itself to PostgreSQL besides its events (activities/tasks.ts). */
export interface TaskProjectionStatic {
  review: boolean;
  warningMs: number;
  createdAt: number;
  workflowId: string;
  timeZone: string;
}

/**
 * A task at its creation as PostgreSQL holds it: its row, its first event and what stays fixed.
 * The same whoever projects it: the task itself, or its parent for all its new tasks at once.
 */
export function creationRecord(
  input: TaskInput,
  at: number,
): { task: TaskView; static: TaskProjectionStatic; event: TaskEventRecord } {
  const warningMs = parseDurationMs(input.policy.warningWindow) ?? 0;
  return {
    task: {
      taskId: input.taskId,
      campaignId: input.campaignId,
      indicator: input.indicator,
      kind: input.kind,
      title: input.title,
      unitId: input.unitId,
      assignee: input.assignee,
      reviewer: input.review ? (reviewersOf(input.roster, input.unitId)[0] ?? null) : null,
      state: 'open',
      due: input.due,
      colour: colourAt(at, input.due, warningMs),
      escalationLevel: 0,
      extensionsUsed: 0,
      pendingExtension: null,
      lastSubmission: null,
      lastReturnReason: null,
      completedAt: null,
      onTime: null,
      eventCount: 1,
    },
    static: {
      review: input.review,
      warningMs,
      createdAt: at,
      workflowId: input.taskId,
      timeZone: input.calendar.timeZone,
    },
    event: {
      seq: 1,
      at,
      type: 'created',
      actor: null,
      detail: { due: input.due, title: input.title, review: input.review },
      recipients: [input.assignee],
    },
  };
}
