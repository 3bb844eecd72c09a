// The portal's configuration, read once from the environment and checked with zod, beside the
// worker's (Temporal and PostgreSQL settings are shared: worker/config.ts). Every setting has a
// local default.
import { join } from 'node:path';
import { z } from 'zod';
import { config as sharedConfig, ConfigError, type Config } from '../worker/config.ts';
import { secretsFromEnv } from '../worker/secrets.ts';

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
  /**
   * Single sign-on through the province's unified identity service (统一身份认证), an OpenID
   * Connect provider: its issuer URL turns it on. https, or http to this machine only (tests).
   */
  PORTAL_OIDC_ISSUER: z
    .string()
    .regex(
      /^(https:\/\/[^\s/]+|http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?)(\/[^\s]*)?$/,
      'must be an https:// address (http:// only to 127.0.0.1 or localhost)',
    )
    .optional(),
  /** The portal's client id at the identity service. */
  PORTAL_OIDC_CLIENT_ID: z.string().min(1).max(200).optional(),
  /**
   * The name of the client secret among the secrets (CAMPAIGN_SECRET_<NAME> or a line of
   * CAMPAIGN_SECRETS_FILE), as a channel's secretRef names its key. Unset: a public client
   * (PKCE only, token endpoint authentication `none`).
   */
  PORTAL_OIDC_CLIENT_SECRET_REF: z
    .string()
    .regex(
      /^[A-Z][A-Z0-9_]{0,62}$/,
      'must be a secret name in capitals, digits and _ (for example PORTAL_OIDC)',
    )
    .optional(),
  /** The claim (of the ID token, else of the userinfo answer) that holds the person id. */
  PORTAL_OIDC_PERSON_CLAIM: z
    .string()
    .regex(/^[A-Za-z_][\w:./-]{0,99}$/, 'must be a claim name such as preferred_username or sub')
    .default('preferred_username'),
  /** Scopes asked for; openid is always among them. */
  PORTAL_OIDC_SCOPES: z
    .string()
    .regex(
      /^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/,
      'must be scopes separated by spaces',
    )
    .default('openid profile'),
  /** The button's text on the sign-in page (Chinese, and English when the page is). */
  PORTAL_OIDC_LABEL: z.string().trim().min(1).max(60).optional(),
  PORTAL_OIDC_LABEL_EN: z.string().trim().min(1).max(60).optional(),
});

/** Single sign-on through an OpenID Connect provider (authorization code flow with PKCE). */
export interface OidcConfig {
  issuer: string;
  clientId: string;
  /** Resolved from PORTAL_OIDC_CLIENT_SECRET_REF; absent for a public client. */
  clientSecret?: string | undefined;
  personClaim: string;
  scopes: string;
  label: { zh: string; en: string };
}

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
  /** Absent when single sign-on is not configured: the sign-in page shows no button. */
  oidc?: OidcConfig | undefined;
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
  const oidc = readOidc(env, e);
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
    oidc,
    shared,
  };
}

/** The single sign-on settings, checked together; undefined when PORTAL_OIDC_ISSUER is unset. */
function readOidc(env: NodeJS.ProcessEnv, e: z.infer<typeof envSchema>): OidcConfig | undefined {
  const problems: string[] = [];
  // A secret is named, never written into the portal's settings (as a definition names its
  // channels' secrets with secretRef).
  if (env.PORTAL_OIDC_CLIENT_SECRET)
    problems.push(
      'PORTAL_OIDC_CLIENT_SECRET: the client secret is not written in a setting: keep it among the secrets (CAMPAIGN_SECRET_<NAME> or CAMPAIGN_SECRETS_FILE) and name it with PORTAL_OIDC_CLIENT_SECRET_REF=NAME',
    );
  if (!e.PORTAL_OIDC_ISSUER) {
    const stray = Object.keys(env).filter(
      (k) => k.startsWith('PORTAL_OIDC_') && k !== 'PORTAL_OIDC_CLIENT_SECRET' && env[k],
    );
    if (stray.length)
      problems.push(
        `${stray.join(', ')} set without PORTAL_OIDC_ISSUER: set the identity service's issuer URL to turn single sign-on on`,
      );
    if (problems.length) throw new ConfigError(problems);
    return undefined;
  }
  if (!e.PORTAL_OIDC_CLIENT_ID)
    problems.push(
      "PORTAL_OIDC_CLIENT_ID: required with PORTAL_OIDC_ISSUER (the portal's client id)",
    );
  let clientSecret: string | undefined;
  if (e.PORTAL_OIDC_CLIENT_SECRET_REF) {
    const name = e.PORTAL_OIDC_CLIENT_SECRET_REF;
    clientSecret = secretsFromEnv(env)(name);
    if (!clientSecret)
      problems.push(
        `PORTAL_OIDC_CLIENT_SECRET_REF=${name}: no such secret: set CAMPAIGN_SECRET_${name} or a line ${name}=… in CAMPAIGN_SECRETS_FILE`,
      );
  }
  if (problems.length) throw new ConfigError(problems);
  const scopes = e.PORTAL_OIDC_SCOPES.split(' ');
  return {
    issuer: e.PORTAL_OIDC_ISSUER,
    clientId: e.PORTAL_OIDC_CLIENT_ID!,
    clientSecret,
    personClaim: e.PORTAL_OIDC_PERSON_CLAIM,
    scopes: (scopes.includes('openid') ? scopes : ['openid', ...scopes]).join(' '),
    label: {
      zh: e.PORTAL_OIDC_LABEL ?? '统一身份认证登录',
      en: e.PORTAL_OIDC_LABEL_EN ?? 'Sign in with the unified identity service',
    },
  };
}
