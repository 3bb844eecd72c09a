// The questionnaire's number fields: values kept exactly or refused with the field named,
// full-width digits read as digits, the definition's bounds applied — the same rules for the
// CLI, the portal and the task workflow's validator (domain/fields.ts).
import { describe, expect, it } from 'vitest';
import type { QuestionnaireField } from '../../domain/definition.ts';
import {
  coerceFieldData,
  normaliseNumeral,
  parseNumeral,
  validateFieldData,
} from '../../domain/fields.ts';
import { fieldMessages } from '../../portal/i18n.ts';

const fields = [
  { key: 'procedures', label: '办理环节', type: 'integer', required: true, min: 0, max: 50 },
  { key: 'amount', label: '金额', type: 'number', required: false },
  { key: 'rate', label: '网办率', type: 'percent', required: false },
  { key: 'remark', label: '备注', type: 'text', required: false },
] as QuestionnaireField[];

const check = (data: Record<string, unknown>) =>
  validateFieldData(fields, coerceFieldData(fields, data));

describe('numbers beyond what can be kept exactly', () => {
  it('refuses a 20-digit integer typed as text, naming the field, instead of storing 1e20', () => {
    const data = coerceFieldData(fields, { procedures: '3', amount: '100000000000000000000' });
    expect(data.amount).toBe('100000000000000000000');
    const problems = validateFieldData(fields, data);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.field).toBe('amount');
    expect(problems[0]!.message).toMatch(/^金额 \(amount\) is too large to be kept exactly/);
    expect(problems[0]!.message).toContain('100000000000000000000');
    expect(fieldMessages(fields, problems, 'zh').amount).toBe(
      '金额数值过大，无法精确保存（绝对值不得超过 9007199254740991；填写的是 100000000000000000000）',
    );
  });

  it('refuses a 20-digit integer sent as a JSON number (the API and the workflow validator)', () => {
    const problems = validateFieldData(fields, { procedures: 3, amount: 1e20 });
    expect(problems.map((p) => p.field)).toEqual(['amount']);
    expect(problems[0]!.message).toContain('too large to be kept exactly');
    // 2^53 itself is past the edge; 2^53 − 1 is kept.
    expect(validateFieldData(fields, { procedures: 3, amount: 2 ** 53 })).toHaveLength(1);
    expect(validateFieldData(fields, { procedures: 3, amount: 2 ** 53 - 1 })).toEqual([]);
    expect(validateFieldData(fields, { procedures: 3, amount: -(2 ** 53) })).toHaveLength(1);
  });

  it('refuses a decimal with more significant digits than a number keeps', () => {
    const problems = check({ procedures: '3', amount: '0.12345678901234567' });
    expect(problems.map((p) => p.field)).toEqual(['amount']);
    expect(problems[0]!.message).toContain('more digits than can be kept exactly');
    expect(check({ procedures: '3', amount: '123456.789' })).toEqual([]);
    expect(coerceFieldData(fields, { amount: '9007199254740991' }).amount).toBe(9007199254740991);
  });

  it("still applies the definition's bounds and the whole-number rule", () => {
    expect(check({ procedures: '51' })[0]!.message).toBe(
      '办理环节 (procedures) must be at most 50, got 51',
    );
    expect(check({ procedures: '－1' })[0]!.message).toBe(
      '办理环节 (procedures) must be at least 0, got -1',
    );
    expect(check({ procedures: '2.5' })[0]!.message).toContain('whole number');
    expect(check({ procedures: '3', rate: '１２０％' })[0]!.message).toContain('percentage');
  });
});

describe('full-width digits typed by a clerk', () => {
  it('reads full-width digits, point, minus and percent sign as a number', () => {
    const data = coerceFieldData(fields, {
      procedures: '１２',
      amount: '－３．５',
      rate: '９８．５％',
      remark: '共１２项',
    });
    expect(data).toEqual({ procedures: 12, amount: -3.5, rate: 98.5, remark: '共１２项' });
    expect(validateFieldData(fields, data)).toEqual([]);
  });

  it('rewrites only the numeral: text fields keep their full-width characters', () => {
    expect(normaliseNumeral('　１２３　')).toBe('123');
    expect(parseNumeral('１２３')).toEqual({ value: 123 });
    expect(parseNumeral('十二')).toBeNull();
    expect(check({ procedures: '十二' })[0]!.message).toContain('must be a number');
  });
});
