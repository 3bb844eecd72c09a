// The worker's health endpoint and metrics, on a real `worker/main.ts` process against the dev
// server and a throw-away PostgreSQL. /health says "starting" (503) while the worker cannot yet
// poll (here: held in its migrations by the test holding their advisory lock), "ready" (200)
// once it polls, and "draining" (503) from SIGTERM until it exits (here: while an activity it
// runs waits on a row the test keeps locked). The metrics endpoint serves the Temporal SDK's
// Prometheus metrics, among them its workflow cache, which stays within the configured bound.
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { devServerEnv, freePort } from '../helpers/temporal.ts';
import { WorkerProcess } from '../helpers/worker-process.ts';

Runtime.install({ logger: new DefaultLogger('ERROR') });

/** The migrations' advisory lock (db/migrate.ts). */
const MIGRATION_LOCK = 7_233_2026;
const CACHE = 8;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(
  what: string,
  read: () => Promise<T>,
  done: (v: T) => boolean,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}: ${JSON.stringify(v)}`);
    await sleep(100);
  }
}

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let lockHolder: pg.PoolClient | undefined;
let worker: WorkerProcess;
let healthUrl: string;
let metricsUrl: string;
const taskQueue = `health-${randomUUID()}`;

async function health(): Promise<{ code: number; body: { status: string; workerState: string } }> {
  const r = await fetch(`${healthUrl}/health`);
  return { code: r.status, body: (await r.json()) as { status: string; workerState: string } };
}

beforeAll(async () => {
  [env, db] = await Promise.all([devServerEnv(), startTestDatabase({ migrate: false })]);
  // Hold the migrations' lock: the worker waits in its migrations until the test lets go.
  lockHolder = await db.pool.connect();
  await lockHolder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
  const metricsPort = await freePort();
  worker = new WorkerProcess('worker', {
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: taskQueue,
    DATABASE_URL: db.url,
    WORKER_HEALTH_ADDRESS: '127.0.0.1:0',
    WORKER_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
    WORKER_MAX_CACHED_WORKFLOWS: String(CACHE),
    WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '4',
    WORKER_SHUTDOWN_GRACE: '60s',
    LOG_LEVEL: 'WARN',
  });
  await worker.waitForLog(/worker: health on http:\/\/127\.0\.0\.1:\d+\/health/);
  healthUrl = /worker: health on (http:\/\/127\.0\.0\.1:\d+)\/health/.exec(worker.log)![1]!;
  metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
});

afterAll(async () => {
  if (lockHolder) {
    await lockHolder.query('ROLLBACK').catch(() => {});
    await lockHolder.query('SELECT pg_advisory_unlock_all()').catch(() => {});
    lockHolder.release();
  }
  await worker?.stop(70_000);
  await env?.teardown();
  await db?.close();
});

describe('the worker process', () => {
  it('is not ready while it starts, and ready once it polls its task queue', async () => {
    const starting = await health();
    expect(starting).toEqual({
      code: 503,
      body: expect.objectContaining({ status: 'starting', workerState: 'NOT_CREATED' }),
    });
    // Still starting for as long as the migrations wait.
    await sleep(1_000);
    expect((await health()).body.status).toBe('starting');
    await lockHolder!.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    lockHolder!.release();
    lockHolder = undefined;

    const ready = await until('ready', health, (h) => h.body.status === 'ready');
    expect(ready).toEqual({
      code: 200,
      body: expect.objectContaining({ status: 'ready', workerState: 'RUNNING', taskQueue }),
    });
    expect(worker.log).toMatch(
      new RegExp(
        `polling task queue "${taskQueue}".*cache ${CACHE} workflows, slots: 4 workflow tasks`,
      ),
    );
    // Polling indeed: Temporal lists it among the task queue's pollers.
    await until(
      'the worker among the pollers',
      async () =>
        (
          await env.client.workflowService.describeTaskQueue({
            namespace: 'default',
            taskQueue: { name: taskQueue, kind: 1 },
            taskQueueType: 1,
          })
        ).pollers?.map((p) => p.identity) ?? [],
      (ids) => ids.includes(worker.identity),
    );
  });

  it('serves the Temporal SDK metrics, its workflow cache within the bound', async () => {
    // More workflows than the cache holds, each done through the worker.
    await Promise.all(
      Array.from({ length: 3 * CACHE }, async (_, i) => {
        const checkId = `health-check-${i}-${randomUUID()}`;
        const h = await env.client.workflow.start('systemCheckWorkflow', {
          taskQueue,
          workflowId: checkId,
          args: [{ checkId, sleepMs: 50, requestedAt: Date.now() }],
        });
        await h.result();
      }),
    );
    const text = await until(
      'the worker metrics',
      async () => (await fetch(metricsUrl)).text(),
      (t) => /temporal_workflow_completed/.test(t),
    );
    const r = await fetch(metricsUrl);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/text\/plain/);
    // Metrics of the SDK's worker, labelled with the task queue.
    expect(text).toMatch(
      new RegExp(`^temporal_worker_start\\{[^}]*task_queue="${taskQueue}"`, 'm'),
    );
    expect(text).toMatch(/^temporal_workflow_completed\{[^}]*workflow_type="systemCheckWorkflow"/m);
    const cached = [...text.matchAll(/^temporal_sticky_cache_size\{[^}]*\} (\d+)/gm)].map((m) =>
      Number(m[1]),
    );
    expect(cached.length).toBeGreaterThan(0);
    for (const n of cached) expect(n).toBeLessThanOrEqual(CACHE);
  });

  it('is not ready while it drains after SIGTERM, and exits 0 once drained', async () => {
    // A system check whose row the test has inserted in a transaction it keeps open: the
    // worker's activity waits on it, so the worker has work in flight for as long as the test
    // wants.
    const checkId = `held-${randomUUID()}`;
    lockHolder = await db.pool.connect();
    await lockHolder.query('BEGIN');
    await lockHolder.query(
      `INSERT INTO system_checks (check_id, workflow_id, run_id, requested_at, slept_ms, workflow_time)
       VALUES ($1, 'test', 'test', now(), 0, now())`,
      [checkId],
    );
    const h = await env.client.workflow.start('systemCheckWorkflow', {
      taskQueue,
      workflowId: checkId,
      args: [{ checkId, sleepMs: 10, requestedAt: Date.now() }],
    });
    await until(
      'the activity running',
      async () => (await h.describe()).raw.pendingActivities?.map((a) => Number(a.state)) ?? [],
      (states) => states.includes(2), // PENDING_ACTIVITY_STATE_STARTED
    );
    process.kill(worker.pid, 'SIGTERM');
    const draining = await until('draining', health, (x) => x.body.status !== 'ready');
    expect(draining).toEqual({
      code: 503,
      body: expect.objectContaining({ status: 'draining' }),
    });
    // Still draining while the activity waits.
    await sleep(1_000);
    expect((await health()).body.status).toBe('draining');
    expect(worker.exit).toBeUndefined();

    await lockHolder.query('ROLLBACK');
    lockHolder.release();
    lockHolder = undefined;
    const exit = await worker.exited;
    expect(exit, worker.log).toMatchObject({ code: 0, signal: null });
    expect(worker.log).toMatch(/worker: drained/);
    // The activity finished before the worker went: the row is the worker's.
    const rows = await db.pool.query('SELECT workflow_id FROM system_checks WHERE check_id = $1', [
      checkId,
    ]);
    expect(rows.rows).toEqual([{ workflow_id: checkId }]);
    // The endpoint went with the process.
    await expect(fetch(`${healthUrl}/health`)).rejects.toThrow();
  });
});
