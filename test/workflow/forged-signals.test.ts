// Signals that nobody in the campaign sent, sent straight through a Temporal client as anyone
// who can reach the server could: a task "finished" that was never submitted, results that force
// a rectification, an indicator "closed" early, a phase "moved", a task "cancelled". Each is
// dropped by the workflow that receives it, and the real ones still apply.
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusinessCalendar } from '../../domain/calendar.ts';
import { planCampaign, type CampaignInput } from '../../domain/campaign.ts';
import {
  campaignStatusQuery,
  cancelCampaignUpdate,
  droppedSignalsQuery,
  indicatorClosedSignal,
  indicatorStatusQuery,
  raiseTaskUpdate,
  resultsSignal,
  windowsMovedSignal,
} from '../../domain/messages.ts';
import { type TaskInput } from '../../domain/task.ts';
import {
  submitUpdate,
  taskControlSignal,
  taskFinishedSignal,
  taskViewQuery,
} from '../../domain/messages.ts';
import { zonedInstant } from '../../domain/time.ts';
import type { TestDatabase } from '../helpers/postgres.ts';
import { definitionFrom, firstMondayAfter } from '../helpers/moved-definition.ts';
import { startHarness, type Harness } from '../helpers/temporal.ts';

Runtime.install({ logger: new DefaultLogger('ERROR') });

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

/** Polls until `check` holds (the workflows decide in their own time; no clock is raced). */
async function until<T>(read: () => Promise<T>, check: (v: T) => boolean): Promise<T> {
  for (;;) {
    const v = await read();
    if (check(v)) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}
const dropped = (h: WorkflowHandle) => h.query(droppedSignalsQuery);
/** The refusal's message of an update that was refused. */
async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return String(((e as Error).cause as Error | undefined)?.message ?? e);
  }
  throw new Error('the update was accepted');
}

describe('signals from outside the campaign', () => {
  it('are dropped by every workflow that receives them, while the real ones apply', async () => {
    const now = await env.currentTimeMs();
    const monday = firstMondayAfter(now, TZ);
    const campaignId = `forged-${monday.replace(/-/g, '')}-${randomUUID().slice(0, 4)}`;
    const { def, calendar } = definitionFrom(monday, campaignId);
    const plan = planCampaign(def, calendar, new BusinessCalendar(calendar));
    const input: CampaignInput = { definition: def, calendar, plan, startedBy: 'spj-coord' };
    const campaign = await env.client.workflow.start('campaignWorkflow', {
      taskQueue,
      workflowId: campaignId,
      args: [input],
    });
    const trainingStart = zonedInstant(
      +monday.slice(0, 4),
      +monday.slice(5, 7),
      +monday.slice(8, 10),
      10,
      0,
      0,
      TZ,
    );
    await env.sleep(Math.max(0, trainingStart - (await env.currentTimeMs())));
    const kbqy = env.client.workflow.getHandle(`${campaignId}/kbqy`);
    const ns = env.client.workflow.getHandle(`${campaignId}/ns`);
    const { rows } = await until(
      () =>
        db.pool.query<{ task_id: string; assignee: string }>(
          `SELECT task_id, assignee FROM tasks
            WHERE campaign_id = $1 AND indicator = 'kbqy' AND kind = 'training' ORDER BY task_id`,
          [campaignId],
        ),
      (r) => r.rows.length >= 2,
    );
    const [forgedFor, realOne] = rows;
    const forgedTask = env.client.workflow.getHandle(forgedFor!.task_id);

    // A task "finished" although nobody submitted it.
    await kbqy.signal(taskFinishedSignal, {
      taskId: forgedFor!.task_id,
      state: 'done',
      completedAt: now,
      onTime: true,
      escalationLevel: 0,
      submission: { by: forgedFor!.assignee, at: now, note: '已参加培训', data: {}, evidence: [] },
    } as never);
    // Results that force a rectification, before any results were imported.
    await kbqy.signal(resultsSignal, { score: 1, rank: 99, rectify: '伪造' });
    // The campaign told that an indicator has closed.
    await campaign.signal(indicatorClosedSignal, { code: 'ns' });
    // An indicator told that the bureau moved its phases.
    await ns.signal(windowsMovedSignal, {
      windows: {
        training: { start: 0, end: 1 },
        dataEntry: { start: 1, end: 2 },
        verification: { start: 2, end: 3 },
        reporting: { start: 3, end: 4 },
      },
      move: { phase: 'training', action: 'close', actor: 'spj-coord', reason: '伪造', at: now },
    });
    // A task told by "its parent" that the campaign was cancelled.
    await forgedTask.signal(taskControlSignal, {
      kind: 'cancel',
      actor: 'spj-head',
      reason: '伪造',
    });

    const kbqyDropped = await until(
      () => dropped(kbqy),
      (d) => d.length >= 2,
    );
    expect(kbqyDropped.map((d) => d.signal).sort()).toEqual(['results', 'taskFinished']);
    expect(kbqyDropped.find((d) => d.signal === 'taskFinished')?.sender).toBe(forgedFor!.task_id);
    expect(
      (
        await until(
          () => dropped(campaign),
          (d) => d.length >= 1,
        )
      ).map((d) => d.signal),
    ).toEqual(['indicatorClosed']);
    expect(
      (
        await until(
          () => dropped(ns),
          (d) => d.length >= 1,
        )
      ).map((d) => d.signal),
    ).toEqual(['windowsMoved']);
    expect(
      (
        await until(
          () => dropped(forgedTask),
          (d) => d.length >= 1,
        )
      ).map((d) => d.signal),
    ).toEqual(['control']);

    // Nothing of it took effect.
    const status = await kbqy.query(indicatorStatusQuery);
    expect(status.openTasks).toContain(forgedFor!.task_id);
    expect(status.result).toBeNull();
    expect((await campaign.query(campaignStatusQuery)).closedIndicators).toEqual([]);
    expect((await forgedTask.query(taskViewQuery)).state).toBe('open');
    expect((await ns.query(indicatorStatusQuery)).phase).toBe('training');

    // The real ones still apply: a real submission finishes its task at the indicator, and the
    // bureau's real cancellation reaches the task the forged one could not.
    await env.client.workflow.getHandle(realOne!.task_id).executeUpdate(submitUpdate, {
      args: [{ requestId: randomUUID(), actor: realOne!.assignee, note: '已参加培训' }],
    });
    await until(
      () => kbqy.query(indicatorStatusQuery),
      (s) => !s.openTasks.includes(realOne!.task_id),
    );
    expect((await kbqy.query(indicatorStatusQuery)).openTasks).toContain(forgedFor!.task_id);

    // A task raised from a doctored definition: the request names an actor that only the
    // doctored roster makes a bureau coordinator, and carries that roster. The campaign decides
    // from its recorded roster and refuses; a real raise gets the recorded roster and policy.
    const doctoredRoster = {
      units: [{ id: 'scjgj', name: '县市场监督管理局', kind: 'bureau' }],
      people: [{ id: 'scjgj-staff1', unitId: 'scjgj', role: 'coordinator', name: '刘填报员' }],
    };
    const raise = (actor: string, key: string) =>
      campaign.executeUpdate(raiseTaskUpdate, {
        args: [
          {
            requestId: randomUUID(),
            actor,
            unit: 'scjgj',
            assignee: 'scjgj-staff1',
            title: '补充材料',
            due: new Date(trainingStart + 86_400_000).toISOString(),
            key,
            roster: doctoredRoster,
            policy: { reminders: [], escalation: [] },
          } as never,
        ],
      });
    expect(await refusal(raise('scjgj-staff1', 'doctored'))).toMatch(
      /scjgj-staff1 may not raise a task: the bureau's coordinators and head may/,
    );
    const raised = await raise('spj-coord', 'real');
    expect(raised.taskId).toBe(`${campaignId}/_/adhoc/scjgj/real`);
    const started = (await env.client.workflow.getHandle(raised.taskId).fetchHistory()).events![0]!
      .workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    const raisedInput = defaultPayloadConverter.fromPayload<TaskInput>(started);
    expect(raisedInput.roster).toEqual(plan.shared.roster);
    expect(raisedInput.policy).toEqual(plan.shared.policy);
    const { rows: raisedRows } = await until(
      () =>
        db.pool.query<{ assignee: string; reviewer: string | null }>(
          'SELECT assignee, reviewer FROM tasks WHERE task_id = $1',
          [raised.taskId],
        ),
      (r) => r.rows.length === 1,
    );
    expect(raisedRows[0]!.assignee).toBe('scjgj-staff1');
    expect(await refusal(raise('spj-coord', 'real'))).toMatch(/already raised/);

    await campaign.executeUpdate(cancelCampaignUpdate, {
      args: [{ requestId: randomUUID(), actor: 'spj-coord', reason: '演练结束' }],
    });
    const view = await until(
      () => forgedTask.query(taskViewQuery),
      (v) => v.state !== 'open',
    );
    expect(view.state).toBe('cancelled');
    expect(await dropped(forgedTask)).toHaveLength(1);
    expect(await refusal(raise('spj-coord', 'after-cancel'))).toMatch(
      /was cancelled: 演练结束|not found/,
    );
  });
});
