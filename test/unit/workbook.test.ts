// The division-of-labour workbook (任务分工表): a definition written as a workbook and read back
// is the same definition; a workbook with a dozen mistakes lists each by sheet, row, column and
// value; hostile workbooks are refused, never crash.
import { readFileSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { loadDefinitionText } from '../../client/definition-file.ts';
import {
  loadWorkbookBytes,
  SHEETS,
  templateWorkbook,
  zipProblem,
  type WorkbookProblem,
} from '../../client/workbook.ts';

const example = loadDefinitionText(
  readFileSync('examples/county-2026.yaml', 'utf8'),
  'examples/county-2026.yaml',
);

async function edit(bytes: Buffer, change: (wb: ExcelJS.Workbook) => void): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(bytes as unknown as ArrayBuffer);
  change(wb);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

const sheet = (wb: ExcelJS.Workbook, name: string) => {
  const ws = wb.getWorksheet(name);
  if (!ws) throw new Error(`no sheet ${name}`);
  return ws;
};

/** The 1-based column of a heading in row 1. */
function col(ws: ExcelJS.Worksheet, heading: string): number {
  let found = 0;
  ws.getRow(1).eachCell((c, i) => {
    if (c.value === heading) found = i;
  });
  if (!found) throw new Error(`no column ${heading} in ${ws.name}`);
  return found;
}

/** The row of a key in a key/value sheet. */
function keyRow(ws: ExcelJS.Worksheet, label: string): number {
  let found = 0;
  ws.eachRow((r, n) => {
    if (r.getCell(1).value === label) found = n;
  });
  if (!found) throw new Error(`no key ${label} in ${ws.name}`);
  return found;
}

describe('the division-of-labour workbook', () => {
  it('written from the county example and read back is the same definition', async () => {
    expect(example.valid).toBe(true);
    const bytes = await templateWorkbook(example.definition);
    const back = await loadWorkbookBytes(bytes, 'county.xlsx');
    expect(back.errors).toEqual([]);
    expect(back.valid).toBe(true);
    expect(back.definition).toEqual(example.definition);
    // Not vacuous: the workbook holds every unit's people and every indicator's fields.
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(bytes as unknown as ArrayBuffer);
    const people = example.definition!.units.reduce((n, u) => n + u.people.length, 0);
    expect(sheet(wb, SHEETS.units).actualRowCount).toBe(people + 1);
    expect(sheet(wb, SHEETS.indicators).actualRowCount).toBe(
      example.definition!.indicators.length + 1,
    );
  });

  it('keeps times to the second, offsets, options, webhook headers, the secrets channels name and the typical-case limit', async () => {
    const demo = loadDefinitionText(
      readFileSync('examples/quick-demo.yaml', 'utf8'),
      'examples/quick-demo.yaml',
    );
    const def = structuredClone(demo.definition!);
    def.notifications.channels.push(
      {
        type: 'webhook',
        id: 'hook',
        url: 'https://example.org/x',
        headers: { 'X-County': 'hx: 2026' },
        secretRef: 'OA_AUTH',
        secretHeader: 'Authorization',
      },
      {
        type: 'dingtalk',
        url: 'https://oapi.dingtalk.com/robot/send',
        secretRef: 'DING_TOKEN',
        signingSecretRef: 'DING_SIGN',
      },
    );
    def.indicators[0]!.fields.push({
      key: 'level',
      label: '等级',
      type: 'enum',
      required: false,
      options: ['一级', '二级, 含逗号'],
      help: '说明',
    });
    def.phases.training.start = '2026-12-01T09:00:30+08:00';
    def.highlights = { maxTypicalCasesPerIndicator: 4 };
    const back = await loadWorkbookBytes(await templateWorkbook(def), 'demo.xlsx');
    expect(back.errors).toEqual([]);
    expect(back.definition).toEqual(def);
  });

  it('empty, has Chinese headings, drop-down lists and an example row that imports', async () => {
    const bytes = await templateWorkbook();
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(bytes as unknown as ArrayBuffer);
    expect(wb.worksheets.map((w) => w.name)).toEqual(Object.values(SHEETS));
    const units = sheet(wb, SHEETS.units);
    expect(units.getRow(1).getCell(1).value).toBe('单位编号');
    const kind = units.getCell(2, col(units, '单位类型')).dataValidation;
    expect(kind.type).toBe('list');
    expect(kind.formulae[0]).toContain('第三方评价机构');
    expect(units.getCell(2, col(units, '角色')).dataValidation.formulae[0]).toContain('分管负责人');
    const fields = sheet(wb, SHEETS.fields);
    expect(fields.getCell(2, col(fields, '类型')).dataValidation.formulae[0]).toContain('百分比');
    const back = await loadWorkbookBytes(bytes, 'empty.xlsx');
    expect(back.errors).toEqual([]);
    expect(back.definition?.indicators.map((i) => i.code)).toEqual(['kbqy']);
  });

  it('with a dozen mistakes lists each by sheet, row, column heading and cell value', async () => {
    const good = await templateWorkbook(example.definition);
    const bad = await edit(good, (wb) => {
      const camp = sheet(wb, SHEETS.campaign);
      camp.getCell(keyRow(camp, '活动编号'), 2).value = 'HX 2026';
      camp.getCell(keyRow(camp, '年度'), 2).value = {
        formula: 'YEAR(TODAY())',
      } as ExcelJS.CellValue;
      const units = sheet(wb, SHEETS.units);
      units.getCell(3, col(units, '单位类型')).value = '科室';
      units.getCell(4, col(units, '角色')).value = '老板';
      // spj-head again, now under another unit.
      const extra = units.getRow(units.actualRowCount + 1);
      ['scjgj', '县市场监督管理局', '责任单位', 'spj-head', '王文华', '工作人员'].forEach(
        (v, i) => {
          extra.getCell(i + 1).value = v;
        },
      );
      const ind = sheet(wb, SHEETS.indicators);
      ind.getCell(2, col(ind, '配合单位')).value = 'swj、nosuchunit';
      ind.getCell(3, col(ind, '领队')).value = 'nobody';
      ind.getCell(4, col(ind, '指标名称')).value = { error: '#REF!' } as ExcelJS.CellValue;
      ind.mergeCells(5, col(ind, '填报指引'), 6, col(ind, '填报指引'));
      const fields = sheet(wb, SHEETS.fields);
      fields.getCell(2, col(fields, '必填')).value = '可能';
      fields.getCell(3, col(fields, '最小值')).value = 'abc';
      fields.getCell(4, col(fields, '指标编号')).value = 'zzz';
      const phases = sheet(wb, SHEETS.phases);
      phases.getCell(2, col(phases, '开始')).value = '2026-09-14';
      const esc = sheet(wb, SHEETS.escalation);
      esc.getCell(2, col(esc, '通知对象')).value = '经办人、门卫';
    });
    const r = await loadWorkbookBytes(bad, 'bad.xlsx');
    expect(r.valid).toBe(false);
    const at = (s: string, row: number, column: string) =>
      r.errors.find(
        (e: WorkbookProblem) => e.sheet === s && e.row === row && e.column?.startsWith(column),
      );
    const expected: [string, number, string, RegExp, string?][] = [
      [SHEETS.campaign, 2, '值（活动编号）', /lower-case/, 'HX 2026'],
      [SHEETS.campaign, 5, '值', /公式/, '=YEAR(TODAY())'],
      [SHEETS.units, 3, '单位类型', /不是可选的值/, '科室'],
      [SHEETS.units, 4, '角色', /不是可选的值/, '老板'],
      [SHEETS.units, units(example) + 2, '人员编号', /同时在两个单位/, 'spj-head'],
      [SHEETS.indicators, 2, '配合单位', /nosuchunit 不在/, 'swj、nosuchunit'],
      [SHEETS.indicators, 3, '领队', /nobody 不在/, 'nobody'],
      [SHEETS.indicators, 4, '指标名称', /错误值/, '#REF!'],
      [SHEETS.indicators, 5, '填报指引', /合并单元格/],
      [SHEETS.fields, 2, '必填', /“是”或“否”/, '可能'],
      [SHEETS.fields, 3, '最小值', /应为数字/, 'abc'],
      [SHEETS.fields, 4, '指标编号', /zzz 不在/, 'zzz'],
      [SHEETS.phases, 2, '开始', /日期写成了文本/, '2026-09-14'],
      [SHEETS.escalation, 2, '通知对象', /门卫/, '经办人、门卫'],
    ];
    for (const [s, row, column, message, value] of expected) {
      const e = at(s, row, column);
      expect(e, `${s} row ${row} ${column}: ${JSON.stringify(r.errors, null, 1)}`).toBeDefined();
      expect(e!.message).toMatch(message);
      if (value !== undefined) expect(e!.value).toBe(value);
    }
    for (const e of r.errors) expect(e.message).toBeTruthy();
  });

  it('reads a formula by its cached value', async () => {
    const good = await templateWorkbook(example.definition);
    const f = await edit(good, (wb) => {
      const camp = sheet(wb, SHEETS.campaign);
      camp.getCell(keyRow(camp, '年度'), 2).value = {
        formula: '2000+26',
        result: 2026,
      } as ExcelJS.CellValue;
    });
    const r = await loadWorkbookBytes(f, 'formula.xlsx');
    expect(r.errors).toEqual([]);
    expect(r.definition?.campaign.year).toBe(2026);
  });
});

function units(r: typeof example): number {
  return r.definition!.units.reduce((n, u) => n + u.people.length, 0);
}

/** A zip of one stored or deflated entry, written by hand. */
function zipOf(name: string, data: Buffer, declared = data.length): Buffer {
  const comp = deflateRawSync(data);
  const nameBuf = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(comp.length, 18);
  local.writeUInt32LE(declared, 22);
  local.writeUInt16LE(nameBuf.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(comp.length, 20);
  central.writeUInt32LE(declared, 24);
  central.writeUInt16LE(nameBuf.length, 28);
  central.writeUInt32LE(0, 42);
  const cdOffset = local.length + nameBuf.length + comp.length;
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(1, 8);
  eocd.writeUInt16LE(1, 10);
  eocd.writeUInt32LE(central.length + nameBuf.length, 12);
  eocd.writeUInt32LE(cdOffset, 16);
  return Buffer.concat([local, nameBuf, comp, central, nameBuf, eocd]);
}

describe('a hostile workbook', () => {
  it('that is not a zip is refused with a message', async () => {
    const r = await loadWorkbookBytes(Buffer.from('campaign:\n  id: x\n'), 'fake.xlsx');
    expect(r.valid).toBe(false);
    expect(r.errors[0]!.message).toMatch(/not a zip/);
  });

  it('that expands to gigabytes (a zip bomb) is refused before it is expanded', async () => {
    const bomb = zipOf('xl/worksheets/sheet1.xml', Buffer.alloc(60 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(200 * 1024);
    const r = await loadWorkbookBytes(bomb, 'bomb.xlsx');
    expect(r.valid).toBe(false);
    expect(r.errors[0]!.message).toMatch(/zip bomb/);
  });

  it('whose entry expands to more than it declares is refused', () => {
    const liar = zipOf('xl/sharedStrings.xml', Buffer.alloc(5 * 1024 * 1024, 0x41), 100);
    expect(zipProblem(liar)).toMatch(/more than it declares/);
  });

  it('with too many rows is refused, naming the sheet', async () => {
    const good = await templateWorkbook();
    const big = await edit(good, (wb) => {
      const ws = sheet(wb, SHEETS.units);
      ws.getCell(6000, 1).value = 'x';
    });
    const r = await loadWorkbookBytes(big, 'big.xlsx');
    expect(r.valid).toBe(false);
    expect(r.errors[0]).toMatchObject({ sheet: SHEETS.units });
    expect(r.errors[0]!.message).toMatch(/6000 rows/);
  });

  it('that is damaged zip data is refused, not a crash', async () => {
    const good = await templateWorkbook();
    const broken = Buffer.from(good);
    broken.fill(0x55, 200, 4000);
    const r = await loadWorkbookBytes(broken, 'broken.xlsx');
    expect(r.valid).toBe(false);
    expect(r.errors[0]!.message).toMatch(/damaged|not a readable/);
  });
});
