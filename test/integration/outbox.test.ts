import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  channelFor,
  type ChannelOptions,
  type Lookup,
  type NetworkPolicy,
} from '../../activities/notify/channels.ts';
import type { ChannelConfig } from '../../domain/definition.ts';
import { backoffMs, OutboxDispatcher } from '../../worker/outbox.ts';
import { startTestDatabase, type TestDatabase } from '../helpers/postgres.ts';

interface Received {
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

type Mode = 'ok' | 'http500' | 'errcode' | 'hang' | 'redirect';

/** A robot/webhook server on 127.0.0.1 that records what it receives and fails on demand. */
class FakeRobots {
  readonly received: Received[] = [];
  readonly modes = new Map<string, Mode>();
  delayMs = 0;
  private server: Server | undefined;
  private port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const mode = this.modes.get(url.pathname) ?? 'ok';
        if (mode === 'hang') return; // never answers; the client's timeout must fire
        this.received.push({
          path: url.pathname,
          query: url.searchParams,
          headers: req.headers,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
        });
        const answer = () => {
          if (mode === 'redirect') {
            res.writeHead(302, { location: `http://127.0.0.1:${this.port}/elsewhere?key=secret` });
            res.end('moved');
          } else if (mode === 'http500') {
            res.writeHead(500, { 'content-type': 'text/plain' });
            res.end('upstream exploded');
          } else if (mode === 'errcode') {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ errcode: 310000, errmsg: 'keyword not in content' }));
          } else {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ errcode: 0, errmsg: 'ok' }));
          }
        };
        if (this.delayMs > 0) setTimeout(answer, this.delayMs);
        else answer();
      });
    });
    const server = this.server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  on(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  reset(): void {
    this.received.length = 0;
    this.modes.clear();
    this.delayMs = 0;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

let db: TestDatabase;
const robots = new FakeRobots();

beforeAll(async () => {
  db = await startTestDatabase();
  // The campaign the notices' tasks belong to (migration 064's keys), its row only.
  await db.pool.query(
    `INSERT INTO campaigns (campaign_id, name, county, year, time_zone, definition, calendar, workflow_id)
     VALUES ('yx-2026', '营商环境考核', '样例县', 2026, 'Asia/Shanghai', '{}', '{}', 'yx-2026')`,
  );
  await robots.start();
});
afterAll(async () => {
  await robots.close();
  await db?.close();
});
beforeEach(async () => {
  robots.reset();
  await db.pool.query('DELETE FROM notices');
});

const silent = () => {};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The receivers here listen on 127.0.0.1 over http: allowed by the development setting. */
const DEV: NetworkPolicy = { allowLoopbackHttp: true };
const dev =
  (opts: ChannelOptions = {}) =>
  (c: ChannelConfig) =>
    channelFor(c, { network: DEV, ...opts });

async function insertNotice(
  noticeId: string,
  channels: Record<string, ChannelConfig>,
  text: { title?: string; body?: string; recipients?: string[] } = {},
): Promise<void> {
  // The notice's task, recorded first (migration 064: a notice belongs to a recorded task).
  await db.pool.query(
    `INSERT INTO tasks (task_id, workflow_id, campaign_id, kind, title, unit_id, assignee, review,
       state, due_at, warning_ms, time_zone, created_at, last_seq)
     VALUES ($1, $1, 'yx-2026', 'measure', $1, 'scjgj', 'zhang-san', false, 'open', now(), 0,
       'Asia/Shanghai', now(), 1)
     ON CONFLICT (task_id) DO NOTHING`,
    [`task-${noticeId}`],
  );
  await db.pool.query(
    `INSERT INTO notices (notice_id, campaign_id, task_id, event_seq, kind, recipients, title, body)
     VALUES ($1, 'yx-2026', $2, 1, 'escalated', $3, $4, $5)`,
    [
      noticeId,
      `task-${noticeId}`,
      text.recipients ?? ['zhang-san', 'li-si'],
      text.title ?? `【逾期督办】${noticeId}`,
      text.body ?? `事项：${noticeId}\n截止：2026-10-08 18:00`,
    ],
  );
  for (const [channelId, config] of Object.entries(channels)) {
    await db.pool.query(
      'INSERT INTO notice_deliveries (notice_id, channel_id, channel) VALUES ($1, $2, $3)',
      [noticeId, channelId, JSON.stringify(config)],
    );
  }
}

interface DeliveryRow {
  status: string;
  attempts: number;
  last_error: string | null;
  sent_at: Date | null;
  due_in_ms: number;
}

async function delivery(noticeId: string, channelId: string): Promise<DeliveryRow> {
  const r = await db.pool.query<DeliveryRow>(
    `SELECT status, attempts, last_error, sent_at,
            (extract(epoch FROM next_attempt_at - now()) * 1000)::float8 AS due_in_ms
       FROM notice_deliveries WHERE notice_id = $1 AND channel_id = $2`,
    [noticeId, channelId],
  );
  return r.rows[0]!;
}

async function makeDue(): Promise<void> {
  await db.pool.query(
    "UPDATE notice_deliveries SET next_attempt_at = now() - interval '1 second' WHERE status = 'pending'",
  );
}

describe('the outbox dispatcher', () => {
  it('delivers each of webhook, WeCom and DingTalk its own message format exactly once and marks the deliveries sent', async () => {
    const now = 1_760_000_000_000;
    const secret = 'SEC0123456789abcdef';
    await insertNotice(
      'n-formats',
      {
        hook: { type: 'webhook', url: robots.url('/hook'), headers: { 'x-token': 't0ken' } },
        wecom: { type: 'wecom', url: robots.url('/wecom?key=abc') },
        ding: { type: 'dingtalk', url: robots.url('/ding?access_token=xyz'), secret },
      },
      {
        title: '【逾期督办】营业执照办理时限',
        body: '事项：营业执照办理时限\n承办：市场监管局 / 张三',
      },
    );
    const dispatcher = new OutboxDispatcher({
      pool: db.pool,
      channelFor: dev({ now: () => now }),
      log: silent,
    });

    expect(await dispatcher.runOnce()).toEqual({ sent: 3, failed: 0, retried: 0 });

    const [hook] = robots.on('/hook');
    expect(robots.on('/hook')).toHaveLength(1);
    expect(hook!.headers['content-type']).toBe('application/json');
    expect(hook!.headers['x-token']).toBe('t0ken');
    expect(hook!.body).toEqual({
      noticeId: 'n-formats',
      campaignId: 'yx-2026',
      taskId: 'task-n-formats',
      kind: 'escalated',
      recipients: ['zhang-san', 'li-si'],
      title: '【逾期督办】营业执照办理时限',
      body: '事项：营业执照办理时限\n承办：市场监管局 / 张三',
    });

    const [wecom] = robots.on('/wecom');
    expect(robots.on('/wecom')).toHaveLength(1);
    expect(wecom!.query.get('key')).toBe('abc');
    expect(wecom!.body).toEqual({
      msgtype: 'markdown',
      markdown: {
        content:
          '### 【逾期督办】营业执照办理时限\n> 事项：营业执照办理时限\n> 承办：市场监管局 / 张三',
      },
    });

    const [ding] = robots.on('/ding');
    expect(robots.on('/ding')).toHaveLength(1);
    expect(ding!.body).toEqual({
      msgtype: 'markdown',
      markdown: {
        title: '【逾期督办】营业执照办理时限',
        text: '### 【逾期督办】营业执照办理时限\n\n事项：营业执照办理时限\n\n承办：市场监管局 / 张三',
      },
    });
    expect(ding!.query.get('access_token')).toBe('xyz');
    expect(ding!.query.get('timestamp')).toBe(String(now));
    const expectedSign = createHmac('sha256', secret).update(`${now}\n${secret}`).digest('base64');
    expect(ding!.query.get('sign')).toBe(expectedSign);

    for (const id of ['hook', 'wecom', 'ding']) {
      const row = await delivery('n-formats', id);
      expect(row).toMatchObject({ status: 'sent', attempts: 1, last_error: null });
      expect(row.sent_at).toBeInstanceOf(Date);
    }
    expect(await dispatcher.runOnce()).toEqual({ sent: 0, failed: 0, retried: 0 });
    expect(robots.received).toHaveLength(3);
  });

  it('sends with the secrets channels name by secretRef, which the worker resolves and the database never holds', async () => {
    const now = 1_760_000_000_000;
    const secrets: Record<string, string> = {
      HOOK_AUTH: 'Bearer h00k',
      WECOM_KEY: 'wk-123',
      DING_TOKEN: 'dt-456',
      DING_SIGN: 'SECsign789',
    };
    await insertNotice('n-refs', {
      hook: { type: 'webhook', url: robots.url('/hook'), secretRef: 'HOOK_AUTH' },
      wecom: { type: 'wecom', url: robots.url('/wecom'), secretRef: 'WECOM_KEY' },
      ding: {
        type: 'dingtalk',
        url: robots.url('/ding'),
        secretRef: 'DING_TOKEN',
        signingSecretRef: 'DING_SIGN',
      },
      missing: { type: 'wecom', url: robots.url('/wecom'), secretRef: 'NOT_SET' },
    });
    const dispatcher = new OutboxDispatcher({
      pool: db.pool,
      channelFor: dev({ now: () => now, secrets: (n) => secrets[n] }),
      log: silent,
    });
    expect(await dispatcher.runOnce()).toEqual({ sent: 3, failed: 0, retried: 1 });
    expect(robots.on('/hook')[0]!.headers.authorization).toBe('Bearer h00k');
    expect(robots.on('/wecom')[0]!.query.get('key')).toBe('wk-123');
    const ding = robots.on('/ding')[0]!;
    expect(ding.query.get('access_token')).toBe('dt-456');
    const sign = createHmac('sha256', 'SECsign789').update(`${now}\nSECsign789`).digest('base64');
    expect(ding.query.get('sign')).toBe(sign);
    expect((await delivery('n-refs', 'missing')).last_error).toMatch(
      /secret NOT_SET is not configured: set CAMPAIGN_SECRET_NOT_SET/,
    );
    const stored = await db.pool.query<{ t: string }>(
      "SELECT string_agg(channel::text || coalesce(last_error, ''), ' ') AS t FROM notice_deliveries WHERE notice_id = 'n-refs'",
    );
    expect(stored.rows[0]!.t).not.toMatch(/h00k|wk-123|dt-456|SECsign789/);
  });

  it('retries a channel that is down with backoff and records its failure', async () => {
    await insertNotice('n-down', { hook: { type: 'webhook', url: robots.url('/hook') } });
    const lines: string[] = [];
    const dispatcher = new OutboxDispatcher({
      pool: db.pool,
      channelFor: dev(),
      baseBackoffMs: 60_000,
      log: (l) => lines.push(l),
    });
    robots.modes.set('/hook', 'http500');

    expect(await dispatcher.runOnce()).toEqual({ sent: 0, failed: 0, retried: 1 });
    const failed = await delivery('n-down', 'hook');
    expect(failed.status).toBe('pending');
    expect(failed.attempts).toBe(1);
    // The status line only: the answer's body is not kept.
    expect(failed.last_error).toMatch(/HTTP 500 Internal Server Error$/);
    expect(failed.last_error).not.toMatch(/upstream exploded/);
    expect(failed.due_in_ms).toBeGreaterThan(50_000);
    expect(failed.due_in_ms).toBeLessThanOrEqual(60_000);
    expect(lines.join('\n')).toMatch(/n-down.*500/);

    // Not due yet: nothing is sent, even though the server is healthy again.
    robots.modes.delete('/hook');
    expect(await dispatcher.runOnce()).toEqual({ sent: 0, failed: 0, retried: 0 });
    expect(robots.on('/hook')).toHaveLength(1);

    await makeDue();
    expect(await dispatcher.runOnce()).toEqual({ sent: 1, failed: 0, retried: 0 });
    expect(robots.on('/hook')).toHaveLength(2);
    expect(await delivery('n-down', 'hook')).toMatchObject({
      status: 'sent',
      attempts: 2,
      last_error: null,
    });
    expect(await dispatcher.runOnce()).toEqual({ sent: 0, failed: 0, retried: 0 });
    expect(robots.on('/hook')).toHaveLength(2);
  });

  it('marks a delivery that keeps failing as failed after maxAttempts while the notice’s other channels are delivered', async () => {
    await insertNotice('n-keeps-failing', {
      wecom: { type: 'wecom', url: robots.url('/wecom?key=k') },
      ding: { type: 'dingtalk', url: robots.url('/ding') },
      hook: { type: 'webhook', url: robots.url('/hook') },
    });
    robots.modes.set('/wecom', 'errcode');
    robots.modes.set('/ding', 'errcode');
    const dispatcher = new OutboxDispatcher({
      pool: db.pool,
      channelFor: dev(),
      maxAttempts: 2,
      log: silent,
    });

    expect(await dispatcher.runOnce()).toEqual({ sent: 1, failed: 0, retried: 2 });
    expect(await delivery('n-keeps-failing', 'hook')).toMatchObject({ status: 'sent' });
    for (const id of ['wecom', 'ding']) {
      const row = await delivery('n-keeps-failing', id);
      expect(row).toMatchObject({ status: 'pending', attempts: 1 });
      expect(row.last_error).toMatch(/310000/);
      expect(row.last_error).toMatch(/keyword not in content/);
    }

    await makeDue();
    expect(await dispatcher.runOnce()).toEqual({ sent: 0, failed: 2, retried: 0 });
    for (const id of ['wecom', 'ding']) {
      const row = await delivery('n-keeps-failing', id);
      expect(row).toMatchObject({ status: 'failed', attempts: 2 });
      expect(row.last_error).toMatch(/errcode 310000: keyword not in content/);
    }

    // Failed for good: not tried again even when due.
    await db.pool.query("UPDATE notice_deliveries SET next_attempt_at = now() - interval '1 s'");
    expect(await dispatcher.runOnce()).toEqual({ sent: 0, failed: 0, retried: 0 });
    expect(robots.on('/wecom')).toHaveLength(2);
    expect(robots.on('/ding')).toHaveLength(2);
    expect(robots.on('/hook')).toHaveLength(1);
  });

  it('does not hold up other channels behind a dead one', async () => {
    // Ten notices for a dead robot queued first, then two for a healthy webhook.
    for (let i = 0; i < 10; i++) {
      await insertNotice(`n-dead-${i}`, {
        wecom: { type: 'wecom', url: robots.url('/wecom?key=k') },
      });
    }
    await insertNotice('n-live-1', { hook: { type: 'webhook', url: robots.url('/hook') } });
    await insertNotice('n-live-2', { hook: { type: 'webhook', url: robots.url('/hook') } });
    robots.modes.set('/wecom', 'http500');
    const dispatcher = new OutboxDispatcher({
      pool: db.pool,
      channelFor: dev(),
      batchSize: 4,
      log: silent,
    });
    // Batch 1: the dead robot is tried once; its other three claimed rows move back.
    expect(await dispatcher.runOnce()).toEqual({ sent: 0, failed: 0, retried: 1 });
    // Batch 2 reaches further into the queue; within three batches the webhook's are out.
    await dispatcher.runOnce();
    await dispatcher.runOnce();
    expect(robots.on('/hook')).toHaveLength(2);
    expect(robots.on('/wecom').length).toBeLessThanOrEqual(3);
    const skipped = await delivery('n-dead-1', 'wecom');
    expect(skipped).toMatchObject({ status: 'pending', attempts: 0 });
    expect(skipped.due_in_ms).toBeGreaterThan(0);
  });

  it('sends each notice once in total when two dispatchers run at the same time', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `n-race-${i}`);
    for (const id of ids) {
      await insertNotice(id, { hook: { type: 'webhook', url: robots.url('/hook') } });
    }
    robots.delayMs = 30; // keep the first batch's rows locked while the other dispatcher claims
    const a = new OutboxDispatcher({ pool: db.pool, channelFor: dev(), log: silent });
    const b = new OutboxDispatcher({ pool: db.pool, channelFor: dev(), log: silent });

    const [ra, rb] = await Promise.all([a.runOnce(), b.runOnce()]);
    expect(ra.sent + rb.sent).toBe(12);
    const nothing = { sent: 0, failed: 0, retried: 0 };
    expect(await Promise.all([a.runOnce(), b.runOnce()])).toEqual([nothing, nothing]);

    const received = robots.on('/hook').map((r) => r.body.noticeId as string);
    expect(received.toSorted()).toEqual(ids.toSorted());
    const sent = await db.pool.query(
      "SELECT count(*)::int AS n FROM notice_deliveries WHERE status = 'sent' AND attempts = 1",
    );
    expect(sent.rows[0].n).toBe(12);
  });

  it('holds no row lock while sending: a claim is a lease, and after it runs out another dispatcher sends the delivery with the same Idempotency-Key', async () => {
    await insertNotice('n-lease', { hook: { type: 'webhook', url: robots.url('/hook') } });
    // The first dispatcher's send never ends by itself, as if its process had frozen.
    let release!: () => void;
    const frozen = new Promise<void>((r) => (release = r));
    const keys: (string | undefined)[] = [];
    const stuck = new OutboxDispatcher({
      pool: db.pool,
      id: 'dispatcher-a',
      leaseMs: 600_000,
      log: silent,
      channelFor: () => ({
        async send(n) {
          keys.push(n.idempotencyKey);
          await frozen;
        },
      }),
    });
    const aRun = stuck.runOnce();
    const claimed = async () =>
      (
        await db.pool.query(
          `SELECT claimed_by, lease_until > clock_timestamp() AS leased
             FROM notice_deliveries WHERE notice_id = 'n-lease'`,
        )
      ).rows[0] as { claimed_by: string | null; leased: boolean } | undefined;
    while ((await claimed())?.claimed_by !== 'dispatcher-a') await sleep(10);
    // Claimed and being sent, yet not locked: FOR UPDATE NOWAIT gets the row at once.
    const locker = await db.pool.connect();
    try {
      await locker.query('BEGIN');
      const r = await locker.query(
        `SELECT 1 FROM notice_deliveries WHERE notice_id = 'n-lease' FOR UPDATE NOWAIT`,
      );
      expect(r.rowCount).toBe(1);
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
    }
    const heir = new OutboxDispatcher({
      pool: db.pool,
      id: 'dispatcher-b',
      channelFor: dev(),
      log: silent,
    });
    // While the lease lasts, the delivery is not the other's to send.
    expect(await claimed()).toEqual({ claimed_by: 'dispatcher-a', leased: true });
    expect(await heir.runOnce()).toEqual({ sent: 0, failed: 0, retried: 0 });
    // The lease runs out (moved into the past rather than waited for).
    await db.pool.query(
      `UPDATE notice_deliveries SET lease_until = clock_timestamp() - interval '1 second'
        WHERE notice_id = 'n-lease'`,
    );
    expect(await heir.runOnce()).toEqual({ sent: 1, failed: 0, retried: 0 });
    // The frozen one wakes up: its claim is gone, so it records nothing.
    release();
    expect(await aRun).toEqual({ sent: 0, failed: 0, retried: 0 });
    const [row] = (
      await db.pool.query(
        `SELECT status, attempts, claimed_by, lease_until FROM notice_deliveries WHERE notice_id = 'n-lease'`,
      )
    ).rows;
    expect(row).toEqual({ status: 'sent', attempts: 1, claimed_by: null, lease_until: null });
    const hits = robots.on('/hook');
    expect(hits).toHaveLength(1);
    expect(hits[0]!.headers['idempotency-key']).toBe('n-lease@hook');
    expect(keys).toEqual(['n-lease@hook']);
  });

  it('sends a notice through the console channel as a line with its title and recipients', async () => {
    await insertNotice(
      'n-console',
      { console: { type: 'console' } },
      { title: '【催办提醒】政务服务满意度', body: '事项：政务服务满意度\n截止：2026-10-08 18:00' },
    );
    const lines: string[] = [];
    const dispatcher = new OutboxDispatcher({
      pool: db.pool,
      channelFor: dev({ log: (l) => lines.push(l) }),
      log: silent,
    });

    expect(await dispatcher.runOnce()).toEqual({ sent: 1, failed: 0, retried: 0 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('【催办提醒】政务服务满意度');
    expect(lines[0]).toContain('zhang-san,li-si');
    expect(lines[0]).toMatch(/\n\s+事项：政务服务满意度\n\s+截止：2026-10-08 18:00$/);
    expect(await delivery('n-console', 'console')).toMatchObject({ status: 'sent' });
  });

  it('records a channel that does not answer in time as a timeout', async () => {
    await insertNotice('n-slow', { hook: { type: 'webhook', url: robots.url('/slow') } });
    robots.modes.set('/slow', 'hang');
    const dispatcher = new OutboxDispatcher({
      pool: db.pool,
      channelFor: dev({ timeoutMs: 200 }),
      log: silent,
    });

    expect(await dispatcher.runOnce()).toEqual({ sent: 0, failed: 0, retried: 1 });
    expect((await delivery('n-slow', 'hook')).last_error).toMatch(/timeout after 200 ms/);
  });

  it('keeps polling on its own once started, and stops cleanly', async () => {
    const dispatcher = new OutboxDispatcher({
      pool: db.pool,
      channelFor: dev(),
      pollMs: 20,
      log: silent,
    });
    dispatcher.start();
    await insertNotice('n-polled', { hook: { type: 'webhook', url: robots.url('/hook') } });
    await expect.poll(() => robots.on('/hook').length, { timeout: 5000 }).toBe(1);
    await dispatcher.stop();
    await insertNotice('n-after-stop', { hook: { type: 'webhook', url: robots.url('/hook') } });
    await new Promise((r) => setTimeout(r, 100));
    expect(robots.on('/hook')).toHaveLength(1);
    expect(await delivery('n-after-stop', 'hook')).toMatchObject({ status: 'pending' });
  });
});

describe('the outbox backoff', () => {
  it('doubles with every failed attempt and stops at the cap', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, 2000, 10_000))).toEqual([
      2000, 4000, 8000, 10_000, 10_000,
    ]);
    expect(backoffMs(200, 2000, 600_000)).toBe(600_000);
  });
});

describe('outbound calls', () => {
  /** Sends one notice through `config` and returns the recorded delivery. */
  async function sendVia(
    id: string,
    config: ChannelConfig,
    opts: ChannelOptions = {},
  ): Promise<DeliveryRow> {
    await insertNotice(id, { out: config });
    const dispatcher = new OutboxDispatcher({
      pool: db.pool,
      channelFor: (c) => channelFor(c, opts),
      log: silent,
    });
    await dispatcher.runOnce();
    return delivery(id, 'out');
  }

  /** A resolver that answers every name with these addresses, and records what it was asked. */
  const resolvesTo =
    (asked: string[], ...addresses: string[]): Lookup =>
    (hostname, _o, cb) => {
      asked.push(hostname);
      cb(
        null,
        addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
      );
    };

  it('refuses http, even to this machine, unless the development setting allows it', async () => {
    const row = await sendVia('n-http', { type: 'webhook', url: robots.url('/hook') });
    expect(row.status).toBe('pending');
    expect(row.last_error).toMatch(/refused: http is refused: channels use https/);
    expect(robots.received).toHaveLength(0);
    const plain = await sendVia(
      'n-http-remote',
      { type: 'webhook', url: 'http://robot.example.com/hook' },
      { network: DEV },
    );
    expect(plain.last_error).toMatch(/http is allowed only to this machine; use https/);
    const ftp = await sendVia('n-ftp', { type: 'webhook', url: 'ftp://robot.example.com/x' });
    expect(ftp.last_error).toMatch(/ftp: is not https/);
  });

  it('refuses loopback, private and link-local addresses, named or resolved by DNS', async () => {
    for (const [i, host] of [
      '127.0.0.1',
      '10.1.2.3',
      '[::1]',
      '[fd00::1]',
      '169.254.169.254',
    ].entries()) {
      const row = await sendVia(`n-literal-${i}`, { type: 'webhook', url: `https://${host}/hook` });
      expect(row.last_error, host).toMatch(/refused: .*(loopback|private, link-local)/);
    }
    const asked: string[] = [];
    for (const [i, address] of [
      '169.254.169.254',
      '192.168.1.10',
      '::ffff:10.0.0.1',
      '::ffff:7f00:1',
      '127.0.0.1',
    ].entries()) {
      const row = await sendVia(
        `n-dns-${i}`,
        { type: 'wecom', url: 'https://robot.example.com/cgi-bin/webhook/send?key=secret' },
        { lookup: resolvesTo(asked, '203.0.113.7', address), timeoutMs: 2000 },
      );
      expect(row.last_error, address).toMatch(
        new RegExp(`robot\\.example\\.com resolves to ${address.replace(/[.:]/g, '\\$&')} is`),
      );
      expect(row.last_error).not.toMatch(/secret/);
    }
    expect(asked.length).toBeGreaterThanOrEqual(5);
  });

  it('lets a private network through only when NOTIFY_ALLOWED_NETWORKS names it', async () => {
    const asked: string[] = [];
    const row = await sendVia(
      'n-intranet',
      { type: 'webhook', url: 'https://robot.intranet.example/hook' },
      {
        lookup: resolvesTo(asked, '127.0.0.1'),
        network: { allowLoopbackHttp: true, allowedNetworks: ['10.0.0.0/8'] },
        timeoutMs: 2000,
      },
    );
    // Past the address check: the connection itself fails (nothing speaks TLS there).
    expect(row.last_error).toMatch(/request failed/);
    expect(row.last_error).not.toMatch(/resolves to/);
  });

  it('keeps to the allow-list of hosts when one is set', async () => {
    const row = await sendVia(
      'n-allow',
      { type: 'dingtalk', url: 'https://evil.example/robot/send?access_token=t' },
      { network: { allowedHosts: ['oapi.dingtalk.com', '*.weixin.qq.com'] } },
    );
    expect(row.last_error).toMatch(
      /evil\.example is not in NOTIFY_ALLOWED_HOSTS \(oapi\.dingtalk\.com, \*\.weixin\.qq\.com\)/,
    );
  });

  it('does not follow a redirect, and records where it pointed without its query', async () => {
    robots.modes.set('/moved', 'redirect');
    const row = await sendVia(
      'n-redirect',
      { type: 'webhook', url: robots.url('/moved') },
      { network: DEV },
    );
    expect(row.last_error).toMatch(
      /HTTP 302 Found: a redirect to http:\/\/127\.0\.0\.1:\d+\/elsewhere, not followed/,
    );
    expect(row.last_error).not.toMatch(/secret|moved$/);
    expect(robots.on('/elsewhere')).toHaveLength(0);
  });

  it('refuses a URL with a user name and password in it', async () => {
    const row = await sendVia('n-userinfo', {
      type: 'webhook',
      url: 'https://user:pass@robot.example.com/hook',
    });
    expect(row.last_error).toMatch(/carries a user name or password/);
    expect(row.last_error).not.toMatch(/pass@/);
  });
});
