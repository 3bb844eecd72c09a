// A worker killed after an update's projection committed and before the workflow task that
// carried the update completed: PostgreSQL must never show an action that the server has not
// recorded. The worker process (`worker/main.ts`, as production runs it) kills itself with
// SIGKILL right after the projection of the task's second event (the submission) commits
// (WORKER_CRASH_AFTER_PROJECTION=2). At that moment the projected state must be backed by the
// history: the update accepted there. A second worker then finishes the update; the caller gets
// its answer, the task is done once, its events are created → submitted → done, once each.
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitUpdate, taskViewQuery } from '../../domain/messages.ts';
import { HOUR } from '../../domain/time.ts';
import { startTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import {
  demoFixture,
  goodData,
  recordFixtureCampaign,
  taskInput,
  type Fixture,
} from '../helpers/task-fixture.ts';
import { startTaskAsChild, starterWorker } from '../helpers/start-task.ts';
import { devServerEnv, type RunningWorker } from '../helpers/temporal.ts';
import { WorkerProcess } from '../helpers/worker-process.ts';

Runtime.install({ logger: new DefaultLogger('ERROR') });

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let fx: Fixture;
let starter: RunningWorker;
const taskQueue = `fence-${randomUUID()}`;
const workers: WorkerProcess[] = [];
let workerEnv: NodeJS.ProcessEnv;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  [env, db, fx] = await Promise.all([devServerEnv(), startTestDatabase(), demoFixture()]);
  starter = await starterWorker(env, db.pool);
  await recordFixtureCampaign(db.pool, fx);
  workerEnv = {
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: taskQueue,
    DATABASE_URL: db.url,
    LOG_LEVEL: 'WARN',
  };
}, 180_000);

afterAll(async () => {
  for (const w of workers) if (!w.exit) await w.stop(10_000);
  await starter?.stop();
  await db?.close();
}, 60_000);

describe('projections behind the history', () => {
  it('shows no action in PostgreSQL that the server has not recorded, when the worker dies mid-update', async () => {
    const crashing = new WorkerProcess('worker A', {
      ...workerEnv,
      WORKER_CRASH_AFTER_PROJECTION: '2',
    });
    workers.push(crashing);
    await crashing.waitForLog(/polling task queue/, 180_000);

    // A task without review: a submission makes it done (events 2 and 3).
    const input = taskInput(fx, Date.now() + 48 * HOUR, { review: false });
    const handle = await startTaskAsChild(env.client, input, {
      taskQueue,
      starterQueue: starter.taskQueue,
    });
    for (;;) {
      const r = await db.pool.query('SELECT 1 FROM tasks WHERE task_id = $1', [input.taskId]);
      if (r.rowCount) break;
      await sleep(50);
    }

    const updateId = `fence-${randomUUID()}`;
    const answer = handle
      .executeUpdate(submitUpdate, {
        updateId,
        args: [{ requestId: updateId, actor: input.assignee, data: goodData }],
      })
      .then(
        (v) => ({ ok: true as const, v }),
        (e: unknown) => ({ ok: false as const, e }),
      );
    const exit = await crashing.exited;
    expect(exit.signal, crashing.log).toBe('SIGKILL');
    expect(crashing.log).toMatch(/crashing after the projection of event 2/);

    // The projection committed the submission; the history must have accepted the update.
    const row = await db.pool.query<{ state: string; last_seq: number }>(
      'SELECT state, last_seq FROM tasks WHERE task_id = $1',
      [input.taskId],
    );
    expect(row.rows[0]!.last_seq).toBeGreaterThanOrEqual(2);
    const history = await handle.fetchHistory();
    const accepted = (history.events ?? []).filter(
      (e) => e.workflowExecutionUpdateAcceptedEventAttributes?.protocolInstanceId === updateId,
    );
    expect(accepted, `projected ${row.rows[0]!.state} at seq ${row.rows[0]!.last_seq}`).toHaveLength(1); // prettier-ignore

    // Another worker finishes the update: the caller's answer, one submission, done.
    const next = new WorkerProcess('worker B', workerEnv);
    workers.push(next);
    await next.waitForLog(/polling task queue/, 180_000);
    const got = await answer;
    expect(got.ok, got.ok ? '' : String(got.e)).toBe(true);
    if (got.ok) expect(got.v.state).toBe('done');
    expect((await handle.query(taskViewQuery)).state).toBe('done');
    await handle.result();
    const events = await db.pool.query<{ seq: number; type: string }>(
      'SELECT seq, type FROM task_events WHERE task_id = $1 ORDER BY seq',
      [input.taskId],
    );
    expect(events.rows.map((e) => `${e.seq} ${e.type}`)).toEqual(['1 created', '2 submitted', '3 done']); // prettier-ignore
    const final = await db.pool.query<{ state: string }>(
      'SELECT state FROM tasks WHERE task_id = $1',
      [input.taskId],
    );
    expect(final.rows[0]!.state).toBe('done');
  }, 600_000);
});
