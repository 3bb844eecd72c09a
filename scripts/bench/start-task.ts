// Starts a task for a benchmark as production does, as the child of a workflow of its
// campaign (the starter of test/workflows/task-starter.ts, in the benchmark's bundle), and
// returns the task's handle once it exists. The starter's own workflow type lives in the
// benchmark's bundle (scripts/bench/workflows.ts).
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { TaskInput } from '../../domain/task.ts';

export async function startTask(
  client: Client,
  input: TaskInput,
  taskQueue: string,
  /**
   * Where the starter itself runs, when the task's queue is served by the product's own workers
   * (worker/main.ts), whose bundle has no starter: a queue of the benchmark's bundle.
   */
  starterQueue = taskQueue,
): Promise<WorkflowHandle> {
  await client.workflow.start('taskStarterWorkflow', {
    taskQueue: starterQueue,
    workflowId: `${input.campaignId}/bench-starter/${randomUUID()}`,
    args: [input, taskQueue],
  });
  // The starter stays until the task ends: the task's handle once it exists.
  const task = client.workflow.getHandle(input.taskId);
  for (let i = 0; ; i++) {
    try {
      const d = await task.describe();
      return client.workflow.getHandle(input.taskId, undefined, { firstExecutionRunId: d.runId });
    } catch (e) {
      if (!(e instanceof WorkflowNotFoundError) || i >= 1200) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
