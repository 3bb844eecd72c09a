-- The tasks projection gains its foreign keys: a task belongs to a recorded campaign, and its
-- events, submissions and notices to a recorded task. The worker always writes the parent
-- first: recordCampaign runs before the campaign starts any task, and a task's row, its event,
-- its submission, its notice and the notice's deliveries are one statement
-- (activities/tasks.ts), whose keys are checked at its end. A notice of a campaign event has
-- no task (task_id is null) and is checked against its campaign only.
--
-- Each key is added NOT VALID (new rows are checked from now on) and then validated; a
-- database that already holds rows without their parent (tasks of a campaign never recorded,
-- left by an older benchmark) keeps the key unvalidated, with a notice naming it, instead of
-- failing the migration. `SELECT conname FROM pg_constraint WHERE NOT convalidated` lists them;
-- once the orphans are removed, `ALTER TABLE … VALIDATE CONSTRAINT …` completes them.
DO $$
DECLARE
  k record;
BEGIN
  FOR k IN
    SELECT * FROM (VALUES
      ('tasks', 'tasks_campaign_fk',
       'FOREIGN KEY (campaign_id) REFERENCES campaigns(campaign_id) ON DELETE CASCADE'),
      ('task_events', 'task_events_task_fk',
       'FOREIGN KEY (task_id) REFERENCES tasks(task_id) ON DELETE CASCADE'),
      ('task_events', 'task_events_campaign_fk',
       'FOREIGN KEY (campaign_id) REFERENCES campaigns(campaign_id) ON DELETE CASCADE'),
      ('submissions', 'submissions_task_fk',
       'FOREIGN KEY (task_id) REFERENCES tasks(task_id) ON DELETE CASCADE'),
      ('notices', 'notices_task_fk',
       'FOREIGN KEY (task_id) REFERENCES tasks(task_id) ON DELETE CASCADE'),
      ('notices', 'notices_campaign_fk',
       'FOREIGN KEY (campaign_id) REFERENCES campaigns(campaign_id) ON DELETE CASCADE')
    ) AS v(tbl, name, def)
  LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = k.name) THEN
      EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I %s NOT VALID', k.tbl, k.name, k.def);
    END IF;
    BEGIN
      EXECUTE format('ALTER TABLE %I VALIDATE CONSTRAINT %I', k.tbl, k.name);
    EXCEPTION WHEN foreign_key_violation THEN
      RAISE NOTICE '%.% left NOT VALID: rows without their parent exist (%)', k.tbl, k.name, SQLERRM;
    END;
  END LOOP;
END $$;

-- The keys' lookups from the parent side (a campaign's or a task's rows when it is deleted).
CREATE INDEX IF NOT EXISTS notices_by_task ON notices (task_id) WHERE task_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS notices_by_campaign ON notices (campaign_id);
