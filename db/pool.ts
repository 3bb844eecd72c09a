// The PostgreSQL pool, owned by the worker and the CLI (never by workflow code), and the
// classification of connection failures into "service unreachable" errors.
import pg from 'pg';

export function createPool(url: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 5000 });
  // An idle client losing its connection must not crash the process; the next query retries.
  pool.on('error', () => {});
  return pool;
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
]);

/** The URL with its password hidden, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

/** True when the error means the database server could not be reached at all. */
export function isUnreachable(e: unknown): boolean {
  const err = e as { code?: string; message?: string; errors?: unknown[] };
  if (err?.code && UNREACHABLE.has(err.code)) return true;
  if (Array.isArray(err?.errors) && err.errors.some(isUnreachable)) return true;
  return /timeout exceeded when trying to connect|Connection terminated/i.test(err?.message ?? '');
}

/** Runs `fn` in one transaction on one client: committed when it returns, rolled back on error. */
export async function withTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}
