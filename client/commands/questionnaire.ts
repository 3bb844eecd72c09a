// `campaign questionnaire import|mark|status|chase` — the enterprise questionnaire followed
// (企业问卷跟踪) — and `campaign visit record|list`, the evaluator's site visits and interviews
// (实地核查、访谈). Answers are written to PostgreSQL (whose triggers check the campaign and the
// person again); a chase task is raised through the campaign workflow's update raiseTask, so its
// reminders and escalation are the ordinary ones; a visit is a verified item of the indicator's
// workflow (update verify) with its date, place and kind kept beside it.
import { withTransaction } from '../../db/pool.ts';
import { QQ, readQuestionnaire } from '../../db/questionnaire.ts';
import { indicatorWorkflowId } from '../../domain/campaign.ts';
import { normaliseCreditCode, type RowProblem } from '../../domain/imports.ts';
import { raiseTaskUpdate, verifyUpdate } from '../../domain/messages.ts';
import {
  chaseTaskText,
  checkAnswerHeader,
  checkAnswerRows,
  parseDay,
  percent,
  type NonRespondent,
  type ResponseRates,
} from '../../domain/questionnaire.ts';
import type { CampaignDefinition } from '../../domain/definition.ts';
import type { RaiseTaskRequest } from '../../domain/raise-task.ts';
import { formatIsoOffset, formatLocal } from '../../domain/time.ts';
import { saveVisit, VISIT_ZH, visitItem } from '../campaign-data.ts';
import { derivedRequestId, sendUpdate, withDb } from '../connections.ts';
import { CliError, EXIT, UsageError } from '../errors.ts';
import { colour, printJson, t, table, type Lang, type OutputOptions } from '../output.ts';
import { placeOf, readTableFile } from '../table-file.ts';
import { loadCampaign, loadRunningCampaign } from './board.ts';
import { BUREAU, EVALUATOR, requireRole } from './roles.ts';
import { cliOperator } from './tasks.ts';

/** The chase task's kind (domain/task.ts TASK_KINDS). */
export const CHASE_KIND = 'enterprise-assist';

function refuseRows(
  file: string,
  rejected: RowProblem[],
  out: OutputOptions,
  sheet?: string,
): never {
  if (out.json)
    printJson({
      imported: 0,
      rejected: rejected.map((r) => ({ ...r, ...(sheet ? { sheet } : {}) })),
    });
  throw new CliError(
    `${file}: ${rejected.length} bad line(s), nothing imported:\n${rejected.map((r) => `  ${placeOf(r, sheet)}: ${r.message}`).join('\n')}`,
    EXIT.refused,
    { printed: true },
  );
}

const ANSWER_BATCH = 500;

/** The evaluator imports the list of enterprises that answered (CSV or xlsx). */
export async function importAnswersCommand(
  campaignId: string,
  opts: { file: string; as: string },
  out: OutputOptions,
): Promise<void> {
  const read = await readTableFile(opts.file, 'the answered list');
  if ('problems' in read) refuseRows(opts.file, read.problems, out, read.sheet);
  const { header, headerLine, rows, sheet } = read.table;
  const headerProblem = checkAnswerHeader(header);
  if (headerProblem)
    refuseRows(opts.file, [{ line: headerLine, message: headerProblem }], out, sheet);
  const result = await withDb(async (pool) => {
    const c = await loadRunningCampaign(pool, campaignId);
    requireRole(c.definition, opts.as, [EVALUATOR, BUREAU], 'record questionnaire answers');
    const q = await readQuestionnaire(pool, campaignId);
    if (!q.sample)
      throw new CliError(
        `campaign "${campaignId}" has no sample yet: draw it first with \`campaign sample\``,
      );
    const names = new Map(
      (
        await pool.query<{ credit_code: string; name: string }>(
          'SELECT credit_code, name FROM enterprises WHERE campaign_id = $1',
          [campaignId],
        )
      ).rows.map((r) => [r.credit_code, r.name]),
    );
    const checked = checkAnswerRows(rows, header, q.roll, {
      enterprises: names,
      indicatorCodes: q.indicators.map((i) => i.code),
    });
    if (checked.rejected.length) refuseRows(opts.file, checked.rejected, out, sheet);
    // A line without an indicator answers every questionnaire the enterprise is asked.
    const records = checked.rows.flatMap((r) =>
      (r.indicator
        ? [r.indicator]
        : q.roll.filter((e) => e.creditCode === r.creditCode).map((e) => e.indicator)
      ).map((indicator) => ({
        credit_code: r.creditCode,
        indicator,
        answered: true,
        answered_on: r.answeredOn,
      })),
    );
    await withTransaction(pool, async (client) => {
      for (let i = 0; i < records.length; i += ANSWER_BATCH)
        await client.query({
          ...QQ.upsertAnswer,
          values: [
            campaignId,
            'import',
            opts.as,
            JSON.stringify(records.slice(i, i + ANSWER_BATCH)),
          ],
        });
    });
    const after = await readQuestionnaire(pool, campaignId);
    return { imported: records.length, enterprises: checked.rows.length, rates: after.rates };
  });
  if (out.json) return printJson({ ...result, rejected: [] });
  console.log(
    `${colour.ok('✓')} ${t(out.lang, `已记录 ${result.enterprises} 家企业的 ${result.imported} 份答卷；总答卷率 ${percent(result.rates.total)}`, `recorded ${result.imported} answers of ${result.enterprises} enterprises; response rate ${percent(result.rates.total)}`)}`,
  );
}

/** The evaluator marks one enterprise as answered (or not) for its questionnaires. */
export async function markAnswerCommand(
  campaignId: string,
  creditCode: string,
  opts: { as: string; indicator?: string[]; notAnswered?: boolean; date?: string },
  out: OutputOptions,
): Promise<void> {
  const code = normaliseCreditCode(creditCode);
  const day = opts.date === undefined ? null : parseDay(opts.date);
  if (opts.date !== undefined && !day)
    throw new UsageError(`--date "${opts.date}" is not a date such as 2026-11-03`);
  const result = await withDb(async (pool) => {
    const c = await loadRunningCampaign(pool, campaignId);
    requireRole(c.definition, opts.as, [EVALUATOR, BUREAU], 'record questionnaire answers');
    const q = await readQuestionnaire(pool, campaignId);
    const owed = q.roll.filter((e) => e.creditCode === code).map((e) => e.indicator);
    if (!owed.length)
      throw new CliError(
        `${code} is not a sampled enterprise of campaign "${campaignId}"${q.sample ? '' : ' (no sample has been drawn)'}`,
      );
    const asked = opts.indicator?.length ? opts.indicator : owed;
    const wrong = asked.filter((i) => !owed.includes(i));
    if (wrong.length)
      throw new CliError(
        `${code} is not asked the questionnaire of ${wrong.join(', ')} (it answers ${owed.join(', ')})`,
      );
    const answered = !opts.notAnswered;
    await pool.query({
      ...QQ.upsertAnswer,
      values: [
        campaignId,
        'mark',
        opts.as,
        JSON.stringify(
          asked.map((indicator) => ({
            credit_code: code,
            indicator,
            answered,
            answered_on: answered ? day : null,
          })),
        ),
      ],
    });
    return { creditCode: code, indicators: asked, answered };
  });
  if (out.json) return printJson(result);
  console.log(
    `${colour.ok('✓')} ${code} ${result.indicators.join(', ')}: ${result.answered ? t(out.lang, '已答卷', 'answered') : t(out.lang, '未答卷', 'not answered')}`,
  );
}

/** The rates as a table for people (per indicator, per department). */
export function renderRates(
  rates: ResponseRates,
  names: { indicators: Map<string, string>; units: Map<string, string> },
  lang: Lang,
): string {
  const head = [
    t(lang, '应答', 'Expected'),
    t(lang, '已答', 'Answered'),
    t(lang, '答卷率', 'Rate'),
  ];
  return [
    `${t(lang, '企业问卷答卷率', 'Enterprise questionnaire response rate')}: ${percent(rates.total)} (${rates.total.answered}/${rates.total.expected})`,
    table(
      [t(lang, '指标', 'Indicator'), ...head],
      rates.byIndicator
        .filter((r) => r.expected)
        .map((r) => [
          `${r.code} ${names.indicators.get(r.code) ?? ''}`,
          r.expected,
          r.answered,
          percent(r),
        ]),
    ),
    table(
      [t(lang, '责任部门', 'Department'), ...head],
      rates.byUnit.map((r) => [
        `${r.unit} ${names.units.get(r.unit) ?? ''}`,
        r.expected,
        r.answered,
        percent(r),
      ]),
    ),
  ].join('\n');
}

/** The response rates and, per department, the enterprises that have not answered. */
export async function questionnaireStatusCommand(
  campaignId: string,
  opts: { unit?: string },
  out: OutputOptions,
): Promise<void> {
  const { q, def } = await withDb(async (pool) => {
    // Read-only: an ended campaign's questionnaire can still be read.
    const c = await loadCampaign(pool, campaignId);
    return { q: await readQuestionnaire(pool, campaignId), def: c.definition };
  });
  const nonRespondents = [...q.nonRespondents.entries()]
    .filter(([u]) => !opts.unit || u === opts.unit)
    .map(([unit, enterprises]) => ({ unit, enterprises }));
  const doc = {
    campaignId,
    sample: q.sample,
    ...q.rates,
    nonRespondents,
  };
  if (out.json) return printJson(doc);
  if (!q.sample)
    return console.log(
      t(out.lang, '尚未抽样：没有要跟踪的问卷。', 'No sample yet: no questionnaire to follow.'),
    );
  const names = {
    indicators: new Map(def.indicators.map((i) => [i.code, i.name])),
    units: new Map(def.units.map((u) => [u.id, u.name])),
  };
  console.log(renderRates(q.rates, names, out.lang));
  for (const n of nonRespondents) {
    console.log(
      colour.bold(
        `${n.unit} ${names.units.get(n.unit) ?? ''}: ${t(out.lang, `未答卷 ${n.enterprises.length} 家`, `${n.enterprises.length} not answered`)}`,
      ),
    );
    for (const e of n.enterprises)
      console.log(`  ${e.creditCode} ${e.name}  ${e.indicators.join(', ')}`);
  }
}

/** Who of a unit does its chase task: a member of staff, else a deputy, else anyone. */
function assigneeOf(people: { id: string; role: string }[]): string | undefined {
  return (
    people.find((p) => p.role === 'staff') ??
    people.find((p) => p.role === 'deputy') ??
    people[0]
  )?.id;
}

export interface ChasePlan {
  /** The raiseTask requests to send, one per department with enterprises not answered. */
  requests: (RaiseTaskRequest & { requestId: string; key: string; enterprises: number })[];
  /** Departments left alone, and why. */
  skipped: { unit: string; taskId: string; reason: string }[];
}

/**
 * The chase tasks (协助企业填报) to raise: one per department with enterprises that have not
 * answered. The task's key is derived from that set of enterprises and the request id from the
 * campaign, the department and the key, so the same plan sent twice is answered by the campaign
 * with the same task; a department whose chase task is still open is left to it.
 */
export function chasePlan(
  campaignId: string,
  def: CampaignDefinition,
  nonRespondents: Map<string, NonRespondent[]>,
  open: { unit_id: string; task_id: string }[],
  opts: { as: string; due: string; operator?: string },
): ChasePlan {
  const indicatorNames = new Map(def.indicators.map((i) => [i.code, i.name]));
  const plan: ChasePlan = { requests: [], skipped: [] };
  for (const [unitId, enterprises] of nonRespondents) {
    const unit = def.units.find((u) => u.id === unitId);
    if (!unit) continue;
    const key = `qn-${derivedRequestId(...enterprises.map((e) => `${e.creditCode}:${e.indicators.join(',')}`)).slice(0, 12)}`;
    const taskId = `${campaignId}/_/${CHASE_KIND}/${unitId}/${key}`;
    const already = open.find((o) => o.unit_id === unitId);
    if (already && already.task_id !== taskId) {
      plan.skipped.push({
        unit: unitId,
        taskId: already.task_id,
        reason: 'a chase task is still open',
      });
      continue;
    }
    const assignee = assigneeOf(unit.people);
    if (!assignee) {
      plan.skipped.push({
        unit: unitId,
        taskId: '',
        reason: 'the unit has nobody to assign it to',
      });
      continue;
    }
    const { title, instructions } = chaseTaskText(unit.name, enterprises, indicatorNames);
    plan.requests.push({
      requestId: derivedRequestId('questionnaire-chase', campaignId, unitId, key),
      actor: opts.as,
      ...(opts.operator ? { operator: opts.operator } : {}),
      unit: unitId,
      assignee,
      title,
      instructions,
      due: opts.due,
      kind: CHASE_KIND,
      key,
      review: false,
      note: true,
      enterprises: enterprises.length,
    });
  }
  return plan;
}

/** Raises the chase tasks of `chasePlan` through the campaign's update raiseTask. */
export async function chaseCommand(
  campaignId: string,
  opts: { as: string; due: string },
  out: OutputOptions,
): Promise<void> {
  const { q, def, open } = await withDb(async (pool) => {
    const c = await loadRunningCampaign(pool, campaignId);
    requireRole(c.definition, opts.as, [BUREAU], 'raise the questionnaire chase tasks');
    const open = await pool.query<{ unit_id: string; task_id: string }>(
      `SELECT unit_id, task_id FROM tasks WHERE campaign_id = $1 AND kind = $2
          AND state IN ('open', 'submitted', 'returned')`,
      [campaignId, CHASE_KIND],
    );
    return { q: await readQuestionnaire(pool, campaignId), def: c.definition, open: open.rows };
  });
  if (!q.sample) throw new CliError(`campaign "${campaignId}" has no sample yet: nothing to chase`);
  const plan = chasePlan(campaignId, def, q.nonRespondents, open, {
    ...opts,
    operator: cliOperator(),
  });
  const raised: { unit: string; taskId: string; due: string; enterprises: number }[] = [];
  for (const { enterprises, ...req } of plan.requests) {
    const r = await sendUpdate(
      campaignId,
      raiseTaskUpdate,
      req,
      t(out.lang, '下达协助企业填报事项', 'raise a questionnaire chase task'),
      { updateId: req.requestId, what: 'campaign' },
    );
    raised.push({
      unit: req.unit,
      taskId: r.taskId,
      due: formatIsoOffset(r.due, def.campaign.timeZone),
      enterprises,
    });
  }
  const { skipped } = plan;
  if (out.json) return printJson({ campaignId, raised, skipped });
  if (!raised.length && !skipped.length)
    return console.log(
      t(
        out.lang,
        '所有抽样企业均已答卷：无需催办。',
        'Every sampled enterprise has answered: nothing to chase.',
      ),
    );
  for (const r of raised)
    console.log(
      `${colour.ok('✓')} ${r.taskId} ${t(out.lang, `（${r.enterprises} 家企业），截止`, `(${r.enterprises} enterprises), due`)} ${formatLocal(Date.parse(r.due), def.campaign.timeZone)}`,
    );
  for (const s of skipped) console.log(`${colour.warn('·')} ${s.unit}: ${s.reason} ${s.taskId}`);
}

// ---- site visits and interviews (实地核查、访谈) ----

export async function recordVisitCommand(
  campaignId: string,
  code: string,
  opts: {
    kind: 'site-visit' | 'interview';
    date: string;
    place: string;
    outcome: 'confirmed' | 'discrepant';
    note?: string;
    as: string;
    requestId?: string;
  },
  out: OutputOptions,
): Promise<void> {
  const day = parseDay(opts.date);
  if (!day) throw new UsageError(`--date "${opts.date}" is not a date such as 2026-11-03`);
  const place = opts.place.trim();
  if (!place) throw new UsageError('say where (--place)');
  if (place.length > 500) throw new UsageError('--place is longer than 500 characters');
  const def = await withDb(
    async (pool) => (await loadRunningCampaign(pool, campaignId)).definition,
  );
  requireRole(def, opts.as, [EVALUATOR], 'record a site visit or an interview');
  if (!def.indicators.some((i) => i.code === code))
    throw new CliError(`unknown indicator "${code}" in campaign "${campaignId}"`);
  const requestId =
    opts.requestId ??
    derivedRequestId(
      'visit',
      campaignId,
      code,
      opts.kind,
      day,
      place,
      opts.outcome,
      opts.note,
      opts.as,
    );
  const item = visitItem(opts.kind, day, place);
  const r = await sendUpdate(
    indicatorWorkflowId(campaignId, code),
    verifyUpdate,
    { requestId, actor: opts.as, item, outcome: opts.outcome, note: opts.note },
    'verification',
    { updateId: requestId },
  );
  await withDb((pool) =>
    saveVisit(pool, campaignId, code, requestId, {
      kind: opts.kind,
      day,
      place,
      outcome: opts.outcome,
      note: opts.note ?? null,
      by: opts.as,
    }),
  );
  const doc = {
    indicator: code,
    kind: opts.kind,
    date: day,
    place,
    outcome: r.outcome,
    note: opts.note ?? null,
    flagged: r.flagged,
  };
  if (out.json) return printJson(doc);
  console.log(
    `${r.outcome === 'confirmed' ? colour.ok('✓') : colour.bad('⚑')} ${code} ${item}: ${r.outcome === 'confirmed' ? t(out.lang, '核验属实', 'confirmed') : t(out.lang, '核验有差异', 'discrepant')}${r.flagged ? t(out.lang, '（已标记数据核验差异）', ' (flagged)') : ''}`,
  );
}

/** The indicator's verification record: verified items, with the visits' date and place. */
export async function listVisitsCommand(
  campaignId: string,
  opts: { indicator?: string },
  out: OutputOptions,
): Promise<void> {
  const { visits, items } = await withDb(async (pool) => {
    await loadCampaign(pool, campaignId);
    const visits = await pool.query<{
      code: string;
      no: number;
      kind: 'site-visit' | 'interview';
      visited_on: string;
      place: string;
      outcome: string;
      note: string | null;
      recorded_by: string;
      recorded_at: Date;
    }>({ ...QQ.visits, values: [campaignId, opts.indicator ?? null] });
    const items = await pool.query<{
      code: string;
      seq: number;
      item: string;
      outcome: string;
      note: string | null;
      actor: string;
      at: Date;
    }>(
      `SELECT code, seq, item, outcome, note, actor, at FROM verifications
        WHERE campaign_id = $1 AND ($2::text IS NULL OR code = $2) ORDER BY code, seq`,
      [campaignId, opts.indicator ?? null],
    );
    return { visits: visits.rows, items: items.rows };
  });
  const doc = {
    campaignId,
    visits: visits.map((v) => ({
      indicator: v.code,
      no: v.no,
      kind: v.kind,
      date: v.visited_on,
      place: v.place,
      outcome: v.outcome,
      note: v.note,
      recordedBy: v.recorded_by,
      recordedAt: v.recorded_at.toISOString(),
    })),
    items: items.map((i) => ({
      indicator: i.code,
      seq: i.seq,
      item: i.item,
      outcome: i.outcome,
      note: i.note,
      actor: i.actor,
      at: i.at.toISOString(),
    })),
  };
  if (out.json) return printJson(doc);
  const lang = out.lang;
  console.log(
    table(
      [
        t(lang, '指标', 'Indicator'),
        t(lang, '方式', 'Kind'),
        t(lang, '日期', 'Date'),
        t(lang, '地点', 'Place'),
        t(lang, '结果', 'Outcome'),
        t(lang, '说明', 'Note'),
        t(lang, '核验人', 'By'),
      ],
      doc.visits.map((v) => [
        v.indicator,
        t(lang, VISIT_ZH[v.kind], v.kind),
        v.date,
        v.place,
        v.outcome === 'confirmed' ? t(lang, '属实', 'confirmed') : t(lang, '有差异', 'discrepant'),
        v.note ?? '',
        v.recordedBy,
      ]),
    ),
  );
}
