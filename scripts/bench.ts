// `npm run bench`: performance figures measured in one run on a dev server with PostgreSQL.
// 1. The round trip of a department action (update accepted, task state changed, projected to
//    PostgreSQL and read back) at p50 and p99, for 1 and for 20 concurrent actors, beside a
//    no-op update on a no-op workflow, and their ratio (target: p99 ratio ≤ 2).
// 2. The same action through the portal (HTTP, signed-in sessions of the clerk and the
//    coordinator, CSRF token, the portal's own checks) against the same action through the
//    client, p50/p99, for 1 and 20 concurrent actors.
// 3. The history events of one task's full life: two reminders, one escalation, one return.
// Figures are printed; nothing here is a pass/fail test.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import { loadDefinitionFile } from '../client/definition-file.ts';
import { campaignActivities } from '../activities/campaign.ts';
import { acceptInvitation } from '../portal/auth.ts';
import { buildPortal } from '../portal/app.ts';
import { readPortalConfig } from '../portal/config.ts';
import { createInvitations } from '../portal/invitations.ts';
import { readConfig } from '../worker/config.ts';
import { startTask } from './bench/start-task.ts';
import { BusinessCalendar } from '../domain/calendar.ts';
import { planCampaign } from '../domain/campaign.ts';
import { rosterOf, taskPolicyOf } from '../domain/campaign-parts.ts';
import { ALL_SEARCH_ATTRIBUTES } from '../domain/search-attributes.ts';
import { taskIdOf, type TaskInput } from '../domain/task.ts';
import { approveUpdate, returnUpdate, submitUpdate } from '../domain/messages.ts';
import { startTestDatabase } from '../test/helpers/postgres.ts';
import { runWorker } from '../test/helpers/temporal.ts';
import { noopUpdate, stopUpdate } from './bench/workflows.ts';
import { runBench } from './lib/bench-run.ts';
import { ensureTemporalCli } from './lib/tools.ts';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const ACTIONS_PER_ACTOR = Number(process.env.BENCH_ACTIONS ?? 40);
const CONCURRENCY = [1, 20];

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}
const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

await runBench('bench', async (started) => {
  const cli = await ensureTemporalCli();
  const [env, db, bundle, loaded] = await Promise.all([
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
    bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('./bench/workflows.ts', import.meta.url)),
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} },
    }),
    loadDefinitionFile('examples/quick-demo.yaml'),
  ]);
  const def = loaded.definition!;
  const worker = await started.add(
    'the worker',
    runWorker(env, db.pool, bundle, { prefix: 'bench', maxConcurrentActivityTaskExecutions: 50 }),
    (w) => w.stop(),
  );
  const taskQueue = worker.taskQueue;
  const client: Client = env.client;
  const fields = def.indicators.find((i) => i.code === 'kbqy')!.fields;
  const data = { procedures: 3, days: 1.5, onlineRate: 98 };

  function input(key: string, due: number, over: Partial<TaskInput> = {}): TaskInput {
    return {
      taskId: taskIdOf({
        campaignId: 'bench',
        indicator: 'kbqy',
        kind: 'questionnaire',
        unitId: 'scjgj',
        key,
      }),
      campaignId: 'bench',
      indicator: 'kbqy',
      kind: 'questionnaire',
      title: '基准测试 问卷填报',
      unitId: 'scjgj',
      assignee: 'scjgj-staff1',
      review: true,
      due,
      policy: {
        ...taskPolicyOf(def),
        reminders: [],
        escalation: [{ after: { duration: 'P30D' }, notify: ['deputy'] }],
      },
      calendar: loaded.calendar!,
      roster: rosterOf(def),
      completion: { note: false, evidence: false, fields },
      channels: [],
      ...over,
    };
  }

  async function taskActor(key: string): Promise<number[]> {
    const i = input(key, Date.now() + 86_400_000);
    const h = await startTask(client, i, taskQueue);
    const samples: number[] = [];
    for (let n = 0; n < ACTIONS_PER_ACTOR; n++) {
      const started = performance.now();
      const r =
        n % 2 === 0
          ? await h.executeUpdate(submitUpdate, {
              args: [{ requestId: randomUUID(), actor: 'scjgj-staff1', data }],
            })
          : await h.executeUpdate(returnUpdate, {
              args: [{ requestId: randomUUID(), actor: 'spj-coord', reason: '再核对' }],
            });
      const row = await db.pool.query<{ state: string }>(
        'SELECT state FROM tasks WHERE task_id = $1',
        [i.taskId],
      );
      if (row.rows[0]?.state !== r.state)
        throw new Error(`projection lags: ${row.rows[0]?.state} vs ${r.state}`);
      samples.push(performance.now() - started);
    }
    await h.terminate('bench done');
    return samples;
  }

  async function noopActor(key: string): Promise<number[]> {
    const h = await client.workflow.start('benchNoopWorkflow', {
      taskQueue,
      workflowId: `bench-noop-${key}`,
    });
    const samples: number[] = [];
    for (let n = 0; n < ACTIONS_PER_ACTOR; n++) {
      const started = performance.now();
      await h.executeUpdate(noopUpdate, { args: [n] });
      samples.push(performance.now() - started);
    }
    await h.executeUpdate(stopUpdate);
    return samples;
  }

  async function measure(
    actor: (k: string) => Promise<number[]>,
    concurrency: number,
  ): Promise<number[]> {
    await actor(`warm-${randomUUID()}`); // warm-up, discarded
    const all = await Promise.all(Array.from({ length: concurrency }, () => actor(randomUUID())));
    return all.flat();
  }

  console.log(
    `Task action round trip (${ACTIONS_PER_ACTOR} actions per actor; dev server + PostgreSQL on this machine)`,
  );
  console.log('actors | task p50 | task p99 | no-op p50 | no-op p99 | p50 ratio | p99 ratio');
  for (const c of CONCURRENCY) {
    const noop = await measure(noopActor, c);
    const task = await measure(taskActor, c);
    const [tp50, tp99, np50, np99] = [
      percentile(task, 50),
      percentile(task, 99),
      percentile(noop, 50),
      percentile(noop, 99),
    ];
    console.log(
      `${String(c).padStart(6)} | ${fmt(tp50).padStart(8)} | ${fmt(tp99).padStart(8)} | ${fmt(np50).padStart(9)} | ${fmt(np99).padStart(9)} | ${(tp50 / np50).toFixed(2).padStart(9)} | ${(tp99 / np99).toFixed(2).padStart(9)}`,
    );
  }

  // The portal: the campaign registered as the worker would, two people with accounts.
  const benchDef = { ...def, campaign: { ...def.campaign, id: 'bench' } };
  await campaignActivities({ pool: db.pool }).recordCampaign({
    definition: benchDef,
    calendar: loaded.calendar!,
    plan: planCampaign(benchDef, loaded.calendar!, new BusinessCalendar(loaded.calendar!)),
    workflowId: 'bench',
    startedBy: null,
  });
  const portalCfg = readPortalConfig(
    { PORTAL_PORT: '1' },
    readConfig({
      TEMPORAL_ADDRESS: env.address,
      DATABASE_URL: db.url,
      TEMPORAL_TASK_QUEUE: taskQueue,
    }),
  );
  const portal = await started.add(
    'the portal',
    (async () => {
      const app = await buildPortal({ pool: db.pool, temporal: client, cfg: portalCfg });
      await app.listen({ port: 0, host: '127.0.0.1' });
      return app;
    })(),
    (a) => a.close(),
  );
  const portalUrl = `http://127.0.0.1:${(portal.server.address() as { port: number }).port}`;
  const PASSWORD = 'bench password 2026';
  const sessions = new Map<string, { cookie: string; csrf: string }>();
  for (const person of ['scjgj-staff1', 'spj-coord']) {
    const [inv] = await createInvitations(db.pool, {
      campaignId: 'bench',
      by: 'spj-coord',
      person,
      ttlMs: 3_600_000,
      publicUrl: portalUrl,
    });
    await acceptInvitation(db.pool, inv!.link.split('/invite/')[1]!, PASSWORD);
    const r = await fetch(`${portalUrl}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ personId: person, password: PASSWORD }),
    });
    if (r.status !== 200)
      throw new Error(`portal sign-in of ${person}: ${r.status} ${await r.text()}`);
    const cookie = r.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    sessions.set(person, { cookie, csrf: ((await r.json()) as { csrfToken: string }).csrfToken });
  }
  const post = async (person: string, path: string, body: unknown) => {
    const s = sessions.get(person)!;
    const r = await fetch(`${portalUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: s.cookie, 'x-csrf-token': s.csrf },
      body: JSON.stringify(body),
    });
    const text = await r.text();
    if (r.status !== 200) throw new Error(`portal ${path}: ${r.status} ${text}`);
    return JSON.parse(text) as { state: string };
  };

  async function portalActor(key: string): Promise<number[]> {
    const i = input(key, Date.now() + 86_400_000);
    const h = await startTask(client, i, taskQueue);
    const path = `/api/tasks/${encodeURIComponent(i.taskId)}`;
    // The portal acts on what is projected: wait for the task's row.
    while (!(await db.pool.query('SELECT 1 FROM tasks WHERE task_id = $1', [i.taskId])).rowCount)
      await new Promise((r) => setTimeout(r, 20));
    const samples: number[] = [];
    for (let n = 0; n < ACTIONS_PER_ACTOR; n++) {
      const started = performance.now();
      const r =
        n % 2 === 0
          ? await post('scjgj-staff1', `${path}/submit`, { requestId: randomUUID(), data })
          : await post('spj-coord', `${path}/return`, {
              requestId: randomUUID(),
              reason: '再核对',
            });
      const row = await db.pool.query<{ state: string }>(
        'SELECT state FROM tasks WHERE task_id = $1',
        [i.taskId],
      );
      if (row.rows[0]?.state !== r.state)
        throw new Error(`projection lags: ${row.rows[0]?.state} vs ${r.state}`);
      samples.push(performance.now() - started);
    }
    await h.terminate('bench done');
    return samples;
  }

  console.log(
    `\nThe same action through the portal (HTTP, signed-in sessions) and through the client (${ACTIONS_PER_ACTOR} per actor)`,
  );
  console.log('actors | portal p50 | portal p99 | client p50 | client p99 | p50 ratio | p99 ratio');
  for (const c of CONCURRENCY) {
    const viaClient = await measure(taskActor, c);
    const viaPortal = await measure(portalActor, c);
    const [pp50, pp99, cp50, cp99] = [
      percentile(viaPortal, 50),
      percentile(viaPortal, 99),
      percentile(viaClient, 50),
      percentile(viaClient, 99),
    ];
    console.log(
      `${String(c).padStart(6)} | ${fmt(pp50).padStart(10)} | ${fmt(pp99).padStart(10)} | ${fmt(cp50).padStart(10)} | ${fmt(cp99).padStart(10)} | ${(pp50 / cp50).toFixed(2).padStart(9)} | ${(pp99 / cp99).toFixed(2).padStart(9)}`,
    );
  }

  // One task's full life on the dev server, with second-scale timers.
  const now = Date.now();
  const life = input(`life-${randomUUID()}`, now + 8_000, {
    policy: {
      ...taskPolicyOf(def),
      reminders: ['PT6S', 'PT3S'],
      escalation: [
        { after: { duration: 'PT1S' }, notify: ['deputy'] },
        { after: { duration: 'P1D' }, notify: ['head'] },
      ],
    },
  });
  const h = await startTask(client, life, taskQueue);
  await new Promise((r) => setTimeout(r, 10_500));
  await h.executeUpdate(submitUpdate, {
    args: [{ requestId: randomUUID(), actor: 'scjgj-staff1', data }],
  });
  await h.executeUpdate(returnUpdate, {
    args: [{ requestId: randomUUID(), actor: 'spj-coord', reason: '补充材料' }],
  });
  await h.executeUpdate(submitUpdate, {
    args: [{ requestId: randomUUID(), actor: 'scjgj-staff1', data }],
  });
  await h.executeUpdate(approveUpdate, { args: [{ requestId: randomUUID(), actor: 'spj-coord' }] });
  await h.result();
  const events = await db.pool.query<{ type: string }>(
    'SELECT type FROM task_events WHERE task_id = $1 ORDER BY seq',
    [life.taskId],
  );
  const history = (await h.fetchHistory()).events?.length ?? 0;
  console.log(
    `\nOne task's full life (${events.rows.map((e) => e.type).join(' → ')}): ${history} history events (target < 100)`,
  );
});
