// The assessment (考核) policy in the definition and the workbook, and the report's sheets: the
// defaults when the section is absent, mistakes located by path or by sheet, row and column,
// and every entry and adjustment shown with its rule, task, event and reason.
import { readFileSync } from 'node:fs';
import ExcelJS from 'exceljs';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { assessmentSheets, type AssessmentReport } from '../../client/commands/assessment.ts';
import { loadDefinitionText } from '../../client/definition-file.ts';
import { csvText } from '../../client/export.ts';
import { loadWorkbookBytes, SHEETS, templateWorkbook } from '../../client/workbook.ts';
import { assessmentPolicyOf, assessmentPolicySchema } from '../../domain/assessment.ts';
import { validateDefinition } from '../../domain/validate.ts';

const quick = () => parseYaml(readFileSync('examples/quick-demo.yaml', 'utf8'));

describe('the assessment policy of a definition', () => {
  it('takes the defaults when the section is absent, and fills in what a partial one leaves out', () => {
    const plain = validateDefinition(quick());
    expect(plain.valid).toBe(true);
    expect(plain.definition!.assessment).toBeUndefined();
    expect(assessmentPolicyOf(plain.definition!)).toEqual(assessmentPolicySchema.parse({}));
    const partial = validateDefinition({ ...quick(), assessment: { cap: 12, perReturn: 1 } });
    expect(partial.errors).toEqual([]);
    expect(assessmentPolicyOf(partial.definition!)).toMatchObject({
      base: 100,
      cap: 12,
      perReturn: 1,
      rankBonuses: [
        { rankAtMost: 3, points: 3 },
        { rankAtMost: 10, points: 1 },
      ],
    });
  });

  it('locates each mistake of the section by its path', () => {
    const r = validateDefinition({
      ...quick(),
      assessment: {
        cap: -1,
        perLateDay: 1,
        rankBonuses: [
          { rankAtMost: 3, points: 1 },
          { rankAtMost: 10, points: 2 },
          { rankAtMost: 3, points: 1 },
        ],
      },
    });
    expect(r.valid).toBe(false);
    expect(r.errors.map((e) => `${e.path} | ${e.message}`)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^assessment\.cap \| .*>=0/),
        'assessment.perLateDay | unknown key "perLateDay"',
        expect.stringMatching(
          /^assessment\.rankBonuses\[1\]\.points \| the band rank ≤ 10 gives 2 points, more than the narrower band rank ≤ 3/,
        ),
        'assessment.rankBonuses[2].rankAtMost | rank band 3 is already given at rankBonuses[0]',
      ]),
    );
  });
});

describe('the assessment policy in the workbook', () => {
  const county = loadDefinitionText(
    readFileSync('examples/county-2026.yaml', 'utf8'),
    'examples/county-2026.yaml',
  );

  async function withPolicy(values: Record<string, ExcelJS.CellValue>): Promise<Buffer> {
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await templateWorkbook(county.definition)) as unknown as ArrayBuffer);
    const ws = wb.getWorksheet(SHEETS.policy)!;
    ws.eachRow((row) => {
      const label = String(row.getCell(1).value);
      if (label in values) row.getCell(2).value = values[label]!;
    });
    return Buffer.from(await wb.xlsx.writeBuffer());
  }

  it('writes the section as rows of the policy sheet and reads them back', async () => {
    expect(county.definition!.assessment).toMatchObject({ cap: 30, perDiscrepancy: 5 });
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await templateWorkbook(county.definition)) as unknown as ArrayBuffer);
    const rows: unknown[] = [];
    wb.getWorksheet(SHEETS.policy)!.eachRow((r) =>
      rows.push([r.getCell(1).value, r.getCell(2).value]),
    );
    expect(rows).toContainEqual(['名次加分', '前3名加3分、前10名加1分']);
    expect(rows).toContainEqual(['扣分上限', 30]);
    const back = await loadWorkbookBytes(
      await withPolicy({ 名次加分: '前5名加2分、前20名加1分', 扣分上限: '25' }),
      'x.xlsx',
    );
    expect(back.errors).toEqual([]);
    expect(back.definition!.assessment).toMatchObject({
      cap: 25,
      rankBonuses: [
        { rankAtMost: 5, points: 2 },
        { rankAtMost: 20, points: 1 },
      ],
    });
    const none = await loadWorkbookBytes(await withPolicy({ 名次加分: '无' }), 'x.xlsx');
    expect(none.definition!.assessment!.rankBonuses).toEqual([]);
  });

  it('locates a mistaken cell by sheet, row and column', async () => {
    const r = await loadWorkbookBytes(
      await withPolicy({ 名次加分: '前五名', 每次退回扣分: '半分', 扣分上限: -3 }),
      'bad.xlsx',
    );
    expect(r.valid).toBe(false);
    const of = (label: string) =>
      r.errors.find((e) => e.sheet === SHEETS.policy && e.column === `值（${label}）`);
    expect(of('名次加分')?.message).toMatch(/不是名次加分，应写作 前3名加3分/);
    expect(of('每次退回扣分')?.message).toMatch(/应为数字/);
    expect(of('扣分上限')?.message).toMatch(/>=0/);
    for (const label of ['名次加分', '每次退回扣分', '扣分上限'])
      expect(of(label)?.row).toBeGreaterThan(1);
  });
});

describe('the assessment report as sheets', () => {
  const report: AssessmentReport = {
    campaignId: 'c',
    name: '演示',
    asOf: '2026-10-12 12:00',
    policy: assessmentPolicySchema.parse({ cap: 3 }),
    units: [
      {
        unitId: 'zjj',
        unitName: '县住建局',
        base: 100,
        deductions: 3,
        bonuses: 1,
        computed: 98,
        adjustments: [
          { no: 1, points: -2, reason: '=HYPERLINK("x")', by: 'spj-coord', at: '2026-10-12 11:00' },
        ],
        adjusted: -2,
        total: 96,
        entries: [
          {
            rule: 'late',
            points: -1,
            taskId: 'c/kbqy/questionnaire/zjj',
            eventSeq: 9,
            eventType: 'done',
            indicator: 'kbqy',
            detail: '2 working day(s) late',
          },
          {
            rule: 'escalation',
            points: -3,
            taskId: 'c/kbqy/questionnaire/zjj',
            eventSeq: 6,
            eventType: 'escalated',
            indicator: 'kbqy',
            detail: 'escalation level 3 reached',
          },
          {
            rule: 'discrepancy',
            points: -5,
            eventSeq: 2,
            eventType: 'verification',
            indicator: 'jzxk',
            detail: 'verified item "ENT-7" discrepant',
          },
          { rule: 'rankBonus', points: 1, indicator: 'jzxk', detail: 'rank 8 (band: rank ≤ 10)' },
          { rule: 'cap', points: 6, detail: 'deductions capped at 3 (9 computed)' },
        ],
      },
    ],
  };

  it('gives the figures and, beside them, the adjustments with their reasons', () => {
    const [summary] = assessmentSheets(report, 'zh');
    expect(summary!.columns.map((c) => c.header)).toEqual([
      '单位',
      '基础分',
      '扣分',
      '扣分上限',
      '加分',
      '计算得分',
      '调整（理由）',
      '最终得分',
    ]);
    expect(summary!.rows).toEqual([
      ['县住建局 (zjj)', 100, 3, 3, 1, 98, '-2（=HYPERLINK("x")）', 96],
    ]);
    expect(summary!.fills).toEqual(['FFF8D7DA']);
  });

  it('lists every entry with its rule, task and event, in Chinese or English', () => {
    const [, zh] = assessmentSheets(report, 'zh');
    expect(zh!.rows.map((r) => r.slice(1))).toEqual([
      ['逾期', -1, 'kbqy', 'c/kbqy/questionnaire/zjj', '#9 done', '逾期 2 个工作日'],
      ['督办', -3, 'kbqy', 'c/kbqy/questionnaire/zjj', '#6 escalated', '督办升至第 3 级'],
      ['核验不实', -5, 'jzxk', null, '核验 jzxk#2', '核验事项「ENT-7」不实'],
      ['名次加分', 1, 'jzxk', null, null, '排名第 8（前 10 名档）'],
      ['扣分封顶', 6, null, null, null, '扣分以 3 分封顶（计算扣分 9）'],
      ['审批局调整', -2, null, null, '调整 #1', '=HYPERLINK("x")（spj-coord，2026-10-12 11:00）'],
    ]);
    const [, en] = assessmentSheets(report, 'en');
    expect(en!.columns.map((c) => c.header)).toEqual([
      'Unit',
      'Rule',
      'Points',
      'Indicator',
      'Task',
      'Event',
      'Detail',
    ]);
    expect(en!.rows[2]!.slice(1, 6)).toEqual([
      'discrepancy',
      -5,
      'jzxk',
      null,
      'verification jzxk#2',
    ]);
  });

  it('writes CSV through the shared escaping: a reason that looks like a formula stays text', () => {
    const csv = csvText(assessmentSheets(report, 'en'));
    expect(csv).toContain(`"'=HYPERLINK(""x"") (spj-coord, 2026-10-12 11:00)"`);
    expect(csv).not.toMatch(/(^|,)=HYPERLINK/m);
  });
});
