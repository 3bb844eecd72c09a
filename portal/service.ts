// What the portal's pages and its API do, once: read the projections a person may see, and
// send the person's actions to the task workflows as the same Temporal updates the CLI sends.
// The actor of every update is the signed-in person; nothing in a request can name another.
import { payloadProblem } from '../domain/payloads.ts';
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { refusalTexts } from '../domain/refusal.ts';
import type { UpdateDefinition } from '@temporalio/common';
import type pg from 'pg';
import { Q, run } from '../db/portal.ts';
import type { QuestionnaireField } from '../domain/definition.ts';
import { coerceFieldData, validateFieldData } from '../domain/fields.ts';
import { colourAt, type Colour } from '../domain/schedule.ts';
import {
  checkRequiredEvidence,
  Refusal,
  type ActionResult,
  type CompletionRequirements,
  type TaskAction,
  type TaskState,
} from '../domain/task.ts';
import {
  approveUpdate,
  extendUpdate,
  reassignUpdate,
  requirementsQuery,
  returnUpdate,
  submitUpdate,
} from '../domain/messages.ts';
import { formatIsoOffset, parseMoment } from '../domain/time.ts';
import {
  allowedActions,
  campaignDefinition,
  canSeeTask,
  membershipIn,
  reviews,
  rosterOfCampaign,
  type Me,
  type TaskRow,
} from './access.ts';
import type { PortalConfig } from './config.ts';
import { notFound, Refused } from './errors.ts';
import { requireCasePlaceForApproval } from '../client/commands/case-limit.ts';
import type { CliError } from '../client/errors.ts';
import {
  cleanName,
  evidenceOfTask,
  evidenceReference,
  readEvidence,
  sniff,
  storeEvidence,
  type EvidenceFile,
} from './evidence.ts';
import type { Lang } from './html.ts';
import { fieldMessages } from './i18n.ts';

export interface PortalDeps {
  pool: pg.Pool;
  temporal: Client;
  cfg: PortalConfig;
}

const FINISHED: TaskState[] = ['done', 'cancelled'];

export function colourOf(r: TaskRow, now = Date.now()): Colour {
  if (FINISHED.includes(r.state) || r.state === 'submitted') return 'green';
  return colourAt(now, r.due_at.getTime(), Number(r.warning_ms));
}

export interface TaskSummary {
  taskId: string;
  campaignId: string;
  kind: string;
  title: string;
  indicator: string | null;
  unit: string;
  unitName: string | null;
  assignee: string;
  assigneeName: string | null;
  state: TaskState;
  due: string;
  colour: Colour;
  escalationLevel: number;
}

export function summaryOf(r: TaskRow): TaskSummary {
  return {
    taskId: r.task_id,
    campaignId: r.campaign_id,
    kind: r.kind,
    title: r.title,
    indicator: r.indicator,
    unit: r.unit_id,
    unitName: r.unit_name,
    assignee: r.assignee,
    assigneeName: r.assignee_name,
    state: r.state,
    due: formatIsoOffset(r.due_at.getTime(), r.time_zone),
    colour: colourOf(r),
    escalationLevel: r.escalation_level,
  };
}

/** The task, when the person may see it; otherwise 404, as for a task that does not exist. */
export async function visibleTask(deps: PortalDeps, me: Me, taskId: string): Promise<TaskRow> {
  const r = await run<TaskRow>(deps.pool, Q.task, [taskId]);
  const row = r.rows[0];
  if (!row || !canSeeTask(me, row)) throw notFound('task');
  return row;
}

/** 我的待办: the tasks the person sees in every campaign they are on, open ones unless `all`. */
export async function myTasks(deps: PortalDeps, me: Me, all = false): Promise<TaskRow[]> {
  const out: TaskRow[] = [];
  for (const m of me.memberships) {
    const r = await run<TaskRow>(deps.pool, Q.tasksOfCampaign, [m.campaignId, all]);
    out.push(...r.rows.filter((t) => canSeeTask(me, t)));
  }
  // Red first, then yellow, then by due time; one's own before the unit's.
  const rank = { red: 0, yellow: 1, green: 2 };
  return out.sort(
    (a, b) =>
      Number(FINISHED.includes(a.state)) - Number(FINISHED.includes(b.state)) ||
      rank[colourOf(a)] - rank[colourOf(b)] ||
      Number(b.assignee === me.personId) - Number(a.assignee === me.personId) ||
      a.due_at.getTime() - b.due_at.getTime(),
  );
}

/** The bureau's review queue: submitted work that the person reviews. */
export async function reviewQueue(deps: PortalDeps, me: Me): Promise<TaskRow[]> {
  const out: TaskRow[] = [];
  for (const m of me.memberships) {
    const roster = await rosterOfCampaign(deps.pool, m.campaignId);
    const r = await run<TaskRow>(deps.pool, Q.tasksOfCampaign, [m.campaignId, false]);
    out.push(
      ...r.rows.filter(
        (t) => t.state === 'submitted' && t.review && reviews(roster, me.personId, t.unit_id),
      ),
    );
  }
  return out;
}

export interface TaskEvent {
  seq: number;
  at: string;
  type: string;
  actor: string | null;
  actorName: string | null;
  detail: Record<string, unknown>;
}

export interface TaskDetail {
  task: TaskRow;
  summary: TaskSummary;
  requirements: CompletionRequirements;
  guide: string | null;
  evidenceList: string[];
  events: TaskEvent[];
  evidence: EvidenceFile[];
  allowed: TaskAction[];
  /** People of the task's unit other than the assignee (for a reassignment). */
  teammates: { id: string; name: string }[];
  /** Field values of the last submission, and what changed since the one before. */
  lastData: Record<string, unknown> | null;
  changes: { field: string; label: string; before: unknown; after: unknown }[];
}

async function requirementsOf(
  deps: PortalDeps,
  task: TaskRow,
  fallbackFields: QuestionnaireField[],
): Promise<CompletionRequirements> {
  if (!FINISHED.includes(task.state)) {
    try {
      return await deps.temporal.connection.withDeadline(
        Date.now() + deps.cfg.shared.cliWorkerTimeoutMs,
        () => deps.temporal.workflow.getHandle(task.task_id).query(requirementsQuery),
      );
    } catch {
      // No worker answered: the definition's fields still describe the form.
    }
  }
  return {
    note: false,
    evidence: false,
    fields: task.kind === 'questionnaire' ? fallbackFields : [],
  };
}

export async function taskDetail(deps: PortalDeps, me: Me, taskId: string): Promise<TaskDetail> {
  const task = await visibleTask(deps, me, taskId);
  const [campaign, roster, events, submissions, evidence] = await Promise.all([
    campaignDefinition(deps.pool, task.campaign_id),
    rosterOfCampaign(deps.pool, task.campaign_id),
    run<{
      seq: number;
      at: Date;
      type: string;
      actor: string | null;
      detail: Record<string, unknown>;
    }>(deps.pool, Q.taskEvents, [taskId]),
    run<{ data: Record<string, unknown> | null }>(deps.pool, Q.taskSubmissions, [taskId]),
    evidenceOfTask(deps.pool, taskId),
  ]);
  const indicator = campaign?.definition.indicators.find((i) => i.code === task.indicator);
  const requirements = await requirementsOf(deps, task, indicator?.fields ?? []);
  const names = new Map(roster.people.map((p) => [p.id, p.name]));
  const [last, before] = submissions.rows;
  const lastData = last?.data ?? null;
  const changes: TaskDetail['changes'] = [];
  if (lastData && before?.data) {
    for (const f of requirements.fields) {
      const a = before.data[f.key];
      const b = lastData[f.key];
      if (JSON.stringify(a) !== JSON.stringify(b))
        changes.push({ field: f.key, label: f.label, before: a ?? null, after: b ?? null });
    }
  }
  return {
    task,
    summary: summaryOf(task),
    requirements,
    guide: indicator?.guide ?? null,
    evidenceList: task.kind === 'questionnaire' ? (indicator?.evidence ?? []) : [],
    events: events.rows.map((e) => ({
      seq: e.seq,
      at: formatIsoOffset(e.at.getTime(), task.time_zone),
      type: e.type,
      actor: e.actor,
      actorName: e.actor ? (names.get(e.actor) ?? null) : null,
      detail: e.detail ?? {},
    })),
    evidence,
    allowed: allowedActions(roster, campaign?.definition, me.personId, task),
    teammates: roster.people
      .filter((p) => p.unitId === task.unit_id && p.id !== task.assignee)
      .map((p) => ({ id: p.id, name: p.name })),
    lastData,
    changes,
  };
}

// ---- actions ----

/** What a refusal says when the workflow has finished (a task by default). */
export interface FinishedText {
  zh: string;
  en: string;
}
const TASK_FINISHED: FinishedText = {
  zh: '该事项已办结，不能再操作。',
  en: 'this task is finished: nothing more can be done.',
};

/**
 * Sends a task action, then waits (briefly) until PostgreSQL shows it: the answer comes from
 * the workflow task that accepted the action and the projection follows within one activity,
 * so the page the person is sent to next never shows the task as it was before.
 */
const send = async <Arg>(
  deps: PortalDeps,
  taskId: string,
  def: UpdateDefinition<ActionResult, [Arg]>,
  arg: Arg,
  updateId: string,
): Promise<ActionResult> => {
  const result = await sendWorkflowUpdate(deps, taskId, def, arg, updateId);
  if (result.version !== undefined) await projected(deps.pool, taskId, result.version);
  return result;
};

/** Waits until the task's row has reached `version`, for 5 s at most (then the page is a beat behind). */
export async function projected(pool: pg.Pool, taskId: string, version: number): Promise<boolean> {
  for (let wait = 2, waited = 0; waited < 5_000; waited += wait, wait = Math.min(wait * 2, 100)) {
    const r = await run<{ last_seq: number }>(pool, Q.taskVersion, [taskId]);
    if ((r.rows[0]?.last_seq ?? 0) >= version) return true;
    await new Promise((res) => setTimeout(res, wait));
  }
  return false;
}

/**
 * Sends one update to a workflow under the worker deadline, as the CLI's sendUpdate does, with
 * the validator's refusal (in both languages), a finished workflow and a silent worker turned
 * into refusals people can read.
 */
export async function sendWorkflowUpdate<Ret, Arg>(
  deps: PortalDeps,
  workflowId: string,
  def: UpdateDefinition<Ret, [Arg]>,
  arg: Arg,
  updateId: string,
  finished: FinishedText = TASK_FINISHED,
): Promise<Ret> {
  // The workflow's own request schema, checked before anything is sent (domain/payloads.ts).
  const bad = payloadProblem(def.name, arg);
  if (bad) throw new Refused(422, bad.zh, bad.en);
  const handle = deps.temporal.workflow.getHandle(workflowId);
  try {
    return await deps.temporal.connection.withDeadline(
      Date.now() + deps.cfg.shared.cliWorkerTimeoutMs,
      // Temporal keeps one result per update id and workflow, whatever the update: the same
      // idempotency key sent to another action of the workflow (a verification, then an
      // evidence request) is another request, not a repeat of the first.
      () => handle.executeUpdate(def, { args: [arg], updateId: `${def.name}:${updateId}` }),
    );
  } catch (e) {
    if (e instanceof WorkflowUpdateFailedError) {
      const texts = refusalTexts(e);
      const why = (e.cause as Error | undefined)?.message ?? e.message;
      throw new Refused(409, `操作未被接受：${texts?.zh ?? why}`, `refused: ${texts?.en ?? why}`);
    }
    if (
      e instanceof WorkflowNotFoundError ||
      /already completed/i.test(String((e as Error)?.message))
    ) {
      throw new Refused(409, finished.zh, finished.en);
    }
    const msg = String((e as Error)?.message ?? e);
    if ((e as { code?: number })?.code === 4 || /deadline/i.test(msg)) {
      throw new Refused(
        503,
        '流程服务暂时没有应答，请稍后再试（若持续出现，请联系审批局）。',
        'the workflow service did not answer in time; try again shortly (tell the bureau if it persists).',
      );
    }
    throw e;
  }
}

const requestIdOf = (id: string | undefined) =>
  id && /^[\w-]{8,80}$/.test(id) ? id : randomUUID();

export interface SubmitInput {
  note?: string | undefined;
  /** Field values as the form or the API gave them (text is converted as the CLI does). */
  values?: Record<string, unknown> | undefined;
  requestId?: string | undefined;
}

/**
 * Submits the person's work: field values checked with the CLI's rules first (every problem
 * named by field, nothing sent on error), the task's evidence files referenced by id, name,
 * size and hash.
 */
export async function submitTask(
  deps: PortalDeps,
  me: Me,
  taskId: string,
  input: SubmitInput,
  lang: Lang,
): Promise<ActionResult> {
  const d = await taskDetail(deps, me, taskId);
  let data: Record<string, unknown> | undefined;
  const fields = d.requirements.fields;
  if (!d.requirements.step && (fields.length > 0 || input.values)) {
    const raw = Object.fromEntries(
      Object.entries(input.values ?? {}).filter(
        ([, v]) => v !== '' && v !== undefined && v !== null,
      ),
    );
    data = coerceFieldData(fields, raw);
    const problems = validateFieldData(fields, data);
    if (problems.length) {
      throw new Refused(
        422,
        '填报内容有误，请按各项提示修改后再提交（尚未提交）。',
        'Some values are not valid: correct them as shown and submit again (nothing was sent).',
        fieldMessages(fields, problems, lang),
      );
    }
  } else if (input.values && Object.keys(input.values).length) {
    data = input.values;
  }
  const evidence = d.evidence.map(evidenceReference);
  // The definition's evidence list (应提供：…) or the task's requirement, checked before
  // anything is sent; the task's own validator says the same for tasks that require it.
  try {
    checkRequiredEvidence(d.requirements.evidence, evidence.length, d.evidenceList);
  } catch (e) {
    if (!(e instanceof Refusal)) throw e;
    throw new Refused(
      422,
      `该事项需要上传佐证材料${d.evidenceList.length ? `（应提供：${d.evidenceList.join('、')}）` : ''}：请先在“佐证材料”处上传至少一份文件，再提交（尚未提交）。`,
      `Evidence is required${d.evidenceList.length ? ` (expected: ${d.evidenceList.join(', ')})` : ''}: upload at least one file under Evidence, then submit (nothing was sent).`,
    );
  }
  return send(
    deps,
    taskId,
    submitUpdate,
    {
      requestId: requestIdOf(input.requestId),
      actor: me.personId,
      note: input.note?.trim() || undefined,
      data,
      evidence,
    },
    requestIdOf(input.requestId),
  );
}

export async function decideTask(
  deps: PortalDeps,
  me: Me,
  taskId: string,
  action: 'approve' | 'return',
  input: { note?: string | undefined; reason?: string | undefined; requestId?: string | undefined },
): Promise<ActionResult> {
  await visibleTask(deps, me, taskId);
  const requestId = requestIdOf(input.requestId);
  // A typical case is approved only while its indicator has a place left (典型案例上限).
  if (action === 'approve')
    await requireCasePlaceForApproval(deps.pool, taskId).catch((e: unknown) => {
      const texts = (e as CliError).texts;
      throw texts ? new Refused(409, texts.zh, texts.en) : e;
    });
  if (action === 'approve')
    return send(
      deps,
      taskId,
      approveUpdate,
      { requestId, actor: me.personId, note: input.note?.trim() || undefined },
      requestId,
    );
  if (!input.reason?.trim())
    throw new Refused(422, '退回须写明原因。', 'a return needs a reason.', { reason: '必填' });
  return send(
    deps,
    taskId,
    returnUpdate,
    { requestId, actor: me.personId, reason: input.reason.trim() },
    requestId,
  );
}

export async function extendTask(
  deps: PortalDeps,
  me: Me,
  taskId: string,
  input: { until: string; reason: string; requestId?: string | undefined },
): Promise<ActionResult> {
  const task = await visibleTask(deps, me, taskId);
  const m = parseMoment(
    input.until.length === 16 ? `${input.until}:00` : input.until,
    task.time_zone,
  );
  if (!m || m.kind !== 'instant')
    throw new Refused(
      422,
      '延至时间须为日期和时间，例如 2026-12-20T18:00。',
      'the new due time must be a date and time such as 2026-12-20T18:00.',
      {
        until: '格式：2026-12-20T18:00',
      },
    );
  if (!input.reason.trim())
    throw new Refused(422, '申请延期须写明原因。', 'an extension needs a reason.', {
      reason: '必填',
    });
  const requestId = requestIdOf(input.requestId);
  return send(
    deps,
    taskId,
    extendUpdate,
    { requestId, actor: me.personId, until: m.instant, reason: input.reason.trim() },
    requestId,
  );
}

/** Hands the task to another person of its unit (the unit's deputy or head, or the bureau). */
export async function reassignTask(
  deps: PortalDeps,
  me: Me,
  taskId: string,
  input: { to: string; requestId?: string | undefined },
): Promise<ActionResult> {
  await visibleTask(deps, me, taskId);
  if (!input.to.trim())
    throw new Refused(422, '请选择转给谁。', 'Choose the person to hand it to.', { to: '必选' });
  const requestId = requestIdOf(input.requestId);
  return send(
    deps,
    taskId,
    reassignUpdate,
    { requestId, actor: me.personId, to: input.to.trim() },
    requestId,
  );
}

export const campaignsOf = (me: Me) => me.memberships.map((m) => m.campaignId);
export { membershipIn };

export interface Upload {
  filename: string;
  content: Buffer;
}

/**
 * Stores evidence files for a task the person may submit: every file's type by its content
 * (PDF, images, Office, OFD); if any is refused, none is stored.
 */
export async function uploadEvidence(
  deps: PortalDeps,
  me: Me,
  taskId: string,
  files: Upload[],
): Promise<EvidenceFile[]> {
  const task = await visibleTask(deps, me, taskId);
  const roster = await rosterOfCampaign(deps.pool, task.campaign_id);
  const def = await campaignDefinition(deps.pool, task.campaign_id);
  if (!allowedActions(roster, def?.definition, me.personId, task).includes('submit')) {
    throw new Refused(
      409,
      '只有本单位人员在事项办理中或被退回时可以上传佐证材料。',
      "Evidence can be uploaded by the task's unit while the task is open or returned.",
    );
  }
  const real = files.filter((f) => f.filename || f.content.length);
  if (real.length === 0)
    throw new Refused(422, '请选择要上传的文件。', 'Choose a file to upload.', { files: '必选' });
  const empty = real.filter((f) => f.content.length === 0);
  if (empty.length) {
    const list = empty.map((f) => cleanName(f.filename)).join('、');
    throw new Refused(
      422,
      `文件是空的（0 字节）：${list}。请检查文件是否完整保存，重新选择后再上传；未保存任何文件。`,
      `The file is empty (0 bytes): ${list}. Check that it was saved in full and choose it again; nothing was stored.`,
    );
  }
  const typed = real.map((f) => ({ ...f, type: sniff(f.content) }));
  const bad = typed.filter((f) => !f.type);
  if (bad.length) {
    const list = bad.map((f) => cleanName(f.filename)).join('、');
    throw new Refused(
      415,
      `不接受的文件类型：${list}。可上传 PDF、图片（PNG/JPEG/GIF/WebP）、Office 文档（Word/Excel/PowerPoint）和 OFD，按文件内容判断；未保存任何文件。请转换为上述格式后重新上传。`,
      `File type not accepted: ${list}. PDF, images (PNG/JPEG/GIF/WebP), Office documents (Word/Excel/PowerPoint) and OFD are accepted, judged by content; nothing was stored.`,
    );
  }
  const out: EvidenceFile[] = [];
  for (const f of typed) {
    out.push(
      await storeEvidence(deps.pool, deps.cfg, {
        taskId,
        campaignId: task.campaign_id,
        unitId: task.unit_id,
        name: cleanName(f.filename),
        content: f.content,
        by: me.personId,
        mime: f.type!.mime,
      }),
    );
  }
  return out;
}

/** A file for download, when the person sees its task; 404 otherwise. */
export async function downloadEvidence(deps: PortalDeps, me: Me, fileId: string) {
  const f = await readEvidence(deps.pool, deps.cfg, fileId);
  if (!f) throw notFound('file');
  await visibleTask(deps, me, f.taskId);
  return f;
}
