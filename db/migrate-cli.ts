// `npm run migrate`: applies the database migrations to DATABASE_URL (or the embedded default).
import { config } from '../worker/config.ts';
import { migrate } from './migrate.ts';
import { createPool, isUnreachable, redactUrl } from './pool.ts';

const pool = createPool(config().databaseUrl, 1);
try {
  const applied = await migrate(pool);
  console.log(
    applied.length ? `applied migrations ${applied.join(', ')}` : 'database is up to date',
  );
} catch (e) {
  if (isUnreachable(e)) {
    console.error(
      `migrate: PostgreSQL is not reachable at ${redactUrl(config().databaseUrl)}; start it with \`npm run services:start\` or set DATABASE_URL`,
    );
    process.exitCode = 3;
  } else {
    console.error(`migrate: ${(e as Error).message}`);
    process.exitCode = 1;
  }
} finally {
  await pool.end();
}
