// `npm run bench:province [-- --counties N] [-- --workers W]`: a province on one cluster. N
// county campaigns generated from examples/county-2026.yaml (distinct ids, counties and rosters'
// names), started on the cluster mode of the local services (Temporal 1.29.1 on PostgreSQL, one
// process per service) with W worker processes (worker/main.ts as deployed), and measured in one
// run: start throughput against starting the same number of no-op workflows; an action's round
// trip at 20 and 100 concurrent actors against a no-op update; each worker's peak RSS; Temporal's
// and the product's PostgreSQL size per county; the largest history. Then the same load on the
// dev server (SQLite) for as far as it gets. Writes docs/province-latency.png and
// docs/province.md; the last line is the summary scripts read. Rehearsals are moved by
// domain/rehearsal.ts, so the run does not depend on today's date.
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  bundleWorkflowCode,
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
} from '@temporalio/worker';
import pg from 'pg';
import { loadDefinitionFile } from '../client/definition-file.ts';
import { BusinessCalendar } from '../domain/calendar.ts';
import { indicatorWorkflowId, planCampaign, type CampaignInput } from '../domain/campaign.ts';
import { rosterOf, taskPolicyOf } from '../domain/campaign-parts.ts';
import type { CampaignDefinition } from '../domain/definition.ts';
import { rehearse } from '../domain/rehearsal.ts';
import { ALL_SEARCH_ATTRIBUTES } from '../domain/search-attributes.ts';
import { startTask } from './bench/start-task.ts';
import { taskIdOf, type TaskInput } from '../domain/task.ts';
import { returnUpdate, submitUpdate } from '../domain/messages.ts';
import { freePorts, startTestDatabase } from '../test/helpers/postgres.ts';
import { WorkerProcess } from '../test/helpers/worker-process.ts';
import { WORKER_HEAP_MIB } from '../worker/config.ts';
import { noopUpdate, stopUpdate } from './bench/workflows.ts';
import { runBench, type Started } from './lib/bench-run.ts';
import { temporalDatabaseBytes } from './lib/cluster.ts';
import { cpuShare, cpuSnapshot, describeCpuShare } from './lib/cpu-share.ts';
import { linePlot } from './lib/png.ts';
import { runNode } from './lib/run-node.ts';
import { ensureClusterServers, ensureTemporalCli, REPO_ROOT } from './lib/tools.ts';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const arg = (flag: string, dflt: number) => {
  const i = process.argv.indexOf(flag);
  const v = i > 0 ? Number(process.argv[i + 1]) : dflt;
  if (!Number.isInteger(v) || v < 1) throw new Error(`${flag} must be a whole number ≥ 1`);
  return v;
};
const COUNTIES = arg('--counties', 100);
const WORKERS = arg('--workers', 2);
const SHARDS = arg('--shards', 8);
const ACTIONS = Number(process.env.BENCH_ACTIONS ?? 10);
const ACTORS = [1, 20, 100];
/** How long the dev server may take for a stage before it is given up. */
const DEV_STAGE_MS = Number(process.env.BENCH_DEV_STAGE_S ?? 600) * 1000;

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} };
const base = (await loadDefinitionFile('examples/county-2026.yaml')).definition!;
const quick = await loadDefinitionFile('examples/quick-demo.yaml');
const bundle = await bundleWorkflowCode({
  workflowsPath: fileURLToPath(new URL('./bench/workflows.ts', import.meta.url)),
  logger: quiet,
});

/** County i of the province: its own id, county name and roster names, moved to begin now. */
function countyInput(i: number, prefix: string): CampaignInput {
  const id = `${prefix}-${String(i).padStart(4, '0')}`;
  const county = `第${i}县`;
  const def: CampaignDefinition = {
    ...base,
    campaign: { ...base.campaign, id, county, name: `${county}营商环境考核评价` },
    units: base.units.map((u) => ({
      ...u,
      people: u.people.map((p) => ({ ...p, name: `${p.name}（${county}）` })),
    })),
  };
  const { definition, calendar } = rehearse(def, { begin: 'now' }, () => Date.now());
  const plan = planCampaign(definition, calendar, new BusinessCalendar(calendar));
  return { definition, calendar, plan, startedBy: null };
}
const trainingTasks = (input: CampaignInput) =>
  input.plan.indicators.reduce((n, i) => n + new Set([i.teamLeader, ...i.fillers]).size, 0);

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}
const mib = (b: number) => b / 2 ** 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` over `items` with at most `limit` at once. */
async function pool<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

function statusField(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}
const peakRss = (pid: number) => statusField(pid, 'VmHWM');
const currentRss = (pid: number) => statusField(pid, 'VmRSS');

interface Target {
  label: string;
  client: Client;
  nativeConnection: NativeConnection;
  db: pg.Pool;
  workerEnv: NodeJS.ProcessEnv;
}

interface Figures {
  counties: number;
  countiesStarted: number;
  workflows: number;
  campaignMs: number;
  noopMs: number;
  /** Per number of actors: an action's answer (update sent until its result), the same until
   *  PostgreSQL shows it (visible), and the no-op update's answer. */
  latency: Record<number, { task: number[]; visible: number[]; noop: number[] }>;
  /** Where the CPU went while the actions ran, per number of actors. */
  cpu: Record<number, string>;
  rss: number[];
  note?: string;
  /** The counties' campaign inputs (their ids and indicators). */
  inputs: CampaignInput[];
}

/** One action's round trip: until its answer, and until PostgreSQL shows it. */
interface Sample {
  answer: number;
  visible: number;
}

/** The load: N campaigns started, then actions at 1, 20 and 100 actors; on `target`. */
async function load(target: Target, started: Started, stageMs: number): Promise<Figures> {
  const taskQueue = `province-${randomUUID().slice(0, 8)}`;
  const workers = await Promise.all(
    Array.from({ length: WORKERS }, (_, w) =>
      started.add(
        `${target.label} worker ${w + 1}`,
        (async () => {
          const p = new WorkerProcess(`worker-${w + 1}`, { ...target.workerEnv, TEMPORAL_TASK_QUEUE: taskQueue, LOG_LEVEL: 'ERROR' }, [`--max-old-space-size=${WORKER_HEAP_MIB}`]); // prettier-ignore
          await p.waitForLog(/polling task queue/, 300_000);
          return p;
        })(),
        (p) => p.stop(),
      ),
    ),
  );
  const noopQueue = `${taskQueue}-noop`;
  const noopWorker = await Worker.create({
    connection: target.nativeConnection,
    taskQueue: noopQueue,
    workflowBundle: bundle,
    maxCachedWorkflows: 200,
  });
  const noopRun = noopWorker.run();
  await started.add(`${target.label} no-op worker`, Promise.resolve(noopWorker), async (w) => {
    if (w.getState() === 'RUNNING') w.shutdown();
    await noopRun;
  });
  const f: Figures = {
    counties: COUNTIES,
    countiesStarted: 0,
    workflows: 0,
    campaignMs: NaN,
    noopMs: NaN,
    latency: {},
    cpu: {},
    rss: [],
    inputs: [],
  };
  const { client, db } = target;
  // A worker that dies ends the stage at once, with its last output kept on disk: waiting on a
  // queue that nobody polls any more would never end.
  const logDir = join(REPO_ROOT, '.artifacts');
  mkdirSync(logDir, { recursive: true });
  const keepLog = (p: WorkerProcess) =>
    writeFileSync(join(logDir, `bench-province-${target.label.replace(/\W+/g, '-')}-${p.name}.log`), p.log); // prettier-ignore
  const dead = () => {
    const p = workers.find((w) => w.exit);
    if (!p) return;
    keepLog(p);
    throw new Error(`${target.label}: ${p.name} exited (${JSON.stringify(p.exit)}); its last output:\n${p.log.slice(-2000)}`); // prettier-ignore
  };
  const deadline = (what: string) => {
    const until = Date.now() + stageMs;
    return () => {
      dead();
      if (Date.now() > until)
        throw new Error(`${target.label}: ${what} took over ${stageMs / 1000} s`);
    };
  };
  const workerDied = new Promise<never>((_, reject) => {
    for (const w of workers) void w.exited.then(() => { try { dead(); } catch (e) { reject(e); } }); // prettier-ignore
  });
  workerDied.catch(() => {}); // observed by the stages that race it
  const progress = (what: string) => {
    let last = 0;
    return (line: () => string) => {
      if (Date.now() - last < 30_000) return;
      last = Date.now();
      const rss = workers.map((w) => `${mib(currentRss(w.pid)).toFixed(0)}`).join('/');
      console.error(`  ${target.label}: ${what}: ${line()} (worker RSS ${rss} MiB)`);
    };
  };
  try {
    // Starting: every campaign until all its training tasks are projected.
    const prefix = `prov-${randomUUID().slice(0, 6)}`;
    const inputs = Array.from({ length: COUNTIES }, (_, i) => countyInput(i + 1, prefix));
    f.inputs = inputs;
    const expected = inputs.reduce((n, i) => n + trainingTasks(i), 0);
    f.workflows = inputs.reduce((n, i) => n + 1 + i.plan.indicators.length + trainingTasks(i), 0);
    const check = deadline('starting the campaigns');
    let t = performance.now();
    await pool(inputs, 20, async (input) => {
      await client.workflow.start('campaignWorkflow', { taskQueue, workflowId: input.definition.campaign.id, args: [input] }); // prettier-ignore
      f.countiesStarted++;
    });
    const tell = progress('starting');
    for (;;) {
      const r = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM tasks WHERE campaign_id LIKE $1 AND kind = 'training'`,
        [`${prefix}-%`],
      );
      if (Number(r.rows[0]!.n) >= expected) break;
      check();
      tell(() => `${r.rows[0]!.n} of ${expected} training tasks projected`);
      await sleep(500);
    }
    f.campaignMs = performance.now() - t;
    t = performance.now();
    await pool(Array.from({ length: f.workflows }, (_, i) => i), 100, (i) =>
      client.workflow.execute('benchNoopWorkflowOnce', { taskQueue: noopQueue, workflowId: `${prefix}-noop-${i}` }),
    ); // prettier-ignore
    f.noopMs = performance.now() - t;

    // Actions with all counties open.
    const def = quick.definition!;
    const fields = def.indicators.find((i) => i.code === 'kbqy')!.fields;
    const data = { procedures: 3, days: 1.5, onlineRate: 98 };
    // The actors' tasks belong to the first county's campaign (recorded by its workflow).
    const actorCampaign = inputs[0]!.definition.campaign.id;
    const taskActor = async (key: string): Promise<Sample[]> => {
      const i: TaskInput = {
        taskId: taskIdOf({ campaignId: actorCampaign, indicator: 'kbqy', kind: 'questionnaire', unitId: 'scjgj', key }), // prettier-ignore
        campaignId: actorCampaign,
        indicator: 'kbqy',
        kind: 'questionnaire',
        title: '基准测试 问卷填报',
        unitId: 'scjgj',
        assignee: 'scjgj-staff1',
        review: true,
        due: Date.now() + 86_400_000,
        policy: { ...taskPolicyOf(def), reminders: [], escalation: [{ after: { duration: 'P30D' }, notify: ['deputy'] }] }, // prettier-ignore
        calendar: quick.calendar!,
        roster: rosterOf(def),
        completion: { note: false, evidence: false, fields },
        channels: [],
      };
      const h = await startTask(client, i, taskQueue, noopQueue);
      const samples: Sample[] = [];
      for (let n = 0; n < ACTIONS; n++) {
        const s = performance.now();
        const r =
          n % 2 === 0
            ? await h.executeUpdate(submitUpdate, { args: [{ requestId: randomUUID(), actor: 'scjgj-staff1', data }] }) // prettier-ignore
            : await h.executeUpdate(returnUpdate, { args: [{ requestId: randomUUID(), actor: 'spj-coord', reason: '再核对' }] }); // prettier-ignore
        const answer = performance.now() - s;
        // Visible: PostgreSQL's row has reached the version the answer names (an answer from a
        // task without it, started before the one-task path, is checked by its state at once).
        for (let tries = 0; ; tries++) {
          const row = await db.query<{ state: string; last_seq: number }>('SELECT state, last_seq FROM tasks WHERE task_id = $1', [i.taskId]); // prettier-ignore
          const seen = row.rows[0];
          if (r.version === undefined ? seen?.state === r.state : (seen?.last_seq ?? 0) >= r.version) break; // prettier-ignore
          if (r.version === undefined || tries > 20_000) throw new Error(`projection lags: ${seen?.state}/${seen?.last_seq} vs ${r.state}/${r.version}`); // prettier-ignore
          await new Promise((res) => setTimeout(res, 2));
        }
        samples.push({ answer, visible: performance.now() - s });
      }
      await h.terminate('bench done');
      return samples;
    };
    const noopActor = async (key: string): Promise<Sample[]> => {
      const h = await client.workflow.start('benchNoopWorkflow', { taskQueue: noopQueue, workflowId: `${prefix}-noopu-${key}` }); // prettier-ignore
      const samples: Sample[] = [];
      for (let n = 0; n < ACTIONS; n++) {
        const s = performance.now();
        await h.executeUpdate(noopUpdate, { args: [n] });
        const answer = performance.now() - s;
        samples.push({ answer, visible: answer });
      }
      await h.executeUpdate(stopUpdate);
      return samples;
    };
    const measure = async (actor: (k: string) => Promise<Sample[]>, n: number) => {
      await Promise.race([actor(`warm-${randomUUID()}`), workerDied]);
      // Settled, not raced: a failed actor must not leave the others' calls running.
      const r = await Promise.race([Promise.allSettled(Array.from({ length: n }, () => actor(randomUUID()))), workerDied]); // prettier-ignore
      const failed = r.find((x) => x.status === 'rejected');
      if (failed) throw failed.reason;
      return r.flatMap((x) => (x.status === 'fulfilled' ? x.value : []));
    };
    const names = new Map<number, string>([[process.pid, 'benchmark process'], ...workers.map((w, i) => [w.pid, `worker ${i + 1}`] as [number, string])]); // prettier-ignore
    for (const n of ACTORS) {
      const lcheck = deadline(`actions at ${n} actors`);
      const before = cpuSnapshot(names);
      const task = await measure(taskActor, n);
      f.cpu[n] = describeCpuShare(cpuShare(before, cpuSnapshot(names)), availableParallelism());
      const noop = await measure(noopActor, n);
      lcheck();
      f.latency[n] = { task: task.map((x) => x.answer), visible: task.map((x) => x.visible), noop: noop.map((x) => x.answer) }; // prettier-ignore
    }
  } catch (e) {
    // The whole chain: "Workflow Update failed" alone does not say which rule or timeout.
    const chain: string[] = [];
    for (let c: unknown = e; c instanceof Error && chain.length < 5; c = c.cause)
      chain.push(c.message);
    f.note = chain.join(' ← ');
  } finally {
    f.rss = workers.map((w) => peakRss(w.pid));
    for (const w of workers) keepLog(w);
  }
  return f;
}

function describe(label: string, f: Figures): string[] {
  const out = [`\n${label}`];
  out.push(`  counties started: ${f.countiesStarted} of ${f.counties} (${f.workflows} workflows until training is under way)`); // prettier-ignore
  if (Number.isFinite(f.campaignMs)) {
    out.push(`  campaigns until every training task is projected: ${(f.campaignMs / 1000).toFixed(1)} s (${((f.workflows / f.campaignMs) * 1000).toFixed(0)} workflows/s)`); // prettier-ignore
  }
  if (Number.isFinite(f.noopMs)) {
    out.push(`  the same number of no-op workflows started and completed: ${(f.noopMs / 1000).toFixed(1)} s (${((f.workflows / f.noopMs) * 1000).toFixed(0)} workflows/s)`); // prettier-ignore
    out.push(`  start ratio: ${(f.campaignMs / f.noopMs).toFixed(2)} (goal ≤ 1.2)`);
  }
  for (const [n, l] of Object.entries(f.latency)) {
    const [tp50, tp99, np50, np99] = [percentile(l.task, 50), percentile(l.task, 99), percentile(l.noop, 50), percentile(l.noop, 99)]; // prettier-ignore
    const [vp50, vp99] = [percentile(l.visible, 50), percentile(l.visible, 99)];
    out.push(`  ${n} actors: action answer p50 ${tp50.toFixed(0)} ms p99 ${tp99.toFixed(0)} ms, visible p50 ${vp50.toFixed(0)} ms p99 ${vp99.toFixed(0)} ms; no-op update p50 ${np50.toFixed(0)} ms p99 ${np99.toFixed(0)} ms; p99 ratios: answer ${(tp99 / np99).toFixed(2)}, visible ${(vp99 / np99).toFixed(2)}`); // prettier-ignore
    if (f.cpu[Number(n)]) out.push(`    CPU while the ${n}-actor actions ran (share of ${availableParallelism()} cores): ${f.cpu[Number(n)]}`); // prettier-ignore
  }
  out.push(`  worker peak RSS: ${f.rss.map((r) => `${mib(r).toFixed(0)} MiB`).join(', ')} (goal < 1024 MiB each)`); // prettier-ignore
  if (f.note) out.push(`  stopped early: ${f.note}`);
  return out;
}

await runBench('bench-province', async (started) => {
  // An error thrown outside the run's promises (a client's retry timer after a give-up) still
  // stops the cluster and the workers before the process ends.
  process.once('uncaughtException', (e) => {
    console.error(`\nbench-province failed: ${e.stack ?? e.message}`);
    void started.stopAll().finally(() => process.exit(1));
  });
  const servers = await ensureClusterServers();
  void servers;
  const cli = await ensureTemporalCli();
  const dataDir = mkdtempSync(join(tmpdir(), 'province-'));
  chmodSync(dataDir, 0o755);
  const [pgPort, frontendPort, uiPort] = (await freePorts(3)) as [number, number, number];
  const svcEnv: NodeJS.ProcessEnv = {
    CAMPAIGN_DATA_DIR: dataDir,
    TEMPORAL_ADDRESS: `127.0.0.1:${frontendPort}`,
    TEMPORAL_UI_PORT: String(uiPort),
    EMBEDDED_PG_PORT: String(pgPort),
    TEMPORAL_CLUSTER_PORT_BASE: String(21_000 + Math.floor(Math.random() * 9_000)),
    TEMPORAL_HISTORY_SHARDS: String(SHARDS),
    DATABASE_URL: '',
  };
  const tsxCli = join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  const services = (cmd: string, extra: string[] = []) =>
    runNode([tsxCli, join(REPO_ROOT, 'scripts', 'services.ts'), cmd, ...extra], svcEnv);
  await started.add(
    'the cluster',
    services('start', ['--cluster']).then((r) => {
      if (r.code !== 0) throw new Error(`services start --cluster failed:\n${r.stderr}${r.stdout}`);
    }),
    async () => {
      await services('stop');
      rmSync(dataDir, { recursive: true, force: true });
    },
  );
  const dbUrl = `postgres://postgres:postgres@127.0.0.1:${pgPort}/campaign`;
  const db = await started.add('pool', Promise.resolve(new pg.Pool({ connectionString: dbUrl, max: 20 })), (p) => p.end()); // prettier-ignore
  const connection = await started.add('client', Connection.connect({ address: svcEnv.TEMPORAL_ADDRESS! }), (c) => c.close()); // prettier-ignore
  const native = await started.add('native connection', NativeConnection.connect({ address: svcEnv.TEMPORAL_ADDRESS! }), (c) => c.close()); // prettier-ignore
  // The worker processes migrate the database; the pool reads it.
  const cluster = await load(
    { label: 'cluster', client: new Client({ connection }), nativeConnection: native, db, workerEnv: { TEMPORAL_ADDRESS: svcEnv.TEMPORAL_ADDRESS, DATABASE_URL: dbUrl } }, // prettier-ignore
    started,
    Number.POSITIVE_INFINITY,
  );
  const pgs = { host: '127.0.0.1', port: pgPort, user: 'postgres', password: 'postgres' };
  const temporalBytes = await temporalDatabaseBytes(pgs);
  const productBytes = Number((await db.query<{ n: string }>("SELECT pg_database_size('campaign')::text AS n")).rows[0]!.n); // prettier-ignore
  // The largest history among the counties' campaign and indicator workflows (the ones that
  // start children and take every signal), read from each one's description: visibility holds a
  // history's length only once the workflow has closed, and these are all still running.
  const clusterClient = new Client({ connection });
  const ids = cluster.inputs.flatMap((i) => [i.definition.campaign.id, ...i.plan.indicators.map((x) => indicatorWorkflowId(i.definition.campaign.id, x.code))]); // prettier-ignore
  let largest = { id: '', events: 0 };
  await pool(ids, 20, async (id) => {
    const d = await clusterClient.workflow
      .getHandle(id)
      .describe()
      .catch(() => undefined);
    if (d && d.historyLength > largest.events) largest = { id, events: d.historyLength };
  });

  // The same load on the dev server (SQLite), for as far as it gets.
  const dev = await started.add(
    'the dev server',
    TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'existing-path', path: cli }, searchAttributes: ALL_SEARCH_ATTRIBUTES, log: { format: 'pretty', level: 'error' } }, // prettier-ignore
    }),
    (e) => e.teardown(),
  );
  const devDb = await started.add('dev PostgreSQL', startTestDatabase(), (d) => d.close());
  const devNative = await started.add('dev native connection', NativeConnection.connect({ address: dev.address }), (c) => c.close()); // prettier-ignore
  const devFigures = await load(
    { label: 'dev server', client: dev.client, nativeConnection: devNative, db: devDb.pool, workerEnv: { TEMPORAL_ADDRESS: dev.address, DATABASE_URL: devDb.url } }, // prettier-ignore
    started,
    DEV_STAGE_MS,
  );

  const lines = [
    ...describe(`Cluster: Temporal 1.29.1 on PostgreSQL, ${SHARDS} history shards, ${COUNTIES} counties, ${WORKERS} workers`, cluster), // prettier-ignore
    `  Temporal's PostgreSQL: ${mib(temporalBytes).toFixed(0)} MiB (${mib(temporalBytes / COUNTIES).toFixed(2)} MiB per county)`, // prettier-ignore
    `  the product's PostgreSQL: ${mib(productBytes).toFixed(0)} MiB (${mib(productBytes / COUNTIES).toFixed(2)} MiB per county)`, // prettier-ignore
    `  largest history: ${largest.events} events (${largest.id})`,
    ...describe('Dev server (SQLite), the same load', devFigures),
  ];
  for (const l of lines) console.log(l);

  // The figure and the table.
  mkdirSync(join(REPO_ROOT, 'docs'), { recursive: true });
  const pts = (f: Figures, which: 'task' | 'noop', p: number) =>
    Object.entries(f.latency).map(([n, l]) => [Number(n), percentile(l[which], p)] as [number, number]); // prettier-ignore
  writeFileSync(
    join(REPO_ROOT, 'docs', 'province-latency.png'),
    linePlot(
      [
        { colour: [31, 119, 180], points: pts(cluster, 'task', 99) },
        { colour: [31, 119, 180], points: pts(cluster, 'noop', 99), dashed: true },
        { colour: [214, 39, 40], points: pts(devFigures, 'task', 99) },
        { colour: [214, 39, 40], points: pts(devFigures, 'noop', 99), dashed: true },
      ],
      { xTicks: ACTORS, yStep: 100 },
    ),
  );
  const row = (label: string, f: Figures) =>
    ACTORS.filter((n) => f.latency[n]).map((n) => {
      const l = f.latency[n]!;
      return `| ${label} | ${n} | ${percentile(l.task, 50).toFixed(0)} | ${percentile(l.task, 99).toFixed(0)} | ${percentile(l.visible, 99).toFixed(0)} | ${percentile(l.noop, 50).toFixed(0)} | ${percentile(l.noop, 99).toFixed(0)} | ${(percentile(l.task, 99) / percentile(l.noop, 99)).toFixed(2)} | ${(percentile(l.visible, 99) / percentile(l.noop, 99)).toFixed(2)} |`; // prettier-ignore
    });
  writeFileSync(
    join(REPO_ROOT, 'docs', 'province.md'),
    [
      `Measured by \`npm run bench:province -- --counties ${COUNTIES} --workers ${WORKERS}\` (${SHARDS} history shards).`,
      '',
      '| server | actors | answer p50 ms | answer p99 ms | visible p99 ms | no-op p50 ms | no-op p99 ms | answer p99 ratio | visible p99 ratio |',
      '| ------ | -----: | ------------: | ------------: | -------------: | -----------: | -----------: | ---------------: | ----------------: |',
      ...row('cluster', cluster),
      ...row('dev server', devFigures),
      '',
      ...lines.map((l) => (l.startsWith('\n') ? `\n${l.trim()}\n` : `- ${l.trim()}`)),
      '',
    ].join('\n'),
  );
  console.log(`\nwrote docs/province-latency.png and docs/province.md`);

  const goals: string[] = [];
  const startRatio = cluster.campaignMs / cluster.noopMs;
  const l20 = cluster.latency[20];
  const answerRatio = l20 ? percentile(l20.task, 99) / percentile(l20.noop, 99) : NaN;
  const visibleRatio = l20 ? percentile(l20.visible, 99) / percentile(l20.noop, 99) : NaN;
  const maxRss = Math.max(...cluster.rss);
  if (!(startRatio <= 1.2)) goals.push(`start ratio ${startRatio.toFixed(2)} > 1.2: a county campaign starts ${(cluster.workflows / COUNTIES).toFixed(0)} workflows, each of which records its creation in PostgreSQL by an activity, against one workflow task per no-op workflow; the ${WORKERS} workers' workflow-task slots and the machine's cores bound it`); // prettier-ignore
  const l1 = cluster.latency[1];
  const floor = l1 ? ` (${(percentile(l1.task, 99) / percentile(l1.noop, 99)).toFixed(2)} with 1 actor)` : ''; // prettier-ignore
  if (!(answerRatio <= 1.3)) goals.push(`answer p99 ratio ${answerRatio.toFixed(2)} > 1.3 at 20 actors${floor}: the action's workflow task also schedules its projection and the task's history is longer than a no-op's; on workers busy with ${COUNTIES} open campaigns; CPU meanwhile: ${cluster.cpu[20] ?? 'not measured'}`); // prettier-ignore
  if (!(visibleRatio <= 2)) goals.push(`visible p99 ratio ${visibleRatio.toFixed(2)} > 2 at 20 actors: the projection's activity and the bench's polling read of PostgreSQL come after the answer; CPU meanwhile: ${cluster.cpu[20] ?? 'not measured'}`); // prettier-ignore
  if (!(mib(maxRss) < 1024)) goals.push(`worker RSS ${mib(maxRss).toFixed(0)} MiB ≥ 1 GiB`);
  if (cluster.note) goals.push(`the cluster run stopped early: ${cluster.note}`);
  console.log(goals.length ? `\nGoals missed:\n${goals.map((g) => `  - ${g}`).join('\n')}` : '\nAll goals met.'); // prettier-ignore
  // A run that did not finish is a failed benchmark (scripts read the exit code); a goal
  // missed on a run that finished is a figure, reported above.
  if (cluster.note) process.exitCode = 1;
  console.log(
    `province: ${COUNTIES} counties, ${WORKERS} workers, start ratio ${startRatio.toFixed(2)}, answer p99 ratio ${answerRatio.toFixed(2)} at 20 actors, visible p99 ratio ${visibleRatio.toFixed(2)} at 20 actors, max worker RSS ${mib(maxRss).toFixed(0)} MiB`,
  );
});
