// Which database errors a retry cannot cure. A projection that fails with one of them (bad
// data such as a string PostgreSQL cannot hold, a violated constraint) would fail the same way
// on every retry: it is failed as non-retryable, and the workflow holds it for
// `campaign doctor --retry` (workflows/lib/projections.ts) instead of retrying it forever.
// Every other error (the database down, a connection lost, a deadlock) is retried as usual.
import { ApplicationFailure } from '@temporalio/common';

/** SQLSTATE classes that no retry cures: data exceptions and integrity constraint violations. */
const FOR_GOOD = ['22', '23'];

/** The type of the non-retryable failure that a refused projection raises. */
export const PROJECTION_REFUSED = 'ProjectionRefused';

/** Runs a projection; a database refusal for good becomes a non-retryable failure. */
export async function refusedForGood<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    const code = (e as { code?: unknown })?.code;
    if (typeof code === 'string' && FOR_GOOD.includes(code.slice(0, 2))) {
      throw ApplicationFailure.nonRetryable(
        `PostgreSQL refused ${what}: ${(e as Error).message} (SQLSTATE ${code})`,
        PROJECTION_REFUSED,
      );
    }
    throw e;
  }
}
