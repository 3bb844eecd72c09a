// The system check: a timer, then an activity that writes to PostgreSQL. It proves the whole
// chain (client → Temporal → worker → timer → activity → database) on any deployment, and is
// what `campaign doctor` runs.
import { proxyActivities, setCurrentDetails, sleep, workflowInfo } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.ts';

export interface SystemCheckInput {
  checkId: string;
  /** How long the timer sleeps, in milliseconds. */
  sleepMs: number;
  /** When the check was asked for (epoch ms). */
  requestedAt: number;
}

export interface SystemCheckResult {
  checkId: string;
  sleptMs: number;
  workflowTime: number;
}

const { recordSystemCheck } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

export async function systemCheckWorkflow(input: SystemCheckInput): Promise<SystemCheckResult> {
  const started = Date.now();
  setCurrentDetails(
    `Timer of ${input.sleepMs} ms running since ${new Date(started).toISOString()}.`,
  );
  await sleep(input.sleepMs);
  const workflowTime = Date.now();
  const info = workflowInfo();
  await recordSystemCheck({
    checkId: input.checkId,
    workflowId: info.workflowId,
    runId: info.runId,
    requestedAt: input.requestedAt,
    sleptMs: workflowTime - started,
    workflowTime,
  });
  setCurrentDetails(
    `Timer fired after ${workflowTime - started} ms; row written to system_checks.`,
  );
  return { checkId: input.checkId, sleptMs: workflowTime - started, workflowTime };
}
