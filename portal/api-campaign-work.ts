// The JSON twins of the verification and rectification pages, declared with zod schemas so that
// they appear in the OpenAPI document. A content problem (an empty item, a step's missing cause,
// a measure's unknown unit) answers 422 with a message per field; the actor is the signed-in
// person and no schema has a field for it.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { STEP_KINDS } from '../domain/rectification.ts';
import { define, langQuery, requestId, TaskState, TaskSummary } from './api.ts';
import {
  addMeasure,
  recordVerification,
  rectificationDetail,
  rectificationsOf,
  requestEvidence,
  submitStep,
  verificationView,
} from './campaign-work.ts';
import { meOf } from './pages.ts';
import type { PortalDeps } from './service.ts';

const Params = z.object({ campaignId: z.string().min(1).max(100) });
const IndicatorParams = Params.extend({ code: z.string().min(1).max(100) });

const Verification = z.object({
  campaignId: z.string(),
  campaignName: z.string(),
  timeZone: z.string(),
  indicators: z.array(
    z.object({
      code: z.string(),
      name: z.string(),
      leadUnit: z.string(),
      phase: z.string(),
      state: z.string(),
      flagged: z.boolean(),
      verifications: z.array(
        z.object({
          seq: z.number().int(),
          item: z.string(),
          outcome: z.enum(['confirmed', 'discrepant']),
          note: z.string().nullable(),
          actor: z.string(),
          actorName: z.string().nullable(),
          at: z.string(),
        }),
      ),
      evidenceRequests: z.array(TaskSummary),
    }),
  ),
  elsewhere: z.array(z.object({ code: z.string(), name: z.string(), phase: z.string() })),
  samples: z.array(
    z.object({
      seed: z.string(),
      proportion: z.number(),
      population: z.number().int(),
      size: z.number().int(),
      drawnBy: z.string(),
      drawnAt: z.string(),
      enterprises: z.array(
        z.object({
          creditCode: z.string(),
          name: z.string().nullable(),
          industry: z.string().nullable(),
          town: z.string().nullable(),
        }),
      ),
    }),
  ),
  units: z.array(z.object({ id: z.string(), name: z.string() })),
});

const VerifyBody = z.object({
  item: z.string().max(2000).describe('the item verified'),
  outcome: z.string().max(40).describe('confirmed or discrepant'),
  note: z.string().max(10000).optional(),
  requestId,
});
const VerifyResult = z.object({
  indicator: z.string(),
  item: z.string(),
  outcome: z.enum(['confirmed', 'discrepant']),
  flagged: z.boolean(),
});
const EvidenceBody = z.object({
  unit: z.string().max(100).describe('the unit that must provide it'),
  what: z.string().max(2000).describe('what is asked for'),
  requestId,
});

const RectState = z.enum(['steps', 'measures', 'closed', 'cancelled']);
const StepKind = z.enum(STEP_KINDS);
const RectificationSummary = z.object({
  code: z.string(),
  name: z.string(),
  leadUnit: z.string(),
  leadUnitName: z.string().nullable(),
  state: RectState,
  step: StepKind.nullable(),
  stepState: TaskState.nullable(),
  measures: z.number().int(),
  closedMeasures: z.number().int(),
  reason: z.string(),
  startedAt: z.string(),
  closedAt: z.string().nullable(),
});
const RectificationDetail = RectificationSummary.extend({
  campaignId: z.string(),
  timeZone: z.string(),
  benchmark: z.string().nullable(),
  current: z
    .object({
      kind: StepKind,
      taskId: z.string(),
      state: TaskState,
      due: z.string(),
      assignee: z.string(),
      assigneeName: z.string().nullable(),
      problemCount: z.number().int(),
      lastReturnReason: z.string().nullable(),
      lastData: z.record(z.string(), z.unknown()).nullable(),
    })
    .nullable(),
  steps: z.array(
    z.object({
      kind: StepKind,
      taskId: z.string(),
      state: TaskState,
      data: z.record(z.string(), z.unknown()).nullable(),
    }),
  ),
  problems: z.array(
    z.object({ no: z.number().int(), finding: z.string(), description: z.string() }),
  ),
  measuresList: z.array(
    z.object({
      no: z.number().int(),
      problem: z.number().int(),
      measure: z.string(),
      unit: z.string(),
      unitName: z.string(),
      person: z.string(),
      personName: z.string(),
      taskId: z.string(),
      state: TaskState.nullable(),
      due: z.string().nullable(),
      addedBy: z.string().nullable(),
      addedReason: z.string().nullable(),
    }),
  ),
  allowed: z.object({ submitStep: z.boolean(), addMeasure: z.boolean() }),
  owners: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      people: z.array(z.object({ id: z.string(), name: z.string() })),
    }),
  ),
});

const StepBody = z.object({
  data: z
    .record(z.string().max(100), z.unknown())
    .describe(
      'the step’s data: {problems:[{finding,description}]}, {causes:[{problem,cause}]}, {benchmark,gaps:[{problem,gap}]} or {measures:[{problem,measure,unit,person,due}]}',
    ),
  note: z.string().max(5000).optional(),
  requestId,
});
const StepResult = z.object({
  taskId: z.string(),
  step: StepKind,
  state: TaskState,
  assignee: z.string(),
});
const MeasureBody = z.object({
  problem: z.union([z.number(), z.string().max(10)]).describe('the problem number it addresses'),
  measure: z.string().max(5000),
  unit: z.string().max(100).describe('the responsible unit'),
  person: z.string().max(100).describe('the responsible person of that unit'),
  due: z.string().max(40).describe('a date (the end of that working day) or a local date-time'),
  reason: z.string().max(5000).describe('why it is added'),
  requestId,
});

export function registerCampaignWorkApi(app: FastifyInstance, deps: PortalDeps): void {
  define(
    app,
    {
      method: 'GET',
      url: '/api/campaigns/:campaignId/verification',
      summary:
        'The evaluator’s verification: indicators in verification, verified items, evidence requests, the enterprise sample',
      tag: 'verification',
      params: Params,
      query: langQuery,
      response: Verification,
      errors: [400, 401, 404],
    },
    async (req, _reply, { params }) => verificationView(deps, meOf(req), params.campaignId!),
  );

  define(
    app,
    {
      method: 'POST',
      url: '/api/campaigns/:campaignId/verification/:code/verify',
      summary: 'Record a verified item as the signed-in evaluator (the CLI’s `campaign verify`)',
      tag: 'verification',
      params: IndicatorParams,
      query: langQuery,
      body: VerifyBody,
      response: VerifyResult,
      errors: [400, 401, 403, 404, 409, 422, 503],
    },
    async (req, _reply, { params, body }) =>
      recordVerification(
        deps,
        meOf(req),
        params.campaignId!,
        params.code!,
        body as z.infer<typeof VerifyBody>,
        req.lang,
      ),
  );

  define(
    app,
    {
      method: 'POST',
      url: '/api/campaigns/:campaignId/verification/:code/evidence',
      summary:
        'Ask a unit for supporting evidence as the signed-in evaluator (the CLI’s `campaign evidence request`)',
      tag: 'verification',
      params: IndicatorParams,
      query: langQuery,
      body: EvidenceBody,
      response: z.object({ taskId: z.string(), due: z.string() }),
      errors: [400, 401, 403, 404, 409, 422, 503],
    },
    async (req, _reply, { params, body }) =>
      requestEvidence(
        deps,
        meOf(req),
        params.campaignId!,
        params.code!,
        body as z.infer<typeof EvidenceBody>,
        req.lang,
      ),
  );

  define(
    app,
    {
      method: 'GET',
      url: '/api/campaigns/:campaignId/rectification',
      summary: 'The rectifications (整改) of a campaign the person sees, with their state',
      tag: 'rectification',
      params: Params,
      query: langQuery,
      response: z.array(RectificationSummary),
      errors: [400, 401, 404],
    },
    async (req, _reply, { params }) => rectificationsOf(deps, meOf(req), params.campaignId!),
  );

  define(
    app,
    {
      method: 'GET',
      url: '/api/campaigns/:campaignId/rectification/:code',
      summary:
        'One rectification: its steps, the step under way, the problems, the measures, what the person may do',
      tag: 'rectification',
      params: IndicatorParams,
      query: langQuery,
      response: RectificationDetail,
      errors: [400, 401, 404],
    },
    async (req, _reply, { params }) =>
      rectificationDetail(deps, meOf(req), params.campaignId!, params.code!),
  );

  define(
    app,
    {
      method: 'POST',
      url: '/api/campaigns/:campaignId/rectification/:code/step',
      summary:
        'Submit the step under way (problems, causes, gaps or measures) as a person of the lead unit; each problem named by field',
      tag: 'rectification',
      params: IndicatorParams,
      query: langQuery,
      body: StepBody,
      response: StepResult,
      errors: [400, 401, 403, 404, 409, 422, 503],
    },
    async (req, _reply, { params, body }) => {
      const b = body as z.infer<typeof StepBody>;
      const r = await submitStep(
        deps,
        meOf(req),
        params.campaignId!,
        params.code!,
        { data: b.data, note: b.note, requestId: b.requestId },
        req.lang,
      );
      return { taskId: r.taskId, step: r.step, state: r.state, assignee: r.assignee };
    },
  );

  define(
    app,
    {
      method: 'POST',
      url: '/api/campaigns/:campaignId/rectification/:code/measures',
      summary:
        'Add a measure to a rectification under way as the signed-in bureau officer (the CLI’s `campaign measure add`)',
      tag: 'rectification',
      params: IndicatorParams,
      query: langQuery,
      body: MeasureBody,
      response: z.object({ no: z.number().int(), taskId: z.string() }),
      errors: [400, 401, 403, 404, 409, 422, 503],
    },
    async (req, _reply, { params, body }) =>
      addMeasure(
        deps,
        meOf(req),
        params.campaignId!,
        params.code!,
        body as z.infer<typeof MeasureBody>,
        req.lang,
      ),
  );
}
