// Department record lists (办件台账): the reader of CSV and xlsx files with every bad cell
// located and written in both languages, who may upload, and the sampler's bounds,
// reproducibility and strata.
import ExcelJS from 'exceljs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readRecordList } from '../../client/records-file.ts';
import { loadDefinitionFile } from '../../client/definition-file.ts';
import {
  checkDraw,
  checkRecordUpload,
  drawRecordSample,
  parseRecordDate,
  type SampleRecordRef,
} from '../../domain/records.ts';
import { Refusal } from '../../domain/refusal.ts';

const HEADER = '办件编号,办结日期,事项名称,申请人,办理时长（工作日）,备注';

async function read(bytes: Buffer | string) {
  return readRecordList(typeof bytes === 'string' ? Buffer.from(bytes) : bytes, 'kbqy.csv');
}

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

async function workbook(rows: unknown[][], edit?: (ws: ExcelJS.Worksheet) => void) {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('办件台账');
  for (const r of rows) ws.addRow(r);
  edit?.(ws);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

describe('the record list reader', () => {
  it('reads a good CSV with its records, dates and handling days', async () => {
    const r = await read(
      `${HEADER}\nKB-001,2026-09-01,企业设立登记,甲公司,1,\nKB-002,2026/9/2,变更登记,乙公司,0.5,加急\n`,
    );
    if ('problems' in r) throw new Error(JSON.stringify(r.problems));
    expect(r.list.format).toBe('csv');
    expect(r.list.records).toEqual([
      {
        recordNo: 'KB-001',
        date: '2026-09-01',
        matter: '企业设立登记',
        applicant: '甲公司',
        handlingDays: 1,
        place: 'line 2',
        extra: {},
      },
      {
        recordNo: 'KB-002',
        date: '2026-09-02',
        matter: '变更登记',
        applicant: '乙公司',
        handlingDays: 0.5,
        place: 'line 3',
        extra: { 备注: '加急' },
      },
    ]);
  });

  it('refuses every bad line at its line and column, in Chinese and English', async () => {
    const r = await read(
      [
        HEADER,
        'KB-001,2026-09-01,企业设立登记,甲公司,1,',
        'KB-001,2026-09-02,变更登记,乙公司,2,', // a repeated number
        'KB-003,2026-02-30,注销登记,丙公司,1,', // no such day
        'KB-004,2026-09-04,,丁公司,1e2,', // empty matter, a number in exponent form
        '',
        'KB-005,2026-09-05,设立登记,戊公司,-1,', // negative, after a blank line
      ].join('\n'),
    );
    expect('problems' in r && r.problems).toEqual([
      expect.objectContaining({
        line: 3,
        column: 1,
        heading: '办件编号',
        value: 'KB-001',
        message: '办件编号 KB-001 already appears at line 2',
        zh: '办件编号 KB-001 与 第2行 重复',
      }),
      expect.objectContaining({
        line: 4,
        column: 2,
        value: '2026-02-30',
        message: expect.stringMatching(/办结日期 "2026-02-30" is not a date/),
        zh: expect.stringMatching(/办结日期“2026-02-30”不是日期/),
      }),
      expect.objectContaining({
        line: 5,
        column: 3,
        message: '事项名称 is empty',
        zh: '事项名称为空',
      }),
      expect.objectContaining({
        line: 5,
        column: 5,
        value: '1e2',
        message: expect.stringMatching(/办理时长 "1e2" is not a number of working days/),
      }),
      expect.objectContaining({ line: 7, column: 5, value: '-1' }),
    ]);
  });

  it('refuses a file without the columns, an empty one and a header-only one, located', async () => {
    const noColumns = await read('办件编号,日期\nKB-1,2026-09-01\n');
    expect('problems' in noColumns && noColumns.problems).toEqual([
      expect.objectContaining({
        line: 1,
        message: expect.stringMatching(/lacks the column\(s\) 事项名称 .*申请人 .*办理时长/),
        zh: expect.stringMatching(/表头缺少列：事项名称、申请人、办理时长（工作日）/),
      }),
    ]);
    const empty = await read('');
    expect('problems' in empty && empty.problems[0]).toMatchObject({
      line: 1,
      zh: '文件为空（没有表头，也没有数据）',
    });
    const headerOnly = await read(`\n${HEADER}\n`);
    expect('problems' in headerOnly && headerOnly.problems[0]).toMatchObject({
      line: 2,
      message: expect.stringMatching(/header but no data lines/),
      zh: expect.stringMatching(/只有表头/),
    });
    const unclosed = await read(`${HEADER}\nKB-1,2026-09-01,"设立登记,甲,1,\n`);
    expect('problems' in unclosed && unclosed.problems[0]).toMatchObject({
      line: 2,
      zh: expect.stringMatching(/引号/),
    });
  });

  it('reads a GBK (GB18030) file as Excel and WPS save it', async () => {
    const text = `${HEADER}\r\nKB-001,2026-09-01,企业设立登记,城关镇甲公司,1,\r\nKB-002,2026年9月3日,变更登记,乙公司,二,\r\n`;
    const r = await read(encodeGb18030(text));
    expect('problems' in r && r.problems).toEqual([
      expect.objectContaining({ line: 3, column: 5, value: '二', heading: '办理时长（工作日）' }),
    ]);
    const good = await read(encodeGb18030(text.replace(',二,', ',2,')));
    if ('problems' in good) throw new Error(JSON.stringify(good.problems));
    expect(good.list.encoding).toBe('gb18030');
    expect(good.list.records.map((x) => [x.applicant, x.date])).toEqual([
      ['城关镇甲公司', '2026-09-01'],
      ['乙公司', '2026-09-03'],
    ]);
  });

  it('reads an xlsx with date cells and numbers, and locates bad cells by sheet, row and column', async () => {
    const head = ['办件编号', '办结日期', '事项名称', '申请人', '办理时长（工作日）'];
    const good = await workbook([
      head,
      ['KB-001', new Date(Date.UTC(2026, 8, 1)), '企业设立登记', '甲公司', 1],
      ['KB-002', '2026-09-02', '变更登记', '乙公司', 2.5],
    ]);
    const r = await readRecordList(good, 'kbqy.xlsx');
    if ('problems' in r) throw new Error(JSON.stringify(r.problems));
    expect(r.list.format).toBe('xlsx');
    expect(r.list.records.map((x) => [x.recordNo, x.date, x.handlingDays, x.place])).toEqual([
      ['KB-001', '2026-09-01', 1, '办件台账!2'],
      ['KB-002', '2026-09-02', 2.5, '办件台账!3'],
    ]);

    const bad = await workbook(
      [
        head,
        ['KB-001', new Date(Date.UTC(2026, 8, 1)), '企业设立登记', '甲公司', '三天'],
        ['KB-002', '2026-09-02', '变更登记', '乙公司', 2],
        ['KB-003', '2026-09-03', '注销登记', '丙公司', 1],
      ],
      (ws) => {
        // exceljs reads the merged cells' value in each; the merge itself is refused.
        ws.mergeCells('C3:C4');
        ws.getCell('D4').value = { error: '#REF!' } as ExcelJS.CellErrorValue;
      },
    );
    const refused = await readRecordList(bad, 'kbqy.xlsx');
    expect('problems' in refused && refused.problems).toEqual([
      expect.objectContaining({
        sheet: '办件台账',
        line: 2,
        column: 5,
        heading: '办理时长（工作日）',
        value: '三天',
      }),
      expect.objectContaining({
        sheet: '办件台账',
        line: 3,
        column: 3,
        value: 'C3:C4',
        zh: expect.stringMatching(/合并单元格/),
      }),
      expect.objectContaining({
        sheet: '办件台账',
        line: 4,
        column: 4,
        value: '#REF!',
        zh: expect.stringMatching(/错误值.*单元格 D4/),
      }),
    ]);
    const notZip = await readRecordList(Buffer.from('PK\u0003\u0004garbage'), 'kbqy.xlsx');
    expect('problems' in notZip && notZip.problems[0]!.message).toMatch(/not a zip file|damaged/);
  });

  it('takes dates as offices write them and refuses impossible ones', () => {
    expect(parseRecordDate('2026-9-1')).toBe('2026-09-01');
    expect(parseRecordDate('2026.09.01')).toBe('2026-09-01');
    expect(parseRecordDate('2026年9月1日')).toBe('2026-09-01');
    expect(parseRecordDate('2026-13-01')).toBeNull();
    expect(parseRecordDate('2025-02-29')).toBeNull();
    expect(parseRecordDate('01/09/2026')).toBeNull();
  });
});

describe('who may upload and who may draw', () => {
  it('lets a person of the unit or the bureau upload, for a unit of the indicator', async () => {
    const { definition: def } = await loadDefinitionFile('examples/quick-demo.yaml');
    const kbqy = def!.indicators.find((i) => i.code === 'kbqy')!;
    const lead = def!.units.find((u) => u.id === kbqy.leadUnit)!;
    const other = def!.units.find((u) => u.kind === 'department' && u.id !== kbqy.leadUnit)!;
    const bureau = def!.units.find((u) => u.kind === 'bureau')!;
    const coord = bureau.people.find((p) => p.role === 'coordinator')!;
    expect(() => checkRecordUpload(def!, lead.people[0]!.id, 'kbqy', lead.id)).not.toThrow();
    expect(() => checkRecordUpload(def!, coord.id, 'kbqy', lead.id)).not.toThrow();
    const refusal = (f: () => void) => {
      try {
        f();
      } catch (e) {
        if (e instanceof Refusal) return { en: e.en, zh: e.zh };
        throw e;
      }
      return null;
    };
    expect(refusal(() => checkRecordUpload(def!, other.people[0]!.id, 'kbqy', lead.id))).toEqual({
      en: expect.stringMatching(/may not upload the record list of/),
      zh: expect.stringMatching(/不能上传/),
    });
    expect(refusal(() => checkRecordUpload(def!, coord.id, 'nope', lead.id))?.en).toMatch(
      /unknown indicator "nope"/,
    );
    const outsider = def!.units.find(
      (u) =>
        u.kind === 'department' && u.id !== kbqy.leadUnit && !kbqy.cooperatingUnits.includes(u.id),
    );
    if (outsider)
      expect(refusal(() => checkRecordUpload(def!, coord.id, 'kbqy', outsider.id))?.zh).toMatch(
        /不是指标 kbqy 的牵头或配合单位/,
      );
    const evaluator = def!.units.find((u) => u.kind === 'evaluator')!.people[0]!.id;
    const official = { drawNo: 1, seed: 's1', drawnBy: evaluator };
    expect(() => checkDraw(def!, evaluator, null, undefined, { en: 'x', zh: 'x' })).not.toThrow();
    expect(
      refusal(() => checkDraw(def!, evaluator, official, 'why', { en: 'x', zh: 'x' }))?.en,
    ).toMatch(/draw #1 \(seed s1.*is the official one; drawing again needs the bureau's reason/);
    expect(
      refusal(() => checkDraw(def!, coord.id, official, '  ', { en: 'x', zh: 'x' }))?.zh,
    ).toMatch(/须写明理由/);
    expect(() =>
      checkDraw(def!, coord.id, official, '抽样口径有误', { en: 'x', zh: 'x' }),
    ).not.toThrow();
    expect(
      refusal(() => checkDraw(def!, lead.people[0]!.id, null, undefined, { en: 'x', zh: 'x' }))?.en,
    ).toMatch(/may not draw x/);
  });
});

describe('the record sampler', () => {
  const population: SampleRecordRef[] = [
    ...Array.from({ length: 40 }, (_, i) => ({
      unit: 'scjgj',
      recordNo: `S-${String(i).padStart(3, '0')}`,
    })),
    ...Array.from({ length: 10 }, (_, i) => ({
      unit: 'swj',
      recordNo: `W-${String(i).padStart(3, '0')}`,
    })),
  ];

  it('gives the same records for the same seed, in any input order, and others for another seed', () => {
    const a = drawRecordSample(population, { proportion: 0.2 }, 'seed-1', false);
    const b = drawRecordSample([...population].reverse(), { proportion: 0.2 }, 'seed-1', false);
    const c = drawRecordSample(population, { proportion: 0.2 }, 'seed-2', false);
    expect(a.size).toBe(10);
    expect(a.population).toBe(50);
    expect(b.records).toEqual(a.records);
    expect(c.records).not.toEqual(a.records);
    expect(new Set(a.records.map((r) => `${r.unit}/${r.recordNo}`)).size).toBe(10);
  });

  it('stratifies by unit: each unit drawn in proportion, at least one each by count', () => {
    const byProportion = drawRecordSample(population, { proportion: 0.1 }, 's', true);
    expect(byProportion.strata).toEqual([
      { unit: 'scjgj', population: 40, size: 4 },
      { unit: 'swj', population: 10, size: 1 },
    ]);
    const byCount = drawRecordSample(population, { count: 10 }, 's', true);
    expect(byCount.strata.map((s) => s.size)).toEqual([8, 2]);
    expect(byCount.size).toBe(10);
    const small = drawRecordSample(population, { count: 2 }, 's', true);
    expect(small.strata.map((s) => s.size)).toEqual([1, 1]);
    expect(drawRecordSample(population, { count: 10 }, 's', true).records).toEqual(byCount.records);
    // Unstratified, a small unit may be missed entirely; stratified, never.
    for (let i = 0; i < 20; i++)
      expect(
        drawRecordSample(population, { count: 2 }, `k${i}`, true).records.some(
          (r) => r.unit === 'swj',
        ),
      ).toBe(true);
  });

  it('refuses a proportion or count out of bounds, in both languages', () => {
    const refusal = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        if (e instanceof Refusal) return e;
        throw e;
      }
      return null;
    };
    expect(refusal(() => drawRecordSample(population, { proportion: 0 }, 's', false))?.en).toMatch(
      /proportion 0 is outside \(0, 1\]/,
    );
    expect(
      refusal(() => drawRecordSample(population, { proportion: 1.5 }, 's', false))?.zh,
    ).toMatch(/抽样比例 1.5 不在/);
    expect(refusal(() => drawRecordSample(population, { count: 51 }, 's', false))?.en).toMatch(
      /count 51 is more than the 50 records/,
    );
    expect(refusal(() => drawRecordSample(population, { count: 0 }, 's', false))?.en).toMatch(
      /not a whole number of at least 1/,
    );
    expect(refusal(() => drawRecordSample(population, { count: 2.5 }, 's', false))).not.toBeNull();
    expect(refusal(() => drawRecordSample(population, { count: 1 }, 's', true))?.en).toMatch(
      /at least one record of each of the 2 units/,
    );
    expect(drawRecordSample(population, { proportion: 1 }, 's', false).size).toBe(50);
    expect(drawRecordSample(population, { count: 50 }, 's', true).size).toBe(50);
  });
});

describe('the record list reader on any file (fixed seed, bounded runs)', () => {
  const cell = fc.oneof(
    fc.constantFrom('KB-1', 'KB-2', '2026-09-01', '2026-02-30', '设立登记', '甲公司', '3', '1.5'),
    fc.constantFrom('', ' ', '"', '""', ',', '\n', '\r\n', '1e3', '-1', '三', '=1+1', '\u0000'),
    fc.string({ maxLength: 8 }),
  );
  const file = fc.record({
    header: fc.boolean(),
    rows: fc.array(fc.array(cell, { minLength: 0, maxLength: 7 }), { maxLength: 12 }),
  });

  it('accepts a file or refuses it with every problem at a line and column inside it', async () => {
    await fc.assert(
      fc.asyncProperty(file, async ({ header, rows }) => {
        const lines = [header ? HEADER : '办件编号,日期', ...rows.map((r) => r.join(','))];
        const text = `${lines.join('\n')}\n`;
        const r = await read(text);
        const physical = text.split('\n').length;
        if ('list' in r) {
          expect(header).toBe(true);
          for (const rec of r.list.records) expect(rec.handlingDays).toBeGreaterThanOrEqual(0);
          return;
        }
        expect(r.problems.length).toBeGreaterThan(0);
        for (const p of r.problems) {
          expect(p.line).toBeGreaterThanOrEqual(1);
          expect(p.line).toBeLessThanOrEqual(physical);
          if (p.column !== undefined) expect(p.column).toBeGreaterThanOrEqual(1);
          expect(p.message.length).toBeGreaterThan(0);
          expect(p.zh.length).toBeGreaterThan(0);
        }
      }),
      { seed: 20261202, numRuns: 300 },
    );
  });
});
