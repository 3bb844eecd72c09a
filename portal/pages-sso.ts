// Single sign-on pages: GET /sso/start sends the browser to the unified identity service,
// GET /sso/callback takes it back. The claim's value must be a person on a campaign's roster
// whose account is not revoked (no invitation needed: the identity service vouches for the
// person); the session is then the one a password sign-in opens, recorded with method 'oidc'.
// Every refusal is a page in the person's language, never a stack trace.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Q, run } from '../db/portal.ts';
import { recordSignIn, type SignInMethod } from './auth.ts';
import { chrome } from './app.ts';
import { html, page, t } from './html.ts';
import { FLOW_TTL_MS, OidcSignOn, SsoFailure } from './oidc.ts';
import type { PortalDeps } from './service.ts';

export type StartSession = (
  req: FastifyRequest,
  reply: FastifyReply,
  personId: string,
  method: SignInMethod,
) => Promise<void>;

/** The cookie that binds a sign-in in flight to the browser that started it. */
export const ssoCookieName = (secure: boolean) => (secure ? '__Host-portal_sso' : 'portal_sso');

const same = (a: string, b: string): boolean =>
  a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export function registerSsoPages(
  app: FastifyInstance,
  deps: PortalDeps,
  startSession: StartSession,
  safeNext: (next: string | undefined) => string,
): void {
  const { cfg, pool } = deps;
  if (!cfg.oidc) return;
  const sso = new OidcSignOn(cfg.oidc, cfg);
  const cookieName = ssoCookieName(cfg.secureCookies);
  const meta = (req: FastifyRequest) => ({ ip: req.ip, userAgent: req.headers['user-agent'] });

  const refuse = (
    req: FastifyRequest,
    reply: FastifyReply,
    status: number,
    zh: string,
    en: string,
  ) =>
    reply
      .code(status)
      .type('text/html; charset=utf-8')
      .send(
        page(
          // The language switch leads to the sign-in page, not back to the callback's address.
          {
            ...chrome(req, t(req.lang, '统一身份认证登录未成功', 'Single sign-on did not succeed')),
            path: '/sign-in',
          },
          html`<div class="notice bad" role="alert" data-testid="sso-refused">
              ${t(req.lang, zh, en)}
            </div>
            <p>
              <a href="/sign-in">${t(req.lang, '返回登录页', 'Back to the sign-in page')}</a>
            </p>`,
        ),
      );

  app.get('/sso/start', { config: { access: 'public' } }, async (req, reply) => {
    if (req.session) return reply.redirect('/tasks');
    const q = req.query as { next?: unknown };
    const next = safeNext(typeof q.next === 'string' ? q.next : undefined);
    let started: { state: string; url: string };
    try {
      started = await sso.start(pool, next);
    } catch (e) {
      if (!(e instanceof SsoFailure)) throw e;
      req.log.warn(e.message);
      return refuse(
        req,
        reply,
        503,
        '暂时无法连接统一身份认证服务，请稍后再试，或使用账号密码登录。',
        'The unified identity service cannot be reached right now: try again shortly, or sign in with your password.',
      );
    }
    // SameSite=Lax: the identity service sends the browser back with a top-level GET.
    reply.setCookie(cookieName, started.state, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: cfg.secureCookies,
      maxAge: Math.floor(FLOW_TTL_MS / 1000),
    });
    return reply.code(303).redirect(started.url);
  });

  app.get('/sso/callback', { config: { access: 'public' } }, async (req, reply) => {
    const q = req.query as { state?: unknown };
    const state = typeof q.state === 'string' ? q.state : '';
    const bound = req.cookies[cookieName] ?? '';
    // Whatever happens, this browser's sign-in in flight is over.
    reply.clearCookie(cookieName, { path: '/' });
    if (!state || !bound || state.length > 200 || !same(state, bound))
      return refuse(
        req,
        reply,
        400,
        '登录请求无效或已过期（与本浏览器发起的登录不符），请返回登录页重新登录。',
        'This sign-in is not valid or has expired (it does not match the one this browser started): go back to the sign-in page and sign in again.',
      );
    const search = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
    let identity;
    try {
      identity = await sso.finish(pool, search, state);
    } catch (e) {
      if (!(e instanceof SsoFailure)) throw e;
      req.log.warn(`single sign-on refused (${e.kind}): ${e.message}`);
      switch (e.kind) {
        case 'flow':
          return refuse(
            req,
            reply,
            400,
            '该登录请求已使用或已过期，请返回登录页重新登录。',
            'This sign-in has been used already or has expired: go back to the sign-in page and sign in again.',
          );
        case 'denied':
          return refuse(
            req,
            reply,
            401,
            '统一身份认证服务未完成登录（已取消或被拒绝）。',
            'The unified identity service did not complete the sign-in (cancelled or refused).',
          );
        case 'no-claim':
          return refuse(
            req,
            reply,
            403,
            `统一身份认证服务未提供人员编号（${cfg.oidc!.personClaim}），无法登录。请联系县审批局。`,
            `The unified identity service gave no person id (${cfg.oidc!.personClaim}): ask the county bureau.`,
          );
        case 'unreachable':
          return refuse(
            req,
            reply,
            503,
            '暂时无法连接统一身份认证服务，请稍后再试。',
            'The unified identity service cannot be reached right now: try again shortly.',
          );
        default:
          return refuse(
            req,
            reply,
            502,
            '统一身份认证服务的应答未通过校验，未能登录。请重新登录。',
            'The answer of the unified identity service did not pass the checks: you are not signed in. Sign in again.',
          );
      }
    }
    const { personId } = identity;
    const onRoster = (await run(pool, Q.memberships, [personId])).rowCount;
    if (!onRoster) {
      await recordSignIn(pool, personId, 'no-account', meta(req), 'oidc');
      return refuse(
        req,
        reply,
        403,
        `您的统一身份认证账号（${personId}）不在任何考核评价的名册中，无法登录本平台。如需使用，请联系县审批局。`,
        `Your unified identity account (${personId}) is on no campaign's roster: you cannot use this portal. Ask the county bureau if you should.`,
      );
    }
    const status = (await run<{ status: string }>(pool, Q.ssoAccount, [personId])).rows[0]?.status;
    if (status !== 'active') {
      await recordSignIn(pool, personId, 'revoked', meta(req), 'oidc');
      return refuse(
        req,
        reply,
        403,
        `账号 ${personId} 已被撤销，无法登录。如有疑问，请联系县审批局。`,
        `The account ${personId} has been revoked: you cannot sign in. Ask the county bureau.`,
      );
    }
    await recordSignIn(pool, personId, 'ok', meta(req), 'oidc');
    await startSession(req, reply, personId, 'oidc');
    return reply.code(303).redirect(safeNext(identity.nextPath));
  });
}
