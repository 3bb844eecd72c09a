import { describe, expect, it } from 'vitest';
import { BusinessCalendar } from '../../domain/calendar.ts';
import { KNOWN_HOLIDAY_YEARS, resolveCalendar } from '../../domain/calendar-data.ts';
import { formatIsoOffset, zonedInstant } from '../../domain/time.ts';

const TZ = 'Asia/Shanghai';
const cal2026 = new BusinessCalendar(
  resolveCalendar(TZ, [2026, 2027], {
    chineseHolidays: true,
    workdayStart: '09:00',
    workdayEnd: '18:00',
    holidays: ['2027-01-01'],
    workdays: [],
  }),
);
const at = (s: string) =>
  zonedInstant(
    +s.slice(0, 4),
    +s.slice(5, 7),
    +s.slice(8, 10),
    +s.slice(11, 13),
    +s.slice(14, 16),
    0,
    TZ,
  );
const iso = (i: number) => formatIsoOffset(i, TZ);

describe('the business calendar', () => {
  it('knows the 2026 National Day holiday and the adjusted working Saturday', () => {
    expect(KNOWN_HOLIDAY_YEARS.has(2026)).toBe(true);
    for (let d = 1; d <= 7; d++)
      expect(cal2026.isWorkingDay(`2026-10-0${d}`), `Oct ${d}`).toBe(false);
    expect(cal2026.isWorkingDay('2026-10-08')).toBe(true);
    expect(cal2026.isWorkingDay('2026-10-10')).toBe(true); // Saturday, 调休
    expect(cal2026.describe('2026-10-10')).toBe('adjusted-workday');
    expect(cal2026.isWorkingDay('2026-10-11')).toBe(false); // Sunday
    expect(cal2026.describe('2026-10-03')).toBe('holiday');
  });

  it('adds working days across a weekend', () => {
    // Friday 16 Oct + 1 working day = Monday 19 Oct.
    expect(cal2026.addWorkingDays('2026-10-16', 1)).toBe('2026-10-19');
  });

  it('adds working days across a holiday', () => {
    // Wednesday 30 Sep + 1 = Thursday 8 Oct: 1–7 Oct off.
    expect(cal2026.addWorkingDays('2026-09-30', 1)).toBe('2026-10-08');
  });

  it('counts an adjusted working Saturday as a working day', () => {
    // Friday 9 Oct + 1 = Saturday 10 Oct (worked); + 2 = Monday 12 Oct.
    expect(cal2026.addWorkingDays('2026-10-09', 1)).toBe('2026-10-10');
    expect(cal2026.addWorkingDays('2026-10-09', 2)).toBe('2026-10-12');
  });

  it('gives the day itself or the next working day for zero working days', () => {
    expect(cal2026.addWorkingDays('2026-10-08', 0)).toBe('2026-10-08');
    expect(cal2026.addWorkingDays('2026-10-03', 0)).toBe('2026-10-08');
  });

  it('lists the working days between two dates, both included', () => {
    expect(cal2026.workingDaysBetween('2026-10-01', '2026-10-12')).toEqual([
      '2026-10-08',
      '2026-10-09',
      '2026-10-10',
      '2026-10-12',
    ]);
  });

  it('finds the next working moment', () => {
    // Inside working hours: unchanged.
    expect(iso(cal2026.nextWorkingMoment(at('2026-10-08T10:30')))).toBe(
      '2026-10-08T10:30:00+08:00',
    );
    // Before opening: that morning at 09:00.
    expect(iso(cal2026.nextWorkingMoment(at('2026-10-08T07:00')))).toBe(
      '2026-10-08T09:00:00+08:00',
    );
    // After closing on Friday: the adjusted working Saturday morning.
    expect(iso(cal2026.nextWorkingMoment(at('2026-10-09T19:00')))).toBe(
      '2026-10-10T09:00:00+08:00',
    );
    // During the holiday: the first working morning after it.
    expect(iso(cal2026.nextWorkingMoment(at('2026-10-02T12:00')))).toBe(
      '2026-10-08T09:00:00+08:00',
    );
  });

  it('moves an instant by working days keeping its clock time', () => {
    expect(iso(cal2026.addWorkingDaysToInstant(at('2026-09-30T18:00'), 1))).toBe(
      '2026-10-08T18:00:00+08:00',
    );
    expect(iso(cal2026.addWorkingDaysToInstant(at('2026-10-16T18:00'), 1))).toBe(
      '2026-10-19T18:00:00+08:00',
    );
  });

  it("uses the definition's own lists for a year the package does not know", () => {
    expect(KNOWN_HOLIDAY_YEARS.has(2027)).toBe(false);
    expect(cal2026.isWorkingDay('2027-01-01')).toBe(false); // listed in the definition
    const custom = new BusinessCalendar(
      resolveCalendar(TZ, [2027], {
        chineseHolidays: true,
        workdayStart: '09:00',
        workdayEnd: '18:00',
        holidays: ['2027-02-08', '2027-02-09'],
        workdays: ['2027-02-06'],
      }),
    );
    expect(custom.isWorkingDay('2027-02-06')).toBe(true); // a Saturday made a working day
    expect(custom.addWorkingDays('2027-02-05', 1)).toBe('2027-02-06');
    expect(custom.addWorkingDays('2027-02-06', 1)).toBe('2027-02-10');
  });

  it('lets the definition override the package for a known year', () => {
    const c = new BusinessCalendar(
      resolveCalendar(TZ, [2026], {
        chineseHolidays: true,
        workdayStart: '09:00',
        workdayEnd: '18:00',
        holidays: ['2026-10-08'],
        workdays: ['2026-10-07'],
      }),
    );
    expect(c.isWorkingDay('2026-10-08')).toBe(false);
    expect(c.isWorkingDay('2026-10-07')).toBe(true);
  });

  it('follows weekends only when the Chinese holiday data is switched off', () => {
    const c = new BusinessCalendar(
      resolveCalendar(TZ, [2026], {
        chineseHolidays: false,
        workdayStart: '08:30',
        workdayEnd: '17:30',
        holidays: [],
        workdays: [],
      }),
    );
    expect(c.isWorkingDay('2026-10-01')).toBe(true);
    expect(c.isWorkingDay('2026-10-10')).toBe(false);
    expect(iso(c.startOfWorkingDay('2026-10-01'))).toBe('2026-10-01T08:30:00+08:00');
  });
});
