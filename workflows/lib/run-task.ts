// Runs a supervised task as a child of the calling workflow and returns its outcome.
import { executeChild, ParentClosePolicy } from '@temporalio/workflow';
import { taskStartOptions } from '../../domain/task-start.ts';
import type { TaskInput, TaskOutcome } from '../../domain/task.ts';
import type { taskWorkflow } from '../task.ts';

export function runTask(input: TaskInput): Promise<TaskOutcome> {
  return executeChild<typeof taskWorkflow>('taskWorkflow', {
    ...taskStartOptions(input),
    args: [input],
    // A task outlives a parent that continues as new; it is cancelled only on purpose.
    parentClosePolicy: ParentClosePolicy.ABANDON,
  });
}
