// Sentences that say where a task stands, for the Temporal UI's current details and for
// notices. Chinese first, as the people reading them are county officials.
import { COLOUR_ZH, TASK_STATE_ZH } from './labels.ts';
import type { TaskView } from './task.ts';
import { formatLocal } from './time.ts';

export function describeTask(v: TaskView, timeZone: string): string {
  const base = `「${v.title}」由 ${v.unitId} 的 ${v.assignee} 承办，${TASK_STATE_ZH[v.state]}`;
  if (v.state === 'done') {
    return `${base}（${v.onTime ? '按时' : '逾期'}完成于 ${formatLocal(v.completedAt ?? v.due, timeZone)}）。`;
  }
  if (v.state === 'cancelled') return `${base}。`;
  const parts = [`截止 ${formatLocal(v.due, timeZone)}`, COLOUR_ZH[v.colour]];
  if (v.escalationLevel > 0) parts.push(`已督办至第 ${v.escalationLevel} 级`);
  if (v.pendingExtension)
    parts.push(`申请延期至 ${formatLocal(v.pendingExtension.until, timeZone)}`);
  if (v.state === 'returned' && v.lastReturnReason) parts.push(`退回原因：${v.lastReturnReason}`);
  return `${base}；${parts.join('，')}。`;
}

const EVENT_ZH: Record<string, string> = {
  created: '新督办事项',
  reminded: '催办提醒',
  escalated: '逾期督办',
  submitted: '已提交，请审核',
  returned: '已退回，请修改后重新提交',
  approved: '审核通过',
  'extension-requested': '延期申请，请审批',
  extended: '已延期',
  reassigned: '已转办',
  cancelled: '已取消',
  done: '已完成',
};

/** The title and body of the notice an event sends. */
export function noticeText(
  event: { type: string; actor: string | null; detail: Record<string, unknown> },
  v: TaskView,
  timeZone: string,
): { title: string; body: string } {
  const label = EVENT_ZH[event.type] ?? event.type;
  const level = typeof event.detail.level === 'number' ? `（第 ${event.detail.level} 级）` : '';
  const title = `【${label}${level}】${v.title}`;
  const lines = [
    `事项：${v.title}（${v.taskId}）`,
    `承办：${v.unitId} / ${v.assignee}`,
    `截止：${formatLocal(v.due, timeZone)}`,
    `状态：${TASK_STATE_ZH[v.state]}`,
  ];
  if (event.actor) lines.push(`操作人：${event.actor}`);
  if (typeof event.detail.reason === 'string') lines.push(`理由：${event.detail.reason}`);
  if (typeof event.detail.label === 'string') lines.push(`督办：${event.detail.label}`);
  return { title, body: lines.join('\n') };
}
