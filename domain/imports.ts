// Checking imported files row by row — the full enterprise list (企业全量名单) and the
// evaluation results — and drawing the verification sample reproducibly. Pure.

export interface RowProblem {
  /** 1-based line in the file (the header is line 1). */
  line: number;
  message: string;
}

export interface EnterpriseRow {
  creditCode: string;
  name: string;
  industry: string | null;
  town: string | null;
}

/** 统一社会信用代码: 18 characters from the national character set. */
const CREDIT_CODE = /^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/;

const pick = (row: Record<string, string>, names: string[]): string | undefined => {
  for (const n of names) {
    const v = row[n];
    if (v !== undefined) return v.trim();
  }
  return undefined;
};

export const ENTERPRISE_COLUMNS = {
  creditCode: ['credit_code', '统一社会信用代码', 'creditCode'],
  name: ['name', '企业名称', '名称'],
  industry: ['industry', '行业'],
  town: ['town', '乡镇', '所属乡镇'],
};

export function checkEnterpriseHeader(header: string[]): string | null {
  const has = (names: string[]) => names.some((n) => header.includes(n));
  const missing = [];
  if (!has(ENTERPRISE_COLUMNS.creditCode)) missing.push('统一社会信用代码 (credit_code)');
  if (!has(ENTERPRISE_COLUMNS.name)) missing.push('企业名称 (name)');
  return missing.length ? `the header lacks the column(s) ${missing.join(', ')}` : null;
}

/** Every row's problems; rows are records keyed by header, `firstLine` is the first data line. */
export function checkEnterpriseRows(
  rows: Record<string, string>[],
  firstLine = 2,
): { rows: EnterpriseRow[]; rejected: RowProblem[] } {
  const out: EnterpriseRow[] = [];
  const rejected: RowProblem[] = [];
  const seen = new Map<string, number>();
  rows.forEach((r, i) => {
    const line = firstLine + i;
    const code = (pick(r, ENTERPRISE_COLUMNS.creditCode) ?? '').toUpperCase();
    const name = pick(r, ENTERPRISE_COLUMNS.name) ?? '';
    const problems: string[] = [];
    if (!code) problems.push('统一社会信用代码 is empty');
    else if (!CREDIT_CODE.test(code))
      problems.push(`统一社会信用代码 "${code}" is not an 18-character credit code`);
    else if (seen.has(code))
      problems.push(`统一社会信用代码 ${code} already appears on line ${seen.get(code)}`);
    if (!name) problems.push('企业名称 is empty');
    if (problems.length) rejected.push({ line, message: problems.join('; ') });
    else {
      seen.set(code, line);
      out.push({
        creditCode: code,
        name,
        industry: pick(r, ENTERPRISE_COLUMNS.industry) || null,
        town: pick(r, ENTERPRISE_COLUMNS.town) || null,
      });
    }
  });
  return { rows: out, rejected };
}

export interface ResultRow {
  code: string;
  score: number;
  rank: number;
}

export const RESULT_COLUMNS = {
  code: ['code', '指标代码', '指标'],
  score: ['score', '得分', '分数'],
  rank: ['rank', '排名', '名次'],
};

export function checkResultHeader(header: string[]): string | null {
  const missing = Object.entries(RESULT_COLUMNS)
    .filter(([, names]) => !names.some((n) => header.includes(n)))
    .map(([k, names]) => `${names[1]} (${k})`);
  return missing.length ? `the header lacks the column(s) ${missing.join(', ')}` : null;
}

export function checkResultRows(
  rows: Record<string, string>[],
  indicatorCodes: string[],
  firstLine = 2,
): { rows: ResultRow[]; rejected: RowProblem[] } {
  const known = new Set(indicatorCodes);
  const out: ResultRow[] = [];
  const rejected: RowProblem[] = [];
  const seen = new Map<string, number>();
  rows.forEach((r, i) => {
    const line = firstLine + i;
    const code = pick(r, RESULT_COLUMNS.code) ?? '';
    const scoreText = pick(r, RESULT_COLUMNS.score) ?? '';
    const rankText = pick(r, RESULT_COLUMNS.rank) ?? '';
    const problems: string[] = [];
    if (!known.has(code))
      problems.push(`unknown indicator "${code}" (the campaign has ${[...known].join(', ')})`);
    else if (seen.has(code))
      problems.push(`indicator ${code} already appears on line ${seen.get(code)}`);
    const score = Number(scoreText);
    if (scoreText === '' || !Number.isFinite(score) || score < 0 || score > 100)
      problems.push(`score "${scoreText}" is not a number from 0 to 100`);
    const rank = Number(rankText);
    if (!/^\d+$/.test(rankText) || rank < 1)
      problems.push(`rank "${rankText}" is not a whole number from 1`);
    if (problems.length) rejected.push({ line, message: problems.join('; ') });
    else {
      seen.set(code, line);
      out.push({ code, score, rank });
    }
  });
  return { rows: out, rejected };
}

/** A 32-bit seed from a text (FNV-1a), and a small fast PRNG (mulberry32) from it. */
function prng(seed: string): () => number {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    h ^= seed.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  let a = h >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The verification sample: ceil(population × proportion) enterprises drawn without replacement
 * by a seeded shuffle of the population in a canonical (sorted) order, so that the same seed and
 * the same list always give the same sample.
 */
export function drawSample(population: string[], proportion: number, seed: string): string[] {
  if (!(proportion > 0 && proportion <= 1))
    throw new Error(`proportion ${proportion} is outside (0, 1]`);
  const ids = [...new Set(population)].sort();
  const size = Math.min(ids.length, Math.ceil(ids.length * proportion));
  const rand = prng(seed);
  // Partial Fisher–Yates: the first `size` places are the sample.
  for (let i = 0; i < size; i++) {
    const j = i + Math.floor(rand() * (ids.length - i));
    [ids[i], ids[j]] = [ids[j]!, ids[i]!];
  }
  return ids.slice(0, size).sort();
}
