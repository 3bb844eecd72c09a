// Sign-in, invitations (set a password) and sign-out: the pages a person sees before and at
// the end of a session.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  acceptInvitation,
  createSession,
  endAllSessions,
  endSession,
  openInvitation,
  passwordProblem,
  signIn,
} from './auth.ts';
import { cookieNames, preToken, sendPage } from './app.ts';
import { html, t } from './html.ts';
import { registerSsoPages, type StartSession } from './pages-sso.ts';
import type { PortalDeps } from './service.ts';

const signInBody = z.object({
  personId: z.string().trim().min(1).max(100),
  password: z.string().min(1).max(200),
  next: z.string().optional(),
});

const passwordBody = z.object({
  password: z.string().max(200),
  confirm: z.string().max(200),
});

/** Only a path of this portal, never another site, nor a sign-in page. */
const safeNext = (next: string | undefined) =>
  next && /^\/(?!\/)[^\s\\]*$/.test(next) && !next.startsWith('/sign-') && !next.startsWith('/sso/')
    ? next
    : '/tasks';

export function registerAuthPages(app: FastifyInstance, deps: PortalDeps): void {
  const { cfg, pool } = deps;
  const names = cookieNames(cfg.secureCookies);
  const sso = cfg.oidc;
  const meta = (req: FastifyRequest) => ({ ip: req.ip, userAgent: req.headers['user-agent'] });

  const startSession: StartSession = async (req, reply, personId, method) => {
    const s = await createSession(pool, cfg, personId, meta(req), method);
    reply.setCookie(names.session, s.token, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: cfg.secureCookies,
      maxAge: Math.floor(cfg.sessionMaxMs / 1000),
    });
    reply.clearCookie(names.pre, { path: '/' });
  };

  /**
   * The bureau as the county calls it (the bureau unit of the running campaigns' rosters, the
   * latest first), for the pages people see before they sign in; a generic name when there is
   * no campaign yet.
   */
  const bureauName = async (): Promise<string> =>
    (
      await pool.query<{ name: string }>(
        `SELECT u.name FROM units u JOIN campaigns c ON c.campaign_id = u.campaign_id
          WHERE u.kind = 'bureau'
          ORDER BY (c.status = 'running') DESC, c.updated_at DESC, u.unit_id LIMIT 1`,
      )
    ).rows[0]?.name ?? '审批局';

  const signInForm = async (
    req: FastifyRequest,
    reply: FastifyReply,
    opts: { error?: string; personId?: string; next?: string; status?: number } = {},
  ) => {
    const L = (zh: string, en: string) => t(req.lang, zh, en);
    const bureau = await bureauName();
    const csrf = preToken(req, reply, cfg.secureCookies);
    return sendPage(
      reply,
      req,
      L('登录', 'Sign in'),
      html`<section>
        ${opts.error ? html`<div class="notice bad" role="alert">${opts.error}</div>` : ''}
        <form method="post" action="/sign-in">
          <input type="hidden" name="_csrf" value="${csrf}" />
          <input type="hidden" name="next" value="${opts.next ?? ''}" />
          <label for="personId">${L('账号（人员编号）', 'Account (person id)')}</label>
          <input
            type="text"
            id="personId"
            name="personId"
            autocomplete="username"
            value="${opts.personId ?? ''}"
            required
          />
          <label for="password">${L('密码', 'Password')}</label>
          <input
            type="password"
            id="password"
            name="password"
            autocomplete="current-password"
            required
          />
          <div><button type="submit">${L('登录', 'Sign in')}</button></div>
        </form>
        ${
          sso
            ? html`<div class="sso">
                <a
                  class="button"
                  data-testid="sso-start"
                  href="/sso/start${
                    opts.next && safeNext(opts.next) !== '/tasks'
                      ? `?next=${encodeURIComponent(safeNext(opts.next))}`
                      : ''
                  }"
                  >${req.lang === 'zh' ? sso.label.zh : sso.label.en}</a
                >
              </div>`
            : ''
        }
        <p class="muted">
          ${L(
            `没有账号或忘记密码？请联系${bureau}，领取新的邀请链接。`,
            'No account, or forgot the password? Ask the county bureau for a new invitation link.',
          )}
        </p>
      </section>`,
      opts.status ?? 200,
    );
  };

  app.get('/', { config: { access: 'public' } }, async (req, reply) =>
    reply.redirect(req.session ? '/tasks' : '/sign-in'),
  );

  app.get('/sign-in', { config: { access: 'public' } }, async (req, reply) => {
    if (req.session) return reply.redirect('/tasks');
    const q = req.query as { next?: string };
    return signInForm(req, reply, { next: typeof q.next === 'string' ? q.next : '' });
  });

  app.post('/sign-in', { config: { access: 'public' } }, async (req, reply) => {
    const L = (zh: string, en: string) => t(req.lang, zh, en);
    const parsed = signInBody.safeParse(req.body);
    if (!parsed.success) {
      return signInForm(req, reply, {
        error: L('请填写账号和密码。', 'Give the account and the password.'),
        status: 400,
      });
    }
    const { personId, password, next } = parsed.data;
    const outcome = await signIn(pool, cfg, personId, password, meta(req));
    if (!outcome.ok) {
      const error =
        outcome.reason === 'locked'
          ? L(
              `连续登录失败次数过多，账号已暂时锁定，请于 ${Math.ceil(((outcome.lockedUntil?.getTime() ?? Date.now()) - Date.now()) / 60000)} 分钟后再试，或联系审批局。`,
              `Too many failed sign-ins: the account is locked for ${Math.ceil(((outcome.lockedUntil?.getTime() ?? Date.now()) - Date.now()) / 60000)} more minute(s); try later or ask the bureau.`,
            )
          : L('账号或密码不正确。', 'The account or the password is not right.');
      return signInForm(req, reply, {
        error,
        personId,
        next: next ?? '',
        status: outcome.reason === 'locked' ? 429 : 401,
      });
    }
    await startSession(req, reply, personId, 'password');
    return reply.code(303).redirect(safeNext(next));
  });

  app.post('/sign-out', async (req, reply) => {
    if (req.session) await endSession(pool, req.session.token);
    reply.clearCookie(names.session, { path: '/' });
    return reply.code(303).redirect('/sign-in');
  });

  app.post('/sign-out-everywhere', async (req, reply) => {
    if (req.session) await endAllSessions(pool, req.session.personId);
    reply.clearCookie(names.session, { path: '/' });
    return reply.code(303).redirect('/sign-in');
  });

  const used = async (req: FastifyRequest, reply: FastifyReply) =>
    sendPage(
      reply,
      req,
      t(req.lang, '邀请链接不可用', 'Invitation not usable'),
      html`<div class="notice bad">
        ${t(
          req.lang,
          `该邀请链接已使用、已撤销或已过期。请联系${await bureauName()}重新发放邀请，或在已设置密码时直接登录。`,
          'This invitation link has been used, withdrawn or has expired. Ask the county bureau for a new one.',
        )}
      </div>`,
      410,
    );

  const passwordForm = (
    req: FastifyRequest,
    reply: FastifyReply,
    token: string,
    who: { personId: string; name: string | null },
    error?: string,
  ) => {
    const L = (zh: string, en: string) => t(req.lang, zh, en);
    const csrf = preToken(req, reply, cfg.secureCookies);
    return sendPage(
      reply,
      req,
      L('设置密码', 'Set your password'),
      html`<section>
        <p>
          ${L('欢迎，', 'Welcome, ')}<strong>${who.name ?? who.personId}</strong>${L(
            `。您的账号是 ${who.personId}，请设置登录密码（至少 10 个字符）。`,
            `. Your account is ${who.personId}; choose a password (at least 10 characters).`,
          )}
        </p>
        <form method="post" action="/invite/${token}" novalidate>
          <input type="hidden" name="_csrf" value="${csrf}" />
          <input
            type="text"
            name="username"
            value="${who.personId}"
            autocomplete="username"
            hidden
            readonly
          />
          <div class="field ${error ? 'invalid' : ''}">
            <label for="password">${L('新密码', 'New password')}</label>
            <input
              type="password"
              id="password"
              name="password"
              autocomplete="new-password"
              required
              minlength="10"
            />
            <label for="confirm">${L('再输一次', 'Once more')}</label>
            <input
              type="password"
              id="confirm"
              name="confirm"
              autocomplete="new-password"
              required
            />
            ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
          </div>
          <div>
            <button type="submit">${L('设置密码并登录', 'Set the password and sign in')}</button>
          </div>
        </form>
      </section>`,
      error ? 422 : 200,
    );
  };

  app.get('/invite/:token', { config: { access: 'public' } }, async (req, reply) => {
    const { token } = req.params as { token: string };
    const inv = await openInvitation(pool, token);
    if (!inv) return used(req, reply);
    return passwordForm(req, reply, token, inv);
  });

  app.post('/invite/:token', { config: { access: 'public' } }, async (req, reply) => {
    const { token } = req.params as { token: string };
    const inv = await openInvitation(pool, token);
    if (!inv) return used(req, reply);
    const parsed = passwordBody.safeParse(req.body);
    const L = (zh: string, en: string) => t(req.lang, zh, en);
    if (!parsed.success)
      return passwordForm(req, reply, token, inv, L('请填写密码。', 'Give a password.'));
    const { password, confirm } = parsed.data;
    const problem = passwordProblem(password, inv.personId, req.lang);
    if (problem) return passwordForm(req, reply, token, inv, problem);
    if (password !== confirm)
      return passwordForm(
        req,
        reply,
        token,
        inv,
        L('两次输入的密码不一致。', 'The two passwords differ.'),
      );
    const accepted = await acceptInvitation(pool, token, password);
    if (!accepted) return used(req, reply);
    await startSession(req, reply, accepted.personId, 'password');
    return reply.code(303).redirect('/tasks');
  });

  registerSsoPages(app, deps, startSession, safeNext);
}
