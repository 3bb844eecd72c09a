// Backup and restore of a county's two stores: the product's PostgreSQL database and Temporal's
// persistence (the dev server's SQLite file, or the cluster's `temporal` and
// `temporal_visibility` PostgreSQL databases). Used by scripts/backup.ts and scripts/restore.ts.
//
// A PostgreSQL database is copied as data, one gzipped file of JSON rows per table, read in one
// REPEATABLE READ snapshot: no pg_dump is needed (the embedded server is PostgreSQL 18 and the
// machine's own client tools are older and refuse it), and the schema is not copied but made
// again by its owner's migrations (db/migrations for the product, Temporal's schema tool for the
// cluster), at the versions the manifest records. A SQLite file is copied with SQLite's online
// backup API (the `sqlite3` command's `.backup`), which the dev server keeps running through.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import type pg from 'pg';
import { z } from 'zod';
import { ToolError, which } from './tools.ts';

export const MANIFEST = 'manifest.json';
export const FORMAT = 'county-campaign-backup';
export const FORMAT_VERSION = 1;

const fileSchema = z.object({
  path: z.string().min(1),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
const tableSchema = z.object({
  schema: z.string(),
  name: z.string(),
  columns: z.array(z.string()),
  rows: z.number().int().nonnegative(),
  file: z.string(),
});
const databaseSchema = z.object({
  database: z.string(),
  serverVersion: z.string(),
  tables: z.array(tableSchema),
  sequences: z.array(z.object({ name: z.string(), value: z.string().nullable() })),
});
export type DatabaseCopy = z.infer<typeof databaseSchema>;

const migrationSchema = z.object({
  version: z.number().int(),
  name: z.string(),
  checksum: z.string(),
});

export const manifestSchema = z.object({
  format: z.literal(FORMAT),
  formatVersion: z.literal(FORMAT_VERSION),
  createdAt: z.string(),
  tookMs: z.number(),
  versions: z.object({
    project: z.string(),
    commit: z.string().nullable(),
    node: z.string(),
    temporal: z.string(),
    postgres: z.string(),
    sqlite: z.string().nullable(),
  }),
  /** What restoring needs to know of the machine the copy came from. */
  source: z.object({
    mode: z.enum(['dev', 'cluster']),
    namespace: z.string(),
    embeddedDatabase: z.boolean(),
    /** The product database's name (the embedded default is `campaign`). */
    database: z.string(),
    /** Cluster mode: fixed when Temporal's database was created; the restored one must match. */
    historyShards: z.number().int().nullable(),
    tls: z.boolean(),
  }),
  /** The order the stores were copied in, first first (see the README's backup section). */
  order: z.array(z.string()),
  product: databaseSchema.extend({ migrations: z.array(migrationSchema) }),
  temporal: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('sqlite'), file: z.string() }),
    z.object({
      kind: z.literal('postgres'),
      serverVersion: z.string(),
      /** Temporal's schema_version rows per database, as its schema tool left them. */
      schemaVersions: z.record(z.string(), z.string()),
      databases: z.array(databaseSchema),
    }),
  ]),
  files: z.array(fileSchema),
  bytes: z.number().int().nonnegative(),
});
export type Manifest = z.infer<typeof manifestSchema>;

export const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;
const qualified = (t: { schema: string; name: string }) =>
  `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`;

/** What a backup file is in the manifest: its path under the backup folder, size and checksum. */
export async function describeFile(dir: string, path: string): Promise<z.infer<typeof fileSchema>> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return { path: relative(dir, path), bytes: statSync(path).size, sha256: hash.digest('hex') };
}

/** Tables (not partitioned parents) outside the system schemas, with their writable columns. */
async function listTables(c: pg.ClientBase, skip: string[]) {
  const r = await c.query<{ schema: string; name: string; columns: string[] }>(
    `SELECT n.nspname AS schema, c.relname AS name,
            array_agg(a.attname::text ORDER BY a.attnum) AS columns
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                          AND a.attgenerated = ''
      WHERE c.relkind = 'r' AND c.relpersistence <> 't'
        AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
      GROUP BY n.nspname, c.relname
      ORDER BY n.nspname, c.relname`,
  );
  return r.rows.filter((t) => !skip.includes(t.name));
}

/** The number of tables in `c`'s database outside the system schemas. */
export async function tableCount(c: pg.ClientBase): Promise<number> {
  return (await listTables(c, [])).length;
}

/**
 * Copies every table of `c`'s database into `<dir>/<prefix>/<schema>.<table>.ndjson.gz`, one
 * JSON object per row, all in one REPEATABLE READ snapshot; then the sequences (read after the
 * rows, so that each is at least what the rows used). `skip` names tables the restore's
 * migrations fill themselves.
 */
export async function dumpDatabase(
  c: pg.ClientBase,
  dir: string,
  prefix: string,
  skip: string[],
): Promise<DatabaseCopy> {
  await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const database = (await c.query<{ d: string }>('SELECT current_database() AS d')).rows[0]!.d;
    const serverVersion = (
      await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")
    ).rows[0]!.v;
    const tables: DatabaseCopy['tables'] = [];
    for (const t of await listTables(c, skip)) {
      const file = join(prefix, `${t.schema}.${t.name}.ndjson.gz`);
      const cols = t.columns.map(quoteIdent).join(', ');
      await c.query(
        `DECLARE backup_rows NO SCROLL CURSOR FOR
           SELECT row_to_json(x)::text AS j FROM (SELECT ${cols} FROM ${qualified(t)}) x`,
      );
      let rows = 0;
      async function* lines() {
        for (;;) {
          const r = await c.query<{ j: string }>('FETCH 1000 FROM backup_rows');
          if (r.rows.length === 0) return;
          rows += r.rows.length;
          yield r.rows.map((x) => `${x.j}\n`).join('');
        }
      }
      await pipeline(Readable.from(lines()), createGzip(), createWriteStream(join(dir, file)));
      await c.query('CLOSE backup_rows');
      tables.push({ ...t, rows, file });
    }
    const seq = await c.query<{ name: string; value: string | null }>(
      `SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) AS name,
              last_value::text AS value
         FROM pg_sequences ORDER BY 1`,
    );
    await c.query('COMMIT');
    return { database, serverVersion, tables, sequences: seq.rows };
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  }
}

/**
 * Loads a database copy into `c`'s database, whose schema the migrations have made: every table
 * in one transaction with triggers and foreign-key checks off while it loads (the rows are a
 * consistent snapshot already), then the sequences. The rows a table holds before it loads are
 * the ones its schema's owner put there when it made the schema (Temporal's schema tool seeds
 * `namespace_metadata`; the target was empty before): the backup has that table as it was, seed
 * rows included, so they are replaced by the backup's.
 */
export async function loadDatabase(
  c: pg.ClientBase,
  dir: string,
  copy: DatabaseCopy,
): Promise<number> {
  let total = 0;
  await c.query('BEGIN');
  try {
    await c.query('SET LOCAL session_replication_role = replica');
    for (const t of copy.tables) {
      const present = await c.query<{ columns: string[] }>(
        `SELECT array_agg(a.attname::text) AS columns
           FROM pg_attribute a
          WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
            AND a.attgenerated = ''`,
        [qualified(t)],
      );
      const have = present.rows[0]?.columns ?? null;
      if (!have) {
        throw new ToolError(
          `the backup has table ${t.schema}.${t.name} (${t.file}) but the restored schema of ${copy.database} has none`,
        );
      }
      const missing = t.columns.filter((col) => !have.includes(col));
      if (missing.length) {
        throw new ToolError(
          `table ${t.schema}.${t.name} of the backup has columns the restored schema lacks: ${missing.join(', ')}`,
        );
      }
      await c.query(`DELETE FROM ${qualified(t)}`);
      const cols = t.columns.map(quoteIdent).join(', ');
      const insert = `INSERT INTO ${qualified(t)} (${cols}) OVERRIDING SYSTEM VALUE
        SELECT ${cols} FROM json_populate_recordset(NULL::${qualified(t)}, $1::json)`;
      const lines = createInterface({
        input: createReadStream(join(dir, t.file)).pipe(createGunzip()),
        crlfDelay: Infinity,
      });
      let batch: string[] = [];
      let bytes = 0;
      let rows = 0;
      const flush = async () => {
        if (!batch.length) return;
        await c.query(insert, [`[${batch.join(',')}]`]);
        rows += batch.length;
        batch = [];
        bytes = 0;
      };
      for await (const line of lines) {
        if (!line) continue;
        batch.push(line);
        bytes += line.length;
        if (batch.length >= 1000 || bytes > 8_000_000) await flush();
      }
      await flush();
      if (rows !== t.rows) {
        throw new ToolError(
          `${t.file} holds ${rows} rows, the manifest says ${t.rows}: the backup is damaged`,
        );
      }
      total += rows;
    }
    for (const s of copy.sequences) {
      if (s.value !== null) await c.query('SELECT setval($1, $2::bigint, true)', [s.name, s.value]);
    }
    await c.query('COMMIT');
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  }
  return total;
}

/** The `sqlite3` command (Debian's sqlite3), or a message naming the package. */
export function sqlite3(): string {
  const bin = which('sqlite3');
  if (!bin) {
    throw new ToolError(
      "copying the Temporal dev server's SQLite file needs the sqlite3 command: install it as root with `apt-get install -y sqlite3`",
    );
  }
  return bin;
}

export function sqliteVersion(): string {
  const r = spawnSync(sqlite3(), ['--version'], { encoding: 'utf8' });
  return (r.stdout || '').trim().split(' ')[0] ?? '';
}

/**
 * A consistent copy of a live SQLite database through the online backup API, waiting up to 30 s
 * for the dev server's write locks; then checked with `PRAGMA quick_check`.
 */
export function backupSqlite(from: string, to: string): void {
  const run = (db: string, cmd: string) =>
    spawnSync(sqlite3(), ['-batch', '-cmd', '.timeout 30000', db, cmd], { encoding: 'utf8' });
  const r = run(from, `.backup '${to.replace(/'/g, "''")}'`);
  if (r.status !== 0) {
    throw new ToolError(`sqlite3 could not copy ${from}: ${(r.stderr || r.stdout).trim()}`);
  }
  const check = run(to, 'PRAGMA quick_check;');
  if (check.status !== 0 || check.stdout.trim() !== 'ok') {
    throw new ToolError(`the copy of ${from} fails SQLite's check: ${check.stdout}${check.stderr}`);
  }
}

/** The project's version from package.json and the git commit of the checkout, if any. */
export function projectVersions(root: string): { project: string; commit: string | null } {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const r = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' });
  return { project: pkg.version, commit: r.status === 0 ? r.stdout.trim() : null };
}

/**
 * The manifest of a backup folder, checked: its shape, then every file it lists, by size and
 * SHA-256. Each refusal names the folder and what does not match.
 */
export async function readManifest(dir: string): Promise<Manifest> {
  const path = join(dir, MANIFEST);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new ToolError(
      `${path} is missing: ${dir} is not a backup folder (or its backup did not finish)`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ToolError(`${path} is not JSON: ${(e as Error).message}`);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ToolError(
      `${path} is not a manifest this version can restore: ${issue.path.join('.') || '(top)'}: ${issue.message}`,
    );
  }
  const m = parsed.data;
  for (const f of m.files) {
    const at = join(dir, f.path);
    let found: Awaited<ReturnType<typeof describeFile>>;
    try {
      found = await describeFile(dir, at);
    } catch {
      throw new ToolError(`${at} is listed in ${path} but missing`);
    }
    if (found.bytes !== f.bytes || found.sha256 !== f.sha256) {
      throw new ToolError(
        `${at} does not match ${path} (${found.bytes} bytes, sha256 ${found.sha256}; the manifest says ${f.bytes} bytes, sha256 ${f.sha256}): the copy is damaged or was changed`,
      );
    }
  }
  return m;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** Where this machine's local services keep their data, and what runs (as services.ts sees it). */
export function localSetup(
  cfg: {
    dataDir: string | undefined;
    embeddedDatabase: boolean;
    embeddedPgPort: number;
    databaseUrl: string;
    services: { mode: 'dev' | 'cluster'; clusterTls: boolean };
  },
  root: string,
) {
  const data = cfg.dataDir ?? join(root, '.data');
  const state = join(data, 'services');
  const recorded = (name: string): string | undefined => {
    try {
      return readFileSync(join(state, name), 'utf8').trim();
    } catch {
      return undefined;
    }
  };
  const m = recorded('mode');
  const mode: 'dev' | 'cluster' = m === 'dev' || m === 'cluster' ? m : cfg.services.mode;
  const t = recorded('tls');
  const tls = mode === 'cluster' && (t === undefined ? cfg.services.clusterTls : t === 'true');
  let pgServer: { host: string; port: number; user: string; password: string };
  if (cfg.embeddedDatabase) {
    pgServer = {
      host: '127.0.0.1',
      port: cfg.embeddedPgPort,
      user: 'postgres',
      password: 'postgres',
    };
  } else {
    const u = new URL(cfg.databaseUrl);
    pgServer = {
      host: u.hostname || '127.0.0.1',
      port: Number(u.port || 5432),
      user: decodeURIComponent(u.username || 'postgres'),
      password: decodeURIComponent(u.password),
    };
  }
  return {
    data,
    state,
    mode,
    tls,
    pgServer,
    sqliteFile: join(data, 'temporal', 'temporal.sqlite'),
    postgresDir: join(data, 'postgres'),
  };
}
