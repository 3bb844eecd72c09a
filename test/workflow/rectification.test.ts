// The rectification loop under time skipping: a weak indicator from its results to every
// measure closed — a returned step, a rejected measure reopened and later closed, an overdue
// measure climbing the ladder, a measure added mid-way — and the ledger (整改台账) checked row by
// row in every format, the workbook read back.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import ExcelJS from 'exceljs';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusinessCalendar } from '../../domain/calendar.ts';
import { planCampaign, type CampaignInput } from '../../domain/campaign.ts';
import { addMeasureUpdate, recordResultsUpdate } from '../../domain/messages.ts';
import { approveUpdate, returnUpdate, submitUpdate } from '../../domain/messages.ts';
import { addCalendarDays, formatIsoOffset, localDateOf, zonedInstant } from '../../domain/time.ts';
import { runCli } from '../helpers/cli.ts';
import { definitionFrom, firstMondayAfter } from '../helpers/moved-definition.ts';
import type { TestDatabase } from '../helpers/postgres.ts';
import { finishedResult, startHarness, type Harness } from '../helpers/temporal.ts';

Runtime.install({ logger: new DefaultLogger('WARN') });

const TZ = 'Asia/Shanghai';
let harness: Harness;
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let taskQueue: string;

beforeAll(async () => {
  harness = await startHarness('time-skipping');
  ({ env, db, taskQueue } = harness);
});
afterAll(async () => {
  await harness?.close();
});

const at = (date: string, hh: number, mm = 0) =>
  zonedInstant(+date.slice(0, 4), +date.slice(5, 7), +date.slice(8, 10), hh, mm, 0, TZ);
const req = <T extends object>(actor: string, extra?: T) => ({
  requestId: randomUUID(),
  actor,
  ...(extra as T),
});

describe('the rectification loop', () => {
  it('takes a weak indicator from its results to every measure closed, and the ledger shows it row by row', async () => {
    const now = await env.currentTimeMs();
    const monday = firstMondayAfter(now, TZ);
    const d = (n: number) => addCalendarDays(monday, n);
    const campaignId = `rx-${monday.replace(/-/g, '')}-${randomUUID().slice(0, 4)}`;
    const { def, calendar } = definitionFrom(monday, campaignId);
    const plan = planCampaign(def, calendar, new BusinessCalendar(calendar));
    // The rectification continues as new after each progress report, as a long one would.
    plan.rectification.continueAsNewAfter = 1;
    const input: CampaignInput = { definition: def, calendar, plan, startedBy: 'spj-coord' };
    const campaign = await env.client.workflow.start('campaignWorkflow', {
      taskQueue,
      workflowId: campaignId,
      args: [input],
    });
    const task = (id: string) => env.client.workflow.getHandle(id);
    const rectification = env.client.workflow.getHandle(`${campaignId}/kbqy/rectification`);
    const sleepUntil = async (t: number) => env.sleep(Math.max(0, t - (await env.currentTimeMs())));
    const step = (kind: string) => task(`${campaignId}/kbqy/${kind}/scjgj`);

    // Results: kbqy scores below 80 and is rectified; the others pass.
    await sleepUntil(at(d(10), 10));
    const outcome = await campaign.executeUpdate(recordResultsUpdate, {
      args: [
        req('spj-coord', {
          results: [
            { code: 'kbqy', score: 72, rank: 4 },
            { code: 'ns', score: 90, rank: 1 },
            { code: 'jzxk', score: 88, rank: 2 },
            { code: 'scjg', score: 85, rank: 3 },
          ],
        }),
      ],
    });
    expect(outcome.rectificationStarted).toEqual(['kbqy']);
    await env.sleep(60_000);

    // 查问题: submitted, returned by the bureau, resubmitted, approved.
    const problems = {
      problems: [
        { finding: '评价报告第3条', description: '企业开办仍需线下提交材料' },
        { finding: '评价报告第5条', description: '开办时间超过1个工作日' },
      ],
    };
    await step('rectify-problems').executeUpdate(submitUpdate, {
      args: [req('scjgj-staff1', { data: { problems: problems.problems.slice(0, 1) } })],
    });
    await step('rectify-problems').executeUpdate(returnUpdate, {
      args: [req('spj-coord', { reason: '漏列报告第5条问题' })],
    });
    await step('rectify-problems').executeUpdate(submitUpdate, {
      args: [req('scjgj-staff1', { data: problems })],
    });
    await step('rectify-problems').executeUpdate(approveUpdate, { args: [req('spj-coord')] });
    await env.sleep(60_000);
    // A step that does not fit the problems is refused before it touches the task.
    const refused = await step('rectify-causes')
      .executeUpdate(submitUpdate, {
        args: [req('scjgj-staff1', { data: { causes: [{ problem: 1, cause: '系统未打通' }] } })],
      })
      .catch((e: Error & { cause?: Error }) => e.cause?.message ?? e.message);
    expect(refused).toMatch(/problem 2 has no cause/);
    await step('rectify-causes').executeUpdate(submitUpdate, {
      args: [
        req('scjgj-staff1', {
          data: {
            causes: [
              { problem: 1, cause: '电子签名未全面推行' },
              { problem: 2, cause: '银行开户与社保登记未并联' },
            ],
          },
        }),
      ],
    });
    await step('rectify-causes').executeUpdate(approveUpdate, { args: [req('spj-coord')] });
    await env.sleep(60_000);
    await step('rectify-gaps').executeUpdate(submitUpdate, {
      args: [
        req('scjgj-staff1', {
          data: {
            benchmark: '合肥市',
            gaps: [
              { problem: 1, gap: '合肥全程网办率98%' },
              { problem: 2, gap: '合肥0.5个工作日办结' },
            ],
          },
        }),
      ],
    });
    await step('rectify-gaps').executeUpdate(approveUpdate, { args: [req('spj-coord')] });
    await env.sleep(60_000);
    // 定措施: the plan, approved by the bureau before work starts.
    const due1 = `${d(25)}T18:00`;
    const due2 = `${d(15)}T18:00`;
    await step('rectify-measures').executeUpdate(submitUpdate, {
      args: [
        req('scjgj-staff1', {
          data: {
            measures: [
              {
                problem: 1,
                measure: '推行电子营业执照和电子签名',
                unit: 'scjgj',
                person: 'scjgj-staff1',
                due: due1,
              },
              {
                problem: 2,
                measure: '开户、社保登记并联办理',
                unit: 'swj',
                person: 'swj-staff1',
                due: due2,
              },
            ],
          },
        }),
      ],
    });
    await step('rectify-measures').executeUpdate(approveUpdate, {
      args: [req('spj-coord', { note: '同意整改方案' })],
    });
    await env.sleep(60_000);
    const m1 = task(`${campaignId}/kbqy/measure/scjgj/m1`);
    const m2 = task(`${campaignId}/kbqy/measure/swj/m2`);

    // A measure due yesterday (a bare date) is refused by the validator, with nothing created:
    // it would have been overdue, and escalated, the moment it started.
    const yesterday = addCalendarDays(localDateOf(await env.currentTimeMs(), TZ), -1);
    const late = await rectification
      .executeUpdate(addMeasureUpdate, {
        args: [
          req('spj-coord', {
            problem: 2,
            measure: '补设专窗',
            unit: 'spj',
            person: 'spj-coord',
            due: yesterday,
            reason: '督查发现专窗缺失',
          }),
        ],
      })
      .then(
        () => null,
        (e: unknown) => e as Error,
      );
    expect(String((late?.cause as Error | undefined)?.message)).toContain(
      `due: ${yesterday} is in the past`,
    );

    // A measure added mid-way, with a reason.
    const added = await rectification.executeUpdate(addMeasureUpdate, {
      args: [
        req('spj-coord', {
          problem: 2,
          measure: '设立企业开办专窗',
          unit: 'spj',
          person: 'spj-coord',
          due: `${d(20)}T18:00`,
          reason: '督查发现专窗缺失',
        }),
      ],
    });
    expect(added).toEqual({ no: 3, taskId: `${campaignId}/kbqy/measure/spj/m3` });
    const m3 = task(added.taskId);

    // m1: done with evidence, rejected (reopened with a reason and a new deadline), closed later.
    await m1.executeUpdate(submitUpdate, {
      args: [
        req('scjgj-staff1', { note: '已上线电子执照', evidence: ['https://example.org/m1.pdf'] }),
      ],
    });
    const rejected = await m1.executeUpdate(returnUpdate, {
      args: [req('spj-coord', { reason: '电子签名覆盖率不足，请补充' })],
    });
    expect(rejected.state).toBe('returned');
    // m3 closes at once (the bureau's own unit: the county leadership accepts it).
    await m3.executeUpdate(submitUpdate, {
      args: [req('spj-coord', { note: '专窗已设立', evidence: ['https://example.org/m3.jpg'] })],
    });
    await m3.executeUpdate(approveUpdate, { args: [req('xzf-leader')] });

    // m2 runs late and climbs the ladder: deputy one working day after due, head one more.
    await sleepUntil(at(d(17), 19));
    const m2row = await db.pool.query('SELECT escalation_level FROM tasks WHERE task_id = $1', [
      m2.workflowId,
    ]);
    expect(m2row.rows[0].escalation_level).toBe(2);
    const rectState = await db.pool.query(
      `SELECT state FROM rectifications WHERE campaign_id = $1 AND code = 'kbqy'`,
      [campaignId],
    );
    expect(rectState.rows[0].state).toBe('measures');
    await m2.executeUpdate(submitUpdate, {
      args: [req('swj-staff1', { note: '已并联办理', evidence: ['https://example.org/m2.pdf'] })],
    });
    await m2.executeUpdate(approveUpdate, { args: [req('spj-coord')] });
    await m1.executeUpdate(submitUpdate, {
      args: [
        req('scjgj-staff1', { note: '覆盖率已达95%', evidence: ['https://example.org/m1b.pdf'] }),
      ],
    });
    await m1.executeUpdate(approveUpdate, { args: [req('spj-coord', { note: '销号' })] });

    // Every measure closed: the rectification closes, and the indicator with it.
    expect(await finishedResult(rectification)).toEqual({ code: 'kbqy', state: 'closed' });
    // Nothing waits on a timer any more: read the indicator's projection until it has closed
    // (a skipped-time sleep here could sit out a minute of real time on the test server).
    const indicatorState = async () =>
      (
        await db.pool.query(
          `SELECT phase, state FROM indicator_status WHERE campaign_id = $1 AND code = 'kbqy'`,
          [campaignId],
        )
      ).rows[0];
    for (let i = 0; i < 200 && (await indicatorState())?.state !== 'closed'; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(await indicatorState()).toEqual({ phase: 'closed', state: 'closed' });
    const rect = await db.pool.query(
      'SELECT state, benchmark, closed_at FROM rectifications WHERE campaign_id = $1',
      [campaignId],
    );
    expect(rect.rows[0]).toMatchObject({ state: 'closed', benchmark: '合肥市' });
    const progress = await db.pool.query(
      'SELECT count(*)::int AS n FROM rectification_progress WHERE campaign_id = $1',
      [campaignId],
    );
    expect(progress.rows[0].n).toBeGreaterThan(0);
    // Each report but the last began a new run, carrying the measures; the last run closed it.
    const runs: string[] = [];
    for (let runId: string | undefined = (await rectification.describe()).runId; runId;) {
      runs.push(runId);
      const h = await env.client.workflow.getHandle(rectification.workflowId, runId).fetchHistory();
      runId =
        h.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId ||
        undefined;
    }
    expect(runs.length).toBeGreaterThan(1);
    expect((await rectification.describe()).status.name).toBe('COMPLETED');

    // The ledger, row by row, in every format.
    const closedAt = async (id: string) =>
      formatIsoOffset(
        (
          await db.pool.query('SELECT completed_at FROM tasks WHERE task_id = $1', [id])
        ).rows[0].completed_at.getTime(),
        TZ,
      )
        .slice(0, 16)
        .replace('T', ' ');
    const expected = [
      [
        '1',
        '开办企业',
        '企业开办仍需线下提交材料（评价报告第3条）',
        '电子签名未全面推行',
        '合肥全程网办率98%',
        '推行电子营业执照和电子签名',
        '县市场监督管理局',
        '刘填报员',
        due1.replace('T', ' '),
        '已验收',
        '已销号',
        await closedAt(m1.workflowId),
      ],
      [
        '2',
        '开办企业',
        '开办时间超过1个工作日（评价报告第5条）',
        '银行开户与社保登记未并联',
        '合肥0.5个工作日办结',
        '开户、社保登记并联办理',
        '县税务局',
        '黄填报员',
        due2.replace('T', ' '),
        '已验收',
        '已销号',
        await closedAt(m2.workflowId),
      ],
      [
        '3',
        '开办企业',
        '开办时间超过1个工作日（评价报告第5条）',
        '银行开户与社保登记未并联',
        '合肥0.5个工作日办结',
        '设立企业开办专窗',
        '县行政审批服务局',
        '吴股长',
        `${d(20)} 18:00`,
        '已验收',
        '已销号',
        await closedAt(m3.workflowId),
      ],
    ];
    const cliEnv = { DATABASE_URL: db.url };
    const json = await runCli(['report', 'ledger', campaignId, '--json'], cliEnv);
    expect(json.code, json.stderr).toBe(0);
    const rows = json.json<Record<string, unknown>[]>();
    expect(
      rows.map((r) => [
        String(r.no),
        r.indicator,
        r.problem,
        r.cause,
        r.gap,
        r.measure,
        r.unit,
        r.person,
        r.due,
        r.progress,
        r.state === 'closed' ? '已销号' : r.state,
        r.closedAt,
      ]),
    ).toEqual(expected);

    const csv = await runCli(['report', 'ledger', campaignId, '--format', 'csv'], cliEnv);
    const parsed = parseCsv(csv.stdout, { bom: true }) as string[][];
    expect(parsed[0]).toEqual([
      '序号',
      '指标',
      '问题',
      '原因',
      '差距',
      '措施',
      '责任单位',
      '责任人',
      '完成时限',
      '进展',
      '状态',
      '销号时间',
    ]);
    expect(parsed.slice(1)).toEqual(expected);

    const md = await runCli(['report', 'ledger', campaignId, '--format', 'md'], cliEnv);
    const mdRows = md.stdout
      .split('\n')
      .filter((l) => /^\| \d/.test(l))
      .map((l) => l.slice(2, -2).split(' | '));
    expect(mdRows).toEqual(expected);

    const table = await runCli(['report', 'ledger', campaignId], cliEnv);
    for (const r of expected) expect(table.stdout).toContain(r[5]);

    const dir = mkdtempSync(join(tmpdir(), 'ledger-'));
    const file = join(dir, 'ledger.xlsx');
    expect(
      (await runCli(['report', 'ledger', campaignId, '--format', 'xlsx', '--out', file], cliEnv))
        .code,
    ).toBe(0);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(file);
    const ws = wb.worksheets[0]!;
    expect(ws.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(ws.pageSetup.orientation).toBe('landscape');
    expect(ws.getColumn(3).width).toBeGreaterThan(20);
    const sheetRows: string[][] = [];
    ws.eachRow((row) =>
      sheetRows.push((row.values as unknown[]).slice(1).map((v) => String(v ?? ''))),
    );
    expect(sheetRows).toEqual([parsed[0], ...expected]);
    const fill = ws.getRow(2).getCell(1).fill as { fgColor?: { argb?: string } };
    expect(fill.fgColor?.argb).toBe('FFD4EDDA');
    // Once the whole campaign has closed, nothing more starts in it: a rectification by hand is
    // refused with the reason (one started on a closed indicator of a running campaign is in
    // test/integration/handler-races.test.ts).
    const cliTemporal = {
      ...cliEnv,
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_TASK_QUEUE: taskQueue,
    };
    const afterClose = await runCli(
      [
        'rectify',
        campaignId,
        'ns',
        '--as',
        'spj-coord',
        '--reason',
        '企业反映纳税时间仍偏长',
        '--json',
      ],
      cliTemporal,
    );
    expect(afterClose.code).toBe(1);
    expect(afterClose.json<{ error: string }>().error).toBe(`campaign ${campaignId} has closed`);
    expect(
      (
        await db.pool.query(
          `SELECT count(*)::int AS n FROM rectifications WHERE campaign_id = $1 AND code = 'ns'`,
          [campaignId],
        )
      ).rows[0].n,
    ).toBe(0);

    if (process.env.SAVE_HISTORIES) {
      writeFileSync(
        'test/replay/histories/rectification.json',
        historyToJSON(await rectification.fetchHistory()),
      );
    }
  });
});
