// The rules the CLI checks before it writes the enterprise list and the verification sample hold
// in PostgreSQL for any client that writes there directly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDatabase, type TestDatabase } from '../helpers/postgres.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await startTestDatabase();
  await db.pool.query(
    `INSERT INTO campaigns (campaign_id, name, county, year, time_zone, definition, calendar, workflow_id)
     VALUES ('rules-1', '演练', '某县', 2026, 'Asia/Shanghai', '{}', '{}', 'rules-1')`,
  );
  await db.pool.query(
    `INSERT INTO units (campaign_id, unit_id, name, kind) VALUES
       ('rules-1', 'spj', '审批局', 'bureau'), ('rules-1', 'scjgj', '市场监管局', 'department'),
       ('rules-1', 'pgjg', '评估机构', 'evaluator')`,
  );
  await db.pool.query(
    `INSERT INTO people (campaign_id, person_id, unit_id, name, role) VALUES
       ('rules-1', 'spj-coord', 'spj', '吴股长', 'coordinator'),
       ('rules-1', 'spj-staff', 'spj', '小王', 'staff'),
       ('rules-1', 'scjgj-head', 'scjgj', '局长', 'head'),
       ('rules-1', 'pg-eval', 'pgjg', '评估员', 'evaluator')`,
  );
});
afterAll(async () => {
  await db?.close();
});

const CODE = '91340100MA2N0A1B2C';
const addEnterprise = (by: string, campaign = 'rules-1', code = CODE) =>
  db.pool.query(
    `INSERT INTO enterprises (campaign_id, credit_code, name, imported_by) VALUES ($1, $2, '甲公司', $3)`,
    [campaign, code, by],
  );
const addSample = (by: string, enterprises: string[], size = enterprises.length) =>
  db.pool.query(
    `INSERT INTO samples (campaign_id, seed, proportion, population, size, enterprises, drawn_by)
     VALUES ('rules-1', $1, 0.5, 1, $2, $3, $4)`,
    [`seed-${by}-${size}-${enterprises.join()}`, size, enterprises, by],
  );

describe('the enterprise list and the sample in PostgreSQL', () => {
  it('take the bureau (and the evaluator for a sample) of a running campaign only', async () => {
    await expect(addEnterprise('scjgj-head')).rejects.toThrow(
      /scjgj-head \(head in a unit of kind department\) may not import the enterprise list/,
    );
    await expect(addEnterprise('spj-staff')).rejects.toThrow(/spj-staff .* may not import/);
    await expect(addEnterprise('nobody')).rejects.toThrow(/unknown person "nobody"/);
    await expect(addEnterprise('spj-coord', 'no-such-campaign')).rejects.toThrow(
      /campaign no-such-campaign is not recorded/,
    );
    await addEnterprise('spj-coord');

    await expect(addSample('scjgj-head', [CODE])).rejects.toThrow(
      /may not draw the verification sample/,
    );
    await expect(addSample('pg-eval', ['91340100MA2N0A1B3X'])).rejects.toThrow(
      /names enterprises that are not on the list/,
    );
    await expect(addSample('pg-eval', [CODE], 3)).rejects.toThrow(/does not match its size/);
    await addSample('pg-eval', [CODE]);

    await db.pool.query(`UPDATE campaigns SET status = 'completed' WHERE campaign_id = 'rules-1'`);
    await expect(addEnterprise('spj-coord', 'rules-1', '91340100MA2N0A1B3X')).rejects.toThrow(
      /campaign rules-1 has closed/,
    );
    await expect(
      db.pool.query(`DELETE FROM enterprises WHERE campaign_id = 'rules-1'`),
    ).rejects.toThrow(/has closed/);
    await expect(addSample('spj-coord', [CODE])).rejects.toThrow(/has closed/);
    // Results out of range are refused by the table too.
    await expect(
      db.pool.query(
        `INSERT INTO results (campaign_id, code, score, rank, imported_by) VALUES ('rules-1', 'kbqy', 150, 1, 'spj-coord')`,
      ),
    ).rejects.toThrow(/results_score_range/);
    await expect(
      db.pool.query(
        `INSERT INTO results (campaign_id, code, score, rank, imported_by) VALUES ('rules-1', 'kbqy', 80, 0, 'spj-coord')`,
      ),
    ).rejects.toThrow(/results_rank_range/);
    const n = await db.pool.query(
      `SELECT count(*)::int AS n FROM enterprises WHERE campaign_id = 'rules-1'`,
    );
    expect(n.rows[0].n).toBe(1);
  });
});
