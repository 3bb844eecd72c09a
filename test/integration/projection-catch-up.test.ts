// An action is answered in the workflow task that accepts it, and its projection to PostgreSQL
// runs after, as an ordinary activity scheduled in that same task. A worker killed between the
// two (WORKER_CRASH_BEFORE_PROJECTION=2: it kills itself with SIGKILL when the projection of
// the submission starts, before anything is written) leaves PostgreSQL behind the history, never
// ahead of it, and the activity is retried by the next worker: PostgreSQL catches up with every
// event once, nothing lost and nothing doubled. The negative control runs the same check against
// a worker that loses that projection on purpose (WORKER_LOSE_PROJECTION=2), and the check fails.
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitUpdate } from '../../domain/messages.ts';
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
const workers: WorkerProcess[] = [];
const workerEnv = (taskQueue: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  TEMPORAL_ADDRESS: env.address,
  TEMPORAL_NAMESPACE: 'default',
  TEMPORAL_TASK_QUEUE: taskQueue,
  DATABASE_URL: db.url,
  LOG_LEVEL: 'WARN',
  ...extra,
});
const worker = async (name: string, e: NodeJS.ProcessEnv) => {
  const w = new WorkerProcess(name, e);
  workers.push(w);
  await w.waitForLog(/polling task queue/, 180_000);
  return w;
};

beforeAll(async () => {
  [env, db, fx] = await Promise.all([devServerEnv(), startTestDatabase(), demoFixture()]);
  starter = await starterWorker(env, db.pool);
  await recordFixtureCampaign(db.pool, fx);
}, 180_000);

afterAll(async () => {
  for (const w of workers) if (!w.exit) await w.stop(10_000);
  await starter?.stop();
  await db?.close();
}, 60_000);

/** The differences between what PostgreSQL holds of a finished task and its life. */
async function differences(taskId: string): Promise<string[]> {
  const out: string[] = [];
  const events = await db.pool.query<{ seq: number; type: string }>(
    'SELECT seq, type FROM task_events WHERE task_id = $1 ORDER BY seq',
    [taskId],
  );
  const got = events.rows.map((e) => `${e.seq} ${e.type}`).join(', ');
  if (got !== '1 created, 2 submitted, 3 done') out.push(`events: ${got}`);
  const row = await db.pool.query<{ state: string; last_seq: number }>(
    'SELECT state, last_seq FROM tasks WHERE task_id = $1',
    [taskId],
  );
  if (row.rows[0]?.state !== 'done' || row.rows[0]?.last_seq !== 3)
    out.push(`task row: ${JSON.stringify(row.rows[0])}`);
  const subs = await db.pool.query('SELECT 1 FROM submissions WHERE task_id = $1', [taskId]);
  if (subs.rowCount !== 1) out.push(`submissions: ${subs.rowCount}`);
  const notices = await db.pool.query<{ kind: string }>(
    'SELECT kind FROM notices WHERE task_id = $1 ORDER BY event_seq',
    [taskId],
  );
  const kinds = notices.rows.map((n) => n.kind).join(', ');
  if (kinds !== 'created, done') out.push(`notices: ${kinds}`);
  return out;
}

/** Starts a task without review on the queue and submits it; the answer, once it comes. */
async function startAndSubmit(taskQueue: string) {
  const input = taskInput(fx, Date.now() + 48 * HOUR, { review: false });
  const handle = await startTaskAsChild(env.client, input, {
    taskQueue,
    starterQueue: starter.taskQueue,
  });
  // The creation's projection has landed before the submission is sent.
  for (;;) {
    const r = await db.pool.query('SELECT 1 FROM tasks WHERE task_id = $1', [input.taskId]);
    if (r.rowCount) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const requestId = `catch-up-${randomUUID()}`;
  const answer = handle
    .executeUpdate(submitUpdate, {
      updateId: requestId,
      args: [{ requestId, actor: input.assignee, data: goodData }],
    })
    .then(
      (v) => ({ ok: true as const, v }),
      (e: unknown) => ({ ok: false as const, e }),
    );
  return { input, handle, answer, requestId };
}

describe('a projection behind its answer', () => {
  it('catches up in PostgreSQL, nothing lost or doubled, when the worker dies between the answer and the projection', async () => {
    const taskQueue = `catch-up-${randomUUID()}`;
    const crashing = await worker(
      'worker A',
      workerEnv(taskQueue, { WORKER_CRASH_BEFORE_PROJECTION: '2' }),
    );
    const { input, handle, answer, requestId } = await startAndSubmit(taskQueue);
    const exit = await crashing.exited;
    expect(exit.signal, crashing.log).toBe('SIGKILL');
    expect(crashing.log).toMatch(/crashing before the projection of event 2/);

    // The update was answered and recorded; PostgreSQL is behind the history, not ahead of it.
    const got = await answer;
    expect(got.ok, got.ok ? '' : String(got.e)).toBe(true);
    if (got.ok) expect([got.v.state, got.v.version]).toEqual(['done', 3]);
    const history = await handle.fetchHistory();
    const completed = (history.events ?? []).filter(
      (e) => e.workflowExecutionUpdateCompletedEventAttributes?.meta?.updateId === requestId,
    );
    expect(completed).toHaveLength(1);
    const behind = await db.pool.query<{ last_seq: number }>(
      'SELECT last_seq FROM tasks WHERE task_id = $1',
      [input.taskId],
    );
    expect(behind.rows[0]!.last_seq).toBe(1);

    // The next worker runs the projection again; the task ends once it has landed.
    await worker('worker B', workerEnv(taskQueue));
    await handle.result();
    expect(await differences(input.taskId)).toEqual([]);
  }, 600_000);

  it('is caught by the same check when the projection is lost (the negative control)', async () => {
    const taskQueue = `lose-${randomUUID()}`;
    const losing = await worker('worker C', workerEnv(taskQueue, { WORKER_LOSE_PROJECTION: '2' }));
    const { input, handle, answer } = await startAndSubmit(taskQueue);
    expect((await answer).ok).toBe(true);
    await handle.result();
    expect(losing.log).toMatch(/losing the projection of events 2, 3/);
    const found = await differences(input.taskId);
    expect(found).toContain('events: 1 created');
    expect(found.length).toBeGreaterThan(1);
  }, 600_000);
});
