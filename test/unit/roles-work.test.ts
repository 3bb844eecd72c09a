// The pure parts the CLI and the portal share for the bureau's and the evaluator's work: the
// enterprise list checked against the campaign (a line's own problems and its 主管部门's in one
// entry), a phase's new end read from what a person wrote, a site visit's item, and the CLI's
// refusals said for a person at the portal (no options, people by their names).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkEnterpriseList, phaseEndOf, visitItem } from '../../client/campaign-data.ts';
import { loadDefinitionText } from '../../client/definition-file.ts';
import { parseCsvTable, withCreditCheck } from '../../domain/imports.ts';
import { formatIsoOffset } from '../../domain/time.ts';
import { forPortal } from '../../portal/roles-work.ts';

const demo = loadDefinitionText(
  readFileSync('examples/quick-demo.yaml', 'utf8'),
  'examples/quick-demo.yaml',
).definition!;

describe('the enterprise list checked against the campaign', () => {
  it('joins a line’s own problem and its 主管部门’s into one entry, by line, and keeps the good rows’ columns', async () => {
    const a = withCreditCheck('91340000000000001');
    const b = withCreditCheck('91340000000000002');
    const csv = `统一社会信用代码,企业名称,主管部门\n${a},甲企业,swj\n12345,,不存在的局\n${b},乙企业,县税务局\n`;
    const parsed = await parseCsvTable(Buffer.from(csv), 'list.csv');
    if (!('table' in parsed)) throw new Error('not parsed');
    const list = checkEnterpriseList(parsed.table.rows, parsed.table.header, demo);
    expect(list.rejected.map((r) => r.line)).toEqual([3]);
    expect(list.rejected[0]!.message).toContain('; 主管部门 "不存在的局" is not a unit');
    expect(list.good.map((g) => g.creditCode)).toEqual([a, b]);
    expect(list.roll.get(a)?.supervisor_unit).toBe('swj');
    expect(list.roll.get(b)?.supervisor_unit).toBe('swj');
  });
});

describe('a phase’s new end as written', () => {
  it('takes a local date-time in the campaign’s zone, and a bare date as the end of that working day', () => {
    const tz = 'Asia/Shanghai';
    expect(formatIsoOffset(phaseEndOf('2026-10-20T09:30', tz, demo)!, tz)).toBe(
      '2026-10-20T09:30:00+08:00',
    );
    expect(formatIsoOffset(phaseEndOf('2026-10-20', tz, demo)!, tz)).toBe(
      `2026-10-20T${demo.calendar.workdayEnd}:00+08:00`,
    );
    expect(phaseEndOf('next week', tz, demo)).toBeUndefined();
  });
});

describe('what a site visit is recorded as', () => {
  it('names the kind in Chinese, the day and the place', () => {
    expect(visitItem('interview', '2026-11-04', '企业负责人')).toBe('访谈 2026-11-04 企业负责人');
  });
});

describe('the CLI’s refusals at the portal', () => {
  it('says no command-line option or command, and names people instead of their ids', () => {
    const names = new Map([['dsf-eval', '王核验员']]);
    expect(
      forPortal(
        '企业抽样已经抽取，第 1 次抽样（种子 s，dsf-eval 抽取）为正式样本；重新抽样须由审批局说明理由（审批局统筹协调人加 --reason 执行）',
        names,
      ),
    ).toBe(
      '企业抽样已经抽取，第 1 次抽样（种子 s，王核验员 抽取）为正式样本；重新抽样须由审批局说明理由（由审批局在门户写明理由后重新抽样）',
    );
    expect(forPortal('相同的种子得到相同的结果：请换一个种子（--seed）或不指定')).toBe(
      '相同的种子得到相同的结果：请换一个种子或不指定',
    );
    expect(forPortal('考核“x”还没有企业全量名单：请先用 campaign enterprises import 导入')).toBe(
      '考核“x”还没有企业全量名单：请先由审批局导入',
    );
  });
});
