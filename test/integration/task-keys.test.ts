// Migration 064: the tasks projection's foreign keys. A database holding rows without their
// parent (left by older code) still migrates, with the affected key left NOT VALID; from then
// on no task of an unrecorded campaign, and no event, submission or notice of an unrecorded
// task, can be written, while the worker's one-statement projection (task row first) works.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../db/migrate.ts';
import { startTestDatabase, type TestDatabase } from '../helpers/postgres.ts';

let db: TestDatabase;
const before = mkdtempSync(join(tmpdir(), 'migrations-before-064-'));
beforeAll(async () => {
  db = await startTestDatabase({ migrate: false });
  cpSync(join(import.meta.dirname, '../../db/migrations'), before, {
    recursive: true,
    filter: (src) => !/064_task_keys\.sql$/.test(src),
  });
});
afterAll(async () => {
  await db?.close();
  rmSync(before, { recursive: true, force: true });
});

const task = (id: string, campaign: string) =>
  db.pool.query(
    `INSERT INTO tasks (task_id, workflow_id, campaign_id, kind, title, unit_id, assignee, review,
       state, due_at, warning_ms, time_zone, created_at, last_seq)
     VALUES ($1, $1, $2, 'adhoc', 't', 'u', 'p', false, 'open', now(), 0, 'Asia/Shanghai', now(), 1)`,
    [id, campaign],
  );
const event = (id: string, campaign: string) =>
  db.pool.query(
    `INSERT INTO task_events (task_id, seq, campaign_id, unit_id, at, type) VALUES ($1, 1, $2, 'u', now(), 'created')`,
    [id, campaign],
  );
const constraints = async () =>
  (
    await db.pool.query<{ conname: string; convalidated: boolean }>(
      `SELECT conname, convalidated FROM pg_constraint WHERE conname LIKE '%\\_fk' AND conrelid::regclass::text IN ('tasks', 'task_events', 'submissions', 'notices') ORDER BY conname`,
    )
  ).rows;

describe('the keys of the tasks projection', () => {
  it('migrate over orphans, leaving only the keys they break unvalidated', async () => {
    await migrate(db.pool, before);
    // A task of a campaign never recorded (as an older benchmark left them).
    await task('orphan/task', 'never-recorded');
    await migrate(db.pool);
    expect(await constraints()).toEqual([
      { conname: 'notices_campaign_fk', convalidated: true },
      { conname: 'notices_task_fk', convalidated: true },
      { conname: 'submissions_task_fk', convalidated: true },
      { conname: 'task_events_campaign_fk', convalidated: true },
      { conname: 'task_events_task_fk', convalidated: true },
      { conname: 'tasks_campaign_fk', convalidated: false },
    ]);
  });

  it('refuse a task of an unrecorded campaign and an event of an unrecorded task from then on', async () => {
    await expect(task('orphan/two', 'never-recorded')).rejects.toThrow(/tasks_campaign_fk/);
    await db.pool.query(
      `INSERT INTO campaigns (campaign_id, name, county, year, time_zone, definition, calendar, workflow_id)
       VALUES ('c1', 'c', 'x', 2026, 'Asia/Shanghai', '{}', '{}', 'c1')`,
    );
    await expect(event('c1/missing', 'c1')).rejects.toThrow(/task_events_task_fk/);
    await task('c1/t', 'c1');
    await event('c1/t', 'c1');
    await expect(
      db.pool.query(
        `INSERT INTO notices (notice_id, campaign_id, task_id, event_seq, kind, recipients, title, body)
         VALUES ('n1', 'c1', 'c1/missing', 1, 'reminded', '{}', 't', 'b')`,
      ),
    ).rejects.toThrow(/notices_task_fk/);
    // A campaign's own notice has no task.
    await db.pool.query(
      `INSERT INTO notices (notice_id, campaign_id, task_id, event_seq, kind, recipients, title, body)
       VALUES ('n2', 'c1', NULL, NULL, 'phase', '{}', 't', 'b')`,
    );
    // Once the orphan is gone the key validates.
    await db.pool.query(`DELETE FROM tasks WHERE campaign_id = 'never-recorded'`);
    await db.pool.query('ALTER TABLE tasks VALIDATE CONSTRAINT tasks_campaign_fk');
    expect((await constraints()).every((c) => c.convalidated)).toBe(true);
  });
});
