// The campaign commands through the CLI on the dev server and PostgreSQL, with the quick
// example moved to begin now: start, board, act on tasks, board again; the enterprise list,
// the sample, results and the dispatch report, with their refusals.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withCreditCheck } from '../../domain/imports.ts';
import { runCli } from '../helpers/cli.ts';
import type { TestDatabase } from '../helpers/postgres.ts';
import { startHarness, type Harness } from '../helpers/temporal.ts';

Runtime.install({ logger: new DefaultLogger('ERROR') });

let harness: Harness;
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let taskQueue: string;
let cliEnv: NodeJS.ProcessEnv;
const dir = mkdtempSync(join(tmpdir(), 'cli-campaign-'));
const id = `cli-${Date.now().toString(36)}`;

beforeAll(async () => {
  harness = await startHarness('dev');
  ({ env, db, taskQueue } = harness);
  cliEnv = { TEMPORAL_ADDRESS: env.address, DATABASE_URL: db.url, TEMPORAL_TASK_QUEUE: taskQueue };
  const lines = ['统一社会信用代码,企业名称,行业,乡镇'];
  for (let i = 0; i < 200; i++)
    lines.push(
      `${withCreditCheck(`913405230000${String(i).padStart(5, '0')}`)},演示企业${i}号有限公司,制造业,历阳镇`,
    );
  writeFileSync(join(dir, 'enterprises.csv'), `${lines.join('\n')}\n`);
  writeFileSync(
    join(dir, 'results.csv'),
    '指标代码,得分,排名\nkbqy,92,1\nns,71,4\njzxk,85,2\nscjg,78,3\n',
  );
});

afterAll(async () => {
  await env?.client.workflow
    .getHandle(id)
    .terminate('test done')
    .catch(() => {});
  await harness?.close();
});

const cli = (...args: string[]) => runCli(args, cliEnv);

interface Board {
  phase: string;
  indicators: {
    code: string;
    phase: string;
    state: string;
    openTasks: number;
    colour: string;
    overdue: number;
    escalationLevel: number;
    due: string | null;
  }[];
}

async function board(): Promise<Board> {
  const r = await cli('status', id, '--json');
  expect(r.code, r.stderr).toBe(0);
  return r.json<Board>();
}

describe('the campaign commands', () => {
  it('start a campaign once, show the board, act on a task and show the board again', async () => {
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
    expect(started.json()).toEqual({ campaignId: id, workflowId: id });
    const again = await cli(
      'start',
      'examples/quick-demo.yaml',
      '--id',
      id,
      '--begin',
      'now',
      '--json',
    );
    expect(again.code).toBe(1);
    expect(again.json<{ error: string }>().error).toMatch(/already started/);
    // Windows already over are refused unless asked for (they would fire every reminder at once).
    const past = await cli(
      'start',
      'examples/quick-demo.yaml',
      '--id',
      `${id}-past`,
      '--begin',
      '2021-03-01T09:00',
      '--json',
    );
    expect(past.code).toBe(1);
    expect(past.json<{ error: string }>().error).toMatch(
      /examples\/quick-demo.yaml 的「前期培训」阶段已于 2021-03-01 .*结束：演练请加 --begin now.*--allow-past/,
    );
    expect(
      await harness.db.pool.query('SELECT 1 FROM campaigns WHERE campaign_id = $1', [`${id}-past`]),
    ).toHaveProperty('rowCount', 0);

    let b: Board | undefined;
    for (let i = 0; i < 60; i++) {
      b = await board();
      // Every training task projected (10 in all), so that the counts below are final.
      if (
        b.indicators.every((x) => x.phase === 'training') &&
        b.indicators.reduce((n, x) => n + x.openTasks, 0) === 10
      )
        break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(b!.phase).toBe('training');
    expect(b!.indicators.map((x) => [x.code, x.phase, x.state, x.colour])).toEqual([
      ['kbqy', 'training', 'in-progress', 'green'],
      ['ns', 'training', 'in-progress', 'green'],
      ['jzxk', 'training', 'in-progress', 'green'],
      ['scjg', 'training', 'in-progress', 'green'],
    ]);
    const kbqyOpen = b!.indicators[0]!.openTasks;

    const tasks = await cli('tasks', id, '--json');
    const list = tasks.json<{ taskId: string; kind: string; assignee: string; state: string }[]>();
    expect(list).toHaveLength(10);
    expect(new Set(list.map((t) => t.kind))).toEqual(new Set(['training']));
    const mine = list.find((t) => t.taskId === `${id}/kbqy/training/scjgj/scjgj-staff1`)!;
    const done = await cli(
      'task',
      'submit',
      mine.taskId,
      '--as',
      'scjgj-staff1',
      '--note',
      '已参加培训',
      '--json',
    );
    expect(done.json()).toMatchObject({ state: 'done' });

    const after = await board();
    expect(after.indicators[0]!.openTasks).toBe(kbqyOpen - 1);
    const doneList = await cli('tasks', id, '--state', 'done', '--json');
    expect(doneList.json<{ taskId: string }[]>().map((t) => t.taskId)).toEqual([mine.taskId]);
    const campaigns = await cli('list', '--json');
    expect(campaigns.json<{ campaignId: string; phase: string }[]>()).toContainEqual(
      expect.objectContaining({ campaignId: id, phase: 'training', status: 'running' }),
    );
  });

  it('import the enterprise list all or nothing, and draw the same sample for the same seed', async () => {
    const bad = await cli(
      'enterprises',
      'import',
      id,
      '--file',
      'test/fixtures/enterprises-bad.csv',
      '--as',
      'spj-coord',
      '--json',
    );
    expect(bad.code).toBe(1);
    const b = bad.json<{ imported: number; rejected: { line: number }[] }>();
    expect(b.imported).toBe(0);
    expect(b.rejected.map((r) => r.line)).toEqual([3, 4, 5, 6, 7]);
    expect(
      (
        await db.pool.query('SELECT count(*)::int AS n FROM enterprises WHERE campaign_id = $1', [
          id,
        ])
      ).rows[0].n,
    ).toBe(0);

    const notAllowed = await cli(
      'enterprises',
      'import',
      id,
      '--file',
      join(dir, 'enterprises.csv'),
      '--as',
      'scjgj-staff1',
    );
    expect(notAllowed.code).toBe(1);
    expect(notAllowed.stderr).toMatch(
      /scjgj-staff1 \(staff in "scjgj"\) may not import the enterprise list/,
    );

    const good = await cli(
      'enterprises',
      'import',
      id,
      '--file',
      join(dir, 'enterprises.csv'),
      '--as',
      'spj-coord',
      '--json',
    );
    expect(good.code, good.stderr).toBe(0);
    expect(good.json()).toEqual({ imported: 200, rejected: [] });

    const s1 = (await cli('sample', id, '--as', 'dsf-eval', '--seed', 's1', '--json')).json<{
      seed: string;
      size: number;
      population: number;
      enterprises: string[];
    }>();
    const s1again = (await cli('sample', id, '--as', 'dsf-eval', '--seed', 's1', '--json')).json<{
      enterprises: string[];
    }>();
    expect(s1).toMatchObject({ seed: 's1', size: 40, population: 200 });
    expect(s1again.enterprises).toEqual(s1.enterprises);
    // Another seed is another draw: refused to the evaluator, and to the bureau without a
    // reason, with a JSON document; with the bureau's reason it becomes the official one.
    const s2refused = await cli(
      'sample',
      id,
      '--as',
      'dsf-eval',
      '--seed',
      's2',
      '--json',
      '--lang',
      'en',
    );
    expect(s2refused.code).toBe(1);
    expect(s2refused.json<{ error: string }>().error).toMatch(
      /draw #1 \(seed s1, by dsf-eval\) is the official one; drawing again needs the bureau's reason/,
    );
    const noReason = await cli('sample', id, '--as', 'spj-coord', '--seed', 's2', '--lang', 'zh');
    expect(noReason.code).toBe(1);
    expect(noReason.stderr).toMatch(/重新抽样须写明理由/);
    const s2 = (
      await cli('sample', id, '--as', 'spj-coord', '--seed', 's2', '--reason', '名单有误', '--json')
    ).json<{ enterprises: string[]; drawNo: number; supersedes: number }>();
    expect(s2).toMatchObject({ drawNo: 2, supersedes: 1 });
    expect(s2.enterprises).not.toEqual(s1.enterprises);
    const recorded = await db.pool.query(
      'SELECT seed, size, official, reason FROM samples WHERE campaign_id = $1 ORDER BY draw_no',
      [id],
    );
    expect(recorded.rows).toEqual([
      { seed: 's1', size: 40, official: false, reason: null },
      { seed: 's2', size: 40, official: true, reason: '名单有误' },
    ]);
  });

  it('upload record lists, refuse bad ones at their line, and draw the official record sample', async () => {
    const head = '办件编号,办结日期,事项名称,申请人,办理时长（工作日）';
    const rows = Array.from(
      { length: 10 },
      (_, i) => `KB-${i + 1},2026-09-0${(i % 9) + 1},企业设立登记,申请企业${i},${i % 4}`,
    );
    writeFileSync(join(dir, 'records.csv'), `${[head, ...rows].join('\n')}\n`);
    writeFileSync(
      join(dir, 'records-bad.csv'),
      `${head}\nKB-1,2026-09-01,设立,甲,1\nKB-1,2026-09-31,设立,乙,三\n`,
    );
    const bad = await cli(
      'records',
      'upload',
      id,
      'kbqy',
      '--unit',
      'scjgj',
      '--file',
      join(dir, 'records-bad.csv'),
      '--as',
      'scjgj-staff1',
      '--json',
    );
    expect(bad.code).toBe(1);
    expect(bad.json<{ imported: number; rejected: object[] }>()).toEqual({
      imported: 0,
      rejected: [
        expect.objectContaining({ line: 3, column: 1, heading: '办件编号', value: 'KB-1' }),
        expect.objectContaining({ line: 3, column: 2, value: '2026-09-31' }),
        expect.objectContaining({
          line: 3,
          column: 5,
          value: '三',
          zh: expect.stringMatching(/工作日数/),
        }),
      ],
    });
    const badZh = await cli(
      'records',
      'upload',
      id,
      'kbqy',
      '--unit',
      'scjgj',
      '--file',
      join(dir, 'records-bad.csv'),
      '--as',
      'scjgj-staff1',
    );
    expect(badZh.stderr).toMatch(
      /第3行第2列「办结日期」（2026-09-31）：办结日期“2026-09-31”不是日期/,
    );
    const notHers = await cli(
      'records',
      'upload',
      id,
      'kbqy',
      '--unit',
      'scjgj',
      '--file',
      join(dir, 'records.csv'),
      '--as',
      'swj-staff1',
      '--json',
      '--lang',
      'en',
    );
    expect(notHers.code).toBe(1);
    expect(notHers.json<{ error: string }>().error).toMatch(
      /may not upload the record list of "scjgj"/,
    );
    const good = await cli(
      'records',
      'upload',
      id,
      'kbqy',
      '--unit',
      'scjgj',
      '--file',
      join(dir, 'records.csv'),
      '--as',
      'scjgj-staff1',
      '--json',
    );
    expect(good.code, good.stderr).toBe(0);
    expect(good.json()).toMatchObject({ imported: 10, listNo: 1, rejected: [] });
    const drawn = await cli(
      'records',
      'sample',
      id,
      'kbqy',
      '--as',
      'dsf-eval',
      '--seed',
      'k1',
      '--count',
      '3',
      '--json',
    );
    expect(drawn.code, drawn.stderr).toBe(0);
    const d1 = drawn.json<{ drawNo: number; official: boolean; records: { recordNo: string }[] }>();
    expect(d1).toMatchObject({ drawNo: 1, official: true });
    expect(d1.records).toHaveLength(3);
    const again = await cli(
      'records',
      'sample',
      id,
      'kbqy',
      '--as',
      'dsf-eval',
      '--seed',
      'k1',
      '--count',
      '3',
      '--json',
    );
    expect(again.json<{ records: unknown[]; unchanged: boolean }>()).toMatchObject({
      records: d1.records,
      unchanged: true,
    });
    const tooMany = await cli(
      'records',
      'sample',
      id,
      'kbqy',
      '--as',
      'spj-coord',
      '--count',
      '11',
      '--reason',
      '重抽',
      '--json',
      '--lang',
      'en',
    );
    expect(tooMany.code).toBe(1);
    expect(tooMany.json<{ error: string }>().error).toMatch(/count 11 is more than the 10 records/);
    // Evidence is asked during verification only: the workflow's refusal, in the reader's language.
    const early = await cli('records', 'request', id, 'kbqy', '--as', 'dsf-eval', '--lang', 'en');
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/evidence can be requested during verification/);
    const shown = await cli('records', 'show', id, 'kbqy', '--json');
    expect(shown.json<{ lists: unknown[]; draws: { official: boolean }[] }>()).toMatchObject({
      lists: [expect.objectContaining({ unit: 'scjgj', records: 10 })],
      draws: [expect.objectContaining({ official: true, drawNo: 1 })],
    });
    const badCount = await cli(
      'records',
      'sample',
      id,
      'kbqy',
      '--as',
      'dsf-eval',
      '--count',
      '3x',
      '--json',
    );
    expect(badCount.code).toBe(2);
    expect(badCount.json<{ error: string }>().error).toMatch(/--count“3x”不是整数/);
    const unknown = await cli('records', 'show', id, 'nope', '--json', '--lang', 'en');
    expect(unknown.code).toBe(1);
    expect(unknown.json<{ error: string }>().error).toMatch(/unknown indicator "nope"/);
  });

  it('refuse evidence requests, bad result files and results out of phase with their reasons', async () => {
    const early = await cli(
      'evidence',
      'request',
      id,
      'kbqy',
      '--unit',
      'scjgj',
      '--what',
      '办件记录',
      '--as',
      'dsf-eval',
    );
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/印证资料在“信息核验”阶段调取；指标 kbqy 现处于“前期培训”/);
    const badFile = await cli(
      'results',
      'import',
      id,
      '--file',
      'test/fixtures/results-bad.csv',
      '--as',
      'spj-coord',
      '--json',
    );
    expect(badFile.code).toBe(1);
    expect(
      badFile.json<{ rejected: { line: number; message: string }[] }>().rejected.map((r) => r.line),
    ).toEqual([3, 4, 5, 6, 7]);
    const tooEarly = await cli(
      'results',
      'import',
      id,
      '--file',
      join(dir, 'results.csv'),
      '--as',
      'spj-coord',
    );
    expect(tooEarly.code).toBe(1);
    expect(tooEarly.stderr).toMatch(/评价结果在“编制报告”阶段导入；本次考核现处于“前期培训”/);
    const missing = await cli('results', 'import', id, '--file', 'nope.csv', '--as', 'spj-coord');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read the results nope.csv: no such file/);
  });

  it('print the dispatch digest as a table, Markdown, CSV and an Excel workbook', async () => {
    const json = await cli('report', 'dispatch', id, '--json');
    expect(json.code, json.stderr).toBe(0);
    const digest = json.json<{
      indicators: { code: string; dueToday: unknown[] }[];
      totals: { doneSinceYesterday: number };
    }>();
    expect(digest.indicators.map((i) => i.code)).toEqual(['kbqy', 'ns', 'jzxk', 'scjg']);
    expect(digest.totals.doneSinceYesterday).toBe(1);
    const md = await cli('report', 'dispatch', id, '--format', 'md', '--lang', 'en');
    expect(md.stdout).toMatch(/\| Indicator \| Phase \| State \|/);
    const csv = await cli('report', 'dispatch', id, '--format', 'csv');
    expect(csv.stdout.startsWith('\uFEFF指标,阶段,状态')).toBe(true);
    const file = join(dir, 'dispatch.xlsx');
    const xlsx = await cli('report', 'dispatch', id, '--format', 'xlsx', '--out', file);
    expect(xlsx.code, xlsx.stderr).toBe(0);
    expect(existsSync(file)).toBe(true);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(file);
    const ws = wb.worksheets[0]!;
    expect(ws.getRow(1).getCell(1).value).toBe('指标');
    expect(ws.rowCount).toBe(5);
    const noOut = await cli('report', 'dispatch', id, '--format', 'xlsx');
    expect(noOut.code).toBe(2);
  });
});
