// Campaign commands: start, the enterprise list and the sample, the
// evaluator's evidence requests and verified items, and the results. The campaign's record,
// the list and the board are in board.ts.
import { randomBytes } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/client';
import { withTransaction } from '../../db/pool.ts';
import { BusinessCalendar } from '../../domain/calendar.ts';
import {
  indicatorWorkflowId,
  planCampaign,
  rectificationWorkflowId,
  type CampaignInput,
} from '../../domain/campaign.ts';
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
  checkEnterpriseRows,
  checkResultHeader,
  checkResultRows,
  drawSample,
  ENTERPRISE_COLUMNS,
  normaliseCreditCode,
  parseCsvTable,
  type CsvTable,
  type RowProblem,
} from '../../domain/imports.ts';
import { checkRollColumns } from '../../domain/questionnaire.ts';
import type { CampaignDefinition } from '../../domain/definition.ts';
import { SA } from '../../domain/search-attributes.ts';
import { rehearse, RehearsalError, type Rehearsal } from '../../domain/rehearsal.ts';
import { formatIsoOffset, formatLocal } from '../../domain/time.ts';
import { PHASE_ORDER } from '../../domain/phase-control.ts';
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
import { CliError, EXIT } from '../errors.ts';
import { readBoundedFile } from '../files.ts';
import { colour, printJson, t, type OutputOptions } from '../output.ts';
import { withProgress, type Progress } from '../progress.ts';
import { loadCampaign, loadRunningCampaign } from './board.ts';
import { BUREAU, EVALUATOR, requireRole } from './roles.ts';
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
  let def = structuredClone(loaded.definition);
  let calendar = loaded.calendar;
  if (opts.begin !== undefined || opts.pace !== undefined) {
    let moved: Rehearsal;
    try {
      moved = rehearse(
        def,
        { ...(opts.begin !== undefined ? { begin: opts.begin } : {}), ...paceOption(opts.pace) },
        Date.now,
      );
    } catch (e) {
      if (!(e instanceof RehearsalError)) throw e;
      throw new CliError(e.message, e.kind === 'usage' ? EXIT.usage : EXIT.refused);
    }
    def = moved.definition;
    calendar = moved.calendar;
    // Moved into a year the holiday package does not know: said, and the campaign starts.
    for (const w of moved.warnings) {
      process.stderr.write(
        `campaign: ${t(out.lang, '提醒', 'warning')}: ${w.path}: ${w.message}\n`,
      );
    }
  }
  if (opts.id) {
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(opts.id)) {
      throw new CliError(
        `--id "${opts.id}" must be lower-case letters, digits and dashes (at most 63)`,
        EXIT.usage,
      );
    }
    def.campaign.id = opts.id;
  }
  if (opts.as) requireRole(def, opts.as, [BUREAU], 'start a campaign');
  const plan = planCampaign(def, calendar, new BusinessCalendar(calendar));
  // A definition whose windows are already over would fire every overdue reminder and
  // escalation at once: refused unless asked for (a rehearsal moves it with --begin now).
  const over = PHASE_ORDER.find((ph) => plan.phases[ph].end <= Date.now());
  if (over && !opts.allowPast) {
    const when = formatLocal(plan.phases[over].end, def.campaign.timeZone);
    throw new CliError(
      t(
        out.lang,
        `${file} 的「${label(out.lang, over)}」阶段已于 ${when} 结束：演练请加 --begin now（把各阶段移到现在），确需按原日期启动请加 --allow-past`,
        `the ${over} phase of ${file} ended at ${when}: rehearse it with --begin now (the phases moved to now), or start it on its dates with --allow-past`,
      ),
      EXIT.refused,
    );
  }
  const input: CampaignInput = {
    definition: def,
    calendar,
    plan,
    startedBy: opts.as ?? null,
  };
  const temporal = await connectTemporal();
  const campaignId = def.campaign.id;
  try {
    try {
      await temporal.client.workflow.start('campaignWorkflow', {
        taskQueue: config().taskQueue,
        workflowId: campaignId,
        args: [input],
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        staticSummary: `考核评价：${def.campaign.name}`,
        staticDetails: `${def.campaign.county} ${def.campaign.year}; ${def.indicators.length} indicators, ${def.units.length} units; started from ${file}`,
        typedSearchAttributes: [
          { key: SA.campaignId, value: campaignId },
          { key: SA.kind, value: 'campaign' },
          { key: SA.phase, value: 'scheduled' },
        ],
      });
    } catch (e) {
      if (e instanceof WorkflowExecutionAlreadyStartedError) {
        throw new CliError(
          `campaign "${campaignId}" was already started; give another id with --id to start a new one`,
        );
      }
      throw e;
    }
  } finally {
    await temporal.close();
  }
  // The worker records the campaign in PostgreSQL as its first step; wait briefly for it.
  const recorded = await withDb(async (pool) => {
    for (let i = 0; i < 40; i++) {
      const r = await pool.query('SELECT 1 FROM campaigns WHERE campaign_id = $1', [campaignId]);
      if (r.rowCount) return true;
      await new Promise((res) => setTimeout(res, 250));
    }
    return false;
  });
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

/** Each enterprise's 主管部门 and 问卷指标 by its credit code, or the lines where they are wrong. */
function enterpriseRollColumns(
  rows: CsvTable['rows'],
  header: string[],
  def: CampaignDefinition,
): {
  byCode: Map<string, { supervisor_unit: string | null; questionnaires: string[] | null }>;
  rejected: RowProblem[];
} {
  const checked = checkRollColumns(rows, header, {
    units: def.units,
    indicatorCodes: def.indicators.map((i) => i.code),
  });
  const codeColumn = ENTERPRISE_COLUMNS.creditCode.find((n) => header.includes(n));
  const byCode = new Map<
    string,
    { supervisor_unit: string | null; questionnaires: string[] | null }
  >();
  for (const r of rows) {
    const v = checked.values.get(r.line);
    if (v && codeColumn)
      byCode.set(normaliseCreditCode(r.values[codeColumn] ?? ''), {
        supervisor_unit: v.supervisorUnit,
        questionnaires: v.questionnaires,
      });
  }
  return { byCode, rejected: checked.rejected };
}

/** Rows inserted per statement; all of them in one transaction, so nothing is half-imported. */
const ENTERPRISE_BATCH = 500;

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
      const { rows: good, rejected } = checkEnterpriseRows(rows, header);
      progress.update(rows.length);
      return withDb(async (pool) => {
        const c = await loadRunningCampaign(pool, campaignId);
        requireRole(c.definition, opts.as, [BUREAU], 'import the enterprise list');
        // The optional 主管部门 and 问卷指标 columns (domain/questionnaire.ts).
        const roll = enterpriseRollColumns(rows, header, c.definition);
        // One entry per line: the list's own problems and its questionnaire columns' together.
        for (const p of roll.rejected) {
          const same = rejected.find((r) => r.line === p.line);
          if (same) same.message = `${same.message}; ${p.message}`;
          else rejected.push(p);
        }
        rejected.sort((a, b) => a.line - b.line);
        if (rejected.length) refuseRows(opts.file, rejected, out);
        if (!good.length) throw new CliError(`${opts.file} holds no enterprises`);
        progress.stage(L('写入企业名单', 'inserting enterprises'), good.length, L('家', 'rows'));
        await withTransaction(pool, async (client) => {
          // The list is the full list: a new import replaces the previous one.
          await client.query('DELETE FROM enterprises WHERE campaign_id = $1', [campaignId]);
          for (let i = 0; i < good.length; i += ENTERPRISE_BATCH) {
            const chunk = good.slice(i, i + ENTERPRISE_BATCH);
            await client.query(
              `INSERT INTO enterprises (campaign_id, credit_code, name, industry, town, imported_by,
                                        supervisor_unit, questionnaires)
               SELECT $1, x.credit_code, x.name, x.industry, x.town, $2, x.supervisor_unit,
                      CASE WHEN x.questionnaires IS NULL THEN NULL
                           ELSE ARRAY(SELECT jsonb_array_elements_text(x.questionnaires)) END
               FROM jsonb_to_recordset($3::jsonb)
                 AS x(credit_code text, name text, industry text, town text,
                      supervisor_unit text, questionnaires jsonb)`,
              [
                campaignId,
                opts.as,
                JSON.stringify(
                  chunk.map((r) => ({
                    credit_code: r.creditCode,
                    name: r.name,
                    industry: r.industry,
                    town: r.town,
                    ...roll.byCode.get(r.creditCode),
                  })),
                ),
              ],
            );
            progress.update(i + chunk.length);
          }
        });
        return good.length;
      });
    },
  );
  if (out.json) printJson({ imported, rejected: [] });
  else
    console.log(
      `${colour.ok('✓')} ${t(out.lang, `已导入 ${imported} 家企业`, `imported ${imported} enterprises`)}`,
    );
}

export async function sampleCommand(
  campaignId: string,
  opts: { as: string; seed?: string },
  out: OutputOptions,
): Promise<void> {
  const result = await withDb(async (pool) => {
    const c = await loadRunningCampaign(pool, campaignId);
    requireRole(c.definition, opts.as, [BUREAU, EVALUATOR], 'draw the verification sample');
    const ids = (
      await pool.query<{ credit_code: string }>(
        'SELECT credit_code FROM enterprises WHERE campaign_id = $1',
        [campaignId],
      )
    ).rows.map((r) => r.credit_code);
    if (!ids.length)
      throw new CliError(
        `no enterprise list for "${campaignId}": import it first with \`campaign enterprises import\``,
      );
    const seed = opts.seed ?? randomBytes(6).toString('hex');
    const proportion = c.definition.phases.verification.samplingProportion;
    const enterprises = drawSample(ids, proportion, seed);
    await pool.query(
      `INSERT INTO samples (campaign_id, seed, proportion, population, size, enterprises, drawn_by)
       VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING`,
      [campaignId, seed, proportion, ids.length, enterprises.length, enterprises, opts.as],
    );
    return { seed, size: enterprises.length, population: ids.length, proportion, enterprises };
  });
  if (out.json) return printJson(result);
  console.log(
    `${colour.ok('✓')} ${t(out.lang, `按比例 ${result.proportion} 从 ${result.population} 家企业中抽取 ${result.size} 家（种子 ${result.seed}）`, `drew ${result.size} of ${result.population} enterprises at ${result.proportion} (seed ${result.seed})`)}`,
  );
  for (const e of result.enterprises) console.log(`  ${e}`);
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
