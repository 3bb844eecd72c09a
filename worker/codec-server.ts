// The codec endpoint for the Temporal UI and `temporal --codec-endpoint`: Temporal's remote
// codec protocol, POST /codec/decode and POST /codec/encode with `{ payloads: [...] }` (metadata
// and data in base64, as protobuf JSON has them). Only callers with a configured token
// (CAMPAIGN_CODEC_TOKENS) are answered; CORS admits the UI's origin (CAMPAIGN_CODEC_CORS_ORIGINS),
// whose browser calls the endpoint directly.
//
// Two ways to show the token. Programs (`temporal --codec-auth`) send `Authorization: Bearer …`.
// The Temporal UI cannot: its Codec Server settings have no token field, and "Pass the user
// access token" sends the UI's own OIDC sign-in token (to an https endpoint only). So a person
// signs in here once (GET /codec/sign-in, a form for the token) and gets an HTTP-only,
// SameSite=Strict session cookie; the UI, configured with `includeCredentials`, makes the
// browser send it. The cookie holds no token: an expiry and an HMAC of it keyed by the token,
// so it dies with its expiry or when its token leaves CAMPAIGN_CODEC_TOKENS, and any replica of
// the codec server checks it. It counts only on a request whose Origin is an admitted UI origin,
// so that another site's page cannot spend it (SameSite keeps it off cross-site requests too).
// The sign-in form is accepted only from this server's own page or an admitted UI origin.
//
//   CAMPAIGN_CODEC_KEYS=… CAMPAIGN_CODEC_TOKENS=t1 npm run codec-server   (127.0.0.1:8888)
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload } from '@temporalio/common';
import type { EncryptionCodec } from './codec.ts';

export interface CodecServerOptions {
  codec: EncryptionCodec;
  /** Bearer tokens allowed to use the endpoint. */
  tokens: string[];
  /** Origins whose pages may call the endpoint (the Temporal UI's, e.g. http://localhost:8233). */
  corsOrigins: string[];
  host?: string;
  port?: number;
  /** How long a browser's sign-in lasts (seconds; default 8 hours). */
  sessionSeconds?: number;
  /** The clock the sessions' expiry is read with (milliseconds since the epoch). */
  now?: () => number;
}

/** The session cookie of a browser signed in at /codec/sign-in. */
export const CODEC_SESSION_COOKIE = 'campaign_codec_session';
const DEFAULT_SESSION_SECONDS = 8 * 3600;

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const MAX_BODY = 8 * 1024 * 1024;

function fromJson(p: JsonPayload): Payload {
  const metadata: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(p.metadata ?? {}))
    metadata[k] = new Uint8Array(Buffer.from(v, 'base64'));
  return { metadata, data: new Uint8Array(Buffer.from(p.data ?? '', 'base64')) };
}

function toJson(p: Payload): JsonPayload {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.metadata ?? {}))
    metadata[k] = Buffer.from(v).toString('base64');
  return { metadata, data: Buffer.from(p.data ?? new Uint8Array()).toString('base64') };
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function isToken(given: string, tokens: string[]): boolean {
  // Every token compared, so that the time taken does not tell which one matched.
  return tokens.map((t) => sameSecret(t, given)).some(Boolean);
}

function bearerAllowed(header: string | undefined, tokens: string[]): boolean {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return m !== null && isToken(m[1]!, tokens);
}

const sessionMac = (token: string, expires: number) =>
  createHmac('sha256', token).update(`campaign-codec-session v1 ${expires}`).digest('base64url');

/** A session cookie's value: `v1.<expiry in epoch seconds>.<HMAC of it keyed by the token>`. */
export function sessionValue(token: string, expires: number): string {
  return `v1.${expires}.${sessionMac(token, expires)}`;
}

function sessionAllowed(value: string | undefined, tokens: string[], nowMs: number): boolean {
  const m = /^v1\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(value ?? '');
  if (!m) return false;
  const expires = Number(m[1]);
  if (expires * 1000 <= nowMs) return false;
  return tokens.map((t) => sameSecret(sessionMac(t, expires), m[2]!)).some(Boolean);
}

function cookieNamed(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

function signInPage(message: string, signedIn: boolean): string {
  const form = signedIn
    ? `<form method="post" action="sign-out"><button type="submit">退出 Sign out</button></form>`
    : `<form method="post" action="sign-in">
<label>令牌 Token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
<button type="submit">登录 Sign in</button>
</form>`;
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>Codec endpoint sign-in</title>
<style>body{font:16px system-ui,sans-serif;margin:3em auto;max-width:40em}input{width:24em}</style>
</head><body>
<h1>载荷解密 Codec endpoint</h1>
<p id="status">${escapeHtml(message)}</p>
${form}
</body></html>
`;
}

export async function startCodecServer(
  opts: CodecServerOptions,
): Promise<{ url: string; close: () => Promise<void> }> {
  const now = opts.now ?? Date.now;
  const sessionSeconds = opts.sessionSeconds ?? DEFAULT_SESSION_SECONDS;
  const server = http.createServer((req, res) => {
    const origin = req.headers.origin;
    const admitted = origin !== undefined && opts.corsOrigins.includes(origin);
    if (admitted) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-credentials', 'true');
      res.setHeader('access-control-allow-methods', 'POST, OPTIONS');
      res.setHeader(
        'access-control-allow-headers',
        'content-type, x-namespace, authorization, caller-type',
      );
      res.setHeader('access-control-max-age', '600');
      res.setHeader('vary', 'origin');
    }
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    // The UI's browser asks first (CORS preflight): answered for a listed origin only, so that
    // a page of any other origin is told no before it sends anything.
    if (req.method === 'OPTIONS') {
      if (origin !== undefined && !admitted)
        return send(403, {
          message: `origin ${origin} is not admitted (CAMPAIGN_CODEC_CORS_ORIGINS)`,
        });
      res.writeHead(204);
      res.end();
      return;
    }
    const path = (req.url ?? '').split('?')[0];
    if (path === '/codec/sign-in' || path === '/codec/sign-out')
      return signIn(req, res, path, opts, now, sessionSeconds);
    if (req.method !== 'POST' || (path !== '/codec/decode' && path !== '/codec/encode'))
      return send(404, {
        message: 'POST /codec/decode or /codec/encode; a browser signs in at /codec/sign-in',
      });
    const bySession =
      admitted &&
      sessionAllowed(cookieNamed(req.headers.cookie, CODEC_SESSION_COOKIE), opts.tokens, now());
    if (!bySession && !bearerAllowed(req.headers.authorization, opts.tokens))
      return send(401, {
        message:
          'a configured token is needed: Authorization: Bearer …, or sign in at /codec/sign-in ' +
          'and call from an admitted UI origin',
      });
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY) return send(413, { message: `at most ${MAX_BODY} bytes` });
      void (async () => {
        let payloads: Payload[];
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            payloads?: JsonPayload[];
          };
          if (!Array.isArray(body.payloads)) throw new Error('payloads must be an array');
          payloads = body.payloads.map(fromJson);
        } catch (e) {
          return send(400, { message: `not a codec request: ${(e as Error).message}` });
        }
        try {
          const out =
            path === '/codec/decode'
              ? await opts.codec.decode(payloads)
              : await opts.codec.encode(payloads);
          send(200, { payloads: out.map(toJson) });
        } catch (e) {
          send(400, { message: (e as Error).message });
        }
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8888, opts.host ?? '127.0.0.1', () => resolve());
  });
  const a = server.address() as AddressInfo;
  return {
    url: `http://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The browser's sign-in: a form for the token, its session cookie, and the sign-out. */
function signIn(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  path: string,
  opts: Pick<CodecServerOptions, 'tokens' | 'corsOrigins'>,
  now: () => number,
  sessionSeconds: number,
): void {
  const tokens = opts.tokens;
  const page = (status: number, message: string, signedIn: boolean, cookie?: string) => {
    res.writeHead(status, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy':
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
      'x-frame-options': 'DENY',
      ...(cookie ? { 'set-cookie': cookie } : {}),
    });
    res.end(signInPage(message, signedIn));
  };
  // Behind the county's TLS proxy the cookie is sent over https only. No Path: the browser
  // scopes it to the directory of the sign-in page (…/codec), wherever a proxy mounts it.
  const proto = String(req.headers['x-forwarded-proto'] ?? '')
    .split(',')[0]!
    .trim();
  const secure =
    (req.socket as { encrypted?: boolean }).encrypted === true || proto === 'https'
      ? '; Secure'
      : '';
  const cookie = (value: string, maxAge: number) =>
    `${CODEC_SESSION_COOKIE}=${value}; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure}`;
  const current = sessionAllowed(
    cookieNamed(req.headers.cookie, CODEC_SESSION_COOKIE),
    tokens,
    now(),
  );
  if (req.method === 'GET' && path === '/codec/sign-in')
    return current
      ? page(200, '已登录：Temporal UI 可显示解密后的载荷。Signed in.', true)
      : page(200, '输入解密令牌。Enter a codec token to read payloads in the Temporal UI.', false);
  if (req.method !== 'POST') return page(405, 'GET or POST only.', current);
  // The form posts from this server's own page (or an admitted UI's): another site's page can
  // neither sign a browser in with a token of its choosing nor sign it out.
  const origin = req.headers.origin;
  const host = String(req.headers['x-forwarded-host'] ?? req.headers.host ?? '')
    .split(',')[0]!
    .trim();
  const own = `${secure ? 'https' : 'http'}://${host}`;
  if (origin !== undefined && origin !== own && !opts.corsOrigins.includes(origin))
    return page(403, `A form from ${origin} is not accepted here.`, current);
  if (path === '/codec/sign-out') return page(200, '已退出。Signed out.', false, cookie('', 0));
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size <= 4096) chunks.push(c);
  });
  req.on('end', () => {
    if (size > 4096) return page(413, 'The form is too large.', false);
    const token = new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('token') ?? '';
    if (!token || !isToken(token, tokens))
      return page(401, '令牌无效。That is not a configured codec token.', false);
    const expires = Math.floor(now() / 1000) + sessionSeconds;
    page(
      200,
      `已登录，有效至 ${new Date(expires * 1000).toISOString()}。Signed in; reload the Temporal UI.`,
      true,
      cookie(sessionValue(token, expires), sessionSeconds),
    );
  });
}
