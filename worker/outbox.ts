// The outbox dispatcher: sends the pending rows of `notice_deliveries` through their channels,
// retries failures with exponential backoff and gives up after a number of attempts. Rows are
// claimed with a lease (claimed_by, lease_until) in one short statement, sent outside any
// transaction, and each outcome is recorded only while the claim is still the dispatcher's own:
// no row lock is held across a network call. Dispatchers in several workers run side by side
// without sending a delivery twice while they live; a dispatcher killed while sending leaves its
// rows leased, and another one sends them once the lease has run out. Every request carries an
// idempotency key stable per notice and channel (`Idempotency-Key`), so that a receiver can
// drop the second copy of such a delivery.
import { hostname } from 'node:os';
import type pg from 'pg';
import type { ChannelConfig } from '../domain/definition.ts';
import {
  channelFor as defaultChannelFor,
  type OutboundNotice,
} from '../activities/notify/channels.ts';

export interface OutboxDispatcherOptions {
  pool: pg.Pool;
  /** Builds a channel from a delivery's config (tests inject options or fakes here). */
  channelFor?: typeof defaultChannelFor;
  /** Pause between polls when the last batch was not full (default 1000 ms). */
  pollMs?: number;
  /** Deliveries claimed per batch (default 20). */
  batchSize?: number;
  /** Attempts before a delivery is marked failed (default 8). */
  maxAttempts?: number;
  /** Delay after the first failure; doubled after each further one (default 2000 ms). */
  baseBackoffMs?: number;
  /** Longest delay between attempts (default 10 minutes). */
  maxBackoffMs?: number;
  /**
   * How long a claimed batch stays this dispatcher's own (default 2 minutes): longer than a
   * batch takes to send (a channel's timeout for each of its deliveries in the batch). After it,
   * another dispatcher may send the batch's unrecorded deliveries again.
   */
  leaseMs?: number;
  /** Who claims: recorded in `claimed_by` (default host:pid and a random suffix). */
  id?: string;
  log?: (line: string) => void;
}

/** The default lease of a claimed batch. */
export const DEFAULT_LEASE_MS = 2 * 60_000;

/** The key a receiver de-duplicates by: one per notice and channel, the same on every attempt. */
export function idempotencyKey(noticeId: string, channelId: string): string {
  return `${noticeId}@${channelId}`;
}

export interface OutboxRunResult {
  /** Deliveries the channel accepted. */
  sent: number;
  /** Deliveries that failed for the last time and are now `failed`. */
  failed: number;
  /** Deliveries that failed and are scheduled for another attempt. */
  retried: number;
}

/** The delay before the next attempt after `attempts` failed ones: base·2^(attempts−1), capped. */
export function backoffMs(attempts: number, baseMs: number, maxMs: number): number {
  const exp = Math.max(0, attempts - 1);
  // 2^exp overflows to Infinity long before it matters; Math.min caps it.
  return Math.min(maxMs, baseMs * 2 ** exp);
}

const MAX_ERROR_CHARS = 1000;

interface ClaimedRow {
  notice_id: string;
  channel_id: string;
  channel: ChannelConfig;
  attempts: number;
  campaign_id: string;
  task_id: string | null;
  kind: string;
  recipients: string[];
  title: string;
  body: string;
}

type Outcome =
  | { row: ClaimedRow; ok: true }
  | { row: ClaimedRow; ok: false; error: string }
  /** Not attempted this round: an earlier delivery to the same channel just failed. */
  | { row: ClaimedRow; ok: 'skipped' };

export class OutboxDispatcher {
  private readonly pool: pg.Pool;
  private readonly channelFor: typeof defaultChannelFor;
  private readonly pollMs: number;
  private readonly batchSize: number;
  private readonly maxAttempts: number;
  private readonly baseBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly leaseMs: number;
  readonly id: string;
  private readonly log: (line: string) => void;

  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private lastClaimed = 0;

  constructor(opts: OutboxDispatcherOptions) {
    this.pool = opts.pool;
    this.channelFor = opts.channelFor ?? defaultChannelFor;
    this.pollMs = opts.pollMs ?? 1000;
    this.batchSize = opts.batchSize ?? 20;
    this.maxAttempts = opts.maxAttempts ?? 8;
    this.baseBackoffMs = opts.baseBackoffMs ?? 2000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 10 * 60_000;
    this.leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
    this.id = opts.id ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
    this.log = opts.log ?? ((line: string) => console.log(line));
  }

  /** Start polling. Batches never overlap; a full batch is followed at once by the next. */
  start(): void {
    if (this.running) return;
    this.running = true;
    // After a stop() that has not finished yet, the batch in flight schedules the next one.
    if (!this.inFlight) this.schedule(0);
  }

  /**
   * Stop polling and wait for the batch in flight, if any, to be recorded: no longer than
   * `timeoutMs` when given. Resolves true once nothing is in flight, false when the time ran
   * out first (the batch's rows stay leased; if the process then exits, another dispatcher
   * sends them again once the lease has run out).
   */
  async stop(timeoutMs?: number): Promise<boolean> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const inFlight = this.inFlight;
    if (!inFlight) return true;
    if (timeoutMs === undefined) {
      await inFlight;
      return true;
    }
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, timeoutMs));
    });
    try {
      return await Promise.race([inFlight.then(() => true as const), expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** True while a batch is being sent and recorded. */
  get busy(): boolean {
    return this.inFlight !== undefined;
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.inFlight = this.tick();
    }, ms);
  }

  private async tick(): Promise<void> {
    let full = false;
    try {
      await this.runOnce();
      full = this.lastClaimed >= this.batchSize;
    } catch (e) {
      this.log(`[outbox] dispatch failed: ${errorMessage(e)}`);
    } finally {
      this.inFlight = undefined;
      if (this.running) this.schedule(full ? 0 : this.pollMs);
    }
  }

  /**
   * Claim one batch of due deliveries with a lease, send them and record each outcome. A
   * channel's failure is recorded, never thrown; only database errors reject. An outcome is
   * recorded only while the claim is still ours: when the lease ran out and another dispatcher
   * claimed the row meanwhile, it is left to that one.
   */
  async runOnce(): Promise<OutboxRunResult> {
    const result: OutboxRunResult = { sent: 0, failed: 0, retried: 0 };
    // One statement, so one short transaction: the rows are locked only while they are marked.
    const claimed = await this.pool.query<ClaimedRow>(
      `WITH due AS (
         SELECT d.notice_id, d.channel_id
           FROM notice_deliveries d
           JOIN notices n ON n.notice_id = d.notice_id
          WHERE d.status = 'pending' AND d.next_attempt_at <= now()
            AND (d.lease_until IS NULL OR d.lease_until <= clock_timestamp())
          ORDER BY d.next_attempt_at, n.created_at, d.notice_id, d.channel_id
          LIMIT $1
          FOR UPDATE OF d SKIP LOCKED
       ), claimed AS (
         UPDATE notice_deliveries d
            SET claimed_by = $2, lease_until = clock_timestamp() + $3 * interval '1 millisecond'
           FROM due
          WHERE d.notice_id = due.notice_id AND d.channel_id = due.channel_id
         RETURNING d.notice_id, d.channel_id, d.channel, d.attempts, d.next_attempt_at
       )
       SELECT c.notice_id, c.channel_id, c.channel, c.attempts,
              n.campaign_id, n.task_id, n.kind, n.recipients, n.title, n.body
         FROM claimed c JOIN notices n ON n.notice_id = c.notice_id
        ORDER BY c.next_attempt_at, n.created_at, c.notice_id, c.channel_id`,
      [this.batchSize, this.id, this.leaseMs],
    );
    this.lastClaimed = claimed.rows.length;
    const outcomes = await this.sendAll(claimed.rows);
    /** Per channel, how long its failed delivery waits: its skipped ones wait as long. */
    const postponed = new Map<string, number>();
    const mine = `notice_id = $1 AND channel_id = $2 AND claimed_by = $3`;
    const release = `claimed_by = NULL, lease_until = NULL`;
    for (const o of outcomes) {
      const key = [o.row.notice_id, o.row.channel_id, this.id];
      const where = `${o.row.notice_id} via ${o.row.channel_id}`;
      let recorded: pg.QueryResult;
      if (o.ok === 'skipped') {
        // Behind a channel that just failed: move it back in the queue without counting an
        // attempt, so that other channels' notices are not held up behind a dead robot.
        recorded = await this.pool.query(
          `UPDATE notice_deliveries
              SET next_attempt_at = clock_timestamp() + $4 * interval '1 millisecond', ${release}
            WHERE ${mine}`,
          [...key, postponed.get(JSON.stringify(o.row.channel)) ?? this.baseBackoffMs],
        );
      } else if (o.ok) {
        recorded = await this.pool.query(
          `UPDATE notice_deliveries
              SET status = 'sent', sent_at = clock_timestamp(), attempts = attempts + 1,
                  last_error = NULL, ${release}
            WHERE ${mine}`,
          key,
        );
        if (recorded.rowCount) result.sent++;
      } else {
        const attempts = o.row.attempts + 1;
        const error = truncate(o.error, MAX_ERROR_CHARS);
        if (attempts >= this.maxAttempts) {
          recorded = await this.pool.query(
            `UPDATE notice_deliveries
                SET status = 'failed', attempts = attempts + 1, last_error = $4, ${release}
              WHERE ${mine}`,
            [...key, error],
          );
          if (recorded.rowCount) {
            result.failed++;
            this.log(`[outbox] ${where} failed for good after ${attempts} attempts: ${o.error}`);
          }
        } else {
          const delay = backoffMs(attempts, this.baseBackoffMs, this.maxBackoffMs);
          postponed.set(JSON.stringify(o.row.channel), delay);
          recorded = await this.pool.query(
            `UPDATE notice_deliveries
                SET attempts = attempts + 1, last_error = $4,
                    next_attempt_at = clock_timestamp() + $5 * interval '1 millisecond', ${release}
              WHERE ${mine}`,
            [...key, error, delay],
          );
          if (recorded.rowCount) {
            result.retried++;
            this.log(
              `[outbox] ${where} failed (attempt ${attempts}/${this.maxAttempts}), retry in ${Math.round(delay / 1000)} s: ${o.error}`,
            );
          }
        }
      }
      if (!recorded.rowCount)
        this.log(
          `[outbox] ${where}: the lease ran out before the outcome was recorded; left to its new claimant`,
        );
    }
    return result;
  }

  /**
   * Send a batch: channels in parallel, the deliveries of one channel in order. Once a channel
   * fails, its remaining deliveries wait for the next round, so that a dead robot costs one
   * timeout per batch rather than one per delivery while the rows stay leased.
   */
  private async sendAll(rows: ClaimedRow[]): Promise<Outcome[]> {
    const byChannel = new Map<string, ClaimedRow[]>();
    for (const row of rows) {
      const key = JSON.stringify(row.channel);
      const group = byChannel.get(key);
      if (group) group.push(row);
      else byChannel.set(key, [row]);
    }
    const groups = await Promise.all(
      [...byChannel.values()].map(async (group) => {
        const outcomes: Outcome[] = [];
        let down = false;
        for (const row of group) {
          if (down) {
            outcomes.push({ row, ok: 'skipped' });
            continue;
          }
          const outcome = await this.sendOne(row);
          if (!outcome.ok) down = true;
          outcomes.push(outcome);
        }
        return outcomes;
      }),
    );
    return groups.flat();
  }

  private async sendOne(row: ClaimedRow): Promise<Outcome> {
    const notice: OutboundNotice = {
      noticeId: row.notice_id,
      campaignId: row.campaign_id,
      taskId: row.task_id,
      kind: row.kind,
      recipients: row.recipients,
      title: row.title,
      body: row.body,
      idempotencyKey: idempotencyKey(row.notice_id, row.channel_id),
    };
    try {
      await this.channelFor(row.channel).send(notice);
      return { row, ok: true };
    } catch (e) {
      return { row, ok: false, error: errorMessage(e) };
    }
  }
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function truncate(s: string, max: number): string {
  const chars = Array.from(s);
  return chars.length <= max ? s : chars.slice(0, max).join('');
}
