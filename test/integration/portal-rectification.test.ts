// The portal's verification and rectification pages over HTTP, on the dev server and PostgreSQL:
// a campaign begun now is moved by the bureau into verification; the evaluator records outcomes
// and asks for evidence through the pages and the API (the outcome reaches the indicator
// workflow and its projection, with the evaluator as the actor); the bureau starts the
// rectification of kbqy; the lead unit's clerk submits a wrong step (per-field messages, nothing
// reaches the task) and a right one, and the steps advance as the bureau approves them; the
// bureau adds a measure through the portal and it appears in the ledger with the person as its
// actor; a clerk of another unit gets 404 for every one of these pages and routes. Driven by the
// campaign's state (polled projections and queries), never by the wall clock: the phase windows
// are hours long and the bureau closes them when the test has done what it wanted.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { chromium, type Browser } from 'playwright-core';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indicatorStatusQuery, rectificationStatusQuery } from '../../domain/messages.ts';
import { indicatorWorkflowId, rectificationWorkflowId } from '../../domain/campaign.ts';
import { taskViewQuery } from '../../domain/messages.ts';
import { withCreditCheck } from '../../domain/imports.ts';
import { formatIsoOffset } from '../../domain/time.ts';
import { REPO_ROOT } from '../../scripts/lib/tools.ts';
import { runCli } from '../helpers/cli.ts';
import { startPortal, type TestPortal } from '../helpers/portal.ts';
import { startHarness, type Harness } from '../helpers/temporal.ts';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const id = `rect-${Date.now().toString(36)}`;
const TZ = 'Asia/Shanghai';
const dir = mkdtempSync(join(tmpdir(), 'portal-rect-'));
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

/** The quick example with windows of hours and a slow ladder: nothing passes while the test acts. */
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
  raw.policy.returnDue = { duration: 'PT2H' };
  raw.rectification.stepDue = { duration: 'PT2H' };
  raw.rectification.measureDue = { duration: 'PT2H' };
  raw.rectification.progressEvery = 'PT2H';
  const path = join(dir, 'steady.json');
  writeFileSync(path, JSON.stringify(raw));
  return path;
}

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

/** The text of the error beside a field of a page (`data-field="…"` then `class="error"`). */
function fieldError(page: string, name: string): string | undefined {
  const at = page.indexOf(`data-field="${name}"`);
  if (at < 0) return undefined;
  const rest = page.slice(at, at + 3000);
  const end = rest.indexOf('</div>');
  return /<p class="error"[^>]*>([^<]*)<\/p>/.exec(rest.slice(0, end))?.[1]?.trim();
}

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(REPO_ROOT, '.artifacts', 'screenshots');
let browser: Browser | undefined;

/**
 * The page as the person's phone shows it (390 px, the system's Chromium when installed): it
 * fits the width, with no sideways scrolling; a screenshot is kept in .artifacts/screenshots.
 */
async function fitsPhone(agent: Agent, path: string, name: string): Promise<void> {
  if (!existsSync(CHROMIUM)) return;
  browser ??= await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  mkdirSync(SHOTS, { recursive: true });
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
  await ctx.addCookies(
    [...agent.cookies].map(([n, value]) => ({ name: n, value, url: portal.url })),
  );
  const page = await ctx.newPage();
  const r = await page.goto(`${portal.url}${path}`);
  expect(r?.status()).toBe(200);
  // Evaluated in the page: the document's width as laid out.
  const width = await page.evaluate<number>('document.documentElement.scrollWidth');
  expect(`${name}: ${width}px`).toBe(`${name}: 390px`);
  await page.screenshot({ path: join(SHOTS, `portal-${name}-390.png`), fullPage: true });
  await ctx.close();
}

let evaluator: Agent;
let coord: Agent;
let clerk: Agent;
let stranger: Agent;
const base = () => `/campaigns/${id}`;

beforeAll(async () => {
  harness = await startHarness('dev');
  portal = await startPortal(harness);
  cliEnv = {
    TEMPORAL_ADDRESS: harness.env.address,
    DATABASE_URL: harness.db.url,
    TEMPORAL_TASK_QUEUE: harness.taskQueue,
    PORTAL_PUBLIC_URL: portal.url,
  };
  const started = await cli('start', steadyDefinition(), '--begin', 'now', '--as', 'spj-coord');
  expect(started.code, started.stderr).toBe(0);
  await until('the roster in PostgreSQL', async () =>
    (await q('SELECT 1 FROM people WHERE campaign_id = $1', id)).length ? true : undefined,
  );
  [evaluator, coord, clerk, stranger] = await Promise.all([
    account('dsf-eval'),
    account('spj-coord'),
    account('scjgj-staff1'),
    account('zjj-staff1'),
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

const phaseOf = async (code: string) =>
  (
    await q<{ phase: string }>(
      'SELECT phase FROM indicator_status WHERE campaign_id = $1 AND code = $2',
      id,
      code,
    )
  )[0]?.phase;

describe('the evaluator verifies through the portal', () => {
  it('records outcomes and asks for evidence as the signed-in evaluator; others get 404', async () => {
    // The bureau moves the campaign into verification.
    await until('training under way', async () =>
      (await phaseOf('kbqy')) === 'training' ? true : undefined,
    );
    for (const phase of ['training', 'dataEntry']) {
      const r = await cli('phase', id, 'close', phase, '--as', 'spj-coord', '--reason', '测试推进');
      expect(r.code, r.stderr).toBe(0);
    }
    await until('kbqy and ns in verification', async () =>
      (await phaseOf('kbqy')) === 'verification' && (await phaseOf('ns')) === 'verification'
        ? true
        : undefined,
    );

    const page = await evaluator.page(`${base()}/verification`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('信息核验');
    expect(page.text).toContain('data-indicator="kbqy"');
    expect(page.text).toContain('尚未抽样');

    // The enterprise list and the sample (drawn by the evaluator with the CLI) show on the page.
    const lines = ['统一社会信用代码,企业名称,行业,乡镇'];
    for (let i = 0; i < 20; i++)
      lines.push(
        `${withCreditCheck(`913400000000${String(i).padStart(5, '0')}`)},核验测试企业${i}号,制造业,城关镇`,
      );
    const list = join(dir, 'enterprises.csv');
    writeFileSync(list, `${lines.join('\n')}\n`);
    const imported = await cli('enterprises', 'import', id, '--file', list, '--as', 'spj-coord');
    expect(imported.code, imported.stderr).toBe(0);
    const drawn = await cli('sample', id, '--as', 'dsf-eval', '--seed', 'portal', '--json');
    expect(drawn.code, drawn.stderr).toBe(0);
    const sample = drawn.json<{ enterprises: string[] }>().enterprises;
    expect(sample).toHaveLength(4);
    const sampled = await evaluator.page(`${base()}/verification?lang=zh`);
    for (const code of sample) expect(sampled.text).toContain(`data-enterprise="${code}"`);
    expect(sampled.text).toContain('种子 portal');

    // No CSRF token: refused, nothing recorded.
    const noToken = await evaluator.form(
      `${base()}/verification/kbqy/verify`,
      { item: '办件记录', outcome: 'confirmed' },
      null,
    );
    expect(noToken.status).toBe(403);
    // An empty item and no outcome: named beside their fields, nothing sent.
    const wrong = await evaluator.form(`${base()}/verification/kbqy/verify`, {
      item: '  ',
      outcome: '',
      note: '保留的说明',
    });
    // Refused, then sent back to the page (post/redirect/get), the problems beside their fields.
    expect(wrong.status).toBe(303);
    const wrongText = (await evaluator.page(wrong.headers.get('location')!)).text;
    expect(fieldError(wrongText, 'item')).toBe('请写明核验的是哪一项。');
    expect(fieldError(wrongText, 'outcome')).toBe('请选择核验结果：属实或有差异。');
    expect(wrongText).toContain('保留的说明');
    expect(await q('SELECT 1 FROM verifications WHERE campaign_id = $1', id)).toEqual([]);

    // The outcome through the form: the indicator is flagged, the projection names the evaluator.
    const ok = await evaluator.form(`${base()}/verification/kbqy/verify`, {
      item: '抽样企业办件记录',
      outcome: 'discrepant',
      note: '抽查企业实际办理时间与填报不符',
      actor: 'spj-coord',
    });
    expect(ok.status, await ok.clone().text()).toBe(303);
    expect(ok.headers.get('location')).toContain('done=verified');
    const status = await harness.env.client.workflow
      .getHandle(indicatorWorkflowId(id, 'kbqy'))
      .query(indicatorStatusQuery);
    expect(status.flagged).toBe(true);
    const rows = await until('the verification in PostgreSQL', async () => {
      const r = await q<{ item: string; outcome: string; actor: string }>(
        'SELECT item, outcome, actor FROM verifications WHERE campaign_id = $1 AND code = $2',
        id,
        'kbqy',
      );
      return r.length ? r : undefined;
    });
    expect(rows).toEqual([{ item: '抽样企业办件记录', outcome: 'discrepant', actor: 'dsf-eval' }]);

    // The API twin, in English; a body naming another actor is not heeded.
    const api = await evaluator.json(`/api${base()}/verification/ns/verify?lang=en`, {
      item: '纳税时间',
      outcome: 'confirmed',
      actor: 'spj-coord',
    });
    expect(api.status, await api.clone().text()).toBe(200);
    expect(await api.json()).toEqual({
      indicator: 'ns',
      item: '纳税时间',
      outcome: 'confirmed',
      flagged: false,
    });
    const badApi = await evaluator.json(`/api${base()}/verification/ns/verify?lang=en`, {
      item: '',
      outcome: 'maybe',
    });
    expect(badApi.status).toBe(422);
    expect(((await badApi.json()) as { fields: Record<string, string> }).fields).toEqual({
      item: 'Say which item was verified.',
      outcome: 'Choose the outcome: confirmed or discrepant.',
    });

    // An evidence request through the form becomes the unit's task, listed with its state.
    const asked = await evaluator.form(`${base()}/verification/kbqy/evidence`, {
      unit: 'scjgj',
      what: '抽样企业的办件记录',
    });
    expect(asked.status, await asked.clone().text()).toBe(303);
    const evidenceTask = await until('the evidence task', async () => {
      const r = await q<{ task_id: string; state: string }>(
        `SELECT task_id, state FROM tasks WHERE campaign_id = $1 AND kind = 'evidence'`,
        id,
      );
      return r[0];
    });
    expect(evidenceTask.state).toBe('open');
    const after = await evaluator.page(`${base()}/verification`);
    expect(after.text).toContain(`data-task="${evidenceTask.task_id}" data-state="open"`);
    expect(after.text).toContain('data-outcome="discrepant"');
    await fitsPhone(evaluator, `${base()}/verification`, 'verification');
    const view = (await (await evaluator.fetch(`/api${base()}/verification`)).json()) as {
      indicators: { code: string; verifications: unknown[]; evidenceRequests: unknown[] }[];
    };
    expect(view.indicators.find((i) => i.code === 'kbqy')!.evidenceRequests).toHaveLength(1);

    // Every other role: 404, for the page, its posts and the API.
    for (const other of [clerk, coord, stranger]) {
      expect((await other.page(`${base()}/verification`)).status).toBe(404);
      expect((await other.fetch(`/api${base()}/verification`)).status).toBe(404);
      const post = await other.form(`${base()}/verification/kbqy/verify`, {
        item: 'x',
        outcome: 'confirmed',
      });
      expect(post.status).toBe(404);
      const apiPost = await other.json(`/api${base()}/verification/kbqy/evidence`, {
        unit: 'scjgj',
        what: 'x',
      });
      expect(apiPost.status).toBe(404);
    }
    expect(
      await q('SELECT 1 FROM verifications WHERE campaign_id = $1 AND actor <> $2', id, 'dsf-eval'),
    ).toEqual([]);
  }, 300_000);
});

/** The step task of a kind, once projected and open. */
const openStep = (kind: string) =>
  until(`the ${kind} step`, async () => {
    const r = await q<{ task_id: string }>(
      `SELECT task_id FROM tasks WHERE campaign_id = $1 AND indicator = 'kbqy' AND kind = $2 AND state = 'open'`,
      id,
      kind,
    );
    return r[0]?.task_id;
  });

const rectStatus = () =>
  harness.env.client.workflow
    .getHandle(rectificationWorkflowId(id, 'kbqy'))
    .query(rectificationStatusQuery);

async function approve(taskId: string): Promise<void> {
  await until(`${taskId} submitted in the projection`, async () => {
    const r = await q<{ state: string }>('SELECT state FROM tasks WHERE task_id = $1', taskId);
    return r[0]?.state === 'submitted' ? true : undefined;
  });
  const r = await coord.json(`/api/tasks/${encodeURIComponent(taskId)}/approve`, {});
  expect(r.status, await r.clone().text()).toBe(200);
}

describe('the rectification through the portal', () => {
  it('shows per-field errors for a wrong step, advances on a right one, adds a measure', async () => {
    const started = await cli(
      'rectify',
      id,
      'kbqy',
      '--as',
      'spj-coord',
      '--reason',
      '核验发现数据差异',
    );
    expect(started.code, started.stderr).toBe(0);
    const problemsTask = await openStep('rectify-problems');
    const rectPage = `${base()}/rectification/kbqy`;

    // Another unit's clerk and the evaluator: 404 everywhere.
    for (const other of [stranger, evaluator]) {
      expect((await other.page(rectPage)).status).toBe(404);
      expect((await other.fetch(`/api${rectPage}`)).status).toBe(404);
      expect((await other.form(`${rectPage}/step`, { 'problems.0.finding': 'x' })).status).toBe(
        404,
      );
      expect(
        (
          await other.json(`/api${rectPage}/measures`, {
            problem: 1,
            measure: 'x',
            unit: 'zjj',
            person: 'zjj-staff1',
            due: '2030-01-01',
            reason: 'x',
          })
        ).status,
      ).toBe(404);
    }
    expect((await evaluator.page(`${base()}/rectification`)).status).toBe(404);
    const strangersList = await stranger.page(`${base()}/rectification`);
    expect(strangersList.status).toBe(200);
    expect(strangersList.text).not.toContain('data-rectification="kbqy"');

    // The board (the bureau) shows kbqy's rectification state.
    const board = await coord.page(base());
    expect(board.status).toBe(200);
    expect(board.text).toMatch(/data-rectification="kbqy" data-state="steps"/);
    expect(board.text).toContain('制定整改方案 · 查问题');

    // The clerk's form: a row with its description left empty, and a blank row.
    const form = await clerk.page(rectPage);
    expect(form.status).toBe(200);
    expect(form.text).toContain('data-testid="step-form"');
    expect(form.text).toContain('name="problems.0.description"');
    await fitsPhone(clerk, rectPage, 'rectification-step');
    const eventsBefore = (
      await harness.env.client.workflow.getHandle(problemsTask).query(taskViewQuery)
    ).eventCount;
    const wrong = await clerk.form(`${rectPage}/step`, {
      'problems.0.finding': '评价报告第3条',
      'problems.0.description': '',
      'problems.1.finding': '',
      'problems.1.description': '',
      'problems.2.finding': '评价报告第5条',
      'problems.2.description': '开户与社保登记未并联',
    });
    expect(wrong.status).toBe(422);
    const wrongText = await wrong.text();
    expect(fieldError(wrongText, 'problems.0.description')).toBe('第 1 条的问题描述不能为空。');
    expect(fieldError(wrongText, 'problems.0.finding')).toBeUndefined();
    expect(fieldError(wrongText, 'problems.2.description')).toBeUndefined();
    expect(wrongText).toContain('评价报告第3条');
    expect(wrongText).not.toMatch(/Invalid input|expected|must not be empty/);
    // The API: a missing field, in English, keyed by the field.
    const wrongApi = await clerk.json(`/api${rectPage}/step?lang=en`, {
      data: { problems: [{ finding: '评价报告第3条' }] },
    });
    expect(wrongApi.status).toBe(422);
    const wrongBody = (await wrongApi.json()) as {
      message: string;
      fields: Record<string, string>;
    };
    expect(wrongBody.fields).toEqual({
      'problems.0.description': 'Row 1: the description must not be empty.',
    });
    expect(JSON.stringify(wrongBody)).not.toMatch(/Invalid input|expected string/);
    const emptyApi = await clerk.json(`/api${rectPage}/step?lang=zh`, { data: { problems: [] } });
    expect(emptyApi.status).toBe(422);
    expect(((await emptyApi.json()) as { fields: Record<string, string> }).fields).toEqual({
      problems: '请至少填写一条。',
    });
    // Nothing reached the task.
    const view = await harness.env.client.workflow.getHandle(problemsTask).query(taskViewQuery);
    expect(view.state).toBe('open');
    expect(view.eventCount).toBe(eventsBefore);
    expect((await rectStatus()).step).toBe('rectify-problems');

    // The right submission, through the form; the bureau approves; the next step is under way.
    const right = await clerk.form(`${rectPage}/step`, {
      'problems.0.finding': '评价报告第3条',
      'problems.0.description': '企业开办仍需线下提交材料',
      'problems.1.finding': '',
      'problems.1.description': '',
      'problems.2.finding': '评价报告第5条',
      'problems.2.description': '开户与社保登记未并联',
      actor: 'spj-coord',
    });
    expect(right.status, await right.clone().text()).toBe(303);
    const submitted = await harness.env.client.workflow
      .getHandle(problemsTask)
      .query(taskViewQuery);
    expect(submitted.state).toBe('submitted');
    const stored = await until('the submission in PostgreSQL', async () => {
      const r = await q<{ by_person: string; data: unknown }>(
        'SELECT by_person, data FROM submissions WHERE task_id = $1',
        problemsTask,
      );
      return r[0];
    });
    expect(stored).toEqual({
      by_person: 'scjgj-staff1',
      data: {
        problems: [
          { finding: '评价报告第3条', description: '企业开办仍需线下提交材料' },
          { finding: '评价报告第5条', description: '开户与社保登记未并联' },
        ],
      },
    });
    await approve(problemsTask);
    await until('the causes step', async () =>
      (await rectStatus()).step === 'rectify-causes' ? true : undefined,
    );
    const causesTask = await openStep('rectify-causes');
    const causesPage = await clerk.page(rectPage);
    expect(causesPage.text).toContain('data-step="rectify-causes"');
    expect(causesPage.text).toContain('问题 2：开户与社保登记未并联');

    // Causes through the form: one left empty is named beside it; then both.
    const noCause = await clerk.form(`${rectPage}/step`, {
      'causes.0.problem': '1',
      'causes.0.cause': '电子签名未全面推行',
      'causes.1.problem': '2',
      'causes.1.cause': '',
    });
    expect(noCause.status).toBe(422);
    expect(fieldError(await noCause.text(), 'causes.1.cause')).toBe('第 2 条的原因分析不能为空。');
    const causes = await clerk.form(`${rectPage}/step`, {
      'causes.0.problem': '1',
      'causes.0.cause': '电子签名未全面推行',
      'causes.1.problem': '2',
      'causes.1.cause': '部门数据未共享',
    });
    expect(causes.status, await causes.clone().text()).toBe(303);
    await approve(causesTask);

    // Gaps and measures through the API.
    const gapsTask = await openStep('rectify-gaps');
    const gaps = await clerk.json(`/api${rectPage}/step`, {
      data: {
        benchmark: '合肥市',
        gaps: [
          { problem: 1, gap: '合肥全程网办率98%' },
          { problem: 2, gap: '合肥0.5个工作日办结' },
        ],
      },
    });
    expect(gaps.status, await gaps.clone().text()).toBe(200);
    await approve(gapsTask);
    const measuresTask = await openStep('rectify-measures');
    await fitsPhone(clerk, rectPage, 'rectification-measures-step');
    const due = formatIsoOffset(Date.now() + 5 * 86_400_000, TZ).slice(0, 10);
    const badMeasures = await clerk.json(`/api${rectPage}/step`, {
      data: {
        measures: [
          { problem: 1, measure: '推行电子营业执照', unit: 'scjgj', person: 'swj-staff1', due },
        ],
      },
    });
    expect(badMeasures.status).toBe(422);
    expect(((await badMeasures.json()) as { fields: Record<string, string> }).fields).toEqual({
      measures: '问题 2 还没有填写整改措施：每个问题都要有。',
      'measures.0.person': '黄填报员不在县市场监督管理局，责任人须是责任单位的人员。',
    });
    const measures = await clerk.json(`/api${rectPage}/step`, {
      data: {
        measures: [
          { problem: 1, measure: '推行电子营业执照', unit: 'scjgj', person: 'scjgj-staff1', due },
          { problem: 2, measure: '开户社保并联办理', unit: 'swj', person: 'swj-staff1', due },
        ],
      },
    });
    expect(measures.status, await measures.clone().text()).toBe(200);
    await approve(measuresTask);
    await until('the measures under way', async () => {
      const s = await rectStatus();
      return s.state === 'measures' && s.measures.length === 2 ? true : undefined;
    });
    await until('the plan in the projection', async () => {
      const r = await q<{ state: string }>(
        `SELECT state FROM rectifications WHERE campaign_id = $1 AND code = 'kbqy'`,
        id,
      );
      return r[0]?.state === 'measures' ? true : undefined;
    });

    // The clerk may not add a measure; the bureau's form names each wrong field.
    const notYours = await clerk.json(`/api${rectPage}/measures`, {
      problem: 1,
      measure: '补充措施',
      unit: 'scjgj',
      person: 'scjgj-staff1',
      due,
      reason: '拆分',
    });
    expect(notYours.status).toBe(409);
    const coordPage = await coord.page(rectPage);
    expect(coordPage.text).toContain('data-testid="measure-form"');
    expect(coordPage.text).not.toContain('data-testid="step-form"');
    const badAdd = await coord.form(`${rectPage}/measures`, {
      problem: '3',
      measure: '',
      unit: 'scjgj',
      person: 'swj-staff1',
      due: 'next week',
      reason: '',
    });
    expect(badAdd.status).toBe(422);
    const badAddText = await badAdd.text();
    expect(fieldError(badAddText, 'problem')).toBe('请选择对应的问题（共 2 个）。');
    expect(fieldError(badAddText, 'measure')).toBe('请写明措施内容。');
    expect(fieldError(badAddText, 'person')).toBe(
      '黄填报员不在县市场监督管理局，责任人须是责任单位的人员。',
    );
    expect(fieldError(badAddText, 'due')).toMatch(/^完成时限须为日期/);
    expect(fieldError(badAddText, 'reason')).toMatch(/^请写明增加该措施的原因/);
    expect((await rectStatus()).measures).toHaveLength(2);

    const added = await coord.form(`${rectPage}/measures`, {
      problem: '1',
      measure: '电子营业执照跨部门互认',
      unit: 'scjgj',
      person: 'scjgj-staff2',
      due,
      reason: '拆分措施 1：互认另行推进',
      actor: 'scjgj-staff1',
    });
    expect(added.status, await added.clone().text()).toBe(303);
    const item = await until('the added measure in PostgreSQL', async () => {
      const r = await q<{ no: number; added_by: string; added_reason: string; person: string }>(
        `SELECT no, added_by, added_reason, person FROM rectification_items
          WHERE campaign_id = $1 AND code = 'kbqy' AND measure = $2`,
        id,
        '电子营业执照跨部门互认',
      );
      return r[0];
    });
    expect(item).toEqual({
      no: 3,
      added_by: 'spj-coord',
      added_reason: '拆分措施 1：互认另行推进',
      person: 'scjgj-staff2',
    });
    const ledger = await until('the measure in the ledger', async () => {
      const r = await coord.fetch(`/api${base()}/ledger`);
      const rows = (await r.json()) as { measure: string; unit: string; person: string }[];
      return rows.length === 3 ? rows : undefined;
    });
    expect(ledger.map((r) => r.measure)).toContain('电子营业执照跨部门互认');
    const detail = (await (await coord.fetch(`/api${rectPage}`)).json()) as {
      state: string;
      measuresList: { no: number; addedBy: string | null }[];
    };
    expect(detail.state).toBe('measures');
    expect(detail.measuresList.map((m) => [m.no, m.addedBy])).toEqual([
      [1, null],
      [2, null],
      [3, 'spj-coord'],
    ]);
    await fitsPhone(coord, rectPage, 'rectification-measures');
    await fitsPhone(coord, base(), 'board-rectification');
    const ledgerPage = await coord.page(`${base()}/ledger`);
    expect(ledgerPage.text).toContain('电子营业执照跨部门互认');

    // The English page, on request; the document lists every new route.
    const en = await coord.page(`${rectPage}?lang=en`);
    expect(en.text).toContain('Add a measure');
    expect(en.text).toContain('measures under way');
    const doc = (await (await new Agent().fetch('/api/openapi.json')).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    for (const [path, method] of [
      ['/api/campaigns/{campaignId}/verification', 'get'],
      ['/api/campaigns/{campaignId}/verification/{code}/verify', 'post'],
      ['/api/campaigns/{campaignId}/verification/{code}/evidence', 'post'],
      ['/api/campaigns/{campaignId}/rectification', 'get'],
      ['/api/campaigns/{campaignId}/rectification/{code}', 'get'],
      ['/api/campaigns/{campaignId}/rectification/{code}/step', 'post'],
      ['/api/campaigns/{campaignId}/rectification/{code}/measures', 'post'],
    ] as const)
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
  }, 300_000);
});
