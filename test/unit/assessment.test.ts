// The units' assessment computed from projection rows: every point traced to its rule, task and
// event; the National Day holiday does not count as days late; deductions capped.
import { describe, expect, it } from 'vitest';
import { assess, assessmentPolicySchema, type AssessedTask } from '../../domain/assessment.ts';
import { BusinessCalendar } from '../../domain/calendar.ts';
import { resolveCalendar } from '../../domain/calendar-data.ts';
import { zonedInstant } from '../../domain/time.ts';

const calendar = new BusinessCalendar(
  resolveCalendar('Asia/Shanghai', [2026], {
    chineseHolidays: true,
    workdayStart: '09:00',
    workdayEnd: '18:00',
    holidays: [],
    workdays: [],
  }),
);
const at = (d: string, h = 18) => {
  const [y, m, day] = d.split('-').map(Number) as [number, number, number];
  return zonedInstant(y, m, day, h, 0, 0, 'Asia/Shanghai');
};
const task = (over: Partial<AssessedTask> & { taskId: string; unitId: string }): AssessedTask => ({
  indicator: 'kbqy',
  kind: 'questionnaire',
  state: 'done',
  dueAt: at('2026-09-30'),
  completedAt: at('2026-09-30', 17),
  ...over,
});

describe('the units’ assessment', () => {
  const policy = assessmentPolicySchema.parse({});
  const input = {
    policy,
    calendar,
    units: ['scjgj', 'swj', 'gaj'],
    leadUnitOf: { kbqy: 'scjgj', ns: 'swj' },
    tasks: [
      // Due Wed 30 Sep, done Fri 9 Oct: 1–7 Oct are the holiday, Thu 8 and Fri 9 are late.
      task({
        taskId: 'c/kbqy/questionnaire/scjgj',
        unitId: 'scjgj',
        completedAt: at('2026-10-09', 10),
      }),
      task({ taskId: 'c/ns/questionnaire/swj', unitId: 'swj', indicator: 'ns' }),
      task({
        taskId: 'c/kbqy/training/gaj',
        unitId: 'gaj',
        kind: 'training',
        state: 'open',
        completedAt: null,
      }),
      task({ taskId: 'c/ns/x/gaj', unitId: 'gaj', state: 'cancelled', completedAt: null }),
    ],
    events: [
      {
        taskId: 'c/kbqy/questionnaire/scjgj',
        seq: 4,
        unitId: 'scjgj',
        type: 'escalated',
        at: at('2026-10-08'),
        detail: { level: 1 },
      },
      {
        taskId: 'c/kbqy/questionnaire/scjgj',
        seq: 5,
        unitId: 'scjgj',
        type: 'escalated',
        at: at('2026-10-09'),
        detail: { level: 2 },
      },
      {
        taskId: 'c/ns/questionnaire/swj',
        seq: 3,
        unitId: 'swj',
        type: 'returned',
        at: at('2026-09-29'),
        detail: { reason: '缺少附件' },
      },
      {
        taskId: 'c/ns/x/gaj',
        seq: 2,
        unitId: 'gaj',
        type: 'escalated',
        at: at('2026-10-09'),
        detail: { level: 3 },
      },
    ],
    verifications: [
      { indicator: 'kbqy', item: 'ENT-7', outcome: 'discrepant' as const, at: at('2026-10-22') },
      { indicator: 'ns', item: 'ENT-9', outcome: 'confirmed' as const, at: at('2026-10-22') },
    ],
    results: [
      { indicator: 'ns', rank: 2 },
      { indicator: 'kbqy', rank: 40 },
    ],
    now: at('2026-10-12', 12),
  };

  it('traces each deduction and bonus to its rule, task and event', () => {
    const [scjgj, swj, gaj] = assess(input);
    expect(scjgj!.entries).toEqual([
      {
        rule: 'late',
        points: -1,
        taskId: 'c/kbqy/questionnaire/scjgj',
        indicator: 'kbqy',
        detail: '2 working day(s) late',
      },
      {
        rule: 'escalation',
        points: -1,
        taskId: 'c/kbqy/questionnaire/scjgj',
        eventSeq: 4,
        indicator: 'kbqy',
        detail: 'escalation level 1 reached',
      },
      {
        rule: 'escalation',
        points: -2,
        taskId: 'c/kbqy/questionnaire/scjgj',
        eventSeq: 5,
        indicator: 'kbqy',
        detail: 'escalation level 2 reached',
      },
      {
        rule: 'discrepancy',
        points: -5,
        indicator: 'kbqy',
        detail: 'verified item "ENT-7" discrepant',
      },
    ]);
    expect(scjgj!.points).toBe(91);
    expect(swj!.entries.map((e) => [e.rule, e.points, e.eventSeq])).toEqual([
      ['return', -0.5, 3],
      ['rankBonus', 3, undefined],
    ]);
    expect(swj!.points).toBe(102.5);
    // The open training task: late since Wed 30 Sep (Thu 8, Fri 9, Sat 10 adjusted, Mon 12) and
    // not done; the cancelled task's escalation counts for nothing.
    expect(gaj!.entries.map((e) => [e.rule, e.points])).toEqual([
      ['late', -2],
      ['trainingNotDone', -2],
    ]);
    expect(gaj!.points).toBe(96);
  });

  it('costs nothing for a highlight or typical case returned for rework (a proposal, not a duty)', () => {
    const proposals = ['highlight', 'case'].map((kind) =>
      task({ taskId: `c/kbqy/${kind}/swj/k`, unitId: 'swj', kind, state: 'done' }),
    );
    const returned = proposals.map((t, i) => ({
      taskId: t.taskId,
      seq: 3 + i,
      unitId: 'swj',
      type: 'returned',
      at: at('2026-09-29'),
      detail: { reason: '请补充成效' },
    }));
    const base = assess(input).find((u) => u.unitId === 'swj')!;
    const withProposals = assess({
      ...input,
      tasks: [...input.tasks, ...proposals],
      events: [...input.events, ...returned],
    }).find((u) => u.unitId === 'swj')!;
    expect(withProposals.points).toBe(base.points);
    expect(withProposals.entries.filter((e) => e.rule === 'return')).toHaveLength(1);
  });

  it('is the same every time and caps the deductions', () => {
    const rows = structuredClone({ ...input, calendar: undefined });
    expect(assess(input)).toEqual(assess({ ...rows, calendar }));
    const capped = assess({ ...input, policy: { ...policy, cap: 5 } })[0]!;
    expect(capped.deductions).toBe(5);
    expect(capped.points).toBe(95);
    expect(capped.entries.at(-1)).toMatchObject({ rule: 'cap', points: 4 });
  });
});

describe('charges that follow the current deadline', () => {
  const policy = assessmentPolicySchema.parse({});
  const measure = 'c/kbqy/measure/scjgj/m1';
  // A measure added due yesterday (Mon 12 Oct): escalated to the unit head in the same second
  // (level 2) on Tue 13 Oct; then its deadline was moved to Fri 16 Oct and it was done on time.
  const run = (dueAt: number, completedAt: number | null) =>
    assess({
      policy,
      calendar,
      units: ['scjgj'],
      leadUnitOf: { kbqy: 'scjgj' },
      tasks: [task({ taskId: measure, unitId: 'scjgj', kind: 'measure', dueAt, completedAt })],
      events: [
        { taskId: measure, seq: 2, unitId: 'scjgj', type: 'escalated', at: at('2026-10-13', 10), detail: { level: 2 } },
        { taskId: measure, seq: 3, unitId: 'scjgj', type: 'extended', at: at('2026-10-13', 11), detail: { from: at('2026-10-12'), until: at('2026-10-16') } },
      ], // prettier-ignore
      verifications: [],
      results: [],
      now: at('2026-10-20', 12),
    })[0]!;

  it('drops an escalation reached before the deadline now in force', () => {
    const moved = run(at('2026-10-16'), at('2026-10-15', 10));
    expect(moved.entries).toEqual([]);
    expect(moved.points).toBe(100);
  });

  it('keeps the escalation and counts the days late when the current deadline had passed', () => {
    const kept = run(at('2026-10-12'), at('2026-10-15', 10));
    expect(kept.entries.map((e) => [e.rule, e.points])).toEqual([
      ['late', -1.5],
      ['escalation', -2],
    ]);
  });

  it('counts days late from the current deadline, not the one at the time', () => {
    const late = run(at('2026-10-16'), at('2026-10-20', 10));
    expect(late.entries.map((e) => [e.rule, e.points, e.detail])).toEqual([
      ['late', -1, '2 working day(s) late'],
    ]);
  });
});
