// Connections the CLI opens, with failures turned into exit-code-3 errors that say which
// service, where, and how to start it. The Temporal client is loaded when a command first
// connects to Temporal: commands that read PostgreSQL alone never load it.
import type { Client, Connection } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { createPool, isUnreachable, redactUrl } from '../db/pool.ts';
import { config, temporalConnectionOptions } from '../worker/config.ts';
import { payloadProblem } from '../domain/payloads.ts';
import { refusalTexts } from '../domain/refusal.ts';
import { CliError, EXIT, ServiceUnreachable } from './errors.ts';

export async function connectTemporal(): Promise<{ client: Client; close: () => Promise<void> }> {
  const cfg = config();
  const { Client, Connection } = await import('@temporalio/client');
  // The payload codec when codec keys are configured (CAMPAIGN_CODEC_KEYS / _FILE).
  const dataConverter = (await import('../worker/codec.ts')).dataConverterFromEnv();
  let connection: Connection;
  try {
    connection = await Connection.connect({
      ...temporalConnectionOptions(cfg),
      connectTimeout: 3000,
    });
    await connection.workflowService.getSystemInfo({});
  } catch (e) {
    throw new ServiceUnreachable('Temporal', cfg.temporalAddress, firstLine(e));
  }
  return {
    client: new Client({
      connection,
      namespace: cfg.temporalNamespace,
      ...(dataConverter ? { dataConverter } : {}),
    }),
    close: () => connection.close(),
  };
}

export async function connectDatabase(): Promise<pg.Pool> {
  const cfg = config();
  const pool = createPool(cfg.databaseUrl, 4);
  try {
    await pool.query('SELECT 1');
  } catch (e) {
    await pool.end().catch(() => {});
    if (isUnreachable(e)) {
      throw new ServiceUnreachable('PostgreSQL', redactUrl(cfg.databaseUrl), firstLine(e));
    }
    throw e;
  }
  return pool;
}

export { redactUrl };

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0] ?? msg;
}

/**
 * Runs a call that needs a worker to answer (an update or a query) under a deadline, so that
 * the CLI never hangs when no worker runs: a deadline or an unavailable server is exit 3.
 */
export async function withWorkerDeadline<T>(client: Client, fn: () => Promise<T>): Promise<T> {
  try {
    return await client.connection.withDeadline(Date.now() + config().cliWorkerTimeoutMs, fn);
  } catch (e) {
    const code =
      (e as { code?: number })?.code ?? (e as { cause?: { code?: number } })?.cause?.code;
    const msg = String((e as Error)?.message ?? e);
    const timedOut =
      code === 4 ||
      (e as Error)?.name === 'WorkflowUpdateRPCTimeoutOrCancelledError' ||
      /DEADLINE_EXCEEDED|deadline exceeded/i.test(msg);
    if (timedOut) {
      throw new CliError(
        `no worker answered within ${config().cliWorkerTimeoutMs / 1000} s: is a worker running on task queue "${config().taskQueue}"? Start one with \`npm run worker\`, check with \`campaign doctor\`.`,
        EXIT.unreachable,
      );
    }
    if (code === 14 || /UNAVAILABLE/.test(msg)) {
      throw new ServiceUnreachable('Temporal', config().temporalAddress, firstLine(e));
    }
    throw e;
  }
}

/** Runs `fn` with a database pool that is closed afterwards. */
export async function withDb<T>(fn: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = await connectDatabase();
  try {
    return await fn(pool);
  } finally {
    await pool.end();
  }
}

/**
 * Turns a failed update into what the person should read: the validator's refusal, a
 * workflow that is not running, or one that has finished. `what` names the workflow for
 * people ("task", "workflow").
 */
export function updateError(e: unknown, action: string, id: string, what = 'workflow'): unknown {
  if (e instanceof CliError) return e;
  // By name (the SDK sets it on its errors), as the client's classes are loaded lazily.
  if ((e as Error)?.name === 'WorkflowNotFoundError') {
    return new CliError(
      `no ${what} "${id}" is running (it may be finished, or the id is wrong)`,
      EXIT.refused,
    );
  }
  if ((e as Error)?.name === 'WorkflowUpdateFailedError') {
    const cause = (e as Error).cause as Error | undefined;
    const texts = refusalTexts(e);
    const en = `${action} refused: ${texts?.en ?? cause?.message ?? (e as Error).message}`;
    return new CliError(
      en,
      EXIT.refused,
      undefined,
      texts ? { en, zh: `未被接受：${texts.zh}` } : undefined,
    );
  }
  if (/workflow execution already completed/i.test((e as Error)?.message ?? String(e))) {
    return new CliError(`${action} refused: ${what} "${id}" is already finished`, EXIT.refused);
  }
  return e;
}

/**
 * Sends one update to a workflow and waits for its result, under the worker deadline, with
 * refusals and missing workflows turned into CLI errors that name the action.
 */
/**
 * Refuses, before anything is sent, a request whose shape the workflow's validator would refuse
 * (domain/payloads.ts: the same schema on both sides), with the field named in both languages.
 */
export function assertPayload(update: string, request: unknown): void {
  const p = payloadProblem(update, request);
  if (p) throw new CliError(p.en, EXIT.refused, { update }, p);
}

export async function sendUpdate<Ret, Arg>(
  workflowId: string,
  def: UpdateDefinition<Ret, [Arg]>,
  arg: Arg,
  action: string,
  opts: { updateId?: string; what?: string } = {},
): Promise<Ret> {
  assertPayload(def.name, arg);
  const temporal = await connectTemporal();
  try {
    return await withWorkerDeadline(temporal.client, () =>
      temporal.client.workflow.getHandle(workflowId).executeUpdate(def, {
        args: [arg],
        ...(opts.updateId ? { updateId: opts.updateId } : {}),
      }),
    );
  } catch (e) {
    throw updateError(e, action, workflowId, opts.what);
  } finally {
    await temporal.close();
  }
}

/**
 * A request id derived from what is asked, so that the same command retried (after "no worker
 * answered", say) is answered with the first outcome instead of being applied again. It is
 * also sent as the update's id, so the server de-duplicates it too.
 */
export function derivedRequestId(...parts: (string | number | undefined)[]): string {
  return createHash('sha256')
    .update(JSON.stringify(parts.map((p) => p ?? null)))
    .digest('hex')
    .slice(0, 32);
}
