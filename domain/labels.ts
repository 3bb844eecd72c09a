// Chinese names of the campaign's phases and states, shared by the workflows' texts in the
// Temporal UI and the command line's tables (which show English with --lang en).
import type { CampaignPhase, IndicatorPhase, IndicatorState } from './phases.ts';
import type { TaskEventRecord, TaskState } from './task.ts';

export const PHASE_ZH: Record<CampaignPhase | IndicatorPhase, string> = {
  scheduled: '未开始',
  training: '前期培训',
  dataEntry: '数据填报',
  verification: '信息核验',
  reporting: '编制报告',
  closing: '结果与整改',
  rectification: '整改',
  closed: '已结束',
  cancelled: '已撤销',
};

export const INDICATOR_STATE_ZH: Record<IndicatorState, string> = {
  waiting: '等待中',
  'in-progress': '进行中',
  done: '已完成',
  flagged: '数据存疑',
  'awaiting-rectification': '待整改',
  closed: '已结束',
  cancelled: '已撤销',
};

export const TASK_STATE_ZH: Record<TaskState, string> = {
  open: '办理中',
  submitted: '已提交待审核',
  returned: '已退回待重新提交',
  done: '已完成',
  cancelled: '已取消',
};

export const COLOUR_ZH = { green: '绿灯', yellow: '黄灯', red: '红灯' } as const;

/** A campaign's status in the campaigns table. */
export const CAMPAIGN_STATUS_ZH: Record<'running' | 'completed' | 'cancelled', string> = {
  running: '进行中',
  completed: '已完成',
  cancelled: '已撤销',
};

/** What happened to a task, as its event history shows it. */
export const TASK_EVENT_ZH: Record<TaskEventRecord['type'], string> = {
  created: '下达',
  reminded: '提醒',
  escalated: '督办升级',
  submitted: '提交',
  returned: '退回',
  approved: '审核通过',
  'extension-requested': '申请延期',
  extended: '延期',
  reassigned: '转办',
  cancelled: '取消',
  done: '办结',
  colour: '变灯',
  redated: '期限调整',
};

/** A task event's type for people: Chinese by default, the code itself in English. */
export function eventLabel(lang: 'zh' | 'en', type: string): string {
  if (lang === 'en') return type;
  return Object.hasOwn(TASK_EVENT_ZH, type)
    ? (TASK_EVENT_ZH as Record<string, string>)[type]!
    : type;
}

/** A phase or state for people: Chinese by default, the code itself in English. */
export function label(lang: 'zh' | 'en', value: string): string {
  if (lang === 'en') return value;
  const all: Record<string, string> = {
    ...PHASE_ZH,
    ...INDICATOR_STATE_ZH,
    ...TASK_STATE_ZH,
    ...CAMPAIGN_STATUS_ZH,
  };
  // Own labels only: a value such as "constructor" is shown as itself, not as a function.
  return Object.hasOwn(all, value) ? all[value]! : value;
}
