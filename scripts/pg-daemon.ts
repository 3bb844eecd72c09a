// Keeps the embedded PostgreSQL running in the background for `services:start`; stops it
// cleanly on SIGTERM/SIGINT (sent by `services:stop`).
import { join } from 'node:path';
import { EMBEDDED_PG_PORT } from '../worker/config.ts';
import { startEmbeddedPostgres } from './lib/postgres.ts';
import { REPO_ROOT } from './lib/tools.ts';

const handle = await startEmbeddedPostgres({
  dataDir: join(REPO_ROOT, '.data', 'postgres'),
  port: EMBEDDED_PG_PORT,
  database: 'campaign',
});
console.log(`${new Date().toISOString()} PostgreSQL ready on 127.0.0.1:${EMBEDDED_PG_PORT}`);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`${new Date().toISOString()} ${signal}: stopping PostgreSQL`);
  await handle.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
setInterval(() => {}, 1 << 30);
