// Activity that asks a workflow what it signalled to another (workflows/lib/signals.ts): the
// receiver of a signal applies it only when its one possible sender confirms it.
import { Context } from '@temporalio/activity';
import { QueryNotRegisteredError, WorkflowNotFoundError } from '@temporalio/client';
import { sentSignalsQuery } from '../domain/messages.ts';

export interface ConfirmSignalInput {
  /** The workflow the signal can come from. */
  from: string;
  signal: string;
  /** The receiving workflow. */
  to: string;
}

export function signalActivities() {
  return {
    async confirmSignal(
      input: ConfirmSignalInput,
    ): Promise<{ found: boolean; payloads: unknown[] }> {
      try {
        const payloads = await Context.current()
          .client.workflow.getHandle(input.from)
          .query(sentSignalsQuery, { signal: input.signal, to: input.to });
        return { found: true, payloads: Array.isArray(payloads) ? payloads : [] };
      } catch (e) {
        // No such workflow: nobody the receiver trusts sent it. Anything else (no worker, the
        // server away) is retried.
        if (e instanceof WorkflowNotFoundError) return { found: false, payloads: [] };
        // A workflow that keeps no record of its signals sent none the receiver may accept.
        if (e instanceof QueryNotRegisteredError) return { found: true, payloads: [] };
        throw e;
      }
    },
  };
}
