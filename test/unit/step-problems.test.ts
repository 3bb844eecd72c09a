// A rectification step's data refused in words people read, in Chinese and English: the field
// named as the step's form names it, what is wrong and what would do; never schema output.
import { describe, expect, it } from 'vitest';
import { checkStepProblems, type StepContext } from '../../domain/rectification.ts';

const ctx: StepContext = {
  problemCount: 2,
  roster: {
    units: [
      { id: 'scjgj', name: '县市场监督管理局', kind: 'department' },
      { id: 'dsf', name: '第三方评估机构', kind: 'evaluator' },
    ],
    people: [{ id: 'scjgj-staff1', name: '刘填报员', unitId: 'scjgj', role: 'staff' }],
  },
  timeZone: 'Asia/Shanghai',
  now: Date.UTC(2026, 9, 1),
};

describe('step data problems', () => {
  it('name the field and say what is missing, in both languages', () => {
    expect(checkStepProblems('rectify-problems', { problems: [{ finding: '第3条' }] }, ctx)).toEqual([
      { en: 'problems, #1, description: fill it in (text)', zh: '请填写问题清单第 1 条的“问题描述”（文字）' },
    ]); // prettier-ignore
    expect(checkStepProblems('rectify-problems', {}, ctx)).toEqual([
      { en: 'problems: give a list', zh: '问题清单应为逐条列出的清单' },
    ]);
  });

  it('say which problem still lacks its cause', () => {
    expect(checkStepProblems('rectify-causes', { causes: [{ problem: 1, cause: '未推行' }] }, ctx)).toEqual([
      { en: 'problem 2 has no cause', zh: '第 2 个问题还没有原因分析：每个问题都要有' },
    ]); // prettier-ignore
  });

  it('check a measure against the roster and the clock, naming people and units by name', () => {
    const got = checkStepProblems(
      'rectify-measures',
      { measures: [{ problem: 1, measure: '并联办理', unit: 'dsf', person: 'scjgj-staff1', due: '2026-09-01T10:00' }, { problem: 2, measure: '专窗', unit: 'scjgj', person: 'scjgj-staff1', due: 'soon' }] }, // prettier-ignore
      ctx,
    );
    expect(got.map((p) => p.zh)).toEqual([
      '整改措施第 1 条：“第三方评估机构”不是职能部门，不能承担整改措施',
      '整改措施第 1 条：刘填报员不属于“第三方评估机构”，责任人须是责任单位的人员',
      '整改措施第 1 条：完成时限 2026-09-01T10:00 已经过去（今天是 2026-10-01）：请给出尚未到来的期限',
      '整改措施第 2 条：完成时限“soon”不是日期或时间（如 2026-11-30 或 2026-11-30T18:00）',
    ]);
    for (const p of got) expect(`${p.en} ${p.zh}`).not.toMatch(/Invalid input|expected|received/);
  });

  it('accept good data', () => {
    expect(
      checkStepProblems('rectify-problems', { problems: [{ finding: '第3条', description: '线下提交' }] }, ctx), // prettier-ignore
    ).toEqual([]);
  });
});
