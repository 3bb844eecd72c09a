// Update handlers whose acceptance is durable before they change or project anything.
//
// An update is accepted on the server only when the workflow task that runs its handler
// completes. Projections are local activities, which run inside that workflow task: a worker
// killed while one ran used to leave PostgreSQL holding the action although the server had
// dropped the update, and the caller had been told only that no worker answered. A fenced
// handler first schedules an ordinary activity that does nothing (`acknowledgeUpdate`), which
// ends the workflow task and makes the acceptance durable, then checks the request again with
// its validator (the state may have moved while it waited: a second update that passed its
// validator beside the first is refused here, as an ApplicationFailure) and only then runs.
// Patched ('accepted-before-projection'): executions from before keep their histories.
import { patched, proxyActivities, setHandler } from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import type { createActivities } from '../../activities/index.ts';
import { checkShape } from './actions.ts';

const { acknowledgeUpdate } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '10 seconds' },
});

/**
 * `setHandler` for an update, fenced: its request's shape checked (the senders' schema), its
 * validator run, accepted durably, validated again, then handled.
 */
export function setFencedUpdate<Ret, Args extends unknown[]>(
  def: UpdateDefinition<Ret, Args>,
  handler: (...args: Args) => Promise<Ret>,
  options: { validator: (...args: Args) => void },
): void {
  const validator = (...args: Args): void => {
    checkShape(def.name, args[0]);
    options.validator(...args);
  };
  setHandler(
    def,
    async (...args: Args): Promise<Ret> => {
      if (patched('accepted-before-projection')) {
        await acknowledgeUpdate();
        validator(...args);
      }
      return handler(...args);
    },
    { validator },
  );
}
