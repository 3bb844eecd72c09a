// The portal's SQL: one named statement per query (prepared once per connection), shared by the
// portal and the CLI's `accounts` commands. Tables: db/migrations/010_portal_accounts.sql.
import type pg from 'pg';

export interface Statement {
  name: string;
  text: string;
}

const s = (name: string, text: string): Statement => ({ name: `portal-${name}`, text });

export const Q = {
  // ---- roster ----
  memberships: s(
    'memberships',
    `SELECT p.campaign_id, p.person_id, p.name, p.role, p.unit_id, u.name AS unit_name, u.kind AS unit_kind,
            c.name AS campaign_name, c.status AS campaign_status, c.created_at
       FROM people p
       JOIN units u ON u.campaign_id = p.campaign_id AND u.unit_id = p.unit_id
       JOIN campaigns c ON c.campaign_id = p.campaign_id
      WHERE p.person_id = $1
      ORDER BY c.created_at DESC`,
  ),
  roster: s(
    'roster',
    `SELECT p.person_id, p.name, p.role, p.unit_id, u.name AS unit_name, u.kind AS unit_kind
       FROM people p JOIN units u ON u.campaign_id = p.campaign_id AND u.unit_id = p.unit_id
      WHERE p.campaign_id = $1 ORDER BY u.unit_id, p.person_id`,
  ),
  rosterUnits: s(
    'roster-units',
    'SELECT unit_id, name, kind FROM units WHERE campaign_id = $1 ORDER BY unit_id',
  ),
  campaignDefinition: s(
    'campaign-definition',
    'SELECT definition, time_zone, name, phase FROM campaigns WHERE campaign_id = $1',
  ),

  // ---- accounts ----
  account: s('account', 'SELECT * FROM portal_accounts WHERE person_id = $1'),
  accountsOfCampaign: s(
    'accounts-of-campaign',
    `SELECT p.person_id, a.status, a.password_set_at, a.locked_until,
            (SELECT max(i.expires_at) FROM portal_invitations i
              WHERE i.person_id = p.person_id AND i.used_at IS NULL AND i.revoked_at IS NULL
                AND i.expires_at > now()) AS invitation_expires_at
       FROM people p LEFT JOIN portal_accounts a ON a.person_id = p.person_id
      WHERE p.campaign_id = $1`,
  ),
  setPassword: s(
    'set-password',
    `INSERT INTO portal_accounts (person_id, password_hash, status, password_set_at)
     VALUES ($1, $2, 'active', now())
     ON CONFLICT (person_id) DO UPDATE SET password_hash = EXCLUDED.password_hash, status = 'active',
       failed_count = 0, locked_until = NULL, password_set_at = now(), revoked_at = NULL, revoked_by = NULL`,
  ),
  failedSignIn: s(
    'failed-sign-in',
    `UPDATE portal_accounts SET
        failed_count = CASE WHEN failed_count + 1 >= $2 THEN 0 ELSE failed_count + 1 END,
        locked_until = CASE WHEN failed_count + 1 >= $2 THEN now() + ($3 || ' milliseconds')::interval
                            ELSE locked_until END
      WHERE person_id = $1 RETURNING failed_count, locked_until`,
  ),
  goodSignIn: s(
    'good-sign-in',
    'UPDATE portal_accounts SET failed_count = 0, locked_until = NULL WHERE person_id = $1',
  ),
  recordSignIn: s(
    'record-sign-in',
    `INSERT INTO portal_sign_ins (person_id, outcome, ip, user_agent, method)
     VALUES ($1, $2, $3, $4, $5)`,
  ),
  /**
   * The account of a person signing in through single sign-on: created (active, without a
   * password) when the person has none yet; its status either way.
   */
  ssoAccount: s(
    'sso-account',
    `INSERT INTO portal_accounts (person_id, status) VALUES ($1, 'active')
     ON CONFLICT (person_id) DO UPDATE SET person_id = EXCLUDED.person_id
     RETURNING status`,
  ),
  revokeAccount: s(
    'revoke-account',
    `INSERT INTO portal_accounts (person_id, status, revoked_at, revoked_by) VALUES ($1, 'revoked', now(), $2)
     ON CONFLICT (person_id) DO UPDATE SET status = 'revoked', revoked_at = now(), revoked_by = $2`,
  ),

  // ---- invitations ----
  insertInvitation: s(
    'insert-invitation',
    `INSERT INTO portal_invitations (token_hash, campaign_id, person_id, created_by, expires_at)
     VALUES ($1, $2, $3, $4, now() + ($5 || ' milliseconds')::interval) RETURNING expires_at`,
  ),
  revokeInvitations: s(
    'revoke-invitations',
    `UPDATE portal_invitations SET revoked_at = now()
      WHERE person_id = $1 AND used_at IS NULL AND revoked_at IS NULL`,
  ),
  openInvitation: s(
    'open-invitation',
    `SELECT i.person_id, i.campaign_id, p.name FROM portal_invitations i
       LEFT JOIN people p ON p.campaign_id = i.campaign_id AND p.person_id = i.person_id
      WHERE i.token_hash = $1 AND i.used_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > now()`,
  ),
  useInvitation: s(
    'use-invitation',
    `UPDATE portal_invitations SET used_at = now()
      WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
      RETURNING person_id, campaign_id`,
  ),

  // ---- sessions ----
  insertSession: s(
    'insert-session',
    `INSERT INTO portal_sessions (token_hash, person_id, csrf_token, expires_at, user_agent, ip, method)
     VALUES ($1, $2, $3, now() + ($4 || ' milliseconds')::interval, $5, $6, $7)`,
  ),
  touchSession: s(
    'touch-session',
    `UPDATE portal_sessions s SET last_seen_at = now()
       FROM portal_accounts a
      WHERE s.token_hash = $1 AND s.ended_at IS NULL AND s.expires_at > now()
        AND s.last_seen_at > now() - ($2 || ' milliseconds')::interval
        AND a.person_id = s.person_id AND a.status = 'active'
      RETURNING s.person_id, s.csrf_token, s.expires_at`,
  ),
  endSession: s(
    'end-session',
    'UPDATE portal_sessions SET ended_at = now() WHERE token_hash = $1 AND ended_at IS NULL',
  ),
  endAllSessions: s(
    'end-all-sessions',
    'UPDATE portal_sessions SET ended_at = now() WHERE person_id = $1 AND ended_at IS NULL',
  ),

  // ---- single sign-on (OpenID Connect) ----
  insertOidcFlow: s(
    'insert-oidc-flow',
    `INSERT INTO portal_oidc_flows (state_hash, code_verifier, nonce, next_path, expires_at)
     VALUES ($1, $2, $3, $4, now() + ($5 || ' milliseconds')::interval)`,
  ),
  /** Takes a flow once: null when unknown, used already or expired. */
  useOidcFlow: s(
    'use-oidc-flow',
    `UPDATE portal_oidc_flows SET used_at = now()
      WHERE state_hash = $1 AND used_at IS NULL AND expires_at > now()
      RETURNING code_verifier, nonce, next_path`,
  ),
  pruneOidcFlows: s(
    'prune-oidc-flows',
    `DELETE FROM portal_oidc_flows WHERE expires_at < now() - interval '1 day'`,
  ),

  // ---- API tokens ----
  insertToken: s(
    'insert-token',
    `INSERT INTO portal_api_tokens (token_id, token_hash, campaign_id, unit_id, person_id, name, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING created_at`,
  ),
  useToken: s(
    'use-token',
    `UPDATE portal_api_tokens SET last_used_at = now()
      WHERE token_hash = $1 AND revoked_at IS NULL
      RETURNING token_id, campaign_id, unit_id, person_id`,
  ),
  tokensOfCampaign: s(
    'tokens-of-campaign',
    `SELECT token_id, unit_id, person_id, name, created_by, created_at, last_used_at, revoked_at
       FROM portal_api_tokens WHERE campaign_id = $1 ORDER BY created_at`,
  ),
  revokeToken: s(
    'revoke-token',
    `UPDATE portal_api_tokens SET revoked_at = now(), revoked_by = $3
      WHERE token_id = $1 AND campaign_id = $2 AND revoked_at IS NULL RETURNING unit_id`,
  ),
  tokenUnit: s(
    'token-unit',
    'SELECT unit_id FROM portal_api_tokens WHERE token_id = $1 AND campaign_id = $2',
  ),

  // ---- tasks (the projection) ----
  task: s(
    'task',
    `SELECT t.*, u.name AS unit_name, u.kind AS unit_kind, p.name AS assignee_name
       FROM tasks t
       LEFT JOIN units u ON u.campaign_id = t.campaign_id AND u.unit_id = t.unit_id
       LEFT JOIN people p ON p.campaign_id = t.campaign_id AND p.person_id = t.assignee
      WHERE t.task_id = $1`,
  ),
  /** How far a task's row has come: the event count its projection has reached. */
  taskVersion: s('task-version', 'SELECT last_seq FROM tasks WHERE task_id = $1'),
  tasksOfCampaign: s(
    'tasks-of-campaign',
    `SELECT t.*, u.name AS unit_name, u.kind AS unit_kind, p.name AS assignee_name
       FROM tasks t
       LEFT JOIN units u ON u.campaign_id = t.campaign_id AND u.unit_id = t.unit_id
       LEFT JOIN people p ON p.campaign_id = t.campaign_id AND p.person_id = t.assignee
      WHERE t.campaign_id = $1 AND ($2::boolean OR t.state IN ('open', 'submitted', 'returned'))
      ORDER BY t.due_at, t.task_id`,
  ),
  taskEvents: s(
    'task-events',
    'SELECT seq, at, type, actor, detail, recipients FROM task_events WHERE task_id = $1 ORDER BY seq',
  ),
  taskSubmissions: s(
    'task-submissions',
    'SELECT seq, at, by_person, note, data, evidence FROM submissions WHERE task_id = $1 ORDER BY seq DESC LIMIT 2',
  ),
  unitPerformance: s(
    'unit-performance',
    `SELECT v.*, u.name AS unit_name FROM unit_performance v
       LEFT JOIN units u ON u.campaign_id = v.campaign_id AND u.unit_id = v.unit_id
      WHERE v.campaign_id = $1 ORDER BY v.unit_id`,
  ),

  // ---- evidence ----
  blobExists: s('blob-exists', 'SELECT stored_at FROM evidence_blobs WHERE sha256 = $1'),
  insertBlob: s(
    'insert-blob',
    `INSERT INTO evidence_blobs (sha256, size, mime, content, stored_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (sha256) DO NOTHING`,
  ),
  insertEvidence: s(
    'insert-evidence',
    `INSERT INTO evidence_files (file_id, task_id, campaign_id, unit_id, name, sha256, size, mime, uploaded_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING uploaded_at`,
  ),
  evidenceOfTask: s(
    'evidence-of-task',
    `SELECT file_id, task_id, name, sha256, size, mime, uploaded_by, uploaded_at FROM evidence_files
      WHERE task_id = $1 AND removed_at IS NULL ORDER BY uploaded_at, file_id`,
  ),
  evidenceFile: s(
    'evidence-file',
    `SELECT f.file_id, f.task_id, f.name, f.sha256, f.size, f.mime, b.content, b.stored_at
       FROM evidence_files f JOIN evidence_blobs b USING (sha256)
      WHERE f.file_id = $1 AND f.removed_at IS NULL`,
  ),
} as const;

/** Runs one named statement. */
export function run<R extends pg.QueryResultRow = pg.QueryResultRow>(
  db: pg.Pool | pg.PoolClient,
  q: Statement,
  values: unknown[] = [],
): Promise<pg.QueryResult<R>> {
  return db.query<R>({ name: q.name, text: q.text, values });
}
