// A workflow's projections to PostgreSQL, scheduled as ordinary activities in the workflow task
// that changed the state, and followed until they land.
//
// The workflow never awaits a projection before it answers: the update's answer goes back in
// the workflow task that accepted it, and the projection's activity is scheduled in the same
// task (eager execution keeps it on the worker). PostgreSQL is therefore never ahead of the
// workflow. Each projection carries the workflow's own version (a task's event seq, an
// indicator's version), and its upsert only moves a row forward, so retries and out-of-order
// completions are harmless.
//
// A projection the database refuses for good (bad data, a constraint: the activity fails it as
// non-retryable, activities/projection-errors.ts) is not retried forever: it is held here,
// listed by the `stuckProjections` query, flagged by the `ProjectionStuck` search attribute and
// the workflow's current details, and run again on the `retryProjections` signal once its cause
// is fixed (`campaign doctor --retry`). A workflow does not finish while one is held, so that
// nothing it did is lost from the reports.
import { condition, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import {
  retryProjectionsSignal,
  stuckProjectionsQuery,
  type StuckProjection,
} from '../../domain/messages.ts';
import { SA } from '../../domain/search-attributes.ts';

interface Held extends StuckProjection {
  run: () => Promise<unknown>;
}

const reasonOf = (e: unknown): string => {
  const cause = (e as { cause?: { message?: unknown } })?.cause;
  return String(cause?.message ?? (e as Error)?.message ?? e);
};

export class Projections {
  private inflight = 0;
  private readonly held: Held[] = [];

  /** `changed` is called when a projection is held or released (to re-publish details). */
  constructor(private readonly changed: () => void = () => {}) {
    setHandler(stuckProjectionsQuery, () => this.stuck());
    setHandler(retryProjectionsSignal, () => this.retry());
  }

  /** Schedules the projection now, in this workflow task, and follows it to its end. */
  run(what: string, project: () => Promise<unknown>): void {
    this.inflight++;
    void project().then(
      () => {
        this.inflight--;
      },
      (e: unknown) => {
        this.inflight--;
        const first = this.held.length === 0;
        this.held.push({ what, message: reasonOf(e), since: Date.now(), run: project });
        if (first) upsertSearchAttributes([{ key: SA.projectionStuck, value: true }]);
        this.changed();
      },
    );
  }

  /** The projections held back, oldest first. */
  stuck(): StuckProjection[] {
    return this.held.map(({ what, message, since }) => ({ what, message, since }));
  }

  /** Runs every held projection again. */
  retry(): void {
    const again = this.held.splice(0);
    if (!again.length) return;
    upsertSearchAttributes([{ key: SA.projectionStuck, value: false }]);
    for (const p of again) this.run(p.what, p.run);
    this.changed();
  }

  /** Whether everything scheduled has landed. */
  settled(): boolean {
    return this.inflight === 0 && this.held.length === 0;
  }

  /** Waits until everything scheduled has landed (before the workflow ends or continues). */
  async drained(): Promise<void> {
    await condition(() => this.settled());
  }
}
