// Inputs a careless or malicious user hands over: each is refused with a message that says what
// and where, and none crashes, hangs or fills the memory.
import { mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type * as Yaml from 'yaml';
import { loadDefinitionFile, loadDefinitionText } from '../../client/definition-file.ts';
import { decodeText } from '../../domain/encoding.ts';
import {
  checkEnterpriseRows,
  checkResultRows,
  creditCodeProblem,
  parseCsvTable,
  withCreditCheck,
  type CsvTable,
  type RowProblem,
} from '../../domain/imports.ts';
import type { DefinitionProblem } from '../../domain/validate.ts';

// Count how often the YAML parser runs: a JSON file is never parsed as YAML, a YAML file once.
const yamlParses = vi.hoisted(() => ({ count: 0 }));
vi.mock('yaml', async (importOriginal) => {
  const yaml = await importOriginal<typeof Yaml>();
  class CountingParser extends yaml.Parser {
    constructor(onNewLine?: (offset: number) => void) {
      super(onNewLine);
      yamlParses.count++;
    }
  }
  return {
    ...yaml,
    Parser: CountingParser,
    parseDocument: (...args: Parameters<typeof yaml.parseDocument>) => {
      yamlParses.count++;
      return yaml.parseDocument(...args);
    },
  };
});

// A definition as a loose document that a test can break anywhere.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;
const quickDemo = () => parseYaml(readFileSync('examples/quick-demo.yaml', 'utf8')) as Loose;

/** Loads a definition document written as JSON, as the CLI would load a .json file. */
const loadObject = (doc: unknown) =>
  loadDefinitionText(JSON.stringify(doc, null, 2), 'hostile.json');

/** The problem at `path`, which must carry a line. */
function problemAt(errors: DefinitionProblem[], path: string): DefinitionProblem {
  const hit = errors.find((e) => e.path === path);
  expect(hit, `a problem at ${path}; got ${JSON.stringify(errors)}`).toBeDefined();
  expect(hit!.line, `a line for ${path}`).toBeGreaterThanOrEqual(1);
  return hit!;
}

describe('a hostile definition file', () => {
  afterEach(() => {
    yamlParses.count = 0;
  });

  it('refuses the six bytes `a: *x` (an alias without its anchor) at line 1', () => {
    const r = loadDefinitionText('a: *x', 'alias.yaml');
    expect(r.valid).toBe(false);
    expect(r.errors).toEqual([
      { path: '(file)', line: 1, message: expect.stringMatching(/alias \*x names no anchor &x/) },
    ]);
  });

  it('refuses an alias bomb at the line of its first alias instead of expanding it', () => {
    const levels = 'abcdefghi'.split('');
    const text = [
      `a: &a [${Array(9).fill('"lol"').join(', ')}]`,
      ...levels
        .slice(1)
        .map((c, i) => `${c}: &${c} [${Array(9).fill(`*${levels[i]}`).join(', ')}]`),
    ].join('\n');
    const r = loadDefinitionText(text, 'bomb.yaml');
    expect(r.valid).toBe(false);
    expect(r.errors[0]).toMatchObject({ path: '(file)', line: 2 });
    expect(r.errors[0]!.message).toMatch(/aliases expand too much/);
  });

  it('refuses a unit of kind "constructor" or "toString" with a person, at the kind', () => {
    for (const kind of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const doc = quickDemo();
      doc.units[1].kind = kind;
      const r = loadObject(doc);
      expect(r.valid, kind).toBe(false);
      expect(problemAt(r.errors, 'units[1].kind').message).toMatch(/expected one of/);
    }
  });

  it('refuses a value whose toString is not a function instead of crashing on it', () => {
    const doc = quickDemo();
    doc.indicators[0].fields[0].type = { toString: 1 };
    doc.indicators[0].fields[0].options = ['a'];
    const r = loadObject(doc);
    expect(r.valid).toBe(false);
    problemAt(r.errors, 'indicators[0].fields[0].type');
  });

  it('refuses a calendar with no working day within ten years, at the calendar', () => {
    const doc = quickDemo();
    const holidays: string[] = [];
    for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2036, 0, 1); t += 86_400_000) {
      const day = new Date(t);
      if (day.getUTCDay() !== 0 && day.getUTCDay() !== 6)
        holidays.push(day.toISOString().slice(0, 10));
    }
    doc.calendar = { chineseHolidays: false, holidays };
    const r = loadObject(doc);
    expect(r.valid).toBe(false);
    expect(problemAt(r.errors, 'calendar.holidays').message).toMatch(/at most 1000/);
  });

  it('refuses a working day that ends before it starts', () => {
    const doc = quickDemo();
    doc.calendar = { workdayStart: '18:00', workdayEnd: '09:00' };
    const r = loadObject(doc);
    expect(problemAt(r.errors, 'calendar.workdayEnd').message).toMatch(/ends .* before it starts/);
  });

  it('refuses a data-entry slot of P99999999D, at the slot', () => {
    const doc = quickDemo();
    doc.phases.dataEntry.slot = 'P99999999D';
    const r = loadObject(doc);
    expect(r.valid).toBe(false);
    expect(problemAt(r.errors, 'phases.dataEntry.slot').message).toMatch(/longer than 366 days/);
  });

  it('refuses progressEvery P0D or PT0S (a report every instant)', () => {
    for (const every of ['P0D', 'PT0S', 'PT0.5S']) {
      const doc = quickDemo();
      doc.rectification.progressEvery = every;
      const r = loadObject(doc);
      expect(r.valid, every).toBe(false);
      expect(problemAt(r.errors, 'rectification.progressEvery').message).toMatch(
        /shorter than one second/,
      );
    }
  });

  it('refuses durations beyond the range of a date, wherever they are', () => {
    const doc = quickDemo();
    doc.policy.reminders = ['P99999999999999999999D'];
    doc.policy.escalation[0].after = { duration: 'P9999999W' };
    doc.rectification.measureDue = { duration: `PT${'9'.repeat(400)}S` };
    const r = loadObject(doc);
    expect(r.valid).toBe(false);
    problemAt(r.errors, 'policy.reminders[0]');
    problemAt(r.errors, 'policy.escalation[0].after.duration');
    problemAt(r.errors, 'rectification.measureDue.duration');
  });

  it('bounds ranks, scores and counts as the schema states', () => {
    const doc = quickDemo();
    doc.rectification.triggers = { rankBottom: 2 ** 31, scoreBelow: 1000 };
    doc.policy.maxExtensions = 1e6;
    const r = loadObject(doc);
    expect(problemAt(r.errors, 'rectification.triggers.rankBottom').message).toMatch(/10000/);
    problemAt(r.errors, 'rectification.triggers.scoreBelow');
    problemAt(r.errors, 'policy.maxExtensions');
  });

  it('refuses a document nested thousands of levels deep at the line where it goes too deep', () => {
    const flow = `campaign: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`;
    const r = loadDefinitionText(flow, 'deep.yaml');
    expect(r.errors).toEqual([
      { path: '(file)', line: 1, message: expect.stringMatching(/nested more than 64 levels/) },
    ]);
    const block = Array.from({ length: 3000 }, (_, i) => `${' '.repeat(i)}k:`).join('\n');
    expect(loadDefinitionText(block, 'deep.yaml').errors[0]).toMatchObject({ line: 65 });
  });

  it('locates the problems of a deeply nested JSON file without parsing it as YAML', () => {
    const text = `{\n"campaign": ${'['.repeat(1_000_000)}${']'.repeat(1_000_000)},\n"colour": 1\n}`;
    const r = loadDefinitionText(text, 'deep.json');
    expect(r.valid).toBe(false);
    expect(problemAt(r.errors, 'campaign').line).toBe(2);
    expect(problemAt(r.errors, 'colour').line).toBe(3);
    expect(yamlParses.count).toBe(0);
  });

  it('parses a YAML file once', async () => {
    const r = await loadDefinitionFile('test/fixtures/twelve-mistakes.yaml');
    expect(r.errors.length).toBeGreaterThanOrEqual(12);
    expect(yamlParses.count).toBe(1);
  });

  it('refuses a 100 MB file before reading it, naming the limit and the setting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hostile-'));
    const big = join(dir, 'huge.yaml');
    writeFileSync(big, '');
    truncateSync(big, 100 * 1024 * 1024);
    const r = await loadDefinitionFile(big);
    expect(r.valid).toBe(false);
    expect(r.errors[0]!.message).toMatch(
      /larger than the limit of 5 MB \(it has 100 MB\); set CAMPAIGN_MAX_DEFINITION_SIZE/,
    );
    const small = join(dir, 'small.yaml');
    writeFileSync(small, readFileSync('examples/quick-demo.yaml'));
    expect((await loadDefinitionFile(small, { maxBytes: 1024 })).errors[0]!.message).toMatch(
      /larger than the limit of 1 KB/,
    );
  });

  it('reads a definition saved as GB18030 and refuses bytes that are no text, at their line', () => {
    const gbk = encodeGb18030(readFileSync('examples/quick-demo.yaml', 'utf8'));
    const decoded = decodeText(gbk, 'quick-demo.yaml');
    expect(decoded).toMatchObject({ encoding: 'gb18030' });
    const bad = Buffer.concat([Buffer.from('a: 1\nb: 2\nc: '), Buffer.from([0xff, 0xff, 0x0a])]);
    expect(decodeText(bad, 'bad.yaml')).toMatchObject({
      line: 3,
      message: expect.stringMatching(/neither UTF-8 nor GBK\/GB18030 .*iconv -f GB18030 -t UTF-8/),
    });
  });
});

// ---- CSV imports ----

/** A GB18030 encoder for tests, built from the decoder (Node has none). */
function encodeGb18030(text: string): Buffer {
  const table = new Map<string, number[]>();
  const decoder = new TextDecoder('gb18030');
  for (let lead = 0x81; lead <= 0xfe; lead++)
    for (let trail = 0x40; trail <= 0xfe; trail++) {
      if (trail === 0x7f) continue;
      const ch = decoder.decode(Uint8Array.of(lead, trail));
      if (ch.length === 1 && ch !== '\uFFFD' && !table.has(ch)) table.set(ch, [lead, trail]);
    }
  const out: number[] = [];
  for (const ch of text) {
    if (ch.charCodeAt(0) < 0x80) out.push(ch.charCodeAt(0));
    else {
      const bytes = table.get(ch);
      if (!bytes) throw new Error(`no GB18030 two-byte code for ${ch}`);
      out.push(...bytes);
    }
  }
  return Buffer.from(out);
}

const CODE_1 = withCreditCheck('91340523MA2N0XYP1');
const CODE_2 = withCreditCheck('91340523MA2N0XYP2');

async function table(text: string | Buffer): Promise<CsvTable> {
  const r = await parseCsvTable(typeof text === 'string' ? Buffer.from(text) : text, 'the list');
  if ('problems' in r) throw new Error(JSON.stringify(r.problems));
  return r.table;
}

async function problems(text: string | Buffer): Promise<RowProblem[]> {
  const r = await parseCsvTable(typeof text === 'string' ? Buffer.from(text) : text, 'the list');
  if (!('problems' in r)) throw new Error(`accepted: ${JSON.stringify(r.table)}`);
  return r.problems;
}

async function enterpriseProblems(text: string | Buffer): Promise<RowProblem[]> {
  const t = await table(text);
  return checkEnterpriseRows(t.rows, t.header).rejected;
}

describe('a hostile CSV import', () => {
  it('names the real line after a quoted line break (甲,"第一行\\n第二行" then a bad line 4)', async () => {
    const text = `统一社会信用代码,企业名称\n${CODE_1},"第一行\n第二行"\n9134,坏的\n`;
    expect(await enterpriseProblems(text)).toEqual([
      { line: 4, column: 1, message: expect.stringMatching(/"9134" has 4 characters/) },
    ]);
  });

  it('names the real line after blank lines and CRLF line ends', async () => {
    const text = `统一社会信用代码,企业名称\r\n\r\n${CODE_1},甲\r\n   \r\n\r\n9134,坏的\r\n`;
    expect((await enterpriseProblems(text)).map((p) => p.line)).toEqual([6]);
  });

  it('locates CSV syntax errors: an unclosed quote where it opens, a field count, a stray quote', async () => {
    expect(await problems(`a,b\n1,2\n3,"open\n4,5\n6,7\n`)).toEqual([
      { line: 3, message: expect.stringMatching(/quote .* opened on this line is never closed/) },
    ]);
    expect(await problems(`a,b\n1,2\n\n3,4,5\n6\n`)).toEqual([
      { line: 4, column: 3, message: expect.stringMatching(/3 field\(s\) where the header has 2/) },
      { line: 5, column: 2, message: expect.stringMatching(/1 field\(s\)/) },
    ]);
    expect(await problems(`"a,b\n1,2\n`)).toEqual([
      { line: 1, message: expect.stringMatching(/never closed/) },
    ]);
    expect(await problems(`a,b\n1,2\n3,"x"y\n`)).toEqual([
      { line: 3, column: 2, message: expect.stringMatching(/goes on after its closing quote/) },
    ]);
  });

  it('refuses an empty file and a header-only file as such', async () => {
    expect(await problems('')).toEqual([
      { line: 1, message: 'the list is empty (no header, no data)' },
    ]);
    expect(await problems('\n\n  \n')).toEqual([
      { line: 1, message: 'the list is empty (no header, no data)' },
    ]);
    expect(await problems('\n统一社会信用代码,企业名称\n\n')).toEqual([
      { line: 2, message: expect.stringMatching(/has a header but no data lines/) },
    ]);
    expect(await problems('\uFEFF统一社会信用代码,企业名称\n,\n')).toEqual([
      { line: 1, message: expect.stringMatching(/has a header but no data lines/) },
    ]);
  });

  it('refuses a header that names a column twice', async () => {
    expect(await problems('企业名称,统一社会信用代码,企业名称\na,b,c\n')).toEqual([
      { line: 1, column: 3, message: expect.stringMatching(/names the column "企业名称" twice/) },
    ]);
  });

  it('reads UTF-8 with or without a BOM and GBK/GB18030 alike', async () => {
    const text = `统一社会信用代码,企业名称,乡镇\n${CODE_1},和县顺达物流有限公司,历阳镇\n`;
    for (const bytes of [
      Buffer.from(text),
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]),
      encodeGb18030(text),
    ]) {
      const t = await table(bytes);
      expect(t.header).toEqual(['统一社会信用代码', '企业名称', '乡镇']);
      expect(checkEnterpriseRows(t.rows, t.header).rows).toEqual([
        { creditCode: CODE_1, name: '和县顺达物流有限公司', industry: null, town: '历阳镇' },
      ]);
    }
    expect((await table(encodeGb18030(text))).encoding).toBe('gb18030');
  });

  it('refuses UTF-16, a workbook and binary data, saying how to convert', async () => {
    expect((await problems(Buffer.from([0xff, 0xfe, 0x41, 0x00])))[0]!.message).toMatch(
      /UTF-16 .*CSV UTF-8/,
    );
    expect((await problems(Buffer.from('PK\u0003\u0004xxxx')))[0]!.message).toMatch(
      /Excel workbook/,
    );
    expect(await problems(Buffer.from('a,b\n1,2\n3\u00004\n'))).toEqual([
      { line: 3, message: expect.stringMatching(/NUL byte at line 3/) },
    ]);
  });

  it('checks credit codes by the standard: alphabet, division code and check character', async () => {
    expect(creditCodeProblem('91110108551385082Q')).toBeNull();
    expect(creditCodeProblem('914403001922038216')).toBeNull();
    expect(creditCodeProblem('91350100M000100Y43')).toBeNull();
    expect(creditCodeProblem('91110108551385082R')).toMatch(/check character .* would be "Q"/);
    expect(creditCodeProblem('91340523MA2N0OOOO1')).toMatch(
      /has the letter O, which GB 32100 leaves out .* at position 14/,
    );
    expect(creditCodeProblem('9134O523MA2N0XYP1B')).toMatch(/letter O/);
    expect(creditCodeProblem('91A40523MA2N0XYP1B')).toMatch(/positions 3–8 .* position 3 is "A"/);
    expect(creditCodeProblem('9134052')).toMatch(/has 7 characters/);
    // Typed with a Chinese input method: full-width characters are read as ASCII.
    const wide = [...'91110108551385082q'].map((c) =>
      String.fromCharCode(c.charCodeAt(0) + 0xfee0),
    );
    const t = await table(`统一社会信用代码,企业名称\n${wide.join('')},小米\n`);
    expect(checkEnterpriseRows(t.rows, t.header).rows[0]!.creditCode).toBe('91110108551385082Q');
    expect(
      await enterpriseProblems(`统一社会信用代码,企业名称\n${CODE_1},甲\n${CODE_2},乙\n`),
    ).toEqual([]);
  });

  it('refuses a rank above 2^31−1 or above 10000, and reads no hexadecimal or exponent', async () => {
    const t = await table(
      '指标代码,得分,排名\nkbqy,0x10,1\nns,80,2147483648\njzxk,1e2,3\nscjg,90,10001\nzwfw,99.5,10000\n',
    );
    const { rows, rejected } = checkResultRows(
      t.rows,
      ['kbqy', 'ns', 'jzxk', 'scjg', 'zwfw'],
      t.header,
    );
    expect(rows).toEqual([{ code: 'zwfw', score: 99.5, rank: 10000 }]);
    expect(rejected).toEqual([
      { line: 2, column: 2, message: expect.stringMatching(/score "0x10" is not a number/) },
      {
        line: 3,
        column: 3,
        message: expect.stringMatching(/rank "2147483648" is not a whole number from 1 to 10000/),
      },
      { line: 4, column: 2, message: expect.stringMatching(/score "1e2"/) },
      { line: 5, column: 3, message: expect.stringMatching(/rank "10001"/) },
    ]);
  });
});
