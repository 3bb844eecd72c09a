// The JSON twins of the bureau's and the evaluator's pages, declared with zod schemas so that
// they appear in the OpenAPI document: start a campaign (after checking its file), move a
// phase, cancel, import the results and the enterprise list, adjust the assessment; draw the
// enterprise and the record samples, record a site visit. A file travels as its name and its
// content in base64. A problem of a file answers 422 with a message per place (sheet, row and
// column, or line); the actor is the signed-in person and no schema has a field for it.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { define, langQuery, requestId } from './api.ts';
import { Refused } from './errors.ts';
import { meOf } from './pages.ts';
import {
  adjustAssessment,
  bureauView,
  cancelCampaign,
  checkDefinitionUpload,
  drawEnterpriseSample,
  drawRecordSample,
  evaluatorView,
  importEnterprises,
  importResults,
  movePhase,
  recordVisit,
  startCampaign,
  type UploadedFile,
} from './roles-work.ts';
import type { PortalDeps } from './service.ts';

const Params = z.object({ campaignId: z.string().min(1).max(100) });
const IndicatorParams = Params.extend({ code: z.string().min(1).max(100) });

const FileBody = {
  fileName: z
    .string()
    .min(1)
    .max(200)
    .describe(
      'the file’s name; its extension says how it is read (.yaml, .yml, .json, .xlsx, .csv)',
    ),
  content: z.string().max(1_000_000).describe('the file’s content, base64'),
};

/** The file of a body, decoded; a content that is not base64 is refused by name. */
function fileOf(b: { fileName: string; content: string }): UploadedFile {
  const text = b.content.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1)
    throw new Refused(
      400,
      '请求无效：body.content 须为 base64 编码的文件内容。',
      'Bad request: body.content must be the file’s content in base64.',
    );
  return { fileName: b.fileName, bytes: Buffer.from(text, 'base64') };
}

const DefinitionCheck = z.object({
  valid: z.boolean(),
  fileName: z.string(),
  problems: z.record(z.string(), z.string()).describe('each problem by its place'),
  summary: z
    .object({
      campaignId: z.string(),
      name: z.string(),
      county: z.string(),
      year: z.number().int(),
      units: z.number().int(),
      people: z.number().int(),
      indicators: z.number().int(),
    })
    .nullable(),
});

const StartBody = z.object({
  ...FileBody,
  id: z.string().max(100).optional().describe('another campaign id than the file’s'),
  begin: z
    .enum(['now'])
    .optional()
    .describe('a rehearsal: every phase window moved so that training begins now'),
  allowPast: z
    .boolean()
    .optional()
    .describe('start on the file’s dates even though a phase has already ended'),
});

const PhaseBody = z.object({
  action: z.string().max(20).describe('close (end it now) or extend'),
  phase: z.string().max(40).describe('training, dataEntry, verification or reporting'),
  until: z
    .string()
    .max(40)
    .optional()
    .describe(
      'the new end, for extend: a local date-time, or a date (the end of that working day)',
    ),
  reason: z.string().max(5000).describe('why (recorded with the decision)'),
  requestId,
});
const PhaseResult = z.object({
  phase: z.string(),
  action: z.enum(['close', 'extend']),
  start: z.string(),
  end: z.string(),
  campaignPhase: z.string(),
});

const CancelBody = z.object({ reason: z.string().max(5000), requestId });
const FileImportBody = z.object({ ...FileBody, requestId });
const AdjustBody = z.object({
  unit: z.string().max(100).describe('the department adjusted'),
  points: z
    .union([z.number(), z.string().max(20)])
    .describe('points added (or taken, when negative), other than 0, from -1000 to 1000'),
  reason: z.string().max(5000),
});
const SampleBody = z.object({
  seed: z.string().max(200).optional().describe('the seed; without it, the official draw’s'),
  reason: z
    .string()
    .max(5000)
    .optional()
    .describe('the bureau’s reason for drawing again (the new draw becomes the official one)'),
});
const RecordSampleBody = SampleBody.extend({
  proportion: z.union([z.number(), z.string().max(20)]).optional(),
  count: z.union([z.number(), z.string().max(20)]).optional(),
  byUnit: z.boolean().optional().describe('stratified: each unit drawn on its own'),
});
const VisitBody = z.object({
  kind: z.string().max(20).describe('site-visit or interview'),
  date: z.string().max(20).describe('the day, YYYY-MM-DD'),
  place: z.string().max(1000).describe('where, or whom'),
  outcome: z.string().max(20).describe('confirmed or discrepant'),
  note: z.string().max(10000).optional(),
  requestId,
});

const EnterpriseDraw = z.object({
  drawNo: z.number().int(),
  official: z.boolean(),
  seed: z.string(),
  size: z.number().int(),
  population: z.number().int(),
  proportion: z.number(),
  enterprises: z.array(z.string()),
  reason: z.string().nullable(),
  supersedes: z.number().int().nullable(),
  unchanged: z.boolean(),
});
const RecordDraw = z.object({
  drawNo: z.number().int(),
  official: z.boolean(),
  seed: z.string(),
  proportion: z.number().nullable(),
  count: z.number().int().nullable(),
  stratified: z.boolean(),
  population: z.number().int(),
  size: z.number().int(),
  reason: z.string().nullable(),
  supersedes: z.number().int().nullable(),
  unchanged: z.boolean(),
  records: z.array(z.object({ unit: z.string(), recordNo: z.string(), date: z.string() })),
});

const BureauView = z.object({
  campaignId: z.string(),
  name: z.string(),
  timeZone: z.string(),
  phase: z.string(),
  status: z.string(),
  phases: z.array(z.object({ phase: z.string(), start: z.string(), end: z.string() })),
  departments: z.array(z.object({ id: z.string(), name: z.string() })),
  indicators: z.array(z.object({ code: z.string(), name: z.string() })),
  enterprises: z.number().int(),
  officialSample: z
    .object({
      drawNo: z.number().int(),
      seed: z.string(),
      size: z.number().int(),
      drawnBy: z.string(),
    })
    .nullable(),
  adjustments: z.array(
    z.object({
      no: z.number().int(),
      unit: z.string(),
      unitName: z.string(),
      points: z.number(),
      reason: z.string(),
      by: z.string(),
      at: z.string(),
    }),
  ),
});
const EvaluatorView = z.object({
  campaignId: z.string(),
  name: z.string(),
  timeZone: z.string(),
  enterprises: z.number().int(),
  enterpriseSample: z
    .object({
      drawNo: z.number().int(),
      seed: z.string(),
      size: z.number().int(),
      population: z.number().int(),
      drawnBy: z.string(),
      drawnAt: z.string(),
    })
    .nullable(),
  indicators: z.array(
    z.object({
      code: z.string(),
      name: z.string(),
      phase: z.string(),
      recordSample: z
        .object({
          drawNo: z.number().int(),
          seed: z.string(),
          size: z.number().int(),
          population: z.number().int(),
          drawnBy: z.string(),
          reason: z.string().nullable(),
        })
        .nullable(),
      visits: z.array(
        z.object({
          kind: z.enum(['site-visit', 'interview']),
          date: z.string(),
          place: z.string(),
          outcome: z.enum(['confirmed', 'discrepant']),
          note: z.string().nullable(),
          by: z.string(),
        }),
      ),
    }),
  ),
});

const WRITE = [400, 401, 403, 404, 409, 422, 503];

export function registerRolesApi(app: FastifyInstance, deps: PortalDeps): void {
  // ---- the bureau ----
  define(
    app,
    {
      method: 'POST',
      url: '/api/campaigns/check',
      summary:
        'Check a campaign definition (YAML, JSON) or the division-of-labour workbook (.xlsx) as a bureau officer: every problem by its place',
      tag: 'bureau',
      query: langQuery,
      body: z.object(FileBody),
      response: DefinitionCheck,
      errors: [400, 401, 404, 413, 422],
    },
    async (req, _reply, { body }) =>
      checkDefinitionUpload(
        deps,
        meOf(req),
        fileOf(body as { fileName: string; content: string }),
        req.lang,
      ),
  );

  define(
    app,
    {
      method: 'POST',
      url: '/api/campaigns',
      summary:
        'Start a campaign from a definition or the workbook (the CLI’s `campaign start`): checked first, refused with every problem by its place',
      tag: 'bureau',
      query: langQuery,
      body: StartBody,
      response: z.object({ campaignId: z.string(), workflowId: z.string(), recorded: z.boolean() }),
      errors: [...WRITE, 413],
    },
    async (req, _reply, { body }) => {
      const b = body as z.infer<typeof StartBody>;
      return startCampaign(
        deps,
        meOf(req),
        { file: fileOf(b), id: b.id, begin: b.begin, allowPast: b.allowPast },
        req.lang,
      );
    },
  );

  define(
    app,
    {
      method: 'GET',
      url: '/api/campaigns/:campaignId/bureau',
      summary:
        'The bureau’s view of a campaign: its phase windows, departments, the enterprise list and sample, the assessment’s adjustments',
      tag: 'bureau',
      params: Params,
      query: langQuery,
      response: BureauView,
      errors: [400, 401, 404],
    },
    async (req, _reply, { params }) => bureauView(deps, meOf(req), params.campaignId!),
  );

  define(
    app,
    {
      method: 'POST',
      url: '/api/campaigns/:campaignId/phase',
      summary:
        'Close the phase under way now, or give a phase a later end (the CLI’s `campaign phase`)',
      tag: 'bureau',
      params: Params,
      query: langQuery,
      body: PhaseBody,
      response: PhaseResult,
      errors: WRITE,
    },
    async (req, _reply, { params, body }) =>
      movePhase(deps, meOf(req), params.campaignId!, body as z.infer<typeof PhaseBody>, req.lang),
  );

  define(
    app,
    {
      method: 'POST',
      url: '/api/campaigns/:campaignId/cancel',
      summary:
        'Cancel a campaign started by mistake or for a rehearsal (the CLI’s `campaign cancel`)',
      tag: 'bureau',
      params: Params,
      query: langQuery,
      body: CancelBody,
      response: z.object({ campaignId: z.string(), status: z.literal('cancelled') }),
      errors: WRITE,
    },
    async (req, _reply, { params, body }) =>
      cancelCampaign(
        deps,
        meOf(req),
        params.campaignId!,
        body as z.infer<typeof CancelBody>,
        req.lang,
      ),
  );

  define(
    app,
    {
      method: 'POST',
      url: '/api/campaigns/:campaignId/results',
      summary:
        'Import the evaluation’s scores and ranks from a CSV (指标代码, 得分, 排名; the CLI’s `campaign results import`)',
      tag: 'bureau',
      params: Params,
      query: langQuery,
      body: FileImportBody,
      response: z.object({ imported: z.number().int(), rectificationStarted: z.array(z.string()) }),
      errors: [...WRITE, 413],
    },
    async (req, _reply, { params, body }) => {
      const b = body as z.infer<typeof FileImportBody>;
      return importResults(
        deps,
        meOf(req),
        params.campaignId!,
        { file: fileOf(b), requestId: b.requestId },
        req.lang,
      );
    },
  );

  define(
    app,
    {
      method: 'POST',
      url: '/api/campaigns/:campaignId/enterprises',
      summary:
        'Import the full enterprise list from a CSV (统一社会信用代码, 企业名称[, 行业, 乡镇, 主管部门, 问卷指标]; the CLI’s `campaign enterprises import`)',
      tag: 'bureau',
      params: Params,
      query: langQuery,
      body: z.object(FileBody),
      response: z.object({ imported: z.number().int() }),
      errors: [...WRITE, 413],
    },
    async (req, _reply, { params, body }) =>
      importEnterprises(
        deps,
        meOf(req),
        params.campaignId!,
        { file: fileOf(body as { fileName: string; content: string }) },
        req.lang,
      ),
  );

  define(
    app,
    {
      method: 'POST',
      url: '/api/campaigns/:campaignId/assessment/adjustments',
      summary:
        'Adjust a department’s assessment by some points, with a reason (the CLI’s `campaign assessment adjust`)',
      tag: 'bureau',
      params: Params,
      query: langQuery,
      body: AdjustBody,
      response: z.object({
        no: z.number().int(),
        unit: z.string(),
        points: z.number(),
        reason: z.string(),
        by: z.string(),
        at: z.string(),
      }),
      errors: WRITE,
    },
    async (req, _reply, { params, body }) =>
      adjustAssessment(
        deps,
        meOf(req),
        params.campaignId!,
        body as z.infer<typeof AdjustBody>,
        req.lang,
      ),
  );

  // ---- the evaluator (the bureau may redraw, with a reason, as in the CLI) ----
  define(
    app,
    {
      method: 'GET',
      url: '/api/campaigns/:campaignId/evaluator',
      summary:
        'The evaluator’s view: the enterprise sample, each indicator’s record sample and site visits',
      tag: 'evaluator',
      params: Params,
      query: langQuery,
      response: EvaluatorView,
      errors: [400, 401, 404],
    },
    async (req, _reply, { params }) => evaluatorView(deps, meOf(req), params.campaignId!),
  );

  define(
    app,
    {
      method: 'POST',
      url: '/api/campaigns/:campaignId/sample',
      summary:
        'Draw the enterprise sample by the campaign’s proportion (the CLI’s `campaign sample`): the first draw is the official one, the same seed gives it again, a redraw needs the bureau’s reason',
      tag: 'evaluator',
      params: Params,
      query: langQuery,
      body: SampleBody,
      response: EnterpriseDraw,
      errors: WRITE,
    },
    async (req, _reply, { params, body }) =>
      drawEnterpriseSample(
        deps,
        meOf(req),
        params.campaignId!,
        body as z.infer<typeof SampleBody>,
        req.lang,
      ),
  );

  define(
    app,
    {
      method: 'POST',
      url: '/api/campaigns/:campaignId/records/:code/sample',
      summary:
        'Draw an indicator’s business-record sample, seeded, by proportion or count, by unit when asked (the CLI’s `campaign records sample`)',
      tag: 'evaluator',
      params: IndicatorParams,
      query: langQuery,
      body: RecordSampleBody,
      response: RecordDraw,
      errors: WRITE,
    },
    async (req, _reply, { params, body }) => {
      const d = await drawRecordSample(
        deps,
        meOf(req),
        params.campaignId!,
        params.code!,
        body as z.infer<typeof RecordSampleBody>,
        req.lang,
      );
      return {
        drawNo: d.drawNo,
        official: d.official,
        seed: d.seed,
        proportion: d.proportion,
        count: d.count,
        stratified: d.stratified,
        population: d.population,
        size: d.size,
        reason: d.reason,
        supersedes: d.supersedes,
        unchanged: d.unchanged,
        records: d.records.map((r) => ({ unit: r.unit, recordNo: r.recordNo, date: r.date })),
      };
    },
  );

  define(
    app,
    {
      method: 'POST',
      url: '/api/campaigns/:campaignId/visits/:code',
      summary:
        'Record a site visit or an interview as a verified item of the indicator (the CLI’s `campaign visit record`)',
      tag: 'evaluator',
      params: IndicatorParams,
      query: langQuery,
      body: VisitBody,
      response: z.object({
        indicator: z.string(),
        kind: z.enum(['site-visit', 'interview']),
        date: z.string(),
        place: z.string(),
        outcome: z.enum(['confirmed', 'discrepant']),
        note: z.string().nullable(),
        flagged: z.boolean(),
      }),
      errors: WRITE,
    },
    async (req, _reply, { params, body }) =>
      recordVisit(
        deps,
        meOf(req),
        params.campaignId!,
        params.code!,
        body as z.infer<typeof VisitBody>,
        req.lang,
      ),
  );
}
