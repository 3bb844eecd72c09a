// The portal's HTTP server (Fastify): sessions from a cookie, CSRF on every post, the language,
// security headers, refusals rendered for people (pages) or programs (JSON under /api), and the
// route table, which the security tests read.
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import { CliError } from '../client/errors.ts';
import { loadSession, newToken, type Session } from './auth.ts';
import { isBureauOfficer, loadMe, type Me } from './access.ts';
import { Refused } from './errors.ts';
import { CSS, html, page, t, type Chrome, type Html, type Lang } from './html.ts';
import { pickLang } from './i18n.ts';
import { tokenIdentity, type TokenUse } from './tokens.ts';
import { registerApi } from './api.ts';
import { registerCampaignWorkApi } from './api-campaign-work.ts';
import { registerRolesApi } from './api-roles.ts';
import { registerBureauPages } from './pages-bureau.ts';
import { registerEvaluatorPages } from './pages-evaluator.ts';
import { registerAuthPages } from './pages-auth.ts';
import { registerPages } from './pages.ts';
import { registerRectificationPages } from './pages-rectification.ts';
import { registerVerificationPages } from './pages-verification.ts';
import type { PortalDeps } from './service.ts';

declare module 'fastify' {
  interface FastifyRequest {
    lang: Lang;
    session: Session | null;
    me: Me | null;
    /** Set when the request came with a unit's API token instead of a session. */
    apiToken: TokenUse | null;
  }
  interface FastifyContextConfig {
    /** Whether a unit's API token may use the route (only its unit's tasks, then). */
    tokens?: boolean;
    /** 'public': no session needed (sign-in, invitations, health, the API document). */
    access?: 'public' | 'session';
  }
}

export interface RouteEntry {
  method: string;
  url: string;
  access: 'public' | 'session';
}

export const cookieNames = (secure: boolean) => ({
  session: secure ? '__Host-portal_session' : 'portal_session',
  pre: secure ? '__Host-portal_pre' : 'portal_pre',
  lang: 'portal_lang',
});

const same = (a: string | undefined, b: string | undefined): boolean =>
  !!a && !!b && a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/**
 * Whether a string anywhere in a parsed request part (its objects and arrays) holds U+0000.
 * Each object is looked at once: a multipart body's parts refer back to the whole body.
 */
function hasNul(v: unknown, seen = new WeakSet<object>()): boolean {
  if (typeof v === 'string') return v.includes('\u0000');
  if (v === null || typeof v !== 'object' || Buffer.isBuffer(v) || seen.has(v)) return false;
  seen.add(v);
  if (Array.isArray(v)) return v.some((x) => hasNul(x, seen));
  // A multipart part's file stream is content, not text; a parsed query has its own prototype.
  if (typeof (v as { pipe?: unknown }).pipe === 'function') return false;
  return Object.entries(v).some(([k, x]) => k.includes('\u0000') || hasNul(x, seen));
}

export function isApi(req: FastifyRequest): boolean {
  return req.url.startsWith('/api/');
}

/** The chrome of a page for the request: language, the person, the CSRF token. */
export function chrome(req: FastifyRequest, title: string): Chrome {
  const me = req.me;
  return {
    lang: req.lang,
    title,
    path: req.url,
    ...(req.session ? { csrf: req.session.csrf } : {}),
    ...(me
      ? {
          me: {
            name: me.name,
            personId: me.personId,
            bureau: me.memberships.some(isBureauOfficer),
            boards: me.memberships
              .filter((m) => m.unitKind === 'bureau' || m.unitKind === 'leadership')
              .map((m) => ({ campaignId: m.campaignId, name: m.campaignName })),
            verification: me.memberships
              .filter((m) => m.unitKind === 'evaluator' && ['evaluator', 'head'].includes(m.role))
              .map((m) => ({ campaignId: m.campaignId, name: m.campaignName })),
            manage: me.memberships
              .filter(isBureauOfficer)
              .map((m) => ({ campaignId: m.campaignId, name: m.campaignName })),
            evaluator: me.memberships
              .filter((m) => m.unitKind === 'evaluator' && ['evaluator', 'head'].includes(m.role))
              .map((m) => ({ campaignId: m.campaignId, name: m.campaignName })),
            rectification: me.memberships
              .filter((m) => m.unitKind !== 'evaluator')
              .map((m) => ({ campaignId: m.campaignId, name: m.campaignName })),
          },
        }
      : {}),
  };
}

export function sendPage(
  reply: FastifyReply,
  req: FastifyRequest,
  title: string,
  body: Html,
  status = 200,
) {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .send(page(chrome(req, title), body));
}

/** The anonymous CSRF token (double-submit cookie) for the sign-in and invitation forms. */
export function preToken(req: FastifyRequest, reply: FastifyReply, secure: boolean): string {
  const names = cookieNames(secure);
  const existing = req.cookies[names.pre];
  if (existing && /^[\w-]{43}$/.test(existing)) return existing;
  const token = newToken();
  reply.setCookie(names.pre, token, { path: '/', httpOnly: true, sameSite: 'strict', secure });
  return token;
}

export type PortalApp = FastifyInstance & { routeTable: RouteEntry[] };

export async function buildPortal(deps: PortalDeps): Promise<PortalApp> {
  const { cfg } = deps;
  const app = Fastify({
    logger: process.env.PORTAL_LOG === 'true' ? { level: 'info' } : false,
    trustProxy: cfg.trustProxy,
    bodyLimit: 1024 * 1024,
    // Task ids are paths of their own (campaign/indicator/kind/unit/key), encoded in one segment.
    routerOptions: { maxParamLength: 1000 },
    // The router's refusals (an over-long or malformed address) in the portal's error shape.
    frameworkErrors: (error, _req, reply) => {
      void (reply as unknown as FastifyReply)
        .code(error.statusCode ?? 400)
        .send({ error: 'bad-request', message: `Bad request: ${error.message}` });
    },
  });
  const routeTable: RouteEntry[] = [];
  app.addHook('onRoute', (r) => {
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    for (const m of methods) {
      if (m === 'HEAD') continue;
      routeTable.push({ method: m, url: r.url, access: r.config?.access ?? 'session' });
    }
  });
  const names = cookieNames(cfg.secureCookies);
  await app.register(cookie);
  await app.register(formbody);
  await app.register(multipart, {
    attachFieldsToBody: true,
    limits: { fileSize: cfg.uploadLimitBytes, files: 10, fields: 20, fieldSize: 4096 },
  });
  app.decorateRequest('lang', 'zh');
  app.decorateRequest('session', null);
  app.decorateRequest('me', null);
  app.decorateRequest('apiToken', null);

  app.addHook('onRequest', async (req, reply) => {
    req.lang = pickLang(req.query, req.cookies[names.lang]);
    const q = (req.query as { lang?: string } | undefined)?.lang;
    // A page's language switch is remembered; an API call's ?lang chooses the language of that
    // answer only, so a program asking in English does not turn the person's pages English.
    if ((q === 'en' || q === 'zh') && !isApi(req))
      reply.setCookie(names.lang, q, {
        path: '/',
        sameSite: 'lax',
        secure: cfg.secureCookies,
        httpOnly: true,
      });
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ') && isApi(req)) {
      const found = await tokenIdentity(deps.pool, auth.slice(7).trim());
      if (!found)
        return reply.code(401).send({
          error: 'unauthorized',
          message: t(
            req.lang,
            '接口令牌无效或已撤销。',
            'The API token is not valid or was revoked.',
          ),
        });
      if (!req.routeOptions.config?.tokens)
        return answerRefusal(
          req,
          reply,
          new Refused(404, '未找到该页面或事项。', 'No such page, or it is not yours to see.'),
        );
      req.apiToken = found.use;
      req.me = found.me;
      req.session = { personId: found.use.personId, csrf: '', token: '' };
      return;
    }
    req.session = await loadSession(deps.pool, cfg, req.cookies[names.session]);
    if (req.session) req.me = await loadMe(deps.pool, req.session.personId);
    const access = req.routeOptions.config?.access ?? 'session';
    if (access === 'public' || req.session) return;
    if (isApi(req)) {
      return reply.code(401).send({
        error: 'unauthorized',
        message: t(req.lang, '请先登录。', 'Sign in first.'),
      });
    }
    const next = req.method === 'GET' ? `?next=${encodeURIComponent(req.url)}` : '';
    return reply.code(303).redirect(`/sign-in${next}`);
  });

  // PostgreSQL text cannot hold U+0000: a request carrying one anywhere (path, query, a field of
  // its body) is refused as a bad request before it reaches a query.
  app.addHook('preValidation', async (req) => {
    if (hasNul(req.params) || hasNul(req.query) || hasNul(req.body))
      throw new Refused(
        400,
        '请求无效：内容含有不允许的空字符（U+0000）。',
        'Bad request: the request contains a NUL character (U+0000), which is not allowed.',
      );
  });

  // CSRF: every post carries the session's token (a form field or the X-CSRF-Token header);
  // the sign-in and invitation forms carry the anonymous double-submit token.
  app.addHook('preHandler', async (req) => {
    if (req.method === 'GET' || req.method === 'HEAD') return;
    // A token comes in a header, never from a browser's cookie jar: no CSRF to fear.
    if (req.apiToken) return;
    // Programs sign in with JSON (POST /api/session): a cross-site form cannot send that type
    // without the browser asking first, and the portal allows no other origin.
    if (
      !req.session &&
      isApi(req) &&
      req.routeOptions.config?.access === 'public' &&
      /^application\/json\b/.test(req.headers['content-type'] ?? '')
    )
      return;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const field = body._csrf;
    const given =
      (req.headers['x-csrf-token'] as string | undefined) ??
      (typeof field === 'string' ? field : (field as { value?: string } | undefined)?.value);
    const expected = req.session?.csrf ?? req.cookies[names.pre];
    if (!same(given, expected)) {
      throw new Refused(
        403,
        '表单已失效或来源不明（缺少校验码），请返回刷新页面后重试。',
        'The form has expired or did not come from this portal (no CSRF token): reload the page and try again.',
      );
    }
  });

  app.addHook('onSend', async (req, reply) => {
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('X-Frame-Options', 'DENY');
    reply.header('Referrer-Policy', 'same-origin');
    reply.header(
      'Content-Security-Policy',
      "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    if (!reply.hasHeader('Cache-Control')) reply.header('Cache-Control', 'no-store');
  });

  app.setNotFoundHandler(async (req, reply) => {
    const err = new Refused(
      404,
      '未找到该页面或事项。',
      'No such page, or it is not yours to see.',
    );
    return answerRefusal(req, reply, err);
  });

  app.setErrorHandler(async (e, req, reply) => {
    if (e instanceof Refused) return answerRefusal(req, reply, e);
    // The CLI's report code refuses in its own way (a bad date, an unknown campaign).
    if (e instanceof CliError)
      return answerRefusal(
        req,
        reply,
        new Refused(400, `请求无效：${e.message}`, `Bad request: ${e.message}`),
      );
    const err = e as { code?: string; statusCode?: number; validation?: unknown };
    if (
      err.code === 'FST_REQ_FILE_TOO_LARGE' ||
      err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ||
      err.statusCode === 413
    ) {
      const limit =
        cfg.uploadLimitBytes >= 1024 * 1024
          ? `${+(cfg.uploadLimitBytes / 1024 / 1024).toFixed(1)} MB`
          : `${Math.round(cfg.uploadLimitBytes / 1024)} KB`;
      return answerRefusal(
        req,
        reply,
        new Refused(
          413,
          `文件超过上限 ${limit}，未保存任何文件。`,
          `The file is larger than the limit of ${limit}: nothing was stored.`,
        ),
      );
    }
    // Fastify's own refusals (an unreadable body, an unknown content type, an over-long address)
    // and a malformed multipart body keep their meaning; they are the request's fault.
    const status =
      err.statusCode && err.statusCode >= 400 && err.statusCode < 500
        ? err.statusCode
        : /multipart|boundary/i.test((e as Error).message)
          ? 400
          : undefined;
    if (status) {
      return answerRefusal(
        req,
        reply,
        new Refused(
          status as Refused['status'],
          `请求无效：${(e as Error).message}`,
          `Bad request: ${(e as Error).message}`,
        ),
      );
    }
    req.log.error(e);
    console.error(e);
    const msg = t(req.lang, '服务器内部错误，请稍后再试。', 'Internal error: try again shortly.');
    if (isApi(req)) return reply.code(500).send({ error: 'internal', message: msg });
    return sendPage(
      reply,
      req,
      t(req.lang, '出错了', 'Something went wrong'),
      html`<div class="notice bad">${msg}</div>`,
      500,
    );
  });

  app.get('/health', { config: { access: 'public' } }, async () => ({ ok: true }));
  app.get('/assets/portal.css', { config: { access: 'public' } }, async (_req, reply) =>
    reply.type('text/css; charset=utf-8').header('Cache-Control', 'public, max-age=3600').send(CSS),
  );

  registerAuthPages(app, deps);
  registerPages(app, deps);
  registerVerificationPages(app, deps);
  registerRectificationPages(app, deps);
  registerApi(app, deps);
  // After registerApi, which starts the API document's list afresh.
  registerCampaignWorkApi(app, deps);
  registerRolesApi(app, deps);
  registerBureauPages(app, deps);
  registerEvaluatorPages(app, deps);
  return Object.assign(app as unknown as FastifyInstance, { routeTable });
}

export function answerRefusal(req: FastifyRequest, reply: FastifyReply, e: Refused) {
  if (isApi(req)) {
    return reply.code(e.status).send({
      error: e.status === 404 ? 'not-found' : e.status === 401 ? 'unauthorized' : 'refused',
      message: e.text(req.lang),
      ...(e.fields ? { fields: e.fields } : {}),
    });
  }
  const title =
    e.status === 404 ? t(req.lang, '未找到', 'Not found') : t(req.lang, '未能完成', 'Not done');
  return sendPage(
    reply,
    req,
    title,
    html`<div class="notice bad">${e.text(req.lang)}</div>
      <p><a href="/tasks">${t(req.lang, '返回我的待办', 'Back to my tasks')}</a></p>`,
    e.status,
  );
}
