// The enterprise questionnaire through the command line on a real campaign (dev server, worker
// and PostgreSQL): the enterprise list with its 主管部门 and 问卷指标, the sample, an answered list
// refused with every bad line located (in --json too) and then recorded from a workbook, one
// enterprise marked, the rates on the board and the dispatch digest, the chase tasks raised once
// however often the command runs, and a site visit recorded as a verified item. The test waits on
// the projections, never on the clock.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import ExcelJS from 'exceljs';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withCreditCheck } from '../../domain/imports.ts';
import { formatIsoOffset } from '../../domain/time.ts';
import { runCli, type CliRun } from '../helpers/cli.ts';
import type { TestDatabase } from '../helpers/postgres.ts';
import { startHarness, type Harness } from '../helpers/temporal.ts';

Runtime.install({ logger: new DefaultLogger('ERROR') });

let harness: Harness;
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let cliEnv: NodeJS.ProcessEnv;
const dir = mkdtempSync(join(tmpdir(), 'questionnaire-'));
const id = `qn-${Date.now().toString(36)}`;
const TZ = 'Asia/Shanghai';

/** The quick example with windows of hours (nothing passes while the test acts), everyone sampled. */
function steadyDefinition(): string {
  const raw = parseYaml(readFileSync('examples/quick-demo.yaml', 'utf8'));
  const t0 = Date.parse(`${raw.phases.training.start}+08:00`);
  const at = (hours: number) => formatIsoOffset(t0 + hours * 3_600_000, TZ).slice(0, 19);
  raw.phases.training = { start: at(0), end: at(2) };
  raw.phases.dataEntry = { ...raw.phases.dataEntry, start: at(2), end: at(4), slot: 'PT2H' };
  raw.phases.dataEntry.indicatorsPerDay = raw.indicators.length;
  raw.phases.verification = {
    ...raw.phases.verification,
    start: at(4),
    end: at(6),
    samplingProportion: 1,
  };
  raw.phases.reporting = { start: at(6), end: at(8) };
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
  const deadline = Date.now() + 300_000;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}
const q = async <T>(sql: string, ...params: unknown[]) =>
  (await db.pool.query(sql, params)).rows as T[];

interface Rates {
  total: { expected: number; answered: number; rate: number | null };
  byIndicator: { code: string; expected: number; answered: number; rate: number | null }[];
  byUnit: { unit: string; expected: number; answered: number; rate: number | null }[];
}

describe('the enterprise questionnaire driven through the command line', () => {
  it('records answers, shows the rates, chases the departments once and records a site visit', async () => {
    await ok('start', steadyDefinition(), '--id', id, '--begin', 'now', '--as', 'spj-coord');
    await until(
      'the campaign recorded',
      () => q('SELECT 1 FROM indicators WHERE campaign_id = $1', id),
      (r) => r.length > 0,
    );
    const [A, B, C, D] = [1, 2, 3, 4].map((n) => withCreditCheck(`91340523MA2N0XW0${n}`)) as [
      string,
      string,
      string,
      string,
    ];

    // The enterprise list: a bad 主管部门 and a bad 问卷指标 located; then the good list.
    const header = '统一社会信用代码,企业名称,主管部门,问卷指标';
    const badList = join(dir, 'bad-enterprises.csv');
    writeFileSync(badList, [header, `${A},甲公司,县交通局,kbqy`, `${B},乙公司,zjj,abc`].join('\n'));
    const refusedList = await cli(
      'enterprises',
      'import',
      id,
      '--file',
      badList,
      '--as',
      'spj-coord',
      '--json',
    );
    expect(refusedList.code).toBe(1);
    expect(refusedList.json<{ rejected: { line: number; column: number }[] }>().rejected).toEqual([
      { line: 2, column: 3, message: expect.stringMatching(/主管部门 "县交通局"/) },
      { line: 3, column: 4, message: expect.stringMatching(/unknown indicator\(s\) "abc"/) },
    ]);
    const list = join(dir, 'enterprises.csv');
    writeFileSync(
      list,
      [
        header,
        `${A},甲商贸有限公司,,kbqy`,
        `${B},乙建筑有限公司,县住房和城乡建设局,jzxk`,
        `${C},丙建设工程有限公司,zjj,jzxk、kbqy`,
        `${D},丁科技有限公司,,ns`,
      ].join('\n'),
    );
    await ok('enterprises', 'import', id, '--file', list, '--as', 'spj-coord');
    await ok('sample', id, '--as', 'dsf-eval', '--seed', 's1');

    // The answered list: every bad line located, nothing recorded, a document on stdout.
    const bad = join(dir, 'answers-bad.csv');
    writeFileSync(
      bad,
      ['统一社会信用代码,指标代码,填报日期', `${A},ns,`, `${B},,2026-02-30`, `${A},kbqy,`].join(
        '\n',
      ),
    );
    const refused = await cli(
      'questionnaire',
      'import',
      id,
      '--file',
      bad,
      '--as',
      'dsf-eval',
      '--json',
    );
    expect(refused.code).toBe(1);
    expect(refused.json()).toEqual({
      imported: 0,
      rejected: [
        { line: 2, column: 2, message: expect.stringMatching(/not asked the questionnaire of ns/) },
        { line: 3, column: 3, message: expect.stringMatching(/填报日期 "2026-02-30"/) },
      ],
    });
    const forPeople = await cli('questionnaire', 'import', id, '--file', bad, '--as', 'dsf-eval');
    expect(forPeople.code).toBe(1);
    expect(forPeople.stderr).toMatch(/2 bad line\(s\), nothing imported:\n {2}line 2, column 2: /);
    expect(await q('SELECT 1 FROM questionnaire_answers WHERE campaign_id = $1', id)).toEqual([]);
    // Only the evaluator or the bureau records answers.
    const notAllowed = await cli(
      'questionnaire',
      'import',
      id,
      '--file',
      bad,
      '--as',
      'zjj-staff1',
      '--json',
    );
    expect(notAllowed.code).toBe(1);

    // The answered list as a workbook: 甲 (kbqy) and 丁 (every questionnaire it is asked).
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('已答卷企业');
    ws.addRow(['统一社会信用代码', '企业名称', '指标代码', '填报日期']);
    ws.addRow([A, '甲商贸有限公司', 'kbqy', new Date(Date.UTC(2026, 10, 3))]);
    ws.addRow([D, '丁科技有限公司', '', '']);
    const xlsx = join(dir, 'answers.xlsx');
    await wb.xlsx.writeFile(xlsx);
    const imported = await ok<{ imported: number; enterprises: number; rates: Rates }>(
      'questionnaire',
      'import',
      id,
      '--file',
      xlsx,
      '--as',
      'dsf-eval',
    );
    expect(imported).toMatchObject({ imported: 2, enterprises: 2 });
    expect(imported.rates.total).toEqual({ expected: 5, answered: 2, rate: 0.4 });
    // 丙 marked as having answered kbqy, by hand.
    await ok(
      'questionnaire',
      'mark',
      id,
      C,
      '--indicator',
      'kbqy',
      '--as',
      'dsf-eval',
      '--date',
      '2026-11-04',
    );
    const recorded = await q<{
      credit_code: string;
      indicator: string;
      source: string;
      recorded_by: string;
    }>(
      `SELECT credit_code, indicator, source, recorded_by FROM questionnaire_answers
        WHERE campaign_id = $1 ORDER BY credit_code, indicator`,
      id,
    );
    expect(recorded).toEqual([
      { credit_code: A, indicator: 'kbqy', source: 'import', recorded_by: 'dsf-eval' },
      { credit_code: C, indicator: 'kbqy', source: 'mark', recorded_by: 'dsf-eval' },
      { credit_code: D, indicator: 'ns', source: 'import', recorded_by: 'dsf-eval' },
    ]);

    // The board, the questionnaire's status and the dispatch digest carry the same rates.
    const board = await ok<{ questionnaire: Rates }>('status', id);
    expect(board.questionnaire.total).toEqual({ expected: 5, answered: 3, rate: 0.6 });
    expect(board.questionnaire.byUnit).toEqual([
      { unit: 'scjgj', expected: 1, answered: 1, rate: 1 },
      { unit: 'swj', expected: 1, answered: 1, rate: 1 },
      { unit: 'zjj', expected: 3, answered: 1, rate: 0.3333 },
    ]);
    const status = await ok<{
      nonRespondents: { unit: string; enterprises: { name: string }[] }[];
    }>('questionnaire', 'status', id);
    expect(status.nonRespondents).toEqual([
      {
        unit: 'zjj',
        enterprises: [
          { creditCode: B, name: '乙建筑有限公司', indicators: ['jzxk'] },
          { creditCode: C, name: '丙建设工程有限公司', indicators: ['jzxk'] },
        ],
      },
    ]);
    // For people: the board's line, and the status with who has not answered.
    const boardText = await cli('status', id);
    expect(boardText.stdout).toContain('企业问卷答卷率 60% (3/5)  zjj 33.3%');
    const statusText = await cli('questionnaire', 'status', id, '--lang', 'en');
    expect(statusText.code).toBe(0);
    expect(statusText.stdout).toContain('Enterprise questionnaire response rate: 60% (3/5)');
    expect(statusText.stdout).toContain(`zjj 县住房和城乡建设局: 2 not answered`);
    expect(statusText.stdout).toContain(`  ${B} 乙建筑有限公司  jzxk`);
    const digest = await ok<{ questionnaire: Rates }>('report', 'dispatch', id);
    expect(digest.questionnaire.byIndicator).toContainEqual({
      code: 'jzxk',
      expected: 2,
      answered: 0,
      rate: 0,
    });
    const md = await cli('report', 'dispatch', id, '--format', 'md');
    expect(md.code).toBe(0);
    expect(md.stdout).toContain('企业问卷答卷率 60% (3/5)');

    // The chase: one task to zjj; the command run again raises nothing new.
    const due = formatIsoOffset(Date.now() + 2 * 86_400_000, TZ);
    const first = await ok<{ raised: { unit: string; taskId: string }[] }>(
      'questionnaire',
      'chase',
      id,
      '--due',
      due,
      '--as',
      'spj-coord',
    );
    expect(first.raised.map((r) => r.unit)).toEqual(['zjj']);
    const again = await ok<{ raised: { taskId: string }[]; skipped: unknown[] }>(
      'questionnaire',
      'chase',
      id,
      '--due',
      due,
      '--as',
      'spj-coord',
    );
    expect(again.raised.map((r) => r.taskId)).toEqual([first.raised[0]!.taskId]);
    const chaseTasks = await until(
      'the chase task projected',
      () =>
        q<{ task_id: string; title: string; assignee: string }>(
          `SELECT task_id, title, assignee FROM tasks WHERE campaign_id = $1 AND kind = 'enterprise-assist'`,
          id,
        ),
      (r) => r.length > 0,
    );
    expect(chaseTasks).toEqual([
      {
        task_id: first.raised[0]!.taskId,
        title:
          '协助企业填报问卷：县住房和城乡建设局主管的 2 家抽样企业未答卷——乙建筑有限公司、丙建设工程有限公司',
        assignee: 'zjj-staff1',
      },
    ]);
    // The chase needs the bureau.
    const byEvaluator = await cli(
      'questionnaire',
      'chase',
      id,
      '--due',
      due,
      '--as',
      'dsf-eval',
      '--json',
    );
    expect(byEvaluator.code).toBe(1);
    expect(byEvaluator.json<{ error: string }>().error).toMatch(
      /may not raise the questionnaire chase tasks/,
    );

    // A site visit during verification: a verified item with its date and place.
    await ok('phase', id, 'close', 'training', '--as', 'spj-coord', '--reason', '培训已集中完成');
    await ok('phase', id, 'close', 'dataEntry', '--as', 'spj-coord', '--reason', '填报完成');
    await until(
      'jzxk in verification',
      () =>
        q<{ phase: string }>(
          `SELECT phase FROM indicator_status WHERE campaign_id = $1 AND code = 'jzxk'`,
          id,
        ),
      (r) => r[0]?.phase === 'verification',
    );
    const visit = await ok<{ flagged: boolean; date: string }>(
      'visit',
      'record',
      id,
      'jzxk',
      '--kind',
      'site-visit',
      '--date',
      '2026/11/5',
      '--place',
      '县政务服务中心住建窗口',
      '--outcome',
      'discrepant',
      '--note',
      '现场办理环节比填报多一个',
      '--as',
      'dsf-eval',
    );
    expect(visit).toMatchObject({ flagged: true, date: '2026-11-05' });
    const visits = await ok<{ visits: unknown[]; items: { item: string; outcome: string }[] }>(
      'visit',
      'list',
      id,
      '--indicator',
      'jzxk',
    );
    expect(visits.visits).toEqual([
      expect.objectContaining({
        indicator: 'jzxk',
        kind: 'site-visit',
        date: '2026-11-05',
        place: '县政务服务中心住建窗口',
        outcome: 'discrepant',
        note: '现场办理环节比填报多一个',
        recordedBy: 'dsf-eval',
      }),
    ]);
    expect(visits.items).toEqual([
      expect.objectContaining({
        item: '实地核查 2026-11-05 县政务服务中心住建窗口',
        outcome: 'discrepant',
      }),
    ]);
    const visitsText = await cli('visit', 'list', id);
    expect(visitsText.stdout).toMatch(
      /jzxk\s+│?\s*实地核查\s+│?\s*2026-11-05\s+│?\s*县政务服务中心住建窗口\s+│?\s*有差异/,
    );
    const flagged = await q<{ flagged: boolean }>(
      `SELECT flagged FROM indicator_status WHERE campaign_id = $1 AND code = 'jzxk'`,
      id,
    );
    expect(flagged).toEqual([{ flagged: true }]);
    // A visit needs the evaluator, a date and a place.
    const badDate = await cli(
      'visit', 'record', id, 'jzxk', '--kind', 'interview', '--date', '11月5日', '--place', '企业',
      '--outcome', 'confirmed', '--as', 'dsf-eval', '--json',
    ); // prettier-ignore
    expect(badDate.code).toBe(2);
    expect(badDate.json<{ error: string }>().error).toMatch(/--date "11月5日" is not a date/);
  });
});
