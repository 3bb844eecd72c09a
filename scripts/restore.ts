// `npm run restore -- DIR`: brings a backup made by `npm run backup` back on a fresh machine — a
// fresh data folder, no local services running, an empty product database — and then starts the
// local services on the restored data. It refuses, before writing anything, when the manifest
// or a file it lists does not match, when the backup needs settings this machine does not have
// (namespace, services mode, history shards, Temporal server version, the product's
// migrations), or when the target is not empty.
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { listMigrations, migrate } from '../db/migrate.ts';
import { createPool, redactUrl } from '../db/pool.ts';
import { config } from '../worker/config.ts';
import {
  formatBytes,
  loadDatabase,
  localSetup,
  readManifest,
  tableCount,
  type Manifest,
} from './lib/backup.ts';
import { clusterLayout, migrateTemporalDatabases, TEMPORAL_DATABASES } from './lib/cluster.ts';
import {
  ensureClusterServers,
  REPO_ROOT,
  TEMPORAL_SERVER_VERSION,
  ToolError,
} from './lib/tools.ts';

const USAGE = 'usage: npm run restore -- DIR   (DIR: a folder written by `npm run backup`)';

const SERVICE_NAMES = [
  'postgres',
  'temporal',
  'temporal-history',
  'temporal-matching',
  'temporal-frontend',
  'temporal-worker',
  'temporal-ui',
];

function alivePid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

function services(args: string[]): void {
  const tsx = join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  const r = spawnSync(process.execPath, [tsx, join(REPO_ROOT, 'scripts', 'services.ts'), ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) throw new ToolError(`services ${args.join(' ')} failed (see above)`);
}

/** The settings the backup needs that this machine's configuration must have. */
function checkSettings(m: Manifest, dir: string): void {
  const cfg = config();
  const where = join(dir, 'manifest.json');
  if (cfg.temporalNamespace !== m.source.namespace) {
    throw new ToolError(
      `${where} is of Temporal namespace ${m.source.namespace}, this machine's is ${cfg.temporalNamespace}: set TEMPORAL_NAMESPACE=${m.source.namespace}`,
    );
  }
  const asked = process.env.TEMPORAL_SERVICES_MODE;
  if (asked && asked !== m.source.mode) {
    throw new ToolError(
      `${where} is a backup of the ${m.source.mode} services, but TEMPORAL_SERVICES_MODE=${asked}: unset it or set it to ${m.source.mode}`,
    );
  }
  if (m.source.mode === 'cluster') {
    if (m.source.historyShards !== cfg.services.historyShards) {
      throw new ToolError(
        `${where} is of a cluster with ${m.source.historyShards} history shards, this machine's configuration has ${cfg.services.historyShards}: set TEMPORAL_HISTORY_SHARDS=${m.source.historyShards}`,
      );
    }
    const here = `temporal server ${TEMPORAL_SERVER_VERSION}`;
    if (m.versions.temporal !== here) {
      throw new ToolError(
        `${where} is of ${m.versions.temporal}, this checkout runs ${here}: restore with the project version that made the backup (${m.versions.project}, commit ${m.versions.commit ?? 'unknown'})`,
      );
    }
  }
  const code = listMigrations();
  const byVersion = new Map(code.map((x) => [x.version, x]));
  for (const b of m.product.migrations) {
    const c = byVersion.get(b.version);
    if (!c || c.checksum !== b.checksum) {
      throw new ToolError(
        `${where}: the product's database is at migration ${b.version}_${b.name}, which this checkout ${c ? 'has with other content' : 'does not have'}: restore with the project version that made the backup (${m.versions.project}, commit ${m.versions.commit ?? 'unknown'})`,
      );
    }
  }
  const newest = Math.max(0, ...m.product.migrations.map((x) => x.version));
  const gap = code.find(
    (x) => x.version < newest && !m.product.migrations.some((b) => b.version === x.version),
  );
  if (gap) {
    throw new ToolError(
      `${where}: the backup's database lacks migration ${gap.version}_${gap.name}, which this checkout applies before ${newest}: restore with the project version that made the backup (commit ${m.versions.commit ?? 'unknown'})`,
    );
  }
}

/** Nothing there yet: no local service running, no data of a dev server or embedded PostgreSQL. */
function checkFreshFolder(m: Manifest): ReturnType<typeof localSetup> {
  const cfg = config();
  const local = localSetup(
    { ...cfg, services: { ...cfg.services, mode: m.source.mode } },
    REPO_ROOT,
  );
  const running = SERVICE_NAMES.filter((s) => alivePid(join(local.state, `${s}.pid`)));
  if (running.length) {
    throw new ToolError(
      `local services are running with data in ${local.data} (${running.join(', ')}): a restore goes onto fresh services — stop them with \`npm run services:stop\` and restore into a fresh data folder (CAMPAIGN_DATA_DIR)`,
    );
  }
  for (const [path, what] of [
    [local.sqliteFile, "a Temporal dev server's data"],
    [local.postgresDir, "the embedded PostgreSQL's data"],
  ] as const) {
    const there =
      path === local.postgresDir
        ? cfg.embeddedDatabase && existsSync(path) && readdirSync(path).length > 0
        : existsSync(path);
    if (there) {
      throw new ToolError(
        `the target is not empty: ${path} holds ${what}. Restore onto a fresh data folder: move ${local.data} away, or set CAMPAIGN_DATA_DIR to a new folder`,
      );
    }
  }
  return local;
}

async function checkEmptyDatabase(c: pg.Client, what: string): Promise<void> {
  const n = await tableCount(c);
  if (n > 0) {
    throw new ToolError(
      `the target is not empty: ${what} already has ${n} tables. Restore into an empty database (a new one, or drop and create it again)`,
    );
  }
}

async function restore(dir: string): Promise<void> {
  const started = Date.now();
  const m = await readManifest(dir);
  checkSettings(m, dir);
  const local = checkFreshFolder(m);
  const cfg = config();
  const modeFlag = m.source.mode === 'cluster' ? '--cluster' : '--dev';
  const tlsFlags = m.source.mode === 'cluster' ? [m.source.tls ? '--tls' : '--no-tls'] : [];

  services(['start', 'postgres', modeFlag, ...tlsFlags]);
  const product = new pg.Client({ connectionString: cfg.databaseUrl });
  await product.connect();
  let writing = false;
  try {
    await checkEmptyDatabase(product, `the product's database ${redactUrl(cfg.databaseUrl)}`);
    if (m.temporal.kind === 'postgres') {
      for (const db of [TEMPORAL_DATABASES.default, TEMPORAL_DATABASES.visibility]) {
        const admin = new pg.Client({ ...local.pgServer, database: 'postgres' });
        await admin.connect();
        try {
          const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
          if (!exists.rowCount) continue;
        } finally {
          await admin.end();
        }
        const c = new pg.Client({ ...local.pgServer, database: db });
        await c.connect();
        try {
          await checkEmptyDatabase(c, `Temporal's database ${db}`);
        } finally {
          await c.end();
        }
      }
    }

    // Temporal's persistence.
    writing = true;
    if (m.temporal.kind === 'sqlite') {
      mkdirSync(join(local.data, 'temporal'), { recursive: true });
      copyFileSync(join(dir, m.temporal.file), local.sqliteFile);
      console.log(`Temporal's SQLite file restored to ${local.sqliteFile}`);
    } else {
      const servers = await ensureClusterServers();
      const l = clusterLayout({
        dir: join(local.data, 'cluster'),
        frontendHost: '127.0.0.1',
        frontendPort: 7233,
        uiPort: cfg.temporalUiPort,
        portBase: cfg.services.clusterPortBase,
        historyShards: cfg.services.historyShards,
        tls: m.source.tls,
        namespace: cfg.temporalNamespace,
        pg: local.pgServer,
      });
      await migrateTemporalDatabases(servers, l, (line) => console.log(line));
      for (const copy of m.temporal.databases) {
        const c = new pg.Client({ ...local.pgServer, database: copy.database });
        await c.connect();
        try {
          const v = await c.query<{ v: string }>('SELECT curr_version AS v FROM schema_version');
          const want = m.temporal.schemaVersions[copy.database];
          if (v.rows[0]?.v !== want) {
            throw new ToolError(
              `Temporal's ${copy.database} schema is at ${v.rows[0]?.v} here, the backup's at ${want}`,
            );
          }
          const rows = await loadDatabase(c, dir, copy);
          console.log(`Temporal's database ${copy.database} restored (${rows} rows)`);
        } finally {
          await c.end();
        }
      }
    }

    // The product's database: its schema at the backup's migrations, then its rows. The worker
    // applies any newer migration of this checkout when it starts.
    const subset = mkdtempSync(join(tmpdir(), 'restore-migrations-'));
    try {
      const want = new Set(m.product.migrations.map((x) => x.version));
      for (const x of listMigrations()) {
        if (!want.has(x.version)) continue;
        const name = `${String(x.version).padStart(3, '0')}_${x.name}.sql`;
        copyFileSync(join(REPO_ROOT, 'db', 'migrations', name), join(subset, name));
      }
      const pool = createPool(cfg.databaseUrl, 1);
      try {
        await migrate(pool, subset);
      } finally {
        await pool.end();
      }
    } finally {
      rmSync(subset, { recursive: true, force: true });
    }
    const rows = await loadDatabase(product, dir, m.product);
    console.log(
      `The product's database restored (${rows} rows in ${m.product.tables.length} tables)`,
    );
  } catch (e) {
    if (!writing) throw e;
    throw new ToolError(
      `${(e as Error).message}\nThe restore did not finish: stop the services (\`npm run services:stop\`) and restore again onto a fresh data folder.`,
    );
  } finally {
    await product.end();
  }

  services(['start', modeFlag, ...tlsFlags]);
  console.log(
    `Restored ${dir} (backup of ${m.createdAt}, ${formatBytes(m.bytes)}) in ${((Date.now() - started) / 1000).toFixed(1)} s. ` +
      'Start a worker with `npm run worker`: the campaigns go on from where the backup was taken.',
  );
}

async function main() {
  const args = process.argv.slice(2);
  const unknown = args.find((a) => a.startsWith('-'));
  if (unknown) {
    console.error(`restore: unknown option ${unknown}\n${USAGE}`);
    process.exit(2);
  }
  if (args.length !== 1) {
    console.error(`restore: give exactly one backup folder\n${USAGE}`);
    process.exit(2);
  }
  try {
    await restore(resolve(args[0]!));
  } catch (e) {
    console.error(`restore: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(e instanceof ToolError ? 1 : 3);
  }
}

await main();
