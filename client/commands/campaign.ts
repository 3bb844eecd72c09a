// Campaign commands: start, the enterprise list (its sample is in records.ts), the
// evaluator's evidence requests and verified items, and the results. The campaign's record,
// the list and the board are in board.ts.
import { indicatorWorkflowId, rectificationWorkflowId } from '../../domain/campaign.ts';
import {
  recordResultsUpdate,
  requestEvidenceUpdate,
  verifyUpdate,
  addMeasureUpdate,
  rectifyClosedUpdate,
  startRectificationUpdate,
} from '../../domain/messages.ts';
import {
  checkEnterpriseHeader,
  checkResultHeader,
  checkResultRows,
  parseCsvTable,
  type CsvTable,
  type RowProblem,
} from '../../domain/imports.ts';
import { RehearsalError } from '../../domain/rehearsal.ts';
import { formatIsoOffset, formatLocal } from '../../domain/time.ts';
import { label } from '../../domain/labels.ts';
import { config } from '../../worker/config.ts';
import {
  assertPayload,
  connectTemporal,
  derivedRequestId,
  sendUpdate,
  updateError,
  withDb,
  withWorkerDeadline,
} from '../connections.ts';
import {
  CAMPAIGN_ID,
  planStart,
  startCampaignWorkflow,
  waitForCampaignRecord,
  type StartPlan,
} from '../campaign-start.ts';
import { checkEnterpriseList, replaceEnterpriseList } from '../campaign-data.ts';
import { CliError, EXIT } from '../errors.ts';
import { readBoundedFile } from '../files.ts';
import { colour, printJson, t, type OutputOptions } from '../output.ts';
import { withProgress, type Progress } from '../progress.ts';
import { loadCampaign, loadRunningCampaign } from './board.ts';
import { BUREAU, requireRole } from './roles.ts';
import { requireValidDefinition } from './definition.ts';

/** --pace as a number for the rehearsal (which says what is wrong with a bad one). */
function paceOption(pace: string | undefined): { pace?: number } {
  if (pace === undefined) return {};
  const n = pace.trim() === '' ? NaN : Number(pace);
  if (Number.isNaN(n))
    throw new CliError(`--pace "${pace}" is not a number from 1 to 3600`, EXIT.usage);
  return { pace: n };
}

export async function startCommand(
  file: string,
  opts: { id?: string; as?: string; begin?: string; pace?: string; allowPast?: boolean },
  out: OutputOptions,
): Promise<void> {
  const loaded = await requireValidDefinition(file);
  if (opts.id && !CAMPAIGN_ID.test(opts.id)) {
    throw new CliError(
      `--id "${opts.id}" must be lower-case letters, digits and dashes (at most 63)`,
      EXIT.usage,
    );
  }
  let planned: StartPlan;
  try {
    planned = planStart(
      loaded,
      {
        rehearsal: {
          ...(opts.begin !== undefined ? { begin: opts.begin } : {}),
          ...paceOption(opts.pace),
        },
        ...(opts.id ? { id: opts.id } : {}),
        startedBy: opts.as ?? null,
      },
      Date.now,
    );
  } catch (e) {
    if (!(e instanceof RehearsalError)) throw e;
    throw new CliError(e.message, e.kind === 'usage' ? EXIT.usage : EXIT.refused);
  }
  // Moved into a year the holiday package does not know: said, and the campaign starts.
  for (const w of planned.warnings) {
    process.stderr.write(`campaign: ${t(out.lang, '提醒', 'warning')}: ${w.path}: ${w.message}\n`);
  }
  const input = planned.input;
  const def = input.definition;
  if (opts.as) requireRole(def, opts.as, [BUREAU], 'start a campaign');
  // A definition whose windows are already over would fire every overdue reminder and
  // escalation at once: refused unless asked for (a rehearsal moves it with --begin now).
  if (planned.over && !opts.allowPast) {
    const over = planned.over.phase;
    const when = formatLocal(planned.over.end, def.campaign.timeZone);
    throw new CliError(
      t(
        out.lang,
        `${file} 的「${label(out.lang, over)}」阶段已于 ${when} 结束：演练请加 --begin now（把各阶段移到现在），确需按原日期启动请加 --allow-past`,
        `the ${over} phase of ${file} ended at ${when}: rehearse it with --begin now (the phases moved to now), or start it on its dates with --allow-past`,
      ),
      EXIT.refused,
    );
  }
  const temporal = await connectTemporal();
  const campaignId = def.campaign.id;
  try {
    const started = await startCampaignWorkflow(temporal.client, config().taskQueue, input, file);
    if (started === 'already-started')
      throw new CliError(
        `campaign "${campaignId}" was already started; give another id with --id to start a new one`,
      );
  } finally {
    await temporal.close();
  }
  // The worker records the campaign in PostgreSQL as its first step; wait briefly for it.
  const recorded = await withDb((pool) => waitForCampaignRecord(pool, campaignId));
  if (!recorded) {
    process.stderr.write(
      `campaign: ${t(
        out.lang,
        `"${campaignId}" 已启动，但还没有工作进程记录它：工作进程在运行吗（npm run worker）？`,
        `"${campaignId}" is started, but no worker has recorded it yet: is a worker running (npm run worker)?`,
      )}\n`,
    );
  }
  if (out.json) printJson({ campaignId, workflowId: campaignId });
  else
    console.log(
      `${colour.ok('✓')} ${t(out.lang, '已启动', 'started')} ${def.campaign.name} (${campaignId})`,
    );
}

/**
 * Reads a CSV with a header row into records with their lines, advancing `progress` per row
 * (its total is the file's line count, an estimate until the end). A file that cannot be read
 * as CSV is refused with every problem at its line, as a bad row is.
 */
async function readCsv(
  file: string,
  what: string,
  out: OutputOptions,
  progress?: Progress,
  extra: Record<string, unknown> = {},
): Promise<CsvTable> {
  const read = await readBoundedFile(file, config().limits.importBytes, 'CAMPAIGN_MAX_IMPORT_SIZE');
  // "cannot read the results nope.csv: no such file"
  if ('problem' in read)
    throw new CliError(read.problem.replace(/^cannot read /, `cannot read ${what} `));
  let lines = read.bytes.length && read.bytes[read.bytes.length - 1] !== 0x0a ? 1 : 0;
  for (let i = read.bytes.indexOf(0x0a); i !== -1; i = read.bytes.indexOf(0x0a, i + 1)) lines++;
  progress?.update(0, Math.max(1, lines - 1));
  const parsed = await parseCsvTable(read.bytes, `${file} (${what})`, (n) => progress?.update(n));
  if ('problems' in parsed) refuseRows(file, parsed.problems, out, extra);
  progress?.update(parsed.table.rows.length, parsed.table.rows.length);
  return parsed.table;
}

/** `line 4, column 2: …` */
function where(r: RowProblem): string {
  return `line ${r.line}${r.column !== undefined ? `, column ${r.column}` : ''}`;
}

function refuseRows(
  file: string,
  rejected: RowProblem[],
  out: OutputOptions,
  extra: Record<string, unknown> = {},
): never {
  if (out.json) printJson({ imported: 0, rejected, ...extra });
  throw new CliError(
    `${file}: ${rejected.length} bad line(s), nothing imported:\n${rejected.map((r) => `  ${where(r)}: ${r.message}`).join('\n')}`,
    EXIT.refused,
    { printed: true },
  );
}

export async function importEnterprisesCommand(
  campaignId: string,
  opts: { file: string; as: string },
  out: OutputOptions,
): Promise<void> {
  const L = (zh: string, en: string) => t(out.lang, zh, en);
  const imported = await withProgress(
    {
      label: L('读取企业名单', 'reading the enterprise list'),
      unit: L('行', 'rows'),
      json: out.json,
    },
    async (progress) => {
      const { header, headerLine, rows } = await readCsv(
        opts.file,
        'the enterprise list',
        out,
        progress,
      );
      const headerProblem = checkEnterpriseHeader(header);
      if (headerProblem) refuseRows(opts.file, [{ line: headerLine, message: headerProblem }], out);
      progress.stage(
        L('检查企业名单', 'checking the enterprise list'),
        rows.length,
        L('行', 'rows'),
      );
      return withDb(async (pool) => {
        const c = await loadRunningCampaign(pool, campaignId);
        requireRole(c.definition, opts.as, [BUREAU], 'import the enterprise list');
        // The optional 主管部门 and 问卷指标 columns too (domain/questionnaire.ts).
        const list = checkEnterpriseList(rows, header, c.definition);
        progress.update(rows.length);
        if (list.rejected.length) refuseRows(opts.file, list.rejected, out);
        if (!list.good.length) throw new CliError(`${opts.file} holds no enterprises`);
        progress.stage(
          L('写入企业名单', 'inserting enterprises'),
          list.good.length,
          L('家', 'rows'),
        );
        return replaceEnterpriseList(pool, campaignId, opts.as, list, (n) => progress.update(n));
      });
    },
  );
  if (out.json) printJson({ imported, rejected: [] });
  else
    console.log(
      `${colour.ok('✓')} ${t(out.lang, `已导入 ${imported} 家企业`, `imported ${imported} enterprises`)}`,
    );
}

export async function evidenceRequestCommand(
  campaignId: string,
  code: string,
  opts: { unit: string; what: string; as: string; requestId?: string },
  out: OutputOptions,
): Promise<void> {
  const requestId =
    opts.requestId ?? derivedRequestId('evidence', campaignId, code, opts.unit, opts.what, opts.as);
  const r = await sendUpdate(
    indicatorWorkflowId(campaignId, code),
    requestEvidenceUpdate,
    { requestId, actor: opts.as, unit: opts.unit, what: opts.what },
    'evidence request',
    { updateId: requestId },
  );
  const tz = await withDb(async (pool) => (await loadCampaign(pool, campaignId)).timeZone);
  if (out.json) printJson({ taskId: r.taskId, due: formatIsoOffset(r.due, tz) });
  else
    console.log(
      `${colour.ok('✓')} ${r.taskId} ${t(out.lang, '截止', 'due')} ${formatLocal(r.due, tz)}`,
    );
}

export async function verifyCommand(
  campaignId: string,
  code: string,
  opts: {
    item: string;
    outcome: 'confirmed' | 'discrepant';
    as: string;
    note?: string;
    requestId?: string;
  },
  out: OutputOptions,
): Promise<void> {
  const requestId =
    opts.requestId ??
    derivedRequestId('verify', campaignId, code, opts.item, opts.outcome, opts.note, opts.as);
  const r = await sendUpdate(
    indicatorWorkflowId(campaignId, code),
    verifyUpdate,
    {
      requestId,
      actor: opts.as,
      item: opts.item,
      outcome: opts.outcome,
      note: opts.note,
    },
    'verification',
    { updateId: requestId },
  );
  if (out.json) printJson(r);
  else
    console.log(
      `${r.outcome === 'confirmed' ? colour.ok('✓') : colour.bad('⚑')} ${code} ${r.item}: ${r.outcome === 'confirmed' ? t(out.lang, '核验属实', 'confirmed') : t(out.lang, '核验有差异', 'discrepant')}${r.flagged ? t(out.lang, '（已标记数据核验差异）', ' (flagged)') : ''}`,
    );
}

export async function importResultsCommand(
  campaignId: string,
  opts: { file: string; as: string; requestId?: string },
  out: OutputOptions,
): Promise<void> {
  const L = (zh: string, en: string) => t(out.lang, zh, en);
  const r = await withProgress(
    { label: L('读取评价结果', 'reading the results'), unit: L('行', 'rows'), json: out.json },
    async (progress) => {
      const { header, headerLine, rows } = await readCsv(opts.file, 'the results', out, progress, {
        rectificationStarted: [],
      });
      const headerProblem = checkResultHeader(header);
      if (headerProblem)
        refuseRows(opts.file, [{ line: headerLine, message: headerProblem }], out, {
          rectificationStarted: [],
        });
      const def = await withDb(
        async (pool) => (await loadRunningCampaign(pool, campaignId)).definition,
      );
      requireRole(def, opts.as, [BUREAU], 'import results');
      const { rows: good, rejected } = checkResultRows(
        rows,
        def.indicators.map((i) => i.code),
        header,
      );
      if (rejected.length) refuseRows(opts.file, rejected, out, { rectificationStarted: [] });
      progress.stage(L('记录评价结果', 'recording the results'));
      const requestId =
        opts.requestId ?? derivedRequestId('results', campaignId, opts.as, JSON.stringify(good));
      return sendUpdate(
        campaignId,
        recordResultsUpdate,
        { requestId, actor: opts.as, results: good },
        'results import',
        { updateId: requestId },
      );
    },
  );
  if (out.json) printJson(r);
  else {
    console.log(
      `${colour.ok('✓')} ${t(out.lang, `已导入 ${r.imported} 项指标结果`, `imported ${r.imported} results`)}`,
    );
    if (r.rectificationStarted.length)
      console.log(
        `${colour.warn('⚑')} ${t(out.lang, '需整改', 'marked for rectification')}: ${r.rectificationStarted.join(', ')}`,
      );
  }
}

/** The bureau starts the rectification of an indicator by hand, with a reason. */
export async function rectifyCommand(
  campaignId: string,
  code: string,
  opts: { as: string; reason: string; requestId?: string },
  out: OutputOptions,
): Promise<void> {
  const { definition } = await withDb((pool) => loadRunningCampaign(pool, campaignId));
  requireRole(definition, opts.as, [BUREAU], 'start a rectification');
  if (!definition.indicators.some((i) => i.code === code))
    throw new CliError(`unknown indicator "${code}" in campaign "${campaignId}"`);
  if (!opts.reason.trim())
    throw new CliError('starting a rectification by hand needs a reason (--reason)', EXIT.usage);
  const temporal = await connectTemporal();
  const id = indicatorWorkflowId(campaignId, code);
  try {
    const indicator = temporal.client.workflow.getHandle(id);
    const running = await indicator
      .describe()
      .then((d) => d.status.name === 'RUNNING')
      .catch(() => false);
    let workflowId: string;
    if (running) {
      const requestId =
        opts.requestId ?? derivedRequestId('rectify', campaignId, code, opts.as, opts.reason);
      assertPayload(startRectificationUpdate.name, {
        requestId,
        actor: opts.as,
        reason: opts.reason,
      });
      const r = await withWorkerDeadline(temporal.client, () =>
        indicator.executeUpdate(startRectificationUpdate, {
          args: [{ requestId, actor: opts.as, reason: opts.reason }],
          updateId: requestId,
        }),
      ).catch((e: unknown) => {
        throw updateError(e, 'rectification', id);
      });
      workflowId = r.workflowId;
    } else {
      // The indicator has closed: the campaign starts the rectification on its own.
      const requestId =
        opts.requestId ?? derivedRequestId('rectify', campaignId, code, opts.as, opts.reason);
      assertPayload(rectifyClosedUpdate.name, { requestId, actor: opts.as, reason: opts.reason, code }); // prettier-ignore
      const r = await withWorkerDeadline(temporal.client, () =>
        temporal.client.workflow.getHandle(campaignId).executeUpdate(rectifyClosedUpdate, {
          args: [{ requestId, actor: opts.as, reason: opts.reason, code }],
          updateId: requestId,
        }),
      ).catch((e: unknown) => {
        throw updateError(e, 'rectification', campaignId, 'campaign');
      });
      workflowId = r.workflowId;
    }
    if (out.json) printJson({ workflowId });
    else
      console.log(
        `${colour.ok('✓')} ${t(out.lang, '已启动整改', 'rectification started')}: ${workflowId}`,
      );
  } finally {
    await temporal.close();
  }
}

/** The bureau adds a measure to a rectification under way (a split or a new finding). */
export interface AddMeasureOptions {
  as: string;
  requestId?: string;
  problem: string;
  measure: string;
  unit: string;
  person: string;
  due: string;
  reason: string;
}

export async function addMeasureCommand(
  campaignId: string,
  code: string,
  opts: AddMeasureOptions,
  out: OutputOptions,
): Promise<void> {
  const problem = Number(opts.problem);
  if (!Number.isInteger(problem) || problem < 1)
    throw new CliError(`--problem "${opts.problem}" must be a problem number from 1`, EXIT.usage);
  const { as: actor, measure, unit, person, due, reason } = opts;
  const requestId =
    opts.requestId ??
    derivedRequestId(
      'measure',
      campaignId,
      code,
      actor,
      problem,
      measure,
      unit,
      person,
      due,
      reason,
    );
  const r = await sendUpdate(
    rectificationWorkflowId(campaignId, code),
    addMeasureUpdate,
    { requestId, actor, problem, measure, unit, person, due, reason },
    'adding the measure',
    { updateId: requestId },
  ).catch((e: unknown) => {
    // Said in people's terms, not by the workflow's id.
    if (e instanceof CliError && /^no workflow ".*" is running/.test(e.message)) {
      const en = `indicator ${code} of campaign ${campaignId} has no rectification under way: start one with \`campaign rectify\` (or it has closed)`;
      throw new CliError(en, EXIT.refused, undefined, {
        en,
        zh: `考核 ${campaignId} 的指标 ${code} 没有进行中的整改：请先用 \`campaign rectify\` 发起整改（或该整改已经销号结束）`,
      });
    }
    throw e;
  });
  if (out.json) printJson(r);
  else
    console.log(
      `${colour.ok('✓')} ${t(out.lang, '已增加整改措施', 'measure added')} ${r.no}: ${r.taskId}`,
    );
}
