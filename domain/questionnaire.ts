// The enterprise questionnaire followed (企业问卷跟踪): which sampled enterprise is to answer
// which indicator's questionnaire, the answered list checked line by line, the response rate per
// indicator and per responsible department, and the text of the task that asks a department to
// help its enterprises answer (协助企业填报). Pure: rows in, records or located problems out.
import {
  columnOf,
  creditCodeProblem,
  pick,
  normaliseCreditCode,
  type CsvRecord,
  type RowProblem,
} from './imports.ts';

/** One questionnaire a sampled enterprise is to answer, and the department that follows it. */
export interface RollEntry {
  creditCode: string;
  name: string;
  indicator: string;
  /** The supervising department (主管部门), else the indicator's lead unit. */
  unit: string;
}

export interface RollEnterprise {
  creditCode: string;
  name: string;
  supervisorUnit: string | null;
  /** Indicator codes whose questionnaire it answers; null: every indicator's. */
  questionnaires: string[] | null;
}

/**
 * The questionnaires the sample is to answer: each sampled enterprise answers the questionnaire
 * of each indicator it names (every indicator when it names none), followed by its supervising
 * department or, when the list names none, by the indicator's lead unit.
 */
export function questionnaireRoll(
  sample: string[],
  enterprises: RollEnterprise[],
  indicators: { code: string; leadUnit: string }[],
): RollEntry[] {
  const byCode = new Map(enterprises.map((e) => [e.creditCode, e]));
  const out: RollEntry[] = [];
  for (const code of [...new Set(sample)].sort()) {
    const e = byCode.get(code);
    if (!e) continue;
    const named = e.questionnaires && e.questionnaires.length ? new Set(e.questionnaires) : null;
    for (const i of indicators) {
      if (named && !named.has(i.code)) continue;
      out.push({
        creditCode: code,
        name: e.name,
        indicator: i.code,
        unit: e.supervisorUnit ?? i.leadUnit,
      });
    }
  }
  return out;
}

export interface ResponseRate {
  expected: number;
  answered: number;
  /** answered / expected, rounded to 4 decimals; null when nothing is expected. */
  rate: number | null;
}

export interface ResponseRates {
  total: ResponseRate;
  byIndicator: ({ code: string } & ResponseRate)[];
  byUnit: ({ unit: string } & ResponseRate)[];
}

const rateOf = (expected: number, answered: number): ResponseRate => ({
  expected,
  answered,
  rate: expected ? Math.round((answered / expected) * 10_000) / 10_000 : null,
});

const key = (creditCode: string, indicator: string) => `${creditCode}\u0000${indicator}`;

/** The set of questionnaires answered, from the latest word on each. */
export function answeredSet(
  answers: { creditCode: string; indicator: string; answered: boolean }[],
): Set<string> {
  return new Set(answers.filter((a) => a.answered).map((a) => key(a.creditCode, a.indicator)));
}

/**
 * The response rate over the roll, per indicator (in the order given) and per responsible
 * department (sorted by id). An answer to a questionnaire that is not on the roll (an enterprise
 * no longer sampled) counts nowhere.
 */
export function responseRates(
  roll: RollEntry[],
  answers: { creditCode: string; indicator: string; answered: boolean }[],
  indicatorCodes: string[],
): ResponseRates {
  const done = answeredSet(answers);
  const count = (entries: RollEntry[]) =>
    rateOf(entries.length, entries.filter((e) => done.has(key(e.creditCode, e.indicator))).length);
  const units = [...new Set(roll.map((e) => e.unit))].sort();
  return {
    total: count(roll),
    byIndicator: indicatorCodes.map((code) => ({
      code,
      ...count(roll.filter((e) => e.indicator === code)),
    })),
    byUnit: units.map((unit) => ({ unit, ...count(roll.filter((e) => e.unit === unit)) })),
  };
}

export interface NonRespondent {
  creditCode: string;
  name: string;
  indicators: string[];
}

/** Per responsible department, the enterprises with a questionnaire not answered. */
export function nonRespondentsByUnit(
  roll: RollEntry[],
  answers: { creditCode: string; indicator: string; answered: boolean }[],
): Map<string, NonRespondent[]> {
  const done = answeredSet(answers);
  const out = new Map<string, Map<string, NonRespondent>>();
  for (const e of roll) {
    if (done.has(key(e.creditCode, e.indicator))) continue;
    const mine = out.get(e.unit) ?? new Map<string, NonRespondent>();
    out.set(e.unit, mine);
    const n = mine.get(e.creditCode) ?? { creditCode: e.creditCode, name: e.name, indicators: [] };
    n.indicators.push(e.indicator);
    mine.set(e.creditCode, n);
  }
  return new Map(
    [...out.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([u, m]) => [u, [...m.values()]]),
  );
}

/** A rate for people: `75%`, `—` when nothing is expected. */
export function percent(r: ResponseRate): string {
  return r.rate === null ? '—' : `${Math.round(r.rate * 1000) / 10}%`;
}

const TITLE_MAX = 200;

/**
 * The chase task's title (at most 200 characters: as many names as fit, then how many more)
 * and its instructions (every enterprise with its credit code and the questionnaires it owes).
 */
export function chaseTaskText(
  unitName: string,
  enterprises: NonRespondent[],
  indicatorNames: Map<string, string>,
): { title: string; instructions: string } {
  const head = `协助企业填报问卷：${unitName}主管的 ${enterprises.length} 家抽样企业未答卷——`;
  let title = head;
  for (let i = 0; i < enterprises.length; i++) {
    const name = enterprises[i]!.name;
    const more = enterprises.length - i - 1;
    const piece = `${i ? '、' : ''}${name}`;
    const tail = more ? `等 ${enterprises.length} 家` : '';
    if ([...title, ...piece, ...tail].length > TITLE_MAX) {
      title += `${i ? '' : name.slice(0, 10)}等 ${enterprises.length} 家`;
      break;
    }
    title += piece;
  }
  if ([...title].length > TITLE_MAX) title = [...title].slice(0, TITLE_MAX).join('');
  const instructions = [
    `请协助以下抽样企业完成第三方评价问卷填报（共 ${enterprises.length} 家）：`,
    ...enterprises.map(
      (e, i) =>
        `${i + 1}. ${e.name}（${e.creditCode}）：${e.indicators.map((c) => indicatorNames.get(c) ?? c).join('、')}`,
    ),
  ].join('\n');
  return { title, instructions };
}

// ---- the answered list (已答卷企业名单) ----

export const ANSWER_COLUMNS = {
  creditCode: ['credit_code', '统一社会信用代码', 'creditCode'],
  name: ['name', '企业名称', '名称'],
  indicator: ['indicator', '指标代码', '指标'],
  answeredOn: ['answered_on', '填报日期', '答卷日期'],
};

export interface AnswerRow {
  creditCode: string;
  /** The indicator answered; null: every questionnaire the enterprise is to answer. */
  indicator: string | null;
  answeredOn: string | null;
}

export function checkAnswerHeader(header: string[]): string | null {
  return ANSWER_COLUMNS.creditCode.some((n) => header.includes(n))
    ? null
    : 'the header lacks the column 统一社会信用代码 (credit_code)';
}

/** A date as people type it: 2026-11-03, 2026/11/3 or 2026年11月3日; null when it is not one. */
export function parseDay(text: string): string | null {
  const m = /^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$/.exec(text.trim());
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const dt = new Date(Date.UTC(y, mo - 1, d));
  if (dt.getUTCFullYear() !== y || dt.getUTCMonth() !== mo - 1 || dt.getUTCDate() !== d)
    return null;
  return `${m[1]}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/**
 * The answered list checked against the roll: each line names a sampled enterprise (by its
 * credit code; a name given must be the listed one), optionally the indicator answered (one the
 * enterprise is to answer) and the day. Every bad line is located by line and column.
 */
export function checkAnswerRows(
  rows: CsvRecord[],
  header: string[],
  roll: RollEntry[],
  ctx: { enterprises: Map<string, string>; indicatorCodes: string[] },
): { rows: AnswerRow[]; rejected: RowProblem[] } {
  const col = {
    creditCode: columnOf(header, ANSWER_COLUMNS.creditCode),
    name: columnOf(header, ANSWER_COLUMNS.name),
    indicator: columnOf(header, ANSWER_COLUMNS.indicator),
    answeredOn: columnOf(header, ANSWER_COLUMNS.answeredOn),
  };
  const owed = new Map<string, string[]>();
  for (const e of roll) owed.set(e.creditCode, [...(owed.get(e.creditCode) ?? []), e.indicator]);
  const known = new Set(ctx.indicatorCodes);
  const seen = new Map<string, number>();
  const out: AnswerRow[] = [];
  const rejected: RowProblem[] = [];
  for (const { line, values } of rows) {
    const problems: { column: number | undefined; message: string }[] = [];
    const code = normaliseCreditCode(pick(values, ANSWER_COLUMNS.creditCode) ?? '');
    const name = pick(values, ANSWER_COLUMNS.name) ?? '';
    const indicator = pick(values, ANSWER_COLUMNS.indicator) ?? '';
    const dayText = pick(values, ANSWER_COLUMNS.answeredOn) ?? '';
    const codeProblem = code ? creditCodeProblem(code) : null;
    const mine = owed.get(code);
    if (!code) problems.push({ column: col.creditCode, message: '统一社会信用代码 is empty' });
    else if (codeProblem)
      problems.push({ column: col.creditCode, message: `统一社会信用代码 ${codeProblem}` });
    else if (!ctx.enterprises.has(code))
      problems.push({
        column: col.creditCode,
        message: `${code} is not on the enterprise list of the campaign`,
      });
    else if (!mine)
      problems.push({
        column: col.creditCode,
        message: `${code} (${ctx.enterprises.get(code)}) was not sampled: only sampled enterprises answer the questionnaire`,
      });
    if (code && name && ctx.enterprises.has(code) && ctx.enterprises.get(code) !== name)
      problems.push({
        column: col.name,
        message: `企业名称 "${name.slice(0, 100)}" is not the listed name of ${code} ("${ctx.enterprises.get(code)}")`,
      });
    if (indicator) {
      if (!known.has(indicator))
        problems.push({
          column: col.indicator,
          message: `unknown indicator "${indicator.slice(0, 100)}" (the campaign has ${ctx.indicatorCodes.join(', ')})`,
        });
      else if (mine && !mine.includes(indicator))
        problems.push({
          column: col.indicator,
          message: `${code} is not asked the questionnaire of ${indicator} (it answers ${mine.join(', ')})`,
        });
    }
    const day = dayText ? parseDay(dayText) : null;
    if (dayText && !day)
      problems.push({
        column: col.answeredOn,
        message: `填报日期 "${dayText.slice(0, 100)}" is not a date such as 2026-11-03`,
      });
    const k = `${code}\u0000${indicator}`;
    if (!problems.length && seen.has(k))
      problems.push({
        column: col.creditCode,
        message: `${code}${indicator ? ` ${indicator}` : ''} already appears on line ${seen.get(k)}`,
      });
    if (problems.length) {
      const p: RowProblem = { line, message: problems.map((x) => x.message).join('; ') };
      if (problems[0]!.column !== undefined) p.column = problems[0]!.column;
      rejected.push(p);
      continue;
    }
    seen.set(k, line);
    out.push({ creditCode: code, indicator: indicator || null, answeredOn: day });
  }
  return { rows: out, rejected };
}

// ---- the enterprise list's optional questionnaire columns ----

export const ROLL_COLUMNS = {
  supervisor: ['supervisor', '主管部门', '行业主管部门'],
  questionnaires: ['questionnaires', '问卷指标'],
};

/**
 * The enterprise list's 主管部门 (a department of the campaign, by id or name) and 问卷指标
 * (indicator codes separated by 、 , ; or spaces) on each line, or the problems located.
 */
export function checkRollColumns(
  rows: CsvRecord[],
  header: string[],
  ctx: { units: { id: string; name: string; kind: string }[]; indicatorCodes: string[] },
): {
  values: Map<number, { supervisorUnit: string | null; questionnaires: string[] | null }>;
  rejected: RowProblem[];
} {
  const colSup = columnOf(header, ROLL_COLUMNS.supervisor);
  const colQ = columnOf(header, ROLL_COLUMNS.questionnaires);
  const known = new Set(ctx.indicatorCodes);
  const values = new Map<
    number,
    { supervisorUnit: string | null; questionnaires: string[] | null }
  >();
  const rejected: RowProblem[] = [];
  for (const { line, values: r } of rows) {
    const sup = pick(r, ROLL_COLUMNS.supervisor) ?? '';
    const q = pick(r, ROLL_COLUMNS.questionnaires) ?? '';
    let supervisorUnit: string | null = null;
    const problems: { column: number | undefined; message: string }[] = [];
    if (sup) {
      const unit = ctx.units.find((u) => u.id === sup || u.name === sup);
      if (!unit)
        problems.push({
          column: colSup,
          message: `主管部门 "${sup.slice(0, 100)}" is not a unit of the campaign (by id or name)`,
        });
      else if (unit.kind !== 'department')
        problems.push({
          column: colSup,
          message: `主管部门 "${sup}" is a ${unit.kind} unit, not a department`,
        });
      else supervisorUnit = unit.id;
    }
    const codes = q
      .split(/[、,，;；\s]+/)
      .map((s) => s.trim())
      .filter(Boolean);
    const unknown = codes.filter((c) => !known.has(c));
    if (unknown.length)
      problems.push({
        column: colQ,
        message: `问卷指标 names unknown indicator(s) ${unknown.map((c) => `"${c.slice(0, 50)}"`).join(', ')} (the campaign has ${ctx.indicatorCodes.join(', ')})`,
      });
    if (problems.length) {
      const p: RowProblem = { line, message: problems.map((x) => x.message).join('; ') };
      if (problems[0]!.column !== undefined) p.column = problems[0]!.column;
      rejected.push(p);
    } else
      values.set(line, {
        supervisorUnit,
        questionnaires: codes.length ? [...new Set(codes)] : null,
      });
  }
  return { values, rejected };
}
