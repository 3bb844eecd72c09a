// Proof that the chain works: a real worker, a real workflow with a timer and an activity that
// writes to PostgreSQL — on the time-skipping server (days pass in seconds) and on the dev
// server (the row is there and the workflow is found by a search-attribute query).
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { NativeConnection } from '@temporalio/worker';
import { Runtime, DefaultLogger, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SA } from '../../domain/search-attributes.ts';
import { DAY } from '../../domain/time.ts';
import { createWorker } from '../../worker/worker.ts';
import { startTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { bundleWorkflows, devServerEnv, timeSkippingEnv } from '../helpers/temporal.ts';

Runtime.install({ logger: new DefaultLogger('WARN') });

let db: TestDatabase;
let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  [db, bundle] = await Promise.all([startTestDatabase(), bundleWorkflows()]);
});
afterAll(async () => {
  await db?.close();
});

async function runCheck(
  env: TestWorkflowEnvironment,
  sleepMs: number,
  extra: { searchAttributes?: boolean } = {},
) {
  const taskQueue = `chain-${randomUUID()}`;
  const worker = await createWorker({
    connection: env.nativeConnection as NativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    pool: db.pool,
    workflowBundle: bundle,
  });
  const checkId = `test-${randomUUID()}`;
  const workflowId = `system-check/${checkId}`;
  const result = await worker.runUntil(
    env.client.workflow.execute('systemCheckWorkflow', {
      taskQueue,
      workflowId,
      args: [{ checkId, sleepMs, requestedAt: Date.now() }],
      ...(extra.searchAttributes
        ? { typedSearchAttributes: [{ key: SA.campaignId, value: `chain-${checkId}` }] }
        : {}),
    }) as Promise<{ checkId: string; sleptMs: number; workflowTime: number }>,
  );
  return { checkId, workflowId, result };
}

describe('on the time-skipping test server', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await timeSkippingEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('lets a timer of three days pass in seconds and the activity write its row', async () => {
    const wallStart = Date.now();
    const { checkId, result } = await runCheck(env, 3 * DAY);
    expect(result.sleptMs).toBeGreaterThanOrEqual(3 * DAY);
    // Three days of workflow time elapsed, far less wall time.
    expect(Date.now() - wallStart).toBeLessThan(DAY);
    const row = await db.pool.query(
      'SELECT slept_ms, workflow_id FROM system_checks WHERE check_id = $1',
      [checkId],
    );
    expect(row.rowCount).toBe(1);
    expect(Number(row.rows[0].slept_ms)).toBeGreaterThanOrEqual(3 * DAY);
  });
});

describe('on the dev server', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await devServerEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('writes the row and lists the workflow by a search-attribute query', async () => {
    const { checkId, workflowId, result } = await runCheck(env, 500, { searchAttributes: true });
    expect(result.sleptMs).toBeGreaterThanOrEqual(500);
    const row = await db.pool.query('SELECT workflow_id FROM system_checks WHERE check_id = $1', [
      checkId,
    ]);
    expect(row.rows).toEqual([{ workflow_id: workflowId }]);

    // Visibility is eventually consistent: poll the list briefly.
    const query = `CampaignId = "chain-${checkId}"`;
    let found: string[] = [];
    for (let i = 0; i < 50 && found.length === 0; i++) {
      found = [];
      for await (const wf of env.client.workflow.list({ query })) found.push(wf.workflowId);
      if (found.length === 0) await new Promise((r) => setTimeout(r, 200));
    }
    expect(found).toEqual([workflowId]);
  });
});
