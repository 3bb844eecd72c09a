// An indicator or a rectification workflow that was not started by the workflow of its campaign
// that starts it in the product ends at once, failed with the refusal (domain/task-start.ts
// `childWorkflowRefusal`): it records nothing, projects nothing, starts no task and notifies
// nobody. Checked on the first run only: a run that continued as new was the workflow's own.
import {
  ApplicationFailure,
  log,
  patched,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { refusalFailureOptions } from '../../domain/refusal.ts';
import { SA } from '../../domain/search-attributes.ts';
import { childWorkflowRefusal } from '../../domain/task-start.ts';

export function refuseUnlessStartedBy(
  what: { kind: 'indicator' | 'rectification'; campaignId: string },
  allowedParents: readonly string[],
): void {
  const info = workflowInfo();
  if (info.continuedFromExecutionRunId) return;
  const refusal = childWorkflowRefusal(
    { ...what, workflowId: info.workflowId },
    info.parent?.workflowId ?? null,
    allowedParents,
  );
  // Patched: executions from before ran whoever started them.
  if (!refusal || !patched(`${what.kind}-refuse-unparented`)) return;
  log.warn(`${what.kind} workflow refused`, { reason: refusal.en });
  upsertSearchAttributes([{ key: SA.state, value: 'refused' }]);
  setCurrentDetails(`${refusal.zh}\n\n${refusal.en}`);
  throw ApplicationFailure.create(refusalFailureOptions(refusal));
}
