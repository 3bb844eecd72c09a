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
import { creationRecord } from '../../domain/task-start.ts';
import type { TaskInput } from '../../domain/task.ts';
import type { ProjectTaskEventInput } from '../../activities/tasks.ts';

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

/**
 * The creation of the tasks a workflow starts in one workflow task, projected by one activity
 * for all of them (each task then skips its own): the first task added schedules it, after the
 * workflow's synchronous work of this task has added its siblings.
 */
export class NewTasks {
  private batch: TaskInput[] | null = null;

  constructor(
    private readonly projections: Projections,
    private readonly project: (tasks: ProjectTaskEventInput[]) => Promise<void>,
  ) {}

  add(task: TaskInput): void {
    if (this.batch) {
      this.batch.push(task);
      return;
    }
    const batch = [task];
    this.batch = batch;
    const at = Date.now();
    // Scheduled once the siblings started in the same turn have joined the batch.
    void Promise.resolve().then(() => {
      this.batch = null;
      const records = batch.map((t) => ({ ...creationRecord(t, at), channels: t.channels }));
      this.projections.run(`事项创建 ${batch.length} 项`, () => this.project(records));
    });
  }
}
