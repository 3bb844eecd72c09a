// The words people read: refusals of the task rules name the field to fill in people's words,
// never a command-line flag; a triggered rectification's reason reads in Chinese; no Chinese
// text of domain/ names a flag.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { rosterOf } from '../../domain/campaign-parts.ts';
import { meetsTriggers, rectificationReasonText } from '../../domain/campaign.ts';
import { checkRequest, Refusal, type Roster, type TaskFacts } from '../../domain/task.ts';
import { REPO_ROOT } from '../../scripts/lib/tools.ts';
import { demoFixture } from '../helpers/task-fixture.ts';

let roster: Roster;
beforeAll(async () => {
  roster = rosterOf((await demoFixture()).def);
});

const NOW = Date.parse('2026-12-01T01:00:00Z');
const facts = (over: Partial<TaskFacts> = {}): TaskFacts => ({
  unitId: 'scjgj',
  assignee: 'scjgj-staff1',
  state: 'open',
  review: true,
  due: NOW + 3_600_000,
  extensionsUsed: 0,
  policy: { extensionApprovers: ['bureau'], maxExtensions: 2 },
  completion: { note: false, evidence: false, fields: [] },
  ...over,
});

function refusal(fn: () => unknown): Refusal {
  try {
    fn();
  } catch (e) {
    if (e instanceof Refusal) return e;
    throw e;
  }
  throw new Error('not refused');
}

describe('the task rules refuse in people’s words', () => {
  const cases: [string, () => unknown, RegExp][] = [
    [
      'a submission without the note it needs',
      () =>
        checkRequest(
          'submit',
          { requestId: 'r', actor: 'scjgj-staff1' },
          facts({ completion: { note: true, evidence: false, fields: [] } }),
          roster,
          NOW,
        ),
      /说明/,
    ],
    [
      'a submission without the evidence it needs',
      () =>
        checkRequest(
          'submit',
          { requestId: 'r', actor: 'scjgj-staff1' },
          facts({ completion: { note: false, evidence: true, fields: [] } }),
          roster,
          NOW,
        ),
      /上传/,
    ],
    [
      'a return without a reason',
      () =>
        checkRequest(
          'return',
          { requestId: 'r', actor: 'spj-coord' },
          facts({ state: 'submitted' }),
          roster,
          NOW,
        ),
      /退回原因/,
    ],
    [
      'an extension without a reason',
      () =>
        checkRequest(
          'extend',
          { requestId: 'r', actor: 'scjgj-staff1', until: NOW + 86_400_000 },
          facts(),
          roster,
          NOW,
        ),
      /原因/,
    ],
    [
      'an extension without a new due time',
      () =>
        checkRequest(
          'extend',
          { requestId: 'r', actor: 'scjgj-staff1', reason: '等待系统数据' },
          facts(),
          roster,
          NOW,
        ),
      /延至/,
    ],
    [
      'a cancellation without a reason',
      () => checkRequest('cancel', { requestId: 'r', actor: 'spj-coord' }, facts(), roster, NOW),
      /原因/,
    ],
    [
      'a request without its actor',
      () => checkRequest('submit', { requestId: 'r' }, facts(), roster, NOW),
      /办理人/,
    ],
  ];
  for (const [what, fn, names] of cases) {
    it(`for ${what}: names the field, no flag`, () => {
      const r = refusal(fn);
      expect(r.zh).toMatch(names);
      expect(r.zh).not.toMatch(/--/);
    });
  }
});

describe('a triggered rectification’s reason', () => {
  const triggers = { scoreBelow: 75, rankBottom: 3 };
  it('reads in Chinese, and stays English for English readers', () => {
    const reason = meetsTriggers(triggers, { score: 68.5, rank: 12 }, 12)!;
    expect(reason).toBe('score 68.5 below 75; rank 12 of 12 in the bottom 3');
    expect(rectificationReasonText(reason, 'zh')).toBe(
      '得分 68.5，低于 75 分；排名第 12（共 12 项），位列后 3 名',
    );
    expect(rectificationReasonText(reason, 'en')).toBe(reason);
    expect(rectificationReasonText('score 60 below 75', 'zh')).toBe('得分 60，低于 75 分');
  });
  it('is shown as written when a person wrote it', () => {
    expect(rectificationReasonText('群众投诉较多，县领导要求整改', 'zh')).toBe(
      '群众投诉较多，县领导要求整改',
    );
  });
});

describe('the Chinese texts of domain/', () => {
  it('name no command-line flag', () => {
    const dir = join(REPO_ROOT, 'domain');
    const hits: string[] = [];
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.ts'))) {
      const text = readFileSync(join(dir, f), 'utf8');
      // Every string literal written mostly in Chinese (more Han characters than ASCII letters).
      for (const m of text.matchAll(/'[^'\n]*'|`[^`]*`/g)) {
        const han = m[0].match(/[\u4e00-\u9fff]/g)?.length ?? 0;
        const latin = m[0].match(/[A-Za-z]/g)?.length ?? 0;
        if (han > latin && /--[a-z]/.test(m[0])) hits.push(`${f}: ${m[0]}`);
      }
    }
    expect(hits).toEqual([]);
  });
});
