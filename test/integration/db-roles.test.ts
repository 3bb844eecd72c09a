// Least privilege in PostgreSQL (db/migrations/050_roles.sql): each component's role can do
// what the component does and nothing more.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDatabase, type TestDatabase } from '../helpers/postgres.ts';

let db: TestDatabase;
const logins = new Map<string, pg.Client>();

/** A login for `role` on the test database, connected. */
async function as(role: string): Promise<pg.Client> {
  const name = `${role}_${randomUUID().slice(0, 8)}`;
  const password = randomUUID();
  await db.pool.query(`CREATE ROLE ${name} LOGIN PASSWORD '${password}' IN ROLE ${role}`);
  const url = new URL(db.url);
  url.username = name;
  url.password = password;
  const c = new pg.Client({ connectionString: url.href });
  await c.connect();
  logins.set(name, c);
  return c;
}

beforeAll(async () => {
  db = await startTestDatabase();
});
afterAll(async () => {
  for (const [name, c] of logins) {
    await c.end();
    await db.pool.query(`DROP ROLE IF EXISTS ${name}`);
  }
  await db?.close();
});

const denied = /permission denied|must be owner/;

describe('the PostgreSQL roles', () => {
  it('own every table by campaign_owner', async () => {
    const r = await db.pool.query<{ relname: string }>(
      `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r','v') AND pg_get_userbyid(c.relowner) <> 'campaign_owner'
          AND c.relname <> 'schema_migrations'`,
    );
    expect(r.rows).toEqual([]);
  });

  it('let the reports role read the campaign but write nothing', async () => {
    const reports = await as('campaign_reports');
    await expect(reports.query('SELECT count(*) FROM tasks')).resolves.toBeTruthy();
    await expect(
      reports.query("INSERT INTO campaign_events (campaign_id) VALUES ('x')"),
    ).rejects.toThrow(denied);
    await expect(reports.query('DELETE FROM tasks')).rejects.toThrow(denied);
    await expect(reports.query('UPDATE campaigns SET name = name')).rejects.toThrow(denied);
    await expect(reports.query('SELECT * FROM portal_accounts')).rejects.toThrow(denied);
    await expect(reports.query('CREATE TABLE sneaky (a int)')).rejects.toThrow(denied);
  });

  it('let the portal role write its own tables but not drop, alter or write the campaign', async () => {
    const portal = await as('campaign_portal');
    await expect(portal.query('SELECT count(*) FROM portal_accounts')).resolves.toBeTruthy();
    await expect(portal.query('SELECT count(*) FROM tasks')).resolves.toBeTruthy();
    await expect(portal.query('DROP TABLE tasks')).rejects.toThrow(denied);
    await expect(portal.query('ALTER TABLE portal_accounts ADD COLUMN x int')).rejects.toThrow(
      denied,
    );
    await expect(portal.query('TRUNCATE campaigns')).rejects.toThrow(denied);
    await expect(portal.query('DELETE FROM task_events')).rejects.toThrow(denied);
    await expect(portal.query('SELECT * FROM notice_deliveries')).rejects.toThrow(denied);
    // Single sign-on (012_portal_sso.sql): the flows in flight, and the method of a sign-in.
    const state = randomUUID();
    await expect(
      portal.query(
        `INSERT INTO portal_oidc_flows (state_hash, code_verifier, nonce, expires_at)
         VALUES ($1, 'v', 'n', now() + interval '1 minute')`,
        [state],
      ),
    ).resolves.toBeTruthy();
    await expect(
      portal.query('UPDATE portal_oidc_flows SET used_at = now() WHERE state_hash = $1', [state]),
    ).resolves.toBeTruthy();
    await expect(
      portal.query('DELETE FROM portal_oidc_flows WHERE state_hash = $1', [state]),
    ).resolves.toBeTruthy();
    await expect(
      portal.query(
        `INSERT INTO portal_sign_ins (person_id, outcome, method) VALUES ('roles-test', 'no-account', 'oidc')`,
      ),
    ).resolves.toBeTruthy();
    const reports = await as('campaign_reports');
    await expect(reports.query('SELECT * FROM portal_oidc_flows')).rejects.toThrow(denied);
    const worker = await as('campaign_worker');
    await expect(worker.query('SELECT * FROM portal_oidc_flows')).rejects.toThrow(denied);
  });

  it('let the worker role write the campaign but not touch portal accounts or alter tables', async () => {
    const worker = await as('campaign_worker');
    await expect(worker.query('SELECT count(*) FROM notice_deliveries')).resolves.toBeTruthy();
    await expect(
      worker.query('UPDATE notice_deliveries SET attempts = attempts'),
    ).resolves.toBeTruthy();
    await expect(worker.query('SELECT * FROM portal_accounts')).rejects.toThrow(denied);
    await expect(worker.query('DELETE FROM portal_sessions')).rejects.toThrow(denied);
    await expect(worker.query('DROP TABLE tasks')).rejects.toThrow(denied);
    await expect(worker.query('ALTER TABLE tasks ADD COLUMN x int')).rejects.toThrow(denied);
  });

  it('let the reports and the portal read the assessment adjustments, and nobody but the owner write them', async () => {
    const reports = await as('campaign_reports');
    const portal = await as('campaign_portal');
    const worker = await as('campaign_worker');
    for (const c of [reports, portal])
      await expect(c.query('SELECT count(*) FROM assessment_adjustments')).resolves.toBeTruthy();
    const insert = `INSERT INTO assessment_adjustments (campaign_id, unit_id, points, reason, by_person)
                    VALUES ('x', 'u', 1, 'r', 'p')`;
    for (const c of [reports, portal, worker])
      await expect(c.query(insert)).rejects.toThrow(denied);
    await expect(worker.query('SELECT * FROM assessment_adjustments')).rejects.toThrow(denied);
    // The owner's own writes are checked too: append-only, and only by the bureau.
    await expect(db.pool.query(insert)).rejects.toThrow(/not on the roster of campaign "x"/);
    await expect(db.pool.query('DELETE FROM assessment_adjustments')).rejects.toThrow(
      /append-only/,
    );
    await expect(db.pool.query('TRUNCATE assessment_adjustments')).rejects.toThrow(/append-only/);
  });

  it('let the worker keep the highlights registry and read publicity, and only the owner record publicity', async () => {
    const reports = await as('campaign_reports');
    const portal = await as('campaign_portal');
    const worker = await as('campaign_worker');
    for (const c of [reports, portal, worker]) {
      await expect(c.query('SELECT count(*) FROM highlights')).resolves.toBeTruthy();
      await expect(c.query('SELECT count(*) FROM publicity')).resolves.toBeTruthy();
    }
    await expect(worker.query('UPDATE highlights SET state = state')).resolves.toBeTruthy();
    for (const c of [reports, portal]) {
      await expect(c.query('UPDATE highlights SET state = state')).rejects.toThrow(denied);
    }
    const insert = `INSERT INTO publicity (campaign_id, unit_id, channel, title, published_on, by_person)
                    VALUES ('x', 'u', 'web', 't', '2026-10-12', 'p')`;
    for (const c of [reports, portal, worker])
      await expect(c.query(insert)).rejects.toThrow(denied);
    // The owner's own writes are checked too: a recorded, running campaign and its department.
    await expect(db.pool.query(insert)).rejects.toThrow(/campaign x is not recorded/);

    // The worker's projection of case tasks keeps the registry under its own role, one place
    // per selected case up to the definition's limit (here 1), the next over the limit.
    const c = `roles-${randomUUID().slice(0, 8)}`;
    await worker.query(
      `INSERT INTO campaigns (campaign_id, name, county, year, time_zone, definition, calendar, workflow_id)
       VALUES ($1, 'n', 'c', 2026, 'Asia/Shanghai', '{"highlights":{"maxTypicalCasesPerIndicator":1}}', '{}', $1)`,
      [c],
    );
    await worker.query(
      `INSERT INTO indicators (campaign_id, code, name, lead_unit, team_leader, position)
       VALUES ($1, 'kbqy', '开办企业', 'scjgj', 'p', 0)`,
      [c],
    );
    const task = (key: string) =>
      worker.query(
        `INSERT INTO tasks (task_id, workflow_id, campaign_id, indicator, kind, title, unit_id, assignee,
           review, state, due_at, warning_ms, time_zone, last_submission, created_at, completed_at, last_seq)
         VALUES ($1, $1, $2, 'kbqy', 'case', 't', 'scjgj', 'p', true, 'done', now(), 0, 'Asia/Shanghai',
           '{"by":"p","at":0,"data":{"title":"案例","indicator":"kbqy","replicable":true},"evidence":["e"]}',
           now(), now(), 3)`,
        [`${c}/kbqy/case/scjgj/${key}`, c],
      );
    await task('a');
    await task('b');
    const placed = await worker.query(
      'SELECT task_id, state, slot, title, replicable, evidence FROM highlights WHERE campaign_id = $1 ORDER BY task_id',
      [c],
    );
    expect(placed.rows).toEqual([
      {
        task_id: `${c}/kbqy/case/scjgj/a`,
        state: 'selected',
        slot: 1,
        title: '案例',
        replicable: true,
        evidence: ['e'],
      },
      {
        task_id: `${c}/kbqy/case/scjgj/b`,
        state: 'over-limit',
        slot: null,
        title: '案例',
        replicable: true,
        evidence: ['e'],
      },
    ]);
    await db.pool.query('DELETE FROM campaigns WHERE campaign_id = $1', [c]);
  });

  it.skipIf(Boolean(process.env.TEST_DATABASE_URL))(
    'give the embedded default its component logins, the worker one in the worker role',
    async () => {
      const url = new URL(db.url);
      url.username = 'campaign_worker_app';
      url.password = 'campaign_worker_app';
      const c = new pg.Client({ connectionString: url.href });
      await c.connect();
      try {
        await expect(c.query('SELECT count(*) FROM tasks')).resolves.toBeTruthy();
        await expect(c.query('SELECT * FROM portal_accounts')).rejects.toThrow(denied);
      } finally {
        await c.end();
      }
    },
  );
});
