// The update request schemas shared by the senders and the workflows (domain/payloads.ts): a
// request of the right shape passes, one of the wrong shape is refused with its field named in
// English and Chinese.
import { describe, expect, it } from 'vitest';
import { checkPayload, payloadProblem, UPDATE_PAYLOADS } from '../../domain/payloads.ts';
import { Refusal } from '../../domain/refusal.ts';
import * as messages from '../../domain/messages.ts';

const base = { requestId: 'r-1', actor: 'spj-coord' };
const good: Record<string, unknown> = {
  submit: { ...base, note: '已填报', data: { procedures: 3, ok: true }, evidence: ['a.pdf'] },
  approve: { ...base },
  return: { ...base, reason: '请补充' },
  extend: { ...base, until: 1_790_000_000_000, reason: '材料未齐' },
  reassign: { ...base, to: 'scjgj-staff2' },
  cancel: { ...base, reason: '重复下达' },
  movePhase: { ...base, phase: 'training', action: 'close', reason: '已完成' },
  cancelCampaign: { ...base, reason: '方案调整' },
  raiseTask: { ...base, unit: 'zjj', assignee: 'zjj-staff1', title: '补报', due: '2026-10-20' },
  recordResults: { ...base, results: [{ code: 'kbqy', score: 72, rank: 4 }] },
  rectifyClosed: { ...base, code: 'kbqy', reason: '评价结果靠后' },
  requestEvidence: { ...base, unit: 'scjgj', what: '办件记录' },
  verify: { ...base, item: '办件记录', outcome: 'confirmed' },
  startRectification: { ...base, reason: '核验不符' },
  addMeasure: {
    ...base,
    problem: 1,
    measure: '并联办理',
    unit: 'swj',
    person: 'swj-staff1',
    due: '2026-11-30',
    reason: '补充措施',
  },
};

describe('update request schemas', () => {
  it('cover every update the workflows define', () => {
    const updates = (Object.values(messages) as unknown[])
      .filter((m): m is { type: string; name: string } & object => {
        const d = m as { type?: unknown; name?: unknown };
        return d?.type === 'update' && typeof d.name === 'string';
      })
      .map((d) => d.name)
      .sort();
    expect(updates.length).toBeGreaterThan(10);
    expect(Object.keys(UPDATE_PAYLOADS).sort()).toEqual(updates);
    expect(Object.keys(good).sort()).toEqual(updates);
  });

  it('pass a request of the right shape', () => {
    for (const [name, req] of Object.entries(good))
      expect(payloadProblem(name, req), name).toBeNull();
  });

  it('refuse one of the wrong shape, naming the field in both languages', () => {
    expect(payloadProblem('submit', { ...base, requestId: 5 })).toEqual({
      en: 'submit: requestId must be string',
      zh: '请求格式有误（submit）：字段“requestId”类型不对（应为 string）',
    });
    expect(payloadProblem('submit', { actor: 'x' })?.en).toBe('submit: requestId is missing');
    expect(payloadProblem('submit', { ...base, evidence: 'a.pdf' })?.en).toMatch(/evidence must be array/); // prettier-ignore
    expect(payloadProblem('return', { ...base, reason: 'x'.repeat(10_001) })?.en).toMatch(/reason is too long/); // prettier-ignore
    expect(payloadProblem('verify', { ...base, item: 'i', outcome: 'maybe' })?.zh).toMatch(/outcome/); // prettier-ignore
    expect(payloadProblem('recordResults', { ...base, results: [{ code: 'a', score: '7', rank: 1 }] })?.en).toMatch(/results\.0\.score/); // prettier-ignore
    expect(payloadProblem('approve', null)?.en).toBe('approve: (the request) must be object');
    expect(() => checkPayload('cancel', { ...base })).toThrow(Refusal);
  });
});
