-- Least privilege: an owner role that owns the schema's tables, and one role per component with
-- only the grants it needs. The roles are group roles (NOLOGIN); a deployment gives each
-- component a login that is a member of its role (see the README, "PostgreSQL roles"):
--   campaign_owner    owns every table; migrations run as it (or as a superuser)
--   campaign_worker   reads and writes the campaign's tables; no portal table
--   campaign_reports  reads the campaign's tables (the CLI's reports and exports); writes nothing
--   campaign_portal   reads the campaign's tables, writes only the portal's own tables
-- Roles are shared by every database of a cluster: created when missing, tolerating a
-- concurrent creation in another database.
DO $$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['campaign_owner', 'campaign_worker', 'campaign_reports', 'campaign_portal'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      BEGIN
        EXECUTE format('CREATE ROLE %I NOLOGIN', r);
      EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
      END;
    END IF;
  END LOOP;
END $$;

-- The owner owns what the migrations created (a serial's sequence follows its table).
DO $$
DECLARE t record;
BEGIN
  FOR t IN SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'p') LOOP
    EXECUTE format('ALTER %s public.%I OWNER TO campaign_owner',
      CASE t.relkind WHEN 'v' THEN 'VIEW' ELSE 'TABLE' END, t.relname);
  END LOOP;
END $$;

GRANT USAGE ON SCHEMA public TO campaign_worker, campaign_reports, campaign_portal;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- The campaign's tables: written by the worker's activities and outbox.
GRANT SELECT, INSERT, UPDATE, DELETE ON
  campaigns, units, people, indicators, system_checks, tasks, task_events, submissions,
  notices, notice_deliveries, indicator_status, enterprises, samples, verifications, results,
  dispatches, rectifications, rectification_items, rectification_progress, campaign_events
  TO campaign_worker;
GRANT SELECT ON unit_performance, schema_migrations TO campaign_worker;

-- Reports read everything of the campaign, and nothing of the portal's sign-ins and tokens.
GRANT SELECT ON
  campaigns, units, people, indicators, system_checks, tasks, task_events, submissions,
  notices, notice_deliveries, indicator_status, enterprises, samples, verifications, results,
  dispatches, rectifications, rectification_items, rectification_progress, campaign_events,
  unit_performance, schema_migrations
  TO campaign_reports;

-- The portal reads the campaign (its actions go through Temporal) and writes its own tables.
GRANT SELECT ON
  campaigns, units, people, indicators, tasks, task_events, submissions, indicator_status,
  enterprises, samples, verifications, results, dispatches, rectifications,
  rectification_items, rectification_progress, campaign_events, unit_performance,
  schema_migrations
  TO campaign_portal;
GRANT SELECT, INSERT, UPDATE, DELETE ON
  portal_accounts, portal_invitations, portal_sessions, portal_sign_ins, evidence_blobs,
  evidence_files, portal_api_tokens
  TO campaign_portal;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO campaign_portal;
