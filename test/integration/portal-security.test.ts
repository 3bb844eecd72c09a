// The portal's security, each check able to fail: the route table's API routes answer 401
// without a session, posts without their CSRF token are refused, a forged actor in a body is
// ignored, an invitation works once, expired sessions are refused, repeated failed sign-ins lock
// the account (recorded), passwords are stored as argon2id, and uploads over the limit or of a
// forbidden type are refused with nothing stored. Real servers: the dev server, PostgreSQL, the
// portal on a port of its own.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verify } from '@node-rs/argon2';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatIsoOffset } from '../../domain/time.ts';
import { REPO_ROOT } from '../../scripts/lib/tools.ts';
import { runCli } from '../helpers/cli.ts';
import { startPortal, withCampaignId, type TestPortal } from '../helpers/portal.ts';
import { startHarness, type Harness } from '../helpers/temporal.ts';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const id = `sec-${Date.now().toString(36)}`;
const dir = mkdtempSync(join(tmpdir(), 'portal-sec-'));
const evidenceDir = join(dir, 'evidence');
let harness: Harness;
let portal: TestPortal;
let cliEnv: NodeJS.ProcessEnv;
let taskId: string;
const PASSWORD = 'correct horse battery';

const cli = (...args: string[]) => runCli(args, cliEnv);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A small HTTP client with a cookie jar, as a browser or a program would be. */
class Agent {
  cookies = new Map<string, string>();
  csrf = '';
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size)
      headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const r = await fetch(`${portal.url}${path}`, { ...init, headers, redirect: 'manual' });
    for (const c of r.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const [k, ...v] = pair!.split('=');
      const value = v.join('=');
      if (/Expires=Thu, 01 Jan 1970/i.test(c) || value === '') this.cookies.delete(k!.trim());
      else this.cookies.set(k!.trim(), value);
    }
    return r;
  }
  json(path: string, body: unknown, csrf = this.csrf): Promise<Response> {
    return this.fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(csrf ? { 'x-csrf-token': csrf } : {}) },
      body: JSON.stringify(body),
    });
  }
  async signIn(personId: string, password = PASSWORD): Promise<Response> {
    const r = await this.json('/api/session', { personId, password }, '');
    if (r.status === 200) this.csrf = ((await r.clone().json()) as { csrfToken: string }).csrfToken;
    return r;
  }
}

/** An invitation link for a person, issued by the bureau through the CLI. */
async function invite(person: string): Promise<string> {
  const r = await cli('accounts', 'invite', id, '--person', person, '--as', 'spj-coord', '--json');
  expect(r.code, r.stderr).toBe(0);
  return r.json<{ invitations: { link: string }[] }>().invitations[0]!.link;
}

/** Accepts an invitation as a browser would: GET (anonymous CSRF cookie), then POST the form. */
async function accept(link: string, password = PASSWORD): Promise<Response> {
  const a = new Agent();
  const path = new URL(link).pathname;
  const form = await a.fetch(path);
  const token = (text: string) => /name="_csrf" value="([^"]+)"/.exec(text)?.[1];
  // A used link shows no form: take a valid anonymous token from the sign-in page, so that it
  // is the invitation itself that is refused, not the form.
  const csrf = token(await form.text()) ?? token(await (await a.fetch('/sign-in')).text()) ?? '';
  return a.fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, password, confirm: password }).toString(),
  });
}

async function account(person: string): Promise<Agent> {
  expect((await accept(await invite(person))).status).toBe(303);
  const a = new Agent();
  expect((await a.signIn(person)).status).toBe(200);
  return a;
}

beforeAll(async () => {
  harness = await startHarness('dev');
  portal = await startPortal(harness, {
    PORTAL_LOCKOUT_AFTER: '3',
    PORTAL_SIGNIN_DELAY: '1ms',
    PORTAL_UPLOAD_LIMIT: '64KB',
    PORTAL_EVIDENCE_STORE: 'dir',
    PORTAL_EVIDENCE_DIR: evidenceDir,
  });
  cliEnv = {
    TEMPORAL_ADDRESS: harness.env.address,
    DATABASE_URL: harness.db.url,
    TEMPORAL_TASK_QUEUE: harness.taskQueue,
    PORTAL_PUBLIC_URL: portal.url,
  };
  const file = join(dir, 'campaign.yaml');
  writeFileSync(
    file,
    withCampaignId(readFileSync(join(REPO_ROOT, 'examples', 'quick-demo.yaml'), 'utf8'), id),
  );
  const started = await cli('start', file, '--begin', 'now', '--as', 'spj-coord', '--json');
  expect(started.code, started.stderr).toBe(0);
  // The roster reaches PostgreSQL when the campaign workflow has recorded it.
  for (let i = 0; i < 240; i++) {
    const r = await harness.db.pool.query('SELECT 1 FROM people WHERE campaign_id = $1', [id]);
    if (r.rowCount) break;
    await sleep(250);
  }
  const created = await cli(
    'task',
    'create',
    '--file',
    file,
    '--unit',
    'scjgj',
    '--assignee',
    'scjgj-staff1',
    '--title',
    '开办企业 数据填报（安全测试）',
    '--kind',
    'questionnaire',
    '--indicator',
    'kbqy',
    '--key',
    'security',
    '--as',
    'spj-coord',
    '--json',
    '--due',
    formatIsoOffset(Date.now() + 3 * 86_400_000, 'Asia/Shanghai').slice(0, 19),
  );
  expect(created.code, created.stderr).toBe(0);
  taskId = created.json<{ taskId: string }>().taskId;
  for (let i = 0; i < 240; i++) {
    const r = await harness.db.pool.query('SELECT 1 FROM tasks WHERE task_id = $1', [taskId]);
    if (r.rowCount) break;
    await sleep(250);
  }
});

afterAll(async () => {
  await portal?.close();
  await harness?.env.client.workflow
    .getHandle(id)
    .terminate('test done')
    .catch(() => {});
  await harness?.close();
});

const events = async () =>
  (
    await harness.db.pool.query<{ type: string; actor: string | null }>(
      'SELECT type, actor FROM task_events WHERE task_id = $1 ORDER BY seq',
      [taskId],
    )
  ).rows;

describe('the portal refuses what it must', () => {
  it('answers 401 on every API route of the route table without a session', async () => {
    const api = portal.app.routeTable.filter((r) => r.url.startsWith('/api/'));
    expect(api.length).toBeGreaterThan(10);
    // Only sign-in and the API document are public, and that is the whole list.
    expect(
      api
        .filter((r) => r.access === 'public')
        .map((r) => `${r.method} ${r.url}`)
        .sort(),
    ).toEqual(['GET /api/openapi.json', 'POST /api/session']);
    const a = new Agent();
    for (const r of api.filter((x) => x.access !== 'public')) {
      const url = r.url
        .replace(':taskId', encodeURIComponent(taskId))
        .replace(':campaignId', id)
        .replace(':personId', 'scjgj-staff1')
        .replace(':fileId', '00000000-0000-0000-0000-000000000000');
      const res = await a.fetch(url, {
        method: r.method,
        ...(r.method === 'POST'
          ? { headers: { 'content-type': 'application/json' }, body: '{}' }
          : {}),
      });
      expect(`${r.method} ${r.url} → ${res.status}`).toBe(`${r.method} ${r.url} → 401`);
      expect(((await res.json()) as { error: string }).error).toBe('unauthorized');
    }
  });

  it('answers a NUL character in a request with 400, never a server error', async () => {
    const anon = new Agent();
    const signIn = await anon.signIn('scjgj-\u0000staff1', 'any password at all');
    expect(signIn.status).toBe(400);
    expect(((await signIn.json()) as { error: string }).error).toBe('refused');
    const page = await anon.fetch('/sign-in?next=%00');
    expect(page.status).toBe(400);
  });

  it('refuses a form post without its CSRF token, and an API post without the header', async () => {
    const clerk = await account('scjgj-staff2');
    const before = await events();
    const form = await clerk.fetch(`/tasks/${encodeURIComponent(taskId)}/submit`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        'f.procedures': '4',
        'f.days': '2',
        'f.onlineRate': '90',
      }).toString(),
    });
    expect(form.status).toBe(403);
    expect(await form.text()).toContain('校验码');
    const wrong = await clerk.fetch(`/tasks/${encodeURIComponent(taskId)}/submit`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        _csrf: 'forged-token-forged-token-forged-token-1234',
        'f.procedures': '4',
      }).toString(),
    });
    expect(wrong.status).toBe(403);
    const api = await clerk.json(
      `/api/tasks/${encodeURIComponent(taskId)}/submit`,
      { data: { procedures: 4 } },
      '',
    );
    expect(api.status).toBe(403);
    // The sign-in form, too, needs the token of its own page.
    const anon = new Agent();
    const signIn = await anon.fetch('/sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ personId: 'scjgj-staff2', password: PASSWORD }).toString(),
    });
    expect(signIn.status).toBe(403);
    expect(await events()).toEqual(before);
  });

  it('takes the actor from the session and ignores one named in the body', async () => {
    const clerk = await account('scjgj-staff1');
    // The indicator lists its evidence (政策文件、办件记录): one file first.
    const files = new FormData();
    files.append(
      'files',
      new Blob([new Uint8Array(Buffer.from('%PDF-1.4\n%%EOF\n'))]),
      '办件记录.pdf',
    );
    const up = await clerk.fetch(`/api/tasks/${encodeURIComponent(taskId)}/evidence`, {
      method: 'POST',
      headers: { 'x-csrf-token': clerk.csrf },
      body: files,
    });
    expect(up.status, await up.clone().text()).toBe(200);
    const r = await clerk.json(`/api/tasks/${encodeURIComponent(taskId)}/submit`, {
      actor: 'spj-coord',
      as: 'scjgj-head',
      by: 'swj-staff1',
      data: { procedures: 4, days: 2.5, onlineRate: 90 },
      note: '按统一口径填报',
    });
    expect(r.status, await r.clone().text()).toBe(200);
    expect(((await r.json()) as { state: string }).state).toBe('submitted');
    let submitted: { type: string; actor: string | null } | undefined;
    for (let i = 0; i < 120 && !submitted; i++) {
      submitted = (await events()).find((e) => e.type === 'submitted');
      if (!submitted) await sleep(250);
    }
    expect(submitted?.actor).toBe('scjgj-staff1');
    // And the history says so: the update's argument names the session's person.
    const history = await harness.env.client.workflow.getHandle(taskId).fetchHistory();
    const accepted = history.events!.filter(
      (e) => e.workflowExecutionUpdateAcceptedEventAttributes,
    );
    const arg = JSON.parse(
      Buffer.from(
        accepted[0]!.workflowExecutionUpdateAcceptedEventAttributes!.acceptedRequest!.input!.args!
          .payloads![0]!.data!,
      ).toString(),
    ) as { actor: string };
    expect(arg.actor).toBe('scjgj-staff1');
  });

  it('lets an invitation set a password once only', async () => {
    const link = await invite('swj-staff1');
    expect((await accept(link, 'first password here')).status).toBe(303);
    const again = await accept(link, 'second password here');
    expect(again.status).toBe(410);
    expect(await again.text()).toContain('已使用');
    expect((await new Agent().signIn('swj-staff1', 'second password here')).status).toBe(401);
    expect((await new Agent().signIn('swj-staff1', 'first password here')).status).toBe(200);
  });

  it('refuses a session past its idle time or its absolute end', async () => {
    const a = await account('swj-deputy');
    expect((await a.fetch('/api/me')).status).toBe(200);
    await harness.db.pool.query(
      `UPDATE portal_sessions SET last_seen_at = now() - ($2 || ' milliseconds')::interval - interval '1 second'
        WHERE person_id = $1`,
      ['swj-deputy', String(portal.cfg.sessionIdleMs)],
    );
    expect((await a.fetch('/api/me')).status).toBe(401);
    const b = new Agent();
    expect((await b.signIn('swj-deputy')).status).toBe(200);
    expect((await b.fetch('/api/me')).status).toBe(200);
    await harness.db.pool.query(
      `UPDATE portal_sessions SET expires_at = now() - interval '1 second' WHERE person_id = $1 AND ended_at IS NULL`,
      ['swj-deputy'],
    );
    const page = await b.fetch('/tasks');
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toMatch(/^\/sign-in/);
  });

  it('locks an account after repeated failed sign-ins, even to the right password, and records it', async () => {
    await account('zjj-staff1');
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await new Agent().signIn('zjj-staff1', `wrong ${i} password`)).status);
    expect(statuses).toEqual([401, 401, 429]);
    expect((await new Agent().signIn('zjj-staff1')).status).toBe(429);
    const recorded = await harness.db.pool.query<{ outcome: string }>(
      'SELECT outcome FROM portal_sign_ins WHERE person_id = $1 ORDER BY id',
      ['zjj-staff1'],
    );
    expect(recorded.rows.map((r) => r.outcome)).toEqual([
      'ok',
      'bad-password',
      'bad-password',
      'bad-password',
      'locked',
    ]);
    const form = await new Agent().fetch('/sign-in');
    expect(form.status).toBe(200);
  });

  it('stores passwords as argon2id hashes only', async () => {
    const r = await harness.db.pool.query<{ person_id: string; password_hash: string }>(
      'SELECT person_id, password_hash FROM portal_accounts WHERE password_hash IS NOT NULL',
    );
    expect(r.rows.length).toBeGreaterThanOrEqual(3);
    for (const row of r.rows) {
      expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$/);
      expect(row.password_hash).not.toContain(PASSWORD);
    }
    const clerk = r.rows.find((x) => x.person_id === 'scjgj-staff1')!;
    await expect(verify(clerk.password_hash, PASSWORD)).resolves.toBe(true);
    await expect(verify(clerk.password_hash, 'not the password')).resolves.toBe(false);
  });

  it('refuses an upload over the limit or of a forbidden type, and stores nothing', async () => {
    // What earlier tests stored (a submission's evidence): this test counts from there.
    const stored0 = await storedEvidence();
    const dir0 = readdirSafe(evidenceDir).length;
    // A task still open for its unit.
    const created = await cli(
      'task',
      'create',
      '--file',
      join(dir, 'campaign.yaml'),
      '--unit',
      'swj',
      '--assignee',
      'swj-staff1',
      '--title',
      '上传测试',
      '--key',
      'upload',
      '--as',
      'spj-coord',
      '--json',
      '--due',
      formatIsoOffset(Date.now() + 3 * 86_400_000, 'Asia/Shanghai').slice(0, 19),
    );
    expect(created.code, created.stderr).toBe(0);
    const upload = created.json<{ taskId: string }>().taskId;
    for (let i = 0; i < 240; i++) {
      if (
        (await harness.db.pool.query('SELECT 1 FROM tasks WHERE task_id = $1', [upload])).rowCount
      )
        break;
      await sleep(250);
    }
    const clerk = new Agent();
    expect((await clerk.signIn('swj-staff1', 'first password here')).status).toBe(200);
    const send = (name: string, content: Buffer) => {
      const form = new FormData();
      form.append('files', new Blob([new Uint8Array(content)]), name);
      return clerk.fetch(`/api/tasks/${encodeURIComponent(upload)}/evidence`, {
        method: 'POST',
        headers: { 'x-csrf-token': clerk.csrf },
        body: form,
      });
    };
    const big = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(100 * 1024, 0x20)]);
    const tooBig = await send('大文件.pdf', big);
    expect(tooBig.status).toBe(413);
    expect(((await tooBig.json()) as { message: string }).message).toContain('上限 64 KB');
    const exe = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(512, 1)]);
    const disguised = await send('说明.pdf', exe);
    expect(disguised.status).toBe(415);
    expect(((await disguised.json()) as { message: string }).message).toContain('说明.pdf');
    const html = await send('页面.docx', Buffer.from('<html><script>alert(1)</script></html>'));
    expect(html.status).toBe(415);
    expect(await storedEvidence()).toEqual(stored0);
    expect(readdirSafe(evidenceDir)).toHaveLength(dir0);
    // A good one goes through, and is stored once under the data folder by its hash.
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
    const ok = await send('政策文件.pdf', pdf);
    expect(ok.status, await ok.clone().text()).toBe(200);
    const again = await send('政策文件-副本.pdf', pdf);
    expect(again.status).toBe(200);
    expect(await storedEvidence()).toEqual({
      files: stored0.files + 2,
      blobs: stored0.blobs + 1,
    });
    expect(readdirSafe(evidenceDir)).toHaveLength(dir0 + 1);
  });

  it("lets the unit's deputy hand a task over, by the workflow's rules, and not a clerk", async () => {
    const upload = `${id}/_/adhoc/swj/upload`;
    const clerk = new Agent();
    expect((await clerk.signIn('swj-staff1', 'first password here')).status).toBe(200);
    const refused = await clerk.json(`/api/tasks/${encodeURIComponent(upload)}/reassign`, {
      to: 'swj-head',
    });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { message: string }).message).toContain(
      '不能转派：由县税务局的分管或主要负责人，或审批局转派',
    );
    const deputy = new Agent();
    expect((await deputy.signIn('swj-deputy')).status).toBe(200);
    const done = await deputy.json(`/api/tasks/${encodeURIComponent(upload)}/reassign`, {
      to: 'swj-head',
      actor: 'spj-head',
    });
    expect(done.status, await done.clone().text()).toBe(200);
    expect(((await done.json()) as { assignee: string }).assignee).toBe('swj-head');
    const event = await until(async () => {
      const r = await harness.db.pool.query<{ actor: string }>(
        `SELECT actor FROM task_events WHERE task_id = $1 AND type = 'reassigned'`,
        [upload],
      );
      return r.rows[0];
    });
    expect(event.actor).toBe('swj-deputy');
  });
});

describe("a unit's API token", () => {
  it('reports completion for its unit as the person who answers for it, and nothing more', async () => {
    const created = await cli(
      'task',
      'create',
      '--file',
      join(dir, 'campaign.yaml'),
      '--unit',
      'scjgj',
      '--assignee',
      'scjgj-staff1',
      '--title',
      '办件系统对接',
      '--key',
      'system',
      '--no-review',
      '--as',
      'spj-coord',
      '--json',
      '--due',
      formatIsoOffset(Date.now() + 3 * 86_400_000, 'Asia/Shanghai').slice(0, 19),
    );
    expect(created.code, created.stderr).toBe(0);
    const system = created.json<{ taskId: string }>().taskId;
    await until(async () =>
      (await harness.db.pool.query('SELECT 1 FROM tasks WHERE task_id = $1', [system])).rowCount
        ? true
        : undefined,
    );
    // A clerk may not issue one; the unit's head may, for a person of the unit.
    const clerk = new Agent();
    expect((await clerk.signIn('scjgj-staff1')).status).toBe(200);
    expect(
      (
        await clerk.json(`/api/campaigns/${id}/tokens`, {
          unit: 'scjgj',
          person: 'scjgj-staff1',
          name: 'x',
        })
      ).status,
    ).toBe(403);
    const head = await account('scjgj-head');
    const issued = await head.json(`/api/campaigns/${id}/tokens`, {
      unit: 'scjgj',
      person: 'scjgj-staff2',
      name: '市场监管局办件系统',
    });
    expect(issued.status, await issued.clone().text()).toBe(200);
    const { token, tokenId } = (await issued.json()) as { token: string; tokenId: string };
    const stored = await harness.db.pool.query<{ token_hash: string }>(
      'SELECT token_hash FROM portal_api_tokens WHERE token_id = $1',
      [tokenId],
    );
    expect(stored.rows[0]!.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored.rows[0]!.token_hash).not.toContain(token.slice(4));

    const bearer = (path: string, body?: unknown) =>
      fetch(`${portal.url}${path}`, {
        method: body ? 'POST' : 'GET',
        headers: {
          authorization: `Bearer ${token}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    const done = await bearer(`/api/tasks/${encodeURIComponent(system)}/submit`, {
      note: '系统自动报送：已完成对接',
      actor: 'spj-coord',
    });
    expect(done.status, await done.clone().text()).toBe(200);
    expect(((await done.json()) as { state: string }).state).toBe('done');
    const event = await until(async () => {
      const r = await harness.db.pool.query<{ actor: string }>(
        `SELECT actor FROM task_events WHERE task_id = $1 AND type = 'submitted'`,
        [system],
      );
      return r.rows[0];
    });
    expect(event.actor).toBe('scjgj-staff2');
    // Only its unit's tasks, only the routes for tokens.
    const otherUnit = `${id}/_/adhoc/swj/upload`;
    expect((await bearer(`/api/tasks/${encodeURIComponent(otherUnit)}`)).status).toBe(404);
    expect((await bearer(`/api/campaigns/${id}/tokens`)).status).toBe(404);
    expect((await bearer(`/api/campaigns/${id}/invitations`, { unit: 'scjgj' })).status).toBe(404);
    const used = await harness.db.pool.query<{ last_used_at: Date | null }>(
      'SELECT last_used_at FROM portal_api_tokens WHERE token_id = $1',
      [tokenId],
    );
    expect(used.rows[0]!.last_used_at).not.toBeNull();
    // Revoked, it opens nothing.
    expect((await head.json(`/api/campaigns/${id}/tokens/${tokenId}/revoke`, {})).status).toBe(200);
    expect((await bearer('/api/tasks')).status).toBe(401);

    // The same through the tokens page: a form post with the CSRF token, the token shown once.
    const form = (path: string, fields: Record<string, string>) =>
      head.fetch(path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
      });
    const tokensPage = `/campaigns/${id}/tokens`;
    expect((await clerk.fetch(tokensPage)).status).toBe(404);
    const listed = await (await head.fetch(tokensPage)).text();
    expect(listed).toContain('市场监管局办件系统');
    expect(listed).not.toContain(token);
    const noCsrf = await form(tokensPage, {
      name: '页面令牌',
      unit: 'scjgj',
      person: 'scjgj-staff2',
    });
    expect(noCsrf.status).toBe(403);
    const made = await form(tokensPage, {
      _csrf: head.csrf,
      name: '页面令牌',
      unit: 'scjgj',
      person: 'scjgj-staff2',
    });
    expect(made.status).toBe(200);
    const shown = /data-testid="new-token">(cct_[^<]+)</.exec(await made.text())?.[1];
    expect(shown).toBeDefined();
    expect(await (await head.fetch(tokensPage)).text()).not.toContain(shown!);
    const pageToken = await harness.db.pool.query<{ token_id: string }>(
      `SELECT token_id FROM portal_api_tokens WHERE name = '页面令牌'`,
    );
    const revoked = await form(`${tokensPage}/${pageToken.rows[0]!.token_id}/revoke`, {
      _csrf: head.csrf,
    });
    expect(revoked.status).toBe(200);
    const after = await fetch(`${portal.url}/api/tasks`, {
      headers: { authorization: `Bearer ${shown!}` },
    });
    expect(after.status).toBe(401);
  });
});

async function until<T>(fn: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 240; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await sleep(250);
  }
  throw new Error('gave up waiting');
}

function readdirSafe(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

/** How many evidence files and stored blobs the portal holds. */
async function storedEvidence(): Promise<{ files: number; blobs: number }> {
  const r = await harness.db.pool.query<{ files: string; blobs: string }>(
    'SELECT (SELECT count(*) FROM evidence_files) AS files, (SELECT count(*) FROM evidence_blobs) AS blobs',
  );
  return { files: Number(r.rows[0]!.files), blobs: Number(r.rows[0]!.blobs) };
}
