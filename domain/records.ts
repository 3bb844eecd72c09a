// Department business records (办件台账) for the evaluator's record sampling: the rows of a
// unit's record list checked one by one (each problem located by line or by sheet and row, and
// by column, in Chinese and English), who may upload a list for an indicator, and the seeded,
// reproducible sample of records — by proportion or by count, stratified by unit when asked.
// Pure: rows come in, records or located problems come out.
import type { CampaignDefinition } from './definition.ts';
import { Refusal } from './refusal.ts';
import { seededPick } from './imports.ts';

/** A row of a record list as read from a CSV (line) or a workbook (sheet and row). */
export interface LocatedRow {
  /** CSV: the physical line; workbook: the row number on its sheet. */
  line: number;
  /** The sheet, for a workbook. */
  sheet?: string;
  values: Record<string, string>;
}

/** A problem in a record list, where the person finds it, in both languages. */
export interface RecordProblem {
  /** CSV: the physical line; workbook: the row. */
  line: number;
  sheet?: string;
  /** 1-based column number. */
  column?: number;
  /** The column's heading. */
  heading?: string;
  /** The cell's value as read (cut to 100 characters). */
  value?: string;
  message: string;
  zh: string;
}

export interface BusinessRecord {
  recordNo: string;
  /** YYYY-MM-DD */
  date: string;
  matter: string;
  applicant: string;
  handlingDays: number;
  /** Where it came from: `line 4` or `办件台账!5`. */
  place: string;
  /** The other columns, by heading. */
  extra: Record<string, string>;
}

export const RECORD_COLUMNS = {
  recordNo: ['办件编号', '编号', '受理编号', 'record_no', 'recordNo'],
  date: ['办结日期', '办理日期', '受理日期', '日期', 'date'],
  matter: ['事项名称', '办理事项', '事项', 'matter'],
  applicant: ['申请人', '申请单位', '申请人（单位）', 'applicant'],
  handlingDays: [
    '办理时长（工作日）',
    '办理时长(工作日)',
    '办理时长',
    '办理天数',
    '办理用时',
    'handling_days',
    'handlingDays',
  ],
} as const;

type Field = keyof typeof RECORD_COLUMNS;

const FIELD_ZH: Record<Field, string> = {
  recordNo: '办件编号',
  date: '办结日期',
  matter: '事项名称',
  applicant: '申请人',
  handlingDays: '办理时长（工作日）',
};

/** Most records one list may hold (a county department's year is far fewer). */
export const MAX_RECORDS = 50_000;
/** Longest handling time accepted, in working days (ten years). */
const MAX_HANDLING_DAYS = 2_500;
const cut = (s: string) => (s.length > 100 ? `${s.slice(0, 100)}…` : s);

/** `line 4, column 2 (办件编号)` / `第4行第2列「办件编号」`, or the sheet and row of a workbook. */
export function recordPlace(p: Pick<RecordProblem, 'line' | 'sheet' | 'column' | 'heading'>): {
  en: string;
  zh: string;
} {
  const col = p.column !== undefined ? `, column ${p.column}` : '';
  const head = p.heading ? ` (${p.heading})` : '';
  const zcol = p.column !== undefined ? `第${p.column}列` : '';
  const zhead = p.heading ? `「${p.heading}」` : '';
  if (p.sheet)
    return {
      en: `sheet ${p.sheet}, row ${p.line}${col}${head}`,
      zh: `工作表 ${p.sheet} 第${p.line}行${zcol}${zhead}`,
    };
  return { en: `line ${p.line}${col}${head}`, zh: `第${p.line}行${zcol}${zhead}` };
}

/** Which heading of the header carries each field; the missing fields as a problem. */
export function recordHeader(
  header: string[],
  headerLine: number,
  sheet?: string,
): { columns: Record<Field, string>; problem: null } | { columns: null; problem: RecordProblem } {
  const columns: Partial<Record<Field, string>> = {};
  const missing: Field[] = [];
  for (const f of Object.keys(RECORD_COLUMNS) as Field[]) {
    const found = RECORD_COLUMNS[f].find((n) => header.includes(n));
    if (found) columns[f] = found;
    else missing.push(f);
  }
  if (!missing.length) return { columns: columns as Record<Field, string>, problem: null };
  return {
    columns: null,
    problem: {
      line: headerLine,
      ...(sheet ? { sheet } : {}),
      message: `the header lacks the column(s) ${missing.map((f) => `${FIELD_ZH[f]} (${RECORD_COLUMNS[f].at(-1)})`).join(', ')}; a record list has 办件编号, 办结日期, 事项名称, 申请人 and 办理时长（工作日）`,
      zh: `表头缺少列：${missing.map((f) => FIELD_ZH[f]).join('、')}；办件台账须有 办件编号、办结日期、事项名称、申请人、办理时长（工作日）`,
    },
  };
}

/** A date as offices write it: 2026-10-12, 2026/10/12, 2026.10.12 or 2026年10月12日. */
export function parseRecordDate(text: string): string | null {
  const m = /^(\d{4})(?:[-/.](\d{1,2})[-/.](\d{1,2})|年(\d{1,2})月(\d{1,2})日)$/.exec(text.trim());
  if (!m) return null;
  const y = Number(m[1]);
  const mo = Number(m[2] ?? m[4]);
  const d = Number(m[3] ?? m[5]);
  const dt = new Date(Date.UTC(y, mo - 1, d));
  if (dt.getUTCFullYear() !== y || dt.getUTCMonth() !== mo - 1 || dt.getUTCDate() !== d)
    return null;
  return `${m[1]}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/** Handling time in working days: a decimal with at most two places, no sign, no exponent. */
const DAYS = /^\d{1,4}(?:\.\d{1,2})?$/;

/**
 * Checks every row of a record list. A list with any bad row is refused as a whole; every bad
 * cell is listed, each at its row and column.
 */
export function checkRecordRows(
  header: string[],
  rows: LocatedRow[],
  columns: Record<Field, string>,
): { records: BusinessRecord[]; problems: RecordProblem[] } {
  const records: BusinessRecord[] = [];
  const problems: RecordProblem[] = [];
  const seen = new Map<string, string>();
  const known = new Set(Object.values(columns));
  const colNo = (h: string) => header.indexOf(h) + 1;
  if (rows.length > MAX_RECORDS) {
    const last = rows[MAX_RECORDS]!;
    return {
      records: [],
      problems: [
        {
          line: last.line,
          ...(last.sheet ? { sheet: last.sheet } : {}),
          message: `more than ${MAX_RECORDS} records: upload one list per indicator and unit, of at most ${MAX_RECORDS} records`,
          zh: `记录超过 ${MAX_RECORDS} 条：每个指标、每个单位上传一份台账，最多 ${MAX_RECORDS} 条`,
        },
      ],
    };
  }
  for (const row of rows) {
    const where = row.sheet ? `${row.sheet}!${row.line}` : `line ${row.line}`;
    const bad = (f: Field, value: string, en: string, zh: string) =>
      problems.push({
        line: row.line,
        ...(row.sheet ? { sheet: row.sheet } : {}),
        column: colNo(columns[f]),
        heading: columns[f],
        value: cut(value),
        message: en,
        zh,
      });
    const get = (f: Field) => (row.values[columns[f]] ?? '').trim();
    const recordNo = get('recordNo');
    const dateText = get('date');
    const matter = get('matter');
    const applicant = get('applicant');
    const daysText = get('handlingDays');
    let ok = true;
    if (!recordNo) {
      bad('recordNo', recordNo, '办件编号 is empty', '办件编号为空');
      ok = false;
    } else if ([...recordNo].length > 64) {
      bad('recordNo', recordNo, '办件编号 is longer than 64 characters', '办件编号超过 64 个字符');
      ok = false;
    } else if (seen.has(recordNo)) {
      bad(
        'recordNo',
        recordNo,
        `办件编号 ${recordNo} already appears at ${seen.get(recordNo)}`,
        `办件编号 ${recordNo} 与 ${seen.get(recordNo)!.replace(/^line (\d+)$/, '第$1行')} 重复`,
      );
      ok = false;
    }
    const date = parseRecordDate(dateText);
    if (!date) {
      bad(
        'date',
        dateText,
        dateText
          ? `办结日期 "${cut(dateText)}" is not a date (write 2026-10-12)`
          : '办结日期 is empty',
        dateText ? `办结日期“${cut(dateText)}”不是日期（请写成 2026-10-12）` : '办结日期为空',
      );
      ok = false;
    }
    if (!matter) {
      bad('matter', matter, '事项名称 is empty', '事项名称为空');
      ok = false;
    } else if ([...matter].length > 200) {
      bad('matter', matter, '事项名称 is longer than 200 characters', '事项名称超过 200 个字符');
      ok = false;
    }
    if (!applicant) {
      bad('applicant', applicant, '申请人 is empty', '申请人为空');
      ok = false;
    } else if ([...applicant].length > 200) {
      bad('applicant', applicant, '申请人 is longer than 200 characters', '申请人超过 200 个字符');
      ok = false;
    }
    const days = Number(daysText);
    if (!DAYS.test(daysText) || !(days <= MAX_HANDLING_DAYS)) {
      bad(
        'handlingDays',
        daysText,
        `办理时长 "${cut(daysText)}" is not a number of working days from 0 to ${MAX_HANDLING_DAYS} (decimal, at most two places, e.g. 3 or 1.5)`,
        `办理时长“${cut(daysText)}”不是 0 到 ${MAX_HANDLING_DAYS} 之间的工作日数（十进制，最多两位小数，如 3 或 1.5）`,
      );
      ok = false;
    }
    if (!ok) continue;
    seen.set(recordNo, where);
    const extra: Record<string, string> = {};
    for (const [k, v] of Object.entries(row.values))
      if (!known.has(k) && k !== '' && v !== '') extra[k] = v.slice(0, 500);
    records.push({
      recordNo,
      date: date!,
      matter,
      applicant,
      handlingDays: days,
      place: where,
      extra,
    });
  }
  return { records, problems };
}

/**
 * Who may upload a unit's record list for an indicator: a person of that unit, or the bureau's
 * coordinators and head; the unit must be the indicator's lead or a cooperating unit. Throws
 * a Refusal that says what would be allowed.
 */
export function checkRecordUpload(
  def: CampaignDefinition,
  actor: string,
  indicator: string,
  unit: string,
): void {
  const ind = def.indicators.find((i) => i.code === indicator);
  if (!ind)
    throw new Refusal(
      `unknown indicator "${indicator}" in campaign "${def.campaign.id}" (it has ${def.indicators.map((i) => i.code).join(', ')})`,
      `本次考核没有指标“${indicator}”（共有 ${def.indicators.map((i) => i.code).join('、')}）`,
    );
  const units = [ind.leadUnit, ...ind.cooperatingUnits];
  if (!units.includes(unit))
    throw new Refusal(
      `unit "${unit}" is neither the lead nor a cooperating unit of ${indicator}: its record lists come from ${units.join(', ')}`,
      `“${unit}”不是指标 ${indicator} 的牵头或配合单位：该指标的办件台账由 ${units.join('、')} 上传`,
    );
  const personUnit = def.units.find((u) => u.people.some((p) => p.id === actor));
  if (!personUnit)
    throw new Refusal(
      `unknown person "${actor}": not on the roster of campaign "${def.campaign.id}"`,
      `“${actor}”不在本次考核的人员名单中`,
    );
  if (personUnit.id === unit) return;
  const role = personUnit.people.find((p) => p.id === actor)!.role;
  if (personUnit.kind === 'bureau' && (role === 'coordinator' || role === 'head')) return;
  throw new Refusal(
    `${actor} (${role} in "${personUnit.id}") may not upload the record list of "${unit}": only a person of that unit, or the bureau's coordinators and head, may`,
    `${actor}（${personUnit.id} 的 ${role}）不能上传“${unit}”的办件台账：只有该单位人员或审批局的统筹协调人、主要负责人可以上传`,
  );
}

/** A person's unit kind and role, or a refusal naming them as unknown. */
export function personOf(
  def: CampaignDefinition,
  actor: string,
): { unit: string; kind: string; role: string } {
  for (const u of def.units) {
    const p = u.people.find((x) => x.id === actor);
    if (p) return { unit: u.id, kind: u.kind, role: p.role };
  }
  throw new Refusal(
    `unknown person "${actor}": not on the roster of campaign "${def.campaign.id}"`,
    `“${actor}”不在本次考核的人员名单中`,
  );
}

export const isBureau = (p: { kind: string; role: string }) =>
  p.kind === 'bureau' && (p.role === 'coordinator' || p.role === 'head');
export const isEvaluator = (p: { kind: string; role: string }) =>
  p.kind === 'evaluator' && (p.role === 'evaluator' || p.role === 'head');

/**
 * Whether `actor` may draw a sample now: the first draw by the evaluator or the bureau; a
 * redraw (when an official draw exists) only by the bureau, with a reason. Throws a Refusal.
 * `what` names the sample for people ("the record sample of kbqy").
 */
export function checkDraw(
  def: CampaignDefinition,
  actor: string,
  official: { drawNo: number; seed: string; drawnBy: string } | null,
  reason: string | undefined,
  what: { en: string; zh: string },
): void {
  const p = personOf(def, actor);
  if (!isBureau(p) && !isEvaluator(p))
    throw new Refusal(
      `${actor} (${p.role} in "${p.unit}") may not draw ${what.en}: the evaluator or the bureau draws it`,
      `${actor}（${p.unit} 的 ${p.role}）不能抽取${what.zh}：由第三方评价机构或审批局抽取`,
    );
  if (!official) return;
  const drawn = `draw #${official.drawNo} (seed ${official.seed}, by ${official.drawnBy})`;
  const drawnZh = `第 ${official.drawNo} 次抽样（种子 ${official.seed}，${official.drawnBy} 抽取）`;
  if (!isBureau(p))
    throw new Refusal(
      `${what.en} is already drawn: ${drawn} is the official one; drawing again needs the bureau's reason (a bureau coordinator runs it with --reason)`,
      `${what.zh}已经抽取，${drawnZh}为正式样本；重新抽样须由审批局的协调人执行，并写明重新抽样的理由`,
    );
  if (!reason?.trim())
    throw new Refusal(
      `${what.en} is already drawn: ${drawn} is the official one; drawing again needs the bureau's reason (--reason)`,
      `${what.zh}已经抽取，${drawnZh}为正式样本；重新抽样须写明理由`,
    );
  if (reason.length > 2000)
    throw new Refusal('the reason is longer than 2000 characters', '理由超过 2000 个字符');
}

// ---- the sample ----

export interface SampleRecordRef {
  unit: string;
  recordNo: string;
}

export type SampleSize = { proportion: number } | { count: number };

export interface RecordDraw {
  population: number;
  size: number;
  /** Per unit (one stratum per unit when stratified; one line per unit either way). */
  strata: { unit: string; population: number; size: number }[];
  /** The drawn records, ordered by unit and record number. */
  records: SampleRecordRef[];
}

/** The key a record is drawn by: the unit and its record number, in a canonical order. */
const keyOf = (r: SampleRecordRef) => `${r.unit}\u0000${r.recordNo}`;
const fromKey = (k: string): SampleRecordRef => {
  const [unit, recordNo] = k.split('\u0000') as [string, string];
  return { unit, recordNo };
};

/** Why a proportion or count cannot be drawn from `population` records, or null. */
export function sampleSizeProblem(
  size: SampleSize,
  population: number,
  strata: number,
  stratified: boolean,
): { en: string; zh: string } | null {
  if ('proportion' in size) {
    const p = size.proportion;
    if (!(Number.isFinite(p) && p > 0 && p <= 1))
      return {
        en: `the proportion ${p} is outside (0, 1]: give e.g. 0.1 for one record in ten`,
        zh: `抽样比例 ${p} 不在 (0, 1] 之内：例如 0.1 表示抽取十分之一`,
      };
    return null;
  }
  const c = size.count;
  if (!Number.isInteger(c) || c < 1)
    return {
      en: `the count ${c} is not a whole number of at least 1`,
      zh: `抽样数量 ${c} 不是不小于 1 的整数`,
    };
  if (c > population)
    return {
      en: `the count ${c} is more than the ${population} records uploaded`,
      zh: `抽样数量 ${c} 超过已上传的 ${population} 条记录`,
    };
  if (stratified && c < strata)
    return {
      en: `a sample stratified by unit takes at least one record of each of the ${strata} units: the count ${c} is too small`,
      zh: `按单位分层抽样时每个单位至少抽一条，共 ${strata} 个单位：抽样数量 ${c} 太少`,
    };
  return null;
}

/**
 * Draws records reproducibly: the same records, size and seed always give the same sample.
 * Unstratified, `seededPick` over all records in canonical order (unit, record number).
 * Stratified, each unit is a stratum drawn with the seed and its unit id: by proportion, each
 * stratum gives ceil(n × proportion); by count, the count is shared out in proportion to the
 * strata (largest remainder, ties to the unit id first; every stratum at least one).
 */
export function drawRecordSample(
  population: SampleRecordRef[],
  size: SampleSize,
  seed: string,
  stratified: boolean,
): RecordDraw {
  const byUnit = new Map<string, string[]>();
  for (const r of population) {
    const list = byUnit.get(r.unit) ?? [];
    list.push(keyOf(r));
    byUnit.set(r.unit, list);
  }
  const units = [...byUnit.keys()].sort();
  for (const u of units) byUnit.set(u, [...new Set(byUnit.get(u))].sort());
  const total = units.reduce((n, u) => n + byUnit.get(u)!.length, 0);
  const problem = sampleSizeProblem(size, total, units.length, stratified);
  if (problem) throw new Refusal(problem.en, problem.zh);
  let drawn: string[];
  if (!stratified) {
    const all = units.flatMap((u) => byUnit.get(u)!);
    const n = 'proportion' in size ? Math.ceil(total * size.proportion) : size.count;
    drawn = seededPick(all, Math.min(n, all.length), seed);
  } else {
    const sizes = new Map<string, number>();
    if ('proportion' in size) {
      for (const u of units) sizes.set(u, Math.ceil(byUnit.get(u)!.length * size.proportion));
    } else {
      // One each first, then the rest by largest remainder of the proportional share.
      const rest = size.count - units.length;
      const capacity = total - units.length;
      const shares = units.map((u) => {
        const spare = byUnit.get(u)!.length - 1;
        const exact = capacity > 0 ? (rest * spare) / capacity : 0;
        return { u, base: Math.floor(exact), rem: exact - Math.floor(exact), spare };
      });
      let left = rest - shares.reduce((n, s) => n + s.base, 0);
      for (const s of [...shares].sort((a, b) => b.rem - a.rem || (a.u < b.u ? -1 : 1))) {
        if (left <= 0) break;
        if (s.base < s.spare) {
          s.base++;
          left--;
        }
      }
      for (const s of shares) sizes.set(s.u, 1 + s.base);
    }
    drawn = units.flatMap((u) => seededPick(byUnit.get(u)!, sizes.get(u)!, `${seed}/${u}`));
  }
  const records = drawn
    .map(fromKey)
    .sort((a, b) =>
      a.unit === b.unit ? (a.recordNo < b.recordNo ? -1 : 1) : a.unit < b.unit ? -1 : 1,
    );
  return {
    population: total,
    size: records.length,
    strata: units.map((u) => ({
      unit: u,
      population: byUnit.get(u)!.length,
      size: records.filter((r) => r.unit === u).length,
    })),
    records,
  };
}

/** The evidence request's text for one sampled record: it names the record. */
export function recordRequestText(
  r: { recordNo: string; date: string; matter: string; applicant: string; handlingDays: number },
  drawNo: number,
): string {
  return `办件台账抽查（第 ${drawNo} 次抽样）：办件编号 ${r.recordNo}，${r.matter}，申请人 ${r.applicant}，办结日期 ${r.date}，办理时长 ${r.handlingDays} 个工作日——请提供该办件的完整材料`;
}

/** The verified item's name for one sampled record. */
export const recordItem = (unit: string, recordNo: string) => `办件 ${recordNo}（${unit}）`;
