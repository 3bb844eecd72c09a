// How a task workflow is started, the same from a parent workflow (as a child) and from the
// CLI (ad-hoc supervision): its id, its search attributes and its static summary for the UI.
import { WorkflowIdReusePolicy, type SearchAttributePair } from '@temporalio/common';
import { SA } from './search-attributes.ts';
import type { TaskInput } from './task.ts';
import { formatLocal } from './time.ts';

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
