// The enterprise questionnaire followed: the roll, the response rates per indicator and per
// department, the answered list's refusals (each at its line and column, in a CSV and in a
// workbook) and the chase task's text.
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { parseCsvTable, withCreditCheck, type CsvTable } from '../../domain/imports.ts';
import {
  chaseTaskText,
  checkAnswerHeader,
  checkAnswerRows,
  checkRollColumns,
  nonRespondentsByUnit,
  parseDay,
  percent,
  questionnaireRoll,
  responseRates,
} from '../../domain/questionnaire.ts';
import { parseXlsxTable } from '../../client/table-file.ts';
import { BusinessCalendar } from '../../domain/calendar.ts';
import { planCampaign } from '../../domain/campaign.ts';
import { raisedTask } from '../../domain/raise-task.ts';
import { definitionFrom } from '../helpers/moved-definition.ts';

const A = withCreditCheck('91340523MA2N0XYP1');
const B = withCreditCheck('91340523MA2N0XYP2');
const C = withCreditCheck('91340523MA2N0XYP3');
const D = withCreditCheck('91340523MA2N0XYP4'); // on the list, not sampled

const indicators = [
  { code: 'kbqy', leadUnit: 'scjgj' },
  { code: 'ns', leadUnit: 'swj' },
  { code: 'jzxk', leadUnit: 'zjj' },
];
const enterprises = [
  { creditCode: A, name: '甲公司', supervisorUnit: null, questionnaires: null },
  { creditCode: B, name: '乙公司', supervisorUnit: 'zjj', questionnaires: ['kbqy', 'jzxk'] },
  { creditCode: C, name: '丙公司', supervisorUnit: null, questionnaires: ['ns'] },
  { creditCode: D, name: '丁公司', supervisorUnit: null, questionnaires: null },
];
const roll = questionnaireRoll([C, A, B], enterprises, indicators);

async function csv(text: string): Promise<CsvTable> {
  const r = await parseCsvTable(Buffer.from(text, 'utf8'), 'answers.csv');
  if ('problems' in r) throw new Error(JSON.stringify(r.problems));
  return r.table;
}

describe('the questionnaire roll and its response rates', () => {
  it('asks each sampled enterprise the questionnaires it names, followed by its supervising department or the lead unit', () => {
    expect(roll.map((e) => [e.name, e.indicator, e.unit])).toEqual([
      ['甲公司', 'kbqy', 'scjgj'],
      ['甲公司', 'ns', 'swj'],
      ['甲公司', 'jzxk', 'zjj'],
      ['乙公司', 'kbqy', 'zjj'],
      ['乙公司', 'jzxk', 'zjj'],
      ['丙公司', 'ns', 'swj'],
    ]);
  });

  it('counts the latest word on each questionnaire per indicator and per department', () => {
    const answers = [
      { creditCode: A, indicator: 'kbqy', answered: true },
      { creditCode: A, indicator: 'ns', answered: false }, // corrected: not answered
      { creditCode: B, indicator: 'jzxk', answered: true },
      { creditCode: C, indicator: 'ns', answered: true },
      { creditCode: D, indicator: 'kbqy', answered: true }, // not sampled: counts nowhere
    ];
    const r = responseRates(roll, answers, ['kbqy', 'ns', 'jzxk']);
    expect(r.total).toEqual({ expected: 6, answered: 3, rate: 0.5 });
    expect(r.byIndicator).toEqual([
      { code: 'kbqy', expected: 2, answered: 1, rate: 0.5 },
      { code: 'ns', expected: 2, answered: 1, rate: 0.5 },
      { code: 'jzxk', expected: 2, answered: 1, rate: 0.5 },
    ]);
    expect(r.byUnit).toEqual([
      { unit: 'scjgj', expected: 1, answered: 1, rate: 1 },
      { unit: 'swj', expected: 2, answered: 1, rate: 0.5 },
      { unit: 'zjj', expected: 3, answered: 1, rate: 0.3333 },
    ]);
    expect(percent(r.byUnit[2]!)).toBe('33.3%');
    const missing = nonRespondentsByUnit(roll, answers);
    expect([...missing.keys()]).toEqual(['swj', 'zjj']);
    expect(missing.get('zjj')).toEqual([
      { creditCode: A, name: '甲公司', indicators: ['jzxk'] },
      { creditCode: B, name: '乙公司', indicators: ['kbqy'] },
    ]);
  });

  it('gives no rate where nothing is expected', () => {
    const r = responseRates([], [], ['kbqy']);
    expect(r.total).toEqual({ expected: 0, answered: 0, rate: null });
    expect(percent(r.total)).toBe('—');
  });
});

describe('the answered list', () => {
  const ctx = {
    enterprises: new Map(enterprises.map((e) => [e.creditCode, e.name])),
    indicatorCodes: ['kbqy', 'ns', 'jzxk'],
  };

  it('is refused without a credit-code column', () => {
    expect(checkAnswerHeader(['企业名称', '指标代码'])).toMatch(/统一社会信用代码/);
    expect(checkAnswerHeader(['统一社会信用代码'])).toBeNull();
  });

  it('locates every bad line by line and column, and keeps the good ones', async () => {
    const bad = `${A.slice(0, 17)}X`;
    const t = await csv(
      [
        '统一社会信用代码,企业名称,指标代码,填报日期',
        `${A},甲公司,kbqy,2026-11-03`,
        `${bad},甲公司,,`,
        `${D},丁公司,,`,
        `${B},乙公司,ns,`,
        `${C},丙公司,zzz,`,
        `${C},丙公司有限,,`,
        `${A},甲公司,kbqy,`,
        `${B},乙公司,,2026-02-30`,
        `${C},,,2026年11月4日`,
      ].join('\n'),
    );
    const { rows, rejected } = checkAnswerRows(t.rows, t.header, roll, ctx);
    expect(rejected.map((p) => [p.line, p.column])).toEqual([
      [3, 1],
      [4, 1],
      [5, 3],
      [6, 3],
      [7, 2],
      [8, 1],
      [9, 4],
    ]);
    expect(rejected[0]!.message).toMatch(/check character/);
    expect(rejected[1]!.message).toMatch(/was not sampled/);
    expect(rejected[2]!.message).toMatch(
      /not asked the questionnaire of ns \(it answers kbqy, jzxk\)/,
    );
    expect(rejected[3]!.message).toMatch(/unknown indicator "zzz"/);
    expect(rejected[4]!.message).toMatch(/not the listed name/);
    expect(rejected[5]!.message).toMatch(/already appears on line 2/);
    expect(rejected[6]!.message).toMatch(/填报日期 "2026-02-30" is not a date/);
    expect(rows).toEqual([
      { creditCode: A, indicator: 'kbqy', answeredOn: '2026-11-03' },
      { creditCode: C, indicator: null, answeredOn: '2026-11-04' },
    ]);
  });

  it('reads a workbook and locates a bad cell by its sheet row and column', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('已答卷');
    ws.addRow(['统一社会信用代码', '指标代码', '填报日期']);
    ws.addRow([A, 'kbqy', new Date(Date.UTC(2026, 10, 3))]);
    ws.addRow([D, '', '']);
    const bytes = Buffer.from(await wb.xlsx.writeBuffer());
    const read = await parseXlsxTable(bytes, 'answers.xlsx');
    if ('problems' in read) throw new Error(JSON.stringify(read.problems));
    expect(read.table.sheet).toBe('已答卷');
    const { rows, rejected } = checkAnswerRows(read.table.rows, read.table.header, roll, ctx);
    expect(rows).toEqual([{ creditCode: A, indicator: 'kbqy', answeredOn: '2026-11-03' }]);
    expect(rejected).toEqual([
      { line: 3, column: 1, message: expect.stringMatching(/was not sampled/) },
    ]);
  });

  it('refuses a workbook with an error value at its cell, and a file that is not a workbook', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('名单');
    ws.addRow(['统一社会信用代码']);
    ws.addRow([A]);
    ws.getCell('A3').value = { error: '#REF!' } as ExcelJS.CellErrorValue;
    const read = await parseXlsxTable(Buffer.from(await wb.xlsx.writeBuffer()), 'answers.xlsx');
    expect(read).toEqual({
      sheet: '名单',
      problems: [{ line: 3, column: 1, message: expect.stringMatching(/#REF!/) }],
    });
    const notZip = await parseXlsxTable(Buffer.from('统一社会信用代码\n'), 'answers.xlsx');
    expect('problems' in notZip && notZip.problems[0]!.message).toMatch(/not a zip file/);
  });

  it('reads days as people type them', () => {
    expect(parseDay('2026/11/3')).toBe('2026-11-03');
    expect(parseDay('2026年11月3日')).toBe('2026-11-03');
    expect(parseDay('2026-13-01')).toBeNull();
    expect(parseDay('11/3')).toBeNull();
  });
});

describe("the enterprise list's questionnaire columns", () => {
  it('takes a department by id or name and refuses an unknown unit, a non-department or an unknown indicator at its cell', async () => {
    const t = await csv(
      [
        '统一社会信用代码,企业名称,主管部门,问卷指标',
        `${A},甲公司,县住房和城乡建设局,kbqy、jzxk`,
        `${B},乙公司,swj,`,
        `${C},丙公司,县交通局,`,
        `${D},丁公司,spj,kbqy`,
        `${A},甲公司,,kbqy，xyz`,
      ].join('\n'),
    );
    const r = checkRollColumns(t.rows, t.header, {
      units: [
        { id: 'spj', name: '县审批局', kind: 'bureau' },
        { id: 'swj', name: '县税务局', kind: 'department' },
        { id: 'zjj', name: '县住房和城乡建设局', kind: 'department' },
      ],
      indicatorCodes: ['kbqy', 'ns', 'jzxk'],
    });
    expect(r.values.get(2)).toEqual({ supervisorUnit: 'zjj', questionnaires: ['kbqy', 'jzxk'] });
    expect(r.values.get(3)).toEqual({ supervisorUnit: 'swj', questionnaires: null });
    expect(r.rejected.map((p) => [p.line, p.column])).toEqual([
      [4, 3],
      [5, 3],
      [6, 4],
    ]);
    expect(r.rejected[1]!.message).toMatch(/bureau unit, not a department/);
    expect(r.rejected[2]!.message).toMatch(/unknown indicator\(s\) "xyz"/);
  });
});

describe('the chase task text', () => {
  it('names the enterprises not answered in its title, within 200 characters, and lists all of them with their questionnaires', () => {
    const many = Array.from({ length: 30 }, (_, i) => ({
      creditCode: withCreditCheck(`91340523MA2N0X${String(i).padStart(3, '0')}`),
      name: `第${i + 1}号建筑工程有限公司`,
      indicators: ['jzxk'],
    }));
    const { title, instructions } = chaseTaskText(
      '县住建局',
      many,
      new Map([['jzxk', '办理建筑许可']]),
    );
    expect([...title].length).toBeLessThanOrEqual(200);
    expect(title).toMatch(
      /^协助企业填报问卷：县住建局主管的 30 家抽样企业未答卷——第1号建筑工程有限公司、/,
    );
    expect(title).toMatch(/等 30 家$/);
    for (const e of many)
      expect(instructions).toContain(`${e.name}（${e.creditCode}）：办理建筑许可`);
    const one = chaseTaskText('县税务局', [many[0]!], new Map());
    expect(one.title).toBe(
      '协助企业填报问卷：县税务局主管的 1 家抽样企业未答卷——第1号建筑工程有限公司',
    );
  });
});

describe('a chase task raised through the campaign', () => {
  const { def, calendar } = definitionFrom('2026-11-02', 'qn-unit');
  const plan = planCampaign(def, calendar, new BusinessCalendar(calendar));
  const now = Date.parse('2026-11-02T10:00:00+08:00');
  const req = {
    requestId: 'r1',
    actor: 'spj-coord',
    unit: 'zjj',
    assignee: 'zjj-staff1',
    title: '协助企业填报问卷',
    due: '2026-11-04T18:00',
    kind: 'enterprise-assist',
    key: 'qn-abc',
    review: false,
    note: true,
  };

  it('is of its own kind and carries the full list as its instructions', () => {
    const task = raisedTask(plan, { ...req, instructions: '1. 乙建筑有限公司' }, now);
    expect(task.taskId).toBe('qn-unit/_/enterprise-assist/zjj/qn-abc');
    expect(task.kind).toBe('enterprise-assist');
    expect(task.instructions).toBe('1. 乙建筑有限公司');
    expect(task.review).toBe(false);
    expect('instructions' in raisedTask(plan, req, now)).toBe(false);
  });

  it('refuses instructions longer than 4000 characters', () => {
    expect(() => raisedTask(plan, { ...req, instructions: '企'.repeat(4001) }, now)).toThrow(
      /instructions are longer than 4000 characters/,
    );
  });
});
