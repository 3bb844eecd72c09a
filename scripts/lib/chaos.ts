// The fault suite: a whole quick campaign with simulated departments, on the real servers (the
// Temporal dev server with a persisted SQLite file, the project's embedded PostgreSQL), run once
// undisturbed and once while the worker is killed with SIGKILL at random moments (a new worker
// each time; at least one kill during an update and one during a projection), the Temporal
// server restarted once on its persistence, PostgreSQL stopped for a while during data entry,
// and the notification endpoint failing, then timing out, for a while. The two runs' final
// databases are canonicalised (times and generated ids stripped) and compared; workflows,
// tasks and deliveries are checked; a webhook receiver counts deliveries by Idempotency-Key.
//
// The campaign is driven by its state (`SimulatedDepartments` with `stateDriven`): phase
// windows of hours closed by the bureau when their work is done, an escalation ladder of
// seconds for the late unit, so that nothing depends on how long a fault lasts.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection, WorkflowClient } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import pg from 'pg';
import { parse as parseYaml } from 'yaml';
import { loadDefinitionFile } from '../../client/definition-file.ts';
import { ALL_SEARCH_ATTRIBUTES } from '../../domain/search-attributes.ts';
import { formatIsoOffset } from '../../domain/time.ts';
import { freePort } from '../../test/helpers/postgres.ts';
import { startServerProcess, type ServerProcess } from '../../test/helpers/servers.ts';
import { WorkerProcess } from '../../test/helpers/worker-process.ts';
import { startEmbeddedPostgres, type EmbeddedHandle } from './postgres.ts';
import { runCampaignCli } from './run-node.ts';
import { SimulatedDepartments } from './simulated-departments.ts';
import { ensureTemporalCli } from './tools.ts';

export interface ChaosOptions {
  seed: number;
  /** SIGKILLs of the worker (0 for the undisturbed run). */
  kills: number;
  /** Restarts of the Temporal server (0 or 1). */
  serverRestarts: number;
  /** How long PostgreSQL is stopped during data entry, ms (0: not at all). */
  dbOutageMs: number;
  /** How long the webhook fails (HTTP 503), then as long times out, ms (0: not at all). */
  endpointFaultMs: number;
  /**
   * Seconds between the late unit's escalation steps (default 60): longer than a worker or the
   * server is ever away, so that each step's timer fires on its own. A step overdue together
   * with the next one is folded into it (one notice, `skipped` in the event: see
   * workflows/task.ts), which the comparison would rightly count as a difference.
   */
  ladderStepS?: number;
  /** Longest pause between a worker's start and its kill, ms. */
  maxKillGapMs?: number;
  /** Give up when the campaign has not moved for this long, ms (see SimulatedDepartments). */
  stallMs?: number;
  log: (line: string) => void;
}

export interface ChaosRun {
  /** Canonical rows per table. */
  state: Record<string, string[]>;
  figures: {
    kills: number;
    killsDuringUpdate: number;
    killsDuringProjection: number;
    serverRestarts: number;
    dbOutageS: number;
    notices: number;
    deliveries: number;
    received: number;
    redelivered: number;
    duplicates: number;
    missing: number;
    seconds: number;
    commands: number;
  };
  problems: string[];
}

/** A small seeded generator (mulberry32): the same seed, the same moments. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TZ = 'Asia/Shanghai';
const CAMPAIGN_ID = 'chaos-2026';

/** The quick example with windows of hours, one data-entry slot, a ladder of seconds, a webhook. */
function steadyDefinition(dir: string, webhookUrl: string, stepS: number): string {
  const raw = parseYaml(readFileSync('examples/quick-demo.yaml', 'utf8'));
  const t0 = Date.parse(`${raw.phases.training.start}+08:00`);
  const at = (hours: number) => formatIsoOffset(t0 + hours * 3_600_000, TZ).slice(0, 19);
  raw.phases.training = { start: at(0), end: at(4) };
  raw.phases.dataEntry = { ...raw.phases.dataEntry, start: at(4), end: at(8), slot: 'PT4H' };
  raw.phases.dataEntry.indicatorsPerDay = raw.indicators.length;
  raw.phases.verification = {
    ...raw.phases.verification,
    start: at(8),
    end: at(12),
    evidenceDue: { duration: 'PT3H' },
  };
  raw.phases.reporting = { start: at(12), end: at(16) };
  raw.policy.escalation = [
    { after: { duration: `PT${stepS}S` }, notify: ['assignee', 'deputy'], label: '分管领导督办' },
    { after: { duration: `PT${stepS}S` }, notify: ['head'], label: '一把手督办' },
    { after: { duration: 'PT2H' }, notify: ['bureau', 'leadership'], label: '县领导约谈' },
  ];
  raw.policy.returnDue = { duration: 'PT2H' };
  raw.rectification.stepDue = { duration: 'PT2H' };
  raw.rectification.measureDue = { duration: 'PT3H' };
  raw.rectification.progressEvery = 'PT6H';
  raw.notifications.channels = [{ type: 'webhook', id: 'hook', url: webhookUrl }];
  const path = join(dir, 'chaos-definition.json');
  writeFileSync(path, JSON.stringify(raw));
  return path;
}

/** The webhook receiver: de-duplicates by Idempotency-Key; can fail or hang on purpose. */
class Receiver {
  mode: 'ok' | 'fail' | 'hang' = 'ok';
  /** Requests per idempotency key, and the body each carried first. */
  readonly byKey = new Map<string, { count: number; body: string }>();
  requests = 0;
  withoutKey = 0;
  conflicting = 0;
  private server: Server | undefined;
  port = 0;

  async start(): Promise<void> {
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.requests++;
        if (this.mode === 'fail') {
          res.writeHead(503).end('down for the test');
          return;
        }
        if (this.mode === 'hang') return; // the channel's own timeout gives up
        const key = req.headers['idempotency-key'];
        const body = Buffer.concat(chunks).toString('utf8');
        if (typeof key !== 'string' || !key) this.withoutKey++;
        else {
          const seen = this.byKey.get(key);
          if (seen) {
            seen.count++;
            if (seen.body !== body) this.conflicting++;
          } else this.byKey.set(key, { count: 1, body });
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** The Temporal dev server on a fixed port and a persisted SQLite file. */
async function startTemporal(port: number, dbFile: string): Promise<ServerProcess> {
  const path = await ensureTemporalCli();
  return startServerProcess({
    label: `the Temporal dev server (${path})`,
    cmd: path,
    args: [
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--namespace',
      'default',
      '--headless',
      '--log-level',
      'error',
      '--db-filename',
      dbFile,
      ...ALL_SEARCH_ATTRIBUTES.flatMap((k) => [
        '--search-attribute',
        `${k.name}=${TypedSearchAttributes.toMetadataType(k.type)}`,
      ]),
    ],
    port,
  });
}

/** Runs the campaign once, with the faults the options ask for. */
export async function runChaosCampaign(o: ChaosOptions): Promise<ChaosRun> {
  const began = Date.now();
  const rng = seededRandom(o.seed);
  const dir = mkdtempSync(join(tmpdir(), 'campaign-chaos-'));
  chmodSync(dir, 0o755); // PostgreSQL runs as its own user when we are root
  const problems: string[] = [];
  const receiver = new Receiver();
  await receiver.start();
  const pgPort = await freePort();
  const temporalPort = await freePort();
  const pgDir = join(dir, 'postgres');
  let database: EmbeddedHandle | undefined = await startEmbeddedPostgres({
    dataDir: pgDir,
    port: pgPort,
    database: 'campaign',
  });
  const dbUrl = database.url;
  let temporal: ServerProcess | undefined = await startTemporal(
    temporalPort,
    join(dir, 'temporal.sqlite'),
  );
  const address = `127.0.0.1:${temporalPort}`;
  const taskQueue = 'campaign';
  const env: NodeJS.ProcessEnv = {
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: taskQueue,
    DATABASE_URL: dbUrl,
    CAMPAIGN_DATA_DIR: dir,
    CLI_WORKER_TIMEOUT: '20',
    NOTIFY_ALLOW_LOOPBACK_HTTP: 'true',
    OUTBOX_LEASE: '10s',
    WORKER_SHUTDOWN_GRACE: '5s',
    WORKER_TRACE_ACTIVITIES: '1',
    LOG_LEVEL: 'WARN',
  };
  const pool = new pg.Pool({ connectionString: dbUrl, max: 4 });
  pool.on('error', () => {}); // an idle client dropped by the outage
  const figures: ChaosRun['figures'] = {
    kills: 0,
    killsDuringUpdate: 0,
    killsDuringProjection: 0,
    serverRestarts: 0,
    dbOutageS: 0,
    notices: 0,
    deliveries: 0,
    received: 0,
    redelivered: 0,
    duplicates: 0,
    missing: 0,
    seconds: 0,
    commands: 0,
  };

  // Workers: one at a time; a killed (or fallen) one is replaced at once.
  let worker: WorkerProcess | undefined;
  let generation = 0;
  let finished = false;
  let killing = false;
  /** Changing commands in flight, and whether an activity ran since one began. */
  let updatesInFlight = 0;
  let activitySinceUpdate = false;
  const spawnWorker = async (): Promise<void> => {
    generation++;
    const w = new WorkerProcess(`worker ${generation}`, env);
    worker = w;
    w.child.stderr!.on('data', (d: Buffer) => {
      const text = d.toString();
      if (updatesInFlight > 0 && /trace: activity /.test(text)) activitySinceUpdate = true;
      if (/trace: activity project/.test(text)) projectionSeen = w;
    });
    void w.exited.then(() => {
      if (!finished && worker === w && !killing) {
        o.log(`chaos: ${w.name} exited by itself (${JSON.stringify(w.exit)}); starting another`);
        void spawnWorker();
      }
    });
    try {
      await w.waitForLog(/polling task queue/, 300_000);
    } catch (e) {
      if (!finished && worker === w && !killing) throw e;
    }
  };
  let projectionSeen: WorkerProcess | undefined;
  const kill = async (why: string): Promise<void> => {
    const w = worker;
    if (!w || w.exit || finished) return;
    killing = true;
    try {
      process.kill(-w.pid, 'SIGKILL');
    } catch {
      // gone already
    }
    await w.exited;
    figures.kills++;
    o.log(`chaos: SIGKILL ${w.name} (${why}); kill ${figures.kills}/${o.kills}`);
    killing = false;
    await spawnWorker();
  };

  await spawnWorker();
  const definitionPath = steadyDefinition(
    dir,
    `http://127.0.0.1:${receiver.port}/notices`,
    o.ladderStepS ?? 60,
  );
  const loaded = await loadDefinitionFile(definitionPath);
  if (!loaded.definition) throw new Error(`chaos: the definition does not load: ${definitionPath}`);
  const start = await runCampaignCli(
    ['start', definitionPath, '--id', CAMPAIGN_ID, '--begin', 'now', '--as', 'spj-coord', '--json'],
    env,
  );
  if (start.code !== 0) throw new Error(`chaos: campaign start failed: ${start.stderr}`);

  const simulation = new SimulatedDepartments({
    campaignId: CAMPAIGN_ID,
    definition: loaded.definition,
    pool,
    env,
    stateDriven: true,
    log: (line) => o.log(`  ${line}`),
    stallMs: o.stallMs,
    onCommand: (args, phase) => {
      const changing = !['tasks', 'status', 'show', 'list'].includes(args[0] ?? '');
      if (!changing) return;
      if (phase === 'start') {
        updatesInFlight++;
        activitySinceUpdate = false;
      } else updatesInFlight--;
    },
  });
  const phaseNow = async (): Promise<string | undefined> => {
    try {
      const r = await pool.query<{ phase: string }>(
        'SELECT phase FROM campaigns WHERE campaign_id = $1',
        [CAMPAIGN_ID],
      );
      return r.rows[0]?.phase;
    } catch {
      return undefined;
    }
  };

  // The faults, each on its own schedule, all driven by what the campaign is doing.
  const faults = (async () => {
    if (o.kills === 0 && !o.serverRestarts && !o.dbOutageMs && !o.endpointFaultMs) return;
    const maxGap = o.maxKillGapMs ?? 12_000;
    let dbDone = o.dbOutageMs === 0;
    let serverDone = o.serverRestarts === 0;
    let endpointDone = o.endpointFaultMs === 0;
    let nextKillAt = Date.now() + 1000 + rng() * maxGap;
    while (!finished) {
      const phase = await phaseNow();
      // The notification endpoint: failing, then hanging, from the start of training.
      if (!endpointDone && phase === 'training') {
        endpointDone = true;
        void (async () => {
          receiver.mode = 'fail';
          o.log(`chaos: the webhook answers 503 for ${o.endpointFaultMs / 1000} s`);
          await sleep(o.endpointFaultMs);
          receiver.mode = 'hang';
          o.log(`chaos: the webhook does not answer for ${o.endpointFaultMs / 1000} s`);
          await sleep(o.endpointFaultMs);
          receiver.mode = 'ok';
          o.log('chaos: the webhook answers again');
        })();
      }
      // PostgreSQL away during data entry.
      if (!dbDone && phase === 'dataEntry') {
        dbDone = true;
        o.log(`chaos: stopping PostgreSQL for ${o.dbOutageMs / 1000} s (data entry)`);
        await database!.stop();
        database = undefined;
        const stoppedAt = Date.now();
        await sleep(o.dbOutageMs);
        database = await startEmbeddedPostgres({
          dataDir: pgDir,
          port: pgPort,
          database: 'campaign',
        });
        figures.dbOutageS += Math.round((Date.now() - stoppedAt) / 1000);
        o.log('chaos: PostgreSQL is back');
      }
      // The Temporal server restarted once, on its SQLite file, during verification.
      if (!serverDone && phase === 'verification') {
        serverDone = true;
        o.log('chaos: restarting the Temporal server (persistence kept)');
        await temporal!.stop();
        temporal = undefined;
        temporal = await startTemporal(temporalPort, join(dir, 'temporal.sqlite'));
        figures.serverRestarts++;
        o.log('chaos: the Temporal server is back');
      }
      // Kills: first during an update, then during a projection, then at random moments.
      if (figures.kills < o.kills && worker && !worker.exit && !killing) {
        if (figures.killsDuringUpdate === 0) {
          if (updatesInFlight > 0 && activitySinceUpdate) {
            figures.killsDuringUpdate++;
            await kill('during an update: a command in flight, its workflow running an activity');
          }
        } else if (figures.killsDuringProjection === 0) {
          if (projectionSeen === worker) {
            figures.killsDuringProjection++;
            await kill('during a projection (projectTaskEvent started)');
          }
        } else if (Date.now() >= nextKillAt) {
          await kill('at a random moment');
          nextKillAt = Date.now() + 1000 + rng() * maxGap;
        }
        projectionSeen = undefined;
      }
      await sleep(50);
    }
  })();

  await simulation.run();
  if (simulation.stalled) problems.push(`the campaign stalled: ${simulation.stalled}`);
  finished = true;
  await faults;
  figures.commands = simulation.counts.commands;
  o.log(`chaos: the campaign has closed after ${simulation.counts.commands} commands`);

  // Every delivery sent (the outbox drains after the faults) before the state is read.
  const settleBy = Date.now() + 600_000;
  for (;;) {
    const r = await pool
      .query<{ pending: number }>(
        `SELECT count(*) FILTER (WHERE status = 'pending')::int AS pending FROM notice_deliveries`,
      )
      .catch(() => ({ rows: [{ pending: 1 }] }));
    if (r.rows[0]!.pending === 0) break;
    if (Date.now() > settleBy) {
      problems.push(`${r.rows[0]!.pending} deliveries still pending 10 minutes after the close`);
      break;
    }
    await sleep(500);
  }

  // Workflows: none failed, none left running.
  const connection = await Connection.connect({ address });
  try {
    const client = new WorkflowClient({ connection, namespace: 'default' });
    const byStatus = new Map<string, number>();
    for await (const wf of client.list({ query: '' })) {
      byStatus.set(wf.status.name, (byStatus.get(wf.status.name) ?? 0) + 1);
      if (wf.status.name !== 'COMPLETED' && wf.status.name !== 'CANCELLED')
        problems.push(`workflow ${wf.workflowId} is ${wf.status.name}`);
    }
    o.log(`chaos: workflows by status ${JSON.stringify(Object.fromEntries(byStatus))}`);
  } finally {
    await connection.close();
  }

  // Tasks: none stuck; the late unit chased to its head (the ladder's timers fired).
  const stuck = await pool.query<{ task_id: string; state: string }>(
    `SELECT task_id, state FROM tasks WHERE campaign_id = $1 AND state NOT IN ('done', 'cancelled')`,
    [CAMPAIGN_ID],
  );
  for (const t of stuck.rows) problems.push(`task ${t.task_id} is left ${t.state}`);
  const chased = await pool.query<{ task_id: string; escalation_level: number }>(
    `SELECT task_id, escalation_level FROM tasks
      WHERE campaign_id = $1 AND unit_id = 'zjj' AND kind <> 'measure'`,
    [CAMPAIGN_ID],
  );
  for (const t of chased.rows)
    if (t.escalation_level < 2)
      problems.push(`timer missed: ${t.task_id} reached escalation level ${t.escalation_level}`);

  // Every reminder and escalation step fired on its own, none folded into a later one.
  const folded = await pool.query<{ task_id: string; type: string; detail: { skipped: string[] } }>(
    `SELECT task_id, type, detail FROM task_events
      WHERE campaign_id = $1 AND type IN ('reminded', 'escalated') AND detail ? 'skipped'`,
    [CAMPAIGN_ID],
  );
  for (const e of folded.rows)
    problems.push(
      `timer missed: ${e.task_id} ${e.type} with ${e.detail.skipped.join(', ')} folded into it`,
    );

  // Deliveries against what the receiver got.
  const deliveries = await pool.query<{ key: string; status: string }>(
    `SELECT notice_id || '@' || channel_id AS key, status FROM notice_deliveries`,
  );
  figures.notices = Number(
    (await pool.query<{ n: string }>('SELECT count(*) AS n FROM notices')).rows[0]!.n,
  );
  figures.deliveries = deliveries.rowCount ?? 0;
  for (const d of deliveries.rows) {
    if (d.status !== 'sent') problems.push(`delivery ${d.key} is ${d.status}`);
    if (!receiver.byKey.has(d.key)) figures.missing++;
  }
  figures.received = receiver.byKey.size;
  for (const seen of receiver.byKey.values()) figures.redelivered += seen.count - 1;
  // After de-duplication by key each notice counts once; a key that came with two different
  // bodies, or a request without a key, is a duplicate the receiver could not recognise.
  figures.duplicates = receiver.conflicting + receiver.withoutKey;
  if (figures.missing) problems.push(`${figures.missing} deliveries never reached the webhook`);

  const state = await canonicalState(pool);
  figures.seconds = Math.round((Date.now() - began) / 1000);

  // Tear down.
  finished = true;
  await worker?.stop(10_000);
  await pool.end().catch(() => {});
  await temporal?.stop();
  await database?.stop();
  await receiver.close();
  rmSync(dir, { recursive: true, force: true });
  return { state, figures, problems };
}

/** Columns that say when, or that are generated afresh on every run, or the outbox's own. */
const VOLATILE = new Set([
  'attempts',
  'last_error',
  'claimed_by',
  'lease_until',
  'next_attempt_at',
  'version',
  'request_id',
  'update_id',
  'run_id',
  'entered_by',
]);
const ISO = /\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?/g;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

function canonicalValue(v: unknown): unknown {
  if (v instanceof Date) return '<time>';
  if (typeof v === 'string')
    return v
      .replace(UUID, '<id>')
      .replace(ISO, '<time>')
      .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:<port>');
  // Epoch milliseconds (2001 to 2286): a moment.
  if (typeof v === 'number' && v >= 1e12 && v < 1e13) return '<time>';
  if (typeof v === 'string' && /^\d{13}$/.test(v)) return '<time>';
  if (Array.isArray(v)) return v.map(canonicalValue);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      if (VOLATILE.has(k) || /(?:At|_at)$/.test(k) || /^(?:requestId|updateId|runId)$/.test(k))
        continue;
      out[k] = canonicalValue((v as Record<string, unknown>)[k]);
    }
    return out;
  }
  return v;
}

/** Every table of ours, each row canonical and the rows sorted. */
export async function canonicalState(pool: pg.Pool): Promise<Record<string, string[]>> {
  const tables = await pool.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
        AND table_name <> 'schema_migrations' AND table_name NOT LIKE 'portal\\_%'
        AND table_name NOT LIKE 'evidence\\_%' AND table_name <> 'system_checks'
      ORDER BY table_name`,
  );
  const state: Record<string, string[]> = {};
  for (const { table_name: table } of tables.rows) {
    const cols = await pool.query<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`,
      [table],
    );
    const keep = cols.rows
      .filter(
        (c) =>
          !c.data_type.startsWith('timestamp') &&
          c.data_type !== 'uuid' &&
          !VOLATILE.has(c.column_name) &&
          !c.column_name.endsWith('_at'),
      )
      .map((c) => `"${c.column_name}"`);
    if (!keep.length) continue;
    const rows = await pool.query(`SELECT ${keep.join(', ')} FROM "${table}"`);
    state[table] = rows.rows.map((r) => JSON.stringify(canonicalValue(r))).sort();
  }
  return state;
}

/** Rows in one state and not the other (as multisets), per table. */
export function compareStates(
  a: Record<string, string[]>,
  b: Record<string, string[]>,
): { table: string; onlyInBaseline: string[]; onlyInChaos: string[] }[] {
  const out: { table: string; onlyInBaseline: string[]; onlyInChaos: string[] }[] = [];
  for (const table of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    const count = new Map<string, number>();
    for (const r of a[table] ?? []) count.set(r, (count.get(r) ?? 0) + 1);
    for (const r of b[table] ?? []) count.set(r, (count.get(r) ?? 0) - 1);
    const onlyInBaseline: string[] = [];
    const onlyInChaos: string[] = [];
    for (const [r, n] of count) {
      for (let i = 0; i < n; i++) onlyInBaseline.push(r);
      for (let i = 0; i < -n; i++) onlyInChaos.push(r);
    }
    if (onlyInBaseline.length || onlyInChaos.length)
      out.push({ table, onlyInBaseline, onlyInChaos });
  }
  return out;
}

export interface SuiteResult {
  baseline: ChaosRun;
  chaos: ChaosRun;
  differences: ReturnType<typeof compareStates>;
  differenceCount: number;
  summary: string;
}

/** The undisturbed run, then the disturbed one with the same seed and definition; compared. */
export async function runChaosSuite(o: ChaosOptions): Promise<SuiteResult> {
  o.log(`chaos: seed ${o.seed}; the undisturbed run first`);
  const baseline = await runChaosCampaign({
    ...o,
    kills: 0,
    serverRestarts: 0,
    dbOutageMs: 0,
    endpointFaultMs: 0,
    log: (line) => o.log(`[baseline] ${line}`),
  });
  o.log(`chaos: the undisturbed run took ${baseline.figures.seconds} s; now the disturbed one`);
  const chaos = await runChaosCampaign(o);
  const differences = compareStates(baseline.state, chaos.state);
  const differenceCount = differences.reduce(
    (n, d) => n + Math.max(d.onlyInBaseline.length, d.onlyInChaos.length),
    0,
  );
  const f = chaos.figures;
  const summary = `chaos: ${f.kills} kills, ${f.serverRestarts} server restarts, ${f.dbOutageS} s database outage, ${f.notices} notices, ${f.duplicates} duplicates, ${differenceCount} differences`;
  return { baseline, chaos, differences, differenceCount, summary };
}
