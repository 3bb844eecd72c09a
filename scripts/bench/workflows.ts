// Workflows for the benchmark only: the product's workflows plus a no-op baseline whose
// update does nothing, to measure what the engine itself costs.
import { condition, defineUpdate, setHandler } from '@temporalio/workflow';

export * from '../../workflows/index.ts';

export const noopUpdate = defineUpdate<number, [number]>('noop');
export const stopUpdate = defineUpdate<void>('stop');

export async function benchNoopWorkflow(): Promise<void> {
  let done = false;
  setHandler(noopUpdate, (n) => n);
  setHandler(stopUpdate, () => {
    done = true;
  });
  await condition(() => done);
}

/** A workflow that starts and completes at once: the baseline for starting workflows. */
export async function benchNoopWorkflowOnce(): Promise<void> {}

// Tasks start as the child of a workflow of their campaign (workflows/task.ts refuses others).
export { taskStarterWorkflow } from '../../test/workflows/task-starter.ts';
