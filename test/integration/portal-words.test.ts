// The portal in its users' words, page by page, over HTTP on the dev server and PostgreSQL:
// every page a clerk, the bureau's coordinator and the evaluator see (task list, task page,
// review queue, board, ledger, dispatch, accounts, verification, sign-in, invitation) is
// scanned for what a Chinese page must not hold: a command-line flag, an English sentence, a
// unit id in brackets, a role code, a task id. And the pages behave: a task that needs no review
// says it is done; an empty data box is not shown; a refused post redirects back (a reload does
// not post again) with the message, the values and the first problem anchored; an empty file is
// called empty; an oversize upload leads back to its task; the verification page has jump links
// and lists the evidence request just made. Screenshots at 390 px and 1366 px.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { chromium, type Browser } from 'playwright-core';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatIsoOffset } from '../../domain/time.ts';
import { REPO_ROOT } from '../../scripts/lib/tools.ts';
import { runCli } from '../helpers/cli.ts';
import { startPortal, type TestPortal } from '../helpers/portal.ts';
import { startHarness, type Harness } from '../helpers/temporal.ts';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const id = `words-${Date.now().toString(36)}`;
const TZ = 'Asia/Shanghai';
const dir = mkdtempSync(join(tmpdir(), 'portal-words-'));
const PASSWORD = 'correct horse battery';
let harness: Harness;
let portal: TestPortal;
let cliEnv: NodeJS.ProcessEnv;

const cli = (...args: string[]) => runCli(args, cliEnv);
const pause = () => new Promise((r) => setTimeout(r, 200));

/** Polls until `read` gives something other than undefined (the campaign's state, not time). */
async function until<T>(what: string, read: () => Promise<T | undefined>, tries = 900): Promise<T> {
  let last: unknown;
  for (let i = 0; i < tries; i++) {
    try {
      const v = await read();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await pause();
  }
  throw new Error(`gave up waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

const q = async <T>(sql: string, ...params: unknown[]) =>
  (await harness.db.pool.query(sql, params)).rows as T[];

/** An HTTP client with a cookie jar, as a browser or a program would be. */
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
  /** A form post as the page's form sends it (with the session's CSRF token unless told). */
  form(path: string, fields: Record<string, string>, csrf: string | null = this.csrf) {
    return this.fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        ...(csrf === null ? {} : { _csrf: csrf }),
        ...fields,
      }).toString(),
    });
  }
  async page(path: string): Promise<{ status: number; text: string }> {
    const r = await this.fetch(path);
    return { status: r.status, text: await r.text() };
  }
}

async function account(person: string): Promise<Agent> {
  const r = await cli('accounts', 'invite', id, '--person', person, '--as', 'spj-coord', '--json');
  expect(r.code, r.stderr).toBe(0);
  const link = r.json<{ invitations: { link: string }[] }>().invitations[0]!.link;
  const anon = new Agent();
  const path = new URL(link).pathname;
  const form = await (await anon.fetch(path)).text();
  const token = /name="_csrf" value="([^"]+)"/.exec(form)?.[1] ?? '';
  const accepted = await anon.fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: token, password: PASSWORD, confirm: PASSWORD }).toString(),
  });
  expect(accepted.status).toBe(303);
  const a = new Agent();
  const s = await a.json('/api/session', { personId: person, password: PASSWORD }, '');
  expect(s.status).toBe(200);
  a.csrf = ((await s.json()) as { csrfToken: string }).csrfToken;
  return a;
}

/**
 * What a Chinese page must not say, found in its visible text (tags, attributes, styles and
 * `<code>` tokens such as an account id or a link left out).
 */
function wordProblems(page: string): string[] {
  const text = page
    .replace(/<(style|script|code)\b[\s\S]*?<\/\1>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;|&quot;|&amp;|&lt;|&gt;/g, ' ')
    .replace(/https?:\/\/\S+/g, ' ')
    .replace(/\s+/g, ' ');
  const out: string[] = [];
  const hit = (what: string, re: RegExp) => {
    const m = re.exec(text);
    if (m) out.push(`${what}: …${text.slice(Math.max(0, m.index - 30), m.index + 40)}…`);
  };
  hit('a flag', /--/);
  hit('an English sentence', /\b[A-Za-z]{2,}(?:[ ,;:'’]+[A-Za-z]{2,}){2,}\b/);
  hit('a bracketed id', /[（(][a-z][a-z0-9_-]*[）)]/);
  hit('a role code', /\b(?:staff|deputy|head|coordinator|evaluator|leader)\b/i);
  hit('a task id', /\b[a-z]+\/[a-z0-9_-]+\/[a-z0-9_-]+/);
  return out;
}

function steadyDefinition(): string {
  const raw = parseYaml(readFileSync(join(REPO_ROOT, 'examples', 'quick-demo.yaml'), 'utf8'));
  raw.campaign.id = id;
  const t0 = Date.parse(`${raw.phases.training.start}+08:00`);
  const at = (hours: number) => formatIsoOffset(t0 + hours * 3_600_000, TZ).slice(0, 19);
  raw.phases.training = { start: at(0), end: at(2) };
  raw.phases.dataEntry = { ...raw.phases.dataEntry, start: at(2), end: at(4), slot: 'PT2H' };
  raw.phases.dataEntry.indicatorsPerDay = raw.indicators.length;
  raw.phases.verification = {
    ...raw.phases.verification,
    start: at(4),
    end: at(6),
    evidenceDue: { duration: 'PT2H' },
  };
  raw.phases.reporting = { start: at(6), end: at(8) };
  raw.policy.reminders = ['PT1H'];
  raw.policy.escalation = [
    { after: { duration: 'PT2H' }, notify: ['assignee', 'deputy'], label: '分管领导督办' },
  ];
  const path = join(dir, 'steady.json');
  writeFileSync(path, JSON.stringify(raw));
  return path;
}

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(REPO_ROOT, '.artifacts', 'screenshots');
let browser: Browser | undefined;

/** Screenshots of a page as the person sees it, at 390 px and 1366 px (when Chromium is here). */
async function shoot(agent: Agent, path: string, name: string): Promise<void> {
  if (!existsSync(CHROMIUM)) return;
  browser ??= await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  mkdirSync(SHOTS, { recursive: true });
  for (const width of [390, 1366]) {
    const ctx = await browser.newContext({
      viewport: { width, height: width > 800 ? 900 : 844 },
      locale: 'zh-CN',
    });
    await ctx.addCookies(
      [...agent.cookies].map(([n, value]) => ({ name: n, value, url: portal.url })),
    );
    const page = await ctx.newPage();
    await page.goto(`${portal.url}${path}`);
    await page.screenshot({
      path: join(SHOTS, `words-${name}-${width}.png`),
      fullPage: width > 800,
    });
    await ctx.close();
  }
}

let coord: Agent;
let clerk: Agent;
let evaluator: Agent;
let taskId = '';
const base = () => `/campaigns/${id}`;
const tasksOf = (unit: string, kind: string) =>
  q<{ task_id: string }>(
    'SELECT task_id FROM tasks WHERE campaign_id = $1 AND unit_id = $2 AND kind = $3',
    id,
    unit,
    kind,
  );

beforeAll(async () => {
  harness = await startHarness('dev');
  portal = await startPortal(harness, { PORTAL_UPLOAD_LIMIT: '64KB' });
  cliEnv = {
    TEMPORAL_ADDRESS: harness.env.address,
    DATABASE_URL: harness.db.url,
    TEMPORAL_TASK_QUEUE: harness.taskQueue,
    PORTAL_PUBLIC_URL: portal.url,
  };
  const file = steadyDefinition();
  const started = await cli('start', file, '--begin', 'now', '--as', 'spj-coord');
  expect(started.code, started.stderr).toBe(0);
  await until('the roster in PostgreSQL', async () =>
    (await q('SELECT 1 FROM people WHERE campaign_id = $1', id)).length ? true : undefined,
  );
  const created = await cli(
    'task', 'create', '--file', file, '--unit', 'swj', '--assignee', 'swj-staff1',
    '--title', '纳税 数据填报', '--kind', 'questionnaire', '--indicator', 'ns', '--key', 'words',
    '--evidence', '--as', 'spj-coord', '--json',
    '--due', formatIsoOffset(Date.now() + 3 * 86_400_000, TZ).slice(0, 19),
  ); // prettier-ignore
  expect(created.code, created.stderr).toBe(0);
  taskId = created.json<{ taskId: string }>().taskId;
  await until('the training tasks in PostgreSQL', async () =>
    (await tasksOf('swj', 'training')).length ? true : undefined,
  );
  [coord, clerk, evaluator] = await Promise.all([
    account('spj-coord'),
    account('swj-staff1'),
    account('dsf-eval'),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await portal?.close();
  await harness?.env.client.workflow
    .getHandle(id)
    .terminate('test done')
    .catch(() => {});
  await harness?.close();
});

const taskPath = (t: string) => `/tasks/${encodeURIComponent(t)}`;

describe('the portal’s Chinese pages', () => {
  it('hold no flag, English sentence, bracketed id, role code or task id', async () => {
    const pages: [Agent, string][] = [
      [clerk, '/tasks'],
      [clerk, taskPath(taskId)],
      [clerk, taskPath((await tasksOf('swj', 'training'))[0]!.task_id)],
      [coord, '/tasks'],
      [coord, '/review'],
      [coord, base()],
      [coord, `${base()}/ledger`],
      [coord, `${base()}/dispatch`],
      [coord, `${base()}/accounts`],
      [evaluator, `${base()}/verification`],
      [new Agent(), '/sign-in'],
    ];
    // An invitation's page, and the invitation list the bureau sees once.
    const r = await cli('accounts', 'invite', id, '--person', 'zjj-staff1', '--as', 'spj-coord', '--json'); // prettier-ignore
    const link = r.json<{ invitations: { link: string }[] }>().invitations[0]!.link;
    pages.push([new Agent(), new URL(link).pathname]);
    const problems: string[] = [];
    for (const [agent, path] of pages) {
      const p = await agent.page(path);
      expect(p.status, path).toBeLessThan(500);
      for (const w of wordProblems(p.text)) problems.push(`${path}: ${w}`);
    }
    const accounts = await coord.page(`${base()}/accounts`);
    const invite = await coord.fetch(`${base()}/accounts/invite`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-csrf-token': coord.csrf },
      body: new URLSearchParams({ _csrf: coord.csrf, person: 'zjj-deputy' }).toString(),
    });
    const invited = await invite.text();
    for (const w of wordProblems(invited)) problems.push(`invitations issued: ${w}`);
    expect(problems).toEqual([]);
    // Titles, not codes; the bureau by its own name; times in the campaign's zone, named.
    expect(accounts.text).toContain('分管负责人');
    expect(invited).toMatch(/有效期至 \d{4}-\d\d-\d\d[T ]\d\d:\d\d（北京时间）/);
    const signIn = await new Agent().page('/sign-in');
    expect(signIn.text).toContain('请联系县行政审批服务局');
    expect(signIn.text).not.toContain('县审批局');
    await shoot(coord, `${base()}/accounts`, 'accounts');
    await shoot(coord, `${base()}/dispatch`, 'dispatch');
  });
});

describe('the task page', () => {
  it('says a task that needs no review is done, without an empty data box', async () => {
    const training = (await tasksOf('swj', 'training'))[0]!.task_id;
    const page = await clerk.page(taskPath(training));
    const requestId = /name="requestId" value="([^"]+)"/.exec(page.text)![1]!;
    const sent = await clerk.form(`${taskPath(training)}/submit`, {
      requestId,
      note: '已参加培训',
    });
    expect(sent.status).toBe(303);
    const after = await clerk.page(sent.headers.get('location')!);
    expect(after.text).toContain('已完成');
    expect(after.text).not.toContain('等待审核');
    expect(after.text).not.toContain('已提交的数据');
  });

  it('redirects a refused post back, with the values kept and the first problem in view', async () => {
    const path = taskPath(taskId);
    const page = await clerk.page(path);
    const requestId = /name="requestId" value="([^"]+)"/.exec(page.text)![1]!;
    const sent = await clerk.form(`${path}/submit`, {
      requestId,
      'f.taxHours': '很多',
      'f.onlineRate': '95',
      note: '说明文字',
    });
    // Post/redirect/get: a reload of what the browser shows does not post again.
    expect(sent.status).toBe(303);
    expect(sent.headers.get('location')).toBe(`${path}#error`);
    const back = await clerk.page(path);
    expect(back.text).toMatch(/id="error"[^>]*>\s*<label for="field-taxHours"/);
    expect(back.text).toMatch(/<input autofocus type="text"[^>]*id="field-taxHours"/);
    expect(back.text).toContain('value="很多"');
    expect(back.text).toContain('value="95"');
    expect(back.text).toContain('说明文字');
    // The flash is shown once: the next visit is the page afresh.
    expect((await clerk.page(path)).text).not.toContain('value="很多"');
    await shoot(clerk, path, 'task');
  });

  it('calls a 0-byte file empty, and leads an oversize one back to the task', async () => {
    const path = taskPath(taskId);
    const upload = (name: string, content: Buffer) => {
      const form = new FormData();
      form.append('_csrf', clerk.csrf);
      form.append('files', new Blob([new Uint8Array(content)]), name);
      return clerk.fetch(`${path}/evidence`, { method: 'POST', body: form });
    };
    const empty = await upload('空文件.pdf', Buffer.alloc(0));
    expect(empty.status).toBe(303);
    const shown = await clerk.page(path);
    expect(shown.text).toContain('文件是空的（0 字节）：空文件.pdf');
    expect(shown.text).not.toContain('不接受的文件类型');
    const big = Buffer.concat([
      Buffer.from('%PDF-1.4\n'),
      Buffer.alloc(portal.cfg.uploadLimitBytes + 1024, 0x20),
    ]);
    const tooBig = await upload('大文件.pdf', big);
    expect(tooBig.status).toBe(303);
    expect(tooBig.headers.get('location')).toBe(`${path}#error`);
    expect((await clerk.page(path)).text).toContain('文件超过上限');
  });
});

describe('the verification page', () => {
  it('has jump links and lists an evidence request right after it is made', async () => {
    for (const phase of ['training', 'dataEntry']) {
      const r = await cli('phase', id, 'close', phase, '--as', 'spj-coord', '--reason', '测试推进');
      expect(r.code, r.stderr).toBe(0);
    }
    await until('kbqy in verification', async () =>
      (
        await q<{ phase: string }>(
          'SELECT phase FROM indicator_status WHERE campaign_id = $1 AND code = $2',
          id,
          'kbqy',
        )
      )[0]?.phase === 'verification'
        ? true
        : undefined,
    );
    const v = `${base()}/verification`;
    const page = await evaluator.page(v);
    expect(page.text).toContain('<a href="#ind-kbqy">');
    expect(page.text).toContain('<a href="#samples">');
    const requestId = /name="requestId" value="([^"]+)"/.exec(
      page.text.slice(page.text.indexOf('/kbqy/evidence')),
    )![1]!;
    const asked = await evaluator.form(`${v}/kbqy/evidence`, {
      unit: 'scjgj',
      what: '开办企业办件记录',
      requestId,
    });
    expect(asked.status).toBe(303);
    const after = await evaluator.page(asked.headers.get('location')!);
    const kbqy = after.text.slice(after.text.indexOf('id="ind-kbqy"'));
    expect(kbqy).toContain('开办企业办件记录');
    expect(kbqy.slice(0, kbqy.indexOf('</section>'))).not.toContain('尚未调取印证资料');
    expect(wordProblems(after.text)).toEqual([]);
    // A refused post comes back with its message beside the field (post/redirect/get).
    const refused = await evaluator.form(`${v}/kbqy/verify`, { item: '', requestId: 'x' });
    expect(refused.status).toBe(303);
    const back = await evaluator.page(v);
    expect(back.text).toContain('请写明核验的是哪一项');
    await shoot(evaluator, v, 'verification');
  });
});
