// Highlights, typical cases and publicity through the CLI on a real campaign (dev server, worker
// and PostgreSQL): the quick example with windows of hours and at most two typical cases per
// indicator. A highlight asked for, proposed, returned once, proposed again and selected; two
// cases selected, a third refused by the CLI and, sent past it straight to Temporal, kept out of
// the selection by the database; publicity recorded by the departments' own people and counted
// per department on the daily dispatch; `report highlights` as xlsx read back, and as CSV with
// a department's formula neutralised. The test waits on the projections, never on the clock.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import ExcelJS from 'exceljs';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveUpdate, raiseTaskUpdate, submitUpdate } from '../../domain/messages.ts';
import { formatIsoOffset } from '../../domain/time.ts';
import type { HighlightsReport } from '../../client/commands/highlights.ts';
import type { DispatchDigest } from '../../activities/dispatch.ts';
import { runCli, type CliRun } from '../helpers/cli.ts';
import type { TestDatabase } from '../helpers/postgres.ts';
import { startPortal, type TestPortal } from '../helpers/portal.ts';
import { startHarness, type Harness } from '../helpers/temporal.ts';

Runtime.install({ logger: new DefaultLogger('ERROR') });

let harness: Harness;
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let cliEnv: NodeJS.ProcessEnv;
let portal: TestPortal | undefined;
const dir = mkdtempSync(join(tmpdir(), 'highlights-'));
const id = `hl-${Date.now().toString(36)}`;
const TZ = 'Asia/Shanghai';

/**
 * The quick example with windows of hours (nothing passes while the test acts), two typical
 * cases per indicator at most, and the daily dispatch at a time of day the window does not
 * reach (so the digest the test reads is computed from the projections, not one sent earlier).
 */
function steadyDefinition(): string {
  const raw = parseYaml(readFileSync('examples/quick-demo.yaml', 'utf8'));
  const t0 = Date.parse(`${raw.phases.training.start}+08:00`);
  const at = (hours: number) => formatIsoOffset(t0 + hours * 3_600_000, TZ).slice(0, 19);
  raw.phases.training = { start: at(0), end: at(2) };
  raw.phases.dataEntry = { ...raw.phases.dataEntry, start: at(2), end: at(4), slot: 'PT2H' };
  raw.phases.dataEntry.indicatorsPerDay = raw.indicators.length;
  raw.phases.verification = { ...raw.phases.verification, start: at(4), end: at(6) };
  raw.phases.reporting = { start: at(6), end: at(8) };
  raw.policy.returnDue = { duration: 'PT1H' };
  raw.highlights = { maxTypicalCasesPerIndicator: 2 };
  // Two hours before now (the windows begin now, with --begin): next reached in 22 hours.
  raw.dispatch = { at: formatIsoOffset(Date.now() - 2 * 3_600_000, TZ).slice(11, 16) };
  const path = join(dir, 'steady.json');
  writeFileSync(path, JSON.stringify(raw));
  return path;
}

beforeAll(async () => {
  harness = await startHarness('dev');
  ({ env, db } = harness);
  cliEnv = {
    TEMPORAL_ADDRESS: env.address,
    DATABASE_URL: db.url,
    TEMPORAL_TASK_QUEUE: harness.taskQueue,
  };
});

afterAll(async () => {
  await portal?.close();
  await env?.client.workflow
    .getHandle(id)
    .terminate('test done')
    .catch(() => {});
  await harness?.close();
});

const cli = (...args: string[]): Promise<CliRun> => runCli(args, cliEnv);
async function ok<T>(...args: string[]): Promise<T> {
  const r = await cli(...args, '--json');
  expect(r.code, `campaign ${args.join(' ')}\n${r.stderr}${r.stdout}`).toBe(0);
  return r.json<T>();
}
async function until<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}
const q = async <T>(sql: string, ...params: unknown[]) =>
  (await db.pool.query(sql, params)).rows as T[];
/** The registry row of a task (as the projection keeps it), or undefined before it exists. */
const registry = async (taskId: string) =>
  (
    await q<{ state: string; slot: number | null; title: string | null; replicable: boolean }>(
      'SELECT state, slot, title, replicable FROM highlights WHERE task_id = $1',
      taskId,
    )
  )[0];
const inState = (taskId: string, state: string) =>
  until(
    `${taskId} ${state}`,
    () => registry(taskId),
    (r) => r?.state === state,
  );

/** Signs a person in to the portal through the invitation the bureau issues; a JSON poster. */
async function signIn(person: string) {
  const PASSWORD = 'correct horse battery';
  const cookies = new Map<string, string>();
  const send = async (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (cookies.size) headers.set('cookie', [...cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const r = await fetch(`${portal!.url}${path}`, { ...init, headers, redirect: 'manual' });
    for (const c of r.headers.getSetCookie()) {
      const [k, ...v] = c.split(';')[0]!.split('=');
      cookies.set(k!.trim(), v.join('='));
    }
    return r;
  };
  const link = (
    await ok<{ invitations: { link: string }[] }>(
      'accounts',
      'invite',
      id,
      '--person',
      person,
      '--as',
      'spj-coord',
    )
  ).invitations[0]!.link;
  const path = new URL(link).pathname;
  const form = /name="_csrf" value="([^"]+)"/.exec(await (await send(path)).text())?.[1] ?? '';
  const accepted = await send(path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: form, password: PASSWORD, confirm: PASSWORD }).toString(),
  });
  expect(accepted.status).toBe(303);
  cookies.clear();
  const session = await send('/api/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ personId: person, password: PASSWORD }),
  });
  expect(session.status).toBe(200);
  const { csrfToken } = (await session.json()) as { csrfToken: string };
  return {
    get: (p: string) => send(p),
    post: (p: string, body: unknown) =>
      send(p, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken },
        body: JSON.stringify(body),
      }),
  };
}

const due = () => formatIsoOffset(Date.now() + 3 * 3_600_000, TZ).slice(0, 19);
const EVIDENCE = 'https://example.gov.cn/hx/kbqy-yiwang-tongban.pdf';

describe('highlights, typical cases and publicity driven through the command line', () => {
  it('selects a highlight after one return, holds typical cases to the limit, counts publicity and exports the report', async () => {
    await ok('start', steadyDefinition(), '--id', id, '--begin', 'now', '--as', 'spj-coord');

    // ---- a highlight: asked for, proposed, returned once, proposed again, selected ----
    const asked = await ok<{ taskId: string }>(
      'highlight',
      'request',
      id,
      '--type',
      'highlight',
      '--unit',
      'scjgj',
      '--assignee',
      'scjgj-staff1',
      '--due',
      due(),
      '--as',
      'spj-coord',
    );
    const hl = asked.taskId;
    expect(hl).toMatch(new RegExp(`^${id}/_/highlight/scjgj/`));
    await inState(hl, 'requested');

    // A department may not ask for one, and a proposal needs its evidence.
    const notBureau = await cli(
      'highlight',
      'request',
      id,
      '--type',
      'highlight',
      '--unit',
      'scjgj',
      '--assignee',
      'scjgj-staff1',
      '--due',
      due(),
      '--as',
      'scjgj-head',
      '--lang',
      'en',
    );
    expect(notBureau.code).toBe(1);
    expect(notBureau.stderr).toMatch(/scjgj-head may not raise a task/);
    const noEvidence = await cli(
      'highlight',
      'propose',
      hl,
      '--as',
      'scjgj-staff1',
      '--title',
      '开办企业一网通办',
      '--description',
      '一日办结',
      '--indicator',
      'kbqy',
      '--replicable',
      '是',
      '--lang',
      'en',
    );
    expect(noEvidence.code).toBe(1);
    expect(noEvidence.stderr).toMatch(/supporting evidence .* is required/);
    // The proposer names an indicator of their unit (scjgj leads kbqy and scjg, cooperates on jzxk).
    const notOurs = await cli(
      'highlight',
      'propose',
      hl,
      '--as',
      'scjgj-staff1',
      '--title',
      '纳税便利',
      '--description',
      '……',
      '--indicator',
      'ns',
      '--replicable',
      'no',
      '--evidence',
      EVIDENCE,
      '--lang',
      'en',
    );
    expect(notOurs.code).toBe(1);
    expect(notOurs.stderr).toMatch(/indicator\) must be one of kbqy \/ jzxk \/ scjg/);

    await ok(
      'highlight',
      'propose',
      hl,
      '--as',
      'scjgj-staff1',
      '--title',
      '开办企业一网通办',
      '--description',
      '一日办结',
      '--indicator',
      'kbqy',
      '--replicable',
      '是',
      '--evidence',
      EVIDENCE,
    );
    await inState(hl, 'proposed');
    await ok('highlight', 'return', hl, '--as', 'spj-coord', '--reason', '请补充成效数据');
    await inState(hl, 'returned');
    await ok(
      'highlight',
      'propose',
      hl,
      '--as',
      'scjgj-staff1',
      '--title',
      '开办企业一网通办',
      '--description',
      '一日办结，全年办件 1200 件，平均 0.6 个工作日',
      '--indicator',
      'kbqy',
      '--replicable',
      'yes',
      '--evidence',
      EVIDENCE,
    );
    await inState(hl, 'proposed');
    const selected = await ok<{ state: string }>('highlight', 'select', hl, '--as', 'spj-coord');
    expect(selected.state).toBe('done');
    expect(await inState(hl, 'selected')).toMatchObject({ slot: null, replicable: true });

    // ---- typical cases: two selected for kbqy, the third refused ----
    const cases: string[] = [];
    for (const key of ['c1', 'c2', 'c3']) {
      const r = await ok<{ taskId: string }>(
        'highlight',
        'request',
        id,
        '--type',
        'case',
        '--indicator',
        'kbqy',
        '--unit',
        'scjgj',
        '--assignee',
        'scjgj-staff2',
        '--due',
        due(),
        '--key',
        key,
        '--as',
        'spj-coord',
      );
      expect(r.taskId).toBe(`${id}/kbqy/case/scjgj/${key}`);
      cases.push(r.taskId);
      await inState(r.taskId, 'requested');
    }
    const propose = (taskId: string, title: string) =>
      cli(
        'highlight',
        'propose',
        taskId,
        '--as',
        'scjgj-staff2',
        '--title',
        title,
        '--description',
        `${title}的做法`,
        '--replicable',
        'yes',
        '--evidence',
        EVIDENCE,
        '--json',
      );
    for (const [i, taskId] of cases.slice(0, 2).entries()) {
      const p = await propose(taskId, `典型案例${i + 1}`);
      expect(p.code, p.stderr).toBe(0);
      await inState(taskId, 'proposed');
      await ok('highlight', 'select', taskId, '--as', 'spj-coord');
      expect((await inState(taskId, 'selected'))?.slot).toBe(i + 1);
    }
    const third = cases[2]!;
    const refusedZh = await propose(third, '典型案例3');
    expect(refusedZh.code).toBe(1);
    const doc = refusedZh.json<{ error: string; exitCode: number }>();
    expect(doc.exitCode).toBe(1);
    expect(doc.error).toMatch(
      /指标 kbqy（开办企业）已选用典型案例 2 个，达到本次考核的上限（每个指标至多 2 个），不能再报送典型案例/,
    );
    const refusedEn = await cli(
      'highlight',
      'request',
      id,
      '--type',
      'case',
      '--indicator',
      'kbqy',
      '--unit',
      'scjgj',
      '--assignee',
      'scjgj-staff2',
      '--due',
      due(),
      '--key',
      'c4',
      '--as',
      'spj-coord',
      '--lang',
      'en',
    );
    expect(refusedEn.code).toBe(1);
    expect(refusedEn.stderr).toMatch(
      /indicator kbqy \(开办企业\) already has 2 selected typical case\(s\), the most the campaign allows \(highlights.maxTypicalCasesPerIndicator: 2\): no further case can be requested/,
    );
    expect(await registry(third)).toMatchObject({ state: 'requested' });

    // Past the CLI, straight to the task workflow: the bureau's approval is accepted by the
    // task, and the database keeps the case out of the selection (no third place exists).
    const handle = env.client.workflow.getHandle(third);
    await handle.executeUpdate(submitUpdate, {
      args: [
        {
          requestId: 'raw-submit',
          actor: 'scjgj-staff2',
          data: { title: '典型案例3', description: '……', indicator: 'kbqy', replicable: false },
          evidence: [EVIDENCE],
        },
      ],
    });
    await inState(third, 'proposed');
    // The CLI refuses the approval too, by the same limit.
    const selectRefused = await cli('highlight', 'select', third, '--as', 'spj-coord', '--json');
    expect(selectRefused.code).toBe(1);
    expect(selectRefused.json<{ error: string }>().error).toMatch(/不能再选用典型案例/);
    // …and so does the portal, for the bureau's coordinator signed in.
    portal = await startPortal(harness);
    const coordinator = await signIn('spj-coord');
    const viaPortal = await coordinator.post(
      `/api/tasks/${encodeURIComponent(third)}/approve?lang=en`,
      {},
    );
    expect(viaPortal.status).toBe(409);
    expect(await viaPortal.text()).toMatch(/no further case can be selected for it/);
    expect(await registry(third)).toMatchObject({ state: 'proposed' });
    await handle.executeUpdate(approveUpdate, {
      args: [{ requestId: 'raw-approve', actor: 'spj-coord' }],
    });
    await inState(third, 'over-limit');
    expect(
      await q<{ n: string }>(
        `SELECT count(*) AS n FROM highlights WHERE campaign_id = $1 AND indicator = 'kbqy'
            AND kind = 'case' AND state = 'selected'`,
        id,
      ),
    ).toEqual([{ n: '2' }]);
    // Nor can any client give a case a place the definition does not have, or take one.
    await db.pool.query(`UPDATE highlights SET state = 'selected' WHERE task_id = $1`, [third]);
    await db.pool.query(`UPDATE highlights SET slot = 3, max_cases = 3 WHERE task_id = $1`, [
      cases[0],
    ]);
    expect(await registry(third)).toMatchObject({ state: 'over-limit', slot: null });
    expect(await registry(cases[0]!)).toMatchObject({ state: 'selected', slot: 1 });

    // ---- publicity, by each department's own people ----
    await ok(
      'publicity',
      'add',
      id,
      '--as',
      'scjgj-staff1',
      '--channel',
      'wechat',
      '--title',
      '开办企业一网通办上线',
      '--date',
      '2026-10-12',
      '--link',
      'https://mp.weixin.qq.com/s/abc',
      '--reach',
      '3200',
    );
    await ok(
      'publicity',
      'add',
      id,
      '--as',
      'scjgj-head',
      '--channel',
      '电视',
      '--title',
      '=HYPERLINK("http://evil.example","点此")',
      '--date',
      '2026-10-13',
    );
    await ok(
      'publicity',
      'add',
      id,
      '--as',
      'zjj-staff1',
      '--channel',
      'newspaper',
      '--title',
      '建筑许可提速',
      '--date',
      '2026-10-14',
    );
    const otherUnit = await cli(
      'publicity',
      'add',
      id,
      '--as',
      'zjj-staff1',
      '--unit',
      'scjgj',
      '--channel',
      'web',
      '--title',
      '代报',
      '--date',
      '2026-10-14',
      '--json',
      '--lang',
      'en',
    );
    expect(otherUnit.code).toBe(1);
    expect(otherUnit.json<{ error: string }>().error).toMatch(
      /zjj-staff1 is of "zjj", not of "scjgj": a department's publicity is recorded by its own people/,
    );
    const bureau = await cli(
      'publicity',
      'add',
      id,
      '--as',
      'spj-coord',
      '--channel',
      'web',
      '--title',
      '审批局',
      '--date',
      '2026-10-14',
      '--lang',
      'en',
    );
    expect(bureau.code).toBe(1);
    expect(bureau.stderr).toMatch(/"spj" is not a department/);
    await expect(
      db.pool.query(
        `INSERT INTO publicity (campaign_id, unit_id, channel, title, published_on, by_person)
         VALUES ($1, 'scjgj', 'web', '代报', '2026-10-14', 'zjj-staff1')`,
        [id],
      ),
    ).rejects.toThrow(/only the people of "scjgj" record its publicity/);

    // The daily dispatch counts them per department (today's, computed from the projections).
    const digest = await ok<DispatchDigest>('report', 'dispatch', id);
    expect(digest.sent).toBe(false);
    const counts = Object.fromEntries(
      (digest.publicity ?? []).map((u) => [u.unit, [u.total, u.sinceLast, u.byChannel]]),
    );
    expect(counts).toEqual({
      scjgj: [2, 2, { wechat: 1, tv: 1 }],
      swj: [0, 0, {}],
      zjj: [1, 1, { newspaper: 1 }],
    });
    // …and as of a moment before they were recorded, none.
    const { computeDispatch } = await import('../../activities/dispatch.ts');
    const before = await computeDispatch(db.pool, id, Date.now() - 3_600_000, 0);
    expect(before.publicity?.every((u) => u.total === 0)).toBe(true);
    // The portal's dispatch page shows the same counts under the indicators.
    const page = await (
      await coordinator.get(`/campaigns/${encodeURIComponent(id)}/dispatch`)
    ).text();
    expect(page).toContain('<h2>宣传报道');
    expect(page).toMatch(
      /<td data-label="单位">\s*zjj 县住房和城乡建设局\s*<\/td>\s*<td data-label="累计">\s*1\s*<\/td>/,
    );
    const md = await cli('report', 'dispatch', id, '--format', 'md');
    expect(md.code, md.stderr).toBe(0);
    expect(md.stdout).toMatch(/\| scjgj 县市场监督管理局 \| 2 \| 2 \| 1 \| 0 \| 0 \| 1 \| 0 \|/);

    // ---- the report ----
    const report = await ok<HighlightsReport>('report', 'highlights', id);
    expect(report.maxTypicalCasesPerIndicator).toBe(2);
    const item = report.items.find((x) => x.taskId === hl)!;
    expect(item).toMatchObject({
      kind: 'highlight',
      indicator: 'kbqy',
      state: 'selected',
      returns: 1,
      lastReturnReason: '请补充成效数据',
      proposer: 'scjgj-staff1',
      replicable: true,
      evidence: [EVIDENCE],
      description: '一日办结，全年办件 1200 件，平均 0.6 个工作日',
    });
    expect(report.items.filter((x) => x.kind === 'case').map((x) => [x.state, x.place])).toEqual([
      ['selected', 1],
      ['selected', 2],
      ['over-limit', null],
    ]);
    expect(report.indicators.find((i) => i.code === 'kbqy')).toEqual({
      code: 'kbqy',
      name: '开办企业',
      highlights: 1,
      cases: 2,
      max: 2,
    });
    expect(report.publicity.map((p) => [p.unit, p.channel, p.reach])).toEqual([
      ['scjgj', 'wechat', 3200],
      ['scjgj', 'tv', null],
      ['zjj', 'newspaper', null],
    ]);

    const xlsx = join(dir, 'highlights.xlsx');
    const written = await cli('report', 'highlights', id, '--format', 'xlsx', '--out', xlsx);
    expect(written.code, written.stderr).toBe(0);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(xlsx);
    expect(wb.worksheets.map((w) => w.name.split(' — ')[0])).toEqual([
      '亮点与典型案例',
      '各指标入选情况',
      '宣传报道',
    ]);
    const rows = (ws: ExcelJS.Worksheet) => {
      const out: string[][] = [];
      ws.eachRow((r) =>
        out.push((r.values as unknown[]).slice(1).map((v) => (v === undefined ? '' : String(v)))),
      );
      return out;
    };
    const [items, perIndicator, pub] = wb.worksheets.map(rows) as [
      string[][],
      string[][],
      string[][],
    ];
    expect(items[0]!.slice(0, 3)).toEqual(['指标', '类别', '标题']);
    const hlRow = items.find((r) => r[14] === hl)!;
    expect(hlRow.slice(0, 3)).toEqual(['kbqy 开办企业', '亮点', '开办企业一网通办']);
    expect(hlRow[8]).toBe('已选用');
    expect(hlRow[10]).toBe('1');
    expect(items.filter((r) => r[1] === '典型案例').map((r) => [r[8], r[9]])).toEqual([
      ['已选用', '1/2'],
      ['已选用', '2/2'],
      ['超出上限未选用', ''],
    ]);
    expect(perIndicator.find((r) => r[0] === 'kbqy 开办企业')).toEqual([
      'kbqy 开办企业',
      '1',
      '2',
      '2',
    ]);
    // A department's formula stays text in the workbook…
    const tvRow = pub.find((r) => r[2] === '电视')!;
    expect(tvRow[3]).toBe('=HYPERLINK("http://evil.example","点此")');
    expect(wb.worksheets[2]!.getCell(`D${pub.indexOf(tvRow) + 1}`).type).toBe(
      ExcelJS.ValueType.String,
    );
    // …and is neutralised in CSV.
    const csv = await cli('report', 'highlights', id, '--format', 'csv');
    expect(csv.code, csv.stderr).toBe(0);
    expect(csv.stdout).toContain(`"'=HYPERLINK(""http://evil.example"",""点此"")"`);

    // ---- a department proposes of its own accord; the bureau still decides ----
    const own = await ok<{ taskId: string; state: string }>(
      'highlight',
      'propose',
      id,
      '--type',
      'highlight',
      '--as',
      'swj-staff1',
      '--title',
      '纳税缴费一次办',
      '--description',
      '申报、缴款、开票一次办结',
      '--indicator',
      'ns',
      '--replicable',
      '是',
      '--evidence',
      EVIDENCE,
    );
    expect(own.taskId).toMatch(new RegExp(`^${id}/ns/highlight/swj/`));
    expect(own.state).toBe('submitted');
    await inState(own.taskId, 'proposed');
    await ok('highlight', 'select', own.taskId, '--as', 'spj-coord');
    await inState(own.taskId, 'selected');
    // Only a department's own people, for themselves: the campaign refuses anything else.
    const evaluator = await cli(
      'highlight',
      'propose',
      id,
      '--type',
      'highlight',
      '--as',
      'dsf-eval',
      '--title',
      '核验方法',
      '--description',
      'x',
      '--replicable',
      'no',
      '--evidence',
      EVIDENCE,
      '--json',
    );
    expect(evaluator.code).toBe(1);
    expect(evaluator.json<{ error: string }>().error).toMatch(/dsf-eval 无权下达督办事项/);
    const forOther = await env.client.workflow
      .getHandle(id)
      .executeUpdate(raiseTaskUpdate, {
        args: [
          {
            requestId: randomUUID(),
            actor: 'swj-staff1',
            unit: 'swj',
            assignee: 'swj-deputy',
            title: '替他人报送',
            due: due(),
            kind: 'highlight',
            review: true,
            evidence: true,
          },
        ],
      })
      .then(
        () => 'accepted',
        (e: Error) => String((e.cause as Error | undefined)?.message ?? e),
      );
    expect(forOther).toMatch(/swj-staff1 may not raise a task/);
    if (process.env.SAVE_HISTORIES)
      writeFileSync(
        'test/replay/histories/campaign-department-proposes.json',
        historyToJSON(await env.client.workflow.getHandle(id).fetchHistory()),
      );
  }, 300_000);
});
