// Which database errors a retry cannot cure. A projection that fails with one of them (bad
// data such as a string PostgreSQL cannot hold, a violated constraint) would fail the same way
// on every retry: it is failed as non-retryable, and the workflow holds it for
// `campaign doctor --retry` (workflows/lib/projections.ts) instead of retrying it forever.
// Every other error (the database down, a connection lost, a deadlock) is retried as usual.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';

/** Told of every projection refused for good (the worker's /health counts them). */
export type RefusedListener = (what: string, reason: string) => void;

/** SQLSTATE classes that no retry cures: data exceptions and integrity constraint violations. */
const FOR_GOOD = ['22', '23'];

/** The type of the non-retryable failure that a refused projection raises. */
export const PROJECTION_REFUSED = 'ProjectionRefused';

/** Runs a projection; a database refusal for good becomes a non-retryable failure. */
export async function refusedForGood<T>(
  what: string,
  run: () => Promise<T>,
  refused?: RefusedListener,
): Promise<T> {
  try {
    return await run();
  } catch (e) {
    const code = (e as { code?: unknown })?.code;
    if (typeof code === 'string' && FOR_GOOD.includes(code.slice(0, 2))) {
      const reason = `${(e as Error).message} (SQLSTATE ${code})`;
      refused?.(what, reason);
      // The worker's Prometheus metrics (WORKER_METRICS_ADDRESS) count them too.
      activityMeter()
        ?.createCounter('projections_refused', '1', 'projections PostgreSQL refused for good')
        .add(1);
      throw ApplicationFailure.nonRetryable(
        `PostgreSQL refused ${what}: ${reason}`,
        PROJECTION_REFUSED,
      );
    }
    throw e;
  }
}

/** The running activity's metric meter, or none outside an activity (unit tests). */
function activityMeter() {
  try {
    return Context.current().metricMeter;
  } catch {
    return undefined;
  }
}
