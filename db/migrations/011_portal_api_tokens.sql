-- API tokens for a unit's own systems: scoped to one unit of one campaign and to a person of
-- that unit who answers for the system (the actor of what it reports), stored as SHA-256 only,
-- revocable, with the last use recorded.
CREATE TABLE IF NOT EXISTS portal_api_tokens (
  token_id     uuid PRIMARY KEY,
  token_hash   text NOT NULL UNIQUE,
  campaign_id  text NOT NULL,
  unit_id      text NOT NULL,
  person_id    text NOT NULL,
  name         text NOT NULL,
  created_by   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at   timestamptz,
  revoked_by   text
);
CREATE INDEX IF NOT EXISTS portal_api_tokens_by_campaign ON portal_api_tokens (campaign_id, unit_id);
