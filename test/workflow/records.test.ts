// Department business records, sampled, under time skipping: record lists uploaded by their
// units, the official record sample (the same seed gives the same records; a redraw refused
// without the bureau's reason, and kept beside the official one with it), the same for the
// enterprise sample, one evidence request per sampled record through the indicator's update (a
// record of two draws asked once) — the one ignored escalates — and the outcome per record, one
// discrepancy flagging the indicator.
import { randomUUID } from 'node:crypto';
import ExcelJS from 'exceljs';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  drawEnterprises,
  drawRecords,
  requestRecordEvidence,
  uploadRecordList,
  verifyRecord,
  type SendEvidence,
  type SendVerify,
} from '../../client/records.ts';
import { BusinessCalendar } from '../../domain/calendar.ts';
import { indicatorWorkflowId, planCampaign, type CampaignInput } from '../../domain/campaign.ts';
import { withCreditCheck } from '../../domain/imports.ts';
import {
  indicatorStatusQuery,
  requestEvidenceUpdate,
  submitUpdate,
  verifyUpdate,
} from '../../domain/messages.ts';
import { Refusal } from '../../domain/refusal.ts';
import { addCalendarDays, MINUTE, zonedInstant } from '../../domain/time.ts';
import { definitionFrom, firstMondayAfter } from '../helpers/moved-definition.ts';
import type { TestDatabase } from '../helpers/postgres.ts';
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

/** Polls PostgreSQL until `check` holds (a projection written by an activity), or fails. */
async function until<T>(what: string, read: () => Promise<T>, check: (v: T) => boolean) {
  let v = await read();
  for (let i = 0; i < 600 && !check(v); i++) {
    await new Promise((r) => setTimeout(r, 100));
    v = await read();
  }
  if (!check(v)) throw new Error(`${what} never held: ${JSON.stringify(v)}`);
  return v;
}

/** The Refusal a call ends in, or a failure of the test when it does not refuse. */
async function refusal(p: Promise<unknown>): Promise<Refusal> {
  try {
    await p;
  } catch (e) {
    if (e instanceof Refusal) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

const HEADER = '办件编号,办结日期,事项名称,申请人,办理时长（工作日）';

describe('department business records, sampled, under time skipping', () => {
  it('uploads, draws the official sample, asks each sampled record, escalates the ignored one and flags a discrepancy', async () => {
    const now = await env.currentTimeMs();
    const monday = firstMondayAfter(now, TZ);
    const d = (n: number) => addCalendarDays(monday, n);
    const campaignId = `rec-${monday.replace(/-/g, '')}-${randomUUID().slice(0, 4)}`;
    const { def, calendar } = definitionFrom(monday, campaignId);
    const plan = planCampaign(def, calendar, new BusinessCalendar(calendar));
    const input: CampaignInput = { definition: def, calendar, plan, startedBy: 'spj-coord' };
    await env.client.workflow.start('campaignWorkflow', {
      taskQueue,
      workflowId: campaignId,
      args: [input],
    });
    await until(
      'the campaign recorded',
      async () =>
        (await db.pool.query('SELECT 1 FROM indicators WHERE campaign_id = $1', [campaignId]))
          .rowCount ?? 0,
      (n) => n > 0,
    );
    const sleepUntil = async (t: number) => env.sleep(Math.max(0, t - (await env.currentTimeMs())));
    const indicator = env.client.workflow.getHandle(indicatorWorkflowId(campaignId, 'kbqy'));
    const send: SendEvidence = (id, req) =>
      env.client.workflow
        .getHandle(id)
        .executeUpdate(requestEvidenceUpdate, { args: [req], updateId: req.requestId });
    const sendVerify: SendVerify = (id, req) =>
      env.client.workflow
        .getHandle(id)
        .executeUpdate(verifyUpdate, { args: [req], updateId: req.requestId });

    // --- the record lists: the lead unit's as CSV, the cooperating unit's as a workbook.
    const scjgjCsv = [HEADER];
    for (let i = 1; i <= 12; i++)
      scjgjCsv.push(
        `KB-${String(i).padStart(3, '0')},2026-09-${String(i).padStart(2, '0')},企业设立登记,申请企业${i},${(i % 3) + 0.5}`,
      );
    const scjgj = await uploadRecordList(db.pool, campaignId, {
      indicator: 'kbqy',
      unit: 'scjgj',
      as: 'scjgj-staff1',
      bytes: Buffer.from(`${scjgjCsv.join('\n')}\n`),
      fileName: 'scjgj-kbqy.csv',
    });
    expect(scjgj).toMatchObject({ listNo: 1, imported: 12, format: 'csv', unchanged: false });
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('办件台账');
    ws.addRow(HEADER.split(','));
    for (let i = 1; i <= 6; i++)
      ws.addRow([`SW-${i}`, new Date(Date.UTC(2026, 8, i)), '涉税事项', `纳税人${i}`, 1]);
    const swjBytes = Buffer.from(await wb.xlsx.writeBuffer());
    const swj = await uploadRecordList(db.pool, campaignId, {
      indicator: 'kbqy',
      unit: 'swj',
      as: 'swj-staff1',
      bytes: swjBytes,
      fileName: 'swj-kbqy.xlsx',
    });
    expect(swj).toMatchObject({ listNo: 2, imported: 6, format: 'xlsx' });
    // The same file again records nothing; another unit's person may not upload for it.
    expect(
      await uploadRecordList(db.pool, campaignId, {
        indicator: 'kbqy',
        unit: 'swj',
        as: 'swj-staff1',
        bytes: swjBytes,
        fileName: 'swj-kbqy.xlsx',
      }),
    ).toMatchObject({ listNo: 2, unchanged: true });
    const wrongUnit = await refusal(
      uploadRecordList(db.pool, campaignId, {
        indicator: 'kbqy',
        unit: 'scjgj',
        as: 'swj-staff1',
        bytes: Buffer.from(`${scjgjCsv.join('\n')}\n`),
        fileName: 'x.csv',
      }),
    );
    expect(wrongUnit.en).toMatch(
      /swj-staff1 \(staff in "swj"\) may not upload the record list of "scjgj"/,
    );
    expect(wrongUnit.zh).toMatch(/不能上传“scjgj”的办件台账/);
    // A bad file imports nothing and says where.
    const bad = await uploadRecordList(db.pool, campaignId, {
      indicator: 'kbqy',
      unit: 'scjgj',
      as: 'scjgj-staff1',
      bytes: Buffer.from(`${HEADER}\nKB-1,2026-09-01,设立,甲,x\n`),
      fileName: 'bad.csv',
    });
    expect(bad).toEqual({
      problems: [expect.objectContaining({ line: 2, column: 5, value: 'x' })],
    });
    const lists = await db.pool.query(
      'SELECT count(*)::int AS n FROM record_lists WHERE campaign_id = $1',
      [campaignId],
    );
    expect(lists.rows[0].n).toBe(2);

    // --- the record sample: stratified by unit, 6 records of 18.
    const first = await drawRecords(db.pool, campaignId, {
      indicator: 'kbqy',
      as: 'dsf-eval',
      seed: 'r1',
      count: 6,
      byUnit: true,
    });
    expect(first).toMatchObject({
      drawNo: 1,
      official: true,
      population: 18,
      size: 6,
      unchanged: false,
    });
    expect(first.strata).toEqual([
      { unit: 'scjgj', population: 12, size: 4 },
      { unit: 'swj', population: 6, size: 2 },
    ]);
    const again = await drawRecords(db.pool, campaignId, {
      indicator: 'kbqy',
      as: 'dsf-eval',
      seed: 'r1',
      count: 6,
      byUnit: true,
    });
    expect(again.records).toEqual(first.records);
    expect(again).toMatchObject({ drawNo: 1, unchanged: true });
    // Another seed by the evaluator, or by the bureau without a reason: refused, nothing kept.
    const byEvaluator = await refusal(
      drawRecords(db.pool, campaignId, {
        indicator: 'kbqy',
        as: 'dsf-eval',
        seed: 'r2',
        count: 6,
        byUnit: true,
      }),
    );
    expect(byEvaluator.en).toMatch(
      /draw #1 \(seed r1, by dsf-eval\) is the official one; drawing again needs the bureau's reason/,
    );
    const noReason = await refusal(
      drawRecords(db.pool, campaignId, {
        indicator: 'kbqy',
        as: 'spj-coord',
        seed: 'r2',
        count: 6,
        byUnit: true,
      }),
    );
    expect(noReason.zh).toMatch(/重新抽样须写明理由/);
    // Nor past the rules in PostgreSQL, for a client that writes there directly.
    await expect(
      db.pool.query(
        `INSERT INTO record_samples (campaign_id, indicator, draw_no, seed, count, stratified, population, size, lists, drawn_by)
         VALUES ($1, 'kbqy', 0, 'r9', 6, false, 18, 6, '{1,2}', 'dsf-eval')`,
        [campaignId],
      ),
    ).rejects.toThrow(/may not draw the record sample of kbqy again/);
    expect(
      (
        await db.pool.query(
          'SELECT count(*)::int AS n FROM record_samples WHERE campaign_id = $1',
          [campaignId],
        )
      ).rows[0].n,
    ).toBe(1);
    // --- the enterprise sample follows the same rule.
    for (let i = 0; i < 20; i++)
      await db.pool.query(
        `INSERT INTO enterprises (campaign_id, credit_code, name, imported_by) VALUES ($1, $2, $3, 'spj-coord')`,
        [campaignId, withCreditCheck(`913400000000${String(i).padStart(5, '0')}`), `企业${i}`],
      );
    const e1 = await drawEnterprises(db.pool, campaignId, { as: 'dsf-eval', seed: 'e1' });
    expect(e1).toMatchObject({ drawNo: 1, official: true, size: 4, population: 20 });
    expect(
      (await drawEnterprises(db.pool, campaignId, { as: 'dsf-eval', seed: 'e1' })).enterprises,
    ).toEqual(e1.enterprises);
    expect(
      (await refusal(drawEnterprises(db.pool, campaignId, { as: 'dsf-eval', seed: 'e2' }))).en,
    ).toMatch(/already drawn: draw #1 \(seed e1, by dsf-eval\) is the official one/);
    const e2 = await drawEnterprises(db.pool, campaignId, {
      as: 'spj-head',
      seed: 'e2',
      reason: '名单更新后重抽',
    });
    expect(e2).toMatchObject({ drawNo: 2, supersedes: 1 });
    const samples = await db.pool.query(
      'SELECT draw_no, seed, official, reason FROM samples WHERE campaign_id = $1 ORDER BY draw_no',
      [campaignId],
    );
    expect(samples.rows).toEqual([
      { draw_no: 1, seed: 'e1', official: false, reason: null },
      { draw_no: 2, seed: 'e2', official: true, reason: '名单更新后重抽' },
    ]);

    // --- verification: one evidence request per record of the official draw.
    const early = await refusal(
      requestRecordEvidence(
        db.pool,
        send,
        campaignId,
        { indicator: 'kbqy', as: 'spj-coord' },
        indicatorWorkflowId,
      ),
    );
    expect(early.en).toMatch(/may not request evidence: only the third-party evaluator may/);
    await sleepUntil(at(d(7), 10));
    await settle(indicator);
    // The first draw is asked for; then the bureau redraws it, larger.
    const askedFirst = await requestRecordEvidence(
      db.pool,
      send,
      campaignId,
      { indicator: 'kbqy', as: 'dsf-eval' },
      indicatorWorkflowId,
    );
    expect(askedFirst.drawNo).toBe(1);
    expect(askedFirst.requested.map((r) => [r.unit, r.recordNo, r.new])).toEqual(
      first.records.map((r) => [r.unit, r.recordNo, true]),
    );
    // With the bureau's reason: a new official draw, the first kept and marked superseded.
    const redraw = await drawRecords(db.pool, campaignId, {
      indicator: 'kbqy',
      as: 'spj-coord',
      seed: 'r2',
      count: 12,
      byUnit: true,
      reason: '首次抽样未覆盖网办件，经审批局同意重新抽取',
    });
    expect(redraw).toMatchObject({ drawNo: 2, official: true, supersedes: 1, size: 12 });
    expect(redraw.records).not.toEqual(first.records);
    const draws = await db.pool.query(
      `SELECT draw_no, seed, official, superseded_by, reason, drawn_by FROM record_samples
        WHERE campaign_id = $1 ORDER BY draw_no`,
      [campaignId],
    );
    expect(draws.rows).toEqual([
      {
        draw_no: 1,
        seed: 'r1',
        official: false,
        superseded_by: 2,
        reason: null,
        drawn_by: 'dsf-eval',
      },
      {
        draw_no: 2,
        seed: 'r2',
        official: true,
        superseded_by: null,
        reason: '首次抽样未覆盖网办件，经审批局同意重新抽取',
        drawn_by: 'spj-coord',
      },
    ]);
    const kept = await db.pool.query(
      `SELECT draw_no, count(*)::int AS n FROM record_sample_items WHERE campaign_id = $1 GROUP BY draw_no ORDER BY draw_no`,
      [campaignId],
    );
    expect(kept.rows).toEqual([
      { draw_no: 1, n: 6 },
      { draw_no: 2, n: 12 },
    ]);
    // The official draw again, by its seed, from the evaluator: the same records.
    expect(
      (
        await drawRecords(db.pool, campaignId, {
          indicator: 'kbqy',
          as: 'dsf-eval',
          seed: 'r2',
          count: 12,
          byUnit: true,
        })
      ).records,
    ).toEqual(redraw.records);

    const asked = await requestRecordEvidence(
      db.pool,
      send,
      campaignId,
      { indicator: 'kbqy', as: 'dsf-eval' },
      indicatorWorkflowId,
    );
    expect(asked.drawNo).toBe(2);
    expect(asked.requested.map((r) => [r.unit, r.recordNo])).toEqual(
      redraw.records.map((r) => [r.unit, r.recordNo]),
    );
    // A record of both draws keeps the request of the first (8 and 4 of scjgj's 12 overlap).
    const key = (r: { unit: string; recordNo: string }) => `${r.unit}/${r.recordNo}`;
    const firstTask = new Map(askedFirst.requested.map((r) => [key(r), r.taskId]));
    const overlap = asked.requested.filter((r) => firstTask.has(key(r)));
    expect(overlap.length).toBeGreaterThan(0);
    for (const r of asked.requested)
      if (firstTask.has(key(r)))
        expect(r).toMatchObject({ new: false, taskId: firstTask.get(key(r)) });
      else expect(r.new).toBe(true);
    const allRequests = [...askedFirst.requested, ...asked.requested];
    const allTasks = [...new Set(allRequests.map((r) => r.taskId))];
    expect(allTasks).toHaveLength(6 + 12 - overlap.length);
    // One working day after Monday 10:00, Tuesday a holiday: Wednesday 10:00.
    for (const r of allRequests) expect(Math.abs(r.due - at(d(9), 10))).toBeLessThan(MINUTE);
    const tasks = await until(
      'every evidence task projected',
      async () =>
        (
          await db.pool.query<{
            task_id: string;
            unit_id: string;
            assignee: string;
            title: string;
          }>(
            `SELECT task_id, unit_id, assignee, title FROM tasks WHERE campaign_id = $1 AND kind = 'evidence' ORDER BY task_id`,
            [campaignId],
          )
        ).rows,
      (rows) => rows.length === allTasks.length,
    );
    for (const r of allRequests) {
      const t = tasks.find((x) => x.task_id === r.taskId)!;
      expect(t.unit_id).toBe(r.unit);
      expect(t.title).toContain(`办件编号 ${r.recordNo}`);
    }
    // Asked again: nothing new.
    const twice = await requestRecordEvidence(
      db.pool,
      send,
      campaignId,
      { indicator: 'kbqy', as: 'dsf-eval' },
      indicatorWorkflowId,
    );
    expect(twice.requested.every((r) => !r.new)).toBe(true);
    expect(twice.requested.map((r) => r.taskId)).toEqual(asked.requested.map((r) => r.taskId));

    // Every unit answers but one request, which is ignored.
    const ignored = asked.requested.find((r) => r.unit === 'swj')!;
    for (const t of tasks) {
      if (t.task_id === ignored.taskId) continue;
      const handle = env.client.workflow.getHandle(t.task_id);
      await settle(handle);
      await handle.executeUpdate(submitUpdate, {
        args: [
          {
            requestId: randomUUID(),
            actor: t.assignee,
            evidence: [`https://example.org/${encodeURIComponent(t.task_id)}.pdf`],
          },
        ],
      });
    }
    // The outcome per record: one confirmed, one discrepant (the indicator is flagged).
    const answered = asked.requested.filter((r) => r.taskId !== ignored.taskId);
    const confirmed = await verifyRecord(
      db.pool,
      sendVerify,
      campaignId,
      { indicator: 'kbqy', record: answered[0]!.recordNo, outcome: 'confirmed', as: 'dsf-eval' },
      indicatorWorkflowId,
    );
    expect(confirmed).toMatchObject({ outcome: 'confirmed', flagged: false, drawNo: 2 });
    const discrepant = await verifyRecord(
      db.pool,
      sendVerify,
      campaignId,
      {
        indicator: 'kbqy',
        record: answered[1]!.recordNo,
        outcome: 'discrepant',
        note: '系统记录办理时长为 5 个工作日',
        as: 'dsf-eval',
      },
      indicatorWorkflowId,
    );
    expect(discrepant).toMatchObject({
      outcome: 'discrepant',
      flagged: true,
      item: `办件 ${answered[1]!.recordNo}（${answered[1]!.unit}）`,
    });
    const notSampled = await refusal(
      verifyRecord(
        db.pool,
        sendVerify,
        campaignId,
        { indicator: 'kbqy', record: 'KB-999', outcome: 'confirmed', as: 'dsf-eval' },
        indicatorWorkflowId,
      ),
    );
    expect(notSampled.en).toMatch(
      /record KB-999 is not in the official record sample of kbqy \(draw #2/,
    );
    expect((await indicator.query(indicatorStatusQuery)).flagged).toBe(true);
    const outcomes = await db.pool.query(
      `SELECT record_no, outcome FROM record_sample_items
        WHERE campaign_id = $1 AND draw_no = 2 AND outcome IS NOT NULL ORDER BY record_no`,
      [campaignId],
    );
    expect(outcomes.rows).toEqual(
      [
        { record_no: answered[0]!.recordNo, outcome: 'confirmed' },
        { record_no: answered[1]!.recordNo, outcome: 'discrepant' },
      ].sort((a, b) => (a.record_no < b.record_no ? -1 : 1)),
    );
    const verifications = await db.pool.query(
      `SELECT item, outcome FROM verifications WHERE campaign_id = $1 AND code = 'kbqy' ORDER BY seq`,
      [campaignId],
    );
    expect(verifications.rows.map((v) => v.outcome)).toEqual(['confirmed', 'discrepant']);
    const flag = await until(
      'the data-integrity notice',
      async () =>
        (
          await db.pool.query<{ title: string }>(
            `SELECT title FROM notices WHERE campaign_id = $1 AND kind = 'data-integrity'`,
            [campaignId],
          )
        ).rows,
      (rows) => rows.length === 1,
    );
    expect(flag[0]!.title).toContain(answered[1]!.recordNo);

    // --- the ignored request: due Wednesday 10:00, escalated a working day later.
    await sleepUntil(at(d(10), 12));
    const state = await until(
      'the ignored request escalated',
      async () =>
        (
          await db.pool.query<{ task_id: string; state: string; escalation_level: number }>(
            `SELECT task_id, state, escalation_level FROM tasks WHERE campaign_id = $1 AND kind = 'evidence' ORDER BY task_id`,
            [campaignId],
          )
        ).rows,
      (rows) => rows.find((r) => r.task_id === ignored.taskId)?.escalation_level === 1,
    );
    for (const t of state)
      if (t.task_id === ignored.taskId)
        expect(t).toMatchObject({ state: 'open', escalation_level: 1 });
      else expect(t).toMatchObject({ state: 'done', escalation_level: 0 });
    const escalated = await db.pool.query(
      `SELECT task_id, at FROM task_events WHERE campaign_id = $1 AND type = 'escalated' AND task_id = ANY($2)`,
      [campaignId, allTasks],
    );
    expect(escalated.rows.map((e) => e.task_id)).toEqual([ignored.taskId]);
    expect(Math.abs(escalated.rows[0].at.getTime() - at(d(10), 10))).toBeLessThan(MINUTE);
  });
});
