// The HTTP API behind the pages (JSON under /api), each route declared once with its zod
// schemas: the same schemas check the requests and make the OpenAPI 3.1 document served at
// GET /api/openapi.json. The actor is always the signed-in person: a body field naming an actor
// is not part of any schema and is dropped.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { readBoard } from '../client/commands/board.ts';
import { dispatchDigest, ledgerRows } from '../client/commands/reports.ts';
import { Q, run } from '../db/portal.ts';
import { TASK_ACTIONS, TASK_STATES } from '../domain/task.ts';
import { formatIsoOffset, isLocalDate } from '../domain/time.ts';
import { canReadBoards, isBureauOfficer, membershipIn } from './access.ts';
import { cookieNames } from './app.ts';
import { createSession, signIn } from './auth.ts';
import { notFound, Refused } from './errors.ts';
import { createInvitations, revokeAccount } from './invitations.ts';
import { createToken, listTokens, revokeToken } from './tokens.ts';
import { filesOf, meOf } from './pages.ts';
import {
  decideTask,
  downloadEvidence,
  extendTask,
  myTasks,
  reassignTask,
  reviewQueue,
  submitTask,
  summaryOf,
  taskDetail,
  uploadEvidence,
  type PortalDeps,
} from './service.ts';

// ---- schemas ----

export const ErrorBody = z.object({
  error: z.string(),
  message: z.string(),
  fields: z.record(z.string(), z.string()).optional(),
});

const Colour = z.enum(['green', 'yellow', 'red']);
export const TaskState = z.enum(TASK_STATES);

export const TaskSummary = z.object({
  taskId: z.string(),
  campaignId: z.string(),
  kind: z.string(),
  title: z.string(),
  indicator: z.string().nullable(),
  unit: z.string(),
  unitName: z.string().nullable(),
  assignee: z.string(),
  assigneeName: z.string().nullable(),
  state: TaskState,
  due: z.string(),
  colour: Colour,
  escalationLevel: z.number().int(),
});

const FieldValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

const Field = z.object({
  key: z.string(),
  label: z.string(),
  type: z.enum(['integer', 'number', 'percent', 'text', 'boolean', 'date', 'enum']),
  required: z.boolean().optional(),
  unit: z.string().optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  options: z.array(z.string()).optional(),
  help: z.string().optional(),
});

const EvidenceFile = z.object({
  fileId: z.string(),
  taskId: z.string(),
  name: z.string(),
  sha256: z.string(),
  size: z.number().int(),
  mime: z.string(),
  uploadedBy: z.string(),
  uploadedAt: z.string(),
});

const TaskDetail = TaskSummary.extend({
  reviewer: z.string().nullable(),
  review: z.boolean(),
  lastReturnReason: z.string().nullable(),
  pendingExtension: z.object({ until: z.string(), reason: z.string(), by: z.string() }).nullable(),
  guide: z.string().nullable(),
  requirements: z.object({ note: z.boolean(), evidence: z.boolean(), fields: z.array(Field) }),
  allowedActions: z.array(z.enum(TASK_ACTIONS)),
  lastData: z.record(z.string(), z.unknown()).nullable(),
  changes: z.array(
    z.object({ field: z.string(), label: z.string(), before: z.unknown(), after: z.unknown() }),
  ),
  evidence: z.array(EvidenceFile),
  events: z.array(
    z.object({
      seq: z.number().int(),
      at: z.string(),
      type: z.string(),
      actor: z.string().nullable(),
      actorName: z.string().nullable(),
      detail: z.record(z.string(), z.unknown()),
    }),
  ),
});

const ActionResult = z.object({
  taskId: z.string(),
  state: TaskState,
  due: z.string(),
  assignee: z.string(),
  extension: z.enum(['granted', 'requested']).optional(),
  version: z
    .number()
    .int()
    .optional()
    .describe("The task's event count after the action (its row in the reports has reached it)"),
});

export const requestId = z
  .string()
  .regex(/^[\w-]{8,80}$/)
  .optional()
  .describe('Idempotency key: the same id twice is applied once');

const SubmitBody = z.object({
  note: z.string().max(5000).optional(),
  data: z.record(z.string().max(100), FieldValue).optional(),
  requestId,
});
const ApproveBody = z.object({ note: z.string().max(5000).optional(), requestId });
const ReturnBody = z.object({ reason: z.string().min(1).max(5000), requestId });
const ExtendBody = z.object({
  until: z
    .string()
    .min(1)
    .max(40)
    .describe('local date-time in the task’s time zone, or with an offset'),
  reason: z.string().min(1).max(5000),
  requestId,
});
const ReassignBody = z.object({ to: z.string().min(1).max(100), requestId });
const SessionBody = z.object({
  personId: z.string().min(1).max(100),
  password: z.string().min(1).max(200),
});
const InviteBody = z.object({
  unit: z.string().max(100).optional(),
  person: z.string().max(100).optional(),
});

const Me = z.object({
  personId: z.string(),
  name: z.string(),
  csrfToken: z.string(),
  memberships: z.array(
    z.object({
      campaignId: z.string(),
      campaignName: z.string(),
      role: z.string(),
      unitId: z.string(),
      unitName: z.string(),
      unitKind: z.string(),
    }),
  ),
});

const Board = z.object({
  campaignId: z.string(),
  name: z.string(),
  phase: z.string(),
  timeZone: z.string(),
  indicators: z.array(
    z.object({
      code: z.string(),
      name: z.string(),
      phase: z.string(),
      state: z.string(),
      due: z.string().nullable(),
      overdue: z.number().int(),
      escalationLevel: z.number().int(),
      colour: Colour,
      openTasks: z.number().int(),
      flagged: z.boolean(),
      score: z.number().nullable(),
      rank: z.number().int().nullable(),
    }),
  ),
  decisions: z
    .array(
      z.object({
        at: z.string(),
        type: z.enum(['phase-closed', 'phase-extended', 'cancelled', 'task-raised']),
        actor: z.string(),
        reason: z.string(),
        phase: z.string().nullable(),
        end: z.string().nullable(),
      }),
    )
    .describe('the bureau’s decisions on the campaign: phases closed or extended, a cancellation'),
});

const LedgerRow = z.object({
  no: z.number().int(),
  indicator: z.string(),
  problem: z.string(),
  cause: z.string(),
  gap: z.string(),
  measure: z.string(),
  unit: z.string(),
  person: z.string(),
  due: z.string(),
  progress: z.string(),
  state: z.enum(['closed', 'cancelled', 'green', 'yellow', 'red']),
  closedAt: z.string().nullable(),
});

const Performance = z.array(
  z.object({
    unit: z.string(),
    unitName: z.string().nullable(),
    tasks: z.number().int(),
    doneOnTime: z.number().int(),
    doneLate: z.number().int(),
    openOverdue: z.number().int(),
    escalationsLevel1: z.number().int(),
    escalationsLevel2: z.number().int(),
    escalationsLevel3Plus: z.number().int(),
  }),
);

const Invitation = z.object({
  personId: z.string(),
  name: z.string(),
  unitId: z.string(),
  unitName: z.string(),
  role: z.string(),
  link: z.string(),
  expiresAt: z.string(),
});

const TaskParams = z.object({ taskId: z.string().min(1).max(300) });
const CampaignParams = z.object({ campaignId: z.string().min(1).max(100) });

// ---- the route registry ----

export interface ApiRoute {
  method: 'GET' | 'POST';
  url: string;
  summary: string;
  tag: string;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  multipart?: boolean;
  response: z.ZodType | 'binary';
  /** Statuses besides 200 that the route may answer. */
  errors: number[];
  access?: 'public';
  /** A unit's API token may call it too. */
  tokens?: boolean;
}

const routes: ApiRoute[] = [];

function parseOr400<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => `${[where, ...i.path].join('.')}: ${i.message}`);
  throw new Refused(400, `请求无效：${problems.join('；')}`, `Bad request: ${problems.join('; ')}`);
}

type Handler = (
  req: FastifyRequest,
  reply: FastifyReply,
  input: { params: Record<string, string>; query: Record<string, unknown>; body: unknown },
) => Promise<unknown>;

/** Registers a route of the API, its schemas checking the request and going into the document. */
export function define(app: FastifyInstance, r: ApiRoute, handler: Handler): void {
  routes.push(r);
  app.route({
    method: r.method,
    url: r.url,
    config: { access: r.access ?? 'session', tokens: r.tokens === true },
    handler: async (req, reply) => {
      const params = r.params
        ? (parseOr400(r.params, req.params, 'path') as Record<string, string>)
        : {};
      const query = r.query
        ? (parseOr400(r.query, req.query, 'query') as Record<string, unknown>)
        : {};
      let body: unknown = undefined;
      if (r.body) {
        if (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body)) {
          throw new Refused(400, '请求体须为 JSON 对象。', 'The body must be a JSON object.');
        }
        body = parseOr400(r.body, req.body, 'body');
      }
      return handler(req, reply, { params, query, body });
    },
  });
}

export const langQuery = z.object({ lang: z.enum(['zh', 'en']).optional() });

export function registerApi(app: FastifyInstance, deps: PortalDeps): void {
  const { pool, cfg } = deps;
  routes.length = 0;

  define(
    app,
    {
      method: 'POST',
      url: '/api/session',
      summary: 'Sign in (for programs): sets the session cookie and returns the CSRF token',
      tag: 'session',
      body: SessionBody,
      response: z.object({ personId: z.string(), csrfToken: z.string() }),
      errors: [400, 401, 429],
      access: 'public',
    },
    async (req, reply, { body }) => {
      const { personId, password } = body as z.infer<typeof SessionBody>;
      const outcome = await signIn(pool, cfg, personId, password, {
        ip: req.ip,
        userAgent: req.headers['user-agent'],
      });
      if (!outcome.ok) {
        if (outcome.reason === 'locked')
          throw new Refused(
            429,
            '连续登录失败次数过多，账号已暂时锁定。',
            'Too many failed sign-ins: the account is locked for a while.',
          );
        throw new Refused(401, '账号或密码不正确。', 'The account or the password is not right.');
      }
      const s = await createSession(pool, cfg, personId, {
        ip: req.ip,
        userAgent: req.headers['user-agent'],
      });
      reply.setCookie(cookieNames(cfg.secureCookies).session, s.token, {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure: cfg.secureCookies,
      });
      return { personId, csrfToken: s.csrf };
    },
  );

  define(
    app,
    {
      method: 'GET',
      url: '/api/me',
      tokens: true,
      summary: 'The signed-in person, their places on rosters, and the CSRF token for posts',
      tag: 'session',
      response: Me,
      errors: [401],
    },
    async (req) => {
      const me = meOf(req);
      return {
        personId: me.personId,
        name: me.name,
        csrfToken: req.session!.csrf,
        memberships: me.memberships.map((m) => ({
          campaignId: m.campaignId,
          campaignName: m.campaignName,
          role: m.role,
          unitId: m.unitId,
          unitName: m.unitName,
          unitKind: m.unitKind,
        })),
      };
    },
  );

  define(
    app,
    {
      method: 'GET',
      url: '/api/tasks',
      tokens: true,
      summary: '我的待办: the tasks the person sees (open ones unless state=all)',
      tag: 'tasks',
      query: z.object({
        state: z.enum(['open', 'all']).optional(),
        lang: z.enum(['zh', 'en']).optional(),
      }),
      response: z.array(TaskSummary),
      errors: [400, 401],
    },
    async (req, _reply, { query }) =>
      (await myTasks(deps, meOf(req), query.state === 'all')).map(summaryOf),
  );

  define(
    app,
    {
      method: 'GET',
      url: '/api/review',
      summary: "The bureau's review queue",
      tag: 'tasks',
      response: z.array(TaskSummary),
      errors: [401],
    },
    async (req) => (await reviewQueue(deps, meOf(req))).map(summaryOf),
  );

  define(
    app,
    {
      method: 'GET',
      url: '/api/tasks/:taskId',
      tokens: true,
      summary: 'One task: its fields, evidence, allowed actions and history',
      tag: 'tasks',
      params: TaskParams,
      query: langQuery,
      response: TaskDetail,
      errors: [400, 401, 404],
    },
    async (req, _reply, { params }) => {
      const d = await taskDetail(deps, meOf(req), params.taskId!);
      const tz = d.task.time_zone;
      return {
        ...d.summary,
        reviewer: d.task.reviewer,
        review: d.task.review,
        lastReturnReason: d.task.last_return_reason,
        pendingExtension: d.task.pending_extension
          ? {
              ...d.task.pending_extension,
              until: formatIsoOffset(d.task.pending_extension.until, tz),
            }
          : null,
        guide: d.guide,
        requirements: {
          note: d.requirements.note,
          evidence: d.requirements.evidence,
          fields: d.requirements.fields,
        },
        allowedActions: d.allowed,
        lastData: d.lastData,
        changes: d.changes,
        evidence: d.evidence,
        events: d.events,
      };
    },
  );

  const result =
    (tz: string) =>
    (r: {
      taskId: string;
      state: string;
      due: number;
      assignee: string;
      extension?: string;
      version?: number;
    }) => ({
      taskId: r.taskId,
      state: r.state,
      due: formatIsoOffset(r.due, tz),
      assignee: r.assignee,
      ...(r.extension ? { extension: r.extension } : {}),
      ...(r.version !== undefined ? { version: r.version } : {}),
    });
  const tzOf = async (taskId: string) =>
    (await run<{ time_zone: string }>(pool, Q.task, [taskId])).rows[0]?.time_zone ??
    'Asia/Shanghai';

  define(
    app,
    {
      method: 'POST',
      url: '/api/tasks/:taskId/submit',
      tokens: true,
      summary:
        "Submit the task's work as the signed-in person (data checked by the indicator's fields; the task's evidence files attached)",
      tag: 'actions',
      params: TaskParams,
      query: langQuery,
      body: SubmitBody,
      response: ActionResult,
      errors: [400, 401, 403, 404, 409, 422, 503],
    },
    async (req, _reply, { params, body }) => {
      const b = body as z.infer<typeof SubmitBody>;
      const r = await submitTask(
        deps,
        meOf(req),
        params.taskId!,
        { note: b.note, values: b.data, requestId: b.requestId },
        req.lang,
      );
      return result(await tzOf(params.taskId!))(r);
    },
  );

  define(
    app,
    {
      method: 'POST',
      url: '/api/tasks/:taskId/approve',
      summary: 'Approve a submission (the reviewer)',
      tag: 'actions',
      params: TaskParams,
      query: langQuery,
      body: ApproveBody,
      response: ActionResult,
      errors: [400, 401, 403, 404, 409, 503],
    },
    async (req, _reply, { params, body }) => {
      const b = body as z.infer<typeof ApproveBody>;
      return result(await tzOf(params.taskId!))(
        await decideTask(deps, meOf(req), params.taskId!, 'approve', b),
      );
    },
  );

  define(
    app,
    {
      method: 'POST',
      url: '/api/tasks/:taskId/return',
      summary: 'Return a submission with a reason (the reviewer)',
      tag: 'actions',
      params: TaskParams,
      query: langQuery,
      body: ReturnBody,
      response: ActionResult,
      errors: [400, 401, 403, 404, 409, 422, 503],
    },
    async (req, _reply, { params, body }) => {
      const b = body as z.infer<typeof ReturnBody>;
      return result(await tzOf(params.taskId!))(
        await decideTask(deps, meOf(req), params.taskId!, 'return', b),
      );
    },
  );

  define(
    app,
    {
      method: 'POST',
      url: '/api/tasks/:taskId/extend',
      tokens: true,
      summary: 'Ask for (or, as an approver, grant) more time',
      tag: 'actions',
      params: TaskParams,
      query: langQuery,
      body: ExtendBody,
      response: ActionResult,
      errors: [400, 401, 403, 404, 409, 422, 503],
    },
    async (req, _reply, { params, body }) => {
      const b = body as z.infer<typeof ExtendBody>;
      return result(await tzOf(params.taskId!))(
        await extendTask(deps, meOf(req), params.taskId!, b),
      );
    },
  );

  define(
    app,
    {
      method: 'POST',
      url: '/api/tasks/:taskId/reassign',
      summary:
        "Hand the task to another person of its unit (the unit's deputy or head, or the bureau)",
      tag: 'actions',
      params: TaskParams,
      query: langQuery,
      body: ReassignBody,
      response: ActionResult,
      errors: [400, 401, 403, 404, 409, 422, 503],
    },
    async (req, _reply, { params, body }) => {
      const b = body as z.infer<typeof ReassignBody>;
      return result(await tzOf(params.taskId!))(
        await reassignTask(deps, meOf(req), params.taskId!, b),
      );
    },
  );

  define(
    app,
    {
      method: 'POST',
      url: '/api/tasks/:taskId/evidence',
      tokens: true,
      summary:
        'Upload evidence files (multipart/form-data; PDF, images, Office, OFD, by content; size limited)',
      tag: 'evidence',
      params: TaskParams,
      query: langQuery,
      multipart: true,
      response: z.array(EvidenceFile),
      errors: [400, 401, 403, 404, 409, 413, 415, 422],
    },
    async (req, _reply, { params }) => {
      if (!req.isMultipart())
        throw new Refused(
          415,
          '请以 multipart/form-data 上传文件。',
          'Upload the files as multipart/form-data.',
        );
      return uploadEvidence(deps, meOf(req), params.taskId!, await filesOf(req.body));
    },
  );

  define(
    app,
    {
      method: 'GET',
      url: '/api/evidence/:fileId',
      tokens: true,
      summary: 'Download an evidence file (checked against the task’s visibility)',
      tag: 'evidence',
      params: z.object({ fileId: z.string().max(100) }),
      response: 'binary',
      errors: [400, 401, 404],
    },
    async (req, reply, { params }) => {
      const f = await downloadEvidence(deps, meOf(req), params.fileId!);
      return reply
        .type(f.mime)
        .header('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(f.name)}`)
        .send(f.content);
    },
  );

  const boards = (req: FastifyRequest, campaignId: string) => {
    const m = membershipIn(meOf(req), campaignId);
    if (!canReadBoards(m)) throw notFound('campaign');
    return m!;
  };

  define(
    app,
    {
      method: 'GET',
      url: '/api/campaigns/:campaignId/board',
      summary: 'The campaign board (bureau and leadership)',
      tag: 'boards',
      params: CampaignParams,
      response: Board,
      errors: [400, 401, 404],
    },
    async (req, _reply, { params }) => {
      boards(req, params.campaignId!);
      return readBoard(pool, params.campaignId!);
    },
  );

  define(
    app,
    {
      method: 'GET',
      url: '/api/campaigns/:campaignId/ledger',
      summary: 'The rectification ledger (整改台账)',
      tag: 'boards',
      params: CampaignParams,
      response: z.array(LedgerRow),
      errors: [400, 401, 404],
    },
    async (req, _reply, { params }) => {
      boards(req, params.campaignId!);
      return (await ledgerRows(params.campaignId!, pool)).rows;
    },
  );

  define(
    app,
    {
      method: 'GET',
      url: '/api/campaigns/:campaignId/dispatch',
      summary: 'The daily dispatch digest (每日调度) of a day',
      tag: 'boards',
      params: CampaignParams,
      query: z.object({
        date: z
          .string()
          .regex(/^\d{4}-\d{2}-\d{2}$/)
          .refine(isLocalDate, 'not a calendar date')
          .optional(),
      }),
      response: z
        .object({
          date: z.string(),
          campaignName: z.string(),
          indicators: z.array(z.record(z.string(), z.unknown())),
        })
        .loose(),
      errors: [400, 401, 404],
    },
    async (req, _reply, { params, query }) => {
      boards(req, params.campaignId!);
      return dispatchDigest(pool, params.campaignId!, query.date as string | undefined);
    },
  );

  define(
    app,
    {
      method: 'GET',
      url: '/api/campaigns/:campaignId/performance',
      summary: 'Each unit’s performance record (unit_performance)',
      tag: 'boards',
      params: CampaignParams,
      response: Performance,
      errors: [400, 401, 404],
    },
    async (req, _reply, { params }) => {
      boards(req, params.campaignId!);
      const r = await run<Record<string, string | number | null>>(pool, Q.unitPerformance, [
        params.campaignId,
      ]);
      return r.rows.map((x) => ({
        unit: String(x.unit_id),
        unitName: x.unit_name === null ? null : String(x.unit_name),
        tasks: Number(x.tasks),
        doneOnTime: Number(x.done_on_time),
        doneLate: Number(x.done_late),
        openOverdue: Number(x.open_overdue),
        escalationsLevel1: Number(x.escalations_level1),
        escalationsLevel2: Number(x.escalations_level2),
        escalationsLevel3Plus: Number(x.escalations_level3_plus),
      }));
    },
  );

  const bureau = (req: FastifyRequest, campaignId: string) => {
    const me = meOf(req);
    const m = membershipIn(me, campaignId);
    if (!m || !isBureauOfficer(m)) throw notFound('campaign');
    return me;
  };

  define(
    app,
    {
      method: 'POST',
      url: '/api/campaigns/:campaignId/invitations',
      summary: 'Issue one-time invitations for a unit or a person (the bureau)',
      tag: 'accounts',
      params: CampaignParams,
      body: InviteBody,
      response: z.array(Invitation),
      errors: [400, 401, 403, 404],
    },
    async (req, _reply, { params, body }) => {
      const me = bureau(req, params.campaignId!);
      const b = body as z.infer<typeof InviteBody>;
      return createInvitations(pool, {
        campaignId: params.campaignId!,
        by: me.personId,
        unit: b.unit || undefined,
        person: b.person || undefined,
        ttlMs: cfg.inviteTtlMs,
        publicUrl: cfg.publicUrl,
      });
    },
  );

  define(
    app,
    {
      method: 'POST',
      url: '/api/campaigns/:campaignId/accounts/:personId/revoke',
      summary: "Revoke a person's account: sessions ended, invitations withdrawn (the bureau)",
      tag: 'accounts',
      params: z.object({
        campaignId: z.string().min(1).max(100),
        personId: z.string().min(1).max(100),
      }),
      response: z.object({ revoked: z.string() }),
      errors: [400, 401, 403, 404, 409],
    },
    async (req, _reply, { params }) => {
      const me = bureau(req, params.campaignId!);
      await revokeAccount(pool, {
        campaignId: params.campaignId!,
        by: me.personId,
        person: params.personId!,
      });
      return { revoked: params.personId! };
    },
  );

  const TokenParams = z.object({ campaignId: z.string().min(1).max(100) });
  const TokenBody = z.object({
    unit: z.string().min(1).max(100),
    person: z
      .string()
      .min(1)
      .max(100)
      .describe('the person of the unit who answers for the system'),
    name: z.string().min(1).max(200).describe('what system uses it'),
  });
  const TokenInfo = z.object({
    tokenId: z.string(),
    unit: z.string(),
    person: z.string(),
    name: z.string(),
    createdBy: z.string(),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  });

  define(
    app,
    {
      method: 'POST',
      url: '/api/campaigns/:campaignId/tokens',
      summary:
        "Issue an API token for a unit's own system (the bureau, or the unit's head or deputy); the token is shown once",
      tag: 'tokens',
      params: TokenParams,
      body: TokenBody,
      response: z.object({
        tokenId: z.string(),
        token: z.string(),
        unit: z.string(),
        person: z.string(),
        name: z.string(),
        createdAt: z.string(),
      }),
      errors: [400, 401, 403, 404, 422],
    },
    async (req, _reply, { params, body }) =>
      createToken(pool, meOf(req), {
        campaignId: params.campaignId!,
        ...(body as z.infer<typeof TokenBody>),
      }),
  );

  define(
    app,
    {
      method: 'GET',
      url: '/api/campaigns/:campaignId/tokens',
      summary: 'The API tokens the person manages, with their last use',
      tag: 'tokens',
      params: TokenParams,
      response: z.array(TokenInfo),
      errors: [400, 401, 404],
    },
    async (req, _reply, { params }) => listTokens(pool, meOf(req), params.campaignId!),
  );

  define(
    app,
    {
      method: 'POST',
      url: '/api/campaigns/:campaignId/tokens/:tokenId/revoke',
      summary: 'Revoke an API token',
      tag: 'tokens',
      params: z.object({ campaignId: z.string().min(1).max(100), tokenId: z.string().max(100) }),
      response: z.object({ revoked: z.string() }),
      errors: [400, 401, 404],
    },
    async (req, _reply, { params }) => {
      await revokeToken(pool, meOf(req), params.campaignId!, params.tokenId!);
      return { revoked: params.tokenId! };
    },
  );

  app.get('/api/openapi.json', { config: { access: 'public' } }, async () =>
    openApiDocument(cfg.publicUrl),
  );
}

// ---- the document ----

const schemaOf = (s: z.ZodType, io: 'input' | 'output') => {
  const json = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return json;
};

const STATUS_TEXT: Record<number, string> = {
  400: 'The request is not valid',
  414: 'The address is too long',
  401: 'No session: sign in first',
  403: 'Refused (for example the CSRF token is missing)',
  404: 'No such thing, or not the person’s to see',
  409: 'The action is not allowed now (the rule is named)',
  413: 'The file is over the size limit',
  415: 'The file type is not accepted',
  422: 'Values are not valid (each field’s problem named)',
  429: 'Locked after repeated failed sign-ins',
  503: 'The workflow service did not answer in time',
};

export function openApiDocument(server: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.url.replace(/:(\w+)/g, '{$1}');
    const parameters: unknown[] = [];
    for (const [where, obj] of [
      ['path', r.params],
      ['query', r.query],
    ] as const) {
      if (!obj) continue;
      for (const [name, s] of Object.entries(obj.shape)) {
        parameters.push({
          name,
          in: where,
          required: where === 'path' || !(s as z.ZodType).safeParse(undefined).success,
          schema: schemaOf(s as z.ZodType, 'input'),
        });
      }
    }
    const responses: Record<string, unknown> = {
      200: {
        description: 'OK',
        content:
          r.response === 'binary'
            ? { '*/*': { schema: { type: 'string', format: 'binary' } } }
            : { 'application/json': { schema: schemaOf(r.response, 'output') } },
      },
    };
    // What any route may answer besides its own: a bad request or an over-long address, and for
    // a post a body too large or of a type the portal does not read.
    const common = r.method === 'POST' ? [400, 413, 414, 415] : [400, 414];
    for (const code of [...new Set([...r.errors, ...common])].sort()) {
      responses[code] = {
        description: STATUS_TEXT[code] ?? 'Error',
        content: { 'application/json': { schema: schemaOf(ErrorBody, 'output') } },
      };
    }
    const op: Record<string, unknown> = {
      operationId: `${r.method.toLowerCase()}${path.replace(/[{}]/g, '').replace(/[^\w]+(\w)/g, (_m, c: string) => c.toUpperCase())}`,
      summary: r.summary,
      tags: [r.tag],
      parameters,
      responses,
      security:
        r.access === 'public'
          ? []
          : r.tokens
            ? [{ session: [], csrf: [] }, { unitToken: [] }]
            : [{ session: [], csrf: [] }],
    };
    if (r.body)
      op.requestBody = {
        required: true,
        content: { 'application/json': { schema: schemaOf(r.body, 'input') } },
      };
    if (r.multipart)
      op.requestBody = {
        required: true,
        content: {
          'multipart/form-data': {
            schema: {
              type: 'object',
              properties: { files: { type: 'array', items: { type: 'string', format: 'binary' } } },
            },
          },
        },
      };
    (paths[path] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'County campaign department portal API',
      version: '1.0.0',
      description:
        'The portal’s JSON API. Every route except sign-in needs the session cookie; every POST also needs the X-CSRF-Token header (from POST /api/session or GET /api/me). The actor of every action is the signed-in person.',
    },
    servers: [{ url: server }],
    security: [{ session: [], csrf: [] }, { unitToken: [] }],
    components: {
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'portal_session' },
        csrf: { type: 'apiKey', in: 'header', name: 'X-CSRF-Token' },
        unitToken: { type: 'http', scheme: 'bearer', description: "a unit's API token (cct_…)" },
      },
    },
    paths,
  };
}
