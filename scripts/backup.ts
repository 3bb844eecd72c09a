// `npm run backup -- --out DIR`: a consistent copy of the county's two stores while they run —
// Temporal's persistence first (the dev server's SQLite file, or the cluster's `temporal` and
// `temporal_visibility` databases), then the product's PostgreSQL — with DIR/manifest.json
// (versions, time, what was copied, sizes, checksums, the settings a restore needs). Temporal
// goes first because it is the source of truth: the product's rows are idempotent projections
// of it, so a product copy taken after it is at least as new, and whatever a restored Temporal
// does again is an upsert of a row that is already there. See the README's backup section.
import { mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { redactUrl } from '../db/pool.ts';
import { config } from '../worker/config.ts';
import {
  backupSqlite,
  describeFile,
  dumpDatabase,
  FORMAT,
  FORMAT_VERSION,
  formatBytes,
  localSetup,
  MANIFEST,
  projectVersions,
  sqliteVersion,
  type DatabaseCopy,
  type Manifest,
} from './lib/backup.ts';
import { TEMPORAL_DATABASES } from './lib/cluster.ts';
import {
  REPO_ROOT,
  TEMPORAL_CLI_VERSION,
  TEMPORAL_SERVER_VERSION,
  ToolError,
} from './lib/tools.ts';
import { existsSync } from 'node:fs';

const USAGE = 'usage: npm run backup -- --out DIR';

async function connect(options: pg.ClientConfig, what: string): Promise<pg.Client> {
  const c = new pg.Client({ ...options, connectionTimeoutMillis: 5000 });
  try {
    await c.connect();
  } catch (e) {
    throw new ToolError(
      `${what} is not reachable (${(e as Error).message}): a backup reads the running databases, start them with \`npm run services:start\``,
    );
  }
  return c;
}

async function backup(out: string): Promise<void> {
  const started = Date.now();
  const cfg = config();
  const local = localSetup(cfg, REPO_ROOT);
  if (existsSync(out) && readdirSync(out).length > 0) {
    throw new ToolError(`--out ${out} is not empty: give a new folder for each backup`);
  }
  const productClient = await connect(
    { connectionString: cfg.databaseUrl },
    `the product's PostgreSQL (${redactUrl(cfg.databaseUrl)})`,
  );
  const order: string[] = [];
  const paths: string[] = [];
  let temporal: Manifest['temporal'];
  let product: Manifest['product'];
  let sqlite: string | null = null;
  try {
    // Temporal first: the source of truth.
    if (local.mode === 'dev') {
      if (!existsSync(local.sqliteFile)) {
        throw new ToolError(
          `no Temporal dev server data at ${local.sqliteFile}: a backup copies the local services' data (CAMPAIGN_DATA_DIR chooses the folder); a Temporal server run elsewhere is backed up where it runs`,
        );
      }
      mkdirSync(join(out, 'temporal'), { recursive: true });
      const to = join(out, 'temporal', 'temporal.sqlite');
      backupSqlite(local.sqliteFile, to);
      sqlite = sqliteVersion();
      paths.push(to);
      temporal = { kind: 'sqlite', file: 'temporal/temporal.sqlite' };
      order.push('temporal (SQLite file of the dev server)');
    } else {
      const databases: DatabaseCopy[] = [];
      const schemaVersions: Record<string, string> = {};
      let serverVersion = '';
      for (const db of [TEMPORAL_DATABASES.default, TEMPORAL_DATABASES.visibility]) {
        const c = await connect(
          { ...local.pgServer, database: db },
          `Temporal's database ${db} on ${local.pgServer.host}:${local.pgServer.port}`,
        );
        try {
          const v = await c.query<{ v: string }>('SELECT curr_version AS v FROM schema_version');
          schemaVersions[db] = v.rows[0]?.v ?? '';
          mkdirSync(join(out, db), { recursive: true });
          // The schema tool's own tables are made again by the restore's schema tool; the
          // membership rows are the running processes' addresses and heartbeats, which the
          // restored cluster's services write anew (the copy's would have them look for hosts
          // that are not there, on the ports the source machine used).
          const copy = await dumpDatabase(c, out, db, [
            'schema_version',
            'schema_update_history',
            'cluster_membership',
          ]);
          serverVersion = copy.serverVersion;
          databases.push(copy);
          for (const t of copy.tables) paths.push(join(out, t.file));
        } finally {
          await c.end();
        }
        order.push(`${db} (PostgreSQL)`);
      }
      temporal = { kind: 'postgres', serverVersion, schemaVersions, databases };
    }
    // Then the product's projections.
    mkdirSync(join(out, 'product'), { recursive: true });
    const migrations = await productClient.query<{
      version: number;
      name: string;
      checksum: string;
    }>('SELECT version, name, checksum FROM schema_migrations ORDER BY version');
    const copy = await dumpDatabase(productClient, out, 'product', ['schema_migrations']);
    for (const t of copy.tables) paths.push(join(out, t.file));
    product = { ...copy, migrations: migrations.rows };
    order.push(`product (PostgreSQL ${copy.database})`);
  } catch (e) {
    if ((e as { code?: string }).code === '42P01') {
      throw new ToolError(
        `the product's database ${redactUrl(cfg.databaseUrl)} has no schema_migrations table: nothing to back up before a worker has migrated it`,
      );
    }
    throw e;
  } finally {
    await productClient.end();
  }
  const files = [];
  for (const p of paths) files.push(await describeFile(out, p));
  const bytes = files.reduce((n, f) => n + f.bytes, 0);
  const manifest: Manifest = {
    format: FORMAT,
    formatVersion: FORMAT_VERSION,
    createdAt: new Date(started).toISOString(),
    tookMs: Date.now() - started,
    versions: {
      ...projectVersions(REPO_ROOT),
      node: process.version,
      temporal:
        local.mode === 'dev'
          ? `temporal CLI ${TEMPORAL_CLI_VERSION} (dev server)`
          : `temporal server ${TEMPORAL_SERVER_VERSION}`,
      postgres: product.serverVersion,
      sqlite,
    },
    source: {
      mode: local.mode,
      namespace: cfg.temporalNamespace,
      embeddedDatabase: cfg.embeddedDatabase,
      database: product.database,
      historyShards: local.mode === 'cluster' ? cfg.services.historyShards : null,
      tls: local.tls,
    },
    order,
    product,
    temporal,
    files,
    bytes,
  };
  // The manifest last, whole or not at all: a folder without one is not a backup.
  writeFileSync(join(out, `${MANIFEST}.partial`), `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(join(out, `${MANIFEST}.partial`), join(out, MANIFEST));
  const rows = product.tables.reduce((n, t) => n + t.rows, 0);
  console.log(
    `Backup written to ${out}: ${formatBytes(bytes)} in ${files.length} files, ${((Date.now() - started) / 1000).toFixed(1)} s ` +
      `(${order.join(', then ')}; ${rows} product rows in ${product.tables.length} tables).`,
  );
  console.log(`Restore it on a fresh machine with: npm run restore -- ${out}`);
}

async function main() {
  let out: string | undefined;
  try {
    const { values, positionals } = parseArgs({
      options: { out: { type: 'string' } },
      allowPositionals: true,
    });
    if (positionals.length) throw new Error(`unexpected argument ${positionals[0]}`);
    out = values.out;
  } catch (e) {
    console.error(`backup: ${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (!out) {
    console.error(`backup: --out DIR is required (the folder the copy is written to)\n${USAGE}`);
    process.exit(2);
  }
  try {
    await backup(resolve(out));
  } catch (e) {
    console.error(`backup: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(e instanceof ToolError ? 1 : 3);
  }
}

await main();
