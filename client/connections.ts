// Connections the CLI opens, with failures turned into exit-code-3 errors that say which
// service, where, and how to start it.
import { Client, Connection } from '@temporalio/client';
import type pg from 'pg';
import { createPool, isUnreachable, redactUrl } from '../db/pool.ts';
import { config } from '../worker/config.ts';
import { ServiceUnreachable } from './errors.ts';

export async function connectTemporal(): Promise<{ client: Client; close: () => Promise<void> }> {
  const cfg = config();
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: cfg.temporalAddress, connectTimeout: 3000 });
    await connection.workflowService.getSystemInfo({});
  } catch (e) {
    throw new ServiceUnreachable('Temporal', cfg.temporalAddress, firstLine(e));
  }
  return {
    client: new Client({ connection, namespace: cfg.temporalNamespace }),
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
