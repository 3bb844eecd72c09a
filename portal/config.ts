// The portal's configuration, read once from the environment and checked with zod, beside the
// worker's (Temporal and PostgreSQL settings are shared: worker/config.ts). Every setting has a
// local default.
import { join } from 'node:path';
import { z } from 'zod';
import { config as sharedConfig, ConfigError, type Config } from '../worker/config.ts';

const port = z.coerce.number().int().min(1).max(65535);
const DURATION = /^(\d+)(ms|s|m|h|d)$/;
const duration = z.string().regex(DURATION, 'must be a duration such as 90s, 30m, 12h or 7d');
const SIZE = /^(\d+)(B|KB|MB)$/i;
const size = z.string().regex(SIZE, 'must be a size such as 512KB or 20MB');

const envSchema = z.object({
  PORTAL_PORT: port.default(8080),
  /** Interface to listen on; 0.0.0.0 in a container. */
  PORTAL_HOST: z.string().min(1).default('127.0.0.1'),
  /** The address people open (behind the county's TLS proxy): used in invitation links. */
  PORTAL_PUBLIC_URL: z
    .string()
    .regex(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, 'must be an http:// or https:// address')
    .optional(),
  /** Secure cookies: auto = when PORTAL_PUBLIC_URL is https. */
  PORTAL_SECURE_COOKIES: z.enum(['auto', 'true', 'false']).default('auto'),
  /** Trust X-Forwarded-* from the proxy in front (its address), or false. */
  PORTAL_TRUST_PROXY: z.string().min(1).default('false'),
  PORTAL_SESSION_IDLE: duration.default('30m'),
  PORTAL_SESSION_MAX: duration.default('12h'),
  PORTAL_INVITE_TTL: duration.default('7d'),
  PORTAL_LOCKOUT_AFTER: z.coerce.number().int().min(1).max(100).default(5),
  PORTAL_LOCKOUT_FOR: duration.default('15m'),
  /** Delay added to the n-th failed sign-in in a row: n × this, at most 5 s. */
  PORTAL_SIGNIN_DELAY: duration.default('500ms'),
  PORTAL_UPLOAD_LIMIT: size.default('20MB'),
  PORTAL_EVIDENCE_STORE: z.enum(['db', 'dir']).default('db'),
  PORTAL_EVIDENCE_DIR: z.string().min(1).optional(),
});

export interface PortalConfig {
  port: number;
  host: string;
  publicUrl: string;
  secureCookies: boolean;
  trustProxy: boolean | string;
  sessionIdleMs: number;
  sessionMaxMs: number;
  inviteTtlMs: number;
  lockoutAfter: number;
  lockoutForMs: number;
  signInDelayMs: number;
  uploadLimitBytes: number;
  evidenceStore: 'db' | 'dir';
  evidenceDir: string;
  shared: Config;
}

export function parseDuration(text: string): number {
  const m = DURATION.exec(text);
  if (!m) throw new Error(`not a duration: ${text}`);
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms'];
  return n * unit;
}

function parseSize(text: string): number {
  const m = SIZE.exec(text)!;
  return Number(m[1]) * { b: 1, kb: 1024, mb: 1024 * 1024 }[m[2]!.toLowerCase() as 'b'];
}

export function readPortalConfig(
  env: NodeJS.ProcessEnv = process.env,
  shared: Config = sharedConfig(),
): PortalConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map(
        (i) => `${i.path.join('.')}=${JSON.stringify(env[String(i.path[0])])}: ${i.message}`,
      ),
    );
  }
  const e = parsed.data;
  const publicUrl = (e.PORTAL_PUBLIC_URL ?? `http://localhost:${e.PORTAL_PORT}`).replace(/\/$/, '');
  const trust = e.PORTAL_TRUST_PROXY;
  return {
    port: e.PORTAL_PORT,
    host: e.PORTAL_HOST,
    publicUrl,
    secureCookies:
      e.PORTAL_SECURE_COOKIES === 'auto'
        ? publicUrl.startsWith('https://')
        : e.PORTAL_SECURE_COOKIES === 'true',
    trustProxy: trust === 'false' ? false : trust === 'true' ? true : trust,
    sessionIdleMs: parseDuration(e.PORTAL_SESSION_IDLE),
    sessionMaxMs: parseDuration(e.PORTAL_SESSION_MAX),
    inviteTtlMs: parseDuration(e.PORTAL_INVITE_TTL),
    lockoutAfter: e.PORTAL_LOCKOUT_AFTER,
    lockoutForMs: parseDuration(e.PORTAL_LOCKOUT_FOR),
    signInDelayMs: parseDuration(e.PORTAL_SIGNIN_DELAY),
    uploadLimitBytes: parseSize(e.PORTAL_UPLOAD_LIMIT),
    evidenceStore: e.PORTAL_EVIDENCE_STORE,
    evidenceDir: e.PORTAL_EVIDENCE_DIR ?? join(shared.dataDir ?? '.data', 'evidence'),
    shared,
  };
}
