// Chinese names of the campaign's phases and states, shared by the workflows' texts in the
// Temporal UI and the command line's tables (which show English with --lang en).
import type { CampaignPhase, IndicatorPhase, IndicatorState } from './campaign.ts';
import type { TaskState } from './task.ts';

export const PHASE_ZH: Record<CampaignPhase | IndicatorPhase, string> = {
  scheduled: '未开始',
  training: '前期培训',
  dataEntry: '数据填报',
  verification: '信息核验',
  reporting: '编制报告',
  closing: '结果与整改',
  rectification: '整改',
  closed: '已结束',
};

export const INDICATOR_STATE_ZH: Record<IndicatorState, string> = {
  waiting: '等待中',
  'in-progress': '进行中',
  done: '已完成',
  flagged: '数据存疑',
  'awaiting-rectification': '待整改',
  closed: '已结束',
};

export const TASK_STATE_ZH: Record<TaskState, string> = {
  open: '办理中',
  submitted: '已提交待审核',
  returned: '已退回待重新提交',
  done: '已完成',
  cancelled: '已取消',
};

export const COLOUR_ZH = { green: '绿灯', yellow: '黄灯', red: '红灯' } as const;

/** A phase or state for people: Chinese by default, the code itself in English. */
export function label(lang: 'zh' | 'en', value: string): string {
  if (lang === 'en') return value;
  const all: Record<string, string> = { ...PHASE_ZH, ...INDICATOR_STATE_ZH, ...TASK_STATE_ZH };
  return all[value] ?? value;
}
