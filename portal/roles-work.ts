// The bureau's and the evaluator's own work in the portal, once for the pages and the API:
// starting a campaign from an uploaded definition or workbook, moving a phase, cancelling,
// importing the results and the enterprise list, adjusting the assessment (the bureau); drawing
// the enterprise and the record samples and recording site visits (the evaluator). Each runs the
// CLI's own functions and sends the CLI's updates, with the signed-in person as the actor; the
// campaign's workflow validators decide again. What the person may not see answers 404.
import { randomUUID } from 'node:crypto';
import { extname } from 'node:path';
import {
  planStart,
  startCampaignWorkflow,
  waitForCampaignRecord,
  CAMPAIGN_ID,
} from '../client/campaign-start.ts';
import {
  checkEnterpriseList,
  insertAssessmentAdjustment,
  phaseEndOf,
  replaceEnterpriseList,
  saveVisit,
  visitItem,
  type VisitKind,
} from '../client/campaign-data.ts';
import { loadDefinitionBytes, isWorkbookFile } from '../client/definition-file.ts';
import { drawEnterprises, drawRecords, runningDefinition } from '../client/records.ts';
import { indicatorWorkflowId } from '../domain/campaign.ts';
import type { CampaignDefinition, PhaseName } from '../domain/definition.ts';
import {
  checkEnterpriseHeader,
  checkResultHeader,
  checkResultRows,
  parseCsvTable,
  type RowProblem,
} from '../domain/imports.ts';
import { label } from '../domain/labels.ts';
import {
  cancelCampaignUpdate,
  movePhaseUpdate,
  recordResultsUpdate,
  verifyUpdate,
} from '../domain/messages.ts';
import { PHASE_ORDER } from '../domain/phase-control.ts';
import { parseDay } from '../domain/questionnaire.ts';
import { isBureau } from '../domain/records.ts';
import { RehearsalError } from '../domain/rehearsal.ts';
import { Refusal } from '../domain/refusal.ts';
import { formatIsoOffset, formatLocal, parseMoment } from '../domain/time.ts';
import type { DefinitionProblem } from '../domain/validate.ts';
import { isBureauOfficer, membershipIn, rosterOfCampaign, type Me } from './access.ts';
import { evaluatorIn } from './campaign-work.ts';
import { notFound, Refused } from './errors.ts';
import { t, type Lang } from './html.ts';
import { sendWorkflowUpdate, type PortalDeps } from './service.ts';

export type FieldErrors = Record<string, string>;

const invalid = (fields: FieldErrors): Refused =>
  new Refused(
    422,
    '填写的内容有误，请按各项提示修改后再提交（尚未提交）。',
    'Some values are not valid: correct them as shown and submit again (nothing was sent).',
    fields,
  );

const CAMPAIGN_FINISHED = {
  zh: '该考核的流程已经结束，不能再办理。',
  en: "this campaign's lifecycle has ended: nothing more can be done.",
};
const INDICATOR_FINISHED = {
  zh: '该指标的流程已经结束，不能再办理。',
  en: "this indicator's lifecycle has ended: nothing more can be done.",
};

/** The workflow's idempotency key: the person's key (or a new one) under the action's name. */
const requestIdOf = (action: string, id: string | undefined) =>
  `${action}:${id && /^[\w-]{8,80}$/.test(id) ? id : randomUUID()}`;

/**
 * The CLI's refusal texts said for a person using the portal: no command-line options or
 * commands, and people by their names rather than their ids.
 */
export function forPortal(text: string, names: Map<string, string> = new Map()): string {
  let s = text
    .replace(/（审批局统筹协调人加 --reason 执行）/g, '（由审批局在门户写明理由后重新抽样）')
    .replace(
      / \(a bureau coordinator runs it with --reason\)/g,
      ' (the bureau redraws it in the portal, with a reason)',
    )
    .replace(/：请先用 campaign enterprises import 导入/g, '：请先由审批局导入')
    .replace(
      /: import it first with `campaign enterprises import`/g,
      ': the bureau imports it first',
    )
    .replace(/：请先用 campaign records upload 上传/g, '：请先由各单位上传')
    .replace(
      /: units upload theirs with `campaign records upload`/g,
      ': the units upload theirs first',
    )
    .replace(/[（(]见 campaign list[）)]|\(see `campaign list`\)/g, '')
    .replace(/（--[a-z-]+）| \(--[a-z-]+\)/g, '');
  for (const [id, name] of names) if (name) s = s.split(id).join(name);
  return s;
}

async function namesOf(deps: PortalDeps, campaignId: string): Promise<Map<string, string>> {
  const roster = await rosterOfCampaign(deps.pool, campaignId);
  // Longer ids first, so that "spj-coord" is replaced before a shorter id inside it.
  return new Map(
    roster.people.map((p) => [p.id, p.name] as const).sort((a, b) => b[0].length - a[0].length),
  );
}

/** A domain Refusal as the portal's 409, in people's terms. */
async function refusing<T>(deps: PortalDeps, campaignId: string, fn: () => Promise<T>) {
  try {
    return await fn();
  } catch (e) {
    if (!(e instanceof Refusal)) throw e;
    const names = await namesOf(deps, campaignId);
    throw new Refused(
      409,
      `操作未被接受：${forPortal(e.zh, names)}`,
      `refused: ${forPortal(e.en, names)}`,
    );
  }
}

// ---- who ----

/** A bureau coordinator or head of the campaign; anybody else gets 404. */
export function bureauIn(me: Me, campaignId: string) {
  const m = membershipIn(me, campaignId);
  if (!m || !isBureauOfficer(m)) throw notFound('campaign');
  return m;
}

/** Whoever may draw a sample: the evaluator's people or the bureau's officers (as the CLI). */
function drawerIn(me: Me, campaignId: string) {
  const m = membershipIn(me, campaignId);
  if (m && isBureauOfficer(m)) return m;
  return evaluatorIn(me, campaignId);
}

async function campaignRow(deps: PortalDeps, campaignId: string) {
  const r = await deps.pool.query<{
    definition: CampaignDefinition;
    time_zone: string;
    name: string;
    phase: string;
    status: string;
    cancel_reason: string | null;
  }>(
    'SELECT definition, time_zone, name, phase, status, cancel_reason FROM campaigns WHERE campaign_id = $1',
    [campaignId],
  );
  const row = r.rows[0];
  if (!row) throw notFound('campaign');
  return row;
}

async function runningCampaign(deps: PortalDeps, campaignId: string) {
  const row = await campaignRow(deps, campaignId);
  if (row.status === 'cancelled')
    throw new Refused(
      409,
      `该考核已撤销（${row.cancel_reason ?? ''}），不能再办理。`,
      `this campaign was cancelled (${row.cancel_reason ?? ''}): nothing more can be done.`,
    );
  if (row.status === 'completed')
    throw new Refused(409, CAMPAIGN_FINISHED.zh, CAMPAIGN_FINISHED.en);
  return row;
}

// ---- uploaded files ----

export interface UploadedFile {
  fileName: string;
  bytes: Buffer;
}

/** The problems of a file as the portal's per-place messages: `place → message`. */
function placed(entries: { place: string; message: string }[]): FieldErrors {
  const out: FieldErrors = {};
  for (const e of entries)
    out[e.place] = out[e.place] ? `${out[e.place]}；${e.message}` : e.message;
  return out;
}

const fileRefused = (zh: string, en: string, problems: FieldErrors) =>
  new Refused(422, zh, en, problems);

/** `第 4 行第 2 列` for a CSV problem. */
function rowPlace(lang: Lang, fileName: string, p: RowProblem): string {
  return t(
    lang,
    `${fileName} 第 ${p.line} 行${p.column !== undefined ? `第 ${p.column} 列` : ''}`,
    `${fileName} line ${p.line}${p.column !== undefined ? `, column ${p.column}` : ''}`,
  );
}

/** Where a definition's problem is: the workbook's sheet, row and column, or the file's path and line. */
function definitionPlace(
  lang: Lang,
  fileName: string,
  p: DefinitionProblem & { sheet?: string; row?: number; column?: string; value?: string },
): string {
  if (p.sheet)
    return t(
      lang,
      `${p.sheet} 第 ${p.row ?? '?'} 行「${p.column ?? ''}」${p.value ? `（${p.value}）` : ''}`,
      `${p.sheet} row ${p.row ?? '?'}, column “${p.column ?? ''}”${p.value ? ` (${p.value})` : ''}`,
    );
  return `${fileName}${p.line ? `:${p.line}` : ''} ${p.path}`;
}

const cleanFileName = (name: string) =>
  // The name as the person's system gave it, without any folder, for messages only.
  (name.split(/[\\/]/).pop() ?? '').replace(/[^\p{L}\p{N}._ -]/gu, '').slice(0, 120) || 'upload';

function requireFile(f: UploadedFile | undefined, lang: Lang, what: string): UploadedFile {
  if (!f || f.bytes.length === 0)
    throw invalid({ file: t(lang, `请选择${what}文件。`, `Choose the ${what} file.`) });
  return { fileName: cleanFileName(f.fileName), bytes: f.bytes };
}

async function readCsvUpload(
  deps: PortalDeps,
  f: UploadedFile,
  lang: Lang,
  checkHeader: (header: string[]) => string | null,
  what: { zh: string; en: string },
) {
  const limit = deps.cfg.shared.limits.importBytes;
  if (f.bytes.length > limit)
    throw new Refused(
      413,
      `${what.zh}文件超过上限 ${limit} 字节，未导入任何内容。`,
      `The ${what.en} is larger than the limit of ${limit} bytes: nothing was imported.`,
    );
  const parsed = await parseCsvTable(f.bytes, `${f.fileName} (${what.en})`);
  const refuse = (problems: RowProblem[]) =>
    fileRefused(
      `${f.fileName}：${problems.length} 处错误，未导入任何内容。`,
      `${f.fileName}: ${problems.length} bad line(s), nothing imported.`,
      placed(problems.map((p) => ({ place: rowPlace(lang, f.fileName, p), message: p.message }))),
    );
  if ('problems' in parsed) throw refuse(parsed.problems);
  const headerProblem = checkHeader(parsed.table.header);
  if (headerProblem) throw refuse([{ line: parsed.table.headerLine, message: headerProblem }]);
  return { table: parsed.table, refuse };
}

// ---- the bureau: starting a campaign ----

export interface DefinitionCheck {
  valid: boolean;
  fileName: string;
  problems: FieldErrors;
  summary: {
    campaignId: string;
    name: string;
    county: string;
    year: number;
    units: number;
    people: number;
    indicators: number;
  } | null;
}

/** Whether the person may open the start page: a bureau officer of some campaign. */
export function mayStartCampaigns(me: Me): boolean {
  return me.memberships.some(isBureauOfficer);
}

async function loadUploadedDefinition(deps: PortalDeps, f: UploadedFile) {
  const limit = deps.cfg.shared.limits.definitionBytes;
  if (f.bytes.length > limit)
    throw new Refused(
      413,
      `定义文件超过上限 ${limit} 字节。`,
      `The definition file is larger than the limit of ${limit} bytes.`,
    );
  if (isWorkbookFile(f.fileName)) {
    const { loadWorkbookBytes } = await import('../client/workbook.ts');
    return loadWorkbookBytes(f.bytes, f.fileName);
  }
  return loadDefinitionBytes(f.bytes, f.fileName);
}

/** Checks an uploaded definition (YAML, JSON or the workbook): every problem by its place. */
export async function checkDefinitionUpload(
  deps: PortalDeps,
  me: Me,
  file: UploadedFile | undefined,
  lang: Lang,
): Promise<DefinitionCheck> {
  return (await checkUpload(deps, me, file, lang)).check;
}

async function checkUpload(deps: PortalDeps, me: Me, file: UploadedFile | undefined, lang: Lang) {
  if (!mayStartCampaigns(me)) throw notFound();
  const f = requireFile(file, lang, t(lang, '考核定义或任务分工表', 'definition'));
  if (!['.yaml', '.yml', '.json', '.xlsx'].includes(extname(f.fileName).toLowerCase()))
    throw invalid({
      file: t(
        lang,
        '请上传考核定义（.yaml、.yml、.json）或任务分工表（.xlsx）。',
        'Upload a campaign definition (.yaml, .yml, .json) or the division-of-labour workbook (.xlsx).',
      ),
    });
  const r = await loadUploadedDefinition(deps, f);
  const s = r.summary;
  const check: DefinitionCheck = {
    valid: r.valid,
    fileName: f.fileName,
    problems: placed(
      r.errors.map((p) => ({ place: definitionPlace(lang, f.fileName, p), message: p.message })),
    ),
    summary:
      r.valid && s
        ? {
            campaignId: s.campaignId,
            name: s.name,
            county: s.county,
            year: s.year,
            units: s.units,
            people: s.people,
            indicators: s.indicators,
          }
        : null,
  };
  return { check, loaded: r };
}

export interface StartInput {
  file?: UploadedFile | undefined;
  /** Another campaign id than the file's. */
  id?: string | undefined;
  /** 'now': every phase window moved so that training begins now (a rehearsal). */
  begin?: string | undefined;
  /** Start on the file's dates even though a phase has already ended. */
  allowPast?: boolean | undefined;
}

/** The bureau starts a campaign from an uploaded definition; a problem refuses it, named by place. */
export async function startCampaign(
  deps: PortalDeps,
  me: Me,
  input: StartInput,
  lang: Lang,
): Promise<{ campaignId: string; workflowId: string; recorded: boolean }> {
  const { check, loaded } = await checkUpload(deps, me, input.file, lang);
  if (!check.valid)
    throw fileRefused(
      `${check.fileName} 有 ${Object.keys(check.problems).length} 处错误，未启动：请按各处提示修改后重新上传。`,
      `${check.fileName} has ${Object.keys(check.problems).length} problem(s); nothing was started: correct them and upload it again.`,
      check.problems,
    );
  const id = input.id?.trim() || undefined;
  if (id && !CAMPAIGN_ID.test(id))
    throw invalid({
      id: t(
        lang,
        '考核编号只能由小写字母、数字和连字符组成（最多 63 个字符），且以字母或数字开头。',
        'A campaign id is lower-case letters, digits and dashes (at most 63), starting with a letter or digit.',
      ),
    });
  if (input.begin !== undefined && input.begin !== '' && input.begin !== 'now')
    throw invalid({ begin: t(lang, '请选择是否演练。', 'Choose whether to rehearse.') });
  let planned;
  try {
    planned = planStart(
      { definition: loaded.definition!, calendar: loaded.calendar! },
      {
        rehearsal: input.begin === 'now' ? { begin: 'now' } : {},
        ...(id ? { id } : {}),
        startedBy: me.personId,
      },
      Date.now,
    );
  } catch (e) {
    if (!(e instanceof RehearsalError)) throw e;
    throw new Refused(
      422,
      `演练无法按现在的日期排程：${e.message}`,
      `the rehearsal cannot be scheduled now: ${e.message}`,
    );
  }
  const def = planned.input.definition;
  // The same rule as the CLI's --as: the starter is a bureau coordinator or head of the roster.
  const found = def.units
    .flatMap((u) => u.people.map((p) => ({ u, p })))
    .find((x) => x.p.id === me.personId);
  if (!found || !isBureau({ kind: found.u.kind, role: found.p.role }))
    throw new Refused(
      403,
      `此定义的人员名单中，您不是审批局的统筹协调人或负责人，不能以此启动考核。`,
      `In this definition's roster you are not a coordinator or head of the bureau: you may not start it.`,
    );
  if (planned.over && !input.allowPast) {
    const when = formatLocal(planned.over.end, def.campaign.timeZone);
    throw invalid({
      begin: t(
        lang,
        `「${label('zh', planned.over.phase)}」阶段已于 ${when} 结束：请选择演练（各阶段移到现在开始），或确认按原日期启动。`,
        `The ${label('en', planned.over.phase)} phase ended at ${when}: choose a rehearsal (the phases moved to now), or confirm starting on the file's dates.`,
      ),
    });
  }
  const campaignId = def.campaign.id;
  const started = await startCampaignWorkflow(
    deps.temporal,
    deps.cfg.shared.taskQueue,
    planned.input,
    `the portal (${check.fileName})`,
  ).catch((e: unknown) => {
    // The workflow service down or slow: said so, never a server error.
    const code = (e as { code?: number })?.code;
    if (code === 4 || code === 14 || /deadline|unavailable|connect/i.test(String(e)))
      throw new Refused(
        503,
        '流程服务暂时没有应答，考核尚未启动，请稍后再试。',
        'the workflow service did not answer: nothing was started; try again shortly.',
      );
    throw e;
  });
  if (started === 'already-started')
    throw new Refused(
      409,
      `考核“${def.campaign.name}”已经按此编号启动过：如需另起一次，请填写新的考核编号。`,
      `campaign “${def.campaign.name}” (${campaignId}) was already started: give another campaign id to start a new one.`,
      { id: t(lang, '此编号已被使用。', 'This id is taken.') },
    );
  const recorded = await waitForCampaignRecord(deps.pool, campaignId);
  return { campaignId, workflowId: campaignId, recorded };
}

// ---- the bureau: phases, cancellation ----

export interface PhaseInput {
  action?: string | undefined;
  phase?: string | undefined;
  until?: string | undefined;
  reason?: string | undefined;
  requestId?: string | undefined;
}

export async function movePhase(
  deps: PortalDeps,
  me: Me,
  campaignId: string,
  input: PhaseInput,
  lang: Lang,
): Promise<{
  phase: PhaseName;
  action: 'close' | 'extend';
  start: string;
  end: string;
  campaignPhase: string;
}> {
  bureauIn(me, campaignId);
  const c = await runningCampaign(deps, campaignId);
  const fields: FieldErrors = {};
  const action = input.action;
  if (action !== 'close' && action !== 'extend')
    fields.action = t(lang, '请选择：提前结束或延期。', 'Choose: close now or extend.');
  const phase = input.phase as PhaseName;
  if (!PHASE_ORDER.includes(phase)) fields.phase = t(lang, '请选择阶段。', 'Choose the phase.');
  const reason = input.reason?.trim() ?? '';
  if (!reason)
    fields.reason = t(lang, '请写明理由（随决定记录）。', 'Say why (recorded with the decision).');
  else if (reason.length > 2000)
    fields.reason = t(lang, '理由不超过 2000 字。', 'At most 2000 characters.');
  let until: number | undefined;
  if (action === 'extend') {
    const text = input.until?.trim() ?? '';
    until = text ? phaseEndOf(text, c.time_zone, c.definition) : undefined;
    if (until === undefined)
      fields.until = t(
        lang,
        '请填写新的结束时间，如 2026-10-20 18:00（只填日期则为当天下班时间）。',
        'Give the new end, e.g. 2026-10-20 18:00 (a date alone: the end of that working day).',
      );
  }
  if (Object.keys(fields).length) throw invalid(fields);
  const requestId = requestIdOf('phase', input.requestId);
  const r = await refusingUpdate(deps, campaignId, () =>
    sendWorkflowUpdate(
      deps,
      campaignId,
      movePhaseUpdate,
      { requestId, actor: me.personId, phase, action: action as 'close' | 'extend', until, reason },
      requestId,
      CAMPAIGN_FINISHED,
    ),
  );
  return {
    phase: r.phase,
    action: r.action,
    start: formatIsoOffset(r.start, c.time_zone),
    end: formatIsoOffset(r.end, c.time_zone),
    campaignPhase: r.campaignPhase,
  };
}

/** A workflow's refusal with people named rather than by their ids. */
async function refusingUpdate<T>(deps: PortalDeps, campaignId: string, fn: () => Promise<T>) {
  try {
    return await fn();
  } catch (e) {
    if (!(e instanceof Refused) || e.status !== 409) throw e;
    const names = await namesOf(deps, campaignId);
    throw new Refused(409, forPortal(e.zh, names), forPortal(e.en, names), e.fields);
  }
}

export async function cancelCampaign(
  deps: PortalDeps,
  me: Me,
  campaignId: string,
  input: { reason?: string | undefined; requestId?: string | undefined },
  lang: Lang,
): Promise<{ campaignId: string; status: 'cancelled' }> {
  bureauIn(me, campaignId);
  const reason = input.reason?.trim() ?? '';
  if (!reason)
    throw invalid({
      reason: t(
        lang,
        '请写明撤销的理由（所有未完成事项将以此取消）。',
        'Say why (every open task is cancelled with it).',
      ),
    });
  if (reason.length > 2000)
    throw invalid({ reason: t(lang, '理由不超过 2000 字。', 'At most 2000 characters.') });
  // Cancelling is idempotent: a campaign already cancelled answers so, as the CLI's does.
  const row = await campaignRow(deps, campaignId);
  if (row.status === 'cancelled') return { campaignId, status: 'cancelled' };
  if (row.status === 'completed')
    throw new Refused(409, CAMPAIGN_FINISHED.zh, CAMPAIGN_FINISHED.en);
  const requestId = requestIdOf('cancel', input.requestId);
  return refusingUpdate(deps, campaignId, () =>
    sendWorkflowUpdate(
      deps,
      campaignId,
      cancelCampaignUpdate,
      { requestId, actor: me.personId, reason },
      requestId,
      CAMPAIGN_FINISHED,
    ),
  );
}

// ---- the bureau: results, the enterprise list, the assessment ----

export async function importResults(
  deps: PortalDeps,
  me: Me,
  campaignId: string,
  input: { file?: UploadedFile | undefined; requestId?: string | undefined },
  lang: Lang,
): Promise<{ imported: number; rectificationStarted: string[] }> {
  bureauIn(me, campaignId);
  const f = requireFile(input.file, lang, t(lang, '评价结果', 'results'));
  const { table, refuse } = await readCsvUpload(deps, f, lang, checkResultHeader, {
    zh: '评价结果',
    en: 'results',
  });
  const c = await runningCampaign(deps, campaignId);
  const { rows: good, rejected } = checkResultRows(
    table.rows,
    c.definition.indicators.map((i) => i.code),
    table.header,
  );
  if (rejected.length) throw refuse(rejected);
  const requestId = requestIdOf('results', input.requestId);
  return refusingUpdate(deps, campaignId, () =>
    sendWorkflowUpdate(
      deps,
      campaignId,
      recordResultsUpdate,
      { requestId, actor: me.personId, results: good },
      requestId,
      CAMPAIGN_FINISHED,
    ),
  );
}

export async function importEnterprises(
  deps: PortalDeps,
  me: Me,
  campaignId: string,
  input: { file?: UploadedFile | undefined },
  lang: Lang,
): Promise<{ imported: number }> {
  bureauIn(me, campaignId);
  const f = requireFile(input.file, lang, t(lang, '企业全量名单', 'enterprise list'));
  const { table, refuse } = await readCsvUpload(deps, f, lang, checkEnterpriseHeader, {
    zh: '企业名单',
    en: 'enterprise list',
  });
  const c = await runningCampaign(deps, campaignId);
  const list = checkEnterpriseList(table.rows, table.header, c.definition);
  if (list.rejected.length) throw refuse(list.rejected);
  if (!list.good.length)
    throw invalid({
      file: t(lang, `${f.fileName} 中没有企业。`, `${f.fileName} holds no enterprises.`),
    });
  return { imported: await replaceEnterpriseList(deps.pool, campaignId, me.personId, list) };
}

export async function adjustAssessment(
  deps: PortalDeps,
  me: Me,
  campaignId: string,
  input: {
    unit?: string | undefined;
    points?: string | number | undefined;
    reason?: string | undefined;
  },
  lang: Lang,
): Promise<{ no: number; unit: string; points: number; reason: string; by: string; at: string }> {
  bureauIn(me, campaignId);
  const c = await campaignRow(deps, campaignId);
  const fields: FieldErrors = {};
  const unit = c.definition.units.find((u) => u.id === input.unit && u.kind === 'department');
  if (!unit) fields.unit = t(lang, '请选择要调整的职能部门。', 'Choose the department adjusted.');
  const text =
    typeof input.points === 'number' ? String(input.points) : (input.points ?? '').trim();
  const points = /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(points) || points === 0 || Math.abs(points) > 1000)
    fields.points = t(
      lang,
      '请填写不为 0 的分值，-1000 到 1000 之间（扣分写负数，如 -1.5）。',
      'Give points other than 0, from -1000 to 1000 (negative to take, e.g. -1.5).',
    );
  const reason = input.reason?.trim() ?? '';
  if (!reason || reason.length > 2000)
    fields.reason = t(
      lang,
      '请写明理由（不超过 2000 字）。',
      'Say why, in at most 2000 characters.',
    );
  if (Object.keys(fields).length) throw invalid(fields);
  const r = await insertAssessmentAdjustment(deps.pool, campaignId, {
    unit: unit!.id,
    points,
    reason,
    by: me.personId,
  });
  return {
    no: r.no,
    unit: unit!.id,
    points,
    reason,
    by: me.personId,
    at: formatIsoOffset(r.at.getTime(), c.time_zone),
  };
}

// ---- the bureau's page: what it shows ----

export interface BureauView {
  campaignId: string;
  name: string;
  timeZone: string;
  phase: string;
  status: string;
  phases: { phase: PhaseName; start: string; end: string }[];
  departments: { id: string; name: string }[];
  indicators: { code: string; name: string }[];
  enterprises: number;
  officialSample: { drawNo: number; seed: string; size: number; drawnBy: string } | null;
  adjustments: {
    no: number;
    unit: string;
    unitName: string;
    points: number;
    reason: string;
    by: string;
    at: string;
  }[];
}

export async function bureauView(
  deps: PortalDeps,
  me: Me,
  campaignId: string,
): Promise<BureauView> {
  bureauIn(me, campaignId);
  const c = await campaignRow(deps, campaignId);
  const names = await namesOf(deps, campaignId);
  const [count, sample, adjustments, windows] = await Promise.all([
    deps.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM enterprises WHERE campaign_id = $1',
      [campaignId],
    ),
    deps.pool.query<{ draw_no: number; seed: string; size: number; drawn_by: string }>(
      'SELECT draw_no, seed, size, drawn_by FROM samples WHERE campaign_id = $1 AND official',
      [campaignId],
    ),
    deps.pool.query<{
      no: number;
      unit_id: string;
      points: string;
      reason: string;
      by_person: string;
      at: Date;
    }>(
      'SELECT no, unit_id, points, reason, by_person, at FROM assessment_adjustments WHERE campaign_id = $1 ORDER BY no',
      [campaignId],
    ),
    phaseWindows(deps, campaignId, c.definition, c.time_zone),
  ]);
  const unitName = new Map(c.definition.units.map((u) => [u.id, u.name]));
  const s = sample.rows[0];
  return {
    campaignId,
    name: c.name,
    timeZone: c.time_zone,
    phase: c.phase,
    status: c.status,
    phases: windows.map((w) => ({
      phase: w.phase,
      start: formatIsoOffset(w.start, c.time_zone),
      end: formatIsoOffset(w.end, c.time_zone),
    })),
    departments: c.definition.units
      .filter((u) => u.kind === 'department')
      .map((u) => ({ id: u.id, name: u.name })),
    indicators: c.definition.indicators.map((i) => ({ code: i.code, name: i.name })),
    enterprises: count.rows[0]?.n ?? 0,
    officialSample: s
      ? {
          drawNo: s.draw_no,
          seed: s.seed,
          size: s.size,
          drawnBy: names.get(s.drawn_by) ?? s.drawn_by,
        }
      : null,
    adjustments: adjustments.rows.map((a) => ({
      no: a.no,
      unit: a.unit_id,
      unitName: unitName.get(a.unit_id) ?? a.unit_id,
      points: Number(a.points),
      reason: a.reason,
      by: names.get(a.by_person) ?? a.by_person,
      at: formatIsoOffset(a.at.getTime(), c.time_zone),
    })),
  };
}

/** The phase windows in force: the bureau's last move as recorded, else the definition's. */
async function phaseWindows(
  deps: PortalDeps,
  campaignId: string,
  def: CampaignDefinition,
  tz: string,
) {
  const r = await deps.pool.query<{ windows: unknown }>(
    'SELECT windows FROM campaigns WHERE campaign_id = $1',
    [campaignId],
  );
  const raw = r.rows[0]?.windows as
    | { phases?: Record<string, { start: number; end: number }> }
    | Record<string, { start: number; end: number }>
    | null
    | undefined;
  const moved = (raw && 'phases' in raw ? raw.phases : raw) as
    Record<string, { start: number; end: number }> | null | undefined;
  const at = (text: string) => {
    const m = parseMoment(text, tz);
    return m?.kind === 'instant' ? m.instant : NaN;
  };
  return PHASE_ORDER.map((phase) => {
    const m = moved?.[phase];
    const w = def.phases[phase];
    return {
      phase,
      start: typeof m?.start === 'number' ? m.start : at(w.start),
      end: typeof m?.end === 'number' ? m.end : at(w.end),
    };
  });
}

// ---- the evaluator: samples and visits ----

export async function drawEnterpriseSample(
  deps: PortalDeps,
  me: Me,
  campaignId: string,
  input: { seed?: string | undefined; reason?: string | undefined },
  lang: Lang,
) {
  drawerIn(me, campaignId);
  const seed = input.seed?.trim() || undefined;
  if (seed && seed.length > 100)
    throw invalid({ seed: t(lang, '种子不超过 100 个字符。', 'At most 100 characters.') });
  const reason = input.reason?.trim() || undefined;
  return refusing(deps, campaignId, () =>
    drawEnterprises(deps.pool, campaignId, { as: me.personId, seed, reason }),
  );
}

export async function drawRecordSample(
  deps: PortalDeps,
  me: Me,
  campaignId: string,
  code: string,
  input: {
    seed?: string | undefined;
    proportion?: string | number | undefined;
    count?: string | number | undefined;
    byUnit?: boolean | string | undefined;
    reason?: string | undefined;
  },
  lang: Lang,
) {
  drawerIn(me, campaignId);
  const fields: FieldErrors = {};
  const seed = input.seed?.trim() || undefined;
  if (seed && seed.length > 100)
    fields.seed = t(lang, '种子不超过 100 个字符。', 'At most 100 characters.');
  const text = (v: string | number | undefined) =>
    typeof v === 'number' ? String(v) : (v ?? '').trim();
  const p = text(input.proportion);
  const n = text(input.count);
  let proportion: number | undefined;
  let count: number | undefined;
  if (p) {
    proportion = /^(?:0|[1-9]\d*)?(?:\.\d{1,9})?$/.test(p) && p !== '.' ? Number(p) : NaN;
    if (!(proportion > 0 && proportion <= 1))
      fields.proportion = t(
        lang,
        '抽样比例须大于 0、不超过 1，如 0.1。',
        'A proportion above 0 and at most 1, e.g. 0.1.',
      );
  }
  if (n) {
    count = /^\d{1,9}$/.test(n) ? Number(n) : NaN;
    if (!(count >= 1))
      fields.count = t(lang, '抽取条数须为正整数。', 'A whole number of records from 1.');
  }
  if (p && n)
    fields.count = t(lang, '比例和条数只填一项。', 'Give a proportion or a count, not both.');
  if (Object.keys(fields).length) throw invalid(fields);
  const byUnit = input.byUnit === true || input.byUnit === 'on' || input.byUnit === 'true';
  await requireIndicator(deps, campaignId, code);
  return refusing(deps, campaignId, () =>
    drawRecords(deps.pool, campaignId, {
      indicator: code,
      as: me.personId,
      seed,
      proportion,
      count,
      byUnit,
      reason: input.reason?.trim() || undefined,
    }),
  );
}

async function requireIndicator(deps: PortalDeps, campaignId: string, code: string) {
  const r = await deps.pool.query('SELECT 1 FROM indicators WHERE campaign_id = $1 AND code = $2', [
    campaignId,
    code,
  ]);
  if (!r.rowCount) throw notFound('indicator');
}

export interface VisitInput {
  kind?: string | undefined;
  date?: string | undefined;
  place?: string | undefined;
  outcome?: string | undefined;
  note?: string | undefined;
  requestId?: string | undefined;
}

/** The evaluator records a site visit or an interview (the CLI's `campaign visit record`). */
export async function recordVisit(
  deps: PortalDeps,
  me: Me,
  campaignId: string,
  code: string,
  input: VisitInput,
  lang: Lang,
) {
  evaluatorIn(me, campaignId);
  await requireIndicator(deps, campaignId, code);
  const fields: FieldErrors = {};
  if (input.kind !== 'site-visit' && input.kind !== 'interview')
    fields.kind = t(lang, '请选择：实地核查或访谈。', 'Choose: site visit or interview.');
  const day = input.date ? parseDay(input.date.trim()) : null;
  if (!day) fields.date = t(lang, '请填写日期，如 2026-11-03。', 'Give the day, e.g. 2026-11-03.');
  const place = input.place?.trim() ?? '';
  if (!place) fields.place = t(lang, '请写明地点或访谈对象。', 'Say where, or whom.');
  else if (place.length > 500) fields.place = t(lang, '不超过 500 字。', 'At most 500 characters.');
  if (input.outcome !== 'confirmed' && input.outcome !== 'discrepant')
    fields.outcome = t(
      lang,
      '请选择核验结果：属实或有差异。',
      'Choose the outcome: confirmed or discrepant.',
    );
  if ((input.note?.length ?? 0) > 5000)
    fields.note = t(lang, '说明不超过 5000 字。', 'At most 5000 characters.');
  if (Object.keys(fields).length) throw invalid(fields);
  await refusing(deps, campaignId, () => runningDefinition(deps.pool, campaignId));
  const requestId = requestIdOf('visit', input.requestId);
  const kind = input.kind as VisitKind;
  const outcome = input.outcome as 'confirmed' | 'discrepant';
  const note = input.note?.trim() || undefined;
  const r = await refusingUpdate(deps, campaignId, () =>
    sendWorkflowUpdate(
      deps,
      indicatorWorkflowId(campaignId, code),
      verifyUpdate,
      { requestId, actor: me.personId, item: visitItem(kind, day!, place), outcome, note },
      requestId,
      INDICATOR_FINISHED,
    ),
  );
  await saveVisit(deps.pool, campaignId, code, requestId, {
    kind,
    day: day!,
    place,
    outcome,
    note: note ?? null,
    by: me.personId,
  });
  return {
    indicator: code,
    kind,
    date: day!,
    place,
    outcome: r.outcome,
    note: note ?? null,
    flagged: r.flagged,
  };
}

// ---- the evaluator's page: what it shows ----

export interface EvaluatorView {
  campaignId: string;
  name: string;
  timeZone: string;
  enterprises: number;
  enterpriseSample: {
    drawNo: number;
    seed: string;
    size: number;
    population: number;
    drawnBy: string;
    drawnAt: string;
  } | null;
  indicators: {
    code: string;
    name: string;
    phase: string;
    recordSample: {
      drawNo: number;
      seed: string;
      size: number;
      population: number;
      drawnBy: string;
      reason: string | null;
    } | null;
    visits: {
      kind: VisitKind;
      date: string;
      place: string;
      outcome: 'confirmed' | 'discrepant';
      note: string | null;
      by: string;
    }[];
  }[];
}

export async function evaluatorView(
  deps: PortalDeps,
  me: Me,
  campaignId: string,
): Promise<EvaluatorView> {
  evaluatorIn(me, campaignId);
  const c = await campaignRow(deps, campaignId);
  const names = await namesOf(deps, campaignId);
  const [count, sample, indicators, draws, visits] = await Promise.all([
    deps.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM enterprises WHERE campaign_id = $1',
      [campaignId],
    ),
    deps.pool.query<{
      draw_no: number;
      seed: string;
      size: number;
      population: number;
      drawn_by: string;
      drawn_at: Date;
    }>(
      'SELECT draw_no, seed, size, population, drawn_by, drawn_at FROM samples WHERE campaign_id = $1 AND official',
      [campaignId],
    ),
    deps.pool.query<{ code: string; name: string; phase: string | null }>(
      `SELECT i.code, i.name, s.phase FROM indicators i
         LEFT JOIN indicator_status s ON s.campaign_id = i.campaign_id AND s.code = i.code
        WHERE i.campaign_id = $1 ORDER BY i.position`,
      [campaignId],
    ),
    deps.pool.query<{
      indicator: string;
      draw_no: number;
      seed: string;
      size: number;
      population: number;
      drawn_by: string;
      reason: string | null;
    }>(
      'SELECT indicator, draw_no, seed, size, population, drawn_by, reason FROM record_samples WHERE campaign_id = $1 AND official',
      [campaignId],
    ),
    deps.pool.query<{
      code: string;
      kind: VisitKind;
      day: string;
      place: string;
      outcome: 'confirmed' | 'discrepant';
      note: string | null;
      recorded_by: string;
    }>(
      `SELECT code, kind, to_char(visited_on, 'YYYY-MM-DD') AS day, place, outcome, note, recorded_by
         FROM verification_visits WHERE campaign_id = $1 ORDER BY visited_on, request_id`,
      [campaignId],
    ),
  ]);
  const s = sample.rows[0];
  const who = (id: string) => names.get(id) ?? id;
  return {
    campaignId,
    name: c.name,
    timeZone: c.time_zone,
    enterprises: count.rows[0]?.n ?? 0,
    enterpriseSample: s
      ? {
          drawNo: s.draw_no,
          seed: s.seed,
          size: s.size,
          population: s.population,
          drawnBy: who(s.drawn_by),
          drawnAt: formatIsoOffset(s.drawn_at.getTime(), c.time_zone),
        }
      : null,
    indicators: indicators.rows.map((i) => {
      const d = draws.rows.find((x) => x.indicator === i.code);
      return {
        code: i.code,
        name: i.name,
        phase: i.phase ?? 'scheduled',
        recordSample: d
          ? {
              drawNo: d.draw_no,
              seed: d.seed,
              size: d.size,
              population: d.population,
              drawnBy: who(d.drawn_by),
              reason: d.reason,
            }
          : null,
        visits: visits.rows
          .filter((v) => v.code === i.code)
          .map((v) => ({
            kind: v.kind,
            date: v.day,
            place: v.place,
            outcome: v.outcome,
            note: v.note,
            by: who(v.recorded_by),
          })),
      };
    }),
  };
}
