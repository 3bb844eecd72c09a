// `npm run worker`: the worker process. Reads the configuration, applies migrations, connects
// to Temporal and runs until SIGINT/SIGTERM, then finishes in-flight activities and exits.
import { hostname } from 'node:os';
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import { migrate } from '../db/migrate.ts';
import { createPool, isUnreachable, redactUrl } from '../db/pool.ts';
import { config, ConfigError } from './config.ts';
import { OutboxDispatcher } from './outbox.ts';
import { createWorker } from './worker.ts';

function fail(message: string, code: number): never {
  console.error(`worker: ${message}`);
  process.exit(code);
}

let cfg;
try {
  cfg = config();
} catch (e) {
  fail(e instanceof ConfigError ? e.message : String(e), 1);
}

Runtime.install({
  logger: new DefaultLogger(cfg.logLevel),
  shutdownSignals: ['SIGINT', 'SIGTERM'],
});

const pool = createPool(cfg.databaseUrl, cfg.maxConcurrentActivities + 2);
try {
  const applied = await migrate(pool);
  if (applied.length) console.error(`worker: applied migrations ${applied.join(', ')}`);
} catch (e) {
  await pool.end();
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
  connection = await NativeConnection.connect({ address: cfg.temporalAddress });
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
  maxConcurrentActivityTaskExecutions: cfg.maxConcurrentActivities,
  shutdownGraceTime: cfg.shutdownGrace as `${number}s`,
  identity: `campaign-worker@${hostname()}:${process.pid}`,
});
console.error(
  `worker: polling task queue "${cfg.taskQueue}" on ${cfg.temporalAddress} (namespace ${cfg.temporalNamespace}); Ctrl-C to stop`,
);
// Notices in the outbox are delivered by this process too; several workers share the work.
const outbox = new OutboxDispatcher({ pool, log: (line) => console.error(`outbox: ${line}`) });
outbox.start();
try {
  await worker.run();
} finally {
  await outbox.stop();
  await connection.close();
  await pool.end();
  console.error('worker: stopped');
}
