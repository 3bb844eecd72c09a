// The enterprise questionnaire followed, under time skipping: the sampled enterprises' answers
// recorded, the response rate per indicator and per department on the daily dispatch digest,
// and the chase task (协助企业填报) raised to the supervising department through the campaign's
// update raiseTask — raised once however often it is asked, then reminded and escalated when
// the department ignores it.
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QQ, readQuestionnaire } from '../../db/questionnaire.ts';
import type { DispatchDigest } from '../../activities/dispatch.ts';
import { BusinessCalendar } from '../../domain/calendar.ts';
import { planCampaign, type CampaignInput } from '../../domain/campaign.ts';
import { withCreditCheck } from '../../domain/imports.ts';
import { raiseTaskUpdate } from '../../domain/messages.ts';
import { addCalendarDays, zonedInstant } from '../../domain/time.ts';
import { CHASE_KIND, chasePlan } from '../../client/commands/questionnaire.ts';
import { questionnaireSheet } from '../../client/commands/reports.ts';
import type { TestDatabase } from '../helpers/postgres.ts';
import { definitionFrom, firstMondayAfter } from '../helpers/moved-definition.ts';
import { settle, startHarness, type Harness } from '../helpers/temporal.ts';

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

/** Polls PostgreSQL until `pred` holds for the rows (the worker's projections are asynchronous). */
async function until<T>(sql: string, args: unknown[], pred: (rows: T[]) => boolean): Promise<T[]> {
  for (let i = 0; i < 400; i++) {
    const r = await db.pool.query(sql, args);
    if (pred(r.rows as T[])) return r.rows as T[];
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`never held: ${sql}`);
}

describe('the enterprise questionnaire followed under time skipping', () => {
  it('puts the response rate on the dispatch digest and chases the supervising department, once, until it escalates', async () => {
    const now = await env.currentTimeMs();
    const monday = firstMondayAfter(now, TZ);
    const d = (n: number) => addCalendarDays(monday, n);
    const campaignId = `qn-${monday.replace(/-/g, '')}-${randomUUID().slice(0, 4)}`;
    const { def, calendar } = definitionFrom(monday, campaignId);
    const plan = planCampaign(def, calendar, new BusinessCalendar(calendar));
    const input: CampaignInput = { definition: def, calendar, plan, startedBy: 'spj-coord' };
    const campaign = await env.client.workflow.start('campaignWorkflow', {
      taskQueue,
      workflowId: campaignId,
      args: [input],
    });
    const sleepUntil = async (t: number) => env.sleep(Math.max(0, t - (await env.currentTimeMs())));
    await sleepUntil(at(d(0), 10));
    await until(
      'SELECT 1 FROM indicators WHERE campaign_id = $1',
      [campaignId],
      (r) => r.length > 0,
    );

    // The enterprise list (the bureau's), the sample (the evaluator's) and the answers so far.
    const [A, B, C, D, E] = [1, 2, 3, 4, 5].map((n) => withCreditCheck(`91340523MA2N0XY0${n}`));
    const list = [
      [A, '甲商贸有限公司', null, ['kbqy']],
      [B, '乙建筑有限公司', 'zjj', ['jzxk']],
      [C, '丙建设工程有限公司', 'zjj', ['jzxk', 'kbqy']],
      [D, '丁科技有限公司', null, ['ns']],
      [E, '戊餐饮店', null, null],
    ] as const;
    for (const [code, name, supervisor, questionnaires] of list)
      await db.pool.query(
        `INSERT INTO enterprises (campaign_id, credit_code, name, imported_by, supervisor_unit, questionnaires)
         VALUES ($1,$2,$3,'spj-coord',$4,$5)`,
        [campaignId, code, name, supervisor, questionnaires],
      );
    await db.pool.query(
      `INSERT INTO samples (campaign_id, seed, proportion, population, size, enterprises, drawn_by)
       VALUES ($1, 'seed-1', 0.8, 5, 4, $2, 'dsf-eval')`,
      [campaignId, [A, B, C, D]],
    );
    await db.pool.query({
      ...QQ.upsertAnswer,
      values: [
        campaignId,
        'import',
        'dsf-eval',
        JSON.stringify([
          { credit_code: A, indicator: 'kbqy', answered: true, answered_on: d(0) },
          { credit_code: D, indicator: 'ns', answered: true, answered_on: null },
        ]),
      ],
    });
    // Who and when, and every word in the log.
    const recorded = await db.pool.query(
      `SELECT credit_code, recorded_by, source FROM questionnaire_answer_log WHERE campaign_id = $1 ORDER BY no`,
      [campaignId],
    );
    expect(recorded.rows).toEqual([
      { credit_code: A, recorded_by: 'dsf-eval', source: 'import' },
      { credit_code: D, recorded_by: 'dsf-eval', source: 'import' },
    ]);
    // Only the evaluator or the bureau may record an answer, checked in PostgreSQL too.
    await expect(
      db.pool.query({
        ...QQ.upsertAnswer,
        values: [
          campaignId,
          'mark',
          'zjj-staff1',
          JSON.stringify([{ credit_code: B, indicator: 'jzxk', answered: true }]),
        ],
      }),
    ).rejects.toThrow(/zjj-staff1 .* may not record questionnaire answers/);

    // --- the day's dispatch (17:30) carries the rates.
    await sleepUntil(at(d(0), 18));
    const [stored] = await until<{ digest: DispatchDigest }>(
      'SELECT digest FROM dispatches WHERE campaign_id = $1 AND date = $2',
      [campaignId, d(0)],
      (r) => r.length === 1,
    );
    const q = stored!.digest.questionnaire!;
    expect(q.sampleSeed).toBe('seed-1');
    expect(q.total).toEqual({ expected: 5, answered: 2, rate: 0.4 });
    expect(q.byIndicator).toEqual([
      { code: 'kbqy', expected: 2, answered: 1, rate: 0.5 },
      { code: 'ns', expected: 1, answered: 1, rate: 1 },
      { code: 'jzxk', expected: 2, answered: 0, rate: 0 },
      { code: 'scjg', expected: 0, answered: 0, rate: null },
    ]);
    expect(q.byUnit).toEqual([
      { unit: 'scjgj', expected: 1, answered: 1, rate: 1 },
      { unit: 'swj', expected: 1, answered: 1, rate: 1 },
      { unit: 'zjj', expected: 3, answered: 0, rate: 0 },
    ]);
    const sheet = questionnaireSheet(stored!.digest, 'zh')[0]!;
    expect(sheet.title).toBe('企业问卷答卷率 40% (2/5)');
    expect(sheet.rows).toContainEqual(['部门 zjj', 3, 0, '0%']);
    const notice = await db.pool.query<{ body: string }>(
      'SELECT body FROM notices WHERE notice_id = $1',
      [`${campaignId}#dispatch#${d(0)}`],
    );
    expect(notice.rows[0]!.body).toContain('企业问卷答卷率 40%（2/5）；zjj 0%');

    // --- the chase: one task, to zjj (which supervises 乙 and 丙), naming both.
    const chase = async () => {
      const state = await readQuestionnaire(db.pool, campaignId);
      const open = await db.pool.query<{ unit_id: string; task_id: string }>(
        `SELECT unit_id, task_id FROM tasks WHERE campaign_id = $1 AND kind = $2 AND state IN ('open','submitted','returned')`,
        [campaignId, CHASE_KIND],
      );
      const p = chasePlan(campaignId, def, state.nonRespondents, open.rows, {
        as: 'spj-coord',
        due: `${d(1)}T18:00`,
      });
      await settle(campaign);
      const raised = [];
      for (const r of p.requests) {
        const req = { ...r, enterprises: undefined };
        raised.push(
          await campaign.executeUpdate(raiseTaskUpdate, { args: [req], updateId: r.requestId }),
        );
      }
      return { plan: p, raised };
    };
    const first = await chase();
    expect(first.plan.requests.map((r) => [r.unit, r.assignee])).toEqual([['zjj', 'zjj-staff1']]);
    const req = first.plan.requests[0]!;
    expect(req.title).toBe(
      '协助企业填报问卷：县住房和城乡建设局主管的 2 家抽样企业未答卷——乙建筑有限公司、丙建设工程有限公司',
    );
    expect(req.instructions).toContain(`2. 丙建设工程有限公司（${C}）：开办企业、办理建筑许可`);
    const taskId = first.raised[0]!.taskId;
    expect(taskId).toBe(`${campaignId}/_/${CHASE_KIND}/zjj/${req.key}`);
    expect(first.raised[0]!.due).toBe(at(d(1), 18));
    await until<{ kind: string; assignee: string; title: string }>(
      'SELECT kind, assignee, title FROM tasks WHERE task_id = $1',
      [taskId],
      (r) => r.length === 1 && r[0]!.title === req.title && r[0]!.assignee === 'zjj-staff1',
    );

    // Asked again: the same request, answered by the campaign with the same task.
    const second = await chase();
    expect(second.plan.requests.map((r) => r.requestId)).toEqual([req.requestId]);
    expect(second.raised.map((r) => r.taskId)).toEqual([taskId]);
    const chaseTasks = await db.pool.query(
      'SELECT task_id FROM tasks WHERE campaign_id = $1 AND kind = $2',
      [campaignId, CHASE_KIND],
    );
    expect(chaseTasks.rows).toHaveLength(1);
    const raisedEvents = await db.pool.query(
      `SELECT count(*)::int AS n FROM campaign_events WHERE campaign_id = $1 AND type = 'task-raised'`,
      [campaignId],
    );
    expect(raisedEvents.rows[0].n).toBe(1);

    // --- ignored: reminded before it is due (PT2H), escalated a working day after.
    await sleepUntil(at(d(2), 18, 30));
    const events = await until<{ type: string; recipients: string[]; detail: { level?: number } }>(
      `SELECT type, recipients, detail FROM task_events WHERE task_id = $1 ORDER BY seq`,
      [taskId],
      (r) => r.some((e) => e.type === 'escalated'),
    );
    expect(events.map((e) => e.type)).toEqual(['created', 'reminded', 'escalated']);
    const escalated = events.find((e) => e.type === 'escalated')!;
    expect(escalated.detail.level).toBe(1);
    expect(escalated.recipients).toEqual(expect.arrayContaining(['zjj-staff1', 'zjj-deputy']));
    const [row] = await until<{ escalation_level: number; state: string }>(
      'SELECT escalation_level, state FROM tasks WHERE task_id = $1',
      [taskId],
      (r) => r[0]?.escalation_level === 1,
    );
    expect(row!.state).toBe('open');

    // An enterprise answers: the next dispatch (a working day later) shows it, and a new chase
    // leaves zjj to the task still open.
    await db.pool.query({
      ...QQ.upsertAnswer,
      values: [
        campaignId,
        'mark',
        'dsf-eval',
        JSON.stringify([{ credit_code: B, indicator: 'jzxk', answered: true, answered_on: d(2) }]),
      ],
    });
    const third = await chase();
    expect(third.plan.requests).toEqual([]);
    expect(third.plan.skipped).toEqual([
      { unit: 'zjj', taskId, reason: 'a chase task is still open' },
    ]);
    await sleepUntil(at(d(3), 18));
    const [next] = await until<{ digest: DispatchDigest }>(
      'SELECT digest FROM dispatches WHERE campaign_id = $1 AND date = $2',
      [campaignId, d(3)],
      (r) => r.length === 1,
    );
    expect(next!.digest.questionnaire!.byUnit).toContainEqual({
      unit: 'zjj',
      expected: 3,
      answered: 1,
      rate: 0.3333,
    });
  });
});
