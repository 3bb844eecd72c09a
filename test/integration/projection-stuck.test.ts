// A projection that PostgreSQL refuses for good (here: a constraint the test adds on purpose,
// standing for data that slipped past the edge) is not retried forever. The task answers the
// action, holds the refused projection, says so (search attribute ProjectionStuck, its current
// details, the stuckProjections query, `campaign doctor`) and does not end while it is held;
// once the cause is fixed, `campaign doctor --retry` makes it land, and the task ends with
// PostgreSQL showing every event once.
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stuckProjectionsQuery, submitUpdate } from '../../domain/messages.ts';
import { SA } from '../../domain/search-attributes.ts';
import { HOUR } from '../../domain/time.ts';
import { runCli } from '../helpers/cli.ts';
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

let harness: Harness;
let env: TestWorkflowEnvironment;
let fx: Fixture;
let cliEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  [harness, fx] = await Promise.all([
    startHarness('dev', { withTestParents: true }),
    demoFixture(),
  ]);
  env = harness.env;
  await recordFixtureCampaign(harness.db.pool, fx);
  cliEnv = {
    TEMPORAL_ADDRESS: env.address,
    DATABASE_URL: harness.db.url,
    TEMPORAL_TASK_QUEUE: harness.taskQueue,
  };
}, 180_000);

afterAll(async () => {
  await harness?.close();
}, 60_000);

const until = async <T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean) => {
  for (let i = 0; i < 600; i++) {
    const v = await get();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
};

describe('a projection the database refuses for good', () => {
  it('is held and shown, not retried forever, and lands on `campaign doctor --retry` once the cause is fixed', async () => {
    const pool = harness.db.pool;
    await pool.query(
      `ALTER TABLE task_events ADD CONSTRAINT refuse_poison CHECK (detail->>'note' IS DISTINCT FROM '拒收')`,
    );
    const input = taskInput(fx, Date.now() + 48 * HOUR, { review: false });
    const handle = await startTaskAsChild(env.client, input, { taskQueue: harness.taskQueue });
    const requestId = randomUUID();
    const answer = await handle.executeUpdate(submitUpdate, {
      args: [{ requestId, actor: input.assignee, data: goodData, note: '拒收' }],
    });
    expect(answer.state).toBe('done');

    // Held, not retried: the query names it with the database's reason, the search attribute
    // and the current details say so, and the history stops growing.
    const stuck = await until(
      'the projection to be held',
      () => handle.query(stuckProjectionsQuery),
      (s) => s.length > 0,
    );
    expect(stuck).toHaveLength(1);
    expect(stuck[0]!.message).toMatch(/refuse_poison|23514/);
    const d = await until(
      'the search attribute',
      () => handle.describe(),
      (x) => x.typedSearchAttributes.get(SA.projectionStuck) === true,
    );
    expect(d.status.name).toBe('RUNNING');
    const details = await handle.fetchHistory();
    const failures = (details.events ?? []).filter((e) => e.activityTaskFailedEventAttributes);
    expect(failures).toHaveLength(1);
    const rows = await pool.query('SELECT seq FROM task_events WHERE task_id = $1', [input.taskId]);
    expect(rows.rows.map((r) => r.seq)).toEqual([1]);

    // The doctor lists it with its reason and fails.
    const listed = await runCli(['doctor', '--timeout', '30'], cliEnv);
    expect(listed.code, listed.stderr).toBe(1);
    expect(listed.stdout).toContain(input.taskId);
    expect(listed.stdout).toMatch(/数据库拒收了 1 个流程的记录/);

    // The board warns that it may be incomplete, naming the workflow.
    const board = await runCli(['status', input.campaignId], cliEnv);
    expect(board.code, board.stderr).toBe(0);
    expect(board.stdout).toMatch(/数据库拒收了 1 个流程的记录/);
    expect(board.stdout).toContain(input.taskId);

    // The cause fixed, the retry makes it land; the task ends; every event once.
    await pool.query('ALTER TABLE task_events DROP CONSTRAINT refuse_poison');
    const retried = await runCli(['doctor', '--retry', '--json', '--timeout', '30'], cliEnv);
    expect(retried.stdout).toContain(input.taskId);
    await handle.result();
    const events = await pool.query<{ seq: number; type: string }>(
      'SELECT seq, type FROM task_events WHERE task_id = $1 ORDER BY seq',
      [input.taskId],
    );
    expect(events.rows.map((e) => `${e.seq} ${e.type}`)).toEqual([
      '1 created',
      '2 submitted',
      '3 done',
    ]);
    expect((await handle.describe()).typedSearchAttributes.get(SA.projectionStuck)).toBe(false);
    const again = await runCli(['doctor', '--json', '--timeout', '30'], cliEnv);
    const checks = JSON.parse(again.stdout).checks as { check: string; ok: boolean }[];
    expect(checks.find((c) => c.check === 'projections')?.ok).toBe(true);
  }, 300_000);
});
