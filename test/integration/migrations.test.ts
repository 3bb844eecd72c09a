import { mkdtempSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listMigrations, migrate } from '../../db/migrate.ts';
import { startTestDatabase, type TestDatabase } from '../helpers/postgres.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await startTestDatabase({ migrate: false });
});
afterAll(async () => {
  await db?.close();
});

describe('database migrations', () => {
  it('apply every numbered file once, and a second run applies nothing', async () => {
    const all = listMigrations().map((m) => m.version);
    expect(await migrate(db.pool)).toEqual(all);
    expect(await migrate(db.pool)).toEqual([]);
    const rows = await db.pool.query('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.rows.map((r) => r.version)).toEqual(all);
  });

  it('are safe when several workers start at once', async () => {
    const results = await Promise.all([migrate(db.pool), migrate(db.pool), migrate(db.pool)]);
    expect(results.flat()).toEqual([]);
  });

  it('refuse to run when an applied migration was edited afterwards', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
    cpSync(join(import.meta.dirname, '../../db/migrations'), dir, { recursive: true });
    const first = listMigrations(dir)[0]!;
    writeFileSync(
      join(dir, `${String(first.version).padStart(3, '0')}_${first.name}.sql`),
      `${first.sql}\n-- edited\n`,
    );
    await expect(migrate(db.pool, dir)).rejects.toThrow(/was changed after it was applied/);
  });

  it('roll back a failing migration and name it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
    cpSync(join(import.meta.dirname, '../../db/migrations'), dir, { recursive: true });
    writeFileSync(
      join(dir, '900_broken.sql'),
      'CREATE TABLE half_done (x int);\nSELECT * FROM no_such_table;\n',
    );
    await expect(migrate(db.pool, dir)).rejects.toThrow(
      /migration 900_broken failed: .*no_such_table/,
    );
    const t = await db.pool.query("SELECT to_regclass('half_done') AS t");
    expect(t.rows[0].t).toBeNull();
  });
});
