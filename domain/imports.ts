// Checking imported files row by row — the full enterprise list (企业全量名单) and the
// evaluation results — and drawing the verification sample reproducibly. Pure: the bytes of a
// file come in, records with their lines or problems with their lines come out.

import { Readable } from 'node:stream';
import { parse as csvParser, type CsvError } from 'csv-parse';
import { MAX_RANK } from './definition.ts';
import { decodeText, isEncodingProblem, type TextEncodingName } from './encoding.ts';
import { describeFault, LONG_TEXT_MAX, textFault } from './text.ts';

export interface RowProblem {
  /** 1-based physical line in the file, as an editor counts it (the header is usually 1). */
  line: number;
  /** 1-based column (field) when the problem is in one cell. */
  column?: number;
  message: string;
}

/** One data record of a CSV, keyed by the header, with the physical line it starts on. */
export interface CsvRecord {
  line: number;
  values: Record<string, string>;
}

export interface CsvTable {
  header: string[];
  headerLine: number;
  rows: CsvRecord[];
  encoding: TextEncodingName;
}

export type CsvResult = { table: CsvTable } | { problems: RowProblem[] };

/** The first cell of a record that breaks the text rule, at its line and column; or null. */
export function cellTextProblem(cells: readonly string[], line: number): RowProblem | null {
  for (let i = 0; i < cells.length; i++) {
    const f = textFault(cells[i]!, LONG_TEXT_MAX);
    if (!f) continue;
    const d = describeFault(f);
    return { line, column: i + 1, message: `该单元格${d.zh}（the value ${d.en}）` };
  }
  return null;
}

/** Longest record accepted; longer means a quote was opened and never closed. */
const MAX_RECORD_CHARS = 64 * 1024;
/** CSV errors reported at most (a file with more lists these and says how many more). */
const MAX_CSV_PROBLEMS = 200;

/** Physical lines of byte offsets in a buffer: LF ends a line (CR alone when there is no LF). */
class ByteLines {
  private readonly breaks: number[] = [];
  constructor(bytes: Uint8Array) {
    const nl = bytes.includes(0x0a) ? 0x0a : 0x0d;
    for (let i = bytes.indexOf(nl); i !== -1; i = bytes.indexOf(nl, i + 1)) this.breaks.push(i);
  }
  /** The line of the byte at `offset`. */
  lineOf(offset: number): number {
    let lo = 0;
    let hi = this.breaks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.breaks[mid]! < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  }
}

const isBlankByte = (b: number | undefined) => b === 0x20 || b === 0x09 || b === 0x0d || b === 0x0a;

/** What a csv-parse error means for the person who wrote the file. */
function csvErrorMessage(e: CsvError): string {
  switch (e.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quote (") opened on this line is never closed';
    case 'CSV_MAX_RECORD_SIZE':
      return `a record longer than ${MAX_RECORD_CHARS} characters starts on this line: most likely a quote (") opened here is never closed`;
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return 'a quoted field goes on after its closing quote; inside a quoted field write a quote as ""';
    default:
      return e.message.replace(/\s*(at|on) line \d+.*$/, '');
  }
}

/**
 * Reads a CSV with a header row: decodes it (UTF-8 with or without BOM, GBK/GB18030), parses
 * it and gives every record the physical line it starts on, so that messages point where an
 * editor shows the problem even after quoted line breaks and blank lines. Blank lines and rows
 * of empty cells are skipped. `what` names the file in messages; `onProgress` is told how many
 * records have been read (for a progress line).
 */
export async function parseCsvTable(
  bytes: Uint8Array,
  what: string,
  onProgress?: (records: number) => void,
): Promise<CsvResult> {
  const decoded = decodeText(bytes, what);
  if (isEncodingProblem(decoded)) return { problems: [decoded] };
  // Parse the UTF-8 form of the text: csv-parse counts its bytes, which we map to lines.
  const utf8 = Buffer.from(decoded.text, 'utf8');
  const lines = new ByteLines(utf8);
  const startLine = (from: number) => {
    let i = from;
    while (i < utf8.length && isBlankByte(utf8[i])) i++;
    return lines.lineOf(Math.min(i, Math.max(0, utf8.length - 1)));
  };
  const problems: RowProblem[] = [];
  let header: string[] | undefined;
  let headerLine = 1;
  const rows: CsvRecord[] = [];
  /** Bytes consumed up to the end of the last record: the next one starts after them. */
  let consumed = 0;
  const onRecord = (record: string[], bytes: number) => {
    const line = startLine(consumed);
    consumed = bytes;
    if (record.every((v) => v === '')) return;
    // Every cell is text PostgreSQL, JSON and people can hold (domain/text.ts).
    const bad = cellTextProblem(record, line);
    if (bad) {
      if (problems.length < MAX_CSV_PROBLEMS) problems.push(bad);
      return;
    }
    if (!header) {
      header = record;
      headerLine = line;
      const seen = new Map<string, number>();
      record.forEach((h, i) => {
        if (h === '') return;
        if (seen.has(h))
          problems.push({
            line,
            column: i + 1,
            message: `the header names the column "${h}" twice (columns ${seen.get(h)! + 1} and ${i + 1})`,
          });
        else seen.set(h, i);
      });
      return;
    }
    const extra = record.slice(header.length);
    if (record.length < header.length || extra.some((v) => v !== '')) {
      if (problems.length < MAX_CSV_PROBLEMS)
        problems.push({
          line,
          column: Math.min(record.length, header.length) + 1,
          message: `${record.length} field(s) where the header has ${header.length}; a comma inside a value needs the value in quotes`,
        });
      return;
    }
    const values: Record<string, string> = {};
    header.forEach((h, i) => {
      if (h !== '' && !Object.hasOwn(values, h)) values[h] = record[i] ?? '';
    });
    rows.push({ line, values });
    onProgress?.(rows.length);
  };
  // Records are taken as they are parsed (and none is passed on), so that those before a syntax
  // error are counted and the error is placed after them.
  const parser = csvParser({
    trim: true,
    skip_empty_lines: true,
    relax_column_count: true,
    relax_quotes: true,
    max_record_size: MAX_RECORD_CHARS,
    on_record: (record: string[], context: { bytes: number }) => {
      onRecord(record, context.bytes);
      return null;
    },
  });
  // In pieces, so that a long file lets the progress line move while it is parsed.
  const source = Readable.from(
    (function* () {
      for (let at = 0; at < utf8.length; at += 1 << 16) yield utf8.subarray(at, at + (1 << 16));
    })(),
  );
  try {
    await new Promise<void>((resolve, reject) => {
      parser.on('end', resolve);
      parser.on('error', reject);
      source.pipe(parser);
      parser.resume();
    });
  } catch (e) {
    source.destroy();
    const err = e as CsvError;
    const problem: RowProblem = {
      line: startLine(consumed),
      message: err.code ? csvErrorMessage(err) : `cannot be read as CSV: ${String(err)}`,
    };
    if (typeof err.column === 'number' && err.code !== 'CSV_QUOTE_NOT_CLOSED')
      problem.column = err.column + 1;
    problems.push(problem);
  }
  if (problems.length) return { problems };
  if (!header) return { problems: [{ line: 1, message: `${what} is empty (no header, no data)` }] };
  if (!rows.length)
    return {
      problems: [
        {
          line: headerLine,
          message: `${what} has a header but no data lines: nothing to import`,
        },
      ],
    };
  return { table: { header, headerLine, rows, encoding: decoded.encoding } };
}

export interface EnterpriseRow {
  creditCode: string;
  name: string;
  industry: string | null;
  town: string | null;
}

/**
 * The characters of a 统一社会信用代码 (GB 32100-2015): digits and capital letters without
 * I, O, Z, S and V, each worth its index.
 */
const CODE_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const CODE_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** The check character (position 18) for the first 17 characters of a credit code. */
export function creditCodeCheckCharacter(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += CODE_ALPHABET.indexOf(first17[i]!) * CODE_WEIGHTS[i]!;
  return CODE_ALPHABET[(31 - (sum % 31)) % 31]!;
}

/** The first 17 characters with their check character: a valid code, for examples and tests. */
export function withCreditCheck(first17: string): string {
  return `${first17}${creditCodeCheckCharacter(first17)}`;
}

/** Full-width letters and digits (typed with a Chinese input method) as ASCII, upper case. */
export function normaliseCreditCode(code: string): string {
  return code.normalize('NFKC').trim().toUpperCase();
}

/**
 * Why `code` is not a 统一社会信用代码 by GB 32100-2015, or null: its length, a character the
 * standard does not use, the administrative division code (positions 3–8, digits) or the check
 * character.
 */
export function creditCodeProblem(code: string): string | null {
  const chars = [...code];
  if (chars.length !== 18)
    return `"${code}" has ${chars.length} characters; a 统一社会信用代码 has 18`;
  for (let i = 0; i < 18; i++) {
    const c = chars[i]!;
    if (CODE_ALPHABET.includes(c)) continue;
    const why = 'IOZSV'.includes(c)
      ? `the letter ${c}, which GB 32100 leaves out (no I, O, Z, S or V, so that they are not taken for 1, 0, 2, 5 or U)`
      : `"${c}", which is neither a digit nor a capital letter`;
    return `"${code}" has ${why} at position ${i + 1}`;
  }
  const division = chars.slice(2, 8);
  const notDigit = division.findIndex((c) => !/[0-9]/.test(c));
  if (notDigit !== -1)
    return `"${code}": positions 3–8 are the administrative division code (digits), but position ${notDigit + 3} is "${division[notDigit]}"`;
  const expected = creditCodeCheckCharacter(code.slice(0, 17));
  if (chars[17] !== expected)
    return `"${code}": the check character (position 18) does not match the other 17 (it would be "${expected}"); a character was probably mistyped`;
  return null;
}

/** The trimmed value of the first of `names` that the row has (CSV headings in either language). */
export const pick = (row: Record<string, string>, names: string[]): string | undefined => {
  for (const n of names) {
    if (Object.hasOwn(row, n)) return row[n]!.trim();
  }
  return undefined;
};

/** The 1-based column of the first of `names` in the header. */
export const columnOf = (header: string[], names: string[]): number | undefined => {
  for (const n of names) {
    const i = header.indexOf(n);
    if (i !== -1) return i + 1;
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

/** Every row's problems, each at the row's line and the column of its first problem. */
export function checkEnterpriseRows(
  rows: CsvRecord[],
  header: string[] = Object.keys(rows[0]?.values ?? {}),
): { rows: EnterpriseRow[]; rejected: RowProblem[] } {
  const out: EnterpriseRow[] = [];
  const rejected: RowProblem[] = [];
  const seen = new Map<string, number>();
  const codeColumn = columnOf(header, ENTERPRISE_COLUMNS.creditCode);
  const nameColumn = columnOf(header, ENTERPRISE_COLUMNS.name);
  for (const { line, values: r } of rows) {
    const code = normaliseCreditCode(pick(r, ENTERPRISE_COLUMNS.creditCode) ?? '');
    const name = pick(r, ENTERPRISE_COLUMNS.name) ?? '';
    const problems: { column: number | undefined; message: string }[] = [];
    const codeProblem = code ? creditCodeProblem(code) : null;
    if (!code) problems.push({ column: codeColumn, message: '统一社会信用代码 is empty' });
    else if (codeProblem)
      problems.push({ column: codeColumn, message: `统一社会信用代码 ${codeProblem}` });
    else if (seen.has(code))
      problems.push({
        column: codeColumn,
        message: `统一社会信用代码 ${code} already appears on line ${seen.get(code)}`,
      });
    if (!name) problems.push({ column: nameColumn, message: '企业名称 is empty' });
    else if ([...name].length > 200)
      problems.push({ column: nameColumn, message: '企业名称 is longer than 200 characters' });
    if (problems.length) {
      const problem: RowProblem = { line, message: problems.map((p) => p.message).join('; ') };
      if (problems[0]!.column !== undefined) problem.column = problems[0]!.column;
      rejected.push(problem);
    } else {
      seen.set(code, line);
      out.push({
        creditCode: code,
        name,
        industry: pick(r, ENTERPRISE_COLUMNS.industry)?.slice(0, 200) || null,
        town: pick(r, ENTERPRISE_COLUMNS.town)?.slice(0, 200) || null,
      });
    }
  }
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

/** A score as people write it: a decimal number (no hex, no exponent), 0 to 100. */
const SCORE = /^\d{1,3}(?:\.\d{1,6})?$/;
/** A rank: a whole number, 1 to MAX_RANK. */
const RANK = /^\d{1,6}$/;

export function checkResultRows(
  rows: CsvRecord[],
  indicatorCodes: string[],
  header: string[] = Object.keys(rows[0]?.values ?? {}),
): { rows: ResultRow[]; rejected: RowProblem[] } {
  const known = new Set(indicatorCodes);
  const out: ResultRow[] = [];
  const rejected: RowProblem[] = [];
  const seen = new Map<string, number>();
  const column = {
    code: columnOf(header, RESULT_COLUMNS.code),
    score: columnOf(header, RESULT_COLUMNS.score),
    rank: columnOf(header, RESULT_COLUMNS.rank),
  };
  for (const { line, values: r } of rows) {
    const code = pick(r, RESULT_COLUMNS.code) ?? '';
    const scoreText = pick(r, RESULT_COLUMNS.score) ?? '';
    const rankText = pick(r, RESULT_COLUMNS.rank) ?? '';
    const problems: { column: number | undefined; message: string }[] = [];
    if (!known.has(code))
      problems.push({
        column: column.code,
        message: `unknown indicator "${code.slice(0, 100)}" (the campaign has ${[...known].join(', ')})`,
      });
    else if (seen.has(code))
      problems.push({
        column: column.code,
        message: `indicator ${code} already appears on line ${seen.get(code)}`,
      });
    const score = Number(scoreText);
    if (!SCORE.test(scoreText) || !(score >= 0 && score <= 100))
      problems.push({
        column: column.score,
        message: `score "${scoreText.slice(0, 100)}" is not a number from 0 to 100 (write it in decimal, e.g. 87.5)`,
      });
    const rank = Number(rankText);
    if (!RANK.test(rankText) || rank < 1 || rank > MAX_RANK)
      problems.push({
        column: column.rank,
        message: `rank "${rankText.slice(0, 100)}" is not a whole number from 1 to ${MAX_RANK}`,
      });
    if (problems.length) {
      const problem: RowProblem = { line, message: problems.map((p) => p.message).join('; ') };
      if (problems[0]!.column !== undefined) problem.column = problems[0]!.column;
      rejected.push(problem);
    } else {
      seen.set(code, line);
      out.push({ code, score, rank });
    }
  }
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
  return seededPick(ids, size, seed);
}

/**
 * `size` of `ids` drawn without replacement by a seeded partial Fisher–Yates shuffle of the ids
 * in the order given (callers pass a canonical order), returned sorted. The same ids, size and
 * seed always give the same draw.
 */
export function seededPick(ids: readonly string[], size: number, seed: string): string[] {
  const pool = [...ids];
  const n = Math.min(pool.length, Math.max(0, size));
  const rand = prng(seed);
  // Partial Fisher–Yates: the first `n` places are the sample.
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(rand() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, n).sort();
}
