// The worker as it runs in production: `node --import tsx worker/main.ts` as real child
// processes against the dev server and a throw-away PostgreSQL, no in-process worker. Two of
// them migrate a fresh database together and share one task queue: workflow and activity tasks
// are split between them (by the identities in the histories), every row is written once and
// every notice is delivered once, by one of their outbox dispatchers. SIGTERM while a webhook
// delivery is held open by the test's HTTP server: the worker waits for the answer, records the
// delivery as sent, says it drained and exits 0 within its grace time. The other worker then
// carries on alone. Then a worker whose grace runs out with a delivery in flight exits 1 and
// leaves the delivery pending under its lease. Last, a worker killed with SIGKILL while its
// delivery is in flight leaves it leased; another worker, started after it, sends it again once
// the (short) lease has run out, with the same Idempotency-Key. (Which worker sent a request is
// read from /proc: the owner of the client socket, so this file needs Linux.)
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import protoPkg from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listMigrations } from '../../db/migrate.ts';
import { type TaskInput } from '../../domain/task.ts';
import { submitUpdate } from '../../domain/messages.ts';
import { HOUR } from '../../domain/time.ts';
import { startTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import {
  demoFixture,
  goodData,
  recordFixtureCampaign,
  taskInput,
  type Fixture,
} from '../helpers/task-fixture.ts';
import { startTaskAsChild, starterWorker } from '../helpers/start-task.ts';
import { devServerEnv, type RunningWorker } from '../helpers/temporal.ts';
import { WorkerProcess } from '../helpers/worker-process.ts';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const { TaskQueueType } = protoPkg.temporal.api.enums.v1;
/** WORKER_SHUTDOWN_GRACE of the worker processes. */
const GRACE_MS = 15_000;
/** How long the test's webhook holds the request that is in flight when SIGTERM arrives. */
const HOLD_MS = 2_500;

interface Hit {
  path: string;
  noticeId: string;
  kind: string;
  idempotencyKey: string | undefined;
  arrivedAt: number;
  answeredAt?: number;
  /** The pid of the worker process that sent the request. */
  sender: number | undefined;
}

/** A webhook receiver that records each request and the worker that sent it. */
class Webhook {
  readonly hits: Hit[] = [];
  /** Requests to this path for notices of this kind are answered only after `ms`. */
  hold: { path: string; kind: string; ms: number } | undefined;
  pids: number[] = [];
  private server: Server | undefined;
  port = 0;

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      // Who is on the other end, looked up while the connection is certainly open.
      const sender = socketOwner(req.socket.remotePort!, this.port, this.pids);
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          noticeId: string;
          kind: string;
        };
        const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
        const hit: Hit = {
          path,
          noticeId: body.noticeId,
          kind: body.kind,
          idempotencyKey: req.headers['idempotency-key'] as string | undefined,
          arrivedAt: Date.now(),
          sender,
        };
        this.hits.push(hit);
        res.on('finish', () => (hit.answeredAt = Date.now()));
        const answer = () => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"ok":true}');
        };
        const hold = this.hold;
        if (hold?.path === path && hold.kind === body.kind) setTimeout(answer, hold.ms);
        else answer();
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * Which of `pids` owns the client end of the TCP connection from `clientPort` to our
 * `serverPort` on 127.0.0.1 (Linux: the socket's inode in /proc/net/tcp, then the process
 * whose file descriptors include it).
 */
function socketOwner(clientPort: number, serverPort: number, pids: number[]): number | undefined {
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');
  let inode: string | undefined;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[1]?.endsWith(`:${hex(clientPort)}`) && f[2]?.endsWith(`:${hex(serverPort)}`)) {
        inode = f[9];
      }
    }
  }
  if (!inode || inode === '0') return undefined;
  const link = `socket:[${inode}]`;
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === link) return pid;
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(
  what: string,
  read: () => Promise<T> | T,
  done: (v: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}: ${JSON.stringify(v)}`);
    await sleep(100);
  }
}

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let fx: Fixture;
const webhook = new Webhook();
const taskQueue = `shutdown-${randomUUID()}`;
let workers: WorkerProcess[] = [];
/** The worker stopped by SIGTERM, and the one that carries on. */
let stopped: WorkerProcess;
let survivor: WorkerProcess;
let slowTask: TaskInput;
let workerEnv: NodeJS.ProcessEnv;
let starter: RunningWorker;

beforeAll(async () => {
  // A fresh database: the two workers apply the migrations themselves, at the same time.
  [env, db, fx] = await Promise.all([
    devServerEnv(),
    startTestDatabase({ migrate: false }),
    demoFixture(),
    webhook.start(),
  ]);
  workerEnv = {
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: taskQueue,
    DATABASE_URL: db.url,
    WORKER_SHUTDOWN_GRACE: `${GRACE_MS / 1000}s`,
    LOG_LEVEL: 'WARN',
    // The test's webhook listens on 127.0.0.1 over http: the development setting allows it.
    NOTIFY_ALLOW_LOOPBACK_HTTP: 'true',
  };
  workers = [new WorkerProcess('worker A', workerEnv), new WorkerProcess('worker B', workerEnv)];
  webhook.pids = workers.map((w) => w.pid);
  await Promise.all(workers.map((w) => w.waitForLog(/polling task queue/)));
  // The workers have migrated the database by now: the tasks' campaign can be recorded.
  await recordFixtureCampaign(db.pool, fx);
  starter = await starterWorker(env, db.pool);
  // Both poll for workflow and activity tasks before any work is handed out.
  for (const taskQueueType of [
    TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
  ]) {
    await until(
      `both workers polling (type ${taskQueueType})`,
      async () =>
        (
          await env.client.workflowService.describeTaskQueue({
            namespace: 'default',
            taskQueue: { name: taskQueue, kind: 1 },
            taskQueueType,
          })
        ).pollers?.map((p) => p.identity) ?? [],
      (ids) => workers.every((w) => ids.includes(w.identity)),
    );
  }
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop(GRACE_MS + 5_000)));
  await starter?.stop();
  await webhook.close();
  await env?.teardown();
  await db?.close();
});

const q = async <T>(sql: string, ...params: unknown[]) =>
  (await db.pool.query(sql, params)).rows as T[];

function newTask(path: string): TaskInput {
  return taskInput(fx, Date.now() + 2 * HOUR, {
    review: false,
    channels: [{ type: 'webhook', id: 'hook', url: webhook.url(path) }],
  });
}

/** A task started as production starts one: by a workflow of its campaign. */
function startTask(input: TaskInput) {
  return startTaskAsChild(env.client, input, { taskQueue, starterQueue: starter.taskQueue });
}

/** A task started and handed in (no review: done on submission), and a system check. */
async function runWork(n: number, label: string): Promise<{ tasks: string[]; checks: string[] }> {
  const tasks = Array.from({ length: n }, () => newTask('/hook'));
  const checks = Array.from({ length: n }, (_, i) => `check-${label}-${i}-${randomUUID()}`);
  await Promise.all([
    ...tasks.map(async (input) => {
      const h = await startTask(input);
      await h.executeUpdate(submitUpdate, {
        args: [{ requestId: randomUUID(), actor: input.assignee, data: goodData }],
      });
      await h.result();
    }),
    ...checks.map(async (checkId) => {
      const h = await env.client.workflow.start('systemCheckWorkflow', {
        taskQueue,
        workflowId: checkId,
        args: [{ checkId, sleepMs: 100, requestedAt: Date.now() }],
      });
      await h.result();
    }),
  ]);
  return { tasks: tasks.map((t) => t.taskId), checks };
}

/** The identities that started or completed a workflow or activity task in these histories. */
async function identities(workflowIds: string[]): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  for (const id of workflowIds) {
    const history = await env.client.workflow.getHandle(id).fetchHistory();
    for (const e of history.events ?? []) {
      const identity =
        e.workflowTaskStartedEventAttributes?.identity ??
        e.workflowTaskCompletedEventAttributes?.identity ??
        e.activityTaskStartedEventAttributes?.identity;
      if (identity) seen.set(identity, (seen.get(identity) ?? 0) + 1);
    }
  }
  return seen;
}

/** Every task done once with its events, every check recorded once, every notice sent once. */
async function expectProjectedOnce(tasks: string[], checks: string[]): Promise<void> {
  const rows = await q<{ task_id: string; state: string }>(
    'SELECT task_id, state FROM tasks WHERE task_id = ANY($1) ORDER BY task_id',
    tasks,
  );
  expect(rows).toEqual([...tasks].sort().map((task_id) => ({ task_id, state: 'done' })));
  const events = await q<{ task_id: string; types: string[]; seqs: number[] }>(
    `SELECT task_id, array_agg(type ORDER BY type) AS types, array_agg(seq ORDER BY seq) AS seqs
       FROM task_events WHERE task_id = ANY($1) GROUP BY task_id`,
    tasks,
  );
  expect(events).toHaveLength(tasks.length);
  // (Submitted right after the start, the update may be handled before 'created' is recorded;
  // the order of events is not what this file is about.)
  for (const e of events) {
    expect(e.types).toEqual(['created', 'done', 'submitted']);
    expect(e.seqs).toEqual([1, 2, 3]);
  }
  const recorded = await q<{ check_id: string }>(
    'SELECT check_id FROM system_checks WHERE check_id = ANY($1)',
    checks,
  );
  expect(recorded.map((r) => r.check_id).sort()).toEqual([...checks].sort());

  const notices = await q<{ notice_id: string }>(
    'SELECT notice_id FROM notices WHERE task_id = ANY($1)',
    tasks,
  );
  expect(notices.length).toBeGreaterThanOrEqual(tasks.length); // at least 'created' for each
  const ids = notices.map((n) => n.notice_id);
  const deliveries = await until(
    'every delivery sent',
    () =>
      q<{ notice_id: string; status: string; attempts: number }>(
        `SELECT notice_id, status, attempts FROM notice_deliveries WHERE notice_id = ANY($1)`,
        ids,
      ),
    (d) => d.length === ids.length && d.every((r) => r.status === 'sent'),
  );
  expect(deliveries.every((d) => d.attempts === 1)).toBe(true);
  for (const id of ids) expect(webhook.hits.filter((h) => h.noticeId === id)).toHaveLength(1);
}

describe('worker processes', () => {
  it('run side by side on one task queue: both do some of the work, each piece is done once', async () => {
    // Exactly one of them applied the migrations; each is recorded once.
    const applied = workers.filter((w) => /applied migrations/.test(w.log));
    expect(applied.map((w) => w.name)).toHaveLength(1);
    const versions = await q<{ version: number }>(
      'SELECT version FROM schema_migrations ORDER BY version',
    );
    expect(versions.map((v) => v.version)).toEqual(listMigrations().map((m) => m.version));

    const tasks: string[] = [];
    const checks: string[] = [];
    let seen = new Map<string, number>();
    // Rounds of work until both have had some: with both polling, the first round does it.
    for (let round = 0; round < 4; round++) {
      const done = await runWork(8, `r${round}`);
      tasks.push(...done.tasks);
      checks.push(...done.checks);
      seen = await identities([...tasks, ...checks]);
      if (workers.every((w) => seen.has(w.identity))) break;
    }
    console.log(
      `side by side: ${tasks.length} tasks and ${checks.length} checks; history events by worker:`,
      Object.fromEntries(workers.map((w) => [w.name, seen.get(w.identity) ?? 0])),
    );
    expect([...seen.keys()].sort()).toEqual(workers.map((w) => w.identity).sort());
    await expectProjectedOnce(tasks, checks);
    // Every delivery was sent by one of the two dispatchers.
    const senders = new Map<string, number>();
    for (const h of webhook.hits) {
      const name = workers.find((w) => w.pid === h.sender)?.name ?? 'unknown';
      senders.set(name, (senders.get(name) ?? 0) + 1);
    }
    console.log('side by side: webhook deliveries by worker:', Object.fromEntries(senders));
    expect(senders.has('unknown')).toBe(false);
  });

  it('on SIGTERM finish the webhook delivery in flight, record it and exit 0 within the grace time', async () => {
    webhook.hold = { path: '/slow', kind: 'created', ms: HOLD_MS };
    slowTask = newTask('/slow');
    await startTask(slowTask);
    const noticeId = `${slowTask.taskId}#1`;
    const hit = await until(
      'the held webhook request',
      () => webhook.hits.find((h) => h.noticeId === noticeId),
      (h) => h !== undefined,
    );
    const sender = workers.find((w) => w.pid === hit!.sender);
    expect(sender, 'the worker that sent the held request').toBeDefined();
    stopped = sender!;
    survivor = workers.find((w) => w !== stopped)!;

    // Still in flight: the webhook has not answered, the row is pending and locked.
    await sleep(300);
    expect(hit!.answeredAt).toBeUndefined();
    expect(await q('SELECT status FROM notice_deliveries WHERE notice_id = $1', noticeId)).toEqual([
      { status: 'pending' },
    ]);
    const termAt = Date.now();
    process.kill(stopped.pid, 'SIGTERM');
    const exit = await Promise.race([stopped.exited, sleep(GRACE_MS + 5_000).then(() => null)]);
    expect(exit, `${stopped.name} did not exit:\n${stopped.log}`).not.toBeNull();
    console.log(
      `SIGTERM: request held ${hit!.answeredAt! - hit!.arrivedAt} ms, SIGTERM ${termAt - hit!.arrivedAt} ms after it arrived; answered ${hit!.answeredAt! - termAt} ms after SIGTERM; exit ${exit!.at - termAt} ms after SIGTERM`,
    );
    expect(exit, stopped.log).toMatchObject({ code: 0, signal: null });
    expect(hit!.answeredAt).toBeGreaterThan(termAt);
    expect(exit!.at).toBeGreaterThanOrEqual(hit!.answeredAt!);
    expect(exit!.at - termAt).toBeLessThan(GRACE_MS);
    expect(stopped.log).toMatch(/worker: SIGTERM received, shutting down/);
    expect(stopped.log).toMatch(/outbox: waiting for the delivery batch in flight/);
    expect(stopped.log).toMatch(/worker: drained: no activity or notice delivery in flight/);
    expect(stopped.log).toMatch(/worker: stopped\s*$/);

    const [row] = await q<{ status: string; attempts: number; sent_at: Date; last_error: null }>(
      'SELECT status, attempts, sent_at, last_error FROM notice_deliveries WHERE notice_id = $1',
      noticeId,
    );
    expect(row).toMatchObject({ status: 'sent', attempts: 1, last_error: null });
    expect(row!.sent_at.getTime()).toBeGreaterThanOrEqual(hit!.arrivedAt - 1000);
    expect(webhook.hits.filter((h) => h.noticeId === noticeId)).toHaveLength(1);
  });

  it('carry on with the one left: new work and the stopped worker’s task complete on it', async () => {
    expect(survivor.exit).toBeUndefined();
    const hitsBefore = webhook.hits.length;
    const done = await runWork(4, 'after');
    // The task whose notice was in flight, last handled by the stopped worker, is handed in.
    const h = env.client.workflow.getHandle(slowTask.taskId);
    const handedIn = Date.now();
    await h.executeUpdate(submitUpdate, {
      args: [{ requestId: randomUUID(), actor: slowTask.assignee, data: goodData }],
    });
    await h.result();
    console.log(
      `after SIGTERM: the stopped worker's task completed in ${Date.now() - handedIn} ms`,
    );

    const seen = await identities([...done.tasks, ...done.checks]);
    expect([...seen.keys()]).toEqual([survivor.identity]);
    await expectProjectedOnce([...done.tasks, slowTask.taskId], done.checks);
    const later = webhook.hits.slice(hitsBefore);
    expect(later.length).toBeGreaterThan(0);
    expect(later.every((x) => x.sender === survivor.pid)).toBe(true);
    expect(survivor.exit).toBeUndefined();
  });

  it('give up on a delivery still in flight when the grace runs out: exit 1, the delivery left pending', async () => {
    // The last of the first two stops too, idle this time.
    const termAt = Date.now();
    process.kill(survivor.pid, 'SIGTERM');
    const idle = await survivor.exited;
    console.log(`idle worker: exit ${idle.at - termAt} ms after SIGTERM`);
    expect(idle, survivor.log).toMatchObject({ code: 0, signal: null });
    expect(survivor.log).toMatch(/worker: drained/);

    // Alone on the queue, with a grace of one second and a webhook that answers after four
    // (the channel's own timeout is five).
    const hasty = new WorkerProcess('worker C', { ...workerEnv, WORKER_SHUTDOWN_GRACE: '1s' });
    workers.push(hasty);
    webhook.pids = [hasty.pid];
    await hasty.waitForLog(/polling task queue/);
    webhook.hold = { path: '/stuck', kind: 'created', ms: 4_000 };
    const input = newTask('/stuck');
    await startTask(input);
    const noticeId = `${input.taskId}#1`;
    const hit = await until(
      'the held webhook request',
      () => webhook.hits.find((h) => h.noticeId === noticeId),
      (h) => h !== undefined,
    );
    expect(hit!.sender).toBe(hasty.pid);

    const sentAt = Date.now();
    process.kill(hasty.pid, 'SIGTERM');
    const exit = await Promise.race([hasty.exited, sleep(10_000).then(() => null)]);
    expect(exit, `${hasty.name} did not exit:\n${hasty.log}`).not.toBeNull();
    console.log(`grace 1s ran out: exit ${exit!.at - sentAt} ms after SIGTERM, request unanswered`);
    expect(exit, hasty.log).toMatchObject({ code: 1, signal: null });
    expect(exit!.at - sentAt).toBeGreaterThanOrEqual(1_000);
    expect(exit!.at - sentAt).toBeLessThan(3_500);
    expect(hit!.answeredAt).toBeUndefined();
    expect(hasty.log).toMatch(
      /worker: notice deliveries still in flight after 1s; left leased, for another worker once the lease \(2m\) has run out; stopped/,
    );
    // No transaction was open across the call: the delivery is pending, unattempted, not
    // locked, and claimed by the worker that exited until its lease runs out.
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      const rows = await client.query(
        `SELECT status, attempts, claimed_by, lease_until > now() AS leased
           FROM notice_deliveries WHERE notice_id = $1 FOR UPDATE NOWAIT`,
        [noticeId],
      );
      expect(rows.rows).toEqual([
        { status: 'pending', attempts: 0, claimed_by: hasty.identity, leased: true },
      ]);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
    expect(hit!.idempotencyKey).toBe(`${noticeId}@hook`);
  });

  it('killed with SIGKILL while sending, leave the delivery leased; a new worker sends it after the lease, with the same idempotency key', async () => {
    const leased = { ...workerEnv, OUTBOX_LEASE: '3s' };
    const doomed = new WorkerProcess('worker D', leased);
    workers.push(doomed);
    webhook.pids = [doomed.pid];
    await doomed.waitForLog(/polling task queue/);
    webhook.hold = { path: '/killed', kind: 'created', ms: 60_000 };
    const input = newTask('/killed');
    await startTask(input);
    const noticeId = `${input.taskId}#1`;
    const first = await until(
      'the held webhook request',
      () => webhook.hits.find((h) => h.noticeId === noticeId),
      (h) => h !== undefined,
    );
    expect(first!.sender).toBe(doomed.pid);
    process.kill(-doomed.pid, 'SIGKILL');
    const exit = await doomed.exited;
    expect(exit.signal).toBe('SIGKILL');
    const [left] = await q<{ status: string; attempts: number; claimed_by: string }>(
      'SELECT status, attempts, claimed_by FROM notice_deliveries WHERE notice_id = $1',
      noticeId,
    );
    expect(left).toEqual({ status: 'pending', attempts: 0, claimed_by: doomed.identity });

    webhook.hold = undefined;
    const heir = new WorkerProcess('worker E', leased);
    workers.push(heir);
    webhook.pids = [heir.pid];
    await heir.waitForLog(/polling task queue/);
    const row = await until(
      'the delivery sent by the new worker',
      () =>
        q<{ status: string; attempts: number; claimed_by: string | null }>(
          'SELECT status, attempts, claimed_by FROM notice_deliveries WHERE notice_id = $1',
          noticeId,
        ),
      (r) => r[0]?.status === 'sent',
    );
    expect(row).toEqual([{ status: 'sent', attempts: 1, claimed_by: null }]);
    const hits = webhook.hits.filter((h) => h.noticeId === noticeId);
    expect(hits).toHaveLength(2);
    expect(hits[1]!.sender).toBe(heir.pid);
    expect(hits[1]!.idempotencyKey).toBe(hits[0]!.idempotencyKey);
    expect(new Set(hits.map((h) => h.idempotencyKey)).size).toBe(1);
    await heir.stop();
  });
});
