// The supervised task on the dev server with PostgreSQL: the projection is written exactly once
// even when every activity is retried after it committed, a refused action leaves no event in
// the history, and the Temporal UI's view (search attributes, summary, current details) tells
// the story.
import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation, WorkflowUpdateFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refusalTexts } from '../../domain/refusal.ts';
import { taskStartOptions } from '../../domain/task-start.ts';
import { type TaskInput } from '../../domain/task.ts';
import { approveUpdate, submitUpdate } from '../../domain/messages.ts';
import { HOUR } from '../../domain/time.ts';
import type { TestDatabase } from '../helpers/postgres.ts';
import {
  demoFixture,
  goodData,
  recordFixtureCampaign,
  taskInput,
  type Fixture,
} from '../helpers/task-fixture.ts';
import { startTaskAsChild } from '../helpers/start-task.ts';
import { startHarness, type Harness } from '../helpers/temporal.ts';

Runtime.install({ logger: new DefaultLogger('ERROR') });

/** Projection calls per (task, seq): the first of each fails after its transaction committed. */
const calls = new Map<string, number>();
let harness: Harness;
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let taskQueue: string;
let fx: Fixture;

beforeAll(async () => {
  [harness, fx] = await Promise.all([
    startHarness('dev', {
      withTestParents: true,
      activityDeps: {
        afterProjection: (taskId, seq) => {
          const key = `${taskId}#${seq}`;
          const n = (calls.get(key) ?? 0) + 1;
          calls.set(key, n);
          if (n === 1) throw new Error(`simulated crash after committing ${key}`);
        },
      },
    }),
    demoFixture(),
  ]);
  ({ env, db, taskQueue } = harness);
  await recordFixtureCampaign(db.pool, fx);
});

afterAll(async () => {
  await harness?.close();
});

/** A task started as production starts one: by a workflow of its campaign. */
async function start(input: TaskInput) {
  return startTaskAsChild(env.client, input, { taskQueue });
}

const req = <T extends object>(actor: string, extra?: T) => ({
  requestId: randomUUID(),
  actor,
  ...(extra as T),
});

describe('a supervised task on the dev server with PostgreSQL', () => {
  it('projects the task, its events and its notices exactly once although every activity was retried', async () => {
    const input = taskInput(fx, Date.now() + 2 * HOUR);
    input.channels = [
      { type: 'console', id: 'console' },
      { type: 'webhook', id: 'hook', url: 'http://127.0.0.1:9/unused' },
    ];
    const h = await start(input);
    await h.executeUpdate(submitUpdate, { args: [req('scjgj-staff1', { data: goodData })] });
    await h.executeUpdate(approveUpdate, { args: [req('spj-coord')] });
    await h.result();

    for (const seq of [1, 2, 3])
      expect(calls.get(`${input.taskId}#${seq}`), `seq ${seq} retried`).toBe(2);
    const q = async (sql: string) => (await db.pool.query(sql, [input.taskId])).rows;
    expect(await q('SELECT state, on_time, last_seq FROM tasks WHERE task_id = $1')).toEqual([
      { state: 'done', on_time: true, last_seq: 3 },
    ]);
    expect(
      (await q('SELECT type FROM task_events WHERE task_id = $1 ORDER BY seq')).map((r) => r.type),
    ).toEqual(['created', 'submitted', 'approved']);
    expect(await q('SELECT count(*)::int AS n FROM submissions WHERE task_id = $1')).toEqual([
      { n: 1 },
    ]);
    const notices = await q(
      'SELECT kind, recipients FROM notices WHERE task_id = $1 ORDER BY event_seq',
    );
    expect(notices.map((n) => n.kind)).toEqual(['created', 'submitted', 'approved']);
    const deliveries = await q(
      `SELECT count(*)::int AS n, count(DISTINCT (d.notice_id, d.channel_id))::int AS distinct_n
       FROM notice_deliveries d JOIN notices n USING (notice_id) WHERE n.task_id = $1`,
    );
    expect(deliveries).toEqual([{ n: 6, distinct_n: 6 }]);
  });

  it('leaves no event in the history for a refused action', async () => {
    const input = taskInput(fx, Date.now() + 2 * HOUR);
    const h = await start(input);
    // Wait until the 'created' event's projection is in the history: its activity completed and
    // the workflow task after it completed too, so that nothing more is on its way.
    for (let i = 0; i < 300; i++) {
      const events = (await h.fetchHistory()).events ?? [];
      const done = events.findIndex((e) => e.activityTaskCompletedEventAttributes);
      if (done >= 0 && events.slice(done).some((e) => e.workflowTaskCompletedEventAttributes))
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const before = (await h.fetchHistory()).events?.length ?? 0;
    const refusal = await h
      .executeUpdate(approveUpdate, { args: [req('spj-coord')] })
      .then(() => 'accepted')
      .catch((e: unknown) =>
        e instanceof WorkflowUpdateFailedError ? String((e.cause as Error).message) : String(e),
      );
    expect(refusal).toMatch(/cannot approve a task that is open/);
    const after = (await h.fetchHistory()).events?.length ?? 0;
    expect(after).toBe(before);
    await h.terminate('test done');
  });

  it('shows the auditor its search attributes, summary and current details', async () => {
    const input = taskInput(fx, Date.now() + 2 * HOUR);
    const h = await start(input);
    await h.executeUpdate(submitUpdate, { args: [req('scjgj-staff1', { data: goodData })] });

    const d = await h.describe();
    expect(await d.staticSummary()).toMatch(/督办事项：开办企业 问卷填报（scjgj）/);
    const sa = d.typedSearchAttributes;
    const get = (name: string) => sa.getAll().find((p) => p.key.name === name)?.value;
    expect(get('CampaignId')).toBe('demo-2026');
    expect(get('IndicatorCode')).toBe('kbqy');
    expect(get('UnitId')).toBe('scjgj');
    expect(get('TaskKind')).toBe('questionnaire');
    expect(get('TaskState')).toBe('submitted');
    expect(get('Colour')).toBe('green');
    expect(get('EscalationLevel')).toBe(0);
    expect((get('DueAt') as Date).getTime()).toBe(input.due);

    const meta = (await h.query('__temporal_workflow_metadata')) as { currentDetails?: string };
    expect(meta.currentDetails).toMatch(/已提交待审核/);

    // An auditor's filter in the UI is a visibility query.
    const query = `CampaignId = "demo-2026" AND TaskState = "submitted" AND WorkflowId = "${input.taskId}"`;
    const found: string[] = [];
    for (let i = 0; i < 50 && found.length === 0; i++) {
      for await (const wf of env.client.workflow.list({ query })) found.push(wf.workflowId);
      if (!found.length) await new Promise((r) => setTimeout(r, 200));
    }
    expect(found).toEqual([input.taskId]);
    await h.terminate('test done');
  });

  it('refuses an action that arrives with the start of a task nobody of its campaign started, with the same reason', async () => {
    // Update-with-start is how a bare client would open a task and act on it at once: the
    // task refuses to run (it has no parent), and the action is refused with the reason. The
    // order this once tested (creation before such an action, patched 'created-first') is
    // kept by the saved history task-update-with-start.json.
    const input = taskInput(fx, Date.now() + 2 * HOUR);
    input.taskId = `${input.taskId}/with-start`;
    const startOp = new WithStartWorkflowOperation('taskWorkflow', {
      ...taskStartOptions(input),
      taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'FAIL',
    });
    let refused: unknown;
    try {
      await env.client.workflow.executeUpdateWithStart(submitUpdate, {
        args: [req('scjgj-staff1', { data: goodData })],
        startWorkflowOperation: startOp,
      });
    } catch (e) {
      refused = e;
    }
    expect(refusalTexts(refused)?.en, String(refused)).toMatch(
      /refused: a task runs only as the child of a workflow of its campaign "demo-2026".*without a parent workflow/,
    );
    const h = await startOp.workflowHandle();
    await expect(h.result()).rejects.toThrow(/Workflow execution failed/);
    const rows = await db.pool.query(
      `SELECT 1 FROM tasks WHERE task_id = $1
       UNION ALL SELECT 1 FROM task_events WHERE task_id = $1
       UNION ALL SELECT 1 FROM notices WHERE task_id = $1`,
      [input.taskId],
    );
    expect(rows.rowCount).toBe(0);
  });
});
