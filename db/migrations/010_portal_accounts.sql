-- The department portal: accounts of the people on campaign rosters, one-time invitations,
-- server-side sessions and the record of sign-in attempts. Secrets are stored hashed only:
-- passwords with argon2id, invitation and session tokens with SHA-256.
CREATE TABLE IF NOT EXISTS portal_accounts (
  person_id       text PRIMARY KEY,
  password_hash   text,
  status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
  failed_count    integer NOT NULL DEFAULT 0,
  locked_until    timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  password_set_at timestamptz,
  revoked_at      timestamptz,
  revoked_by      text
);

CREATE TABLE IF NOT EXISTS portal_invitations (
  token_hash   text PRIMARY KEY,
  campaign_id  text NOT NULL,
  person_id    text NOT NULL,
  created_by   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  used_at      timestamptz,
  revoked_at   timestamptz
);
CREATE INDEX IF NOT EXISTS portal_invitations_by_person ON portal_invitations (person_id);

CREATE TABLE IF NOT EXISTS portal_sessions (
  token_hash   text PRIMARY KEY,
  person_id    text NOT NULL,
  csrf_token   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  ended_at     timestamptz,
  user_agent   text,
  ip           text
);
CREATE INDEX IF NOT EXISTS portal_sessions_by_person ON portal_sessions (person_id);

CREATE TABLE IF NOT EXISTS portal_sign_ins (
  id         bigserial PRIMARY KEY,
  person_id  text NOT NULL,
  at         timestamptz NOT NULL DEFAULT now(),
  outcome    text NOT NULL CHECK (outcome IN ('ok', 'bad-password', 'locked', 'revoked', 'no-account')),
  ip         text,
  user_agent text
);
CREATE INDEX IF NOT EXISTS portal_sign_ins_by_person ON portal_sign_ins (person_id, at);

-- Evidence files (印证资料): each content stored once by its SHA-256 (in the row, or under the
-- data folder), linked to the tasks it was uploaded for. Workflow histories carry only the
-- file's id, name, size and hash.
CREATE TABLE IF NOT EXISTS evidence_blobs (
  sha256     text PRIMARY KEY,
  size       bigint NOT NULL,
  mime       text NOT NULL,
  content    bytea,
  stored_at  text,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS evidence_files (
  file_id     uuid PRIMARY KEY,
  task_id     text NOT NULL,
  campaign_id text NOT NULL,
  unit_id     text NOT NULL,
  name        text NOT NULL,
  sha256      text NOT NULL REFERENCES evidence_blobs(sha256),
  size        bigint NOT NULL,
  mime        text NOT NULL,
  uploaded_by text NOT NULL,
  uploaded_at timestamptz NOT NULL DEFAULT now(),
  removed_at  timestamptz
);
CREATE INDEX IF NOT EXISTS evidence_files_by_task ON evidence_files (task_id);
