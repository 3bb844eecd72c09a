// The division-of-labour workbook through the CLI and in LibreOffice: `campaign template` writes
// it, LibreOffice Calc opens and prints it with its headings and keeps its drop-down lists,
// `import-workbook` turns it into a definition (or lists each mistake, in --json too), and
// validate and schedule read it directly.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { loadDefinitionText } from '../../client/definition-file.ts';
import { SHEETS } from '../../client/workbook.ts';
import { runCli } from '../helpers/cli.ts';

const SOFFICE = '/usr/bin/soffice';
const dir = mkdtempSync(join(tmpdir(), 'workbook-'));

function requireTool(path: string, pkg: string): void {
  if (!existsSync(path))
    throw new Error(
      `${path} is missing: install it with \`apt-get install ${pkg}\` (npm test does so).`,
    );
}

function soffice(args: string[]): void {
  const r = spawnSync(
    SOFFICE,
    ['--headless', '--norestore', `-env:UserInstallation=file://${join(dir, 'profile')}`, ...args],
    { encoding: 'utf8', timeout: 180_000, env: { ...process.env, HOME: dir } },
  );
  expect(r.status, `soffice: ${r.stderr}${r.stdout}`).toBe(0);
}

describe('campaign template', () => {
  it('writes a workbook that LibreOffice prints with its headings and whose lists it keeps', async () => {
    requireTool(SOFFICE, 'libreoffice-calc-nogui');
    requireTool('/usr/bin/pdftotext', 'poppler-utils');
    const file = join(dir, '任务分工表.xlsx');
    const r = await runCli(['template', '--out', file, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json<{ file: string }>().file).toBe(file);

    const pdfDir = join(dir, 'pdf');
    mkdirSync(pdfDir);
    soffice(['--convert-to', 'pdf', '--outdir', pdfDir, file]);
    const pdf = join(pdfDir, '任务分工表.pdf');
    const text = spawnSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' }).stdout;
    for (const heading of [
      '活动编号',
      '单位编号',
      '单位类型',
      '配合单位',
      '领队',
      '填报人员',
      '佐证材料清单',
      '字段键',
      '必填',
      '阶段',
      '到期前提醒',
      '通知对象',
    ])
      expect(text).toContain(heading);
    // The example row is printed too, with the Chinese labels of its choices.
    expect(text).toContain('第三方评价机构');
    expect(text).toContain('分管负责人');
    // A picture of the first page, for a person to look at.
    spawnSync('pdftoppm', ['-png', '-r', '60', '-f', '1', '-l', '2', pdf, join(pdfDir, 'page')]);
    const pngs = readdirSync(pdfDir).filter((f) => f.endsWith('.png'));
    expect(pngs.length).toBe(2);
    for (const p of pngs) expect(statSync(join(pdfDir, p)).size).toBeGreaterThan(5000);

    // Saved again by LibreOffice, the workbook keeps its drop-down lists and still imports.
    const again = join(dir, 'again');
    mkdirSync(again);
    soffice(['--convert-to', 'xlsx', '--outdir', again, file]);
    const resaved = join(again, '任务分工表.xlsx');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(resaved);
    const kind = wb.getWorksheet(SHEETS.units)!.getCell('C2').dataValidation;
    expect(kind.type).toBe('list');
    expect(String(kind.formulae[0])).toContain('责任单位');
    const imported = await runCli(['import-workbook', resaved, '--json']);
    expect(imported.code, imported.stdout + imported.stderr).toBe(0);
    expect(imported.json<{ valid: boolean }>().valid).toBe(true);
  });
});

describe('campaign import-workbook', () => {
  it('turns the county example written as a workbook into the same definition; validate and schedule read the workbook', async () => {
    const file = join(dir, 'county.xlsx');
    const yaml = join(dir, 'county.yaml');
    expect(
      (await runCli(['template', '--from', 'examples/county-2026.yaml', '--out', file])).code,
    ).toBe(0);
    const r = await runCli(['import-workbook', file, '--out', yaml]);
    expect(r.code, r.stderr).toBe(0);
    const original = loadDefinitionText(
      readFileSync('examples/county-2026.yaml', 'utf8'),
      'a.yaml',
    );
    const back = loadDefinitionText(readFileSync(yaml, 'utf8'), 'b.yaml');
    expect(back.definition).toEqual(original.definition);
    const v = await runCli(['validate', file, '--json']);
    expect(v.code).toBe(0);
    expect(v.json<{ summary: { indicators: number } }>().summary.indicators).toBe(18);
    const s = await runCli(['schedule', file, '--json']);
    expect(s.code).toBe(0);
    expect(s.json<{ dataEntry: { code: string }[] }>().dataEntry).toHaveLength(18);
    // The written file is not replaced without --force.
    expect((await runCli(['import-workbook', file, '--out', yaml])).code).toBe(1);
  });

  it('refuses a workbook with mistakes and lists each by sheet, row and column, in --json too', async () => {
    const file = join(dir, 'bad.xlsx');
    expect((await runCli(['template', '--out', file])).code).toBe(0);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(file);
    const ind = wb.getWorksheet(SHEETS.indicators)!;
    ind.getCell('E2').value = 'spj、nosuchunit';
    const units = wb.getWorksheet(SHEETS.units)!;
    units.getCell('C2').value = '科室';
    writeFileSync(file, Buffer.from(await wb.xlsx.writeBuffer()));
    const human = await runCli(['import-workbook', file]);
    expect(human.code).toBe(1);
    expect(human.stderr).toMatch(
      /指标分工 第2行「配合单位」（spj、nosuchunit）\s+配合单位 nosuchunit 不在/,
    );
    expect(human.stderr).toMatch(/单位与人员 第2行「单位类型」（科室）/);
    const json = await runCli(['import-workbook', file, '--json']);
    expect(json.code).toBe(1);
    const out = json.json<{
      valid: boolean;
      errors: { sheet: string; row: number; column: string; value: string }[];
    }>();
    expect(out.valid).toBe(false);
    expect(out.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          sheet: SHEETS.indicators,
          row: 2,
          column: '配合单位',
          value: 'spj、nosuchunit',
        }),
        expect.objectContaining({ sheet: SHEETS.units, row: 2, column: '单位类型', value: '科室' }),
      ]),
    );
  });
});
