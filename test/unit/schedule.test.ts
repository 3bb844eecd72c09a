import { describe, expect, it } from 'vitest';
import { loadDefinitionFile } from '../../client/definition-file.ts';
import { BusinessCalendar } from '../../domain/calendar.ts';
import {
  colourAt,
  dataEntrySchedule,
  escalationInstants,
  phaseWindows,
  reminderInstants,
} from '../../domain/schedule.ts';
import { formatIsoOffset, HOUR, MINUTE, DAY, zonedInstant } from '../../domain/time.ts';

const TZ = 'Asia/Shanghai';
const iso = (i: number) => formatIsoOffset(i, TZ);

async function county() {
  const r = await loadDefinitionFile('examples/county-2026.yaml');
  return { def: r.definition!, calendar: new BusinessCalendar(r.calendar!) };
}

describe('the data-entry schedule', () => {
  it('puts two indicators on each working day, never on a weekend or holiday, and uses the worked Saturday', async () => {
    const { def, calendar } = await county();
    const slots = dataEntrySchedule(
      def.indicators.map((i) => i.code),
      def.phases.dataEntry,
      calendar,
    );
    expect(slots).toHaveLength(18);
    const byDate = new Map<string, number>();
    for (const s of slots) {
      expect(calendar.isWorkingDay(s.date), s.date).toBe(true);
      byDate.set(s.date, (byDate.get(s.date) ?? 0) + 1);
    }
    expect([...byDate.values()].every((n) => n === 2)).toBe(true);
    expect([...byDate.keys()]).toEqual([
      '2026-10-08',
      '2026-10-09',
      '2026-10-10', // Saturday, adjusted working day
      '2026-10-12',
      '2026-10-13',
      '2026-10-14',
      '2026-10-15',
      '2026-10-16',
      '2026-10-19',
    ]);
    expect(iso(slots[0]!.due)).toBe('2026-10-08T18:00:00+08:00');
    expect(iso(slots[0]!.start)).toBe('2026-10-08T09:00:00+08:00');
  });

  it('starts on the first working day when the window opens on a holiday', async () => {
    const { calendar } = await county();
    const slots = dataEntrySchedule(
      ['a', 'b', 'c'],
      { start: '2026-10-01', indicatorsPerDay: 2 },
      calendar,
    );
    expect(slots.map((s) => s.date)).toEqual(['2026-10-08', '2026-10-08', '2026-10-09']);
  });

  it('runs back-to-back slots of a demo duration', async () => {
    const r = await loadDefinitionFile('examples/quick-demo.yaml');
    const calendar = new BusinessCalendar(r.calendar!);
    const slots = dataEntrySchedule(
      ['kbqy', 'ns', 'jzxk', 'scjg'],
      r.definition!.phases.dataEntry,
      calendar,
    );
    expect(slots.map((s) => iso(s.due))).toEqual([
      '2026-12-01T09:14:00+08:00',
      '2026-12-01T09:14:00+08:00',
      '2026-12-01T09:18:00+08:00',
      '2026-12-01T09:18:00+08:00',
    ]);
  });

  it('counts the working days of each phase window', async () => {
    const { def, calendar } = await county();
    const phases = phaseWindows(def.phases, calendar);
    expect(phases.map((p) => [p.phase, p.workingDays])).toEqual([
      ['training', 13],
      ['dataEntry', 10],
      ['verification', 23],
      ['reporting', 25],
    ]);
  });
});

describe('the reminder and escalation instants of a task', () => {
  it('fires each reminder at its offset before due, dropping those before the task existed', () => {
    const due = zonedInstant(2026, 10, 15, 18, 0, 0, TZ);
    const created = due - 2 * DAY;
    const r = reminderInstants(due, ['P3D', 'P1D', 'PT2H'], created);
    expect(r.map((x) => [x.offset, iso(x.at)])).toEqual([
      ['P1D', '2026-10-14T18:00:00+08:00'],
      ['PT2H', '2026-10-15T16:00:00+08:00'],
    ]);
  });

  it('climbs the ladder in working days across a weekend, a holiday and an adjusted working Saturday', async () => {
    const { def, calendar } = await county();
    // Due Wednesday 30 Sep 18:00: +1 wd → Thu 8 Oct (holiday skipped); +2 wd → Sat 10 Oct
    // (worked) … Fri 9, Sat 10; +2 wd → Tue 13 Oct (Sunday 11 skipped).
    const due = zonedInstant(2026, 9, 30, 18, 0, 0, TZ);
    const steps = escalationInstants(due, def.policy.escalation, calendar);
    expect(steps.map((s) => [s.level, iso(s.at), s.notify.join('+')])).toEqual([
      [1, '2026-10-08T18:00:00+08:00', 'assignee+deputy'],
      [2, '2026-10-10T18:00:00+08:00', 'head'],
      [3, '2026-10-13T18:00:00+08:00', 'bureau+leadership'],
    ]);
  });

  it('climbs a ladder of plain durations to the second', () => {
    const due = Date.parse('2026-12-01T01:10:00Z');
    const calendar = new BusinessCalendar({
      timeZone: TZ,
      workdayStart: '09:00',
      workdayEnd: '18:00',
      holidays: [],
      workdays: [],
    });
    const steps = escalationInstants(
      due,
      [
        { after: { duration: 'PT1M' }, notify: ['deputy'] },
        { after: { duration: 'PT90S' }, notify: ['head'] },
      ],
      calendar,
    );
    expect(steps.map((s) => s.at - due)).toEqual([MINUTE, MINUTE + 90_000]);
  });

  it('colours a task green, yellow within the warning window, and red once overdue', () => {
    const due = 10 * DAY;
    expect(colourAt(due - 2 * DAY, due, DAY)).toBe('green');
    expect(colourAt(due - HOUR, due, DAY)).toBe('yellow');
    expect(colourAt(due, due, DAY)).toBe('red');
  });
});
