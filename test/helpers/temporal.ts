// Temporal servers for tests, from the project's own cached builds (never downloaded):
// the Java time-skipping test server, and the temporal CLI's dev server with our search
// attributes registered.
import type pg from 'pg';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { ActivityInboundCallsInterceptor } from '@temporalio/worker';
import {
  bundleWorkflowCode,
  type WorkerOptions,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import type { ActivityDeps } from '../../activities/index.ts';
import { createWorker, WORKFLOWS_PATH } from '../../worker/worker.ts';
import { freePort, startTestDatabase, type TestDatabase } from './postgres.ts';
import { startDevServer, startTimeSkippingServer } from './servers.ts';

/** The Java time-skipping test server, started and waited for by the project (servers.ts). */
export const timeSkippingEnv = (): Promise<TestWorkflowEnvironment> => startTimeSkippingServer();

/**
 * The dev server; with `uiPort`, its Web UI too (the CLI serves it on that port, same host);
 * `extraArgs` go to `temporal server start-dev` (e.g. `--ui-codec-endpoint`).
 */
export const devServerEnv = (
  opts: { uiPort?: number; extraArgs?: string[] } = {},
): Promise<TestWorkflowEnvironment> => startDevServer(opts);

/** A TCP port nobody listens on right now (the OS picks it). */
export { freePort };

/** Bundle the workflow code once per test file (with the test-only parents when asked). */
export function bundleWorkflows(
  opts: { withTestParents?: boolean } = {},
): Promise<WorkflowBundleWithSourceMap> {
  const workflowsPath = opts.withTestParents
    ? fileURLToPath(new URL('../workflows/index.ts', import.meta.url))
    : WORKFLOWS_PATH;
  return bundleWorkflowCode({ workflowsPath, logger: quietLogger });
}

const noop = () => {};
const quietLogger = {
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: console.error,
  log: noop,
};

export interface Harness {
  env: TestWorkflowEnvironment;
  db: TestDatabase;
  taskQueue: string;
  /** The Web UI's base URL (e.g. http://127.0.0.1:41234), when started with `ui: true`. */
  uiUrl?: string;
  close(): Promise<void>;
}

export interface RunningWorker {
  taskQueue: string;
  /** Stops polling, lets in-flight work finish and waits for the worker to end. */
  stop(): Promise<void>;
}

/** A worker with the product's activities, polling a task queue of its own on `env`'s server. */
export async function runWorker(
  env: TestWorkflowEnvironment,
  pool: pg.Pool,
  workflowBundle: WorkflowBundleWithSourceMap,
  opts: {
    prefix?: string;
    activityDeps?: Partial<ActivityDeps>;
    maxConcurrentActivityTaskExecutions?: number;
    /** The payload codec (worker/codec.ts) for a test that encrypts its payloads. */
    dataConverter?: WorkerOptions['dataConverter'];
  } = {},
): Promise<RunningWorker> {
  const taskQueue = `${opts.prefix ?? 'test'}-${randomUUID()}`;
  const worker = await createWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue,
    pool,
    workflowBundle,
    ...(opts.activityDeps ? { activityDeps: opts.activityDeps } : {}),
    ...(opts.maxConcurrentActivityTaskExecutions
      ? { maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivityTaskExecutions }
      : {}),
    ...(opts.dataConverter ? { dataConverter: opts.dataConverter } : {}),
    ...(env.supportsTimeSkipping
      ? { interceptors: { activity: [holdTimeWhileRunning(env)] } }
      : {}),
  });
  const running = worker.run();
  return {
    taskQueue,
    async stop() {
      worker.shutdown();
      await running;
    },
  };
}

/**
 * On the time-skipping server, time is held while an activity runs, as it passes in real life
 * for the few milliseconds a projection takes, so that a `sleep` or a `result()` that lets the
 * server skip cannot jump past a running activity's timeout (the workflows project by ordinary
 * activities, which run outside their workflow tasks).
 */
function holdTimeWhileRunning(env: TestWorkflowEnvironment) {
  const testService = env.connection.testService;
  return (): { inbound: ActivityInboundCallsInterceptor } => ({
    inbound: {
      async execute(input, next) {
        if (!testService) return next(input);
        await testService.lockTimeSkipping({});
        try {
          return await next(input);
        } finally {
          await testService.unlockTimeSkipping({}).catch(() => undefined);
        }
      },
    },
  });
}

/**
 * A Temporal server (time-skipping or dev), a throw-away PostgreSQL and a worker polling a
 * task queue of its own: what most workflow and integration test files need.
 */
export async function startHarness(
  server: 'time-skipping' | 'dev',
  opts: { withTestParents?: boolean; activityDeps?: Partial<ActivityDeps>; ui?: boolean } = {},
): Promise<Harness> {
  if (opts.ui && server !== 'dev') throw new Error('only the dev server has a Web UI');
  const uiPort = opts.ui ? await freePort() : undefined;
  const [env, db, bundle] = await Promise.all([
    server === 'dev' ? devServerEnv(uiPort ? { uiPort } : {}) : timeSkippingEnv(),
    startTestDatabase(),
    bundleWorkflows({ withTestParents: opts.withTestParents ?? false }),
  ]);
  const worker = await runWorker(env, db.pool, bundle, {
    prefix: 'test',
    ...(opts.activityDeps ? { activityDeps: opts.activityDeps } : {}),
  });
  return {
    env,
    db,
    taskQueue: worker.taskQueue,
    ...(uiPort ? { uiUrl: `http://127.0.0.1:${uiPort}` } : {}),
    async close() {
      await worker.stop();
      await env.teardown();
      await db.close();
    },
  };
}

/**
 * Waits until a workflow has no workflow task in flight. The Java test server has no
 * speculative workflow tasks: an update that arrives while a task is in flight (for example
 * right after skipped time fired timers) can collide with it, so tests let it settle first.
 */
export async function settle(handle: {
  describe(): Promise<{ raw: { pendingWorkflowTask?: unknown } }>;
}): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const d = await handle.describe();
    if (!d.raw.pendingWorkflowTask) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The result of a workflow that is about to finish without any timer firing. Polling its status
 * first keeps `result()` (which lets the test server skip time while it waits) from racing the
 * last workflow tasks.
 */
export async function finishedResult<T>(handle: {
  describe(): Promise<{ status: { name: string } }>;
  result(): Promise<T>;
  fetchHistory(): Promise<{ events?: temporal.api.history.v1.IHistoryEvent[] | null }>;
}): Promise<T> {
  for (let i = 0; i < 600; i++) {
    if ((await handle.describe()).status.name !== 'RUNNING') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  // A completed workflow's result read from its history: no unlocking and locking of the
  // time-skipping server's clock around a wait, as `result()` does.
  const events = (await handle.fetchHistory()).events ?? [];
  const done = events[events.length - 1]?.workflowExecutionCompletedEventAttributes;
  const payload = done?.result?.payloads?.[0];
  if (payload) return defaultPayloadConverter.fromPayload<T>(payload);
  return handle.result();
}
