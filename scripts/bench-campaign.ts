// Campaign figures for `npm run bench`, measured in one run:
// 1. On a dev server with PostgreSQL: starting the realistic example campaign until every
//    first-phase (training) task exists and is projected, beside starting the same number of
//    no-op workflows, and the ratio (target ≤ 1.5).
// 2. The worker's peak RSS with 20 such campaigns open at once (target < 1 GiB): worker/main.ts
//    in a process of its own, as deployed, with the configuration's cache and slots (`--cache N`
//    sets WORKER_MAX_CACHED_WORKFLOWS, e.g. 2310 for the SDK's own default on a 4 GiB heap;
//    `--heap N` another --max-old-space-size than WORKER_HEAP_MIB).
// 3. Under time skipping: the realistic example over its whole year (moved to start next
//    Monday), every department silent (the worst case: every task escalates to the top), and
//    the largest history of any workflow (target ≤ 2,000 events), with the run's wall time.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  bundleWorkflowCode,
  DefaultLogger,
  Runtime,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { loadDefinitionFile } from '../client/definition-file.ts';
import { BusinessCalendar } from '../domain/calendar.ts';
import { planCampaign, type CampaignInput } from '../domain/campaign.ts';
import { recordResultsUpdate } from '../domain/messages.ts';
import type { CampaignDefinition } from '../domain/definition.ts';
import { rehearse } from '../domain/rehearsal.ts';
import { ALL_SEARCH_ATTRIBUTES } from '../domain/search-attributes.ts';
import { addCalendarDays, localDateOf, zonedInstant } from '../domain/time.ts';
import { startTestDatabase, type TestDatabase } from '../test/helpers/postgres.ts';
import { runWorker, timeSkippingEnv } from '../test/helpers/temporal.ts';
import { WorkerProcess } from '../test/helpers/worker-process.ts';
import { WORKER_HEAP_MIB } from '../worker/config.ts';
import { runBench } from './lib/bench-run.ts';
import { ensureTemporalCli } from './lib/tools.ts';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} };
const loaded = await loadDefinitionFile('examples/county-2026.yaml');
const baseDef = loaded.definition!;

/**
 * The realistic example under a new id, moved to begin at `begin` as `campaign start --begin`
 * moves it (on any date: begun in December, it reports in the next year), and planned.
 */
function inputFor(def: CampaignDefinition, id: string, begin: number): CampaignInput {
  const { definition, calendar } = rehearse(
    { ...def, campaign: { ...def.campaign, id } },
    { begin: 'now' },
    () => begin,
  );
  const plan = planCampaign(definition, calendar, new BusinessCalendar(calendar));
  return { definition, calendar, plan, startedBy: null };
}

/** The value after `flag` on the command line. */
function argValue(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  return i > 0 ? process.argv[i + 1] : undefined;
}

/** A process's resident set now and at its peak (VmRSS, VmHWM), in bytes (Linux /proc). */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  return { rss: kb('VmRSS') * 1024, peak: kb('VmHWM') * 1024 };
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

function trainingTaskCount(input: CampaignInput): number {
  return input.plan.indicators.reduce((n, i) => n + new Set([i.teamLeader, ...i.fillers]).size, 0);
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('timed out');
}

const bundle: WorkflowBundleWithSourceMap = await bundleWorkflowCode({
  workflowsPath: fileURLToPath(new URL('./bench/workflows.ts', import.meta.url)),
  logger: quiet,
});

// ---- 1 and 2: the dev server ----
await runBench('bench-campaign (dev server)', async (started) => {
  const cli = await ensureTemporalCli();
  const [env, db] = await Promise.all([
    started.add(
      'the dev server',
      TestWorkflowEnvironment.createLocal({
        server: {
          executable: { type: 'existing-path', path: cli },
          searchAttributes: ALL_SEARCH_ATTRIBUTES,
          log: { format: 'pretty', level: 'error' },
        },
      }),
      (e) => e.teardown(),
    ),
    started.add('PostgreSQL', startTestDatabase(), (d) => d.close()),
  ]);
  const worker = await started.add(
    'the worker',
    runWorker(env, db.pool, bundle, {
      prefix: 'bench-campaign',
      maxConcurrentActivityTaskExecutions: 50,
    }),
    (w) => w.stop(),
  );
  const startCampaign = async (id: string, taskQueue = worker.taskQueue) => {
    const input = inputFor(baseDef, id, Date.now());
    const expected = trainingTaskCount(input);
    await env.client.workflow.start('campaignWorkflow', {
      taskQueue,
      workflowId: id,
      args: [input],
    });
    await waitFor(
      async () =>
        Number(
          (
            await db.pool.query(
              `SELECT count(*) AS n FROM tasks WHERE campaign_id = $1 AND kind = 'training'`,
              [id],
            )
          ).rows[0].n,
        ) === expected,
      300_000,
    );
    return 1 + input.plan.indicators.length + expected;
  };

  // `--rss-only`: figure 2 alone.
  if (!process.argv.includes('--rss-only')) {
    const taskQueue = worker.taskQueue;
    // Warm up both paths once.
    await startCampaign(`bench-warm-${randomUUID().slice(0, 8)}`);
    await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        env.client.workflow.execute('benchNoopWorkflowOnce', {
          taskQueue,
          workflowId: `warm-noop-${i}-${randomUUID()}`,
        }),
      ),
    );

    let t = performance.now();
    const workflows = await startCampaign(`bench-${randomUUID().slice(0, 8)}`);
    const campaignMs = performance.now() - t;
    t = performance.now();
    await Promise.all(
      Array.from({ length: workflows }, (_, i) =>
        env.client.workflow.execute('benchNoopWorkflowOnce', {
          taskQueue,
          workflowId: `noop-${i}-${randomUUID()}`,
        }),
      ),
    );
    const noopMs = performance.now() - t;
    console.log(
      '\nStarting the realistic example campaign (dev server + PostgreSQL on this machine)',
    );
    console.log(
      `  workflows started before training is under way: ${workflows} (1 campaign, ${baseDef.indicators.length} indicators, ${workflows - 1 - baseDef.indicators.length} training tasks)`,
    );
    console.log(
      `  campaign until every training task exists and is projected: ${campaignMs.toFixed(0)} ms`,
    );
    console.log(
      `  the same number of no-op workflows started and completed:    ${noopMs.toFixed(0)} ms`,
    );
    console.log(`  ratio: ${(campaignMs / noopMs).toFixed(2)} (target ≤ 1.5)`);
  }

  // 2: the worker as it is deployed, worker/main.ts in a process of its own with the
  // configuration's defaults (WORKER_MAX_CACHED_WORKFLOWS=N with `--cache N`), on a task queue
  // of its own, with 20 campaigns open; its peak resident set from /proc (VmHWM).
  const rssQueue = `bench-rss-${randomUUID()}`;
  const cache = argValue('--cache');
  const heap = argValue('--heap');
  const proc = await started.add(
    'the worker process',
    (async () => {
      const w = new WorkerProcess(
        'worker',
        {
          TEMPORAL_ADDRESS: env.address,
          TEMPORAL_NAMESPACE: 'default',
          TEMPORAL_TASK_QUEUE: rssQueue,
          DATABASE_URL: db.url,
          LOG_LEVEL: 'ERROR',
          ...(cache ? { WORKER_MAX_CACHED_WORKFLOWS: cache } : {}),
        },
        // As `npm run worker` and the image run it (`--heap N` to try another limit).
        [`--max-old-space-size=${heap ?? WORKER_HEAP_MIB}`],
      );
      await w.waitForLog(/polling task queue/, 600_000);
      return w;
    })(),
    (w) => w.stop(60_000),
  );
  const settings =
    /cache \d+ workflows, slots: [^;]*; heap limit \d+ MiB/.exec(proc.log)?.[0] ?? '?';
  const polling = memoryOf(proc.pid).rss;
  await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      startCampaign(`bench-rss-${i}-${randomUUID().slice(0, 6)}`, rssQueue),
    ),
  );
  const { peak, rss } = memoryOf(proc.pid);
  console.log(`\nThe worker process (worker/main.ts; ${settings}) with 20 campaigns open`);
  console.log(
    `  peak RSS: ${mib(peak)} MiB (when it began polling: ${mib(polling)} MiB; at the end: ${mib(rss)} MiB; target < 1024 MiB)`,
  );
  console.log(
    `  worker peak RSS with 20 campaigns open: ${mib(peak)} MiB (${peak < 2 ** 30 ? 'within' : 'over'} 1 GiB)`,
  );
});
// `--skip-year`: the dev-server figures only (the year under time skipping takes longest).
if (process.exitCode || process.argv.includes('--skip-year')) process.exit();

// ---- 3: a simulated year under time skipping ----
await runBench('bench-campaign (time skipping)', async (started) => {
  const [env, db] = await Promise.all([
    started.add('the time-skipping test server', timeSkippingEnv(), (e) => e.teardown()),
    started.add('PostgreSQL', startTestDatabase(), (d: TestDatabase) => d.close()),
  ]);
  const worker = await started.add(
    'the worker',
    runWorker(env, db.pool, bundle, {
      prefix: 'bench-year',
      maxConcurrentActivityTaskExecutions: 50,
    }),
    (w) => w.stop(),
  );
  const taskQueue = worker.taskQueue;
  const wall = performance.now();
  const now = await env.currentTimeMs();
  const tz = baseDef.campaign.timeZone;
  let monday = addCalendarDays(localDateOf(now, tz), 1);
  while (new Date(`${monday}T00:00:00Z`).getUTCDay() !== 1) monday = addCalendarDays(monday, 1);
  const begin = zonedInstant(
    +monday.slice(0, 4),
    +monday.slice(5, 7),
    +monday.slice(8, 10),
    9,
    0,
    0,
    tz,
  );
  const id = `year-${randomUUID().slice(0, 8)}`;
  const input = inputFor(baseDef, id, begin);
  const h = await env.client.workflow.start('campaignWorkflow', {
    taskQueue,
    workflowId: id,
    args: [input],
  });
  const reportingStart = input.plan.phases.reporting.start;
  await env.sleep(reportingStart + 3_600_000 - (await env.currentTimeMs()));
  const coordinator = input.plan.shared.roster.people.find((p) => p.role === 'coordinator')!.id;
  const results = input.plan.indicators.map((p, i) => ({
    code: p.code,
    score: 95 - i,
    rank: i + 1,
  }));
  const outcome = await h.executeUpdate(recordResultsUpdate, {
    args: [{ requestId: randomUUID(), actor: coordinator, results }],
  });
  // Past the end of reporting, with every clock of the campaign run out.
  await env.sleep(input.plan.phases.reporting.end + 2 * 86_400_000 - (await env.currentTimeMs()));
  const simulated = (await env.currentTimeMs()) - now;
  const ids = [
    id,
    ...input.plan.indicators.map((p) => `${id}/${p.code}`),
    ...(
      await db.pool.query<{ task_id: string }>('SELECT task_id FROM tasks WHERE campaign_id = $1', [
        id,
      ])
    ).rows.map((r) => r.task_id),
  ];
  let largest = { id: '', events: 0 };
  for (const wid of ids) {
    const n = (await env.client.workflow.getHandle(wid).fetchHistory()).events?.length ?? 0;
    if (n > largest.events) largest = { id: wid, events: n };
  }
  const dispatches = Number(
    (await db.pool.query('SELECT count(*) AS n FROM dispatches WHERE campaign_id = $1', [id]))
      .rows[0].n,
  );
  console.log(
    '\nThe realistic example over its whole year under time skipping (every department silent)',
  );
  console.log(
    `  simulated ${(simulated / 86_400_000).toFixed(0)} days in ${((performance.now() - wall) / 1000).toFixed(1)} s of wall time`,
  );
  console.log(
    `  workflows: ${ids.length} (1 campaign, ${input.plan.indicators.length} indicators, ${ids.length - 1 - input.plan.indicators.length} tasks); daily dispatches: ${dispatches}`,
  );
  console.log(`  largest history: ${largest.events} events (${largest.id}; target ≤ 2000)`);
  console.log(
    `  marked for rectification by the triggers: ${outcome.rectificationStarted.join(', ')}`,
  );
});
