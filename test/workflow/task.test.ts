// The supervised task under time skipping: every timer path (reminders, each escalation step,
// working-day escalation over a weekend, a holiday and an adjusted Saturday, extension,
// reassignment, cancellation) and the review loop, checked in the PostgreSQL projection.
import { writeFileSync, mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import {
  ApplicationFailure,
  WorkflowFailedError,
  WorkflowUpdateFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type TaskInput, type TaskOutcome } from '../../domain/task.ts';
import {
  approveUpdate,
  cancelUpdate,
  extendUpdate,
  reassignUpdate,
  returnUpdate,
  submitUpdate,
  taskViewQuery,
} from '../../domain/messages.ts';
import {
  addCalendarDays,
  DAY,
  HOUR,
  localDateOf,
  MINUTE,
  zonedInstant,
} from '../../domain/time.ts';
import type { TestDatabase } from '../helpers/postgres.ts';
import {
  demoFixture,
  goodData,
  recordFixtureCampaign,
  taskInput,
  type Fixture,
} from '../helpers/task-fixture.ts';
import { refusalTexts } from '../../domain/refusal.ts';
import { taskStartOptions } from '../../domain/task-start.ts';
import { startTaskAsChild } from '../helpers/start-task.ts';
import { finishedResult, settle, startHarness, type Harness } from '../helpers/temporal.ts';

Runtime.install({ logger: new DefaultLogger('WARN') });

let harness: Harness;
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let taskQueue: string;
let fx: Fixture;

beforeAll(async () => {
  [harness, fx] = await Promise.all([
    startHarness('time-skipping', { withTestParents: true }),
    demoFixture(),
  ]);
  ({ env, db, taskQueue } = harness);
  await recordFixtureCampaign(db.pool, fx);
});

afterAll(async () => {
  await harness?.close();
});

/** The tasks each test started: ended after it, so that no test's timers run into the next. */
const started: WorkflowHandle[] = [];
afterEach(async () => {
  for (const h of started.splice(0)) await h.terminate('test done').catch(() => undefined);
});

/** A task started as production starts one: by a workflow of its campaign. */
async function start(input: TaskInput): Promise<WorkflowHandle> {
  const h = await startTaskAsChild(env.client, input, { taskQueue });
  started.push(h);
  return h;
}

interface EventRow {
  seq: number;
  at: Date;
  type: string;
  actor: string | null;
  detail: Record<string, unknown>;
  recipients: string[];
}

async function events(taskId: string): Promise<EventRow[]> {
  const r = await db.pool.query<EventRow>(
    'SELECT seq, at, type, actor, detail, recipients FROM task_events WHERE task_id = $1 ORDER BY seq',
    [taskId],
  );
  return r.rows;
}

/**
 * Timer events are recorded at the workflow's own clock when its task runs after the timer. On
 * the time-skipping server that clock stands still while the worker is busy, but on a loaded
 * machine the server may run in real time for a while between a timer and its task; what a
 * person would notice is a reminder or escalation minutes off, so the bar is one minute.
 */
const near = (got: number[], want: number[], tolMs = 60_000) => {
  expect(got).toHaveLength(want.length);
  got.forEach((g, i) =>
    expect(Math.abs(g - want[i]!), `#${i}: ${g} vs ${want[i]}`).toBeLessThan(tolMs),
  );
};

const types = async (taskId: string) => (await events(taskId)).map((e) => e.type);
const req = <T extends object = object>(actor: string, extra?: T) => ({
  requestId: randomUUID(),
  actor,
  ...(extra as T),
});

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof WorkflowUpdateFailedError)
      return String((e.cause as Error)?.message ?? e.message);
    throw e;
  }
  throw new Error('expected the update to be refused');
}

describe('a supervised task under time skipping', () => {
  it('sends every reminder at its offset before the due instant, to the assignee', async () => {
    const now = await env.currentTimeMs();
    const due = now + 4 * DAY;
    const input = taskInput(fx, due);
    const h = await start(input);
    await env.sleep(4 * DAY - 2 * HOUR + MINUTE);
    const reminders = (await events(input.taskId)).filter((e) => e.type === 'reminded');
    expect(reminders.map((r) => r.detail.offset)).toEqual(['P3D', 'P1D', 'PT2H']);
    near(
      reminders.map((r) => r.at.getTime() - due),
      [-3 * DAY, -DAY, -2 * HOUR],
    );
    for (const r of reminders) expect(r.recipients).toEqual(['scjgj-staff1']);
    expect((await h.query(taskViewQuery)).colour).toBe('yellow');
    await h.terminate('test done');
  });

  it('climbs each escalation step after its delay, reaching the right people', async () => {
    const now = await env.currentTimeMs();
    const due = now + HOUR;
    const input = taskInput(fx, due, { policy: { ...taskInput(fx, due).policy, reminders: [] } });
    const h = await start(input);
    await env.sleep(HOUR + 4 * HOUR + DAY + 2 * DAY + MINUTE);
    const esc = (await events(input.taskId)).filter((e) => e.type === 'escalated');
    expect(esc.map((e) => e.detail.level)).toEqual([1, 2, 3]);
    near(
      esc.map((e) => e.at.getTime() - due),
      [4 * HOUR, 4 * HOUR + DAY, 4 * HOUR + 3 * DAY],
    );
    expect(esc[0]!.recipients.sort()).toEqual(['scjgj-deputy', 'scjgj-staff1']);
    expect(esc[1]!.recipients).toEqual(['scjgj-head']);
    expect(esc[2]!.recipients.sort()).toEqual(['spj-coord', 'spj-head', 'xzf-leader']);
    const v = await h.query(taskViewQuery);
    expect([v.colour, v.escalationLevel]).toEqual(['red', 3]);
    const row = await db.pool.query(
      'SELECT escalation_level, state FROM tasks WHERE task_id = $1',
      [input.taskId],
    );
    expect(row.rows[0]).toEqual({ escalation_level: 3, state: 'open' });
    await h.terminate('test done');
  });

  it('counts escalation delays in working days across a weekend, a holiday and an adjusted working Saturday', async () => {
    const now = await env.currentTimeMs();
    const tz = 'Asia/Shanghai';
    // The first Friday at least three days ahead.
    let friday = addCalendarDays(localDateOf(now, tz), 3);
    while (new Date(`${friday}T00:00:00Z`).getUTCDay() !== 5) friday = addCalendarDays(friday, 1);
    const [y, m, d] = friday.split('-').map(Number) as [number, number, number];
    const due = zonedInstant(y, m, d, 18, 0, 0, tz);
    const monday = addCalendarDays(friday, 3);
    const thursday = addCalendarDays(friday, 6);
    const saturday = addCalendarDays(friday, 8);
    const input = taskInput(fx, due, {
      calendar: {
        timeZone: tz,
        workdayStart: '09:00',
        workdayEnd: '18:00',
        holidays: [monday, thursday],
        workdays: [saturday],
      },
    });
    input.policy = {
      ...input.policy,
      reminders: [],
      escalation: [
        { after: { workingDays: 1 }, notify: ['deputy'] },
        { after: { workingDays: 3 }, notify: ['head'] },
      ],
    };
    const h = await start(input);
    await env.sleep(due - now + 10 * DAY);
    const esc = (await events(input.taskId)).filter((e) => e.type === 'escalated');
    const at = (dt: string) =>
      zonedInstant(+dt.slice(0, 4), +dt.slice(5, 7), +dt.slice(8, 10), 18, 0, 0, tz);
    // Fri due → weekend and the Monday holiday skipped → Tuesday; then Wed, (Thu off), Fri, Sat (worked).
    near(
      esc.map((e) => e.at.getTime()),
      [at(addCalendarDays(friday, 4)), at(saturday)],
    );
    await h.terminate('test done');
  });

  it('fires nothing more once submitted before due, and completes on time', async () => {
    const now = await env.currentTimeMs();
    const input = taskInput(fx, now + 4 * DAY, { review: false });
    const h = await start(input);
    await env.sleep(HOUR);
    await settle(h);
    const r = await h.executeUpdate(submitUpdate, {
      args: [req('scjgj-staff1', { data: goodData, note: '已填报' })],
    });
    expect(r.state).toBe('done');
    const outcome = (await finishedResult(h)) as TaskOutcome;
    expect(outcome).toMatchObject({ state: 'done', onTime: true, escalationLevel: 0 });
    await env.sleep(10 * DAY);
    expect(await types(input.taskId)).toEqual(['created', 'submitted', 'done']);
    const row = await db.pool.query('SELECT state, on_time FROM tasks WHERE task_id = $1', [
      input.taskId,
    ]);
    expect(row.rows[0]).toEqual({ state: 'done', on_time: true });
    const sub = await db.pool.query('SELECT by_person, data FROM submissions WHERE task_id = $1', [
      input.taskId,
    ]);
    expect(sub.rows).toEqual([{ by_person: 'scjgj-staff1', data: goodData }]);
  });

  it('runs submit → return → resubmit → approve, with a new due instant after the return', async () => {
    const now = await env.currentTimeMs();
    const input = taskInput(fx, now + DAY);
    const h = await start(input);
    await h.executeUpdate(submitUpdate, {
      args: [req('scjgj-staff1', { data: { ...goodData, onlineRate: 40 } })],
    });
    await env.sleep(2 * HOUR);
    await settle(h);
    const returned = await h.executeUpdate(returnUpdate, {
      args: [req('spj-coord', { reason: '网办率与系统数据不符' })],
    });
    expect(returned.state).toBe('returned');
    const t = await env.currentTimeMs();
    near([returned.due], [Math.max(now + DAY, t + 2 * DAY)]);
    await h.executeUpdate(submitUpdate, { args: [req('scjgj-staff1', { data: goodData })] });
    const approved = await h.executeUpdate(approveUpdate, {
      args: [req('spj-coord', { note: '符合填报尺度' })],
    });
    expect(approved.state).toBe('done');
    expect(((await finishedResult(h)) as TaskOutcome).onTime).toBe(true);
    expect(await types(input.taskId)).toEqual([
      'created',
      'submitted',
      'returned',
      'submitted',
      'approved',
    ]);
    const ev = await events(input.taskId);
    expect(ev[2]).toMatchObject({
      actor: 'spj-coord',
      detail: { reason: '网办率与系统数据不符' },
      recipients: ['scjgj-staff1'],
    });
    expect(ev[1]!.recipients).toEqual(
      ['spj-head', 'spj-coord'].filter((p) => ev[1]!.recipients.includes(p)),
    );
  });

  it('keeps work that was first handed in late as late, even when the resubmission after a return meets the new due time', async () => {
    const now = await env.currentTimeMs();
    const input = taskInput(fx, now + HOUR);
    const h = await start(input);
    await env.sleep(2 * HOUR);
    await settle(h);
    await h.executeUpdate(submitUpdate, { args: [req('scjgj-staff1', { data: goodData })] });
    const returned = await h.executeUpdate(returnUpdate, {
      args: [req('spj-coord', { reason: '请补充' })],
    });
    expect(returned.due).toBeGreaterThan(await env.currentTimeMs());
    await h.executeUpdate(submitUpdate, { args: [req('scjgj-staff1', { data: goodData })] });
    await h.executeUpdate(approveUpdate, { args: [req('spj-coord')] });
    expect(((await finishedResult(h)) as TaskOutcome).onTime).toBe(false);
  });

  it('moves every pending timer when an extension is granted, after a request by the unit', async () => {
    const now = await env.currentTimeMs();
    const due = now + 2 * DAY;
    const input = taskInput(fx, due);
    input.policy = {
      ...input.policy,
      reminders: ['P1D'],
      escalation: [{ after: { duration: 'PT1H' }, notify: ['deputy'] }],
    };
    const h = await start(input);
    const asked = await h.executeUpdate(extendUpdate, {
      args: [req('scjgj-staff1', { until: due + 3 * DAY, reason: '等待税务数据' })],
    });
    expect(asked).toMatchObject({ extension: 'requested', due });
    const granted = await h.executeUpdate(extendUpdate, {
      args: [req('spj-coord', { until: due + 3 * DAY, reason: '同意延期' })],
    });
    expect(granted).toMatchObject({ extension: 'granted', due: due + 3 * DAY });
    await env.sleep(2 * DAY + 2 * HOUR); // past the old due and the old escalation
    expect(await types(input.taskId)).toEqual(['created', 'extension-requested', 'extended']);
    await env.sleep(3 * DAY + MINUTE);
    const ev = await events(input.taskId);
    const reminded = ev.find((e) => e.type === 'reminded')!;
    const escalated = ev.find((e) => e.type === 'escalated')!;
    near(
      [reminded.at.getTime(), escalated.at.getTime()],
      [due + 3 * DAY - DAY, due + 3 * DAY + HOUR],
    );
    expect(ev[1]!.recipients).toEqual(expect.arrayContaining(['spj-coord']));
    await h.terminate('test done');
  });

  it('sends later reminders to the new assignee after a reassignment', async () => {
    const now = await env.currentTimeMs();
    const input = taskInput(fx, now + 2 * DAY);
    input.policy = { ...input.policy, reminders: ['P1D'] };
    const h = await start(input);
    const r = await h.executeUpdate(reassignUpdate, {
      args: [req('scjgj-deputy', { to: 'scjgj-staff2' })],
    });
    expect(r.assignee).toBe('scjgj-staff2');
    await env.sleep(DAY + MINUTE);
    const ev = await events(input.taskId);
    expect(ev.map((e) => e.type)).toEqual(['created', 'reassigned', 'reminded']);
    expect(ev[2]!.recipients).toEqual(['scjgj-staff2']);
    const row = await db.pool.query('SELECT assignee FROM tasks WHERE task_id = $1', [
      input.taskId,
    ]);
    expect(row.rows[0].assignee).toBe('scjgj-staff2');
    await h.terminate('test done');
  });

  it('sends only the latest step when the whole ladder is overdue at once, naming the ones skipped', async () => {
    const now = await env.currentTimeMs();
    // Created with its due instant four days past: every escalation step is overdue already.
    const due = now - 4 * DAY;
    const input = taskInput(fx, due, { policy: { ...taskInput(fx, due).policy, reminders: [] } });
    const h = await start(input);
    await env.sleep(MINUTE);
    const esc = (await events(input.taskId)).filter((e) => e.type === 'escalated');
    expect(esc.map((e) => e.detail.level)).toEqual([3]);
    expect(esc[0]!.detail.skipped).toEqual(['escalation 1', 'escalation 2']);
    expect(esc[0]!.recipients.sort()).toEqual(['spj-coord', 'spj-head', 'xzf-leader']);
    const notices = await db.pool.query(
      `SELECT count(*)::int AS n FROM notices WHERE task_id = $1 AND kind = 'escalated'`,
      [input.taskId],
    );
    expect(notices.rows[0].n).toBe(1);
    expect((await h.query(taskViewQuery)).escalationLevel).toBe(3);
    await h.terminate('test done');
  });

  it('fires nothing after a cancellation and ends as cancelled', async () => {
    const now = await env.currentTimeMs();
    const input = taskInput(fx, now + 2 * DAY);
    const h = await start(input);
    await h.executeUpdate(cancelUpdate, {
      args: [req('spj-coord', { reason: '指标调整，不再填报' })],
    });
    expect(((await finishedResult(h)) as TaskOutcome).state).toBe('cancelled');
    await env.sleep(10 * DAY);
    expect(await types(input.taskId)).toEqual(['created', 'cancelled']);
  });

  it('refuses forbidden actions with their reason and leaves no trace of them', async () => {
    const now = await env.currentTimeMs();
    const input = taskInput(fx, now + 2 * DAY);
    const h = await start(input);
    await env.sleep(MINUTE);
    await settle(h);
    expect(
      await refusal(
        h.executeUpdate(submitUpdate, { args: [req('swj-staff1', { data: goodData })] }),
      ),
    ).toMatch(/belongs to "swj", not to the task's unit "scjgj"/);
    expect(
      await refusal(
        h.executeUpdate(submitUpdate, {
          args: [req('scjgj-staff1', { data: { procedures: 'three' } })],
        }),
      ),
    ).toMatch(/办理环节 \(procedures\) must be a number/);
    expect(await refusal(h.executeUpdate(approveUpdate, { args: [req('spj-coord')] }))).toMatch(
      /cannot approve a task that is open/,
    );
    expect(
      await refusal(h.executeUpdate(submitUpdate, { args: [req('ghost', { data: goodData })] })),
    ).toMatch(/unknown person "ghost"/);
    // No update was accepted into the history, no event projected, the state unchanged.
    const history = await h.fetchHistory();
    const accepted = (history.events ?? []).filter(
      (e) => e.workflowExecutionUpdateAcceptedEventAttributes,
    );
    expect(accepted).toEqual([]);
    expect(await types(input.taskId)).toEqual(['created']);
    expect(await h.query(taskViewQuery)).toMatchObject({
      state: 'open',
      eventCount: 1,
      lastSubmission: null,
    });
    await h.terminate('test done');
  });

  it('applies the same request id once', async () => {
    const now = await env.currentTimeMs();
    const input = taskInput(fx, now + 2 * DAY);
    const h = await start(input);
    const same = req('scjgj-staff1', { data: goodData });
    const a = await h.executeUpdate(submitUpdate, { args: [same], updateId: same.requestId });
    const b = await h.executeUpdate(submitUpdate, { args: [same], updateId: same.requestId });
    const c = await h.executeUpdate(submitUpdate, { args: [same] }); // same request, another update id
    expect([a.state, b.state, c.state]).toEqual(['submitted', 'submitted', 'submitted']);
    expect(await types(input.taskId)).toEqual(['created', 'submitted']);
    await h.terminate('test done');
  });

  it('runs as the child of the workflow that needs the work and reports its outcome back to it', async () => {
    const now = await env.currentTimeMs();
    const input = taskInput(fx, now + DAY, { review: false });
    const parent = await env.client.workflow.start('taskParentWorkflow', {
      taskQueue,
      // A parent of the task's own campaign: only such a workflow may start it.
      workflowId: `${input.campaignId}/parent/${randomUUID()}`,
      args: [input],
    });
    const child = env.client.workflow.getHandle(input.taskId);
    for (let i = 0; i < 50; i++) {
      try {
        await child.describe();
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const d = await child.describe();
    expect(d.parentExecution?.workflowId).toBe(parent.workflowId);
    await child.executeUpdate(submitUpdate, { args: [req('scjgj-staff1', { data: goodData })] });
    const r = (await parent.result()) as { result: TaskOutcome; signalled: TaskOutcome | null };
    expect(r.result).toMatchObject({ taskId: input.taskId, state: 'done', onTime: true });
    expect(r.signalled).toEqual(r.result);
  });

  it('refuses to run when a bare client starts it, or a workflow of another campaign: nothing projected, nobody notified', async () => {
    const now = await env.currentTimeMs();
    const projected = async (taskId: string) => {
      const r = await db.pool.query<{ n: string }>(
        `SELECT (SELECT count(*) FROM tasks WHERE task_id = $1)
              + (SELECT count(*) FROM task_events WHERE task_id = $1)
              + (SELECT count(*) FROM notices WHERE task_id = $1) AS n`,
        [taskId],
      );
      return Number(r.rows[0]!.n);
    };
    const failureOf = async (h: WorkflowHandle) => {
      try {
        await h.result();
      } catch (e) {
        expect(e).toBeInstanceOf(WorkflowFailedError);
        return e as WorkflowFailedError;
      }
      throw new Error('expected the task to be refused');
    };

    // Started straight from a client, as anyone who can reach Temporal could, with any input.
    const bare = taskInput(fx, now + DAY, {
      taskId: 'demo-2026/kbqy/questionnaire/scjgj/forged',
    });
    const h = await env.client.workflow.start('taskWorkflow', {
      ...taskStartOptions(bare),
      taskQueue,
      args: [bare],
    });
    const e = await failureOf(h);
    expect(e.cause).toBeInstanceOf(ApplicationFailure);
    expect((e.cause as ApplicationFailure).type).toBe('Refused');
    const texts = refusalTexts(e);
    expect(texts?.en).toMatch(
      /^Task demo-2026\/kbqy\/questionnaire\/scjgj\/forged refused: a task runs only as the child of a workflow of its campaign "demo-2026".*started directly, without a parent workflow/,
    );
    expect(texts?.zh).toMatch(/督办事项 .* 被拒绝：.*此次启动没有上级流程/);
    expect(await projected(bare.taskId)).toBe(0);
    // It ran nothing: no activity, no local activity (the projection), no timer.
    const history = await h.fetchHistory();
    const kinds = (history.events ?? []).map((ev) =>
      Object.keys(ev).find((k) => k.endsWith('Attributes')),
    );
    expect(kinds.filter((k) => /activity|marker|timer/i.test(k ?? ''))).toEqual(
      // the patch marker only
      ['markerRecordedEventAttributes'],
    );
    if (process.env.SAVE_HISTORIES) {
      writeFileSync('test/replay/histories/task-refused-unparented.json', historyToJSON(history));
    }

    // Started by a workflow, but one of another campaign.
    const foreign = taskInput(fx, now + DAY);
    const parent = await env.client.workflow.start('taskStarterWorkflow', {
      taskQueue,
      workflowId: `other-2026/test-starter/${randomUUID()}`,
      args: [foreign, taskQueue],
    });
    await finishedResult(parent);
    const e2 = await failureOf(env.client.workflow.getHandle(foreign.taskId));
    expect(refusalTexts(e2)?.en).toMatch(
      /started by workflow "other-2026\/test-starter\/.*", which is not one of campaign "demo-2026"/,
    );
    expect(await projected(foreign.taskId)).toBe(0);

    // The same task started by a workflow of its own campaign runs.
    const fine = await start(taskInput(fx, now + DAY, { review: false }));
    await fine.executeUpdate(submitUpdate, { args: [req('scjgj-staff1', { data: goodData })] });
    expect(await finishedResult(fine)).toMatchObject({ state: 'done' });
  });
});

// The long sleeps of these two run on a server of their own: on a busy machine, the tasks the
// earlier tests left behind (ended, with their starters) stalled the test server's skipping.
describe('a supervised task under time skipping, on a server of its own', () => {
  let outer: Harness;
  beforeAll(async () => {
    outer = harness;
    harness = await startHarness('time-skipping', { withTestParents: true });
    ({ env, db, taskQueue } = harness);
    await recordFixtureCampaign(db.pool, fx);
  });
  afterAll(async () => {
    await harness.close();
    harness = outer;
    ({ env, db, taskQueue } = harness);
  });

  it("feeds the unit's performance record: on time, late, escalations by level", async () => {
    const now = await env.currentTimeMs();
    const campaignId = `perf-${randomUUID().slice(0, 8)}`;
    const onTime = taskInput(fx, now + DAY, { campaignId, review: false });
    const late = taskInput(fx, now + HOUR, { campaignId, review: false });
    await recordFixtureCampaign(db.pool, fx, campaignId);
    const ht = await start(onTime);
    const hl = await start(late);
    await ht.executeUpdate(submitUpdate, { args: [req('scjgj-staff1', { data: goodData })] });
    await env.sleep(HOUR + 4 * HOUR + DAY + MINUTE); // the late one reaches escalation level 2
    await settle(hl);
    await hl.executeUpdate(submitUpdate, { args: [req('scjgj-staff2', { data: goodData })] });
    // One at a time: concurrent result() calls confuse the test server's time-skipping lock count.
    // Each after its status says it finished: result() lets the test server skip time, and it
    // would skip past the running projection activity's timeout (time is not held for it).
    await finishedResult(ht);
    await finishedResult(hl);
    const r = await db.pool.query('SELECT * FROM unit_performance WHERE campaign_id = $1', [
      campaignId,
    ]);
    expect(r.rows).toEqual([
      expect.objectContaining({
        unit_id: 'scjgj',
        tasks: '2',
        done_on_time: '1',
        done_late: '1',
        open_overdue: '0',
        escalations_level1: '1',
        escalations_level2: '1',
        escalations_level3_plus: '0',
      }),
    ]);
  });

  it('lives a full life in under 130 history events, and saves that history for replay', async () => {
    const now = await env.currentTimeMs();
    const input = taskInput(fx, now + 3 * DAY, {
      taskId: `demo-2026/kbqy/questionnaire/scjgj/replay`,
    });
    input.policy = {
      ...input.policy,
      reminders: ['P1D', 'PT2H'],
      escalation: [
        { after: { duration: 'PT4H' }, notify: ['deputy'] },
        ...input.policy.escalation.slice(1),
      ],
    };
    const h = await start(input);
    await env.sleep(3 * DAY + 5 * HOUR); // two reminders, one escalation
    await settle(h);
    await h.executeUpdate(submitUpdate, { args: [req('scjgj-staff1', { data: goodData })] });
    await h.executeUpdate(returnUpdate, { args: [req('spj-coord', { reason: '请补充材料' })] });
    await h.executeUpdate(submitUpdate, { args: [req('scjgj-staff1', { data: goodData })] });
    await h.executeUpdate(approveUpdate, { args: [req('spj-coord')] });
    await finishedResult(h);
    expect(await types(input.taskId)).toEqual([
      'created',
      'reminded',
      'reminded',
      'escalated',
      'submitted',
      'returned',
      'submitted',
      'approved',
    ]);
    const history = await h.fetchHistory();
    const count = history.events?.length ?? 0;
    console.log(`history events for a full task life: ${count}`);
    // Each action and each timer's event costs its projection activity (3 events) and the
    // workflow task its completion brings (3): the price of answering in one workflow task.
    expect(count).toBeLessThan(130);
    if (process.env.SAVE_HISTORIES) {
      mkdirSync('test/replay/histories', { recursive: true });
      writeFileSync('test/replay/histories/task-one-task-full-life.json', historyToJSON(history));
    }
  });
});
