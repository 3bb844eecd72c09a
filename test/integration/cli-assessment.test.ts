// The units' assessment (考核) through the CLI on a real campaign (dev server, worker and
// PostgreSQL): the quick example with windows of hours and a ladder of seconds, driven with
// training left undone and chased up the ladder, a questionnaire returned, a discrepant
// verification; then `campaign report assessment` in every format, every point traced to its
// rule and to the event it comes from in the projections, and the bureau's adjustment shown with
// its reason. The test waits on the projections, never on the clock.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import ExcelJS from 'exceljs';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatIsoOffset } from '../../domain/time.ts';
import type { AssessmentReport } from '../../client/commands/assessment.ts';
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
const dir = mkdtempSync(join(tmpdir(), 'assessment-'));
const id = `as-${Date.now().toString(36)}`;
const TZ = 'Asia/Shanghai';

/** The quick example with windows of hours (nothing passes while the test acts) and a fast ladder. */
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
    { after: { duration: 'PT3S' }, notify: ['assignee', 'deputy'], label: '分管领导督办' },
    { after: { duration: 'PT3S' }, notify: ['head'], label: '一把手督办' },
    { after: { duration: 'PT2H' }, notify: ['bureau', 'leadership'], label: '县领导约谈' },
  ];
  raw.policy.returnDue = { duration: 'PT1H' };
  raw.assessment = { perReturn: 1.5, perDiscrepancy: 4, trainingNotDone: 2.5, cap: 40 };
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

interface Task {
  taskId: string;
  kind: string;
  indicator: string | null;
  unit: string;
  assignee: string;
  state: string;
  escalationLevel: number;
}

const cli = (...args: string[]): Promise<CliRun> => runCli(args, cliEnv);
async function ok<T>(...args: string[]): Promise<T> {
  const r = await cli(...args, '--json');
  expect(r.code, `campaign ${args.join(' ')}\n${r.stderr}${r.stdout}`).toBe(0);
  return r.json<T>();
}
/** The campaign's tasks as PostgreSQL has them (waiting reads the projection, not the CLI). */
const tasks = async (): Promise<Task[]> =>
  (
    await db.pool.query<Task>(
      `SELECT task_id AS "taskId", kind, indicator, unit_id AS unit, assignee, state,
              escalation_level AS "escalationLevel"
         FROM tasks WHERE campaign_id = $1 ORDER BY task_id`,
      [id],
    )
  ).rows;
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

describe('the units’ assessment of a campaign driven through the command line', () => {
  it('traces every point to its rule and event, shows the adjustment with its reason, and exports it', async () => {
    await ok('start', steadyDefinition(), '--id', id, '--begin', 'now', '--as', 'spj-coord');
    const training = await until(
      'every training task',
      tasks,
      (l) => l.filter((t) => t.kind === 'training').length === 10,
    );
    // Everyone but 住建局 (zjj) trains in time; zjj's are left undone and chased.
    for (const t of training.filter((t) => t.unit !== 'zjj'))
      await ok('task', 'submit', t.taskId, '--as', t.assignee, '--note', '已参加培训');
    await ok('phase', id, 'close', 'training', '--as', 'spj-coord', '--reason', '培训已集中完成');
    const zjj = training.filter((t) => t.unit === 'zjj');
    await until(
      'zjj chased to its head',
      tasks,
      (l) =>
        l.filter((t) => t.unit === 'zjj' && t.kind === 'training' && t.escalationLevel >= 2)
          .length === zjj.length,
    );

    // Data entry: 开办企业's questionnaire returned once (scjgj), then resubmitted.
    const entry = await until(
      'the questionnaires',
      tasks,
      (l) => l.filter((t) => t.kind === 'questionnaire').length === 4,
    );
    const kbqy = entry.find((t) => t.kind === 'questionnaire' && t.indicator === 'kbqy')!;
    const data = join(dir, 'kbqy.json');
    writeFileSync(data, JSON.stringify({ procedures: 4, days: 1.5, onlineRate: 96 }));
    // The indicator lists its evidence (政策文件、办件记录).
    const files = ['--evidence', 'https://oa.example.gov.cn/files/kbqy.pdf'];
    await ok('task', 'submit', kbqy.taskId, '--as', kbqy.assignee, '--data', data, ...files);
    await ok('task', 'return', kbqy.taskId, '--as', 'spj-coord', '--reason', '统一填报尺度');
    await until('the return projected', tasks, (l) =>
      l.some((t) => t.taskId === kbqy.taskId && t.state === 'returned'),
    );
    await ok('phase', id, 'close', 'dataEntry', '--as', 'spj-coord', '--reason', '填报完成');
    // 纳税's own workflow in verification (it follows the campaign's move).
    await until(
      'ns in verification',
      () =>
        q<{ phase: string }>(
          `SELECT phase FROM indicator_status WHERE campaign_id = $1 AND code = 'ns'`,
          id,
        ),
      (r) => r[0]?.phase === 'verification',
    );
    // 纳税 (led by swj) verified discrepant.
    await ok(
      'verify',
      id,
      'ns',
      '--item',
      '纳税时间',
      '--outcome',
      'discrepant',
      '--as',
      'dsf-eval',
    );

    // Adjustments: only the bureau's coordinator or head, with a reason; kept as written.
    const refused = await cli(
      'assessment',
      'adjust',
      id,
      '--unit',
      'zjj',
      '--points',
      '1',
      '--reason',
      '自评',
      '--as',
      'zjj-head',
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/zjj-head \(head in "zjj"\) may not adjust the assessment/);
    const badUnit = await cli(
      'assessment',
      'adjust',
      id,
      '--unit',
      'spj',
      '--points',
      '1',
      '--reason',
      '无',
      '--as',
      'spj-coord',
    );
    expect(badUnit.code).toBe(1);
    const adjusted = await ok<{ no: number; points: number }>(
      'assessment',
      'adjust',
      id,
      '--unit',
      'zjj',
      '--points',
      '1.5',
      '--reason',
      '培训已于次日补训完毕，酌情加分',
      '--as',
      'spj-coord',
    );
    expect(adjusted.points).toBe(1.5);
    await ok(
      'assessment',
      'adjust',
      id,
      '--unit',
      'scjgj',
      '--points=-0.5',
      '--reason',
      '台账不全',
      '--as',
      'spj-head',
    );
    await expect(db.pool.query('DELETE FROM assessment_adjustments')).rejects.toThrow(
      /append-only/,
    );
    // Every overdue task chased as far as the ladder's seconds go, so the figures stand still.
    await until(
      'the overdue tasks at level 2',
      () =>
        q<{ n: number }>(
          `SELECT count(*)::int AS n FROM tasks WHERE campaign_id = $1
              AND state IN ('open', 'returned') AND due_at < now() AND escalation_level < 2`,
          id,
        ),
      (r) => r[0]!.n === 0,
    );

    const report = await ok<AssessmentReport>('report', 'assessment', id);
    expect(report.units.map((u) => u.unitId)).toEqual(['scjgj', 'swj', 'zjj']);
    expect(report.policy).toMatchObject({
      perReturn: 1.5,
      perDiscrepancy: 4,
      trainingNotDone: 2.5,
      cap: 40,
    });
    const byUnit = Object.fromEntries(report.units.map((u) => [u.unitId, u]));

    // Every entry traced: a task event of the rule's type, or the discrepant verification.
    const RULE_EVENT: Record<string, string> = {
      escalation: 'escalated',
      return: 'returned',
      late: 'done',
    };
    let traced = 0;
    for (const u of report.units)
      for (const e of u.entries) {
        if (e.rule === 'discrepancy') {
          const [v] = await q<{ outcome: string; item: string }>(
            'SELECT outcome, item FROM verifications WHERE campaign_id = $1 AND code = $2 AND seq = $3',
            id,
            e.indicator,
            e.eventSeq,
          );
          expect(v).toEqual({ outcome: 'discrepant', item: '纳税时间' });
          expect(e.eventType).toBe('verification');
          traced++;
          continue;
        }
        expect(e.taskId, JSON.stringify(e)).toBeTruthy();
        const [t] = await q<{ unit_id: string }>(
          'SELECT unit_id FROM tasks WHERE task_id = $1',
          e.taskId,
        );
        expect(t!.unit_id).toBe(u.unitId);
        if (e.eventSeq === undefined) continue;
        const [ev] = await q<{ type: string; unit_id: string }>(
          'SELECT type, unit_id FROM task_events WHERE task_id = $1 AND seq = $2',
          e.taskId,
          e.eventSeq,
        );
        expect(ev!.type).toBe(RULE_EVENT[e.rule]);
        expect(e.eventType).toBe(ev!.type);
        traced++;
      }

    // zjj: each undone training task costs 2.5, each escalation its level; the DB agrees.
    const escalations = await q<{ task_id: string; seq: number; level: number }>(
      `SELECT e.task_id, e.seq, (e.detail->>'level')::int AS level FROM task_events e
         JOIN tasks t ON t.task_id = e.task_id
        WHERE e.campaign_id = $1 AND e.unit_id = 'zjj' AND e.type = 'escalated' AND t.state <> 'cancelled'
        ORDER BY e.task_id, e.seq`,
      id,
    );
    expect(escalations.length).toBeGreaterThanOrEqual(2 * zjj.length);
    const z = byUnit.zjj!;
    expect(
      z.entries.filter((e) => e.rule === 'escalation').map((e) => [e.taskId, e.eventSeq, e.points]),
    ).toEqual(escalations.map((x) => [x.task_id, x.seq, -x.level]));
    expect(
      z.entries
        .filter((e) => e.rule === 'trainingNotDone')
        .map((e) => e.taskId)
        .sort(),
    ).toEqual(zjj.map((t) => t.taskId).sort());
    const zDeducted = escalations.reduce((s, x) => s + x.level, 0) + 2.5 * zjj.length;
    expect(z.deductions).toBe(zDeducted);
    expect(z.computed).toBe(100 - zDeducted);
    expect(z.adjustments).toEqual([
      expect.objectContaining({
        points: 1.5,
        reason: '培训已于次日补训完毕，酌情加分',
        by: 'spj-coord',
      }),
    ]);
    expect(z.total).toBe(100 - zDeducted + 1.5);

    // scjgj: the one return, at the event that recorded it; swj: the discrepancy of 纳税.
    const [ret] = await q<{ seq: number }>(
      `SELECT seq FROM task_events WHERE task_id = $1 AND type = 'returned'`,
      kbqy.taskId,
    );
    expect(byUnit.scjgj!.entries.filter((e) => e.rule === 'return')).toEqual([
      expect.objectContaining({
        points: -1.5,
        taskId: kbqy.taskId,
        eventSeq: ret!.seq,
        eventType: 'returned',
      }),
    ]);
    expect(byUnit.scjgj!.total).toBe(byUnit.scjgj!.computed - 0.5);
    expect(byUnit.swj!.entries.filter((e) => e.rule === 'discrepancy')).toEqual([
      expect.objectContaining({ points: -4, indicator: 'ns', eventType: 'verification' }),
    ]);
    // Every escalation of every department (the data-entry tasks left open were chased too),
    // the return and the discrepancy: each one entry, each traced.
    const [all] = await q<{ n: number }>(
      `SELECT count(*)::int AS n FROM task_events e JOIN tasks t ON t.task_id = e.task_id
         JOIN units u ON u.campaign_id = e.campaign_id AND u.unit_id = e.unit_id
        WHERE e.campaign_id = $1 AND e.type = 'escalated' AND t.state <> 'cancelled'
          AND u.kind = 'department'`,
      id,
    );
    expect(all!.n).toBeGreaterThan(escalations.length);
    expect(traced).toBe(all!.n + 2);
    // The same figures every time from the same rows.
    const again = await ok<AssessmentReport>('report', 'assessment', id);
    expect(again.units.map((u) => [u.unitId, u.entries, u.total])).toEqual(
      report.units.map((u) => [u.unitId, u.entries, u.total]),
    );

    // For people: Chinese by default, English with --lang en; CSV and the workbook.
    const table = await cli('report', 'assessment', id);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/单位考核/);
    expect(table.stdout).toMatch(/培训已于次日补训完毕，酌情加分/);
    expect(table.stdout).toMatch(/督办升至第 2 级/);
    const md = await cli('report', 'assessment', id, '--format', 'md', '--lang', 'en');
    expect(md.stdout).toMatch(
      /\| Unit \| Base \| Deductions \| Cap \| Bonuses \| Computed \| Adjustments \(reason\) \| Total \|/,
    );
    expect(md.stdout).toMatch(/escalation level 2 reached/);
    const csv = await cli('report', 'assessment', id, '--format', 'csv');
    expect(
      csv.stdout.startsWith('\uFEFF单位,基础分,扣分,扣分上限,加分,计算得分,调整（理由）,最终得分'),
    ).toBe(true);
    expect(csv.stdout).toContain("'-0.5（台账不全）");

    const file = join(dir, 'assessment.xlsx');
    const x = await cli('report', 'assessment', id, '--format', 'xlsx', '--out', file);
    expect(x.code, x.stderr).toBe(0);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(file);
    const [summary, details] = wb.worksheets;
    expect(summary!.getRow(1).getCell(1).value).toBe('单位');
    const sumRows = summary!.getSheetValues().slice(2) as unknown[][];
    const zRow = sumRows.find((r) => String(r[1]).includes('(zjj)'))!;
    expect(zRow[6]).toBe(100 - zDeducted);
    expect(zRow[7]).toBe('+1.5（培训已于次日补训完毕，酌情加分）');
    expect(zRow[8]).toBe(100 - zDeducted + 1.5);
    const detailRows = details!.getSheetValues().slice(2) as unknown[][];
    const entries = report.units.reduce((n, u) => n + u.entries.length + u.adjustments.length, 0);
    expect(detailRows.filter(Boolean)).toHaveLength(entries);
    expect(detailRows).toContainEqual(
      expect.arrayContaining([
        expect.stringContaining('(scjgj)'),
        '退回',
        -1.5,
        'kbqy',
        kbqy.taskId,
        `#${ret!.seq} returned`,
      ]),
    );
    expect(
      detailRows.some(
        (r) => r && r[2] === '审批局调整' && String(r[7]).startsWith('培训已于次日补训完毕'),
      ),
    ).toBe(true);
  }, 480_000);

  it('shows the same assessment on the portal to the bureau and the leadership, and to nobody else', async () => {
    portal = await startPortal(harness);
    const PASSWORD = 'correct horse battery';
    /** A browser with a cookie jar, signed in through the invitation the bureau issues. */
    const browser = async (person: string) => {
      const cookies = new Map<string, string>();
      const get = async (path: string, init: RequestInit = {}) => {
        const headers = new Headers(init.headers);
        if (cookies.size)
          headers.set('cookie', [...cookies].map(([k, v]) => `${k}=${v}`).join('; '));
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
      const csrf = /name="_csrf" value="([^"]+)"/.exec(await (await get(path)).text())?.[1] ?? '';
      const accepted = await get(path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          _csrf: csrf,
          password: PASSWORD,
          confirm: PASSWORD,
        }).toString(),
      });
      expect(accepted.status).toBe(303);
      // Signed in afresh, as a new browser would (no anonymous CSRF cookie of the form).
      cookies.clear();
      const session = await get('/api/session', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ personId: person, password: PASSWORD }),
      });
      expect(session.status).toBe(200);
      return get;
    };
    const page = `/campaigns/${encodeURIComponent(id)}/assessment`;
    const leader = await browser('xzf-leader');
    const html = await (await leader(page)).text();
    expect(html).toContain('单位考核');
    expect(html).toContain('培训已于次日补训完毕，酌情加分');
    expect(html).toContain('督办升至第 2 级');
    const xlsx = await leader(`${page}?format=xlsx`);
    expect(xlsx.status).toBe(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(await xlsx.arrayBuffer());
    expect(wb.worksheets.map((w) => w.getRow(1).getCell(1).value)).toEqual(['单位', '单位']);
    const en = await (await leader(`${page}?lang=en`)).text();
    expect(en).toContain('Adjustments (reason)');
    const clerk = await browser('scjgj-staff1');
    expect((await clerk(page)).status).toBe(404);
  }, 240_000);
});
