// The auditor's view, checked in a real browser: the dev server's Web UI lists a campaign's
// training tasks when filtered by our search attributes (and nothing else: not another
// campaign's, not another kind's, not the campaign and indicator workflows themselves), and a
// task's page shows the summary, details and current details our workflow code writes.
// Headless Chromium from the system (never downloaded); screenshots go to .artifacts/screenshots.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskInput } from '../../domain/task.ts';
import { taskViewQuery } from '../../domain/messages.ts';
import { taskStartOptions } from '../../domain/task-start.ts';
import { describeTask } from '../../domain/task-text.ts';
import { formatIsoOffset } from '../../domain/time.ts';
import { REPO_ROOT } from '../../scripts/lib/tools.ts';
import { runCli } from '../helpers/cli.ts';
import { startHarness, type Harness } from '../helpers/temporal.ts';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(REPO_ROOT, '.artifacts', 'screenshots');
const id = `ui-${Date.now().toString(36)}`;
const dir = mkdtempSync(join(tmpdir(), 'audit-ui-'));

let harness: Harness;
let cliEnv: NodeJS.ProcessEnv;
let browser: Browser | undefined;

/** Fails (never skips) without the browser, saying how to install it. */
function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: this test drives the system's Chromium. Install it with ` +
        '`apt-get install chromium` (`npm test` does so through scripts/lib/system-packages.ts).',
    );
  }
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) return; // the test itself fails with the install hint
  mkdirSync(SHOTS, { recursive: true });
  // The same example under this campaign's id, for an ad-hoc task of another kind in it.
  writeFileSync(
    join(dir, 'same-campaign.yaml'),
    readFileSync(join(REPO_ROOT, 'examples', 'quick-demo.yaml'), 'utf8').replace(
      /^ {2}id: demo-2026$/m,
      `  id: ${id}`,
    ),
  );
  [harness, browser] = await Promise.all([
    startHarness('dev', { ui: true }),
    chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }),
  ]);
  cliEnv = {
    TEMPORAL_ADDRESS: harness.env.address,
    DATABASE_URL: harness.db.url,
    TEMPORAL_TASK_QUEUE: harness.taskQueue,
  };
});

afterAll(async () => {
  await browser?.close();
  await harness?.env.client.workflow
    .getHandle(id)
    .terminate('test done')
    .catch(() => {});
  await harness?.close();
});

const cli = (...args: string[]) => runCli(args, cliEnv);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

/** Raises an ad-hoc task through the CLI; returns its workflow id. */
async function createTask(file: string, kind: string, extra: string[] = []): Promise<string> {
  const r = await cli(
    'task',
    'create',
    '--file',
    file,
    '--unit',
    'scjgj',
    '--assignee',
    'scjgj-staff1',
    '--title',
    `对照事项 ${kind}`,
    '--due',
    formatIsoOffset(Date.now() + 3_600_000, 'Asia/Shanghai').slice(0, 19),
    '--as',
    'spj-coord',
    '--kind',
    kind,
    '--key',
    `control-${kind}`,
    ...extra,
    '--json',
  );
  expect(r.code, r.stderr).toBe(0);
  return r.json<{ workflowId: string }>().workflowId;
}

/** The workflow ids in the list's rows (decoded from their links). */
async function listedIds(page: Page): Promise<string[]> {
  const hrefs = await page
    .locator('tr[data-testid="workflows-summary-configurable-table-row"] a[href$="/history"]')
    .evaluateAll((as) => as.map((a) => a.getAttribute('href') ?? ''));
  const ids = hrefs.map((h) => decodeURIComponent(h.split('/')[4] ?? ''));
  return [...new Set(ids)].sort();
}

/** The text rendered in the iframe under a heading of the user-metadata tab. */
async function sectionText(page: Page, heading: string, expected: string): Promise<string> {
  const frame = page.locator(
    `xpath=//h3[normalize-space()="${heading}"]/ancestor::div[contains(@class,"surface-information")][1]/following-sibling::*[1]//iframe`,
  );
  await frame.waitFor({ state: 'visible', timeout: 30_000 });
  const body = frame.contentFrame().locator('body');
  let text = '';
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(250)) {
    text = squash(await body.innerText({ timeout: 30_000 }));
    if (text.includes(squash(expected))) break;
  }
  return text;
}

describe('the Temporal UI, as an auditor sees it', () => {
  it("lists a campaign's training tasks by search attributes and shows a task's summary and details", async () => {
    requireChromium();
    const started = await cli(
      'start',
      'examples/quick-demo.yaml',
      '--id',
      id,
      '--begin',
      'now',
      '--as',
      'spj-coord',
      '--json',
    );
    expect(started.code, started.stderr).toBe(0);
    // Controls that the filter must leave out: the same kind in another campaign (the
    // example's own id, running too: tasks are raised in a running campaign), and another kind
    // in this campaign.
    const other = await cli(
      'start',
      'examples/quick-demo.yaml',
      '--begin',
      'now',
      '--as',
      'spj-coord',
    );
    expect(other.code, other.stderr).toBe(0);
    const [otherCampaign, otherKind] = await Promise.all([
      createTask('examples/quick-demo.yaml', 'training'),
      createTask(join(dir, 'same-campaign.yaml'), 'questionnaire', ['--indicator', 'kbqy']),
    ]);
    expect(otherCampaign.startsWith('demo-2026/')).toBe(true);
    expect(otherKind.startsWith(`${id}/kbqy/questionnaire/`)).toBe(true);

    let training: string[] = [];
    for (let i = 0; i < 120 && training.length < 10; i++) {
      if (i) await sleep(250);
      const r = await cli('tasks', id, '--json');
      if (r.code === 0) {
        training = r
          .json<{ taskId: string; kind: string }[]>()
          .filter((t) => t.kind === 'training')
          .map((t) => t.taskId);
      }
    }
    training.sort();
    expect(training).toHaveLength(10);

    // The list, filtered as an auditor would type it; visibility may lag a moment: reload.
    const page = await browser!.newPage({ viewport: { width: 1600, height: 1000 } });
    page.setDefaultTimeout(30_000);
    const query = `CampaignId="${id}" AND TaskKind="training"`;
    const listUrl = `${harness.uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`;
    let listed: string[] = [];
    for (const deadline = Date.now() + 40_000; Date.now() < deadline;) {
      await page.goto(listUrl);
      await page
        .locator('tr[data-testid="workflows-summary-configurable-table-row"]')
        .first()
        .waitFor({ timeout: 15_000 })
        .catch(() => {});
      listed = await listedIds(page);
      if (listed.length >= training.length) break;
      await sleep(1_000);
    }
    const listShot = join(SHOTS, 'audit-ui-list.png');
    await page.screenshot({ path: listShot, fullPage: true });
    expect(listed).toEqual(training);
    // The controls are indexed, so it is the filter that leaves them out.
    const visible = async (q: string) => {
      const ids: string[] = [];
      for await (const w of harness.env.client.workflow.list({ query: q })) ids.push(w.workflowId);
      return ids;
    };
    expect(await visible('TaskKind="training"')).toContain(otherCampaign);
    expect(await visible(`CampaignId="${id}"`)).toEqual(
      expect.arrayContaining([otherKind, id, `${id}/kbqy`]),
    );
    for (const absent of [otherCampaign, otherKind, id, `${id}/kbqy`]) {
      expect(listed).not.toContain(absent);
      await expect(page.locator('table').getByText(absent, { exact: true }).count()).resolves.toBe(
        0,
      );
    }
    await expect(page.getByTestId('workflow-count').innerText()).resolves.toBe(
      String(training.length),
    );
    // The query shows as filter chips: CampaignId = "<id>", TaskKind = "training".
    const chips = squash(
      (await page.locator('button', { hasText: /CampaignId|TaskKind/ }).allInnerTexts()).join(
        ' | ',
      ),
    );
    expect(chips).toContain(`CampaignId = "${id}"`);
    expect(chips).toContain('TaskKind = "training"');

    // One task, reached by clicking its row, then its User Metadata tab.
    const taskId = `${id}/kbqy/training/scjgj/scjgj-staff1`;
    expect(training).toContain(taskId);
    await page.getByRole('link', { name: taskId, exact: true }).click();
    await page.waitForURL(/\/history$/);
    expect(decodeURIComponent(new URL(page.url()).pathname)).toContain(`/workflows/${taskId}/`);
    await page.getByTestId('user-metadata-tab').click();
    await page.waitForURL(/\/user-metadata$/);

    // What the product writes: the start options' summary and details, and the current
    // details the workflow derives from its view.
    const handle = harness.env.client.workflow.getHandle(taskId);
    const history = await handle.fetchHistory();
    const payload =
      history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    const input = defaultPayloadConverter.fromPayload<TaskInput>(payload);
    const { staticSummary, staticDetails } = taskStartOptions(input);
    const current = describeTask(await handle.query(taskViewQuery), input.calendar.timeZone);
    expect(staticSummary).toBe('督办事项：开办企业 填报培训（刘填报员）（scjgj）');
    expect(current).toContain('「开办企业 填报培训（刘填报员）」由 scjgj 的 scjgj-staff1 承办');
    expect(current).toMatch(/办理中.*绿灯/);

    const shown = {
      summary: await sectionText(page, 'Summary', staticSummary),
      details: await sectionText(page, 'Details', staticDetails),
      current: await sectionText(page, 'Current Details', current),
    };
    await expect(page.locator('h1').first().innerText()).resolves.toContain(taskId);
    const taskShot = join(SHOTS, 'audit-ui-task.png');
    await page.screenshot({ path: taskShot, fullPage: true });
    console.log(`screenshots:\n  ${listShot}\n  ${taskShot}`);

    expect(shown.summary).toBe(squash(staticSummary));
    expect(shown.details).toBe(squash(staticDetails));
    expect(shown.current).toBe(squash(current));
    await page.close();
  });
});
