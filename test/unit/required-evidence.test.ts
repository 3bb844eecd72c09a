// Evidence a questionnaire must carry: the definition's list (应提供：政策文件、办件记录) or the
// task's requirement makes at least one file necessary, refused in words naming what to give.
import { describe, expect, it } from 'vitest';
import { checkRequiredEvidence, Refusal, requiresEvidence } from '../../domain/task.ts';

const refusal = (f: () => void): Refusal => {
  try {
    f();
  } catch (e) {
    if (e instanceof Refusal) return e;
    throw e;
  }
  throw new Error('expected a refusal');
};

describe('required evidence', () => {
  it('is required when the definition lists what to give, and the refusal names it', () => {
    expect(requiresEvidence(['政策文件', '办件记录'])).toBe(true);
    expect(requiresEvidence([])).toBe(false);
    expect(requiresEvidence(['  '])).toBe(false);
    const r = refusal(() => checkRequiredEvidence(false, 0, ['政策文件', '办件记录']));
    expect(r.zh).toBe(
      '该事项需要印证资料（应提供：政策文件、办件记录）：请先上传至少一份佐证材料，再提交',
    );
    expect(r.message).toContain('expected: 政策文件, 办件记录');
  });

  it("is required by the task's own requirement, and satisfied by one file", () => {
    expect(refusal(() => checkRequiredEvidence(true, 0)).zh).toBe(
      '该事项需要印证资料：请先上传至少一份佐证材料，再提交',
    );
    expect(() => checkRequiredEvidence(true, 1, ['政策文件'])).not.toThrow();
    expect(() => checkRequiredEvidence(false, 0, [])).not.toThrow();
  });
});
