// `npm run portal`: the department portal. Reads the configuration, applies the database
// migrations (safe beside workers), connects to Temporal as a client, listens on PORTAL_PORT and
// prints its address; SIGINT/SIGTERM close it (requests in flight finish first).
import { Client, Connection } from '@temporalio/client';
import { migrate } from '../db/migrate.ts';
import { createPool, isUnreachable, redactUrl } from '../db/pool.ts';
import { dataConverterFromEnv } from '../worker/codec.ts';
import { ConfigError, temporalConnectionOptions } from '../worker/config.ts';
import { buildPortal } from './app.ts';
import { readPortalConfig, type PortalConfig } from './config.ts';

function fail(message: string): never {
  console.error(`portal: ${message}`);
  process.exit(1);
}

let cfg: PortalConfig;
try {
  cfg = readPortalConfig();
} catch (e) {
  fail(e instanceof ConfigError ? e.message : String(e));
}

// Migrations as the owner (DATABASE_URL); the portal's work on its own connection.
const pool = createPool(cfg.shared.portalDatabaseUrl, 10);
const ownPool =
  cfg.shared.databaseUrl === cfg.shared.portalDatabaseUrl
    ? pool
    : createPool(cfg.shared.databaseUrl, 1);
try {
  await migrate(ownPool);
  if (ownPool !== pool) await ownPool.end();
} catch (e) {
  await pool.end();
  if (ownPool !== pool) await ownPool.end().catch(() => {});
  fail(
    isUnreachable(e)
      ? `PostgreSQL is not reachable at ${redactUrl(cfg.shared.databaseUrl)}: start it with \`npm run services:start\` or set DATABASE_URL`
      : `migrations failed: ${(e as Error).message}`,
  );
}

let connection: Connection;
try {
  // The same options as the CLI's and the worker's: Temporal's environment configuration
  // (TEMPORAL_* variables, temporal.toml profile), TLS and API key included.
  connection = await Connection.connect({
    ...temporalConnectionOptions(cfg.shared),
    connectTimeout: 5000,
  });
  await connection.workflowService.getSystemInfo({});
} catch (e) {
  await pool.end();
  fail(
    `Temporal is not reachable at ${cfg.shared.temporalAddress} (${String((e as Error)?.message ?? e).split('\n')[0]}): start it with \`npm run services:start\` or set TEMPORAL_ADDRESS`,
  );
}
const dataConverter = dataConverterFromEnv();
const temporal = new Client({
  connection,
  namespace: cfg.shared.temporalNamespace,
  ...(dataConverter ? { dataConverter } : {}),
});

const app = await buildPortal({ pool, temporal, cfg });
try {
  await app.listen({ port: cfg.port, host: cfg.host });
} catch (e) {
  const code = (e as NodeJS.ErrnoException).code;
  await Promise.all([pool.end(), connection.close()]);
  fail(
    code === 'EADDRINUSE'
      ? `port ${cfg.port} on ${cfg.host} is taken by another program: choose another with PORTAL_PORT`
      : String((e as Error).message),
  );
}
const shown = cfg.host === '0.0.0.0' || cfg.host === '::' ? 'localhost' : cfg.host;
console.log(`portal: listening on http://${shown}:${cfg.port} (people open ${cfg.publicUrl})`);

let closing = false;
async function shutdown(signal: string): Promise<void> {
  if (closing) process.exit(1);
  closing = true;
  console.error(`portal: ${signal} received, closing`);
  await app.close();
  await Promise.all([pool.end(), connection.close()]);
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
