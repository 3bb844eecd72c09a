#!/bin/sh
# Run once by the campaign-db container when it initialises its data (docker-entrypoint-initdb.d):
# the component roles of db/migrations/050_roles.sql (the migration grants them their rights,
# applied by the worker as the owner `campaign`) and a login for each component in its role.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v worker_pw="${CAMPAIGN_WORKER_DB_PASSWORD:-change-me}" \
  -v portal_pw="${CAMPAIGN_PORTAL_DB_PASSWORD:-change-me}" \
  -v reports_pw="${CAMPAIGN_REPORTS_DB_PASSWORD:-change-me}" <<'SQL'
CREATE ROLE campaign_owner NOLOGIN;
CREATE ROLE campaign_worker NOLOGIN;
CREATE ROLE campaign_reports NOLOGIN;
CREATE ROLE campaign_portal NOLOGIN;
GRANT campaign_owner TO CURRENT_USER;
CREATE ROLE worker LOGIN PASSWORD :'worker_pw' IN ROLE campaign_worker;
CREATE ROLE portal LOGIN PASSWORD :'portal_pw' IN ROLE campaign_portal;
CREATE ROLE reports LOGIN PASSWORD :'reports_pw' IN ROLE campaign_reports;
SQL
