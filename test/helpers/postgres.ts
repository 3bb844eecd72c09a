// A PostgreSQL for one test file: a database on TEST_DATABASE_URL's server when given,
// otherwise a throw-away embedded cluster in a temporary folder on a free port.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrate } from '../../db/migrate.ts';
import { createPool } from '../../db/pool.ts';
import { startEmbeddedPostgres } from '../../scripts/lib/postgres.ts';

export interface TestDatabase {
  url: string;
  pool: pg.Pool;
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}

/**
 * `n` distinct free ports: every one is held open until all are found, so that the kernel cannot
 * give the same port twice (two servers told to listen on it would collide at start).
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Server>((resolve, reject) => {
          const srv = createServer();
          srv.once('error', reject);
          srv.listen(0, '127.0.0.1', () => resolve(srv));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export async function startTestDatabase(opts: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const shared = process.env.TEST_DATABASE_URL;
  let url: string;
  let stopServer: () => Promise<void> = async () => {};
  if (shared) {
    const name = `test_${process.pid}_${Date.now()}`;
    const admin = new pg.Client({ connectionString: shared });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const u = new URL(shared);
    u.pathname = `/${name}`;
    url = u.toString();
    stopServer = async () => {
      const a = new pg.Client({ connectionString: shared });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    };
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'campaign-pg-'));
    // The cluster runs as the unprivileged postgres user when we are root: let it in.
    chmodSync(dir, 0o755);
    const handle = await startEmbeddedPostgres({
      dataDir: join(dir, 'data'),
      port: await freePort(),
      database: 'campaign_test',
      persistent: false,
    });
    url = handle.url;
    stopServer = async () => {
      await handle.stop();
      rmSync(dir, { recursive: true, force: true });
    };
  }
  const pool = createPool(url, 10);
  if (opts.migrate !== false) await migrate(pool);
  return {
    url,
    pool,
    async close() {
      await pool.end();
      await stopServer();
    },
  };
}
