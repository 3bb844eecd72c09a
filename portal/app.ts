// The portal's HTTP server (Fastify): sessions from a cookie, CSRF on every post, the language,
// security headers, refusals rendered for people (pages) or programs (JSON under /api), and the
// route table, which the security tests read.
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import { CliError } from '../client/errors.ts';
import { firstTextProblem } from '../domain/text.ts';
import { loadSession, newToken, type Session } from './auth.ts';
import { isBureauOfficer, loadMe, type Me } from './access.ts';
import { Refused } from './errors.ts';
import { CSS, html, page, t, type Chrome, type Html, type Lang } from './html.ts';
import { pickLang } from './i18n.ts';
import { setFlash } from './form-bits.ts';
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

/** A multipart part as @fastify/multipart attaches it to the body (attachFieldsToBody). */
interface Part {
  type: 'field' | 'file';
  fieldname?: unknown;
  value?: unknown;
  filename?: unknown;
  mimetype?: unknown;
}
const isPart = (v: unknown): v is Part =>
  !!v &&
  typeof v === 'object' &&
  ((v as Part).type === 'field' || (v as Part).type === 'file') &&
  'fieldname' in v;

/**
 * A body as the text rule sees it: a multipart part becomes what a handler reads of it (a
 * field's value; a file's name and type, its content being binary), so that paths name the
 * form's fields (`note`, `evidence.filename`) and the parts' references back to the whole body
 * are not followed. Any other body is looked at as parsed.
 */
function textOfBody(body: unknown): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
  const view = (p: unknown): unknown =>
    isPart(p) ? (p.type === 'field' ? p.value : { filename: p.filename, mimetype: p.mimetype }) : p;
  const entries = Object.entries(body as Record<string, unknown>);
  if (!entries.some(([, v]) => isPart(v) || (Array.isArray(v) && v.some(isPart)))) return body;
  return Object.fromEntries(entries.map(([k, v]) => [k, Array.isArray(v) ? v.map(view) : view(v)]));
}

/** The bounds of a request's strings: the longest any update field may be, an address's parts. */
const REQUEST_TEXT_MAX = { body: 20_000, query: 2000, params: 1000 } as const;

/**
 * The first string of a request (its path's parameters, its query, its body's fields and keys,
 * a multipart body's text fields and file names) that PostgreSQL, JSON and people cannot hold
 * (domain/text.ts), as a refusal naming the field; or null.
 */
export function requestTextRefusal(req: {
  params?: unknown;
  query?: unknown;
  body?: unknown;
}): Refused | null {
  const p =
    firstTextProblem(req.params, { root: 'params', max: REQUEST_TEXT_MAX.params }) ??
    firstTextProblem(req.query, { root: 'query', max: REQUEST_TEXT_MAX.query }) ??
    firstTextProblem(textOfBody(req.body), { max: REQUEST_TEXT_MAX.body });
  if (!p) return null;
  return new Refused(400, `请求无效：${p.zh}。`, `Bad request: ${p.en}.`, { [p.path]: p.zh });
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

  // Text PostgreSQL, JSON and people can hold (domain/text.ts): a request carrying a lone
  // surrogate, a NUL, a control character or an over-long string anywhere (path, query, a field
  // or key of its body, a file's name) is refused as a bad request naming the field, before it
  // reaches a query or a workflow. The API answers in its JSON shape, a page with the message.
  app.addHook('preValidation', async (req) => {
    const refused = requestTextRefusal(req);
    if (refused) throw refused;
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
      const tooLarge = new Refused(
        413,
        `文件超过上限 ${limit}，未保存任何文件。请压缩或拆分后重新上传。`,
        `The file is larger than the limit of ${limit}: nothing was stored. Compress or split it and upload again.`,
      );
      // An upload from a task page leads back to the task (post/redirect/get), the message kept.
      const task = /^\/tasks\/([^/?#]+)\/evidence(?:\?|$)/.exec(req.url);
      if (task && !isApi(req)) {
        const path = `/tasks/${task[1]}`;
        setFlash(reply, cfg.secureCookies, {
          path,
          status: 413,
          message: tooLarge.text(req.lang),
        });
        return reply.code(303).redirect(`${path}#error`);
      }
      return answerRefusal(req, reply, tooLarge);
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
  // A refusal on a task's route leads back to the task; anything else to the person's tasks.
  const task = e.status === 404 ? null : /^\/tasks\/([^/?#]+)\/[\w-]+(?:\?|$)/.exec(req.url);
  return sendPage(
    reply,
    req,
    title,
    html`<div class="notice bad" role="alert" id="error">${e.text(req.lang)}</div>
      <p>
        ${task ? html`<a href="/tasks/${task[1]}">${t(req.lang, '返回该事项', 'Back to the task')}</a> · ` : ''}
        <a href="/tasks">${t(req.lang, '返回我的待办', 'Back to my tasks')}</a>
      </p>`,
    e.status,
  );
}
