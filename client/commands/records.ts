// `campaign records upload|sample|request|verify|show` and `campaign sample`: department
// business records (办件台账) uploaded, the official sample drawn (of records and of
// enterprises), one evidence request per sampled record, and the outcome per record. The work
// is done in client/records.ts; this module reads the options and prints for people or programs.
import { indicatorWorkflowId } from '../../domain/campaign.ts';
import {
  requestEvidenceUpdate,
  verifyUpdate,
  type EvidenceRequest,
  type VerifyRequest,
  type VerifyResult,
} from '../../domain/messages.ts';
import type { UpdateDefinition } from '@temporalio/common';
import { recordPlace, type RecordProblem } from '../../domain/records.ts';
import { Refusal } from '../../domain/refusal.ts';
import { formatIsoOffset, formatLocal } from '../../domain/time.ts';
import { config } from '../../worker/config.ts';
import {
  assertPayload,
  connectTemporal,
  updateError,
  withDb,
  withWorkerDeadline,
} from '../connections.ts';
import { CliError, EXIT } from '../errors.ts';
import { readBoundedFile } from '../files.ts';
import { colour, printJson, t, table, type OutputOptions } from '../output.ts';
import {
  drawEnterprises,
  drawRecords,
  recordSamples,
  requestRecordEvidence,
  uploadRecordList,
  verifyRecord,
  type RecordSampleView,
} from '../records.ts';

/** A Refusal as the CLI's refusal: exit 1, both texts, the reader's language shown. */
async function refusing<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof Refusal) throw new CliError(e.en, EXIT.refused, null, { en: e.en, zh: e.zh });
    throw e;
  }
}

/** A number option: a decimal or whole number written plainly, or a usage error. */
function numberOption(name: string, v: string | undefined, whole: boolean): number | undefined {
  if (v === undefined) return undefined;
  const ok = whole ? /^\d{1,9}$/.test(v.trim()) : /^(?:0|[1-9]\d*)?(?:\.\d{1,9})?$/.test(v.trim());
  if (!ok || v.trim() === '' || v.trim() === '.') {
    const en = whole
      ? `${name} "${v}" is not a whole number`
      : `${name} "${v}" is not a decimal number (e.g. 0.1)`;
    const zh = whole ? `${name}“${v}”不是整数` : `${name}“${v}”不是小数（如 0.1）`;
    throw new CliError(en, EXIT.usage, null, { en, zh });
  }
  return Number(v);
}

function problemLines(file: string, problems: RecordProblem[], lang: 'zh' | 'en'): string {
  return problems
    .map((p) => {
      const place = recordPlace(p);
      const value = p.value !== undefined && p.value !== '' ? `（${p.value}）` : '';
      return lang === 'zh'
        ? `  ${file} ${place.zh}${value}：${p.zh}`
        : `  ${file} ${place.en}${p.value ? ` ("${p.value}")` : ''}: ${p.message}`;
    })
    .join('\n');
}

export async function uploadRecordsCommand(
  campaignId: string,
  code: string,
  opts: { unit: string; file: string; as: string },
  out: OutputOptions,
): Promise<void> {
  const read = await readBoundedFile(
    opts.file,
    config().limits.importBytes,
    'CAMPAIGN_MAX_IMPORT_SIZE',
  );
  if ('problem' in read) {
    const en = read.problem.replace(/^cannot read /, 'cannot read the record list ');
    throw new CliError(en, EXIT.refused, null, { en, zh: `无法读取办件台账：${read.problem}` });
  }
  const r = await refusing(() =>
    withDb((pool) =>
      uploadRecordList(pool, campaignId, {
        indicator: code,
        unit: opts.unit,
        as: opts.as,
        bytes: Buffer.from(read.bytes),
        fileName: opts.file,
      }),
    ),
  );
  if ('problems' in r) {
    if (out.json)
      printJson({
        imported: 0,
        rejected: r.problems.map((p) => ({
          line: p.line,
          ...(p.sheet ? { sheet: p.sheet, row: p.line } : {}),
          ...(p.column !== undefined ? { column: p.column } : {}),
          ...(p.heading ? { heading: p.heading } : {}),
          ...(p.value !== undefined ? { value: p.value } : {}),
          message: p.message,
          zh: p.zh,
        })),
      });
    const en = `${opts.file}: ${r.problems.length} bad line(s), nothing imported:\n${problemLines(opts.file, r.problems, 'en')}`;
    const zh = `${opts.file}：${r.problems.length} 处错误，未导入任何记录：\n${problemLines(opts.file, r.problems, 'zh')}`;
    throw new CliError(en, EXIT.refused, { printed: true }, { en, zh });
  }
  if (out.json) return printJson(r);
  console.log(
    `${colour.ok('✓')} ${t(
      out.lang,
      r.unchanged
        ? `${opts.unit} 的 ${code} 办件台账与第 ${r.listNo} 份相同，未重复导入（${r.imported} 条）`
        : `已导入 ${opts.unit} 的 ${code} 办件台账 ${r.imported} 条（第 ${r.listNo} 份${r.replaces ? `，替换第 ${r.replaces} 份用于此后的抽样` : ''}）`,
      r.unchanged
        ? `the same list as #${r.listNo} of ${opts.unit} for ${code}: nothing new (${r.imported} records)`
        : `imported ${r.imported} records of ${opts.unit} for ${code} (list #${r.listNo}${r.replaces ? `, replacing #${r.replaces} for later draws` : ''})`,
    )}`,
  );
}

function printDraw(d: RecordSampleView, out: OutputOptions, headline: string): void {
  console.log(headline);
  console.log(
    table(
      [
        t(out.lang, '单位', 'Unit'),
        t(out.lang, '办件编号', 'Record'),
        t(out.lang, '办结日期', 'Date'),
        t(out.lang, '事项', 'Matter'),
        t(out.lang, '申请人', 'Applicant'),
        t(out.lang, '时长', 'Days'),
        t(out.lang, '调取', 'Request'),
        t(out.lang, '结果', 'Outcome'),
      ],
      d.records.map((r) => [
        r.unit,
        r.recordNo,
        r.date,
        r.matter,
        r.applicant,
        r.handlingDays,
        r.taskId ?? '—',
        r.outcome ?? '—',
      ]),
    ),
  );
}

const sizeText = (d: RecordSampleView, lang: 'zh' | 'en') =>
  d.count !== null
    ? t(lang, `${d.count} 条`, `${d.count} records`)
    : t(lang, `比例 ${d.proportion}`, `proportion ${d.proportion}`);

export async function sampleRecordsCommand(
  campaignId: string,
  code: string,
  opts: {
    as: string;
    seed?: string;
    proportion?: string;
    count?: string;
    byUnit?: boolean;
    reason?: string;
  },
  out: OutputOptions,
): Promise<void> {
  // Read before anything is connected: a bad number is a usage error.
  const proportion = numberOption('--proportion', opts.proportion, false);
  const count = numberOption('--count', opts.count, true);
  const d = await refusing(() =>
    withDb((pool) =>
      drawRecords(pool, campaignId, {
        indicator: code,
        as: opts.as,
        seed: opts.seed,
        proportion,
        count,
        byUnit: opts.byUnit,
        reason: opts.reason,
      }),
    ),
  );
  if (out.json) return printJson(d);
  printDraw(
    d,
    out,
    `${colour.ok('✓')} ${t(
      out.lang,
      `${code} 办件抽样第 ${d.drawNo} 次（正式样本${d.unchanged ? '，此前已抽取' : ''}${d.supersedes ? `，取代第 ${d.supersedes} 次，理由：${d.reason}` : ''}）：按${sizeText(d, 'zh')}${d.stratified ? '按单位分层' : ''}从 ${d.population} 条中抽取 ${d.size} 条（种子 ${d.seed}）`,
      `record sample of ${code}, draw #${d.drawNo} (official${d.unchanged ? ', drawn before' : ''}${d.supersedes ? `, replacing #${d.supersedes}: ${d.reason}` : ''}): ${d.size} of ${d.population} records at ${sizeText(d, 'en')}${d.stratified ? ', by unit' : ''} (seed ${d.seed})`,
    )}`,
  );
}

export async function showRecordsCommand(
  campaignId: string,
  code: string,
  out: OutputOptions,
): Promise<void> {
  const { draws, lists } = await withDb(async (pool) => {
    const known = await pool.query<{ code: string }>(
      'SELECT code FROM indicators WHERE campaign_id = $1 ORDER BY position',
      [campaignId],
    );
    if (!known.rows.some((r) => r.code === code)) {
      const en = known.rowCount
        ? `unknown indicator "${code}" in campaign "${campaignId}" (it has ${known.rows.map((r) => r.code).join(', ')})`
        : `no campaign "${campaignId}" is recorded (see \`campaign list\`)`;
      const zh = known.rowCount
        ? `考核“${campaignId}”没有指标“${code}”（共有 ${known.rows.map((r) => r.code).join('、')}）`
        : `没有记录考核“${campaignId}”（见 campaign list）`;
      throw new CliError(en, EXIT.refused, null, { en, zh });
    }
    return {
      draws: await recordSamples(pool, campaignId, code),
      lists: (
        await pool.query<{
          list_no: number;
          unit_id: string;
          records: number;
          file_name: string;
          uploaded_by: string;
          uploaded_at: Date;
        }>(
          `SELECT list_no, unit_id, records, file_name, uploaded_by, uploaded_at FROM record_lists
          WHERE campaign_id = $1 AND indicator = $2 ORDER BY list_no`,
          [campaignId, code],
        )
      ).rows.map((l) => ({
        listNo: l.list_no,
        unit: l.unit_id,
        records: l.records,
        file: l.file_name,
        uploadedBy: l.uploaded_by,
        uploadedAt: l.uploaded_at.toISOString(),
      })),
    };
  });
  if (out.json) return printJson({ campaignId, indicator: code, lists, draws });
  console.log(
    table(
      [
        t(out.lang, '台账', 'List'),
        t(out.lang, '单位', 'Unit'),
        t(out.lang, '条数', 'Records'),
        t(out.lang, '文件', 'File'),
        t(out.lang, '上传人', 'By'),
      ],
      lists.map((l) => [`#${l.listNo}`, l.unit, l.records, l.file, l.uploadedBy]),
    ),
  );
  if (!draws.length) console.log(t(out.lang, '尚未抽样。', 'No sample drawn yet.'));
  for (const d of draws)
    printDraw(
      d,
      out,
      `${d.official ? colour.ok(t(out.lang, '正式样本', 'official')) : colour.dim(t(out.lang, `已被第 ${d.supersededBy} 次取代`, `superseded by #${d.supersededBy}`))} #${d.drawNo} ${t(out.lang, '种子', 'seed')} ${d.seed}, ${sizeText(d, out.lang)}${d.stratified ? t(out.lang, '，按单位分层', ', by unit') : ''}, ${d.drawnBy}${d.reason ? ` — ${d.reason}` : ''}`,
    );
}

/** One connection for every update of a command; each update under the worker deadline. */
async function withUpdates<T>(
  fn: (send: {
    evidence: (
      workflowId: string,
      req: EvidenceRequest,
    ) => Promise<{ taskId: string; due: number }>;
    verify: (workflowId: string, req: VerifyRequest) => Promise<VerifyResult>;
  }) => Promise<T>,
): Promise<T> {
  const temporal = await connectTemporal();
  const update =
    <R, A extends { requestId: string }>(def: UpdateDefinition<R, [A]>, action: string) =>
    async (workflowId: string, req: A): Promise<R> => {
      assertPayload(def.name, req);
      try {
        return await withWorkerDeadline(temporal.client, () =>
          temporal.client.workflow
            .getHandle(workflowId)
            .executeUpdate(def, { args: [req], updateId: req.requestId }),
        );
      } catch (e) {
        throw updateError(e, action, workflowId);
      }
    };
  try {
    return await fn({
      evidence: update(requestEvidenceUpdate, 'evidence request'),
      verify: update(verifyUpdate, 'verification'),
    });
  } finally {
    await temporal.close();
  }
}

export async function requestRecordsCommand(
  campaignId: string,
  code: string,
  opts: { as: string },
  out: OutputOptions,
): Promise<void> {
  const { r, tz } = await refusing(() =>
    withDb(async (pool) => ({
      r: await withUpdates((send) =>
        requestRecordEvidence(
          pool,
          send.evidence,
          campaignId,
          { indicator: code, as: opts.as },
          indicatorWorkflowId,
        ),
      ),
      tz: (
        await pool.query<{ time_zone: string }>(
          'SELECT time_zone FROM campaigns WHERE campaign_id = $1',
          [campaignId],
        )
      ).rows[0]!.time_zone,
    })),
  );
  if (out.json)
    return printJson({
      ...r,
      requested: r.requested.map((x) => ({ ...x, due: formatIsoOffset(x.due, tz) })),
    });
  const fresh = r.requested.filter((x) => x.new).length;
  console.log(
    `${colour.ok('✓')} ${t(out.lang, `${code} 第 ${r.drawNo} 次办件抽样：新发出 ${fresh} 项调取，共 ${r.requested.length} 项`, `${code} record sample #${r.drawNo}: ${fresh} request(s) sent, ${r.requested.length} in all`)}`,
  );
  for (const x of r.requested)
    console.log(
      `  ${x.unit} ${x.recordNo} → ${x.taskId} ${t(out.lang, '截止', 'due')} ${formatLocal(x.due, tz)}`,
    );
}

export async function verifyRecordCommand(
  campaignId: string,
  code: string,
  opts: {
    record: string;
    unit?: string;
    outcome: 'confirmed' | 'discrepant';
    note?: string;
    as: string;
  },
  out: OutputOptions,
): Promise<void> {
  const r = await refusing(() =>
    withDb((pool) =>
      withUpdates((send) =>
        verifyRecord(
          pool,
          send.verify,
          campaignId,
          { indicator: code, ...opts },
          indicatorWorkflowId,
        ),
      ),
    ),
  );
  if (out.json) return printJson(r);
  console.log(
    `${r.outcome === 'confirmed' ? colour.ok('✓') : colour.bad('⚑')} ${code} ${r.item}: ${r.outcome === 'confirmed' ? t(out.lang, '核验属实', 'confirmed') : t(out.lang, '核验有差异', 'discrepant')}${r.flagged ? t(out.lang, '（已标记数据核验差异）', ' (flagged)') : ''}`,
  );
}

export async function sampleEnterprisesCommand(
  campaignId: string,
  opts: { as: string; seed?: string; reason?: string },
  out: OutputOptions,
): Promise<void> {
  const r = await refusing(() => withDb((pool) => drawEnterprises(pool, campaignId, opts)));
  if (out.json) return printJson(r);
  console.log(
    `${colour.ok('✓')} ${t(
      out.lang,
      `第 ${r.drawNo} 次企业抽样（正式样本${r.unchanged ? '，此前已抽取' : ''}${r.supersedes ? `，取代第 ${r.supersedes} 次，理由：${r.reason}` : ''}）：按比例 ${r.proportion} 从 ${r.population} 家企业中抽取 ${r.size} 家（种子 ${r.seed}）`,
      `enterprise sample draw #${r.drawNo} (official${r.unchanged ? ', drawn before' : ''}${r.supersedes ? `, replacing #${r.supersedes}: ${r.reason}` : ''}): ${r.size} of ${r.population} enterprises at ${r.proportion} (seed ${r.seed})`,
    )}`,
  );
  for (const e of r.enterprises) console.log(`  ${e}`);
}
