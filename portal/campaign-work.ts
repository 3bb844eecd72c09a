// What the portal does for the evaluator's verification (核查) and for the rectification loop
// (整改), once for the pages and the API: read the projections the person may see, check a
// request field by field, and send it as the same Temporal update the CLI sends (verify,
// requestEvidence, addMeasure, and a step's submission to its task). The actor is always the
// signed-in person. What the person may not see answers 404, as for a thing that does not exist.
import { randomUUID } from 'node:crypto';
import { indicatorWorkflowId, rectificationWorkflowId } from '../domain/campaign.ts';
import {
  addMeasureUpdate,
  requestEvidenceUpdate,
  verifyUpdate,
  type VerifyResult,
} from '../domain/messages.ts';
import { STEP_KINDS, type StepKind } from '../domain/rectification.ts';
import type { ActionResult, TaskState } from '../domain/task.ts';
import { formatIsoOffset } from '../domain/time.ts';
import { Q, run } from '../db/portal.ts';
import {
  isBureauOfficer,
  membershipIn,
  rosterOfCampaign,
  type Me,
  type Membership,
  type TaskRow,
} from './access.ts';
import { notFound, Refused } from './errors.ts';
import { t, type Lang } from './html.ts';
import {
  sendWorkflowUpdate,
  submitTask,
  summaryOf,
  taskDetail,
  type PortalDeps,
  type TaskSummary,
} from './service.ts';
import { measureFieldErrors, stepErrors, type FieldErrors } from './step-form.ts';

/**
 * The workflow's idempotency key for an action: the person's key (or a new one) under the
 * action's name. An indicator's workflow keeps one table of handled keys for all its actions, so
 * the same key sent to a verification and to an evidence request is two requests, not one.
 */
const requestIdOf = (action: string, id: string | undefined) =>
  `${action}:${id && /^[\w-]{8,80}$/.test(id) ? id : randomUUID()}`;

const INDICATOR_FINISHED = {
  zh: '该指标的流程已经结束，不能再办理。',
  en: "this indicator's lifecycle has ended: nothing more can be done.",
};
const RECTIFICATION_FINISHED = {
  zh: '该指标的整改已经结束（已销号或已取消），不能再办理。',
  en: 'this rectification has ended (closed or cancelled): nothing more can be done.',
};

const invalid = (fields: FieldErrors): Refused =>
  new Refused(
    422,
    '填写的内容有误，请按各项提示修改后再提交（尚未提交）。',
    'Some values are not valid: correct them as shown and submit again (nothing was sent).',
    fields,
  );

interface IndicatorRow {
  code: string;
  name: string;
  lead_unit: string;
  phase: string | null;
  state: string | null;
  flagged: boolean | null;
}

async function indicatorsOf(deps: PortalDeps, campaignId: string): Promise<IndicatorRow[]> {
  return (
    await deps.pool.query<IndicatorRow>(
      `SELECT i.code, i.name, i.lead_unit, s.phase, s.state, s.flagged
         FROM indicators i
         LEFT JOIN indicator_status s ON s.campaign_id = i.campaign_id AND s.code = i.code
        WHERE i.campaign_id = $1 ORDER BY i.position`,
      [campaignId],
    )
  ).rows;
}

async function tasksOf(deps: PortalDeps, campaignId: string): Promise<TaskRow[]> {
  return (await run<TaskRow>(deps.pool, Q.tasksOfCampaign, [campaignId, true])).rows;
}

// ---- verification (the evaluator) ----

/** The evaluator's people (evaluator or head, as the CLI's verify and sample commands allow). */
export function evaluatorIn(me: Me, campaignId: string): Membership {
  const m = membershipIn(me, campaignId);
  if (!m || m.unitKind !== 'evaluator' || !['evaluator', 'head'].includes(m.role))
    throw notFound('campaign');
  return m;
}

/** Phases in which the evaluator verifies items (requests evidence in verification only). */
export const VERIFYING = ['verification', 'reporting'];

export interface VerificationView {
  campaignId: string;
  campaignName: string;
  timeZone: string;
  indicators: {
    code: string;
    name: string;
    leadUnit: string;
    phase: string;
    state: string;
    flagged: boolean;
    verifications: {
      seq: number;
      item: string;
      outcome: 'confirmed' | 'discrepant';
      note: string | null;
      actor: string;
      actorName: string | null;
      at: string;
    }[];
    evidenceRequests: TaskSummary[];
  }[];
  /** Indicators not (or no longer) in verification: their codes. */
  elsewhere: { code: string; name: string; phase: string }[];
  samples: {
    seed: string;
    proportion: number;
    population: number;
    size: number;
    drawnBy: string;
    drawnAt: string;
    enterprises: {
      creditCode: string;
      name: string | null;
      industry: string | null;
      town: string | null;
    }[];
  }[];
  /** Units evidence can be asked of: departments and the bureau, with somebody to do it. */
  units: { id: string; name: string }[];
}

export async function verificationView(
  deps: PortalDeps,
  me: Me,
  campaignId: string,
): Promise<VerificationView> {
  const m = evaluatorIn(me, campaignId);
  const [campaign, indicators, verifications, tasks, samples, roster] = await Promise.all([
    deps.pool.query<{ name: string; time_zone: string }>(
      'SELECT name, time_zone FROM campaigns WHERE campaign_id = $1',
      [campaignId],
    ),
    indicatorsOf(deps, campaignId),
    deps.pool.query<{
      code: string;
      seq: number;
      item: string;
      outcome: 'confirmed' | 'discrepant';
      note: string | null;
      actor: string;
      at: Date;
    }>(
      'SELECT code, seq, item, outcome, note, actor, at FROM verifications WHERE campaign_id = $1 ORDER BY code, seq',
      [campaignId],
    ),
    tasksOf(deps, campaignId),
    deps.pool.query<{
      seed: string;
      proportion: string;
      population: number;
      size: number;
      enterprises: string[];
      drawn_by: string;
      drawn_at: Date;
    }>(
      // The official draw first (the one that counts), then the earlier ones.
      'SELECT seed, proportion, population, size, enterprises, drawn_by, drawn_at FROM samples WHERE campaign_id = $1 ORDER BY official DESC, draw_no DESC',
      [campaignId],
    ),
    rosterOfCampaign(deps.pool, campaignId),
  ]);
  const tz = campaign.rows[0]?.time_zone ?? 'Asia/Shanghai';
  const names = new Map(roster.people.map((p) => [p.id, p.name]));
  const codes = [...new Set(samples.rows.flatMap((s) => s.enterprises))];
  const firms = new Map(
    (
      await deps.pool.query<{
        credit_code: string;
        name: string;
        industry: string | null;
        town: string | null;
      }>(
        'SELECT credit_code, name, industry, town FROM enterprises WHERE campaign_id = $1 AND credit_code = ANY($2)',
        [campaignId, codes],
      )
    ).rows.map((e) => [e.credit_code, e]),
  );
  const shown = indicators.filter((i) => i.phase && VERIFYING.includes(i.phase));
  return {
    campaignId,
    campaignName: campaign.rows[0]?.name ?? m.campaignName,
    timeZone: tz,
    indicators: shown.map((i) => ({
      code: i.code,
      name: i.name,
      leadUnit: i.lead_unit,
      phase: i.phase!,
      state: i.state ?? 'waiting',
      flagged: i.flagged ?? false,
      verifications: verifications.rows
        .filter((v) => v.code === i.code)
        .map((v) => ({
          seq: v.seq,
          item: v.item,
          outcome: v.outcome,
          note: v.note,
          actor: v.actor,
          actorName: names.get(v.actor) ?? null,
          at: formatIsoOffset(v.at.getTime(), tz),
        })),
      evidenceRequests: tasks
        .filter((x) => x.kind === 'evidence' && x.indicator === i.code)
        .map(summaryOf),
    })),
    elsewhere: indicators
      .filter((i) => !shown.includes(i))
      .map((i) => ({ code: i.code, name: i.name, phase: i.phase ?? 'scheduled' })),
    samples: samples.rows.map((s) => ({
      seed: s.seed,
      proportion: Number(s.proportion),
      population: s.population,
      size: s.size,
      drawnBy: s.drawn_by,
      drawnAt: formatIsoOffset(s.drawn_at.getTime(), tz),
      enterprises: s.enterprises.map((c) => ({
        creditCode: c,
        name: firms.get(c)?.name ?? null,
        industry: firms.get(c)?.industry ?? null,
        town: firms.get(c)?.town ?? null,
      })),
    })),
    units: roster.units
      .filter(
        (u) =>
          (u.kind === 'department' || u.kind === 'bureau') &&
          roster.people.some((p) => p.unitId === u.id),
      )
      .map((u) => ({ id: u.id, name: u.name })),
  };
}

async function requireIndicator(deps: PortalDeps, campaignId: string, code: string) {
  const i = (await indicatorsOf(deps, campaignId)).find((x) => x.code === code);
  if (!i) throw notFound('indicator');
  return i;
}

export interface VerifyInput {
  item?: string | undefined;
  outcome?: string | undefined;
  note?: string | undefined;
  requestId?: string | undefined;
}

/** The evaluator records a verified item (the CLI's `campaign verify`). */
export async function recordVerification(
  deps: PortalDeps,
  me: Me,
  campaignId: string,
  code: string,
  input: VerifyInput,
  lang: Lang,
): Promise<VerifyResult> {
  evaluatorIn(me, campaignId);
  await requireIndicator(deps, campaignId, code);
  const fields: FieldErrors = {};
  const item = input.item?.trim() ?? '';
  if (!item) fields.item = t(lang, '请写明核验的是哪一项。', 'Say which item was verified.');
  else if (item.length > 500)
    fields.item = t(lang, '核验事项不超过 500 字。', 'At most 500 characters.');
  if (input.outcome !== 'confirmed' && input.outcome !== 'discrepant')
    fields.outcome = t(
      lang,
      '请选择核验结果：属实或有差异。',
      'Choose the outcome: confirmed or discrepant.',
    );
  if ((input.note?.length ?? 0) > 5000)
    fields.note = t(lang, '说明不超过 5000 字。', 'At most 5000 characters.');
  if (Object.keys(fields).length) throw invalid(fields);
  const requestId = requestIdOf('verify', input.requestId);
  const r = await sendWorkflowUpdate(
    deps,
    indicatorWorkflowId(campaignId, code),
    verifyUpdate,
    {
      requestId,
      actor: me.personId,
      item,
      outcome: input.outcome as 'confirmed' | 'discrepant',
      note: input.note?.trim() || undefined,
    },
    requestId,
    INDICATOR_FINISHED,
  );
  // The page shown next lists what was just recorded: wait (briefly) for its projection.
  await projected(
    deps,
    'SELECT 1 FROM verifications WHERE campaign_id = $1 AND code = $2 AND item = $3 AND actor = $4',
    [campaignId, code, item, me.personId],
  );
  return r;
}

/**
 * Waits until a row the workflow's activity writes is in PostgreSQL (the projection of what an
 * action just did), up to a few seconds, so that the page after the action lists it.
 */
async function projected(deps: PortalDeps, sql: string, params: unknown[]): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    if ((await deps.pool.query(sql, params)).rowCount) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

export interface EvidenceInput {
  unit?: string | undefined;
  what?: string | undefined;
  requestId?: string | undefined;
}

/** The evaluator asks a unit for supporting evidence (the CLI's `campaign evidence request`). */
export async function requestEvidence(
  deps: PortalDeps,
  me: Me,
  campaignId: string,
  code: string,
  input: EvidenceInput,
  lang: Lang,
): Promise<{ taskId: string; due: string }> {
  evaluatorIn(me, campaignId);
  await requireIndicator(deps, campaignId, code);
  const roster = await rosterOfCampaign(deps.pool, campaignId);
  const fields: FieldErrors = {};
  const unit = roster.units.find((u) => u.id === input.unit);
  if (!unit)
    fields.unit = t(lang, '请选择提供资料的单位。', 'Choose the unit that must provide it.');
  else if (unit.kind !== 'department' && unit.kind !== 'bureau')
    fields.unit = t(
      lang,
      `“${unit.name}”不是职能部门：请向部门调取。`,
      `“${unit.name}” is not a department: ask a department.`,
    );
  const what = input.what?.trim() ?? '';
  if (!what) fields.what = t(lang, '请写明调取哪些印证资料。', 'Say what evidence is asked for.');
  else if (what.length > 500) fields.what = t(lang, '不超过 500 字。', 'At most 500 characters.');
  if (Object.keys(fields).length) throw invalid(fields);
  const requestId = requestIdOf('evidence', input.requestId);
  const r = await sendWorkflowUpdate(
    deps,
    indicatorWorkflowId(campaignId, code),
    requestEvidenceUpdate,
    { requestId, actor: me.personId, unit: unit!.id, what },
    requestId,
    INDICATOR_FINISHED,
  );
  const tz =
    (
      await deps.pool.query<{ time_zone: string }>(
        'SELECT time_zone FROM campaigns WHERE campaign_id = $1',
        [campaignId],
      )
    ).rows[0]?.time_zone ?? 'Asia/Shanghai';
  await projected(deps, 'SELECT 1 FROM tasks WHERE task_id = $1', [r.taskId]);
  return { taskId: r.taskId, due: formatIsoOffset(r.due, tz) };
}

// ---- rectification ----

interface RectificationRow {
  code: string;
  name: string;
  lead_unit: string;
  lead_unit_name: string | null;
  reason: string;
  state: 'steps' | 'measures' | 'closed' | 'cancelled';
  benchmark: string | null;
  started_at: Date;
  closed_at: Date | null;
  time_zone: string;
}

async function rectificationRows(
  deps: PortalDeps,
  campaignId: string,
  code?: string,
): Promise<RectificationRow[]> {
  return (
    await deps.pool.query<RectificationRow>(
      `SELECT r.code, i.name, i.lead_unit, u.name AS lead_unit_name, r.reason, r.state, r.benchmark,
              r.started_at, r.closed_at, c.time_zone
         FROM rectifications r
         JOIN indicators i ON i.campaign_id = r.campaign_id AND i.code = r.code
         JOIN campaigns c ON c.campaign_id = r.campaign_id
         LEFT JOIN units u ON u.campaign_id = i.campaign_id AND u.unit_id = i.lead_unit
        WHERE r.campaign_id = $1 AND ($2::text IS NULL OR r.code = $2)
        ORDER BY i.position`,
      [campaignId, code ?? null],
    )
  ).rows;
}

async function measureUnits(deps: PortalDeps, campaignId: string): Promise<Map<string, string[]>> {
  const r = await deps.pool.query<{ code: string; unit_id: string }>(
    'SELECT DISTINCT code, unit_id FROM rectification_items WHERE campaign_id = $1',
    [campaignId],
  );
  const out = new Map<string, string[]>();
  for (const x of r.rows) out.set(x.code, [...(out.get(x.code) ?? []), x.unit_id]);
  return out;
}

/**
 * Whether the person sees a rectification: the bureau and the county leadership see all; a
 * department sees those it leads and those it owns a measure of. The evaluator sees none.
 */
function seesRectification(
  m: Membership | undefined,
  r: { lead_unit: string },
  owners: string[],
): boolean {
  if (!m) return false;
  if (m.unitKind === 'bureau' || m.unitKind === 'leadership') return true;
  if (m.unitKind === 'department') return m.unitId === r.lead_unit || owners.includes(m.unitId);
  return false;
}

/** The person's place on the campaign, when they may see rectifications at all. */
export function rectificationMember(me: Me, campaignId: string): Membership {
  const m = membershipIn(me, campaignId);
  if (!m || m.unitKind === 'evaluator') throw notFound('campaign');
  return m;
}

export interface RectificationSummary {
  code: string;
  name: string;
  leadUnit: string;
  leadUnitName: string | null;
  state: RectificationRow['state'];
  /** The step under way (while the plan is made). */
  step: StepKind | null;
  stepState: TaskState | null;
  measures: number;
  closedMeasures: number;
  reason: string;
  startedAt: string;
  closedAt: string | null;
}

function summaryOfRectification(r: RectificationRow, tasks: TaskRow[]): RectificationSummary {
  const steps = tasks.filter(
    (x) => x.indicator === r.code && (STEP_KINDS as readonly string[]).includes(x.kind),
  );
  const current = r.state === 'steps' ? currentStep(steps) : null;
  const measures = tasks.filter((x) => x.indicator === r.code && x.kind === 'measure');
  return {
    code: r.code,
    name: r.name,
    leadUnit: r.lead_unit,
    leadUnitName: r.lead_unit_name,
    state: r.state,
    step: (current?.kind as StepKind | undefined) ?? null,
    stepState: current?.state ?? null,
    measures: measures.length,
    closedMeasures: measures.filter((x) => x.state === 'done').length,
    reason: r.reason,
    startedAt: formatIsoOffset(r.started_at.getTime(), r.time_zone),
    closedAt: r.closed_at ? formatIsoOffset(r.closed_at.getTime(), r.time_zone) : null,
  };
}

/** The step under way: the latest of the step kinds not yet done. */
function currentStep(steps: TaskRow[]): TaskRow | undefined {
  const order = (k: string) => (STEP_KINDS as readonly string[]).indexOf(k);
  return steps
    .filter((x) => x.state === 'open' || x.state === 'returned' || x.state === 'submitted')
    .sort((a, b) => order(b.kind) - order(a.kind))[0];
}

/** The rectifications of a campaign the person sees. */
export async function rectificationsOf(
  deps: PortalDeps,
  me: Me,
  campaignId: string,
): Promise<RectificationSummary[]> {
  const m = rectificationMember(me, campaignId);
  const [rows, owners, tasks] = await Promise.all([
    rectificationRows(deps, campaignId),
    measureUnits(deps, campaignId),
    tasksOf(deps, campaignId),
  ]);
  return rows
    .filter((r) => seesRectification(m, r, owners.get(r.code) ?? []))
    .map((r) => summaryOfRectification(r, tasks));
}

/** Every rectification of a campaign, for its board (the bureau and the leadership). */
export async function rectificationsOfBoard(
  deps: PortalDeps,
  campaignId: string,
): Promise<RectificationSummary[]> {
  const [rows, tasks] = await Promise.all([
    rectificationRows(deps, campaignId),
    tasksOf(deps, campaignId),
  ]);
  return rows.map((r) => summaryOfRectification(r, tasks));
}

export interface RectificationDetail extends RectificationSummary {
  campaignId: string;
  timeZone: string;
  benchmark: string | null;
  /** The step under way, with what the form needs. */
  current: {
    kind: StepKind;
    taskId: string;
    state: TaskState;
    due: string;
    assignee: string;
    assigneeName: string | null;
    problemCount: number;
    lastReturnReason: string | null;
    /** The data of its last submission (a returned step is shown again). */
    lastData: Record<string, unknown> | null;
  } | null;
  /** Every step's task, in order, with the data it was approved with. */
  steps: {
    kind: StepKind;
    taskId: string;
    state: TaskState;
    data: Record<string, unknown> | null;
  }[];
  problems: { no: number; finding: string; description: string }[];
  measuresList: {
    no: number;
    problem: number;
    measure: string;
    unit: string;
    unitName: string;
    person: string;
    personName: string;
    taskId: string;
    state: TaskState | null;
    due: string | null;
    addedBy: string | null;
    addedReason: string | null;
  }[];
  allowed: { submitStep: boolean; addMeasure: boolean };
  /** Units and people a measure can be given to (departments and the bureau). */
  owners: { id: string; name: string; people: { id: string; name: string }[] }[];
}

export async function rectificationDetail(
  deps: PortalDeps,
  me: Me,
  campaignId: string,
  code: string,
): Promise<RectificationDetail> {
  const m = rectificationMember(me, campaignId);
  const [rows, owners, tasks, roster] = await Promise.all([
    rectificationRows(deps, campaignId, code),
    measureUnits(deps, campaignId),
    tasksOf(deps, campaignId),
    rosterOfCampaign(deps.pool, campaignId),
  ]);
  const r = rows[0];
  if (!r || !seesRectification(m, r, owners.get(code) ?? [])) throw notFound('rectification');
  const summary = summaryOfRectification(r, tasks);
  const steps = tasks
    .filter((x) => x.indicator === code && (STEP_KINDS as readonly string[]).includes(x.kind))
    .sort(
      (a, b) =>
        (STEP_KINDS as readonly string[]).indexOf(a.kind) -
        (STEP_KINDS as readonly string[]).indexOf(b.kind),
    );
  const problemsData = steps.find((x) => x.kind === 'rectify-problems' && x.state === 'done')
    ?.last_submission?.data as
    { problems?: { finding: string; description: string }[] } | undefined;
  const problems = (problemsData?.problems ?? []).map((p, i) => ({
    no: i + 1,
    finding: p.finding,
    description: p.description,
  }));
  const cur = r.state === 'steps' ? currentStep(steps) : undefined;
  let allowedSubmit = false;
  let problemCount = problems.length;
  if (cur && (cur.state === 'open' || cur.state === 'returned')) {
    const d = await taskDetail(deps, me, cur.task_id).catch((e: unknown) => {
      if (e instanceof Refused && e.status === 404) return null;
      throw e;
    });
    allowedSubmit = !!d?.allowed.includes('submit') && !!d.requirements.step;
    problemCount = d?.requirements.step?.problemCount ?? problemCount;
  }
  const items = (
    await deps.pool.query<{
      no: number;
      problem_no: number;
      measure: string;
      unit_id: string;
      unit_name: string;
      person: string;
      person_name: string;
      task_id: string;
      added_by: string | null;
      added_reason: string | null;
      state: TaskState | null;
      due_at: Date | null;
    }>(
      `SELECT ri.no, ri.problem_no, ri.measure, ri.unit_id, coalesce(u.name, ri.unit_id) AS unit_name,
              ri.person, coalesce(p.name, ri.person) AS person_name, ri.task_id, ri.added_by,
              ri.added_reason, t.state, t.due_at
         FROM rectification_items ri
         LEFT JOIN tasks t ON t.task_id = ri.task_id
         LEFT JOIN units u ON u.campaign_id = ri.campaign_id AND u.unit_id = ri.unit_id
         LEFT JOIN people p ON p.campaign_id = ri.campaign_id AND p.person_id = ri.person
        WHERE ri.campaign_id = $1 AND ri.code = $2 ORDER BY ri.no`,
      [campaignId, code],
    )
  ).rows;
  return {
    ...summary,
    campaignId,
    timeZone: r.time_zone,
    benchmark: r.benchmark,
    current: cur
      ? {
          kind: cur.kind as StepKind,
          taskId: cur.task_id,
          state: cur.state,
          due: formatIsoOffset(cur.due_at.getTime(), cur.time_zone),
          assignee: cur.assignee,
          assigneeName: cur.assignee_name,
          problemCount,
          lastReturnReason: cur.state === 'returned' ? cur.last_return_reason : null,
          lastData: cur.last_submission?.data ?? null,
        }
      : null,
    steps: steps.map((x) => ({
      kind: x.kind as StepKind,
      taskId: x.task_id,
      state: x.state,
      data: x.last_submission?.data ?? null,
    })),
    problems,
    measuresList: items.map((x) => ({
      no: x.no,
      problem: x.problem_no,
      measure: x.measure,
      unit: x.unit_id,
      unitName: x.unit_name,
      person: x.person,
      personName: x.person_name,
      taskId: x.task_id,
      state: x.state,
      due: x.due_at ? formatIsoOffset(x.due_at.getTime(), r.time_zone) : null,
      addedBy: x.added_by,
      addedReason: x.added_reason,
    })),
    allowed: {
      submitStep: allowedSubmit,
      addMeasure: r.state === 'measures' && isBureauOfficer(m),
    },
    owners: roster.units
      .filter((u) => u.kind === 'department' || u.kind === 'bureau')
      .map((u) => ({
        id: u.id,
        name: u.name,
        people: roster.people
          .filter((p) => p.unitId === u.id)
          .map((p) => ({ id: p.id, name: p.name })),
      }))
      .filter((u) => u.people.length > 0),
  };
}

export interface StepInput {
  /** The step's data (problems, causes, benchmark and gaps, or measures). */
  data: unknown;
  /** The form's row of each row of the data, so that errors land beside their fields. */
  rows?: number[] | undefined;
  note?: string | undefined;
  requestId?: string | undefined;
}

/**
 * Submits the step under way as the signed-in person, through its task (the same submit update
 * as `campaign task submit --data`): the data checked first with the step's rules, every
 * problem named by field and nothing sent when any is found.
 */
export async function submitStep(
  deps: PortalDeps,
  me: Me,
  campaignId: string,
  code: string,
  input: StepInput,
  lang: Lang,
): Promise<ActionResult & { step: StepKind }> {
  const d = await rectificationDetail(deps, me, campaignId, code);
  const cur = d.current;
  if (!cur || (cur.state !== 'open' && cur.state !== 'returned'))
    throw new Refused(
      409,
      d.state === 'steps'
        ? '当前没有待提交的整改步骤（已提交的步骤正在审核，或下一步尚未下达）。'
        : '整改方案已经确定，没有待提交的步骤。',
      d.state === 'steps'
        ? 'No step is waiting to be submitted (the last one is under review, or the next has not started yet).'
        : 'The plan is made: no step is waiting to be submitted.',
    );
  const task = await taskDetail(deps, me, cur.taskId);
  const step = task.requirements.step;
  if (!step)
    throw new Refused(
      503,
      '流程服务暂时没有应答，请稍后再试（若持续出现，请联系审批局）。',
      'the workflow service did not answer in time; try again shortly (tell the bureau if it persists).',
    );
  if (!task.allowed.includes('submit'))
    throw new Refused(
      409,
      `只有牵头单位（${d.leadUnitName ?? d.leadUnit}）的人员可以提交整改步骤。`,
      `Only the people of the lead unit (${d.leadUnitName ?? d.leadUnit}) may submit a step.`,
    );
  const ctx = {
    problemCount: step.problemCount,
    roster: await rosterOfCampaign(deps.pool, campaignId),
    timeZone: step.timeZone,
    now: Date.now(),
  };
  const fields = stepErrors(step.kind, input.data, ctx, lang, input.rows);
  if (Object.keys(fields).length) throw invalid(fields);
  const r = await submitTask(
    deps,
    me,
    cur.taskId,
    {
      note: input.note,
      values: input.data as Record<string, unknown>,
      requestId: input.requestId,
    },
    lang,
  );
  return { ...r, step: step.kind };
}

export interface MeasureInput {
  problem?: number | string | undefined;
  measure?: string | undefined;
  unit?: string | undefined;
  person?: string | undefined;
  due?: string | undefined;
  reason?: string | undefined;
  requestId?: string | undefined;
}

/**
 * The bureau adds a measure to a rectification under way (the CLI's `campaign measure add`),
 * as the signed-in person; every field checked first.
 */
export async function addMeasure(
  deps: PortalDeps,
  me: Me,
  campaignId: string,
  code: string,
  input: MeasureInput,
  lang: Lang,
): Promise<{ no: number; taskId: string }> {
  const d = await rectificationDetail(deps, me, campaignId, code);
  const m = membershipIn(me, campaignId)!;
  if (!isBureauOfficer(m))
    throw new Refused(
      409,
      `${me.personId} 无权增加整改措施：由审批局的协调人和主要负责人增加。`,
      `${me.personId} may not add a measure: the bureau's coordinators and head may.`,
    );
  if (d.state !== 'measures')
    throw new Refused(
      409,
      d.state === 'steps'
        ? '整改方案审核通过后才能增加措施。'
        : '该整改已经结束（已销号或已取消），不能再增加措施。',
      d.state === 'steps'
        ? 'Measures can be added once the plan is approved.'
        : 'This rectification has ended: no measure can be added.',
    );
  const fields: FieldErrors = {};
  const problemText = String(input.problem ?? '').trim();
  const problem = /^\d{1,4}$/.test(problemText) ? Number(problemText) : NaN;
  if (!Number.isInteger(problem) || problem < 1 || problem > d.problems.length)
    fields.problem = t(
      lang,
      `请选择对应的问题（共 ${d.problems.length} 个）。`,
      `Choose the problem it addresses (${d.problems.length} listed).`,
    );
  const measure = input.measure?.trim() ?? '';
  if (!measure) fields.measure = t(lang, '请写明措施内容。', 'Say what the measure is.');
  else if (measure.length > 1000)
    fields.measure = t(lang, '措施内容不超过 1000 字。', 'At most 1000 characters.');
  const roster = await rosterOfCampaign(deps.pool, campaignId);
  const unit = input.unit?.trim() ?? '';
  const person = input.person?.trim() ?? '';
  const due = (input.due ?? '').trim();
  const dueText = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(due) ? `${due}:00` : due;
  Object.assign(
    fields,
    measureFieldErrors(
      lang,
      { unit, person, due: dueText },
      { problemCount: d.problems.length, roster, timeZone: d.timeZone, now: Date.now() },
      '',
    ),
  );
  const reason = input.reason?.trim() ?? '';
  if (!reason)
    fields.reason = t(
      lang,
      '请写明增加该措施的原因（如拆分措施或新发现的问题）。',
      'Say why it is added (a split, or a new finding).',
    );
  if (Object.keys(fields).length) throw invalid(fields);
  const requestId = requestIdOf('measure', input.requestId);
  return sendWorkflowUpdate(
    deps,
    rectificationWorkflowId(campaignId, code),
    addMeasureUpdate,
    { requestId, actor: me.personId, problem, measure, unit, person, due: dueText, reason },
    requestId,
    RECTIFICATION_FINISHED,
  );
}
