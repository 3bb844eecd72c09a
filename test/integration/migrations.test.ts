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

describe('migration 065 (business records and the official samples)', () => {
  it('numbers the draws made before, the latest official, and keeps the rule of one official draw', async () => {
    const old = await startTestDatabase({ migrate: false });
    try {
      const dir = mkdtempSync(join(tmpdir(), 'migrations-064-'));
      for (const m of listMigrations().filter((m) => m.version < 65))
        writeFileSync(join(dir, `${String(m.version).padStart(3, '0')}_${m.name}.sql`), m.sql);
      await migrate(old.pool, dir);
      // A campaign with a bureau coordinator `c`, an evaluator `e` and the enterprises given.
      const seedCampaign = async (id: string, name: string, year: number, enterprises: string) => {
        await old.pool.query(
          `INSERT INTO campaigns (campaign_id, name, county, year, time_zone, definition, calendar, workflow_id)
           VALUES ($1, $2, '某县', $3, 'Asia/Shanghai', '{}', '{}', $1)`,
          [id, name, year],
        );
        await old.pool.query(
          `INSERT INTO units VALUES ($1, 'spj', '审批局', 'bureau'), ($1, 'pg', '评估机构', 'evaluator')`,
          [id],
        );
        await old.pool.query(
          `INSERT INTO people (campaign_id, person_id, unit_id, name, role)
           VALUES ($1, 'c', 'spj', '吴', 'coordinator'), ($1, 'e', 'pg', '王', 'evaluator')`,
          [id],
        );
        await old.pool.query(
          `INSERT INTO enterprises (campaign_id, credit_code, name, imported_by) VALUES ${enterprises}`,
        );
      };
      await seedCampaign('m1', '演练', 2026, `('m1', 'A', '甲', 'c'), ('m1', 'B', '乙', 'c')`);
      // Three draws by the evaluator, as any evaluator could redraw before.
      for (const seed of ['s1', 's2', 's3'])
        await old.pool.query(
          `INSERT INTO samples (campaign_id, seed, proportion, population, size, enterprises, drawn_by)
           VALUES ('m1', $1, 0.5, 2, 1, '{A}', 'e')`,
          [seed],
        );
      // A campaign that has closed, with a draw of its own: its rows are numbered too (the rule
      // that refuses changes to a closed campaign's sample must not stop the migration).
      await seedCampaign('m2', '往年', 2025, `('m2', 'A', '甲', 'c')`);
      await old.pool.query(
        `INSERT INTO samples (campaign_id, seed, proportion, population, size, enterprises, drawn_by)
         VALUES ('m2', 'old', 1, 1, 1, '{A}', 'e')`,
      );
      await old.pool.query(`UPDATE campaigns SET status = 'completed' WHERE campaign_id = 'm2'`);
      expect(await migrate(old.pool)).toEqual(
        listMigrations()
          .map((m) => m.version)
          .filter((v) => v >= 65),
      );
      const rows = async () =>
        (
          await old.pool.query(
            `SELECT seed, draw_no, official, superseded_by FROM samples WHERE campaign_id = 'm1' ORDER BY draw_no`,
          )
        ).rows;
      expect(
        (
          await old.pool.query(
            `SELECT seed, draw_no, official, superseded_by FROM samples WHERE campaign_id = 'm2'`,
          )
        ).rows,
      ).toEqual([{ seed: 'old', draw_no: 1, official: true, superseded_by: null }]);
      expect(await rows()).toEqual([
        { seed: 's1', draw_no: 1, official: false, superseded_by: 2 },
        { seed: 's2', draw_no: 2, official: false, superseded_by: 3 },
        { seed: 's3', draw_no: 3, official: true, superseded_by: null },
      ]);
      const draw = (by: string, seed: string, reason: string | null) =>
        old.pool.query(
          `INSERT INTO samples (campaign_id, draw_no, seed, proportion, population, size, enterprises, drawn_by, reason)
           VALUES ('m1', 0, $1, 0.5, 2, 1, '{B}', $2, $3)`,
          [seed, by, reason],
        );
      await expect(draw('e', 's4', 'why')).rejects.toThrow(
        /e .* may not draw the verification sample again/,
      );
      await expect(draw('c', 's4', null)).rejects.toThrow(/needs the bureau's reason/);
      await draw('c', 's4', '名单更新');
      expect((await rows()).slice(2)).toEqual([
        { seed: 's3', draw_no: 3, official: false, superseded_by: 4 },
        { seed: 's4', draw_no: 4, official: true, superseded_by: null },
      ]);
      await expect(
        old.pool.query(`UPDATE samples SET official = true WHERE draw_no = 1`),
      ).rejects.toThrow(/a drawn sample is never changed/);
    } finally {
      await old.close();
    }
  });
});
