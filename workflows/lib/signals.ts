// Signals between the campaign's workflows carry no proof of their sender: anyone who can reach
// Temporal could send a `taskFinished` whose submission never passed the step's checks, or a
// `results` that forces a rectification. So every sender keeps what it signalled (the last few
// per signal and recipient, see SentSignals), and every receiver applies a signal only when the
// one workflow it can come from confirms, asked through an activity, that it sent exactly
// that (see confirmedSignals). A signal nobody sent is logged and dropped.
import { log, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { SignalDefinition } from '@temporalio/common';
import type { createActivities } from '../../activities/index.ts';
import {
  droppedSignalsQuery,
  sentSignalsQuery,
  taskFinishedSignal,
  type DroppedSignal,
  type SentSignalsRecord,
} from '../../domain/messages.ts';
import type { TaskOutcome } from '../../domain/task.ts';

/** How many payloads of one signal to one recipient a sender remembers. */
const REMEMBERED = 10;

// An ordinary activity, not a local one: a local activity holds its workflow task open, and a
// query to a sender whose own workflow task is open waits for it; two workflows confirming each
// other's signals at once would then stall until their workflow tasks time out.
const { confirmSignal } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

const keyOf = (signal: string, to: string) => `${signal}\u0000${to}`;

/** JSON with sorted keys, so that a payload and its round trip through a query compare equal. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)),
        )
      : v,
  );
}

/**
 * What this workflow signalled to whom (answers `sentSignals`), and the signals it dropped
 * because their sender did not confirm them (answers `droppedSignals`).
 */
export class Signals {
  private readonly sent: SentSignalsRecord;
  private readonly dropped: DroppedSignal[] = [];

  constructor(carried?: SentSignalsRecord) {
    this.sent = { ...carried };
    setHandler(sentSignalsQuery, (q) =>
      q && typeof q.signal === 'string' && typeof q.to === 'string'
        ? (this.sent[keyOf(q.signal, q.to)] ?? [])
        : [],
    );
    setHandler(droppedSignalsQuery, () => this.dropped);
  }

  /** Notes a payload before it is signalled (a receiver may ask at once). */
  note<A>(signal: SignalDefinition<[A]>, to: string, payload: A): A {
    const list = (this.sent[keyOf(signal.name, to)] ??= []);
    list.push(payload);
    if (list.length > REMEMBERED) list.splice(0, list.length - REMEMBERED);
    return payload;
  }

  /** What continue-as-new carries. */
  carried(): SentSignalsRecord {
    return this.sent;
  }

  /** A task's end, from that task only and once: its outcome kept in `outcomes`. */
  onTaskFinished(ours: (taskId: string) => boolean, outcomes: Map<string, TaskOutcome>): void {
    this.onConfirmed(
      taskFinishedSignal,
      (o) => (ours(o.taskId) && !outcomes.has(o.taskId) ? o.taskId : null),
      (o) => {
        outcomes.set(o.taskId, o);
      },
    );
  }

  /**
   * Registers a handler for `signal` that applies a payload only once `from(payload)` — the one
   * workflow the signal can come from, or null when it can come from none — confirms having
   * sent it (through the `confirmSignal` activity). Confirmations run one after another, so payloads apply in the order they arrived.
   * Executions from before the check (no marker in their history) apply every payload as before.
   */
  onConfirmed<A>(
    signal: SignalDefinition<[A]>,
    from: (payload: A) => string | null,
    apply: (payload: A) => void | Promise<void>,
  ): void {
    let queue: Promise<void> = Promise.resolve();
    setHandler(signal, (payload: A) => {
      if (!patched('confirmed-signals')) return apply(payload);
      const sender = payload === null || typeof payload !== 'object' ? null : from(payload);
      const to = workflowInfo().workflowId;
      const turn = queue.then(async () => {
        const answer = sender
          ? await confirmSignal({ from: sender, signal: signal.name, to })
          : { found: false, payloads: [] };
        const wanted = canonicalJson(payload);
        if (answer.payloads.some((p) => canonicalJson(p) === wanted)) {
          await apply(payload);
          return;
        }
        log.warn('signal dropped: its sender did not send it', {
          signal: signal.name,
          sender,
          senderFound: answer.found,
        });
        this.dropped.push({ signal: signal.name, sender, at: Date.now() });
        if (this.dropped.length > REMEMBERED) this.dropped.shift();
      });
      queue = turn.catch(() => undefined);
      return turn;
    });
  }
}
