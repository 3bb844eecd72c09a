// The text rule for what is read from files (domain/text.ts): a definition's YAML or JSON, a
// CSV's cells, a workbook's cells. A bad text is a problem located the file's way — its path
// and line, its line and column, its sheet, row and column — and never quoted raw.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { readDataFile } from '../../client/commands/tasks.ts';
import { loadDefinitionText } from '../../client/definition-file.ts';
import { parseXlsxTable } from '../../client/table-file.ts';
import { loadWorkbookBytes, SHEETS, templateWorkbook } from '../../client/workbook.ts';
import { parseCsvTable } from '../../domain/imports.ts';
import { textFault } from '../../domain/text.ts';

const demoYaml = readFileSync('examples/quick-demo.yaml', 'utf8');

describe('text read from files', () => {
  it('a definition names the path and line of a lone surrogate written as a YAML or JSON escape', () => {
    const yaml = demoYaml.replace(/^( {2}name: ).*$/m, '$1"县 \\ud800 考核"');
    expect(yaml).not.toBe(demoYaml);
    const r = loadDefinitionText(yaml, 'bad.yaml');
    expect(r.valid).toBe(false);
    const p = r.errors[0]!;
    expect(p.path).toBe('campaign.name');
    expect(p.message).toContain('孤立的代理项 U+D800');
    expect(p.message).toContain('lone surrogate U+D800');
    expect(yaml.split('\n')[p.line! - 1]).toMatch(/^ {2}name: /);
    const good = loadDefinitionText(demoYaml, 'good.yaml');
    const def = JSON.parse(JSON.stringify(good.definition)) as {
      units: { people: { name: string }[] }[];
    };
    def.units[1]!.people[0]!.name = '张\u0007三';
    const j = loadDefinitionText(JSON.stringify(def, null, 2), 'bad.json');
    expect(j.errors[0]!.path).toBe('units[1].people[0].name');
    expect(j.errors[0]!.message).toMatch(/控制字符 U\+0007/);
    expect(j.errors[0]!.line).toBeGreaterThan(1);
    expect(good.valid).toBe(true);
  });

  it('a CSV names the line and column of a cell with a control character', async () => {
    const csv = Buffer.from('code,name\nA1,好企业\nA2,坏\u001b[2J企业\n', 'utf8');
    const r = await parseCsvTable(csv, 'list.csv');
    expect('problems' in r && r.problems).toEqual([
      {
        line: 3,
        column: 2,
        message:
          '该单元格含有不允许的控制字符 U+001B（第 2 个字符；只允许制表符和换行）（the value contains a control character U+001B at character 2 (only tab and line breaks are allowed)）',
      },
    ]);
    const ok = await parseCsvTable(Buffer.from('code,note\r\nA1,"两行\r\n说明\t😀"\r\n'), 'ok.csv');
    expect('table' in ok).toBe(true);
  });

  it('a workbook table and the division-of-labour workbook name the cell, quoting it safely', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('名单');
    ws.addRow(['code', 'name']);
    // Excel keeps a control character in its XML as _x0007_; exceljs reads it back as U+0007.
    ws.addRow(['A1', 'x_x0007_y']);
    const t = await parseXlsxTable(Buffer.from(await wb.xlsx.writeBuffer()), 'list.xlsx');
    expect('problems' in t && t.problems[0]).toMatchObject({ line: 2, column: 2 });
    expect('problems' in t && t.problems[0]!.message).toMatch(/U\+0007/);

    const book = new ExcelJS.Workbook();
    await book.xlsx.load((await templateWorkbook()) as unknown as ArrayBuffer);
    const units = book.getWorksheet(SHEETS.units)!;
    units.getRow(2).getCell(2).value = '市场监管_x001B_局';
    const back = await loadWorkbookBytes(Buffer.from(await book.xlsx.writeBuffer()), 'w.xlsx');
    const p = back.errors.find((e) => /U\+001B/.test(e.message))!;
    expect(p).toMatchObject({ sheet: SHEETS.units, row: 2 });
    expect(p.value).toBe('市场监管\\u001b局');
    expect(textFault(p.message + (p.value ?? ''), Infinity)).toBeNull();
  });

  it("a task's --data file names the field of a lone surrogate written as a JSON escape", async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'text-data-')), 'data.json');
    writeFileSync(file, String.raw`{"procedures": 3, "remark": {"phone": "138\ud800"}}`);
    await expect(readDataFile(file)).rejects.toThrow(
      `--data ${file}: remark.phone is not well-formed Unicode (a lone surrogate U+D800 at character 4)`,
    );
    writeFileSync(file, String.raw`{"procedures": 3, "remark": "两行\r\n说明"}`);
    await expect(readDataFile(file)).resolves.toEqual({ procedures: 3, remark: '两行\r\n说明' });
  });
});
