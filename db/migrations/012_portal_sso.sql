-- Single sign-on through the province's unified identity service (OpenID Connect): the sign-in
-- attempts in flight (one row per visit to /sso/start, used once by /sso/callback, short-lived;
-- the state is stored as its SHA-256 only), and the method of each sign-in and session.
CREATE TABLE IF NOT EXISTS portal_oidc_flows (
  state_hash    text PRIMARY KEY,
  code_verifier text NOT NULL,
  nonce         text NOT NULL,
  next_path     text NOT NULL DEFAULT '/tasks',
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  used_at       timestamptz
);
CREATE INDEX IF NOT EXISTS portal_oidc_flows_by_expiry ON portal_oidc_flows (expires_at);

ALTER TABLE portal_sessions
  ADD COLUMN IF NOT EXISTS method text NOT NULL DEFAULT 'password'
    CHECK (method IN ('password', 'oidc'));
ALTER TABLE portal_sign_ins
  ADD COLUMN IF NOT EXISTS method text NOT NULL DEFAULT 'password'
    CHECK (method IN ('password', 'oidc'));

-- The roles of 050_roles.sql. On a new database this migration runs before that one, so the
-- roles are created here when missing (as 050 does), and the new table is owned and granted
-- here in both cases: 050 names the portal's tables one by one.
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

ALTER TABLE portal_oidc_flows OWNER TO campaign_owner;
-- Only the portal reads and writes the flows; the worker and the reports never see them.
GRANT SELECT, INSERT, UPDATE, DELETE ON portal_oidc_flows TO campaign_portal;
-- The new columns of the sessions and the sign-ins: the portal writes them (its table grants
-- cover new columns; said again here so that this migration stands on its own).
GRANT SELECT, INSERT, UPDATE, DELETE ON portal_sessions, portal_sign_ins TO campaign_portal;
