// The auditor's view of encrypted payloads, in a real browser: the Temporal UI server (the
// standalone 2.42.1, configured as services:start configures it) is pointed at the codec
// endpoint with credentials included; a browser that signed in at the codec endpoint's
// /codec/sign-in reads a task's input decoded on its workflow page, a browser that did not is
// refused by the endpoint and sees the encrypted payload only. Headless Chromium from the system
// (never downloaded); screenshots go to .artifacts/screenshots.
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR } from '../../domain/time.ts';
import { uiServerCodecYaml } from '../../scripts/lib/ui-codec.ts';
import { spawnGuarded } from '../../scripts/lib/guard.ts';
import { ensureUiServer, REPO_ROOT } from '../../scripts/lib/tools.ts';
import { EncryptionCodec, newCodecKey, parseCodecKeys } from '../../worker/codec.ts';
import { CODEC_SESSION_COOKIE, startCodecServer } from '../../worker/codec-server.ts';
import { startTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { startBoundMs } from '../helpers/servers.ts';
import { startTaskAsChild } from '../helpers/start-task.ts';
import {
  demoFixture,
  recordFixtureCampaign,
  taskInput,
  type Fixture,
} from '../helpers/task-fixture.ts';
import {
  bundleWorkflows,
  devServerEnv,
  freePort,
  runWorker,
  type RunningWorker,
} from '../helpers/temporal.ts';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(REPO_ROOT, '.artifacts', 'screenshots');
const PHONE = '13987654321';
const TOKEN = `t-${randomUUID()}`;
const ENCRYPTED_B64 = Buffer.from('binary/encrypted').toString('base64');

let env: TestWorkflowEnvironment;
let db: TestDatabase;
let worker: RunningWorker;
let client: Client;
let fx: Fixture;
let codecServer: Awaited<ReturnType<typeof startCodecServer>> | undefined;
let ui: ChildProcess | undefined;
let uiOutput: string[] = [];
let browser: Browser | undefined;
let uiUrl: string;
let devUiUrl: string;
let codecUrl: string;
const dir = mkdtempSync(join(tmpdir(), 'codec-ui-'));

/** Fails (never skips) without the browser, saying how to install it. */
function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: this test drives the system's Chromium. Install it with ` +
        '`apt-get install chromium` (`npm test` does so through scripts/lib/system-packages.ts).',
    );
  }
}

/** The UI server on `port`, talking to `grpc`, decoding through `endpoint`; waits for /healthz. */
async function startUiServer(bin: string, port: number, grpc: string, endpoint: string) {
  mkdirSync(join(dir, 'ui', 'config'), { recursive: true });
  writeFileSync(
    join(dir, 'ui', 'config', 'test.yaml'),
    `temporalGrpcAddress: ${JSON.stringify(grpc)}
host: "127.0.0.1"
port: ${port}
enableUi: true
defaultNamespace: "default"
${uiServerCodecYaml(endpoint)}`,
  );
  const child = spawnGuarded(
    bin,
    ['--root', join(dir, 'ui'), '--config', 'config', '--env', 'test', 'start'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  ui = child;
  const keep = (b: Buffer) => {
    uiOutput.push(...b.toString().split('\n').filter(Boolean));
    uiOutput = uiOutput.slice(-20);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const deadline = Date.now() + startBoundMs();
  while (Date.now() < deadline && child.exitCode === null) {
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`, {
      signal: AbortSignal.timeout(2000),
    })
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    await sleep(250);
  }
  throw new Error(
    `the Temporal UI server (${bin}) did not answer on port ${port}` +
      (child.exitCode !== null ? ` (it exited with code ${child.exitCode})` : '') +
      `\nits last output:\n${uiOutput.join('\n')}`,
  );
}

async function stopUiServer(): Promise<void> {
  const child = ui;
  if (!child || child.pid === undefined || child.exitCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  process.kill(-child.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
  }, 5_000);
  await gone;
  clearTimeout(timer);
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) return; // the test itself fails with the install hint
  mkdirSync(SHOTS, { recursive: true });
  const key = newCodecKey('k-ui');
  const codec = new EncryptionCodec(parseCodecKeys(key, 'test'));
  const [uiPort, devUiPort] = await Promise.all([freePort(), freePort()]);
  // The auditor opens the UI by the name the local services print (localhost), and the
  // endpoint is reached by the same name: the session cookie is SameSite=Strict.
  uiUrl = `http://localhost:${uiPort}`;
  devUiUrl = `http://localhost:${devUiPort}`;
  codecServer = await startCodecServer({
    codec,
    tokens: [TOKEN],
    corsOrigins: [uiUrl, devUiUrl],
    port: 0,
  });
  codecUrl = codecServer.url.replace('127.0.0.1', 'localhost');
  let bundle, uiBin;
  [env, db, bundle, fx, uiBin, browser] = await Promise.all([
    // The dev server's own UI, pointed at the endpoint as services:start points it.
    devServerEnv({ uiPort: devUiPort, extraArgs: ['--ui-codec-endpoint', `${codecUrl}/codec`] }),
    startTestDatabase(),
    bundleWorkflows({ withTestParents: true }),
    demoFixture(),
    ensureUiServer(),
    chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }),
  ]);
  const address = (env.connection as unknown as { options: { address: string } }).options.address;
  await Promise.all([
    recordFixtureCampaign(db.pool, fx),
    startUiServer(uiBin, uiPort, address, `${codecUrl}/codec`),
  ]);
  worker = await runWorker(env, db.pool, bundle, { dataConverter: { payloadCodecs: [codec] } });
  client = new Client({
    connection: env.connection,
    namespace: 'default',
    dataConverter: { payloadCodecs: [codec] },
  });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await stopUiServer();
  await codecServer?.close();
  await worker?.stop();
  await env?.teardown();
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The codec endpoint's answers to the page's decode requests, by status. */
function watchDecodes(page: Page): number[] {
  const statuses: number[] = [];
  page.on('response', (r) => {
    if (r.url() === `${codecUrl}/codec/decode` && r.request().method() === 'POST')
      statuses.push(r.status());
  });
  return statuses;
}

/** Polls the page's text until `done` says so (bounded); returns the last text. */
async function textWhen(page: Page, done: (text: string) => boolean): Promise<string> {
  let text = '';
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(250)) {
    text = await page
      .locator('body')
      .innerText({ timeout: 10_000 })
      .catch(() => '');
    if (done(text)) break;
  }
  return text;
}

/** A task whose input holds a phone number and a title of this run only; its page's path. */
async function startTask() {
  const input = taskInput(fx, Date.now() + 2 * HOUR);
  input.instructions = `请联系 ${PHONE} 取得填报指引`;
  // A title of this run only: in the input and in the static summary, both encrypted.
  input.title = `开办企业 问卷填报 ${randomUUID().slice(0, 8)}`;
  const handle = await startTaskAsChild(client, input, { taskQueue: worker.taskQueue });
  const { runId } = await handle.describe();
  return {
    input,
    handle,
    titleLine: `"title": "${input.title}"`,
    path: `/namespaces/default/workflows/${encodeURIComponent(input.taskId)}/${runId}/history`,
  };
}

/** Signs in at the codec endpoint's form; returns the page showing the answer. */
async function signIn(context: BrowserContext, token: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${codecUrl}/codec/sign-in`);
  const status = page.locator('#status');
  const asked = await status.innerText();
  await page.locator('input[name="token"]').fill(token);
  await Promise.all([
    page.waitForResponse(
      (r) => r.url().endsWith('/codec/sign-in') && r.request().method() === 'POST',
    ),
    page.locator('button[type="submit"]').click(),
  ]);
  // The answer is a new page: wait until its status replaced the form's.
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(100)) {
    const now = await status.innerText().catch(() => asked);
    if (now !== asked) break;
  }
  return page;
}

/** Waits (bounded) until the page has had an answer to a decode request. */
async function someDecode(statuses: number[]): Promise<void> {
  for (const deadline = Date.now() + 60_000; Date.now() < deadline && !statuses.length;)
    await sleep(100);
}

describe('the Temporal UI with the codec endpoint', () => {
  it("shows a task's input decoded to a browser signed in at the codec endpoint, and encrypted to one that is not", async () => {
    requireChromium();
    const { input, handle: h, titleLine, path } = await startTask();
    const taskUrl = `${uiUrl}${path}`;

    // A wrong token is refused and sets no cookie.
    const stranger = await browser!.newContext({ viewport: { width: 1600, height: 1000 } });
    const refused = await signIn(stranger, 'not-the-token');
    await expect(refused.locator('#status').innerText()).resolves.toContain('令牌无效');
    expect(await stranger.cookies(`${codecUrl}/codec/decode`)).toEqual([]);

    // Without a sign-in: the endpoint refuses the UI's decode, the page shows the encrypted
    // payload (its metadata and ciphertext in base64) and not the phone number.
    const plain = await stranger.newPage();
    const plainDecodes = watchDecodes(plain);
    await plain.goto(taskUrl);
    await someDecode(plainDecodes);
    const encryptedText = await textWhen(
      plain,
      (t) => t.includes(ENCRYPTED_B64) || t.includes('binary/encrypted'),
    );
    const encryptedShot = join(SHOTS, 'codec-ui-encrypted.png');
    await plain.screenshot({ path: encryptedShot, fullPage: true });
    expect(plainDecodes.length, encryptedText).toBeGreaterThan(0);
    expect(new Set(plainDecodes)).toEqual(new Set([401]));
    expect(encryptedText).toMatch(new RegExp(`${ENCRYPTED_B64}|binary/encrypted`));
    for (const clear of [PHONE, '取得填报指引', input.title, '"assignee"', '"taskId"'])
      expect(encryptedText, clear).not.toContain(clear);

    // Signed in at the codec endpoint: an HTTP-only, SameSite=Strict session cookie, which
    // the UI's browser sends with its decode requests (credentials included).
    const auditor = await browser!.newContext({ viewport: { width: 1600, height: 1000 } });
    const signedIn = await signIn(auditor, TOKEN);
    await expect(signedIn.locator('#status').innerText()).resolves.toContain('Signed in');
    const cookies = await auditor.cookies(`${codecUrl}/codec/decode`);
    expect(cookies.map((c) => [c.name, c.httpOnly, c.sameSite])).toEqual([
      [CODEC_SESSION_COOKIE, true, 'Strict'],
    ]);
    expect(cookies[0]!.value).not.toContain(TOKEN);
    const page = await auditor.newPage();
    const decodes = watchDecodes(page);
    await page.goto(taskUrl);
    // The input's JSON as the UI renders it (its first lines; the editor renders what is in
    // view), and the static summary built from the same title.
    const decodedText = await textWhen(page, (t) => t.includes(titleLine));
    const decodedShot = join(SHOTS, 'codec-ui-decoded.png');
    await page.screenshot({ path: decodedShot, fullPage: true });
    console.log(`screenshots:\n  ${encryptedShot}\n  ${decodedShot}`);
    expect(decodedText).toContain(titleLine);
    expect(decodedText).toContain(`"taskId": "${input.taskId}"`);
    expect(decodedText).toContain('"assignee": "scjgj-staff1"');
    expect(decodedText).not.toContain(ENCRYPTED_B64);
    expect(decodes.length).toBeGreaterThan(0);
    expect(new Set(decodes)).toEqual(new Set([200]));
    await h.terminate('test done');
    await Promise.all([auditor.close(), stranger.close()]);
  }, 240_000);

  it("shows it decoded in the dev server's own UI once the browser's codec settings include credentials", async () => {
    requireChromium();
    const { handle, titleLine, path } = await startTask();
    const context = await browser!.newContext({ viewport: { width: 1600, height: 1000 } });
    await (await signIn(context, TOKEN)).close();
    const page = await context.newPage();
    const decodes = watchDecodes(page);
    // `temporal server start-dev --ui-codec-endpoint` sets the endpoint only: the browser sends
    // no credentials, so even a signed-in browser is refused.
    await page.goto(`${devUiUrl}${path}`);
    await someDecode(decodes);
    const before = await textWhen(page, (t) => t.includes(ENCRYPTED_B64));
    expect(decodes.length, before).toBeGreaterThan(0);
    expect(new Set(decodes)).toEqual(new Set([401]));
    expect(before).not.toContain(titleLine);
    // The auditor's own setting: Codec Server → use my browser's setting, the same endpoint,
    // "Include cross-origin credentials".
    await page.getByTestId('data-encoder-status-error').click();
    await page.getByTestId('override-accordion').locator('button').first().click();
    await page.locator('#use-local-endpoint-radio').check({ force: true });
    await expect(page.locator('#use-local-endpoint-radio').isChecked()).resolves.toBe(true);
    await page.locator('#data-encoder-endpoint-input').fill(`${codecUrl}/codec`);
    // (The settings panel's lower controls sit under the sticky top bar once scrolled to:
    // reached with the keyboard.)
    await page.locator('#pass-access-credentials').focus();
    await page.keyboard.press('Space');
    await expect(page.locator('#pass-access-credentials').isChecked()).resolves.toBe(true);
    await page.getByTestId('confirm-data-encoder-button').focus();
    await page.keyboard.press('Enter');
    decodes.length = 0;
    await page.goto(`${devUiUrl}${path}`);
    const after = await textWhen(page, (t) => t.includes(titleLine));
    const shot = join(SHOTS, 'codec-ui-dev-server.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`screenshot: ${shot}`);
    expect(after).toContain(titleLine);
    expect(new Set(decodes)).toEqual(new Set([200]));
    await handle.terminate('test done');
    await context.close();
  }, 240_000);
});
