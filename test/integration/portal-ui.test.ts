// The department portal in a real browser (headless Chromium from the system, never
// downloaded): a clerk accepts an invitation and sets a password, sees only their unit's tasks,
// fills a questionnaire (a wrong value is named beside its field and nothing is sent), uploads
// two evidence files and submits; the coordinator returns it with a reason; the clerk sees the
// reason and resubmits; the coordinator approves. The Temporal history and `task show` name the
// clerk and the coordinator as the actors; a clerk of another unit gets 404 for the task's page,
// its API and its evidence. Screenshots at 1366 and 390 px into .artifacts/screenshots.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taskViewQuery } from '../../domain/messages.ts';
import { formatIsoOffset } from '../../domain/time.ts';
import { REPO_ROOT } from '../../scripts/lib/tools.ts';
import { runCli } from '../helpers/cli.ts';
import { startPortal, withCampaignId, type TestPortal } from '../helpers/portal.ts';
import { startHarness, type Harness } from '../helpers/temporal.ts';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(REPO_ROOT, '.artifacts', 'screenshots');
const id = `ui-${Date.now().toString(36)}`;
const dir = mkdtempSync(join(tmpdir(), 'portal-ui-'));
const file = join(dir, 'campaign.yaml');
const PASSWORD = '填报员的密码 2026';

let harness: Harness;
let portal: TestPortal;
let browser: Browser | undefined;
let cliEnv: NodeJS.ProcessEnv;

const cli = (...args: string[]) => runCli(args, cliEnv);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: this test drives the system's Chromium. Install it with ` +
        '`apt-get install chromium` (CI does so through scripts/ci-system-packages.sh).',
    );
  }
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, tries = 240): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await sleep(250);
  }
  throw new Error(`gave up waiting for ${what}`);
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) return;
  mkdirSync(SHOTS, { recursive: true });
  writeFileSync(
    file,
    withCampaignId(readFileSync(join(REPO_ROOT, 'examples', 'quick-demo.yaml'), 'utf8'), id),
  );
  [harness, browser] = await Promise.all([
    startHarness('dev'),
    chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }),
  ]);
  portal = await startPortal(harness);
  cliEnv = {
    TEMPORAL_ADDRESS: harness.env.address,
    DATABASE_URL: harness.db.url,
    TEMPORAL_TASK_QUEUE: harness.taskQueue,
    PORTAL_PUBLIC_URL: portal.url,
  };
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

async function inviteLink(person: string): Promise<string> {
  const out = join(dir, `invites-${person}.csv`);
  const r = await cli(
    'accounts',
    'invite',
    id,
    '--person',
    person,
    '--as',
    'spj-coord',
    '--out',
    out,
  );
  expect(r.code, r.stderr).toBe(0);
  const csv = readFileSync(out, 'utf8');
  const link = /(http:\/\/\S+\/invite\/[\w-]+)/.exec(csv)?.[1];
  expect(link, csv).toBeDefined();
  return link!;
}

/** A browser context of its own (cookies apart) for a person at a width. */
async function personAt(width: number): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await browser!.newContext({
    viewport: { width, height: width > 800 ? 900 : 844 },
    deviceScaleFactor: 1,
    locale: 'zh-CN',
  });
  const page = await ctx.newPage();
  page.setDefaultTimeout(30_000);
  return { ctx, page };
}

async function acceptInvitation(page: Page, link: string, password = PASSWORD): Promise<void> {
  await page.goto(link);
  await page.fill('#password', password);
  await page.fill('#confirm', password);
  await page.click('button[type=submit]');
  await page.waitForURL(/\/tasks$/);
}

async function shoot(page: Page, name: string): Promise<void> {
  for (const width of [1366, 390]) {
    await page.setViewportSize({ width, height: width > 800 ? 900 : 844 });
    await page.screenshot({ path: join(SHOTS, `portal-${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1366, height: 900 });
}

/** The actors of the task's accepted updates, from its Temporal history. */
async function historyActors(taskId: string): Promise<{ update: string; actor: string }[]> {
  const history = await harness.env.client.workflow.getHandle(taskId).fetchHistory();
  return history
    .events!.map((e) => e.workflowExecutionUpdateAcceptedEventAttributes)
    .filter((a) => !!a)
    .map((a) => ({
      update: a!.acceptedRequest!.input!.name!,
      actor: defaultPayloadConverter.fromPayload<{ actor: string }>(
        a!.acceptedRequest!.input!.args!.payloads![0]!,
      ).actor,
    }));
}

const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
);
// A 1×1 PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

describe('the department portal, as the clerk and the coordinator use it', () => {
  it('takes a questionnaire from invitation to approval, with the people as the actors', async () => {
    requireChromium();
    const started = await cli('start', file, '--begin', 'now', '--as', 'spj-coord', '--json');
    expect(started.code, started.stderr).toBe(0);
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
      '开办企业 数据填报',
      '--kind',
      'questionnaire',
      '--indicator',
      'kbqy',
      '--key',
      'portal',
      '--evidence',
      '--as',
      'spj-coord',
      '--json',
      '--due',
      formatIsoOffset(Date.now() + 3 * 86_400_000, 'Asia/Shanghai').slice(0, 19),
    );
    expect(created.code, created.stderr).toBe(0);
    const taskId = created.json<{ taskId: string }>().taskId;
    await until('the task and the training tasks in PostgreSQL', async () => {
      const r = await harness.db.pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM tasks WHERE campaign_id = $1`,
        [id],
      );
      return Number(r.rows[0]!.n) >= 11 ? true : undefined;
    });

    // The clerk accepts the invitation: a too-short password is refused beside the field.
    const clerk = await personAt(1366);
    await clerk.page.goto(await inviteLink('scjgj-staff1'));
    await clerk.page.fill('#password', 'short');
    await clerk.page.fill('#confirm', 'short');
    await clerk.page.click('button[type=submit]');
    await expect(clerk.page.locator('.field.invalid .error').innerText()).resolves.toContain(
      '至少 10 个字符',
    );
    await clerk.page.fill('#password', PASSWORD);
    await clerk.page.fill('#confirm', PASSWORD);
    await clerk.page.click('button[type=submit]');
    await clerk.page.waitForURL(/\/tasks$/);
    await expect(clerk.page.locator('h1').innerText()).resolves.toBe('我的待办');

    // Only the unit's tasks, every one of them.
    const listed = (
      await clerk.page
        .locator('tr[data-task]')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-task') ?? ''))
    ).sort();
    const unitTasks = (
      await harness.db.pool.query<{ task_id: string }>(
        `SELECT task_id FROM tasks WHERE campaign_id = $1 AND unit_id = 'scjgj' AND state IN ('open','submitted','returned')`,
        [id],
      )
    ).rows
      .map((r) => r.task_id)
      .sort();
    expect(listed).toEqual(unitTasks);
    expect(listed).toContain(taskId);
    const others = await harness.db.pool.query(
      `SELECT 1 FROM tasks WHERE campaign_id = $1 AND unit_id <> 'scjgj'`,
      [id],
    );
    expect(others.rowCount).toBeGreaterThan(0);
    await shoot(clerk.page, 'my-tasks');

    // The questionnaire: a wrong value is named beside its field, and nothing reaches the task.
    await clerk.page.click(`tr[data-task="${taskId}"] a`);
    await clerk.page.waitForURL(/\/tasks\/.+/);
    const eventsBefore = (await harness.env.client.workflow.getHandle(taskId).query(taskViewQuery))
      .eventCount;
    await clerk.page.fill('#field-procedures', '-1');
    await clerk.page.fill('#field-days', '3.5');
    await clerk.page.fill('#field-onlineRate', '95');
    await clerk.page.click('#submit');
    await clerk.page.waitForLoadState();
    const procedures = clerk.page.locator('[data-field="procedures"]');
    await expect(procedures.locator('.error').innerText()).resolves.toBe(
      '办理环节不得小于 0（填写的是 -1）',
    );
    await expect(clerk.page.locator('[data-field="days"] .error').count()).resolves.toBe(0);
    await expect(clerk.page.locator('#field-days').inputValue()).resolves.toBe('3.5');
    await shoot(clerk.page, 'field-error');
    const viewAfter = await harness.env.client.workflow.getHandle(taskId).query(taskViewQuery);
    expect(viewAfter.state).toBe('open');
    expect(viewAfter.eventCount).toBe(eventsBefore);
    expect(await historyActors(taskId)).toEqual([]);

    // Two evidence files, then the submission.
    await clerk.page.setInputFiles('#files', [
      { name: '政策文件.pdf', mimeType: 'application/pdf', buffer: PDF },
      { name: '办件记录截图.png', mimeType: 'image/png', buffer: PNG },
    ]);
    await clerk.page.click('form[enctype="multipart/form-data"] button');
    await clerk.page.waitForURL(/done=uploaded/);
    await expect(clerk.page.locator('ul.evidence li').count()).resolves.toBe(2);
    await clerk.page.fill('#field-procedures', '4');
    await clerk.page.fill('#field-days', '3.5');
    await clerk.page.fill('#field-onlineRate', '95');
    await clerk.page.fill('#note', '按统一口径填报');
    await clerk.page.click('#submit');
    await clerk.page.waitForURL(/done=submitted/);
    await expect(clerk.page.getByTestId('state').innerText()).resolves.toContain('已提交待审核');

    // The coordinator: the review queue, then a return with a reason.
    const coord = await personAt(1366);
    await acceptInvitation(coord.page, await inviteLink('spj-coord'), '协调人的密码 2026');
    await coord.page.goto(`${portal.url}/review`);
    await expect(coord.page.locator(`tr[data-task="${taskId}"]`).count()).resolves.toBe(1);
    await shoot(coord.page, 'review-queue');
    await coord.page.click(`tr[data-task="${taskId}"] a`);
    await expect(coord.page.locator('[data-field="onlineRate"]').innerText()).resolves.toBe('95');
    const reason = '网办率口径与统一填报尺度不一致，请按全流程网办件数重算';
    await coord.page.fill('#reason', reason);
    await coord.page.click('#return');
    await coord.page.waitForURL(/done=returned/);

    // The clerk sees the reason and submits again, with the values kept from last time.
    await clerk.page.goto(`${portal.url}/tasks/${encodeURIComponent(taskId)}`);
    await expect(clerk.page.getByTestId('return-reason').innerText()).resolves.toContain(reason);
    await expect(clerk.page.locator('#field-procedures').inputValue()).resolves.toBe('4');
    await shoot(clerk.page, 'returned');
    await clerk.page.fill('#field-onlineRate', '88.5');
    await clerk.page.click('#submit');
    await clerk.page.waitForURL(/done=submitted/);

    // The coordinator sees what changed, and approves.
    await coord.page.goto(`${portal.url}/tasks/${encodeURIComponent(taskId)}`);
    await expect(coord.page.locator('ul.changes').innerText()).resolves.toBe('网办率：95 → 88.5');
    await shoot(coord.page, 'review-task');
    await coord.page.click('#approve');
    await coord.page.waitForURL(/done=approved/);
    await expect(coord.page.getByTestId('state').innerText()).resolves.toContain('已完成');
    await shoot(coord.page, 'approved');

    // The board, and an API token issued on the tokens page (shown once, then listed).
    await coord.page.goto(`${portal.url}/campaigns/${id}`);
    await shoot(coord.page, 'board');
    await coord.page.goto(`${portal.url}/campaigns/${id}/tokens`);
    await coord.page.fill('#name', '市场监管业务系统（数据对接）');
    await coord.page.selectOption('#unit', 'scjgj');
    await coord.page.selectOption('#person', 'scjgj-staff1');
    await coord.page.click('form[action$="/tokens"] button[type=submit]');
    await expect(coord.page.getByTestId('new-token').innerText()).resolves.toMatch(/^cct_/);
    await shoot(coord.page, 'tokens');

    // The actors: in the Temporal history and in `task show`.
    expect(await historyActors(taskId)).toEqual([
      { update: 'submit', actor: 'scjgj-staff1' },
      { update: 'return', actor: 'spj-coord' },
      { update: 'submit', actor: 'scjgj-staff1' },
      { update: 'approve', actor: 'spj-coord' },
    ]);
    const shown = await until('the approval in the projection', async () => {
      const r = await cli('task', 'show', taskId, '--json');
      const doc = r.json<{
        state: string;
        events: { type: string; actor: string | null; detail: { evidence?: string[] } }[];
      }>();
      return doc.state === 'done' ? doc : undefined;
    });
    const acts = shown.events.filter((e) => ['submitted', 'returned', 'approved'].includes(e.type));
    expect(acts.map((e) => `${e.type}:${e.actor}`)).toEqual([
      'submitted:scjgj-staff1',
      'returned:spj-coord',
      'submitted:scjgj-staff1',
      'approved:spj-coord',
    ]);
    // The history names the files by id, name, size and hash, never their content.
    const evidence = acts[0]!.detail.evidence ?? [];
    expect(evidence).toHaveLength(2);
    expect(evidence[0]).toMatch(
      /^portal-evidence:[0-9a-f-]{36} 政策文件\.pdf \(\d+ bytes, sha256:[0-9a-f]{64}\)$/,
    );

    // A clerk of another unit: 404 for the page, the API and the evidence.
    const fileId = /^portal-evidence:(\S+)/.exec(evidence[0]!)![1]!;
    await expect(
      clerk.page.request.get(`${portal.url}/evidence/${fileId}`).then((r) => r.status()),
    ).resolves.toBe(200);
    const other = await personAt(390);
    await acceptInvitation(other.page, await inviteLink('swj-staff1'), '税务填报员密码 2026');
    const page = await other.page.goto(`${portal.url}/tasks/${encodeURIComponent(taskId)}`);
    expect(page?.status()).toBe(404);
    await expect(other.page.locator('body').innerText()).resolves.not.toContain(
      '开办企业 数据填报',
    );
    await shoot(other.page, 'other-unit-404');
    for (const url of [
      `/api/tasks/${encodeURIComponent(taskId)}`,
      `/evidence/${fileId}`,
      `/api/evidence/${fileId}`,
    ]) {
      const r = await other.page.request.get(`${portal.url}${url}`);
      expect(`${url} → ${r.status()}`).toBe(`${url} → 404`);
    }
    const me = await other.page.request.get(`${portal.url}/api/me`);
    const csrf = ((await me.json()) as { csrfToken: string }).csrfToken;
    const post = await other.page.request.post(
      `${portal.url}/api/tasks/${encodeURIComponent(taskId)}/submit`,
      {
        headers: { 'x-csrf-token': csrf },
        data: { data: { procedures: 1 } },
      },
    );
    expect(post.status()).toBe(404);
    // The English interface, on request.
    await other.page.goto(`${portal.url}/tasks?lang=en`);
    await expect(other.page.locator('h1').innerText()).resolves.toBe('My tasks');
    await shoot(other.page, 'my-tasks-en');
    for (const p of [clerk, coord, other]) await p.ctx.close();
  });
});
