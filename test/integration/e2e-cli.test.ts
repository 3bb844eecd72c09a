// End to end through the command line only, on the dev server and PostgreSQL: the quick example
// begun now, driven the way the bureau, the departments and the evaluator would drive it —
// start, board, training (one unit left late and chased), data entry with a refusal, a return
// and a review, evidence and verification with a discrepancy, the enterprise list and the
// sample, results, the rectification to closure with a rejected measure, and the ledger
// exported — checking the `--json` outputs and the database at each stage. The phase windows are
// hours long, so that nothing passes while the test acts however busy the machine is; the bureau
// closes each phase when the test has done what it wanted in it (`campaign phase … close`), and
// the escalation ladder is seconds long, so that the late unit is chased at once.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import ExcelJS from 'exceljs';
import { parse as parseYaml } from 'yaml';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatIsoOffset } from '../../domain/time.ts';
import { withCreditCheck } from '../../domain/imports.ts';
import { runCli, type CliRun } from '../helpers/cli.ts';
import type { TestDatabase } from '../helpers/postgres.ts';
import { startHarness, type Harness } from '../helpers/temporal.ts';

Runtime.install({ logger: new DefaultLogger('ERROR') });

let harness: Harness;
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let cliEnv: NodeJS.ProcessEnv;
const dir = mkdtempSync(join(tmpdir(), 'e2e-'));
const id = `e2e-${Date.now().toString(36)}`;
const TZ = 'Asia/Shanghai';

/** The quick example with windows of hours, every indicator on one data-entry slot, a fast ladder. */
function steadyDefinition(): string {
  const raw = parseYaml(readFileSync('examples/quick-demo.yaml', 'utf8'));
  const t0 = Date.parse(`${raw.phases.training.start}+08:00`);
  const at = (hours: number) => formatIsoOffset(t0 + hours * 3_600_000, TZ).slice(0, 19);
  raw.phases.training = { start: at(0), end: at(2) };
  raw.phases.dataEntry = { ...raw.phases.dataEntry, start: at(2), end: at(4), slot: 'PT2H' };
  raw.phases.dataEntry.indicatorsPerDay = raw.indicators.length;
  raw.phases.verification = { ...raw.phases.verification, start: at(4), end: at(6) };
  raw.phases.reporting = { start: at(6), end: at(8) };
  raw.policy.escalation = [
    { after: { duration: 'PT5S' }, notify: ['assignee', 'deputy'], label: '分管领导督办' },
    { after: { duration: 'PT5S' }, notify: ['head'], label: '一把手督办' },
    { after: { duration: 'PT1H' }, notify: ['bureau', 'leadership'], label: '县领导约谈' },
  ];
  raw.policy.returnDue = { duration: 'PT1H' };
  raw.rectification.stepDue = { duration: 'PT1H' };
  raw.rectification.progressEvery = 'PT1H';
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
    // The person at the keyboard, recorded with every action entered for someone else (代录).
    CAMPAIGN_OPERATOR: '审批局录入员',
  };
});

afterAll(async () => {
  await env?.client.workflow
    .getHandle(id)
    .terminate('test done')
    .catch(() => {});
  await harness?.close();
});

interface Task {
  taskId: string;
  kind: string;
  indicator: string | null;
  unit: string;
  assignee: string;
  state: string;
  escalationLevel: number;
}
interface Board {
  phase: string;
  indicators: { code: string; phase: string; state: string; flagged: boolean }[];
  decisions: { type: string; phase: string | null; actor: string; reason: string }[];
}

/** The command line, which must succeed; its JSON output. */
async function ok<T>(...args: string[]): Promise<T> {
  const r = await runCli([...args, '--json'], cliEnv);
  expect(r.code, `campaign ${args.join(' ')}\n${r.stderr}${r.stdout}`).toBe(0);
  return r.json<T>();
}
/** A campaign's tasks; none yet while the worker has not projected the first one. */
async function tasksOf(campaign: string): Promise<Task[]> {
  const r = await runCli(['tasks', campaign, '--state', 'all', '--json'], cliEnv);
  if (r.code === 1 && /no tasks recorded/.test(r.stderr)) return [];
  expect(r.code, `campaign tasks ${campaign}\n${r.stderr}${r.stdout}`).toBe(0);
  return r.json<Task[]>();
}
/** The command line, which must refuse (exit 1); its message. */
async function refused(...args: string[]): Promise<string> {
  // The English texts (refusals are Chinese by default).
  const r: CliRun = await runCli([...args, '--json', '--lang', 'en'], cliEnv);
  expect(r.code, `campaign ${args.join(' ')} should have been refused`).toBe(1);
  return r.json<{ error: string }>().error;
}
const board = () => ok<Board>('status', id);
const tasks = async (...filter: string[]): Promise<Task[]> => {
  const r = await runCli(['tasks', id, '--state', 'all', ...filter, '--json'], cliEnv);
  if (r.code === 1 && /no tasks recorded/.test(r.stderr)) return [];
  expect(r.code, `campaign tasks ${id}\n${r.stderr}${r.stdout}`).toBe(0);
  return r.json<Task[]>();
};
async function until<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean) {
  const deadline = Date.now() + 150_000;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
const file = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};
const submit = (t: Task, ...more: string[]) =>
  ok<{ state: string }>('task', 'submit', t.taskId, '--as', t.assignee, ...more);
const approve = (taskId: string, as = 'spj-coord') =>
  ok<{ state: string }>('task', 'approve', taskId, '--as', as);
const q = async <T>(sql: string, ...params: unknown[]) =>
  (await db.pool.query(sql, params)).rows as T[];

describe('a campaign from start to its closed rectification, through the command line only', () => {
  it('runs every phase and the rectification, and the outputs and the database agree', async () => {
    // Start, and the board in training.
    const definition = steadyDefinition();
    expect(
      await ok('start', definition, '--id', id, '--begin', 'now', '--as', 'spj-coord'),
    ).toEqual({ campaignId: id, workflowId: id });
    expect(await refused('start', definition, '--id', id, '--begin', 'now')).toMatch(
      /already started/,
    );
    const training = await until(
      'the training tasks',
      () => tasks('--indicator', 'kbqy'),
      (l) => l.length === 3,
    );
    expect(training.every((t) => t.kind === 'training' && t.state === 'open')).toBe(true);
    expect((await board()).phase).toBe('training');

    // Training: everyone but 住建局 (zjj) on time; zjj is left to be chased up the ladder.
    const allTraining = await until(
      'every training task',
      () => tasks(),
      (l) => l.filter((t) => t.kind === 'training').length === 10,
    );
    for (const t of allTraining.filter((t) => t.unit !== 'zjj'))
      expect((await submit(t, '--note', '已参加培训')).state).toBe('done');
    const late = allTraining.find((t) => t.unit === 'zjj' && t.assignee === 'zjj-staff1')!;
    // Only the bureau closes a phase, with a reason, and only the phase under way.
    expect(
      await refused('phase', id, 'close', 'training', '--as', 'zjj-staff1', '--reason', '想结束'),
    ).toMatch(/zjj-staff1 may not move a phase: the bureau's coordinators and head may/);
    expect(
      await refused('phase', id, 'close', 'reporting', '--as', 'spj-coord', '--reason', '提前'),
    ).toMatch(/not the phase under way/);
    // The bureau closes training now: zjj's training is due now and is chased up the ladder.
    expect(
      await ok<{ phase: string; action: string; campaignPhase: string }>(
        'phase',
        id,
        'close',
        'training',
        '--as',
        'spj-coord',
        '--reason',
        '培训已集中完成',
      ),
    ).toMatchObject({ phase: 'training', action: 'close', campaignPhase: 'dataEntry' });
    expect(
      await refused('phase', id, 'close', 'training', '--as', 'spj-coord', '--reason', '再次'),
    ).toMatch(/training \(前期培训\) is already over/);
    const redated = await until(
      'the late training task re-dated',
      () =>
        ok<{ due: string; events: { type: string; actor: string | null; detail: unknown }[] }>(
          'task',
          'show',
          late.taskId,
        ),
      (t) => t.events.some((e) => e.type === 'redated'),
    );
    expect(redated.events.find((e) => e.type === 'redated')).toMatchObject({
      actor: 'spj-coord',
      detail: expect.objectContaining({ reason: '培训已集中完成', phase: 'training' }),
    });
    expect((await board()).decisions).toEqual([
      expect.objectContaining({
        type: 'phase-closed',
        phase: 'training',
        actor: 'spj-coord',
        reason: '培训已集中完成',
      }),
    ]);
    const chased = await until(
      'the late training task to reach the unit head',
      () => ok<{ escalationLevel: number }>('task', 'show', late.taskId),
      (t) => t.escalationLevel >= 2,
    );
    expect(chased.escalationLevel).toBeGreaterThanOrEqual(2);
    const ladder = await q<{ recipients: string[] }>(
      `SELECT recipients FROM task_events WHERE task_id = $1 AND type = 'escalated' ORDER BY seq`,
      late.taskId,
    );
    expect(ladder[0]!.recipients).toEqual(expect.arrayContaining(['zjj-staff1', 'zjj-deputy']));
    expect(ladder[1]!.recipients).toContain('zjj-head');
    for (const t of allTraining.filter((t) => t.unit === 'zjj'))
      expect((await submit(t, '--note', '补参加培训')).state).toBe('done');

    // Data entry: bad data refused with the field named; kbqy returned once, then approved.
    const entry = await until(
      'the questionnaires and contributions',
      () => tasks(),
      (l) => l.filter((t) => t.kind === 'questionnaire').length === 4,
    );
    const kbqy = entry.find((t) => t.kind === 'questionnaire' && t.indicator === 'kbqy')!;
    const bad = file('bad.json', { procedures: 'four', days: 1.5, onlineRate: 96 });
    expect(
      await refused('task', 'submit', kbqy.taskId, '--as', 'scjgj-staff1', '--data', bad),
    ).toMatch(/procedures/);
    const kbqyData = file('kbqy.json', { procedures: 4, days: 1.5, onlineRate: 96 });
    // The indicator lists its evidence (政策文件、办件记录): a submission without any is refused.
    expect(
      await refused('task', 'submit', kbqy.taskId, '--as', 'scjgj-staff1', '--data', kbqyData),
    ).toMatch(/supporting evidence \(印证资料\) is required/);
    const kbqyFiles = ['--evidence', 'https://oa.example.gov.cn/files/kbqy-policy.pdf'];
    expect((await submit(kbqy, '--data', kbqyData, ...kbqyFiles)).state).toBe('submitted');
    expect(
      (
        await ok<{ state: string }>(
          'task',
          'return',
          kbqy.taskId,
          '--as',
          'spj-coord',
          '--reason',
          '统一填报尺度：网办率按全程网办口径',
        )
      ).state,
    ).toBe('returned');
    expect(
      (await submit(kbqy, '--data', kbqyData, '--note', '已按口径修改', ...kbqyFiles)).state,
    ).toBe('submitted');
    expect((await approve(kbqy.taskId)).state).toBe('done');
    const reviewed = await ok<{ events: { type: string; actor: string | null; detail: never }[] }>(
      'task',
      'show',
      kbqy.taskId,
    );
    // Every action was typed in at the command line for the person it names: recorded as such.
    for (const e of reviewed.events.filter((x) => x.actor !== null))
      expect(e.detail, `${e.type} by ${e.actor}`).toMatchObject({ enteredBy: '审批局录入员' });
    expect(reviewed.events.filter((e) => e.type === 'approved').map((e) => e.actor)).toEqual([
      'spj-coord',
    ]);
    const data: Record<string, unknown> = {
      ns: { taxHours: 120, onlineRate: 99 },
      jzxk: { procedures: 8, days: 40, approvalPath: '一般项目' },
      scjg: { jointInspections: 85 },
    };
    for (const t of entry.filter((t) => t.kind === 'questionnaire' && t.indicator !== 'kbqy')) {
      await submit(t, '--data', file(`${t.indicator}.json`, data[t.indicator!]));
      expect((await approve(t.taskId)).state).toBe('done');
    }
    for (const t of entry.filter((t) => t.kind === 'contribution'))
      expect((await submit(t, '--note', '已提供本单位数据')).state).toBe('done');
    const stored = await q<{ data: unknown }>(
      `SELECT data FROM submissions WHERE task_id = $1 ORDER BY seq DESC LIMIT 1`,
      kbqy.taskId,
    );
    expect(stored[0]!.data).toEqual({ procedures: 4, days: 1.5, onlineRate: 96 });

    // Verification: the enterprise list, the sample, evidence and the verified items. The
    // province gives verification more time first, then the bureau closes data entry.
    const moreTime = formatIsoOffset(Date.now() + 7 * 3_600_000, TZ).slice(0, 16);
    expect(
      await refused(
        'phase',
        id,
        'extend',
        'dataEntry',
        '--until',
        moreTime,
        '--as',
        'spj-coord',
        '--reason',
        '延长',
      ),
    ).toMatch(/cannot end after verification.*extend verification first/);
    expect(
      await ok<{ phase: string; end: string }>(
        'phase',
        id,
        'extend',
        'verification',
        '--until',
        moreTime,
        '--as',
        'spj-coord',
        '--reason',
        '省里延长核验时间',
      ),
    ).toMatchObject({ phase: 'verification', end: expect.stringContaining(moreTime) });
    await ok('phase', id, 'close', 'dataEntry', '--as', 'spj-coord', '--reason', '填报完成');
    await until('verification', board, (b) => b.phase === 'verification');
    const lines = ['统一社会信用代码,企业名称,行业,乡镇'];
    for (let i = 0; i < 50; i++)
      lines.push(
        `${withCreditCheck(`913400000000${String(i).padStart(5, '0')}`)},端到端企业${i}号,制造业,城关镇`,
      );
    const list = file('enterprises.csv', `${lines.join('\n')}\n`);
    expect(await ok('enterprises', 'import', id, '--file', list, '--as', 'spj-coord')).toEqual({
      imported: 50,
      rejected: [],
    });
    const sample = await ok<{ size: number; enterprises: string[] }>(
      'sample',
      id,
      '--as',
      'dsf-eval',
      '--seed',
      'e2e',
    );
    expect(sample.size).toBe(10);
    const asked = await ok<{ taskId: string }>(
      'evidence',
      'request',
      id,
      'kbqy',
      '--unit',
      'scjgj',
      '--what',
      '抽样企业办件记录',
      '--as',
      'dsf-eval',
    );
    const evidenceTask = await until(
      'the evidence task',
      () => tasks('--unit', 'scjgj'),
      (l) => l.some((t) => t.taskId === asked.taskId),
    );
    expect(
      (
        await submit(
          evidenceTask.find((t) => t.taskId === asked.taskId)!,
          '--evidence',
          'https://oa.example.gov.cn/kbqy-records.pdf',
          '--note',
          '已上传',
        )
      ).state,
    ).toBe('done');
    await ok(
      'verify',
      id,
      'kbqy',
      '--item',
      '办件记录',
      '--outcome',
      'confirmed',
      '--as',
      'dsf-eval',
    );
    await ok(
      'verify',
      id,
      'ns',
      '--item',
      '纳税时间',
      '--outcome',
      'discrepant',
      '--note',
      '抽查企业实际纳税时间与填报不符',
      '--as',
      'dsf-eval',
    );
    // Business records: zjj uploads its record list for jzxk; the evaluator draws two, asks
    // each from zjj (one evidence task per record), and confirms one.
    const recordList = file(
      'zjj-jzxk.csv',
      `办件编号,办结日期,事项名称,申请人,办理时长（工作日）\n${[1, 2, 3, 4, 5].map((i) => `JZ-${i},2026-09-0${i},施工许可,建设单位${i},${i * 2}`).join('\n')}\n`,
    );
    expect(
      await ok(
        'records',
        'upload',
        id,
        'jzxk',
        '--unit',
        'zjj',
        '--file',
        recordList,
        '--as',
        'zjj-staff1',
      ),
    ).toMatchObject({ imported: 5, listNo: 1 });
    const recordSample = await ok<{ drawNo: number; records: { recordNo: string }[] }>(
      'records',
      'sample',
      id,
      'jzxk',
      '--as',
      'dsf-eval',
      '--seed',
      'e2e-records',
      '--count',
      '2',
    );
    expect(recordSample.records).toHaveLength(2);
    expect(
      await refused(
        'records',
        'sample',
        id,
        'jzxk',
        '--as',
        'dsf-eval',
        '--seed',
        'other',
        '--count',
        '2',
      ),
    ).toMatch(/needs the bureau's reason/);
    const recordAsks = await ok<{ requested: { recordNo: string; taskId: string }[] }>(
      'records',
      'request',
      id,
      'jzxk',
      '--as',
      'dsf-eval',
    );
    expect(recordAsks.requested.map((r) => r.recordNo)).toEqual(
      recordSample.records.map((r) => r.recordNo),
    );
    const recordTasks = await until(
      'the record evidence tasks',
      () => tasks('--unit', 'zjj', '--indicator', 'jzxk'),
      (l) => recordAsks.requested.every((r) => l.some((t) => t.taskId === r.taskId)),
    );
    for (const r of recordAsks.requested)
      expect(
        (
          await submit(
            recordTasks.find((t) => t.taskId === r.taskId)!,
            '--evidence',
            `https://oa.example.gov.cn/${r.recordNo}.pdf`,
          )
        ).state,
      ).toBe('done');
    expect(
      await ok(
        'records',
        'verify',
        id,
        'jzxk',
        '--record',
        recordSample.records[0]!.recordNo,
        '--outcome',
        'confirmed',
        '--as',
        'dsf-eval',
      ),
    ).toMatchObject({ outcome: 'confirmed', flagged: false, unit: 'zjj' });
    const flagged = await until('ns flagged', board, (b) =>
      b.indicators.some((i) => i.code === 'ns' && i.flagged),
    );
    expect(flagged.indicators.find((i) => i.code === 'kbqy')!.flagged).toBe(false);
    expect(
      await q('SELECT code, outcome FROM verifications WHERE campaign_id = $1 ORDER BY code', id),
    ).toEqual([
      { code: 'jzxk', outcome: 'confirmed' },
      { code: 'kbqy', outcome: 'confirmed' },
      { code: 'ns', outcome: 'discrepant' },
    ]);

    // Reporting: a results file with a mistake is refused whole; the good one starts kbqy's
    // rectification (the lowest score, and the bottom rank).
    await ok('phase', id, 'close', 'verification', '--as', 'spj-coord', '--reason', '核验完成');
    await until('reporting', board, (b) => b.phase === 'reporting');
    const wrong = file('wrong.csv', '指标代码,得分,排名\nkbqy,72,4\nxxx,90,1\n');
    const wrongRun = await runCli(
      ['results', 'import', id, '--file', wrong, '--as', 'spj-coord', '--json'],
      cliEnv,
    );
    expect(wrongRun.code).toBe(1);
    expect(wrongRun.json<{ rejected: { line: number }[] }>().rejected.map((r) => r.line)).toEqual([
      3,
    ]);
    expect(await q('SELECT * FROM results WHERE campaign_id = $1', id)).toEqual([]);
    const results = file(
      'results.csv',
      '指标代码,得分,排名\nkbqy,72,4\nns,91,1\njzxk,86,2\nscjg,83,3\n',
    );
    expect(
      await ok<{ rectificationStarted: string[] }>(
        'results',
        'import',
        id,
        '--file',
        results,
        '--as',
        'spj-coord',
      ),
    ).toMatchObject({ rectificationStarted: ['kbqy'] });
    // The report is written: reporting closes; the campaign waits for the rectification.
    await ok('phase', id, 'close', 'reporting', '--as', 'spj-coord', '--reason', '报告已编制');

    // The rectification: four steps, each approved by the bureau, then the measures.
    const step = async (kind: string, stepData: unknown) => {
      const [t] = await until(
        kind,
        () => tasks('--indicator', 'kbqy'),
        (l) => l.some((x) => x.kind === kind && x.state === 'open'),
      ).then((l) => l.filter((x) => x.kind === kind));
      expect((await submit(t!, '--data', file(`${kind}.json`, stepData))).state).toBe('submitted');
      expect((await approve(t!.taskId)).state).toBe('done');
    };
    await step('rectify-problems', {
      problems: [
        { finding: '评价报告第3条', description: '企业开办仍需线下提交材料' },
        { finding: '评价报告第5条', description: '开户与社保登记未并联' },
      ],
    });
    await step('rectify-causes', {
      causes: [
        { problem: 1, cause: '电子签名未全面推行' },
        { problem: 2, cause: '部门数据未共享' },
      ],
    });
    await step('rectify-gaps', {
      benchmark: '合肥市',
      gaps: [
        { problem: 1, gap: '合肥全程网办率98%' },
        { problem: 2, gap: '合肥0.5个工作日办结' },
      ],
    });
    const due = formatIsoOffset(Date.now() + 30 * 60_000, TZ).slice(0, 16);
    await step('rectify-measures', {
      measures: [
        { problem: 1, measure: '推行电子营业执照', unit: 'scjgj', person: 'scjgj-staff1', due },
        { problem: 2, measure: '开户社保并联办理', unit: 'swj', person: 'swj-staff1', due },
      ],
    });
    const measures = await until(
      'the measures',
      () => tasks('--indicator', 'kbqy'),
      (l) => l.filter((t) => t.kind === 'measure').length === 2,
    ).then((l) => l.filter((t) => t.kind === 'measure'));
    const [m1, m2] = measures.sort((a, b) => a.taskId.localeCompare(b.taskId));
    const proof = ['--evidence', 'https://oa.example.gov.cn/m.pdf', '--note', '已落实'];
    await submit(m1!, ...proof);
    expect(
      (
        await ok<{ state: string }>(
          'task',
          'return',
          m1!.taskId,
          '--as',
          'spj-coord',
          '--reason',
          '覆盖率不足',
        )
      ).state,
    ).toBe('returned');
    await submit(m2!, ...proof);
    expect((await approve(m2!.taskId)).state).toBe('done');
    await submit(m1!, ...proof);
    expect((await approve(m1!.taskId)).state).toBe('done');

    // Everything closes: kbqy with its rectification, then the campaign after reporting.
    const closed = await until('the campaign to close', board, (b) => b.phase === 'closed');
    expect(closed.indicators.map((i) => [i.code, i.phase])).toEqual([
      ['kbqy', 'closed'],
      ['ns', 'closed'],
      ['jzxk', 'closed'],
      ['scjg', 'closed'],
    ]);
    expect(
      await q(`SELECT state FROM tasks WHERE campaign_id = $1 AND state <> 'done'`, id),
    ).toEqual([]);
    const [late1] = await q<{ on_time: boolean }>(
      'SELECT on_time FROM tasks WHERE task_id = $1',
      late.taskId,
    );
    expect(late1!.on_time).toBe(false);
    expect(
      await q(
        `SELECT i.no, t.state, t.on_time FROM rectification_items i JOIN tasks t USING (task_id)
          WHERE i.campaign_id = $1 ORDER BY i.no`,
        id,
      ),
    ).toEqual([
      { no: 1, state: 'done', on_time: true },
      { no: 2, state: 'done', on_time: true },
    ]);
    const [rect] = await q<{ state: string; closed_at: Date | null }>(
      `SELECT state, closed_at FROM rectifications WHERE campaign_id = $1`,
      id,
    );
    expect(rect!.state).toBe('closed');
    expect(rect!.closed_at).toBeInstanceOf(Date);

    // The ledger, as JSON and as a workbook read back.
    const ledger = await ok<{ measure: string; state: string; unit: string; closedAt: string }[]>(
      'report',
      'ledger',
      id,
    );
    expect(ledger.map((r) => [r.measure, r.unit, r.state])).toEqual([
      ['推行电子营业执照', '县市场监督管理局', 'closed'],
      ['开户社保并联办理', '县税务局', 'closed'],
    ]);
    expect(ledger.every((r) => /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/.test(r.closedAt))).toBe(true);
    const xlsx = join(dir, 'ledger.xlsx');
    const written = await runCli(
      ['report', 'ledger', id, '--format', 'xlsx', '--out', xlsx],
      cliEnv,
    );
    expect(written.code, written.stderr).toBe(0);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(xlsx);
    const ws = wb.worksheets[0]!;
    expect(ws.getRow(1).getCell(1).value).toBe('序号');
    expect(ws.getRow(2).getCell(6).value).toBe('推行电子营业执照');
    expect(ws.getRow(3).getCell(11).value).toBe('已销号');
  }, 600_000);
});

describe('a campaign started for a rehearsal, cancelled by the bureau', () => {
  it('cancels every open task with the reason, once, and the board and the list say so', async () => {
    const rehearsal = `${id}-cancel`;
    const definition = steadyDefinition();
    await ok('start', definition, '--id', rehearsal, '--begin', 'now', '--as', 'spj-coord');
    await until(
      'the training tasks',
      () => tasksOf(rehearsal),
      (l) => l.filter((t) => t.kind === 'training').length === 10,
    );
    expect(
      await refused('cancel', rehearsal, '--as', 'scjgj-staff1', '--reason', '演练结束'),
    ).toMatch(/may not cancel the campaign/);
    expect(await ok('cancel', rehearsal, '--as', 'spj-coord', '--reason', '演练结束')).toEqual({
      campaignId: rehearsal,
      status: 'cancelled',
    });
    // The same command again is answered, not applied twice; another one is refused.
    expect(await ok('cancel', rehearsal, '--as', 'spj-coord', '--reason', '演练结束')).toEqual({
      campaignId: rehearsal,
      status: 'cancelled',
    });
    const all = await until(
      'every task cancelled',
      () => tasksOf(rehearsal),
      (l) => l.length > 0 && l.every((t) => t.state === 'cancelled'),
    );
    expect(all).toHaveLength(10);
    const shown = await ok<{ events: { type: string; actor: string | null; detail: unknown }[] }>(
      'task',
      'show',
      all[0]!.taskId,
    );
    expect(shown.events.filter((e) => e.type === 'cancelled')).toEqual([
      expect.objectContaining({
        actor: 'spj-coord',
        detail: expect.objectContaining({ reason: '演练结束' }),
      }),
    ]);
    const notices = await q<{ n: string }>(
      `SELECT count(*) AS n FROM notices n JOIN task_events e
         ON e.task_id = n.task_id AND e.seq = n.event_seq
        WHERE n.campaign_id = $1 AND e.type = 'cancelled'`,
      rehearsal,
    );
    expect(Number(notices[0]!.n)).toBe(10);
    const b = await until(
      'the board to say cancelled',
      () => ok<Board>('status', rehearsal),
      (x) => x.phase === 'cancelled' && x.indicators.every((i) => i.state === 'cancelled'),
    );
    expect(b.decisions.map((d) => d.type)).toEqual(['cancelled']);
    if (process.env.SAVE_HISTORIES) {
      const save = async (name: string, workflowId: string) =>
        writeFileSync(
          `test/replay/histories/${name}.json`,
          historyToJSON(await env.client.workflow.getHandle(workflowId).fetchHistory()),
        );
      await save('campaign-cancelled', rehearsal);
      await save('indicator-cancelled', `${rehearsal}/kbqy`);
      await save('task-cancelled-by-campaign', all[0]!.taskId);
    }
    const list = await ok<{ campaignId: string; status: string }[]>('list');
    expect(list.find((c) => c.campaignId === rehearsal)?.status).toBe('cancelled');
    expect(
      await refused('phase', rehearsal, 'close', 'training', '--as', 'spj-coord', '--reason', 'x'),
    ).toMatch(/was cancelled: 演练结束/);
  }, 300_000);
});
