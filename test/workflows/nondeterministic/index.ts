// A deliberately non-deterministic change of the task workflow, for the replay suite's negative
// control: the same workflow type that now starts with a timer the saved history never had.
import { sleep } from '@temporalio/workflow';
import type { TaskInput, TaskOutcome } from '../../../domain/task.ts';
import { taskWorkflow as original } from '../../../workflows/task.ts';

export async function taskWorkflow(input: TaskInput): Promise<TaskOutcome> {
  await sleep(1000);
  return original(input);
}
