// Starts a task workflow the legitimate way, as the child of a workflow of its campaign
// (test/workflows/task-starter.ts), and returns the task's handle. The starter runs on
// `starterQueue` (a worker with the test workflows: the harness's own with `withTestParents`,
// or `starterWorker` beside a worker process), the task on `taskQueue`.
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkerOptions } from '@temporalio/worker';
import type pg from 'pg';
import type { TaskInput } from '../../domain/task.ts';
import { bundleWorkflows, runWorker, type RunningWorker } from './temporal.ts';

export async function startTaskAsChild(
  client: Client,
  input: TaskInput,
  opts: { taskQueue: string; starterQueue?: string },
): Promise<WorkflowHandle> {
  await client.workflow.start('taskStarterWorkflow', {
    taskQueue: opts.starterQueue ?? opts.taskQueue,
    workflowId: `${input.campaignId}/test-starter/${randomUUID()}`,
    args: [input, opts.taskQueue],
  });
  // The task's own state polled until it exists (the starter stays until the task ends);
  // describe never lets the time-skipping server skip time past the task's first timers.
  const task = client.workflow.getHandle(input.taskId);
  for (let i = 0; ; i++) {
    try {
      const d = await task.describe();
      return client.workflow.getHandle(input.taskId, undefined, { firstExecutionRunId: d.runId });
    } catch (e) {
      if (!(e instanceof WorkflowNotFoundError) || i >= 1200) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * A worker for the test starters only, on a queue of its own, beside a worker process that runs
 * the product's bundle (the tasks it starts go to that process's queue).
 */
export async function starterWorker(
  env: TestWorkflowEnvironment,
  pool: pg.Pool,
  dataConverter?: WorkerOptions['dataConverter'],
): Promise<RunningWorker> {
  return runWorker(env, pool, await bundleWorkflows({ withTestParents: true }), {
    prefix: 'starter',
    ...(dataConverter ? { dataConverter } : {}),
  });
}
