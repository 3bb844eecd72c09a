// Accounts, passwords and sessions. Passwords are hashed with argon2id (@node-rs/argon2);
// invitation and session tokens are random and stored only as their SHA-256; sessions live in
// PostgreSQL with an idle and an absolute expiry; repeated failed sign-ins slow down and then
// lock the account for a while, and every attempt is recorded.
import { createHash, randomBytes } from 'node:crypto';
import { hash, verify, type Algorithm } from '@node-rs/argon2';
import type pg from 'pg';
import { withTransaction } from '../db/pool.ts';
import { Q, run } from '../db/portal.ts';
import type { PortalConfig } from './config.ts';

export const newToken = (): string => randomBytes(32).toString('base64url');
export const hashToken = (token: string): string =>
  createHash('sha256').update(token).digest('hex');

// Algorithm.Argon2id (a const enum, which isolated modules cannot read).
const ARGON2 = { algorithm: 2 as Algorithm, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2);
}

/** What a password must be; the problem in the person's language, or null. */
export function passwordProblem(
  password: string,
  personId: string,
  lang: 'zh' | 'en',
): string | null {
  if (password.length < 10)
    return lang === 'zh' ? '密码至少 10 个字符' : 'the password needs at least 10 characters';
  if (password.length > 200)
    return lang === 'zh' ? '密码最多 200 个字符' : 'the password may have at most 200 characters';
  if (password.toLowerCase().includes(personId.toLowerCase()))
    return lang === 'zh' ? '密码不能包含账号名' : 'the password may not contain the account name';
  return null;
}

export interface SessionMeta {
  ip?: string | undefined;
  userAgent?: string | undefined;
}

export interface Session {
  personId: string;
  csrf: string;
  token: string;
}

/** How a person signed in: a password, or the unified identity service (OpenID Connect). */
export type SignInMethod = 'password' | 'oidc';

export async function createSession(
  pool: pg.Pool,
  cfg: PortalConfig,
  personId: string,
  meta: SessionMeta,
  method: SignInMethod = 'password',
): Promise<Session> {
  const token = newToken();
  const csrf = newToken();
  await run(pool, Q.insertSession, [
    hashToken(token),
    personId,
    csrf,
    String(cfg.sessionMaxMs),
    meta.userAgent?.slice(0, 300) ?? null,
    meta.ip ?? null,
    method,
  ]);
  return { personId, csrf, token };
}

/** Records a sign-in attempt in portal_sign_ins. */
export async function recordSignIn(
  pool: pg.Pool,
  personId: string,
  outcome: 'ok' | 'bad-password' | 'locked' | 'revoked' | 'no-account',
  meta: SessionMeta,
  method: SignInMethod,
): Promise<void> {
  await run(pool, Q.recordSignIn, [
    personId.slice(0, 100),
    outcome,
    meta.ip ?? null,
    meta.userAgent?.slice(0, 300) ?? null,
    method,
  ]);
}

/** The live session of a cookie's token (touching it), or null when unknown, ended or expired. */
export async function loadSession(
  pool: pg.Pool,
  cfg: PortalConfig,
  token: string | undefined,
): Promise<Session | null> {
  if (!token || token.length > 100) return null;
  const r = await run<{ person_id: string; csrf_token: string }>(pool, Q.touchSession, [
    hashToken(token),
    String(cfg.sessionIdleMs),
  ]);
  const row = r.rows[0];
  return row ? { personId: row.person_id, csrf: row.csrf_token, token } : null;
}

export async function endSession(pool: pg.Pool, token: string): Promise<void> {
  await run(pool, Q.endSession, [hashToken(token)]);
}

export async function endAllSessions(pool: pg.Pool, personId: string): Promise<void> {
  await run(pool, Q.endAllSessions, [personId]);
}

export type SignInOutcome =
  | { ok: true; personId: string }
  | { ok: false; reason: 'bad-credentials' | 'locked'; lockedUntil?: Date };

// A hash to verify against when the account does not exist, so that the answer takes as long.
const DUMMY = hashPassword(newToken());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function signIn(
  pool: pg.Pool,
  cfg: PortalConfig,
  personId: string,
  password: string,
  meta: SessionMeta,
): Promise<SignInOutcome> {
  const record = (outcome: Parameters<typeof recordSignIn>[2]) =>
    recordSignIn(pool, personId, outcome, meta, 'password');
  const a = (
    await run<{
      password_hash: string | null;
      status: string;
      failed_count: number;
      locked_until: Date | null;
    }>(pool, Q.account, [personId])
  ).rows[0];
  if (!a || !a.password_hash) {
    await verify(await DUMMY, password).catch(() => false);
    await record('no-account');
    await sleep(cfg.signInDelayMs);
    return { ok: false, reason: 'bad-credentials' };
  }
  if (a.status !== 'active') {
    await record('revoked');
    await sleep(cfg.signInDelayMs);
    return { ok: false, reason: 'bad-credentials' };
  }
  if (a.locked_until && a.locked_until.getTime() > Date.now()) {
    await record('locked');
    return { ok: false, reason: 'locked', lockedUntil: a.locked_until };
  }
  const good = await verify(a.password_hash, password).catch(() => false);
  if (good) {
    await run(pool, Q.goodSignIn, [personId]);
    await record('ok');
    return { ok: true, personId };
  }
  const r = await run<{ locked_until: Date | null }>(pool, Q.failedSignIn, [
    personId,
    cfg.lockoutAfter,
    String(cfg.lockoutForMs),
  ]);
  await record('bad-password');
  // Each failure in a row waits longer before it is answered.
  await sleep(Math.min(5000, cfg.signInDelayMs * (a.failed_count + 1)));
  const lockedUntil = r.rows[0]?.locked_until;
  if (lockedUntil && lockedUntil.getTime() > Date.now())
    return { ok: false, reason: 'locked', lockedUntil };
  return { ok: false, reason: 'bad-credentials' };
}

/** Opens an invitation: the invited person, or null when unknown, used, revoked or expired. */
export async function openInvitation(
  pool: pg.Pool,
  token: string,
): Promise<{ personId: string; campaignId: string; name: string | null } | null> {
  if (!token || token.length > 100) return null;
  const r = await run<{ person_id: string; campaign_id: string; name: string | null }>(
    pool,
    Q.openInvitation,
    [hashToken(token)],
  );
  const row = r.rows[0];
  return row ? { personId: row.person_id, campaignId: row.campaign_id, name: row.name } : null;
}

/**
 * Accepts an invitation once: sets the person's password (argon2id), reactivates the account,
 * ends every earlier session of the person. Null when the invitation cannot be used (any more).
 */
export async function acceptInvitation(
  pool: pg.Pool,
  token: string,
  password: string,
): Promise<{ personId: string } | null> {
  const passwordHash = await hashPassword(password);
  return withTransaction(pool, async (client) => {
    const used = await run<{ person_id: string }>(client, Q.useInvitation, [hashToken(token)]);
    const personId = used.rows[0]?.person_id;
    if (!personId) return null;
    await run(client, Q.setPassword, [personId, passwordHash]);
    await run(client, Q.endAllSessions, [personId]);
    return { personId };
  });
}
