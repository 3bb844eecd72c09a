// A deadline already passed is refused before anything is created: a rectification measure due
// yesterday (as a bare date or a date-time), an extension to a time gone by, a phase moved to
// an end in the past. Each would make the work overdue, and escalate it, the moment it began.
import { describe, expect, it } from 'vitest';
import { loadDefinitionFile } from '../../client/definition-file.ts';
import { BusinessCalendar } from '../../domain/calendar.ts';
import { planCampaign } from '../../domain/campaign.ts';
import { movePhase, PhaseMoveRefused, type CampaignWindows } from '../../domain/phase-control.ts';
import {
  checkStepProblems,
  measureDeadlineProblem,
  measureProblems,
} from '../../domain/rectification.ts';
import {
  checkExtensionDeadline,
  checkRequest,
  Refusal,
  type TaskFacts,
} from '../../domain/task.ts';
import { HOUR, zonedInstant } from '../../domain/time.ts';

const TZ = 'Asia/Shanghai';
// 2026-11-03 10:00 in the county.
const NOW = zonedInstant(2026, 11, 3, 10, 0, 0, TZ);
const roster = {
  units: [
    { id: 'spj', name: '县行政审批局', kind: 'bureau' as const },
    { id: 'scjgj', name: '县市场监督管理局', kind: 'department' as const },
  ],
  people: [
    { id: 'spj-coord', name: '王协调', unitId: 'spj', role: 'coordinator' as const },
    { id: 'scjgj-staff1', name: '刘填报员', unitId: 'scjgj', role: 'staff' as const },
  ],
};
const measure = (due: string) => ({ unit: 'scjgj', person: 'scjgj-staff1', due });

describe('a rectification measure due in the past', () => {
  it('is refused when due yesterday as a bare date, in Chinese and English', () => {
    const p = measureDeadlineProblem('2026-11-02', { timeZone: TZ, now: NOW });
    expect(p).toEqual({
      en: 'due: 2026-11-02 is in the past (today is 2026-11-03): give a deadline still to come',
      zh: '完成时限 2026-11-02 已经过去（今天是 2026-11-03）：请给出尚未到来的期限',
    });
    const ctx = { problemCount: 1, roster, timeZone: TZ, now: NOW };
    expect(measureProblems(measure('2026-11-02'), ctx)).toEqual([p]);
    // The plan's measures step refuses it the same way.
    const step = checkStepProblems(
      'rectify-measures',
      { measures: [{ problem: 1, measure: '并联办理', ...measure('2026-11-02') }] },
      ctx,
    );
    expect(step.map((x) => x.zh)).toEqual([`整改措施第 1 条：${p!.zh}`]);
  });

  it("is refused when due today after the working day's end, once that end is known", () => {
    const evening = zonedInstant(2026, 11, 3, 18, 30, 0, TZ);
    expect(measureDeadlineProblem('2026-11-03', { timeZone: TZ, now: evening })).toBeNull();
    expect(
      measureDeadlineProblem('2026-11-03', { timeZone: TZ, now: evening, workdayEnd: '17:30' })?.zh,
    ).toContain('已经过去');
    expect(
      measureDeadlineProblem('2026-11-03', { timeZone: TZ, now: NOW, workdayEnd: '17:30' }),
    ).toBeNull();
  });

  it('is refused as a date-time before now, and accepted when still to come', () => {
    expect(measureDeadlineProblem('2026-11-03T09:59', { timeZone: TZ, now: NOW })?.en).toContain(
      'in the past',
    );
    expect(measureDeadlineProblem('2026-11-03T10:01', { timeZone: TZ, now: NOW })).toBeNull();
    expect(measureDeadlineProblem('2026-11-04', { timeZone: TZ, now: NOW })).toBeNull();
  });
});

describe('an extension to a time gone by', () => {
  const facts: TaskFacts = {
    unitId: 'scjgj',
    assignee: 'scjgj-staff1',
    state: 'open',
    review: true,
    due: NOW + 24 * HOUR,
    extensionsUsed: 0,
    policy: { extensionApprovers: ['bureau'], maxExtensions: 2 },
    completion: { note: false, evidence: false, fields: [] },
  };
  const extend = (until: number) =>
    checkRequest(
      'extend',
      { requestId: 'r1', actor: 'spj-coord', reason: '等待数据', until },
      facts,
      roster,
      NOW,
    );

  it('is refused as past, not as "not later than the current due time"', () => {
    let refusal: unknown;
    try {
      extend(NOW - 24 * HOUR);
    } catch (e) {
      refusal = e;
    }
    expect(refusal).toBeInstanceOf(Refusal);
    expect((refusal as Refusal).zh).toBe('新的截止时间已经过去：请给出尚未到来的时间');
    expect(() => checkExtensionDeadline(NOW, NOW - HOUR, NOW)).toThrow(/in the past/);
    expect(extend(NOW + 48 * HOUR)).toEqual({ extension: 'granted' });
  });
});

describe('a phase moved to an end in the past', () => {
  it('is refused with nothing moved', async () => {
    const r = await loadDefinitionFile('examples/county-2026.yaml');
    const calendar = new BusinessCalendar(r.calendar!);
    const plan = planCampaign(r.definition!, r.calendar!, calendar);
    const windows: CampaignWindows = {
      phases: plan.phases,
      dataEntry: Object.fromEntries(plan.indicators.map((i) => [i.code, i.dataEntry])),
    };
    const now = windows.phases.training.start + HOUR;
    const before = JSON.stringify(windows);
    const move = () =>
      movePhase(windows, { phase: 'training', action: 'extend', until: now - HOUR }, now, {
        calendar,
        dataEntry: r.definition!.phases.dataEntry,
        order: r.definition!.indicators.map((i) => i.code),
      });
    expect(move).toThrow(PhaseMoveRefused);
    expect(move).toThrow(/is not in the future/);
    expect(JSON.stringify(windows)).toBe(before);
  });
});
