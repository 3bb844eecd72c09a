// A minimal parent for tests: starts a task as its child and reports what came back, both as
// the child's result and through the taskFinished signal.
import { condition, setHandler } from '@temporalio/workflow';
import { type TaskInput, type TaskOutcome } from '../../domain/task.ts';
import { taskFinishedSignal } from '../../domain/messages.ts';
import { runTask } from '../../workflows/lib/run-task.ts';

export async function taskParentWorkflow(
  input: TaskInput,
): Promise<{ result: TaskOutcome; signalled: TaskOutcome | null }> {
  let signalled: TaskOutcome | null = null;
  setHandler(taskFinishedSignal, (o) => {
    signalled = o;
  });
  const result = await runTask(input);
  await condition(() => signalled !== null, '1 minute');
  return { result, signalled };
}
