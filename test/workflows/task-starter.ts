// How tests and benchmarks start a task as production does: as the child of a workflow of the
// task's campaign (a task workflow started by anyone else is refused, workflows/task.ts). This
// parent takes an id under the campaign (`<campaign>/test-starter/…`), starts the task on the
// queue it is given (abandoned on close, as the tasks a campaign raises are) and stays until the
// task ends, taking its taskFinished signal as a campaign's workflow would.
import { ParentClosePolicy, setHandler, startChild } from '@temporalio/workflow';
import { taskStartOptions } from '../../domain/task-start.ts';
import { type TaskInput, type TaskOutcome } from '../../domain/task.ts';
import { taskFinishedSignal } from '../../domain/messages.ts';

export async function taskStarterWorkflow(
  input: TaskInput,
  taskQueue?: string,
): Promise<TaskOutcome | null> {
  setHandler(taskFinishedSignal, () => undefined);
  const child = await startChild('taskWorkflow', {
    ...taskStartOptions(input),
    args: [input],
    ...(taskQueue ? { taskQueue } : {}),
    parentClosePolicy: ParentClosePolicy.ABANDON,
  });
  try {
    return (await child.result()) as TaskOutcome;
  } catch {
    // A task refused, terminated or failed: the starter has nothing more to do.
    return null;
  }
}
