// A whole county campaign under time skipping: every phase, simulated departments that are
// sometimes late, the evaluator's evidence requests and verified items, results, and the daily
// dispatch — checked in PostgreSQL, where the reports are made from.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusinessCalendar } from '../../domain/calendar.ts';
import { planCampaign, type CampaignInput } from '../../domain/campaign.ts';
import {
  campaignStatusQuery,
  indicatorStatusQuery,
  recordResultsUpdate,
  requestEvidenceUpdate,
  verifyUpdate,
} from '../../domain/messages.ts';
import { approveUpdate, returnUpdate, submitUpdate, taskViewQuery } from '../../domain/messages.ts';
import { addCalendarDays, MINUTE, zonedInstant } from '../../domain/time.ts';
import type { TestDatabase } from '../helpers/postgres.ts';
import { definitionFrom, firstMondayAfter } from '../helpers/moved-definition.ts';
import { startHarness, type Harness } from '../helpers/temporal.ts';

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

async function taskIds(
  campaignId: string,
  where = 'true',
): Promise<
  {
    task_id: string;
    kind: string;
    state: string;
    due_at: Date;
    escalation_level: number;
    assignee: string;
    unit_id: string;
    indicator: string;
  }[]
> {
  const r = await db.pool.query(
    `SELECT * FROM tasks WHERE campaign_id = $1 AND ${where} ORDER BY task_id`,
    [campaignId],
  );
  return r.rows;
}

describe('a county campaign under time skipping', () => {
  it('runs every phase with late departments, escalations, working-day dispatch and results', async () => {
    const now = await env.currentTimeMs();
    const monday = firstMondayAfter(now, TZ);
    const d = (n: number) => addCalendarDays(monday, n);
    const campaignId = `ts-${monday.replace(/-/g, '')}-${randomUUID().slice(0, 4)}`;
    const { def, calendar } = definitionFrom(monday, campaignId);
    const plan = planCampaign(def, calendar, new BusinessCalendar(calendar));
    const input: CampaignInput = { definition: def, calendar, plan, startedBy: 'spj-coord' };
    const campaign = await env.client.workflow.start('campaignWorkflow', {
      taskQueue,
      workflowId: campaignId,
      args: [input],
    });
    const ind = (code: string): WorkflowHandle =>
      env.client.workflow.getHandle(`${campaignId}/${code}`);
    const task = (id: string) => env.client.workflow.getHandle(id);
    const sleepUntil = async (t: number) => env.sleep(Math.max(0, t - (await env.currentTimeMs())));

    // --- training (Mon 09:00 – Tue 18:00): everyone but one filler attends in time.
    await sleepUntil(at(d(0), 10));
    const training = await taskIds(campaignId, `kind = 'training'`);
    // kbqy: team leader + 2 fillers; ns: 2; jzxk: 3; scjg: 2 → 10 training tasks.
    expect(training).toHaveLength(10);
    expect(new Set(training.map((t) => t.due_at.getTime()))).toEqual(new Set([at(d(1), 18)]));
    const lateTrainee = training.find(
      (t) => t.task_id.endsWith('/scjgj-staff2') && t.indicator === 'scjg',
    )!;
    for (const t of training) {
      if (t === lateTrainee) continue;
      await task(t.task_id).executeUpdate(submitUpdate, {
        args: [req(t.assignee, { note: '已参加培训' })],
      });
    }

    // --- data entry: kbqy and ns on Wed, jzxk and scjg on Thu (two per working day).
    await sleepUntil(at(d(2), 10));
    const q1 = await taskIds(campaignId, `kind = 'questionnaire'`);
    expect(q1.map((t) => [t.indicator, t.due_at.getTime()])).toEqual([
      ['kbqy', at(d(2), 18)],
      ['ns', at(d(2), 18)],
    ]);
    const contributions = await taskIds(campaignId, `kind = 'contribution'`);
    expect(contributions.map((t) => [t.indicator, t.unit_id])).toEqual([['kbqy', 'swj']]);
    // kbqy: submitted, returned by the bureau, resubmitted, approved. ns: on time.
    const kbqy = task(`${campaignId}/kbqy/questionnaire/scjgj`);
    const good = { procedures: 3, days: 1, onlineRate: 95 };
    // Its definition lists the evidence to give (应提供：政策文件、办件记录): none is refused.
    const bare = await kbqy
      .executeUpdate(submitUpdate, { args: [req('scjgj-staff1', { data: good })] })
      .then(
        () => null,
        (e: unknown) => e as Error,
      );
    expect(String((bare?.cause as Error | undefined)?.message)).toContain(
      'supporting evidence (印证资料) is required',
    );
    expect((await kbqy.query(taskViewQuery)).state).toBe('open');
    const kbqyEvidence = ['https://example.org/kbqy-policy.pdf'];
    await kbqy.executeUpdate(submitUpdate, {
      args: [req('scjgj-staff1', { data: { ...good, onlineRate: 30 }, evidence: kbqyEvidence })],
    });
    await kbqy.executeUpdate(returnUpdate, {
      args: [req('spj-coord', { reason: '网办率偏低，请核实口径' })],
    });
    await kbqy.executeUpdate(submitUpdate, {
      args: [req('scjgj-staff1', { data: good, evidence: kbqyEvidence })],
    });
    await kbqy.executeUpdate(approveUpdate, { args: [req('spj-coord')] });
    const ns = task(`${campaignId}/ns/questionnaire/swj`);
    await ns.executeUpdate(submitUpdate, {
      args: [req('swj-staff1', { data: { taxHours: 80, onlineRate: 99 } })],
    });
    await ns.executeUpdate(approveUpdate, { args: [req('spj-coord')] });
    await task(contributions[0]!.task_id).executeUpdate(submitUpdate, {
      args: [req('swj-staff1', { note: '已提供纳税数据' })],
    });

    await sleepUntil(at(d(3), 10));
    expect((await taskIds(campaignId, `kind = 'questionnaire'`)).map((t) => t.indicator)).toEqual([
      'jzxk',
      'kbqy',
      'ns',
      'scjg',
    ]);
    // jzxk on time; scjg is late (submitted only the next Monday).
    const jzxk = task(`${campaignId}/jzxk/questionnaire/zjj`);
    await jzxk.executeUpdate(submitUpdate, {
      args: [req('zjj-staff1', { data: { procedures: 5, days: 20, approvalPath: '一般项目' } })],
    });
    await jzxk.executeUpdate(approveUpdate, { args: [req('spj-coord')] });
    await task(`${campaignId}/jzxk/contribution/scjgj`).executeUpdate(submitUpdate, {
      args: [req('scjgj-staff2', { note: '已配合' })],
    });

    // --- verification (next Mon – Wed; Tue is a holiday).
    await sleepUntil(at(d(7), 10));
    const scjg = task(`${campaignId}/scjg/questionnaire/scjgj`);
    await scjg.executeUpdate(submitUpdate, {
      args: [req('scjgj-staff2', { data: { jointInspections: 60 } })],
    });
    await scjg.executeUpdate(approveUpdate, { args: [req('spj-coord')] });
    const late = (
      await taskIds(campaignId, `task_id = '${campaignId}/scjg/questionnaire/scjgj'`)
    )[0]!;
    // Due Thu 18:00; one working day later (Fri 18:00) the deputy was told; the head would have
    // been on Monday 18:00, after the weekend, but the work came in on Monday morning.
    expect(late.escalation_level).toBe(1);
    const ev = await db.pool.query(
      `SELECT at FROM task_events WHERE task_id = $1 AND type = 'escalated' ORDER BY seq`,
      [late.task_id],
    );
    expect(ev.rows.map((e) => Math.round(e.at.getTime() / MINUTE))).toEqual([
      Math.round(at(d(4), 18) / MINUTE),
    ]);

    const evidence = await ind('kbqy').executeUpdate(requestEvidenceUpdate, {
      args: [req('dsf-eval', { unit: 'scjgj', what: '2026年企业开办办件记录' })],
    });
    // One working day after Monday 10:00, with Tuesday a holiday: Wednesday 10:00.
    expect(Math.abs(evidence.due - at(d(9), 10))).toBeLessThan(MINUTE);
    expect(evidence.taskId).toBe(`${campaignId}/kbqy/evidence/scjgj/1`);
    await task(evidence.taskId).executeUpdate(submitUpdate, {
      args: [req('scjgj-staff1', { evidence: ['https://example.org/records.xlsx'] })],
    });
    const confirmed = await ind('kbqy').executeUpdate(verifyUpdate, {
      args: [req('dsf-eval', { item: '办理环节', outcome: 'confirmed' as const })],
    });
    expect(confirmed.flagged).toBe(false);
    const discrepant = await ind('ns').executeUpdate(verifyUpdate, {
      args: [
        req('dsf-eval', {
          item: '纳税时间',
          outcome: 'discrepant' as const,
          note: '系统记录为 120 小时',
        }),
      ],
    });
    expect(discrepant.flagged).toBe(true);
    const refused = await ind('ns')
      .executeUpdate(verifyUpdate, {
        args: [req('spj-coord', { item: 'x', outcome: 'confirmed' as const })],
      })
      .catch((e: unknown) =>
        e instanceof WorkflowUpdateFailedError ? (e.cause as Error).message : String(e),
      );
    expect(refused).toMatch(/not with the third-party evaluator/);

    // --- reporting: results; ns and scjg score below 80 and are marked for rectification.
    await sleepUntil(at(d(10), 10));
    const outcome = await campaign.executeUpdate(recordResultsUpdate, {
      args: [
        req('spj-coord', {
          results: [
            { code: 'kbqy', score: 92, rank: 1 },
            { code: 'ns', score: 71, rank: 4 },
            { code: 'jzxk', score: 85, rank: 2 },
            { code: 'scjg', score: 78, rank: 3 },
          ],
        }),
      ],
    });
    expect(outcome).toEqual({ imported: 4, rectificationStarted: ['ns', 'scjg'] });
    await sleepUntil(at(d(11), 19));

    const status = await db.pool.query(
      `SELECT code, phase, state, flagged FROM indicator_status WHERE campaign_id = $1 ORDER BY code`,
      [campaignId],
    );
    expect(status.rows).toEqual([
      { code: 'jzxk', phase: 'closed', state: 'closed', flagged: false },
      { code: 'kbqy', phase: 'closed', state: 'closed', flagged: false },
      { code: 'ns', phase: 'rectification', state: 'in-progress', flagged: true },
      { code: 'scjg', phase: 'rectification', state: 'in-progress', flagged: false },
    ]);
    expect((await ind('kbqy').query(indicatorStatusQuery)).phase).toBe('closed');
    const q = await db.pool.query(
      `SELECT questionnaire FROM indicator_status WHERE campaign_id = $1 AND code = 'kbqy'`,
      [campaignId],
    );
    expect(q.rows[0].questionnaire).toEqual(good);

    // The late trainee escalated; the discrepancy reached the bureau and the leadership.
    const lt = await db.pool.query(
      `SELECT count(*)::int AS n FROM task_events WHERE task_id = $1 AND type = 'escalated'`,
      [lateTrainee.task_id],
    );
    expect(lt.rows[0].n).toBe(2);
    const flag = await db.pool.query(
      `SELECT recipients FROM notices WHERE campaign_id = $1 AND kind = 'data-integrity'`,
      [campaignId],
    );
    expect(flag.rows[0].recipients.sort()).toEqual(['spj-coord', 'spj-head', 'xzf-leader']);

    // The dispatch ran at 17:30 on each working day from the first day of training to the last
    // day of reporting: not on the weekend, not on the holiday.
    const dispatches = await db.pool.query(
      `SELECT to_char(date, 'YYYY-MM-DD') AS date, digest FROM dispatches WHERE campaign_id = $1 ORDER BY date`,
      [campaignId],
    );
    expect(dispatches.rows.map((r) => r.date)).toEqual([
      d(0),
      d(1),
      d(2),
      d(3),
      d(4),
      d(7),
      d(9),
      d(10),
      d(11),
    ]);
    const thursday = dispatches.rows.find((r) => r.date === d(3))!.digest;
    expect(
      thursday.indicators
        .find((i: { code: string }) => i.code === 'scjg')
        .dueToday.map((t: { taskId: string }) => t.taskId),
    ).toEqual([`${campaignId}/scjg/questionnaire/scjgj`]);
    const friday = dispatches.rows.find((r) => r.date === d(4))!.digest;
    expect(
      friday.indicators
        .find((i: { code: string }) => i.code === 'scjg')
        .overdue.map((t: { kind: string }) => t.kind),
    ).toEqual(expect.arrayContaining(['questionnaire']));
    expect((await campaign.query(campaignStatusQuery)).resultsImported).toBe(true);

    // Histories stay far below the limits; saved for the replay test when asked.
    const histories = {
      campaign: await campaign.fetchHistory(),
      'indicator-kbqy': await ind('kbqy').fetchHistory(),
      'indicator-ns': await ind('ns').fetchHistory(),
    };
    for (const [name, h] of Object.entries(histories)) {
      console.log(`history events of ${name}: ${h.events?.length}`);
      expect(h.events?.length ?? 0).toBeLessThan(2000);
      if (process.env.SAVE_HISTORIES)
        writeFileSync(`test/replay/histories/${name}.json`, historyToJSON(h));
    }
  });
});
