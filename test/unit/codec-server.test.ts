// The codec endpoint's doors: a bearer token for programs, and for the Temporal UI's browser a
// session cookie from its sign-in form, counted only from an admitted UI origin, holding no
// token, ending with its expiry or its token.
import { afterEach, describe, expect, it } from 'vitest';
import { EncryptionCodec, newCodecKey, parseCodecKeys } from '../../worker/codec.ts';
import { CODEC_SESSION_COOKIE, sessionValue, startCodecServer } from '../../worker/codec-server.ts';

const UI = 'http://localhost:8233';
const TOKEN = 'token-of-the-auditors';
const codec = new EncryptionCodec(parseCodecKeys(newCodecKey('k1'), 'test'));
const b64 = (s: string) => Buffer.from(s).toString('base64');
const body = JSON.stringify({
  payloads: [{ metadata: { encoding: b64('json/plain') }, data: b64('"x"') }],
});

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.map((c) => c()));
  closers = [];
});

async function server(tokens = [TOKEN], clock = { ms: Date.UTC(2026, 9, 12, 2) }) {
  const s = await startCodecServer({
    codec,
    tokens,
    corsOrigins: [UI],
    port: 0,
    sessionSeconds: 3600,
    now: () => clock.ms,
  });
  closers.push(s.close);
  return { ...s, clock };
}

const signIn = (url: string, token: string, headers: Record<string, string> = {}) =>
  fetch(`${url}/codec/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ token }).toString(),
  });

const cookieOf = (res: Response) => {
  const set = res.headers.get('set-cookie') ?? '';
  return { set, pair: set.split(';')[0]! };
};

const encode = (url: string, headers: Record<string, string>) =>
  fetch(`${url}/codec/encode`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });

describe('the codec endpoint', () => {
  it('signs a browser in with a configured token: an HTTP-only, SameSite=Strict cookie without the token', async () => {
    const s = await server();
    const form = await fetch(`${s.url}/codec/sign-in`);
    expect(form.status).toBe(200);
    expect(form.headers.get('x-frame-options')).toBe('DENY');
    expect(await form.text()).toContain('name="token"');

    const wrong = await signIn(s.url, 'guess');
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();

    const ok = await signIn(s.url, TOKEN);
    expect(ok.status).toBe(200);
    const { set, pair } = cookieOf(ok);
    expect(set).toMatch(
      new RegExp(`^${CODEC_SESSION_COOKIE}=v1\\.\\d+\\.[\\w-]{43}; Max-Age=3600`),
    );
    expect(set).toContain('HttpOnly');
    expect(set).toContain('SameSite=Strict');
    expect(set).not.toContain('Secure');
    expect(set).not.toContain(TOKEN);
    expect(
      await (await fetch(`${s.url}/codec/sign-in`, { headers: { cookie: pair } })).text(),
    ).toContain('Signed in');

    // Behind the county's TLS proxy the cookie is for https only.
    const viaTls = await signIn(s.url, TOKEN, { 'x-forwarded-proto': 'https' });
    expect(cookieOf(viaTls).set).toContain('; Secure');

    // Another site's page cannot sign the browser in (with its own token) nor out.
    const foreign = { origin: 'http://elsewhere.example' };
    const planted = await signIn(s.url, TOKEN, foreign);
    expect(planted.status).toBe(403);
    expect(planted.headers.get('set-cookie')).toBeNull();
    expect((await signIn(s.url, TOKEN, { origin: s.url })).status).toBe(200);
    const kicked = await fetch(`${s.url}/codec/sign-out`, {
      method: 'POST',
      headers: { cookie: pair, ...foreign },
    });
    expect(kicked.status).toBe(403);
    expect(kicked.headers.get('set-cookie')).toBeNull();

    const out = await fetch(`${s.url}/codec/sign-out`, {
      method: 'POST',
      headers: { cookie: pair },
    });
    expect(cookieOf(out).set).toMatch(new RegExp(`^${CODEC_SESSION_COOKIE}=; Max-Age=0`));
  });

  it("answers the UI's origin with a session cookie, and no other origin, no forged or expired cookie, no withdrawn token", async () => {
    const s = await server();
    const { pair } = cookieOf(await signIn(s.url, TOKEN));
    const fromUi = { origin: UI, cookie: pair };

    const ok = await encode(s.url, fromUi);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(UI);
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    // Another site's page (or no browser at all) cannot spend the cookie.
    expect((await encode(s.url, { origin: 'http://elsewhere.example', cookie: pair })).status).toBe(
      401,
    );
    expect((await encode(s.url, { cookie: pair })).status).toBe(401);
    // A cookie made up, or made with a token not configured, is refused.
    const expires = Math.floor(s.clock.ms / 1000) + 600;
    const forged = `${CODEC_SESSION_COOKIE}=${sessionValue('not-a-token', expires)}`;
    expect((await encode(s.url, { origin: UI, cookie: forged })).status).toBe(401);
    expect(
      (await encode(s.url, { origin: UI, cookie: `${CODEC_SESSION_COOKIE}=v1.9999999999.x` }))
        .status,
    ).toBe(401);
    // The bearer token still works for programs.
    expect((await encode(s.url, { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    expect((await encode(s.url, { authorization: 'Bearer guess' })).status).toBe(401);

    // An hour later the sign-in has ended.
    s.clock.ms += 3600_000;
    expect((await encode(s.url, fromUi)).status).toBe(401);

    // A token withdrawn from the configuration takes its sessions with it.
    const other = await server(['another-token']);
    expect((await encode(other.url, fromUi)).status).toBe(401);
  });
});
