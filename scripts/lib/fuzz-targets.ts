// Fuzz targets: generators of hostile inputs (fast-check arbitraries) and a judge for each that
// says what became of one input: accepted, refused with a location, refused without one, or a
// crash. Shared by the quick property tests (`npm test`, test/unit/fuzz.test.ts) and the long
// run (`npm run fuzz`, scripts/fuzz.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';
import { loadDefinitionBytes } from '../../client/definition-file.ts';
import { csvCell, mdCell, sheetName } from '../../client/export.ts';
import { BusinessCalendar } from '../../domain/calendar.ts';
import { planCampaign } from '../../domain/campaign.ts';
import type { QuestionnaireField } from '../../domain/definition.ts';
import { validateFieldData } from '../../domain/fields.ts';
import {
  checkEnterpriseRows,
  checkResultRows,
  parseCsvTable,
  withCreditCheck,
} from '../../domain/imports.ts';
import { checkAnswerHeader, checkAnswerRows, type RollEntry } from '../../domain/questionnaire.ts';
import { readRecordList } from '../../client/records-file.ts';
import { checkStepData } from '../../domain/rectification.ts';
import { payloadProblem } from '../../domain/payloads.ts';
import { firstTextProblem, formatPath, textFault } from '../../domain/text.ts';
import { validateDefinition } from '../../domain/validate.ts';
import { REPO_ROOT } from './tools.ts';

export type Outcome = 'accepted' | 'located' | 'unlocated' | 'crash';

export interface Judged {
  outcome: Outcome;
  /** What went wrong, for a crash or an unlocated refusal. */
  detail?: string;
}

const crash = (e: unknown): Judged => ({
  outcome: 'crash',
  detail: e instanceof Error ? (e.stack ?? e.message) : String(e),
});

// ---- text from outside (domain/text.ts) ----

/** One character or run the text rule refuses, and what it is. */
const badPieces: fc.Arbitrary<string> = fc.oneof(
  // lone surrogates, high and low, and a pair the wrong way round
  fc.integer({ min: 0xd800, max: 0xdbff }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0xdc00, max: 0xdfff }).map((c) => String.fromCharCode(c)),
  fc.constant('\ude00\ud83d'),
  // NUL, the C0 controls but tab and newline, a bare carriage return, DEL and the C1 controls
  fc.constant('\u0000'),
  fc
    .integer({ min: 0x01, max: 0x1f })
    .filter((c) => c !== 0x09 && c !== 0x0a && c !== 0x0d)
    .map((c) => String.fromCharCode(c)),
  // a bare CR: followed by a letter, since a good piece may start with the LF of a CRLF
  fc.constantFrom('\rx', '\u007f', '\u0085', '\u009b', '\u001b[2J'),
);

/** Text the rule accepts: Chinese, English, tab, newlines, CRLF, an emoji, a CJK extension. */
const goodPieces: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('按统一口径填报', 'ok', ' ', '\t', '\n', '\r\n', '😀', '𠮷', '，', '"', '\\'),
  fc.string({ maxLength: 8 }).filter((s) => textFault(s, Infinity) === null),
);

export interface HostileText {
  text: string;
  /** Whether the rule must refuse it (a bad piece is in it, or it is longer than `max`). */
  bad: boolean;
  max: number;
}

/**
 * Strings from outside: good text with, often, a piece the rule refuses somewhere in it (lone
 * surrogates, NUL, controls), or text longer than its bound.
 */
export const hostileText: fc.Arbitrary<HostileText> = fc.oneof(
  fc
    .record({
      before: fc.array(goodPieces, { maxLength: 4 }),
      bad: fc.option(badPieces, { nil: undefined, freq: 3 }),
      after: fc.array(goodPieces, { maxLength: 4 }),
      max: fc.constantFrom(200, 10_000),
    })
    .map((r) => ({
      text: [...r.before, r.bad ?? '', ...r.after].join(''),
      bad: r.bad !== undefined || [...[...r.before, ...r.after].join('')].length > r.max,
      max: r.max,
    })),
  fc
    .record({
      n: fc.constantFrom(200, 201, 10_000, 10_001, 25_000),
      c: fc.constantFrom('x', '字', '😀'),
    })
    .map(({ n, c }) => ({
      text: c.repeat(n),
      bad: n > 200,
      max: 200,
    })),
);

// ---- definitions ----

const examples = ['examples/quick-demo.yaml', 'examples/county-2026.yaml'].map((f) =>
  readFileSync(join(REPO_ROOT, f), 'utf8'),
);

/** Values that have broken parsers and validators before. */
const nasty: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    'constructor',
    'toString',
    '__proto__',
    'hasOwnProperty',
    'valueOf',
    '',
    ' ',
    'P0D',
    'PT0S',
    'PT0.5S',
    'P99999999D',
    `P${'9'.repeat(30)}W`,
    'PT1S',
    'P366D',
    'P367D',
    '2026-02-30',
    '9999-12-31T23:59',
    '0000-01-01',
    '2026-10-08T25:00',
    '24:00',
    '18:00',
    '00:00',
    'https://127.0.0.1/x',
    'javascript:alert(1)',
    '=HYPERLINK("x")',
    '\u0000',
    '\u001b[2J',
    '𠮷'.repeat(300),
    'x'.repeat(25_000),
  ),
  fc.constantFrom(0, -1, 1, 0.5, 1e308, -1e308, 2 ** 31, 2 ** 53 + 1, 61, 1000, 10_001),
  hostileText.map((h) => h.text),
  fc.constant(null),
  fc.constant(true),
  fc.constant({ toString: 1 }),
  fc.constant({ valueOf: 'x', toString: 'y' }),
  fc.constant([]),
  fc.constant([[[[[[]]]]]]),
  fc.constant({}),
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double(),
);

type Json = unknown;

/** Every path into a document (objects and arrays), for a mutation to aim at. */
function paths(doc: Json, out: (string | number)[][] = [], at: (string | number)[] = []) {
  out.push(at);
  if (Array.isArray(doc)) doc.forEach((v, i) => paths(v, out, [...at, i]));
  else if (doc && typeof doc === 'object')
    for (const [k, v] of Object.entries(doc)) paths(v, out, [...at, k]);
  return out;
}

type Mutation =
  | { kind: 'set'; pick: number; value: unknown }
  | { kind: 'delete'; pick: number }
  | { kind: 'key'; pick: number; key: string; value: unknown }
  | { kind: 'repeat'; pick: number; times: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), pick: fc.nat(), value: nasty }),
  fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
  fc.record({
    kind: fc.constant('key' as const),
    pick: fc.nat(),
    key: fc.constantFrom('constructor', '__proto__', 'toString', 'colour', 'kind', 'x'),
    value: nasty,
  }),
  fc.record({
    kind: fc.constant('repeat' as const),
    pick: fc.nat(),
    times: fc.integer({ min: 2, max: 300 }),
  }),
);

/**
 * One mutation of a document. Inserted values are copies: fc.constant hands out one object for
 * every sample, and a later mutation inside it must not grow it for all the others.
 */
function mutate(doc: Json, m: Mutation): Json {
  const all = paths(doc);
  const path = all[m.pick % all.length]!;
  if (path.length === 0) return m.kind === 'set' ? structuredClone(m.value) : doc;
  let parent = doc as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (m.kind === 'set') parent[last] = structuredClone(m.value);
  else if (m.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else if (m.kind === 'key') {
    const target = parent[last];
    if (target && typeof target === 'object' && !Array.isArray(target))
      Object.defineProperty(target, m.key, {
        value: structuredClone(m.value),
        enumerable: true,
        writable: true,
        configurable: true,
      });
  } else {
    const target = parent[last];
    if (Array.isArray(target) && target.length)
      parent[last] = Array.from({ length: m.times }, (_, i) =>
        structuredClone(target[i % target.length]),
      );
  }
  return doc;
}

type TextEdit =
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'duplicate'; at: number; length: number };

const yamlTokens = fc.constantFrom(
  '*x',
  '&a ',
  '*a',
  '[',
  ']',
  '{',
  '}',
  '---\n',
  '\t',
  ': ',
  '- ',
  '"',
  "'",
  '#',
  '!!binary ',
  '!!js/function ',
  '<<: *a\n',
  '? ',
  '|\n',
  '\n  ',
  '\u0000',
  '\uFEFF',
  '\\u',
  ',',
  '1e999',
  '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[',
);

const textEdit: fc.Arbitrary<TextEdit> = fc.oneof(
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.oneof(yamlTokens, fc.string({ maxLength: 8 })),
  }),
  fc.record({
    kind: fc.constant('delete' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 40 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('duplicate' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 400 }),
  }),
);

function editText(text: string, e: TextEdit): string {
  const at = text.length ? e.at % text.length : 0;
  switch (e.kind) {
    case 'insert':
      return text.slice(0, at) + e.text + text.slice(at);
    case 'delete':
      return text.slice(0, at) + text.slice(at + e.length);
    case 'truncate':
      return text.slice(0, at);
    case 'duplicate':
      return (
        text.slice(0, at + e.length) + text.slice(at, at + e.length) + text.slice(at + e.length)
      );
  }
}

export interface DefinitionInput {
  name: string;
  bytes: Uint8Array;
}

/** A mutated example definition, as YAML or JSON text, mutated again as text or as bytes. */
export const definitionInput: fc.Arbitrary<DefinitionInput> = fc
  .record({
    example: fc.nat({ max: examples.length - 1 }),
    json: fc.boolean(),
    mutations: fc.array(mutation, { maxLength: 4 }),
    edits: fc.array(textEdit, { maxLength: 3 }),
    bytes: fc.option(fc.uint8Array({ minLength: 1, maxLength: 4 }), { freq: 8 }),
    bytesAt: fc.nat(),
  })
  .map((r) => {
    let doc: Json = JSON.parse(JSON.stringify(toDoc(examples[r.example]!))) as Json;
    // Mutations stop once the document passes 1 MB: a larger file is refused by its size.
    for (const m of r.mutations) if (JSON.stringify(doc).length < 1 << 20) doc = mutate(doc, m);
    let text: string;
    try {
      text = r.json ? JSON.stringify(doc, null, 2) : toYaml(doc, { aliasDuplicateObjects: false });
    } catch {
      text = String(doc);
    }
    text ??= 'null';
    for (const e of r.edits) text = editText(text, e);
    let bytes: Uint8Array = Buffer.from(text, 'utf8');
    if (r.bytes) {
      const at = bytes.length ? r.bytesAt % bytes.length : 0;
      bytes = Buffer.concat([bytes.subarray(0, at), r.bytes, bytes.subarray(at)]);
    }
    return { name: r.json ? 'fuzz.json' : 'fuzz.yaml', bytes };
  });

const docCache = new Map<string, Json>();
function toDoc(yamlText: string): Json {
  let doc = docCache.get(yamlText);
  if (!doc) {
    const r = loadDefinitionBytes(Buffer.from(yamlText), 'example.yaml');
    doc = JSON.parse(JSON.stringify(r.definition)) as Json;
    docCache.set(yamlText, doc);
  }
  return doc;
}

/**
 * Loads a definition file's bytes as the CLI does. Accepted definitions must also plan (what
 * `campaign start` computes before it starts anything) without an error.
 */
export function judgeDefinition(input: DefinitionInput): Judged {
  try {
    const r = loadDefinitionBytes(input.bytes, input.name);
    if (r.valid) {
      if (!r.definition || !r.calendar)
        return { outcome: 'crash', detail: 'valid without a definition' };
      planCampaign(r.definition, r.calendar, new BusinessCalendar(r.calendar));
      return { outcome: 'accepted' };
    }
    if (!r.errors.length) return { outcome: 'unlocated', detail: 'refused without a problem' };
    const unlocated = r.errors.find((e) => !(typeof e.line === 'number' && e.line >= 1));
    return unlocated
      ? { outcome: 'unlocated', detail: `${unlocated.path}: ${unlocated.message}` }
      : { outcome: 'located' };
  } catch (e) {
    return crash(e);
  }
}

// ---- validators on documents that never were text ----

/** Arbitrary documents, from nothing like a definition to a mutated example. */
export const documentInput: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({ maxDepth: 4, withNullPrototype: true, withObjectString: true }),
  fc.array(mutation, { maxLength: 6 }).map((ms) => {
    let doc: Json = JSON.parse(JSON.stringify(toDoc(examples[0]!))) as Json;
    for (const m of ms) doc = mutate(doc, m);
    return doc;
  }),
);

/** validateDefinition on a document: every problem must name its path. */
export function judgeDocument(doc: unknown): Judged {
  try {
    const r = validateDefinition(doc);
    if (r.valid) return { outcome: 'accepted' };
    const unlocated = r.errors.find((e) => !e.path);
    return unlocated || !r.errors.length
      ? { outcome: 'unlocated', detail: JSON.stringify(unlocated ?? 'no problem') }
      : { outcome: 'located' };
  } catch (e) {
    return crash(e);
  }
}

// ---- the update validators: questionnaire data and rectification steps ----

const FIELDS: QuestionnaireField[] = [
  { key: 'steps', label: '办理环节', type: 'integer', required: true, min: 0, max: 20 },
  { key: 'rate', label: '网办率', type: 'percent', required: false },
  { key: 'note', label: '说明', type: 'text', required: false },
  { key: 'online', label: '可网办', type: 'boolean', required: true },
  { key: 'since', label: '启用日期', type: 'date', required: false },
  { key: 'level', label: '等级', type: 'enum', required: false, options: ['A', 'B'] },
  { key: 'constructor', label: '构造', type: 'text', required: true },
];

type StepKind = 'rectify-problems' | 'rectify-causes' | 'rectify-gaps' | 'rectify-measures';

export interface UpdateInput {
  data: unknown;
  kind: StepKind;
  problemCount: number;
}

export const updateInput: fc.Arbitrary<UpdateInput> = fc.record({
  data: fc.oneof(
    fc.anything({ maxDepth: 3 }),
    fc.dictionary(
      fc.constantFrom(
        'steps',
        'rate',
        'note',
        'online',
        'since',
        'level',
        'constructor',
        '__proto__',
        'x',
      ),
      nasty,
    ),
  ),
  kind: fc.constantFrom<StepKind>(
    'rectify-problems',
    'rectify-causes',
    'rectify-gaps',
    'rectify-measures',
  ),
  problemCount: fc.integer({ min: 0, max: 5 }),
});

/** The checks behind `task submit --data` and the rectification steps: answers, never throws. */
export function judgeUpdate(input: UpdateInput): Judged {
  try {
    const data =
      input.data && typeof input.data === 'object' && !Array.isArray(input.data)
        ? (input.data as Record<string, unknown>)
        : undefined;
    const fieldProblems = validateFieldData(FIELDS, data);
    const stepProblems = checkStepData(input.kind, input.data, {
      problemCount: input.problemCount,
      roster: {
        units: [{ id: 'scjgj', name: '市场监管局', kind: 'department' }],
        people: [{ id: 'p1', name: '张三', role: 'staff', unitId: 'scjgj' }],
      } as never,
      timeZone: 'Asia/Shanghai',
      now: Date.UTC(2026, 9, 1),
    });
    if (fieldProblems.some((p) => typeof p.field !== 'string' || !p.message))
      return { outcome: 'unlocated', detail: 'a field problem without its field' };
    return fieldProblems.length || stepProblems.length
      ? { outcome: 'located' }
      : { outcome: 'accepted' };
  } catch (e) {
    return crash(e);
  }
}

// ---- CSV imports ----

const cell = fc.oneof(
  hostileText.map((h) => h.text),
  fc.constantFrom(
    '',
    ' ',
    '"',
    '""',
    ',',
    '\n',
    '\r\n',
    '甲,"第一行\n第二行"',
    '0x10',
    '1e2',
    '2147483648',
    '99.5',
    '-1',
    '=HYPERLINK("x")',
    '\uFEFF',
    '\u0000',
    'kbqy',
    'ns',
    '91340523MA2N0OOOO1',
  ),
  fc.string({ maxLength: 12 }),
  fc.stringMatching(/^[0-9A-HJ-NPQRTUWXY]{17}$/).map(withCreditCheck),
  fc.stringMatching(/^[0-9A-Z]{16,19}$/),
  fc.integer({ min: -5, max: 200 }).map(String),
);

const quote = (v: string) =>
  /[",\r\n]/.test(v) || v !== v.trim() ? `"${v.replace(/"/g, '""')}"` : v;

export interface CsvInput {
  /** Enterprise list, results, a unit's record list (办件台账), the answered questionnaires. */
  kind: 'enterprises' | 'results' | 'records' | 'answers';
  bytes: Uint8Array;
}

const HEADERS = {
  enterprises: [
    ['统一社会信用代码', '企业名称', '行业', '乡镇'],
    ['credit_code', 'name'],
    ['企业名称', '统一社会信用代码'],
  ],
  results: [
    ['指标代码', '得分', '排名'],
    ['code', 'score', 'rank'],
  ],
  records: [
    ['办件编号', '办结日期', '事项名称', '申请人', '办理时长（工作日）'],
    ['record_no', 'date', 'matter', 'applicant', 'handling_days'],
  ],
  answers: [
    ['统一社会信用代码', '企业名称', '指标代码', '填报日期'],
    ['credit_code', 'name'],
  ],
};

/** The sampled enterprises the answered lists are checked against. */
const FUZZ_ROLL: RollEntry[] = [
  { creditCode: '91341100MA2N1234X5', name: '滁州甲公司', indicator: 'kbqy', unit: 'scjgj' },
  { creditCode: '91341100MA2N1234X5', name: '滁州甲公司', indicator: 'ns', unit: 'swj' },
];

const gb18030 = (() => {
  let table: Map<string, number[]> | undefined;
  return (text: string): Buffer => {
    if (!table) {
      table = new Map();
      const decoder = new TextDecoder('gb18030');
      for (let lead = 0x81; lead <= 0xfe; lead++)
        for (let trail = 0x40; trail <= 0xfe; trail++) {
          if (trail === 0x7f) continue;
          const ch = decoder.decode(Uint8Array.of(lead, trail));
          if (ch.length === 1 && ch !== '\uFFFD' && !table.has(ch)) table.set(ch, [lead, trail]);
        }
    }
    const out: number[] = [];
    for (const ch of text) {
      const code = ch.codePointAt(0)!;
      if (code < 0x80) out.push(code);
      else out.push(...(table.get(ch) ?? [0x3f]));
    }
    return Buffer.from(out);
  };
})();

/** A CSV file: a header, rows of hostile cells, line ends and blank lines, then byte edits. */
export const csvInput: fc.Arbitrary<CsvInput> = fc
  .record({
    kind: fc.constantFrom(
      'enterprises' as const,
      'results' as const,
      'records' as const,
      'answers' as const,
    ),
    header: fc.nat(),
    rows: fc.array(fc.array(cell, { minLength: 0, maxLength: 6 }), { maxLength: 30 }),
    eol: fc.constantFrom('\n', '\r\n', '\r'),
    blank: fc.array(fc.nat({ max: 40 }), { maxLength: 4 }),
    encoding: fc.constantFrom('utf-8', 'utf-8', 'utf-8-bom', 'gb18030', 'utf-16'),
    edits: fc.array(textEdit, { maxLength: 2 }),
    bytes: fc.option(fc.uint8Array({ minLength: 1, maxLength: 3 }), { freq: 6 }),
    bytesAt: fc.nat(),
    quoteAll: fc.boolean(),
  })
  .map((r) => {
    const headers = HEADERS[r.kind];
    const header = headers[r.header % headers.length]!;
    const lines = [
      header.join(','),
      ...r.rows.map((row) =>
        row.map((v) => (r.quoteAll ? `"${v.replace(/"/g, '""')}"` : quote(v))).join(','),
      ),
    ];
    for (const b of r.blank) lines.splice(Math.min(lines.length, b), 0, '');
    let text = lines.join(r.eol) + r.eol;
    for (const e of r.edits) text = editText(text, e);
    let bytes: Buffer =
      r.encoding === 'gb18030'
        ? gb18030(text)
        : r.encoding === 'utf-16'
          ? Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])
          : Buffer.concat([
              Buffer.from(r.encoding === 'utf-8-bom' ? '\uFEFF' : ''),
              Buffer.from(text),
            ]);
    if (r.bytes) {
      const at = bytes.length ? r.bytesAt % bytes.length : 0;
      bytes = Buffer.concat([bytes.subarray(0, at), r.bytes, bytes.subarray(at)]);
    }
    return { kind: r.kind, bytes };
  });

/** Physical lines of a file, as an editor counts them. */
function lineCount(bytes: Uint8Array): number {
  let n = 1;
  const nl = bytes.includes(0x0a) ? 0x0a : 0x0d;
  for (const b of bytes) if (b === nl) n++;
  return n;
}

/** Reads and checks a CSV import as the CLI does: every problem needs a line inside the file. */
export async function judgeCsv(input: CsvInput): Promise<Judged> {
  try {
    const max = lineCount(input.bytes) + 1;
    if (input.kind === 'records') {
      // The record list's own reader: the CSV, its heading and every row's cells.
      const r = await readRecordList(Buffer.from(input.bytes), 'the file');
      if ('list' in r) return { outcome: 'accepted' };
      const bad = r.problems.find((p) => !(p.line >= 1 && p.line <= max) || !p.message || !p.zh);
      return bad ? { outcome: 'unlocated', detail: JSON.stringify(bad) } : { outcome: 'located' };
    }
    const parsed = await parseCsvTable(input.bytes, 'the file');
    const check = (problems: { line?: number; message: string }[]): Judged => {
      const bad = problems.find(
        (p) => !(typeof p.line === 'number' && p.line >= 1 && p.line <= max) || !p.message,
      );
      return bad ? { outcome: 'unlocated', detail: JSON.stringify(bad) } : { outcome: 'located' };
    };
    if ('problems' in parsed) return check(parsed.problems);
    const { header, rows } = parsed.table;
    if (input.kind === 'answers') {
      const headerProblem = checkAnswerHeader(header);
      if (headerProblem) return check([{ line: parsed.table.headerLine, message: headerProblem }]);
    }
    const { rejected } =
      input.kind === 'enterprises'
        ? checkEnterpriseRows(rows, header)
        : input.kind === 'answers'
          ? checkAnswerRows(rows, header, FUZZ_ROLL, {
              enterprises: new Map(FUZZ_ROLL.map((e) => [e.creditCode, e.name])),
              indicatorCodes: ['kbqy', 'ns', 'jzxk'],
            })
          : checkResultRows(rows, ['kbqy', 'ns', 'jzxk'], header);
    const located = rows.find((r) => !(r.line >= 1 && r.line <= max));
    if (located)
      return { outcome: 'unlocated', detail: `a row at line ${located.line} of ${max - 1}` };
    return rejected.length ? check(rejected) : { outcome: 'accepted' };
  } catch (e) {
    return crash(e);
  }
}

// ---- exporters ----

export const sheetText = fc.oneof(
  fc.string({ maxLength: 40 }),
  cell,
  fc.constantFrom('<script>alert(1)</script>', '| a | b |', '`x`', "'quoted'", '/?*[]:\\'),
);

/**
 * The export of one cell: a CSV cell never starts with a formula character unless quoted with
 * a leading apostrophe, a Markdown cell holds no raw `<`, `|` or line break, a sheet name is
 * one Excel accepts.
 */
export function judgeExport(text: string): Judged {
  try {
    const c = csvCell(text);
    if (typeof c === 'string' && /^[=+\-@\t\r]/.test(c))
      return { outcome: 'unlocated', detail: `CSV cell ${JSON.stringify(c)}` };
    const m = mdCell(text);
    if (/[<\n\r]|(^|[^\\])\|/.test(m.replace(/<br>/g, '')))
      return { outcome: 'unlocated', detail: `Markdown cell ${JSON.stringify(m)}` };
    const name = sheetName(text);
    if (!name || Array.from(name).length > 31 || /[/?*[\]:\\]/.test(name) || /^'|'$/.test(name))
      return { outcome: 'unlocated', detail: `sheet name ${JSON.stringify(name)}` };
    return { outcome: 'accepted' };
  } catch (e) {
    return crash(e);
  }
}

export interface TextInput {
  /** A request-like value with one hostile string (as a value or a key) somewhere in it. */
  value: unknown;
  /** Where the hostile string is, as the rule names it. */
  path: string;
  hostile: HostileText;
  asKey: boolean;
}

/** A request-like document with one hostile string put at a random place (value or key). */
export const textInput: fc.Arbitrary<TextInput> = fc
  .record({
    hostile: hostileText,
    depth: fc.array(
      fc.oneof(fc.constantFrom('data', 'note', 'f.phone', '字段'), fc.nat({ max: 3 })),
      { maxLength: 4 },
    ),
    asKey: fc.boolean(),
  })
  .map(({ hostile, depth, asKey }) => {
    // Keys hold short text: a long hostile string as a key is bounded at 200.
    const h = asKey
      ? { ...hostile, bad: hostile.bad || [...hostile.text].length > 200, max: 200 }
      : hostile;
    const leaf: unknown = asKey ? { [h.text]: 1 } : h.text;
    let value: unknown = leaf;
    const parts: (string | number)[] = [];
    for (const d of [...depth].reverse()) {
      value =
        typeof d === 'number' ? [...Array<string>(d).fill('好'), value] : { ok: '好', [d]: value };
    }
    for (const d of depth) parts.push(d);
    if (asKey) parts.push(h.text);
    return {
      value: { requestId: 'r-1', body: value },
      path: formatPath('', ['body', ...parts]),
      hostile: h,
      asKey,
    };
  });

/**
 * The rule over one document: a bad string is found at its path, and the message, which is sent
 * as JSON and stored, is itself text the rule accepts; a good document is accepted. An update's
 * validator (domain/payloads.ts) refuses the same string in a note, naming the field.
 */
export function judgeText(input: TextInput): Judged {
  try {
    const { hostile } = input;
    const max = hostile.max;
    const p = firstTextProblem(input.value, { max, keyMax: 200 });
    if (!hostile.bad) {
      if (p) return { outcome: 'unlocated', detail: `a good text was refused: ${p.en}` };
    } else {
      if (!p)
        return {
          outcome: 'unlocated',
          detail: `not refused: ${JSON.stringify(hostile.text.slice(0, 40))}`,
        };
      if (p.path !== input.path)
        return { outcome: 'unlocated', detail: `refused at ${p.path}, expected ${input.path}` };
      if (textFault(p.en, Infinity) || textFault(p.zh, Infinity))
        return {
          outcome: 'unlocated',
          detail: `the message itself is not clean text: ${JSON.stringify(p.en)}`,
        };
    }
    const note = payloadProblem('approve', {
      requestId: 'r-1',
      actor: 'spj-coord',
      note: hostile.text.slice(0, 10_000),
    });
    const noteBad = textFault(hostile.text.slice(0, 10_000), 10_000) !== null;
    if (noteBad !== (note !== null) || (note && !/字段“note”/.test(note.zh)))
      return {
        outcome: 'unlocated',
        detail: `the update validator answered ${JSON.stringify(note)}`,
      };
    return { outcome: hostile.bad ? 'located' : 'accepted' };
  } catch (e) {
    return crash(e);
  }
}
