// Department business records, sampled: a unit's record list uploaded for an indicator, the
// official record sample drawn from the newest lists (a redraw only by the bureau with a reason,
// both draws kept), one evidence request per sampled record through the indicator's
// requestEvidence update, and the evaluator's outcome per record through its verify update.
// The same rules hold for the enterprise sample. Written against a pool and a function that
// sends an update, so that the CLI and the tests run the same code.
import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { withTransaction } from '../db/pool.ts';
import type { CampaignDefinition } from '../domain/definition.ts';
import { drawSample } from '../domain/imports.ts';
import type { EvidenceRequest, VerifyRequest, VerifyResult } from '../domain/messages.ts';
import {
  checkDraw,
  checkRecordUpload,
  drawRecordSample,
  isEvaluator,
  personOf,
  recordItem,
  recordRequestText,
  type RecordProblem,
  type SampleSize,
} from '../domain/records.ts';
import { Refusal } from '../domain/refusal.ts';
import { readRecordList } from './records-file.ts';

/** The campaign as recorded, refused (in both languages) when unknown or ended. */
export async function runningDefinition(
  pool: pg.Pool | pg.PoolClient,
  campaignId: string,
): Promise<CampaignDefinition> {
  const r = await pool.query<{
    definition: CampaignDefinition;
    status: string;
    cancel_reason: string | null;
  }>('SELECT definition, status, cancel_reason FROM campaigns WHERE campaign_id = $1', [
    campaignId,
  ]);
  const row = r.rows[0];
  if (!row)
    throw new Refusal(
      `no campaign "${campaignId}" is recorded (see \`campaign list\`)`,
      `没有记录考核“${campaignId}”（见 campaign list）`,
    );
  if (row.status === 'cancelled')
    throw new Refusal(
      `campaign ${campaignId} was cancelled: ${row.cancel_reason ?? ''}`,
      `考核 ${campaignId} 已撤销：${row.cancel_reason ?? ''}`,
    );
  if (row.status === 'completed')
    throw new Refusal(`campaign ${campaignId} has closed`, `考核 ${campaignId} 已结束`);
  return row.definition;
}

function requireIndicator(def: CampaignDefinition, code: string) {
  const ind = def.indicators.find((i) => i.code === code);
  if (!ind)
    throw new Refusal(
      `unknown indicator "${code}" in campaign "${def.campaign.id}" (it has ${def.indicators.map((i) => i.code).join(', ')})`,
      `本次考核没有指标“${code}”（共有 ${def.indicators.map((i) => i.code).join('、')}）`,
    );
  return ind;
}

// ---- upload ----

export interface UploadResult {
  campaignId: string;
  indicator: string;
  unit: string;
  listNo: number;
  imported: number;
  format: 'csv' | 'xlsx';
  encoding: string | null;
  /** The unit's list for the indicator that this one replaces for later draws, or null. */
  replaces: number | null;
  /** The same file was already the unit's newest list: nothing new was recorded. */
  unchanged: boolean;
  rejected: [];
}

/**
 * Uploads a unit's record list for an indicator. Who may, and for which unit, is refused with a
 * Refusal; a file with any bad row is refused as a whole with every problem located.
 */
export async function uploadRecordList(
  pool: pg.Pool,
  campaignId: string,
  opts: { indicator: string; unit: string; as: string; bytes: Buffer; fileName: string },
): Promise<UploadResult | { problems: RecordProblem[] }> {
  const def = await runningDefinition(pool, campaignId);
  checkRecordUpload(def, opts.as, opts.indicator, opts.unit);
  const read = await readRecordList(opts.bytes, opts.fileName);
  if ('problems' in read) return read;
  const sha256 = createHash('sha256').update(opts.bytes).digest('hex');
  return withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
      `record-upload:${campaignId}/${opts.indicator}/${opts.unit}`,
    ]);
    const prior = (
      await client.query<{ list_no: number; sha256: string; records: number }>(
        `SELECT list_no, sha256, records FROM record_lists
          WHERE campaign_id = $1 AND indicator = $2 AND unit_id = $3
          ORDER BY list_no DESC LIMIT 1`,
        [campaignId, opts.indicator, opts.unit],
      )
    ).rows[0];
    const base = {
      campaignId,
      indicator: opts.indicator,
      unit: opts.unit,
      format: read.list.format,
      encoding: read.list.encoding,
      rejected: [] as [],
    };
    if (prior?.sha256 === sha256)
      return {
        ...base,
        listNo: prior.list_no,
        imported: prior.records,
        replaces: null,
        unchanged: true,
      };
    const listNo = (
      await client.query<{ list_no: number }>(
        `INSERT INTO record_lists (campaign_id, list_no, indicator, unit_id, file_name, sha256, format, encoding, records, uploaded_by)
         VALUES ($1, 0, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING list_no`,
        [
          campaignId,
          opts.indicator,
          opts.unit,
          opts.fileName.split('/').pop()!.slice(0, 500),
          sha256,
          read.list.format,
          read.list.encoding,
          read.list.records.length,
          opts.as,
        ],
      )
    ).rows[0]!.list_no;
    const records = read.list.records;
    for (let i = 0; i < records.length; i += 1000) {
      await client.query(
        `INSERT INTO business_records (campaign_id, list_no, record_no, place, handled_on, matter, applicant, handling_days, extra)
         SELECT $1, $2, x.record_no, x.place, x.handled_on::date, x.matter, x.applicant, x.handling_days, x.extra
           FROM jsonb_to_recordset($3::jsonb)
             AS x(record_no text, place text, handled_on text, matter text, applicant text, handling_days numeric, extra jsonb)`,
        [
          campaignId,
          listNo,
          JSON.stringify(
            records.slice(i, i + 1000).map((r) => ({
              record_no: r.recordNo,
              place: r.place,
              handled_on: r.date,
              matter: r.matter,
              applicant: r.applicant,
              handling_days: r.handlingDays,
              extra: r.extra,
            })),
          ),
        ],
      );
    }
    return {
      ...base,
      listNo,
      imported: records.length,
      replaces: prior?.list_no ?? null,
      unchanged: false,
    };
  });
}

// ---- the record sample ----

export interface SampledRecord {
  unit: string;
  recordNo: string;
  listNo: number;
  date: string;
  matter: string;
  applicant: string;
  handlingDays: number;
  taskId: string | null;
  outcome: 'confirmed' | 'discrepant' | null;
}

export interface RecordSampleView {
  campaignId: string;
  indicator: string;
  drawNo: number;
  official: boolean;
  seed: string;
  proportion: number | null;
  count: number | null;
  stratified: boolean;
  population: number;
  size: number;
  reason: string | null;
  supersededBy: number | null;
  drawnBy: string;
  drawnAt: string;
  strata: { unit: string; population: number; size: number }[];
  records: SampledRecord[];
}

export interface DrawOptions {
  indicator: string;
  as: string;
  seed?: string | undefined;
  proportion?: number | undefined;
  count?: number | undefined;
  byUnit?: boolean | undefined;
  reason?: string | undefined;
}

/** Every draw of an indicator's record sample, newest first, each with its records. */
export async function recordSamples(
  pool: pg.Pool | pg.PoolClient,
  campaignId: string,
  indicator: string,
): Promise<RecordSampleView[]> {
  const draws = await pool.query<{
    draw_no: number;
    official: boolean;
    seed: string;
    proportion: string | null;
    count: number | null;
    stratified: boolean;
    population: number;
    size: number;
    reason: string | null;
    superseded_by: number | null;
    drawn_by: string;
    drawn_at: Date;
    lists: number[];
  }>(
    `SELECT * FROM record_samples WHERE campaign_id = $1 AND indicator = $2 ORDER BY draw_no DESC`,
    [campaignId, indicator],
  );
  const items = await pool.query<{
    draw_no: number;
    unit_id: string;
    record_no: string;
    list_no: number;
    handled_on: string;
    matter: string;
    applicant: string;
    handling_days: string;
    task_id: string | null;
    outcome: 'confirmed' | 'discrepant' | null;
  }>(
    `SELECT i.draw_no, i.unit_id, i.record_no, i.list_no, to_char(b.handled_on, 'YYYY-MM-DD') AS handled_on,
            b.matter, b.applicant, b.handling_days, i.task_id, i.outcome
       FROM record_sample_items i
       JOIN business_records b USING (campaign_id, list_no, record_no)
      WHERE i.campaign_id = $1 AND i.indicator = $2
      ORDER BY i.draw_no, i.unit_id, i.record_no`,
    [campaignId, indicator],
  );
  const populations = await pool.query<{ list_no: number; unit_id: string; records: number }>(
    `SELECT list_no, unit_id, records FROM record_lists WHERE campaign_id = $1 AND indicator = $2`,
    [campaignId, indicator],
  );
  return draws.rows.map((d) => {
    const records = items.rows
      .filter((i) => i.draw_no === d.draw_no)
      .map((i) => ({
        unit: i.unit_id,
        recordNo: i.record_no,
        listNo: i.list_no,
        date: i.handled_on,
        matter: i.matter,
        applicant: i.applicant,
        handlingDays: Number(i.handling_days),
        taskId: i.task_id,
        outcome: i.outcome,
      }));
    const lists = populations.rows.filter((l) => d.lists.includes(l.list_no));
    return {
      campaignId,
      indicator,
      drawNo: d.draw_no,
      official: d.official,
      seed: d.seed,
      proportion: d.proportion === null ? null : Number(d.proportion),
      count: d.count,
      stratified: d.stratified,
      population: d.population,
      size: d.size,
      reason: d.reason,
      supersededBy: d.superseded_by,
      drawnBy: d.drawn_by,
      drawnAt: d.drawn_at.toISOString(),
      strata: lists
        .map((l) => ({
          unit: l.unit_id,
          population: l.records,
          size: records.filter((r) => r.unit === l.unit_id).length,
        }))
        .sort((a, b) => (a.unit < b.unit ? -1 : 1)),
      records,
    };
  });
}

export interface DrawResult extends RecordSampleView {
  /** The official draw was asked for again (same seed, same records): nothing new recorded. */
  unchanged: boolean;
  /** The draw this one replaced as the official one, or null. */
  supersedes: number | null;
}

/**
 * Draws the record sample of an indicator from the newest record list of each unit. The first
 * draw is the official one. The same seed and size again answer with the official draw; any
 * other draw needs the bureau and a reason, becomes the official one, and the earlier draw is
 * kept, marked superseded.
 */
export async function drawRecords(
  pool: pg.Pool,
  campaignId: string,
  opts: DrawOptions,
): Promise<DrawResult> {
  const def = await runningDefinition(pool, campaignId);
  requireIndicator(def, opts.indicator);
  personOf(def, opts.as);
  if (opts.proportion !== undefined && opts.count !== undefined)
    throw new Refusal(
      'give the sample size as a proportion (--proportion) or a count (--count), not both',
      '抽样数量请用比例（--proportion）或条数（--count）二者之一',
    );
  const size: SampleSize =
    opts.count !== undefined
      ? { count: opts.count }
      : { proportion: opts.proportion ?? def.phases.verification.samplingProportion };
  const stratified = opts.byUnit === true;
  const what = {
    en: `the record sample of ${opts.indicator}`,
    zh: `指标 ${opts.indicator} 的办件抽样`,
  };
  return withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
      `record-sample:${campaignId}/${opts.indicator}`,
    ]);
    const lists = (
      await client.query<{ list_no: number; unit_id: string }>(
        `SELECT DISTINCT ON (unit_id) list_no, unit_id FROM record_lists
          WHERE campaign_id = $1 AND indicator = $2 ORDER BY unit_id, list_no DESC`,
        [campaignId, opts.indicator],
      )
    ).rows;
    if (!lists.length)
      throw new Refusal(
        `no record list is uploaded for ${opts.indicator}: units upload theirs with \`campaign records upload\``,
        `指标 ${opts.indicator} 还没有单位上传办件台账：请先用 campaign records upload 上传`,
      );
    const listOf = new Map(lists.map((l) => [l.unit_id, l.list_no]));
    const population = (
      await client.query<{ unit_id: string; record_no: string }>(
        `SELECT l.unit_id, b.record_no FROM business_records b
           JOIN record_lists l USING (campaign_id, list_no)
          WHERE b.campaign_id = $1 AND b.list_no = ANY($2)`,
        [campaignId, lists.map((l) => l.list_no)],
      )
    ).rows.map((r) => ({ unit: r.unit_id, recordNo: r.record_no }));
    const prior = (await recordSamples(client, campaignId, opts.indicator)).find((d) => d.official);
    // Without a seed: the official draw's again, unless the bureau redraws (then a new one).
    const seed =
      opts.seed ?? (prior && !opts.reason?.trim() ? prior.seed : randomBytes(6).toString('hex'));
    const draw = drawRecordSample(population, size, seed, stratified);
    const sameAsOfficial =
      prior !== undefined &&
      prior.seed === seed &&
      prior.stratified === stratified &&
      prior.proportion === ('proportion' in size ? size.proportion : null) &&
      prior.count === ('count' in size ? size.count : null) &&
      JSON.stringify(prior.records.map((r) => [r.unit, r.recordNo, r.listNo])) ===
        JSON.stringify(draw.records.map((r) => [r.unit, r.recordNo, listOf.get(r.unit)]));
    if (prior && sameAsOfficial) {
      if (opts.reason?.trim())
        throw new Refusal(
          `the same seed gives the same sample as the official draw #${prior.drawNo}: nothing to redraw; give another seed (--seed) or none`,
          `相同的种子得到与正式样本（第 ${prior.drawNo} 次抽样）相同的结果：无需重抽；请换一个种子（--seed）或不指定`,
        );
      return { ...prior, unchanged: true, supersedes: null };
    }
    checkDraw(
      def,
      opts.as,
      prior ? { drawNo: prior.drawNo, seed: prior.seed, drawnBy: prior.drawnBy } : null,
      opts.reason,
      what,
    );
    const drawNo = (
      await client.query<{ draw_no: number }>(
        `INSERT INTO record_samples (campaign_id, indicator, draw_no, seed, proportion, count, stratified,
                                     population, size, lists, reason, drawn_by)
         VALUES ($1, $2, 0, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING draw_no`,
        [
          campaignId,
          opts.indicator,
          seed,
          'proportion' in size ? size.proportion : null,
          'count' in size ? size.count : null,
          stratified,
          draw.population,
          draw.size,
          lists.map((l) => l.list_no),
          prior ? opts.reason!.trim() : null,
          opts.as,
        ],
      )
    ).rows[0]!.draw_no;
    await client.query(
      `INSERT INTO record_sample_items (campaign_id, indicator, draw_no, list_no, record_no, unit_id)
       SELECT $1, $2, $3, x.list_no, x.record_no, x.unit_id
         FROM jsonb_to_recordset($4::jsonb) AS x(list_no integer, record_no text, unit_id text)`,
      [
        campaignId,
        opts.indicator,
        drawNo,
        JSON.stringify(
          draw.records.map((r) => ({
            list_no: listOf.get(r.unit),
            record_no: r.recordNo,
            unit_id: r.unit,
          })),
        ),
      ],
    );
    const now = (await recordSamples(client, campaignId, opts.indicator)).find(
      (d) => d.drawNo === drawNo,
    )!;
    return { ...now, strata: draw.strata, unchanged: false, supersedes: prior?.drawNo ?? null };
  });
}

// ---- evidence requests and outcomes, through the indicator workflow's updates ----

/** Sends one update to the indicator workflow and answers with its result. */
export type SendEvidence = (
  indicatorWorkflow: string,
  req: EvidenceRequest,
) => Promise<{ taskId: string; due: number }>;
export type SendVerify = (indicatorWorkflow: string, req: VerifyRequest) => Promise<VerifyResult>;

const officialDraw = async (pool: pg.Pool, campaignId: string, indicator: string) => {
  const d = (await recordSamples(pool, campaignId, indicator)).find((x) => x.official);
  if (!d)
    throw new Refusal(
      `no record sample is drawn for ${indicator}: draw it with \`campaign records sample\``,
      `指标 ${indicator} 还没有办件抽样：请先用 campaign records sample 抽取`,
    );
  return d;
};

/** A stable request id for an action on one sampled record. */
export const recordRequestId = (...parts: (string | number)[]) =>
  createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);

export interface RequestResult {
  indicator: string;
  drawNo: number;
  requested: { unit: string; recordNo: string; taskId: string; due: number; new: boolean }[];
}

/**
 * One evidence request per record of the official sample, to the record's unit, its text
 * naming the record. A record already asked for is not asked again; the request id is derived
 * from the draw and the record, so that a retry after a failure is answered, not doubled.
 */
export async function requestRecordEvidence(
  pool: pg.Pool,
  send: SendEvidence,
  campaignId: string,
  opts: { indicator: string; as: string },
  workflowIdOf: (campaignId: string, code: string) => string,
): Promise<RequestResult> {
  const def = await runningDefinition(pool, campaignId);
  requireIndicator(def, opts.indicator);
  const p = personOf(def, opts.as);
  if (!isEvaluator(p))
    throw new Refusal(
      `${opts.as} (${p.role} in "${p.unit}") may not request evidence: only the third-party evaluator may`,
      `${opts.as}（${p.unit} 的 ${p.role}）不能调取印证资料：只有第三方评价机构可以`,
    );
  const draw = await officialDraw(pool, campaignId, opts.indicator);
  const requested: RequestResult['requested'] = [];
  for (const r of draw.records) {
    const dueOf = async (taskId: string) =>
      (
        await pool.query<{ due_at: Date }>('SELECT due_at FROM tasks WHERE task_id = $1', [taskId])
      ).rows[0]?.due_at.getTime() ?? 0;
    // The same record asked for in an earlier draw: that request stands for this one too.
    const earlier =
      r.taskId ??
      (
        await pool.query<{ task_id: string }>(
          `SELECT task_id FROM record_sample_items
            WHERE campaign_id = $1 AND indicator = $2 AND list_no = $3 AND record_no = $4
              AND task_id IS NOT NULL ORDER BY draw_no LIMIT 1`,
          [campaignId, opts.indicator, r.listNo, r.recordNo],
        )
      ).rows[0]?.task_id;
    if (earlier && !r.taskId)
      await pool.query(
        `UPDATE record_sample_items SET task_id = $6, requested_at = now()
          WHERE campaign_id = $1 AND indicator = $2 AND draw_no = $3 AND list_no = $4 AND record_no = $5
            AND task_id IS NULL`,
        [campaignId, opts.indicator, draw.drawNo, r.listNo, r.recordNo, earlier],
      );
    if (earlier) {
      r.taskId = earlier;
      requested.push({
        unit: r.unit,
        recordNo: r.recordNo,
        taskId: r.taskId,
        due: await dueOf(r.taskId),
        new: false,
      });
      continue;
    }
    const requestId = recordRequestId(
      'record-evidence',
      campaignId,
      opts.indicator,
      draw.drawNo,
      r.listNo,
      r.recordNo,
    );
    const res = await send(workflowIdOf(campaignId, opts.indicator), {
      requestId,
      actor: opts.as,
      unit: r.unit,
      what: recordRequestText(r, draw.drawNo),
    });
    await pool.query(
      `UPDATE record_sample_items SET task_id = $6, requested_at = now()
        WHERE campaign_id = $1 AND indicator = $2 AND draw_no = $3 AND list_no = $4 AND record_no = $5
          AND task_id IS NULL`,
      [campaignId, opts.indicator, draw.drawNo, r.listNo, r.recordNo, res.taskId],
    );
    requested.push({
      unit: r.unit,
      recordNo: r.recordNo,
      taskId: res.taskId,
      due: res.due,
      new: true,
    });
  }
  return { indicator: opts.indicator, drawNo: draw.drawNo, requested };
}

export interface RecordVerifyResult extends VerifyResult {
  drawNo: number;
  unit: string;
  recordNo: string;
}

/**
 * The evaluator's outcome for one record of the official sample, recorded as a verified item of
 * the indicator (a discrepancy flags it and reaches the bureau and the leadership) and beside
 * the sampled record.
 */
export async function verifyRecord(
  pool: pg.Pool,
  send: SendVerify,
  campaignId: string,
  opts: {
    indicator: string;
    record: string;
    unit?: string | undefined;
    outcome: 'confirmed' | 'discrepant';
    note?: string | undefined;
    as: string;
  },
  workflowIdOf: (campaignId: string, code: string) => string,
): Promise<RecordVerifyResult> {
  const def = await runningDefinition(pool, campaignId);
  requireIndicator(def, opts.indicator);
  const draw = await officialDraw(pool, campaignId, opts.indicator);
  const matches = draw.records.filter(
    (r) => r.recordNo === opts.record && (opts.unit === undefined || r.unit === opts.unit),
  );
  if (!matches.length)
    throw new Refusal(
      `record ${opts.record}${opts.unit ? ` of ${opts.unit}` : ''} is not in the official record sample of ${opts.indicator} (draw #${draw.drawNo}: ${draw.records.map((r) => r.recordNo).join(', ')})`,
      `办件 ${opts.record}${opts.unit ? `（${opts.unit}）` : ''}不在指标 ${opts.indicator} 的正式抽样中（第 ${draw.drawNo} 次抽样：${draw.records.map((r) => r.recordNo).join('、')}）`,
    );
  if (matches.length > 1)
    throw new Refusal(
      `record ${opts.record} is sampled from several units (${matches.map((m) => m.unit).join(', ')}): say which with --unit`,
      `办件编号 ${opts.record} 在多个单位的抽样中（${matches.map((m) => m.unit).join('、')}）：请用 --unit 指明`,
    );
  const r = matches[0]!;
  if (r.outcome && r.outcome !== opts.outcome)
    throw new Refusal(
      `record ${r.recordNo} of ${r.unit} is already verified as ${r.outcome}`,
      `办件 ${r.recordNo}（${r.unit}）已核验，结果为 ${r.outcome === 'confirmed' ? '属实' : '有差异'}`,
    );
  const item = recordItem(r.unit, r.recordNo);
  const res = await send(workflowIdOf(campaignId, opts.indicator), {
    requestId: recordRequestId(
      'record-verify',
      campaignId,
      opts.indicator,
      draw.drawNo,
      r.listNo,
      r.recordNo,
      opts.outcome,
    ),
    actor: opts.as,
    item,
    outcome: opts.outcome,
    note: opts.note,
  });
  await pool.query(
    `UPDATE record_sample_items SET outcome = $6, note = $7, verified_by = $8, verified_at = now()
      WHERE campaign_id = $1 AND indicator = $2 AND draw_no = $3 AND list_no = $4 AND record_no = $5
        AND outcome IS NULL`,
    [
      campaignId,
      opts.indicator,
      draw.drawNo,
      r.listNo,
      r.recordNo,
      opts.outcome,
      opts.note ?? null,
      opts.as,
    ],
  );
  return { ...res, drawNo: draw.drawNo, unit: r.unit, recordNo: r.recordNo };
}

// ---- the enterprise sample: the same official draw ----

export interface EnterpriseDraw {
  drawNo: number;
  official: boolean;
  seed: string;
  size: number;
  population: number;
  proportion: number;
  enterprises: string[];
  reason: string | null;
  supersedes: number | null;
  unchanged: boolean;
}

/**
 * Draws the verification sample of enterprises by the campaign's proportion: the first draw is
 * the official one; the same seed again answers with it; another draw needs the bureau and a
 * reason, becomes the official one, and the earlier one is kept, marked superseded.
 */
export async function drawEnterprises(
  pool: pg.Pool,
  campaignId: string,
  opts: { as: string; seed?: string | undefined; reason?: string | undefined },
): Promise<EnterpriseDraw> {
  const def = await runningDefinition(pool, campaignId);
  personOf(def, opts.as);
  return withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
      `enterprise-sample:${campaignId}`,
    ]);
    const ids = (
      await client.query<{ credit_code: string }>(
        'SELECT credit_code FROM enterprises WHERE campaign_id = $1',
        [campaignId],
      )
    ).rows.map((r) => r.credit_code);
    if (!ids.length)
      throw new Refusal(
        `no enterprise list for "${campaignId}": import it first with \`campaign enterprises import\``,
        `考核“${campaignId}”还没有企业全量名单：请先用 campaign enterprises import 导入`,
      );
    const prior = (
      await client.query<{
        draw_no: number;
        seed: string;
        population: number;
        size: number;
        proportion: string;
        enterprises: string[];
        drawn_by: string;
        reason: string | null;
      }>('SELECT * FROM samples WHERE campaign_id = $1 AND official', [campaignId])
    ).rows[0];
    const proportion = def.phases.verification.samplingProportion;
    // Without a seed: the official draw's again, unless the bureau redraws (then a new one).
    const seed =
      opts.seed ?? (prior && !opts.reason?.trim() ? prior.seed : randomBytes(6).toString('hex'));
    const enterprises = drawSample(ids, proportion, seed);
    if (
      prior &&
      prior.seed === seed &&
      Number(prior.proportion) === proportion &&
      JSON.stringify(prior.enterprises) === JSON.stringify(enterprises)
    ) {
      if (opts.reason?.trim())
        throw new Refusal(
          `the same seed gives the same sample as the official draw #${prior.draw_no}: nothing to redraw; give another seed (--seed) or none`,
          `相同的种子得到与正式样本（第 ${prior.draw_no} 次抽样）相同的结果：无需重抽；请换一个种子（--seed）或不指定`,
        );
      return {
        drawNo: prior.draw_no,
        official: true,
        seed,
        size: prior.size,
        population: prior.population,
        proportion,
        enterprises: prior.enterprises,
        reason: prior.reason,
        supersedes: null,
        unchanged: true,
      };
    }
    checkDraw(
      def,
      opts.as,
      prior ? { drawNo: prior.draw_no, seed: prior.seed, drawnBy: prior.drawn_by } : null,
      opts.reason,
      { en: 'the verification sample of enterprises', zh: '企业抽样' },
    );
    const reason = prior ? opts.reason!.trim() : null;
    const drawNo = (
      await client.query<{ draw_no: number }>(
        `INSERT INTO samples (campaign_id, draw_no, seed, proportion, population, size, enterprises, drawn_by, reason)
         VALUES ($1, 0, $2, $3, $4, $5, $6, $7, $8) RETURNING draw_no`,
        [
          campaignId,
          seed,
          proportion,
          ids.length,
          enterprises.length,
          enterprises,
          opts.as,
          reason,
        ],
      )
    ).rows[0]!.draw_no;
    return {
      drawNo,
      official: true,
      seed,
      size: enterprises.length,
      population: ids.length,
      proportion,
      enterprises,
      reason,
      supersedes: prior?.draw_no ?? null,
      unchanged: false,
    };
  });
}
