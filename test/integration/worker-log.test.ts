// A workflow that refuses to run fails on purpose: the worker logs it as one line with the
// reason, not as "Workflow failed" with a stack trace; other failures keep theirs.
import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WorkerLogger } from '../../worker/log.ts';
import { startHarness, type Harness } from '../helpers/temporal.ts';

const entries: LogEntry[] = [];
Runtime.install({
  logger: new WorkerLogger('INFO', new DefaultLogger('INFO', (e) => entries.push(e))),
});

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness('dev');
});
afterAll(async () => {
  await harness?.close();
});

it('logs a refused start as a refusal, without a stack, and a real failure as before', async () => {
  const client = harness.env.client;
  const forged = await client.workflow.start('indicatorWorkflow', {
    taskQueue: harness.taskQueue,
    workflowId: `log-${Date.now()}/forged`,
    args: [
      {
        plan: { code: 'k' },
        shared: { campaignId: 'log', calendar: {}, roster: { units: [], people: [] } },
        campaignWorkflowId: 'log',
      },
    ],
  });
  await forged.result().catch(() => {});
  const about = async (runId: string) => {
    for (
      let i = 0;
      i < 100 &&
      !entries.some((e) => e.meta?.runId === runId && /Workflow (failed|ended)/.test(e.message));
      i++
    )
      await new Promise((r) => setTimeout(r, 100));
    return entries.filter((e) => e.meta?.runId === runId);
  };
  const refused = await about(forged.firstExecutionRunId);
  const ended = refused.find((e) => e.message === 'Workflow ended as refused (not a fault)');
  expect(ended?.level).toBe('INFO');
  expect(String(ended?.meta?.reason)).toMatch(/An indicator workflow .* refused/);
  expect(ended?.meta?.error).toBeUndefined();
  expect(refused.some((e) => e.message === 'Workflow failed')).toBe(false);
  // Any other failure keeps its level and its error.
  const other: LogEntry[] = [];
  const logger = new WorkerLogger('INFO', new DefaultLogger('INFO', (e) => other.push(e)));
  const error = new Error('boom');
  logger.warn('Workflow failed', { runId: 'another-run', error });
  expect(other).toHaveLength(1);
  expect(other[0]!.level).toBe('WARN');
  expect(other[0]!.meta?.error).toBe(error);
});
