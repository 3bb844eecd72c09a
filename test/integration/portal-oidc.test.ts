// Single sign-on through an OpenID Connect provider, against a real one: oidc-provider on a
// port of 127.0.0.1 of its own, with the portal registered as a confidential client (its secret
// given to the portal by reference, in a secrets file) and its development interactions (a
// login form and a consent form) filled in as a browser would. Plain HTTP with a cookie jar per
// site and manual redirects. The portal, the dev server and PostgreSQL are real, as in the
// other portal tests. Checked: a person of the roster gets the session a password sign-in opens
// and sees their own tasks; a claim that names nobody, a tampered or replayed callback and a
// revoked account are refused with a page in the person's language; without the settings the
// sign-in page has no button and /sso/* does not exist.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import Provider from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatIsoOffset } from '../../domain/time.ts';
import { REPO_ROOT } from '../../scripts/lib/tools.ts';
import { runCli } from '../helpers/cli.ts';
import { startPortal, withCampaignId, type TestPortal } from '../helpers/portal.ts';
import { startHarness, type Harness } from '../helpers/temporal.ts';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const id = `sso-${Date.now().toString(36)}`;
const dir = mkdtempSync(join(tmpdir(), 'portal-oidc-'));
const CLIENT_ID = 'county-portal';
const CLIENT_SECRET = randomBytes(24).toString('base64url');
const TASK_TITLE = '开办企业 数据填报（统一身份认证）';

/** The identity service's accounts: its own ids, and the claims it gives about each. */
const IDP_ACCOUNTS: Record<string, { sub: string; preferred_username: string; name: string }> = {
  'gov-0001': { sub: 'gov-0001', preferred_username: 'scjgj-staff1', name: '刘填报员' },
  'gov-0002': { sub: 'gov-0002', preferred_username: 'not-on-any-roster', name: '外单位人员' },
  'gov-0003': { sub: 'gov-0003', preferred_username: 'swj-staff1', name: '黄填报员' },
  'gov-0004': { sub: 'gov-0004', preferred_username: 'zjj-staff1', name: '胡填报员' },
};

let harness: Harness;
let portal: TestPortal;
let plain: TestPortal;
let idp: Server;
let issuer: string;
let cliEnv: NodeJS.ProcessEnv;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(fn: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 480; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await sleep(250);
  }
  throw new Error('gave up waiting');
}

/** A browser: a cookie jar per site (host and port), redirects followed by hand. */
class Browser {
  jars = new Map<string, Map<string, string>>();
  /** The raw Set-Cookie headers of the last answer. */
  lastSetCookies: string[] = [];

  jar(url: string): Map<string, string> {
    const host = new URL(url).host;
    let j = this.jars.get(host);
    if (!j) this.jars.set(host, (j = new Map()));
    return j;
  }

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const jar = this.jar(url);
    const headers = new Headers(init.headers);
    if (jar.size) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const r = await fetch(url, { ...init, headers, redirect: 'manual' });
    this.lastSetCookies = r.headers.getSetCookie();
    for (const c of this.lastSetCookies) {
      const [pair] = c.split(';');
      const [k, ...v] = pair!.split('=');
      const value = v.join('=');
      if (/Expires=Thu, 01 Jan 1970/i.test(c) || /Max-Age=0\b/i.test(c) || value === '')
        jar.delete(k!.trim());
      else jar.set(k!.trim(), value);
    }
    return r;
  }

  portal(path: string, init?: RequestInit): Promise<Response> {
    return this.fetch(`${portal.url}${path}`, init);
  }
}

const location = (r: Response, base: string) => new URL(r.headers.get('location')!, base).href;

/**
 * Starts single sign-on at the portal and signs in at the identity service as `accountId`
 * (its login form, then its consent form): the address the identity service sends the browser
 * back to, not yet opened.
 */
async function throughIdentityService(
  b: Browser,
  accountId: string,
  start = '/sso/start',
): Promise<string> {
  const started = await b.portal(start);
  expect(started.status, await started.clone().text()).toBe(303);
  return atIdentityService(b, location(started, portal.url), accountId);
}

/** From the identity service's authorization address on, as throughIdentityService. */
async function atIdentityService(b: Browser, authUrl: string, accountId: string): Promise<string> {
  let url = authUrl;
  expect(url.startsWith(`${issuer}/`)).toBe(true);
  for (let step = 0; step < 12; step++) {
    const r = await b.fetch(url);
    if (r.status >= 300 && r.status < 400) {
      const next = location(r, url);
      if (next.startsWith(`${portal.url}/`)) return next;
      url = next;
      continue;
    }
    const body = await r.text();
    expect(r.status, body).toBe(200);
    const action = /<form[^>]*action="([^"]+)"/.exec(body)?.[1];
    const prompt = /name="prompt" value="(\w+)"/.exec(body)?.[1];
    expect(action, body).toBeDefined();
    const fields: Record<string, string> =
      prompt === 'login' ? { prompt, login: accountId, password: 'any' } : { prompt: prompt! };
    const posted = await b.fetch(new URL(action!.replace(/&amp;/g, '&'), url).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
    expect([302, 303]).toContain(posted.status);
    url = location(posted, url);
  }
  throw new Error('the identity service never sent the browser back');
}

const signIns = async (person: string) =>
  (
    await harness.db.pool.query<{ outcome: string; method: string }>(
      'SELECT outcome, method FROM portal_sign_ins WHERE person_id = $1 ORDER BY id',
      [person],
    )
  ).rows;

const liveSessions = async (person: string) =>
  (
    await harness.db.pool.query<{ method: string }>(
      'SELECT method FROM portal_sessions WHERE person_id = $1 AND ended_at IS NULL',
      [person],
    )
  ).rows;

beforeAll(async () => {
  harness = await startHarness('dev');
  // The identity service's address must be known to the portal, and the portal's to the
  // identity service's client: the socket first, the provider behind it once both are known.
  let handler: RequestListener = (_req, res) => res.writeHead(503).end();
  idp = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(idp.address() as { port: number }).port}`;

  const secrets = join(dir, 'portal-secrets.env');
  writeFileSync(
    secrets,
    `# the portal's client secret at the identity service\nPORTAL_OIDC=${CLIENT_SECRET}\n`,
  );
  portal = await startPortal(harness, {
    PORTAL_OIDC_ISSUER: issuer,
    PORTAL_OIDC_CLIENT_ID: CLIENT_ID,
    PORTAL_OIDC_CLIENT_SECRET_REF: 'PORTAL_OIDC',
    CAMPAIGN_SECRETS_FILE: secrets,
  });
  plain = await startPortal(harness);

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [`${portal.url}/sso/callback`],
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    findAccount: (_ctx, sub) => {
      const account = IDP_ACCOUNTS[sub];
      return account ? { accountId: sub, claims: () => account } : undefined;
    },
    claims: { openid: ['sub'], profile: ['preferred_username', 'name'] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    ttl: { Interaction: 600, Session: 600, Grant: 600, AccessToken: 600, IdToken: 600 },
  });
  const koa = provider.callback();
  handler = (req, res) => void koa(req, res);

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
  const started = await runCli(
    ['start', file, '--begin', 'now', '--as', 'spj-coord', '--json'],
    cliEnv,
  );
  expect(started.code, started.stderr).toBe(0);
  await until(async () =>
    (await harness.db.pool.query('SELECT 1 FROM people WHERE campaign_id = $1', [id])).rowCount
      ? true
      : undefined,
  );
  const created = await runCli(
    [
      'task',
      'create',
      '--file',
      file,
      '--unit',
      'scjgj',
      '--assignee',
      'scjgj-staff1',
      '--title',
      TASK_TITLE,
      '--key',
      'sso',
      '--as',
      'spj-coord',
      '--json',
      '--due',
      formatIsoOffset(Date.now() + 3 * 86_400_000, 'Asia/Shanghai').slice(0, 19),
    ],
    cliEnv,
  );
  expect(created.code, created.stderr).toBe(0);
  const taskId = created.json<{ taskId: string }>().taskId;
  await until(async () =>
    (await harness.db.pool.query('SELECT 1 FROM tasks WHERE task_id = $1', [taskId])).rowCount
      ? true
      : undefined,
  );
});

afterAll(async () => {
  await portal?.close();
  await plain?.close();
  await new Promise((r) => (idp ? idp.close(r) : r(undefined)));
  await harness?.env.client.workflow
    .getHandle(id)
    .terminate('test done')
    .catch(() => {});
  await harness?.close();
});

describe('single sign-on through the unified identity service', () => {
  it('shows its button on the sign-in page only when configured', async () => {
    const b = new Browser();
    const zh = await (await b.portal('/sign-in')).text();
    expect(zh).toContain('data-testid="sso-start"');
    expect(zh).toContain('统一身份认证登录');
    const en = await (await b.portal('/sign-in?lang=en')).text();
    expect(en).toContain('Sign in with the unified identity service');
    const off = await (await fetch(`${plain.url}/sign-in`)).text();
    expect(off).toContain('name="password"');
    expect(off).not.toContain('sso-start');
    expect(off).not.toContain('统一身份认证');
    // No such routes: an unknown address, which sends a visitor who is not signed in to the
    // sign-in page as any other does.
    expect(plain.app.routeTable.filter((r) => r.url.startsWith('/sso/'))).toEqual([]);
    for (const path of ['/sso/start', '/sso/callback?state=x&code=y']) {
      const r = await fetch(`${plain.url}${path}`, { redirect: 'manual' });
      expect(r.status).toBe(303);
      expect(r.headers.get('location')).toMatch(/^\/sign-in/);
    }
    // With the settings, both are public routes of the route table (not under /api: the
    // security test's list of public API routes is unchanged).
    expect(
      portal.app.routeTable
        .filter((r) => r.url.startsWith('/sso/'))
        .map((r) => `${r.access} ${r.method} ${r.url}`),
    ).toEqual(['public GET /sso/start', 'public GET /sso/callback']);
  });

  it('signs a person of the roster in, with the session a password sign-in opens', async () => {
    const b = new Browser();
    const started = await b.portal('/sso/start?next=/tasks');
    expect(started.status).toBe(303);
    const auth = new URL(location(started, portal.url));
    expect(`${auth.origin}${auth.pathname}`).toBe(`${issuer}/auth`);
    expect(auth.searchParams.get('client_id')).toBe(CLIENT_ID);
    expect(auth.searchParams.get('response_type')).toBe('code');
    expect(auth.searchParams.get('code_challenge_method')).toBe('S256');
    expect(auth.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(auth.searchParams.get('state')).toMatch(/^[\w-]{20,}$/);
    expect(auth.searchParams.get('nonce')).toMatch(/^[\w-]{20,}$/);
    expect(auth.searchParams.get('redirect_uri')).toBe(`${portal.url}/sso/callback`);
    const flowCookie = b.lastSetCookies.find((c) => c.startsWith('portal_sso='))!;
    expect(flowCookie).toMatch(/HttpOnly/i);
    expect(flowCookie).toMatch(/SameSite=Lax/i);
    // Only its hash is stored.
    const stored = await harness.db.pool.query<{ state_hash: string }>(
      'SELECT state_hash FROM portal_oidc_flows WHERE state_hash = encode(sha256($1::bytea), $2)',
      [auth.searchParams.get('state'), 'hex'],
    );
    expect(stored.rowCount).toBe(1);

    const back = await atIdentityService(b, auth.href, 'gov-0001');
    expect(back.startsWith(`${portal.url}/sso/callback?`)).toBe(true);
    const done = await b.fetch(back);
    expect(done.status, await done.clone().text()).toBe(303);
    expect(done.headers.get('location')).toBe('/tasks');
    const sessionCookie = b.lastSetCookies.find((c) => c.startsWith('portal_session='))!;
    expect(sessionCookie).toMatch(/HttpOnly/i);
    expect(sessionCookie).toMatch(/SameSite=Lax/i);
    expect(sessionCookie).toContain(`Max-Age=${Math.floor(portal.cfg.sessionMaxMs / 1000)}`);
    expect(b.jar(portal.url).has('portal_sso')).toBe(false);

    const tasks = await b.portal('/tasks');
    expect(tasks.status).toBe(200);
    const page = await tasks.text();
    expect(page).toContain(TASK_TITLE);
    expect(page).toContain('刘填报员');
    const me = await b.portal('/api/me');
    expect(me.status).toBe(200);
    expect(((await me.json()) as { personId: string }).personId).toBe('scjgj-staff1');
    expect(await liveSessions('scjgj-staff1')).toEqual([{ method: 'oidc' }]);
    expect(await signIns('scjgj-staff1')).toEqual([{ outcome: 'ok', method: 'oidc' }]);
    // The account has no password: a password sign-in still finds none.
    const account = await harness.db.pool.query(
      'SELECT status, password_hash FROM portal_accounts WHERE person_id = $1',
      ['scjgj-staff1'],
    );
    expect(account.rows).toEqual([{ status: 'active', password_hash: null }]);

    // The same callback again: the browser's flow is over, and even with its cookie put back
    // (someone who copied both) the flow has been used.
    const again = await b.fetch(back);
    expect(again.status).toBe(400);
    expect(await again.text()).toContain('与本浏览器发起的登录不符');
    const thief = new Browser();
    thief.jar(portal.url).set('portal_sso', auth.searchParams.get('state')!);
    const replayed = await thief.fetch(back);
    expect(replayed.status).toBe(400);
    expect(await replayed.text()).toContain('该登录请求已使用或已过期');
    expect(thief.lastSetCookies.some((c) => c.startsWith('portal_session='))).toBe(false);
    expect(await liveSessions('scjgj-staff1')).toHaveLength(1);
  });

  it('refuses a claim that names nobody on a roster, in Chinese and in English', async () => {
    const b = new Browser();
    const back = await throughIdentityService(b, 'gov-0002');
    const refused = await b.fetch(back);
    expect(refused.status).toBe(403);
    const text = await refused.text();
    expect(text).toContain('您的统一身份认证账号（not-on-any-roster）不在任何考核评价的名册中');
    expect(text).toContain('href="/sign-in"');
    expect(text).not.toMatch(/at .*\.ts:\d+|Error:/);
    expect(b.lastSetCookies.some((c) => c.startsWith('portal_session='))).toBe(false);
    expect((await b.portal('/api/me')).status).toBe(401);
    // English when the person asked for it (the language switch is remembered).
    const en = new Browser();
    const backEn = await throughIdentityService(en, 'gov-0002', '/sso/start?lang=en');
    const refusedEn = await en.fetch(backEn);
    expect(refusedEn.status).toBe(403);
    expect(await refusedEn.text()).toContain(
      'Your unified identity account (not-on-any-roster) is on no campaign&#39;s roster',
    );
    expect(await signIns('not-on-any-roster')).toEqual([
      { outcome: 'no-account', method: 'oidc' },
      { outcome: 'no-account', method: 'oidc' },
    ]);
    const accounts = await harness.db.pool.query(
      'SELECT 1 FROM portal_accounts WHERE person_id = $1',
      ['not-on-any-roster'],
    );
    expect(accounts.rowCount).toBe(0);
  });

  it('refuses a callback whose state was tampered with, or that another browser started', async () => {
    const b = new Browser();
    const back = new URL(await throughIdentityService(b, 'gov-0004'));
    const tampered = new URL(back);
    tampered.searchParams.set('state', `${back.searchParams.get('state')!.slice(0, -2)}xx`);
    const refused = await b.fetch(tampered.href);
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('登录请求无效或已过期');
    expect(b.lastSetCookies.some((c) => c.startsWith('portal_session='))).toBe(false);

    // A callback planted in someone else's browser (login CSRF): it did not start it.
    const other = new Browser();
    const back2 = await throughIdentityService(other, 'gov-0004');
    const victim = new Browser();
    const planted = await victim.fetch(back2);
    expect(planted.status).toBe(400);
    expect(victim.lastSetCookies.some((c) => c.startsWith('portal_session='))).toBe(false);
    expect(await liveSessions('zjj-staff1')).toEqual([]);
    expect(await signIns('zjj-staff1')).toEqual([]);
  });

  it('refuses a revoked account, and a revocation ends a session opened by single sign-on', async () => {
    // Revoked before signing in.
    const revoke = (person: string) =>
      runCli(['accounts', 'revoke', id, person, '--as', 'spj-coord', '--json'], cliEnv);
    const r = await revoke('swj-staff1');
    expect(r.code, r.stderr).toBe(0);
    const b = new Browser();
    const refused = await b.fetch(await throughIdentityService(b, 'gov-0003'));
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('账号 swj-staff1 已被撤销');
    expect(b.lastSetCookies.some((c) => c.startsWith('portal_session='))).toBe(false);
    expect(await signIns('swj-staff1')).toEqual([{ outcome: 'revoked', method: 'oidc' }]);

    // Revoked while signed in through the identity service.
    const c = new Browser();
    expect((await c.fetch(await throughIdentityService(c, 'gov-0001'))).status).toBe(303);
    expect((await c.portal('/api/me')).status).toBe(200);
    const r2 = await revoke('scjgj-staff1');
    expect(r2.code, r2.stderr).toBe(0);
    expect((await c.portal('/api/me')).status).toBe(401);
    const d = new Browser();
    const again = await d.fetch(await throughIdentityService(d, 'gov-0001'));
    expect(again.status).toBe(403);
  });
});
