// Updates of the wrong shape sent by a bare Temporal client, past the CLI and the portal: the
// workflow's validator refuses each with its field named (the schema the senders use,
// domain/payloads.ts), nothing is recorded, and the workflow goes on to accept a good one.
import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitUpdate } from '../../domain/messages.ts';
import { HOUR } from '../../domain/time.ts';
import {
  demoFixture,
  goodData,
  recordFixtureCampaign,
  taskInput,
  type Fixture,
} from '../helpers/task-fixture.ts';
import { startTaskAsChild } from '../helpers/start-task.ts';
import { startHarness, type Harness } from '../helpers/temporal.ts';

Runtime.install({ logger: new DefaultLogger('WARN') });

let harness: Harness;
let fx: Fixture;

beforeAll(async () => {
  [harness, fx] = await Promise.all([
    startHarness('time-skipping', { withTestParents: true }),
    demoFixture(),
  ]);
  await recordFixtureCampaign(harness.db.pool, fx);
});
afterAll(async () => {
  await harness?.close();
});

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof WorkflowUpdateFailedError) return String((e.cause as Error)?.message);
    throw e;
  }
  throw new Error('expected the update to be refused');
}

describe('updates of the wrong shape', () => {
  it('are refused by the task with the field named, and change nothing', async () => {
    const { env, db, taskQueue } = harness;
    const input = taskInput(fx, Date.now() + 48 * HOUR);
    const h = await startTaskAsChild(env.client, input, { taskQueue });
    const types = async () =>
      (
        await db.pool.query<{ type: string }>(
          'SELECT type FROM task_events WHERE task_id = $1 ORDER BY seq',
          [input.taskId],
        )
      ).rows.map((e) => e.type);
    // The task has recorded its creation before anything is sent to it.
    while (!(await types()).includes('created')) await new Promise((r) => setTimeout(r, 50));
    const send = (arg: unknown) =>
      h.executeUpdate(submitUpdate, { args: [arg as never], updateId: randomUUID() });
    const actor = input.assignee;
    expect(await refusal(send({ requestId: 42, actor }))).toBe('submit: requestId must be string');
    expect(await refusal(send({ requestId: 'r1', actor, evidence: 'a.pdf' }))).toBe(
      'submit: evidence must be array',
    );
    expect(await refusal(send({ requestId: 'r2', actor, note: 'x'.repeat(10_001) }))).toMatch(
      /^submit: note is too long/,
    );
    expect(await refusal(send(null))).toBe('submit: (the request) must be object');
    expect(await types()).toEqual(['created']);

    const ok = await h.executeUpdate(submitUpdate, {
      args: [{ requestId: randomUUID(), actor, data: goodData }],
    });
    expect(ok.state).toBe('submitted');
  });

  it('are refused when a text is not text PostgreSQL can hold, with the field named', async () => {
    const { env, db, taskQueue } = harness;
    const input = taskInput(fx, Date.now() + 48 * HOUR);
    const h = await startTaskAsChild(env.client, input, { taskQueue });
    const types = async () =>
      (
        await db.pool.query<{ type: string }>(
          'SELECT type FROM task_events WHERE task_id = $1 ORDER BY seq',
          [input.taskId],
        )
      ).rows.map((e) => e.type);
    while (!(await types()).includes('created')) await new Promise((r) => setTimeout(r, 50));
    const send = (arg: unknown) =>
      h.executeUpdate(submitUpdate, { args: [arg as never], updateId: randomUUID() });
    const actor = input.assignee;
    // The client's JSON carries the lone surrogate as the escape \ud800; the workflow reads it
    // back as the lone surrogate it was.
    expect(
      await refusal(
        send({ requestId: 'r1', actor, data: goodData, note: 'lone \ud800 surrogate \udfff end' }),
      ),
    ).toBe('submit: note is not well-formed Unicode (a lone surrogate U+D800 at character 6)');
    expect(
      await refusal(send({ requestId: 'r2', actor, data: { ...goodData, phone: '138\u0000' } })),
    ).toBe('submit: data.phone contains a NUL character (U+0000) at character 4');
    expect(await refusal(send({ requestId: 'r3', actor, evidence: ['a\u001b[2J.pdf'] }))).toMatch(
      /^submit: evidence\[0\] contains a control character U\+001B/,
    );
    expect(await types()).toEqual(['created']);

    const ok = await h.executeUpdate(submitUpdate, {
      args: [{ requestId: randomUUID(), actor, data: goodData, note: '已填报\r\n😀' }],
    });
    expect(ok.state).toBe('submitted');
  });
});
