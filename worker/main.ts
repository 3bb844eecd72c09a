// `npm run worker`: the worker process. Reads the configuration, applies migrations, connects
// to Temporal and runs until SIGINT/SIGTERM. Then it takes no new work (the Temporal worker
// stops polling, the outbox dispatcher claims no new batch), lets in-flight activities and the
// delivery batch in flight finish within WORKER_SHUTDOWN_GRACE, and exits 0 (1 when deliveries
// were still in flight as the grace ran out). A second signal kills it at once.
// Its workflow cache and task slots are bounded by the configuration (sized for 1 GiB); it
// serves the SDK's Prometheus metrics on WORKER_METRICS_ADDRESS and its health (ready while it
// polls, not ready while starting or draining) on WORKER_HEALTH_ADDRESS, when they are set.
import { hostname } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { WorkerLogger } from './log.ts';
import { migrate } from '../db/migrate.ts';
import { createPool, isUnreachable, redactUrl } from '../db/pool.ts';
import { config, ConfigError, temporalConnectionOptions, type Config } from './config.ts';
import { startHealthServer, type HealthReport, type HealthServer } from './health.ts';
import { channelFor } from '../activities/notify/channels.ts';
import { OutboxDispatcher } from './outbox.ts';
import { secretsFromEnv, type SecretLookup } from './secrets.ts';
import { dataConverterFromEnv } from './codec.ts';
import { createWorker } from './worker.ts';

function fail(message: string, code: number): never {
  console.error(`worker: ${message}`);
  process.exit(code);
}

let cfg: Config;
let secrets: SecretLookup;
let dataConverter: ReturnType<typeof dataConverterFromEnv>;
try {
  cfg = config();
  secrets = secretsFromEnv();
  dataConverter = dataConverterFromEnv();
} catch (e) {
  fail(e instanceof ConfigError ? e.message : String(e), 1);
}

const identity = `campaign-worker@${hostname()}:${process.pid}`;
/** The Temporal worker once created (read by the health endpoint from the start). */
const current: { worker?: Worker } = {};
/** Projections PostgreSQL refused for good since the worker started (held by their workflows). */
const refused = { count: 0, last: null as { what: string; reason: string; at: string } | null };
/** Set once everything has drained (or given up): the process is about to exit. */
let finished = false;

/** What GET /health says: ready only while the Temporal worker runs and no signal has come. */
function healthReport(): HealthReport {
  const state = current.worker?.getState();
  const status = finished
    ? 'stopped'
    : shutdownAt !== undefined ||
        (state !== undefined && state !== 'INITIALIZED' && state !== 'RUNNING')
      ? 'draining'
      : state === 'RUNNING'
        ? 'ready'
        : 'starting';
  return {
    status,
    identity,
    taskQueue: cfg.taskQueue,
    namespace: cfg.temporalNamespace,
    workerState: state ?? 'NOT_CREATED',
    outboxBusy: outbox.busy,
    // Held by their workflows until `campaign doctor --retry`; the worker itself stays ready.
    projectionsRefused: refused.count,
    ...(refused.last ? { lastProjectionRefused: refused.last } : {}),
  };
}

const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
try {
  Runtime.install({
    logger: new WorkerLogger(cfg.logLevel),
    // The runtime shuts the Temporal worker down (stop polling, wait up to shutdownGraceTime for
    // in-flight activities); the listener below stops the outbox dispatcher at the same moment.
    shutdownSignals: [...SHUTDOWN_SIGNALS],
    ...(cfg.metricsAddress
      ? {
          telemetryOptions: {
            metrics: {
              prometheus: { bindAddress: `${cfg.metricsAddress.host}:${cfg.metricsAddress.port}` },
            },
          },
        }
      : {}),
  });
} catch (e) {
  fail(
    `cannot start the Temporal runtime${cfg.metricsAddress ? ` with metrics on ${cfg.metricsAddress.host}:${cfg.metricsAddress.port} (WORKER_METRICS_ADDRESS)` : ''}: ${(e as Error).message}`,
    1,
  );
}
if (cfg.metricsAddress) {
  console.error(
    `worker: Prometheus metrics on http://${cfg.metricsAddress.host}:${cfg.metricsAddress.port}/metrics`,
  );
}

const pool = createPool(cfg.workerDatabaseUrl, cfg.maxConcurrentActivities + 2);
// Notices in the outbox are delivered by this process too; several workers share the work.
const outbox = new OutboxDispatcher({
  pool,
  channelFor: (c) => channelFor(c, { network: cfg.network, secrets }),
  id: identity,
  leaseMs: durationMs(cfg.outboxLease),
  log: (line) => console.error(`outbox: ${line}`),
});

const graceMs = durationMs(cfg.shutdownGrace);
let shutdownAt: number | undefined;
/** The outbox dispatcher's stop, begun when the signal arrives: true once nothing is in flight. */
let outboxStopped: Promise<boolean> | undefined;

function onShutdownSignal(signal: NodeJS.Signals): void {
  // Only the first signal: without listeners, a second one kills the process as usual.
  for (const s of SHUTDOWN_SIGNALS) process.off(s, onShutdownSignal);
  shutdownAt = Date.now();
  console.error(
    `worker: ${signal} received, shutting down: no new work is taken; in-flight activities and notice deliveries have up to ${cfg.shutdownGrace} to finish`,
  );
  if (outbox.busy) console.error('outbox: waiting for the delivery batch in flight');
  outboxStopped = outbox.stop(graceMs);
}
for (const s of SHUTDOWN_SIGNALS) process.on(s, onShutdownSignal);

// Up before the migrations, connecting and bundling: it says "starting" meanwhile.
let health: HealthServer | undefined;
if (cfg.healthAddress) {
  const { host, port } = cfg.healthAddress;
  try {
    health = await startHealthServer(cfg.healthAddress, healthReport);
  } catch (e) {
    fail(
      `cannot serve the health endpoint on ${host}:${port} (WORKER_HEALTH_ADDRESS): ${(e as Error).message}`,
      1,
    );
  }
  console.error(`worker: health on ${health.url}/health`);
}

// Migrations as the owner (DATABASE_URL); the work itself on the worker's own connection.
const ownPool = cfg.databaseUrl === cfg.workerDatabaseUrl ? pool : createPool(cfg.databaseUrl, 1);
try {
  const applied = await migrate(ownPool);
  if (ownPool !== pool) await ownPool.end();
  if (applied.length) console.error(`worker: applied migrations ${applied.join(', ')}`);
} catch (e) {
  await pool.end();
  if (ownPool !== pool) await ownPool.end().catch(() => {});
  if (isUnreachable(e)) {
    fail(
      `PostgreSQL is not reachable at ${redactUrl(cfg.databaseUrl)}. Start it with \`npm run services:start\` or set DATABASE_URL.`,
      3,
    );
  }
  fail(`database migration failed: ${(e as Error).message}`, 1);
}

let connection: NativeConnection;
try {
  connection = await NativeConnection.connect(temporalConnectionOptions(cfg));
} catch (e) {
  await pool.end();
  fail(
    `Temporal is not reachable at ${cfg.temporalAddress} (${(e as Error).message.split('\n')[0]}). Start it with \`npm run services:start\` or set TEMPORAL_ADDRESS.`,
    3,
  );
}

const worker = await createWorker({
  connection,
  namespace: cfg.temporalNamespace,
  taskQueue: cfg.taskQueue,
  pool,
  tuning: cfg.worker,
  shutdownGraceTime: cfg.shutdownGrace as `${number}s`,
  identity,
  ...(dataConverter ? { dataConverter } : {}),
  activityDeps: {
    projectionRefused: (what: string, reason: string) => {
      refused.count++;
      refused.last = { what, reason, at: new Date().toISOString() };
      console.error(`worker: PostgreSQL refused ${what} for good: ${reason}; see campaign doctor`);
    },
    // The fault suite (`npm run chaos`) times its kills by these lines: off unless asked for.
    ...(process.env.WORKER_TRACE_ACTIVITIES === '1'
      ? {
          beforeActivity: async (name: string) => {
            console.error(`trace: activity ${name}`);
          },
        }
      : {}),
    // Fault tests only: the process kills itself the hard way once the projection of a task
    // event with this sequence number has committed, before its workflow task completes.
    ...(process.env.WORKER_CRASH_AFTER_PROJECTION
      ? {
          afterProjection: (_taskId: string, seq: number) => {
            if (String(seq) !== process.env.WORKER_CRASH_AFTER_PROJECTION) return;
            console.error(`trace: crashing after the projection of event ${seq}`);
            process.kill(process.pid, 'SIGKILL');
          },
        }
      : {}),
    // Fault tests only: the process kills itself the hard way when the projection of a task
    // event with this sequence number starts, after the action was answered and before
    // anything is written; or (the negative control) it loses that projection on purpose.
    ...(process.env.WORKER_CRASH_BEFORE_PROJECTION || process.env.WORKER_LOSE_PROJECTION
      ? {
          beforeProjection: (_taskId: string, seqs: number[]) => {
            const crash = Number(process.env.WORKER_CRASH_BEFORE_PROJECTION);
            if (seqs.includes(crash)) {
              console.error(`trace: crashing before the projection of event ${crash}`);
              process.kill(process.pid, 'SIGKILL');
            }
            const lose = Number(process.env.WORKER_LOSE_PROJECTION);
            if (seqs.includes(lose)) {
              console.error(`trace: losing the projection of events ${seqs.join(', ')}`);
              return 'lose' as const;
            }
          },
        }
      : {}),
  },
});
current.worker = worker;
const { maxCachedWorkflows, maxConcurrentWorkflowTasks, maxConcurrentLocalActivities } = cfg.worker;
console.error(
  `worker: polling task queue "${cfg.taskQueue}" on ${cfg.temporalAddress} (namespace ${cfg.temporalNamespace}); cache ${maxCachedWorkflows} workflows, slots: ${maxConcurrentWorkflowTasks} workflow tasks, ${cfg.maxConcurrentActivities} activities, ${maxConcurrentLocalActivities} local activities; heap limit ${Math.round(getHeapStatistics().heap_size_limit / 2 ** 20)} MiB; Ctrl-C to stop`,
);
if (shutdownAt === undefined) outbox.start();
let drained = false;
try {
  await worker.run();
} finally {
  // After a signal the dispatcher is stopping already; the whole shutdown gets one grace
  // period, counted from the signal.
  const left = shutdownAt === undefined ? graceMs : graceMs - (Date.now() - shutdownAt);
  drained = await (outboxStopped ?? outbox.stop(left));
  finished = true;
  await health?.close();
  if (drained) {
    await connection.close();
    await pool.end();
    console.error('worker: drained: no activity or notice delivery in flight');
    console.error('worker: stopped');
  }
}
if (!drained) {
  // The batch's transaction is still open and would hold pool.end() forever. Exiting rolls it
  // back: its deliveries stay pending, and another worker sends them (possibly a second time).
  console.error(
    `worker: notice deliveries still in flight after ${cfg.shutdownGrace}; left leased, for another worker once the lease (${cfg.outboxLease}) has run out; stopped`,
  );
  process.exit(1);
}

/** A WORKER_SHUTDOWN_GRACE value (`500ms`, `30s`, `2m`; checked by config.ts) in milliseconds. */
function durationMs(value: string): number {
  const m = /^(\d+)(ms|s|m)$/.exec(value);
  if (!m) throw new Error(`not a duration: ${value}`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
}
