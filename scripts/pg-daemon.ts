// Keeps the embedded PostgreSQL running in the background for `services:start`; stops it
// cleanly on SIGTERM/SIGINT (sent by `services:stop`).
import { join } from 'node:path';
import { config } from '../worker/config.ts';
import { startEmbeddedPostgres } from './lib/postgres.ts';
import { REPO_ROOT } from './lib/tools.ts';

const handle = await startEmbeddedPostgres({
  dataDir: join(config().dataDir ?? join(REPO_ROOT, '.data'), 'postgres'),
  port: config().embeddedPgPort,
  database: 'campaign',
});
console.log(`${new Date().toISOString()} PostgreSQL ready on 127.0.0.1:${config().embeddedPgPort}`);

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
