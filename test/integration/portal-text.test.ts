// Text the portal will not pass on (domain/text.ts): a lone UTF-16 surrogate, a NUL, a control
// character, anywhere in a request — the JSON API, an HTML form post, a multipart text field or
// a file's name — is refused with 400 naming the field, before it reaches a workflow or
// PostgreSQL, and the task stays open and answers the next good request. Real servers: the dev
// server, PostgreSQL, the portal on a port of its own.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatIsoOffset } from '../../domain/time.ts';
import { REPO_ROOT } from '../../scripts/lib/tools.ts';
import { runCli } from '../helpers/cli.ts';
import { startPortal, withCampaignId, type TestPortal } from '../helpers/portal.ts';
import { startHarness, type Harness } from '../helpers/temporal.ts';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const id = `txt-${Date.now().toString(36)}`;
const dir = mkdtempSync(join(tmpdir(), 'portal-text-'));
let harness: Harness;
let portal: TestPortal;
let cliEnv: NodeJS.ProcessEnv;
let taskId: string;
let clerk: Agent;
const PASSWORD = 'correct horse battery';
/** The request as it was seen in the field: valid JSON whose note holds lone surrogates. */
const SURROGATE_BODY = String.raw`{"note":"lone \ud800 surrogate \udfff end"}`;

const cli = (...args: string[]) => runCli(args, cliEnv);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A browser or a program with a cookie jar and the session's CSRF token. */
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
      this.cookies.set(k!.trim(), v.join('='));
    }
    return r;
  }
  /** A JSON post whose body is sent byte for byte as written. */
  raw(path: string, body: string): Promise<Response> {
    return this.fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': this.csrf },
      body,
    });
  }
}

async function signedIn(person: string): Promise<Agent> {
  const r = await cli('accounts', 'invite', id, '--person', person, '--as', 'spj-coord', '--json');
  expect(r.code, r.stderr).toBe(0);
  const link = r.json<{ invitations: { link: string }[] }>().invitations[0]!.link;
  const a = new Agent();
  const path = new URL(link).pathname;
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await (await a.fetch(path)).text())?.[1] ?? '';
  const accepted = await a.fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, password: PASSWORD, confirm: PASSWORD }).toString(),
  });
  expect(accepted.status).toBe(303);
  const b = new Agent();
  const s = await b.fetch('/api/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ personId: person, password: PASSWORD }),
  });
  expect(s.status).toBe(200);
  b.csrf = ((await s.json()) as { csrfToken: string }).csrfToken;
  return b;
}

beforeAll(async () => {
  harness = await startHarness('dev');
  portal = await startPortal(harness);
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
    '开办企业 数据填报（文本测试）',
    '--kind',
    'questionnaire',
    '--indicator',
    'kbqy',
    '--key',
    'text-rule',
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
  clerk = await signedIn('scjgj-staff1');
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
    await harness.db.pool.query<{ type: string }>(
      'SELECT type FROM task_events WHERE task_id = $1 ORDER BY seq',
      [taskId],
    )
  ).rows.map((r) => r.type);

describe('text the portal will not pass on', () => {
  it('refuses the lone-surrogate note on the JSON API with 400 naming the field, and the task stays open', async () => {
    const before = await events();
    const api = await clerk.raw(`/api/tasks/${encodeURIComponent(taskId)}/submit`, SURROGATE_BODY);
    expect(api.status).toBe(400);
    const answer = (await api.json()) as {
      error: string;
      message: string;
      fields?: Record<string, string>;
    };
    expect(answer.error).toBe('refused');
    expect(answer.message).toBe(
      '请求无效：字段“note”含有无效的 Unicode 字符（第 6 个字符处为孤立的代理项 U+D800）。',
    );
    expect(Object.keys(answer.fields ?? {})).toEqual(['note']);
    const en = await clerk.raw(
      `/api/tasks/${encodeURIComponent(taskId)}/submit?lang=en`,
      String.raw`{"note":"ok","data":{"procedures":4,"phone":"138\u0000"}}`,
    );
    expect(en.status).toBe(400);
    expect(((await en.json()) as { message: string }).message).toBe(
      'Bad request: data.phone contains a NUL character (U+0000) at character 4.',
    );

    // The same request to the HTML form's address, and a form post with a control character.
    const form = await clerk.raw(`/tasks/${encodeURIComponent(taskId)}/submit`, SURROGATE_BODY);
    expect(form.status).toBe(400);
    expect(form.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await form.text()).toContain('字段“note”含有无效的 Unicode 字符');
    const typed = await clerk.fetch(`/tasks/${encodeURIComponent(taskId)}/submit`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `_csrf=${clerk.csrf}&f.procedures=4&note=${encodeURIComponent('红色\u001b[2J')}`,
    });
    expect(typed.status).toBe(400);
    expect(await typed.text()).toContain('字段“note”含有不允许的控制字符 U+001B');

    // Nothing reached the task: no event, its projection open, and it takes the next good one.
    expect(await events()).toEqual(before);
    const row = await harness.db.pool.query<{ state: string }>(
      'SELECT state FROM tasks WHERE task_id = $1',
      [taskId],
    );
    expect(row.rows[0]?.state).toBe('open');
  });

  it("refuses a multipart text field or a file's name that breaks the rule, storing nothing", async () => {
    const before = await events();
    const upload = (fields: Record<string, string>, filename: string) => {
      const fd = new FormData();
      fd.set('_csrf', clerk.csrf);
      for (const [k, v] of Object.entries(fields)) fd.set(k, v);
      fd.set('files', new Blob(['%PDF-1.4\n'], { type: 'application/pdf' }), filename);
      return clerk.fetch(`/tasks/${encodeURIComponent(taskId)}/evidence`, {
        method: 'POST',
        body: fd,
      });
    };
    const badName = await upload({}, 'scan\u0007.pdf');
    expect(badName.status).toBe(400);
    expect(await badName.text()).toContain('字段“files.filename”含有不允许的控制字符 U+0007');
    const badField = await upload({ note: 'a\u0000b' }, 'scan.pdf');
    expect(badField.status).toBe(400);
    expect(await badField.text()).toContain('字段“note”含有不允许的空字符');
    const files = await harness.db.pool.query('SELECT 1 FROM evidence_files WHERE task_id = $1', [
      taskId,
    ]);
    expect(files.rowCount).toBe(0);
    expect(await events()).toEqual(before);
  });

  it('accepts a good submission afterwards, a CRLF note and an emoji included', async () => {
    // The indicator lists its evidence (政策文件、办件记录): one file first.
    const fd = new FormData();
    fd.set('_csrf', clerk.csrf);
    fd.set('files', new Blob(['%PDF-1.4\n'], { type: 'application/pdf' }), '办件记录.pdf');
    const up = await clerk.fetch(`/tasks/${encodeURIComponent(taskId)}/evidence`, {
      method: 'POST',
      body: fd,
    });
    expect(up.status, await up.clone().text()).toBeLessThan(400);
    const r = await clerk.raw(
      `/api/tasks/${encodeURIComponent(taskId)}/submit`,
      JSON.stringify({
        data: { procedures: 4, days: 2.5, onlineRate: 90 },
        note: '按统一口径填报\r\n第二行 😀',
      }),
    );
    expect(r.status, await r.clone().text()).toBe(200);
    expect(((await r.json()) as { state: string }).state).toBe('submitted');
  });
});
