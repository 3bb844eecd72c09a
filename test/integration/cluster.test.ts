// The cluster mode of the local services (`services:start --cluster --tls`): the production
// Temporal server on PostgreSQL, one process per service, the Web UI server and mTLS between
// clients and the frontend. A worker process and the CLI connect through Temporal's environment
// configuration (the temporal.toml profile the script writes), run the quick example, and the
// history service is killed and started again mid-campaign: nothing is lost. The portal
// connects through the same profile and a signed-in clerk submits a task through it. All on ports and
// a data folder of the test's own.
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnGuarded } from '../../scripts/lib/guard.ts';
import { REPO_ROOT } from '../../scripts/lib/tools.ts';
import { runCli, runNode, type CliRun } from '../helpers/cli.ts';
import { freePort } from '../helpers/postgres.ts';
import { WorkerProcess } from '../helpers/worker-process.ts';

const tsxCli = join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const services = (cmd: string, env: NodeJS.ProcessEnv, extra: string[] = []) =>
  runNode([tsxCli, join(REPO_ROOT, 'scripts', 'services.ts'), cmd, ...extra], env);

let env: NodeJS.ProcessEnv;
let clientEnv: NodeJS.ProcessEnv;
let dataDir: string;
let worker: WorkerProcess | undefined;
let portal: ChildProcess | undefined;
const id = `cluster-${Date.now()}`;

/** A base for the cluster's internal ports (membership B…B+6, gRPC B+301…B+310), all free. */
async function freePortBase(): Promise<number> {
  const { createServer } = await import('node:net');
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 11_000);
    const ports = [0, 1, 2, 6, 301, 302, 306, 310].map((d) => base + d);
    if ((await Promise.all(ports.map(free))).every(Boolean)) return base;
  }
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'campaign-cluster-'));
  chmodSync(dataDir, 0o755); // the embedded PostgreSQL runs as the postgres user under root
  const pgPort = await freePort();
  env = {
    CAMPAIGN_DATA_DIR: dataDir,
    TEMPORAL_ADDRESS: `localhost:${await freePort()}`,
    TEMPORAL_UI_PORT: String(await freePort()),
    EMBEDDED_PG_PORT: String(pgPort),
    TEMPORAL_CLUSTER_PORT_BASE: String(await freePortBase()),
    TEMPORAL_HISTORY_SHARDS: '2',
    DATABASE_URL: '',
  };
  const started = await services('start', env, ['--cluster', '--tls']);
  expect(started.code, started.stderr + started.stdout).toBe(0);
  // Clients reach the cluster only through the profile: no address of their own.
  clientEnv = {
    TEMPORAL_ADDRESS: '',
    TEMPORAL_CONFIG_FILE: join(dataDir, 'cluster', 'temporal.toml'),
    TEMPORAL_PROFILE: 'cluster',
    DATABASE_URL: `postgres://postgres:postgres@127.0.0.1:${pgPort}/campaign`,
    TEMPORAL_TASK_QUEUE: `cluster-${Date.now()}`,
    CAMPAIGN_OPERATOR: '审批局录入员',
  };
  worker = new WorkerProcess('worker', clientEnv);
  await worker.waitForLog(/polling task queue/, 180_000);
}, 600_000);

afterAll(async () => {
  portal?.kill('SIGTERM');
  await worker?.stop();
  if (env) await services('stop', env);
  rmSync(dataDir, { recursive: true, force: true });
}, 120_000);

interface Task {
  taskId: string;
  kind: string;
  unit: string;
  assignee: string;
  state: string;
}
interface Board {
  phase: string;
}
interface Status {
  service: string;
  running: boolean;
  managed: boolean;
}

async function ok<T>(...args: string[]): Promise<T> {
  const r: CliRun = await runCli([...args, '--json'], clientEnv);
  expect(r.code, `campaign ${args.join(' ')}\n${r.stderr}${r.stdout}`).toBe(0);
  return r.json<T>();
}
async function until<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean) {
  const deadline = Date.now() + 180_000;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
/** The campaign's tasks; none yet while the worker has not projected the first one. */
async function tasks(): Promise<Task[]> {
  const r: CliRun = await runCli(['tasks', id, '--state', 'all', '--json'], clientEnv);
  if (r.code === 1 && /no tasks recorded/.test(r.stderr)) return [];
  expect(r.code, `campaign tasks ${id}\n${r.stderr}${r.stdout}`).toBe(0);
  return r.json<Task[]>();
}
const statusOf = async () =>
  JSON.parse((await services('status', env, ['--json'])).stdout) as Status[];

describe('the cluster mode with mTLS', () => {
  it('runs each Temporal service in its own process, with the UI, and refuses clients without a certificate', async () => {
    const s = await statusOf();
    expect(s.map((x) => [x.service, x.running, x.managed])).toEqual([
      ['temporal-history', true, true],
      ['temporal-matching', true, true],
      ['temporal-frontend', true, true],
      ['temporal-worker', true, true],
      ['temporal-ui', true, true],
      ['postgres', true, true],
    ]);
    const plain = await Connection.connect({ address: env.TEMPORAL_ADDRESS!, connectTimeout: 3000 })
      .then(async (c) => {
        try {
          await c.workflowService.getSystemInfo({});
          return 'answered';
        } finally {
          await c.close();
        }
      })
      .catch(() => 'refused');
    expect(plain).toBe('refused');
    const toml = readFileSync(clientEnv.TEMPORAL_CONFIG_FILE!, 'utf8');
    expect(toml).toMatch(/client_cert_path/);
  });

  it('runs a campaign through the CLI and loses nothing when the history service is killed and started again', async () => {
    await ok('start', join(REPO_ROOT, 'examples', 'quick-demo.yaml'), '--id', id, '--begin', 'now', '--as', 'spj-coord'); // prettier-ignore
    // Every training task projected (ten in the quick example), so that the list is final.
    const before = await until('the training tasks', tasks, (t) => t.length >= 10);
    expect((await ok<Board>('status', id)).phase).toBe('training');

    // Kill the history service the hard way, mid-campaign.
    const historyPid = Number(
      readFileSync(join(dataDir, 'services', 'temporal-history.pid'), 'utf8'),
    );
    process.kill(historyPid, 'SIGKILL');
    await until('the history service to be down', statusOf, (s) =>
      s.some((x) => x.service === 'temporal-history' && !x.running),
    );
    const again = await services('start', env);
    expect(again.code, again.stderr + again.stdout).toBe(0);
    expect(again.stdout).toMatch(/temporal-history started/);
    expect(again.stdout).toMatch(/temporal-frontend already running/);

    // The campaign carries on: the same tasks, one submitted and approved, the phases closed.
    const after = await tasks();
    expect(after.map((t) => t.taskId).sort()).toEqual(before.map((t) => t.taskId).sort());
    const first = after[0]!;
    await ok('task', 'submit', first.taskId, '--as', first.assignee);
    await until(
      'the submission',
      tasks,
      (t) => t.find((x) => x.taskId === first.taskId)?.state !== first.state,
    );

    // The portal reaches the cluster through the same profile (mTLS): a clerk invited by the
    // bureau sets a password, signs in and submits a task of their own through the portal.
    const portalPort = await freePort();
    const base = `http://127.0.0.1:${portalPort}`;
    portal = spawnGuarded(process.execPath, [tsxCli, join(REPO_ROOT, 'portal', 'main.ts')], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...clientEnv, PORTAL_PORT: String(portalPort), PORTAL_PUBLIC_URL: base }, // prettier-ignore
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let portalOut = '';
    portal.stdout!.on('data', (d: Buffer) => (portalOut += d.toString()));
    portal.stderr!.on('data', (d: Buffer) => (portalOut += d.toString()));
    const portalExit = new Promise<number | null>((r) => portal!.once('exit', (c) => r(c)));
    const listening = await Promise.race([
      until('the portal to listen', async () => portalOut, (o) => /listening on/.test(o)).then(() => true), // prettier-ignore
      portalExit.then(() => false),
    ]);
    expect(listening, portalOut).toBe(true);
    const mine = after.find((t) => t.taskId !== first.taskId && t.state === 'open')!;
    const invited = await ok<{ invitations: { link: string }[] }>('accounts', 'invite', id, '--person', mine.assignee, '--as', 'spj-coord'); // prettier-ignore
    const link = new URL(invited.invitations[0]!.link);
    const form = await fetch(`${base}${link.pathname}`);
    const pre = form.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
    const password = 'cluster clerk password';
    const accepted = await fetch(`${base}${link.pathname}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: pre },
      body: new URLSearchParams({ _csrf: csrf, password, confirm: password }).toString(),
    });
    expect(accepted.status, await accepted.clone().text()).toBe(303);
    const signedIn = await fetch(`${base}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ personId: mine.assignee, password }),
    });
    expect(signedIn.status).toBe(200);
    const session = signedIn.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const { csrfToken } = (await signedIn.json()) as { csrfToken: string };
    const submitted = await fetch(`${base}/api/tasks/${encodeURIComponent(mine.taskId)}/submit`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: session, 'x-csrf-token': csrfToken },
      body: JSON.stringify({ note: '经门户提交' }),
    });
    expect(submitted.status, await submitted.clone().text()).toBe(200);
    await until(
      'the portal submission',
      tasks,
      (t) => t.find((x) => x.taskId === mine.taskId)?.state !== 'open',
    );

    for (const phase of ['training', 'dataEntry', 'verification', 'reporting']) {
      await until(
        `phase ${phase}`,
        () => ok<Board>('status', id),
        (b) => b.phase === phase,
      );
      await ok('phase', id, 'close', phase, '--as', 'spj-coord', '--reason', '集群测试');
    }
    const end = await until(
      'the campaign past reporting',
      () => ok<Board>('status', id),
      (b) => b.phase !== 'reporting',
    );
    expect(end.phase).not.toBe('training');
    const final = await tasks();
    for (const t of before) expect(final.map((x) => x.taskId)).toContain(t.taskId);
    expect(final.find((x) => x.taskId === first.taskId)?.state).not.toBe(first.state);
  }, 600_000);
});
