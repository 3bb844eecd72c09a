// `npm run backup` and `npm run restore` on the local services (dev server and embedded
// PostgreSQL, on ports and a data folder of the test's own): a campaign is backed up in the
// middle of data entry, the services are stopped and their data folder deleted, the backup is
// restored onto fresh services with a fresh worker, and the campaign goes on and ends exactly as
// a run of the same definition that nothing disturbed (its board, tasks and ledger, minus ids
// and times). Everything is driven by state: the phase windows are hours long, the bureau
// closes each phase when the test has done what it wanted in it.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatIsoOffset } from '../../domain/time.ts';
import { REPO_ROOT } from '../../scripts/lib/tools.ts';
import { runCli, runNode, type CliRun } from '../helpers/cli.ts';
import { freePort } from '../helpers/postgres.ts';
import { WorkerProcess } from '../helpers/worker-process.ts';

const tsxCli = join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const script = (name: string, args: string[], env: NodeJS.ProcessEnv) =>
  runNode([tsxCli, join(REPO_ROOT, 'scripts', `${name}.ts`), ...args], env, 300_000);
const TZ = 'Asia/Shanghai';

let root: string;
let dataDir: string;
let env: NodeJS.ProcessEnv;
let cliEnv: NodeJS.ProcessEnv;
let worker: WorkerProcess | undefined;
let definition: string;

/** The quick example with windows of hours and a ladder of hours: nothing is due while it runs. */
function steadyDefinition(dir: string): string {
  const raw = parseYaml(readFileSync('examples/quick-demo.yaml', 'utf8'));
  const t0 = Date.parse(`${raw.phases.training.start}+08:00`);
  const at = (hours: number) => formatIsoOffset(t0 + hours * 3_600_000, TZ).slice(0, 19);
  raw.phases.training = { start: at(0), end: at(2) };
  raw.phases.dataEntry = { ...raw.phases.dataEntry, start: at(2), end: at(4), slot: 'PT2H' };
  raw.phases.dataEntry.indicatorsPerDay = raw.indicators.length;
  raw.phases.verification = { ...raw.phases.verification, start: at(4), end: at(6) };
  raw.phases.reporting = { start: at(6), end: at(8) };
  raw.policy.reminders = ['PT30M'];
  raw.policy.warningWindow = 'PT30M';
  raw.policy.escalation = [
    { after: { duration: 'PT1H' }, notify: ['assignee', 'deputy'], label: '分管领导督办' },
    { after: { duration: 'PT1H' }, notify: ['head'], label: '一把手督办' },
  ];
  raw.policy.returnDue = { duration: 'PT1H' };
  raw.rectification.stepDue = { duration: 'PT1H' };
  raw.rectification.progressEvery = 'PT1H';
  const path = join(dir, 'steady.json');
  writeFileSync(path, JSON.stringify(raw));
  return path;
}

const startWorker = async () => {
  worker = new WorkerProcess('worker', cliEnv);
  await worker.waitForLog(/polling task queue/, 180_000);
};

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'campaign-backup-'));
  chmodSync(root, 0o755); // the embedded PostgreSQL runs as the postgres user under root
  dataDir = join(root, 'data');
  const pgPort = await freePort();
  env = {
    CAMPAIGN_DATA_DIR: dataDir,
    TEMPORAL_ADDRESS: `localhost:${await freePort()}`,
    TEMPORAL_UI_PORT: String(await freePort()),
    EMBEDDED_PG_PORT: String(pgPort),
    DATABASE_URL: '',
    TEMPORAL_SERVICES_MODE: 'dev',
  };
  cliEnv = {
    ...env,
    DATABASE_URL: `postgres://postgres:postgres@127.0.0.1:${pgPort}/campaign`,
    TEMPORAL_TASK_QUEUE: `backup-${Date.now()}`,
    CAMPAIGN_OPERATOR: '审批局录入员',
  };
  definition = steadyDefinition(root);
  const started = await script('services', ['start'], env);
  expect(started.code, started.stderr + started.stdout).toBe(0);
  await startWorker();
}, 300_000);

afterAll(async () => {
  await worker?.stop();
  if (env) await script('services', ['stop'], env);
  rmSync(root, { recursive: true, force: true });
}, 120_000);

interface Task {
  taskId: string;
  kind: string;
  indicator: string | null;
  unit: string;
  assignee: string;
  state: string;
  escalationLevel: number;
}

async function ok<T>(...args: string[]): Promise<T> {
  const r: CliRun = await runCli([...args, '--json'], cliEnv);
  expect(r.code, `campaign ${args.join(' ')}\n${r.stderr}${r.stdout}`).toBe(0);
  return r.json<T>();
}
async function until<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean) {
  const deadline = Date.now() + 180_000;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
async function tasksOf(id: string, ...filter: string[]): Promise<Task[]> {
  const r = await runCli(['tasks', id, '--state', 'all', ...filter, '--json'], cliEnv);
  if (r.code === 1 && /no tasks recorded/.test(r.stderr)) return [];
  expect(r.code, `campaign tasks ${id}\n${r.stderr}${r.stdout}`).toBe(0);
  return r.json<Task[]>();
}
const file = (name: string, content: unknown) => {
  const path = join(root, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};
const submit = (t: Task, ...more: string[]) =>
  ok<{ state: string }>('task', 'submit', t.taskId, '--as', t.assignee, ...more);
const approve = (taskId: string) =>
  ok<{ state: string }>('task', 'approve', taskId, '--as', 'spj-coord');
const board = (id: string) => ok<{ phase: string }>('status', id);
const close = (id: string, phase: string) =>
  ok('phase', id, 'close', phase, '--as', 'spj-coord', '--reason', '本阶段完成');

/** Training done and closed; in data entry, kbqy submitted and waiting for the bureau. */
async function firstHalf(id: string): Promise<void> {
  await ok('start', definition, '--id', id, '--begin', 'now', '--as', 'spj-coord');
  const training = await until(
    'every training task',
    () => tasksOf(id),
    (l) => l.filter((t) => t.kind === 'training').length === 10,
  );
  for (const t of training) expect((await submit(t, '--note', '已参加培训')).state).toBe('done');
  await close(id, 'training');
  const entry = await until(
    'the questionnaires',
    () => tasksOf(id),
    (l) => l.filter((t) => t.kind === 'questionnaire').length === 4,
  );
  const kbqy = entry.find((t) => t.kind === 'questionnaire' && t.indicator === 'kbqy')!;
  const data = file('kbqy.json', { procedures: 4, days: 1.5, onlineRate: 96 });
  // The indicator lists its evidence (政策文件、办件记录).
  const files = ['--evidence', 'https://oa.example.gov.cn/files/kbqy.pdf'];
  expect((await submit(kbqy, '--data', data, ...files)).state).toBe('submitted');
}

/** The rest: data entry approved, verification, results, the rectification, the end. */
async function secondHalf(id: string): Promise<void> {
  const entry = await tasksOf(id);
  const kbqy = entry.find((t) => t.kind === 'questionnaire' && t.indicator === 'kbqy')!;
  expect(kbqy.state).toBe('submitted');
  expect((await approve(kbqy.taskId)).state).toBe('done');
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
  await close(id, 'dataEntry');
  await until(
    'verification',
    () => board(id),
    (b) => b.phase === 'verification',
  );
  await close(id, 'verification');
  await until(
    'reporting',
    () => board(id),
    (b) => b.phase === 'reporting',
  );
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
  await close(id, 'reporting');
  const step = async (kind: string, stepData: unknown) => {
    const l = await until(
      kind,
      () => tasksOf(id, '--indicator', 'kbqy'),
      (l) => l.some((x) => x.kind === kind && x.state === 'open'),
    );
    const t = l.find((x) => x.kind === kind)!;
    expect((await submit(t, '--data', file(`${kind}.json`, stepData))).state).toBe('submitted');
    expect((await approve(t.taskId)).state).toBe('done');
  };
  await step('rectify-problems', {
    problems: [{ finding: '评价报告第3条', description: '企业开办仍需线下提交材料' }],
  });
  await step('rectify-causes', { causes: [{ problem: 1, cause: '电子签名未全面推行' }] });
  await step('rectify-gaps', {
    benchmark: '合肥市',
    gaps: [{ problem: 1, gap: '合肥全程网办率98%' }],
  });
  const due = formatIsoOffset(Date.now() + 60 * 60_000, TZ).slice(0, 16);
  await step('rectify-measures', {
    measures: [
      { problem: 1, measure: '推行电子营业执照', unit: 'scjgj', person: 'scjgj-staff1', due },
    ],
  });
  const [measure] = await until(
    'the measure',
    () => tasksOf(id, '--indicator', 'kbqy'),
    (l) => l.some((t) => t.kind === 'measure'),
  ).then((l) => l.filter((t) => t.kind === 'measure'));
  await submit(measure!, '--evidence', 'https://oa.example.gov.cn/m.pdf', '--note', '已落实');
  expect((await approve(measure!.taskId)).state).toBe('done');
  await until(
    'the campaign to close',
    () => board(id),
    (b) => b.phase === 'closed',
  );
}

/** What a run ends with, without its ids and times: the board, the tasks and the ledger. */
async function outcome(id: string) {
  const tasks = (await tasksOf(id))
    .map((t) => ({ ...t, taskId: undefined }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  const report = {
    board: await ok('status', id),
    tasks,
    ledger: await ok('report', 'ledger', id),
  };
  return JSON.parse(
    JSON.stringify(report)
      .replaceAll(id, '<campaign>')
      .replace(/\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?/g, '<time>'),
  ) as unknown;
}

describe('backup and restore of a county', () => {
  it('a campaign backed up mid-phase goes on after a restore onto fresh services and ends as an undisturbed run', async () => {
    const stamp = Date.now().toString(36);
    const undisturbed = `undisturbed-${stamp}`;
    const restored = `restored-${stamp}`;
    await firstHalf(undisturbed);
    await secondHalf(undisturbed);
    const expected = await outcome(undisturbed);

    await firstHalf(restored);
    const out = join(root, 'backup');
    const t0 = Date.now();
    const b = await script('backup', ['--out', out], env);
    const backupMs = Date.now() - t0;
    expect(b.code, b.stderr + b.stdout).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as {
      order: string[];
      bytes: number;
      source: { mode: string; namespace: string };
      files: { path: string; bytes: number; sha256: string }[];
      product: { tables: { name: string; rows: number }[] };
    };
    expect(manifest.order[0]).toMatch(/^temporal/);
    expect(manifest.order[1]).toMatch(/^product/);
    expect(manifest.source).toMatchObject({ mode: 'dev', namespace: 'default' });
    expect(manifest.product.tables.find((t) => t.name === 'tasks')!.rows).toBeGreaterThan(20);
    expect(manifest.files.map((f) => f.path)).toContain('temporal/temporal.sqlite');

    // The machine is lost: worker and services gone, the data folder deleted.
    await worker!.stop();
    worker = undefined;
    expect((await script('services', ['stop'], env)).code).toBe(0);
    rmSync(dataDir, { recursive: true, force: true });

    const t1 = Date.now();
    const r = await script('restore', [out], env);
    const restoreMs = Date.now() - t1;
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/Temporal started/);
    expect(existsSync(join(dataDir, 'temporal', 'temporal.sqlite'))).toBe(true);
    console.log(
      `backup: ${(manifest.bytes / 1024 / 1024).toFixed(2)} MiB in ${manifest.files.length} files, ${backupMs} ms; restore: ${restoreMs} ms (services started included)`,
    );

    await startWorker();
    await secondHalf(restored);
    expect(await outcome(restored)).toEqual(expected);
  }, 900_000);

  it('refuses to restore onto services that run, or over data, or a damaged copy, naming what', async () => {
    const out = join(root, 'backup');
    const running = await script('restore', [out], env);
    expect(running.code).toBe(1);
    expect(running.stderr).toMatch(/local services are running with data in .*services:stop/);

    const other = {
      ...env,
      CAMPAIGN_DATA_DIR: join(root, 'other'),
      TEMPORAL_NAMESPACE: 'elsewhere',
    };
    const ns = await script('restore', [out], other);
    expect(ns.code).toBe(1);
    expect(ns.stderr).toMatch(
      /namespace default, this machine's is elsewhere: set TEMPORAL_NAMESPACE=default/,
    );

    const over = join(root, 'over');
    mkdirSync(join(over, 'temporal'), { recursive: true });
    writeFileSync(join(over, 'temporal', 'temporal.sqlite'), 'a dev server was here');
    const overData = await script('restore', [out], { ...env, CAMPAIGN_DATA_DIR: over });
    expect(overData.code).toBe(1);
    expect(overData.stderr).toMatch(
      /the target is not empty: .*over\/temporal\/temporal\.sqlite holds a Temporal dev server's data/,
    );

    const sqlite = join(out, 'temporal', 'temporal.sqlite');
    writeFileSync(sqlite, 'x', { flag: 'a' });
    const damaged = await script('restore', [out], {
      ...env,
      CAMPAIGN_DATA_DIR: join(root, 'other'),
    });
    expect(damaged.code).toBe(1);
    expect(damaged.stderr).toMatch(/temporal\.sqlite does not match .*manifest\.json .*damaged/);
    expect(existsSync(join(root, 'other', 'postgres'))).toBe(false);

    const notEmpty = await script('backup', ['--out', out], env);
    expect(notEmpty.code).toBe(1);
    expect(notEmpty.stderr).toMatch(/--out .* is not empty/);
  }, 300_000);
});
