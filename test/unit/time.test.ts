import { describe, expect, it } from 'vitest';
import {
  addCalendarDays,
  formatIsoOffset,
  parseDurationMs,
  parseMoment,
  weekdayOf,
  zonedInstant,
} from '../../domain/time.ts';

describe('time helpers', () => {
  it('parse dates, local date-times to the second and date-times with offsets', () => {
    expect(parseMoment('2026-10-08', 'Asia/Shanghai')).toEqual({
      kind: 'date',
      date: '2026-10-08',
    });
    const local = parseMoment('2026-10-08T09:00:30', 'Asia/Shanghai');
    expect(local).toEqual({ kind: 'instant', instant: Date.parse('2026-10-08T01:00:30Z') });
    expect(parseMoment('2026-10-08 09:00', 'Asia/Shanghai')).toEqual({
      kind: 'instant',
      instant: Date.parse('2026-10-08T01:00:00Z'),
    });
    expect(parseMoment('2026-10-08T01:00:00Z', 'Asia/Shanghai')).toEqual({
      kind: 'instant',
      instant: Date.parse('2026-10-08T01:00:00Z'),
    });
    expect(parseMoment('2026-10-08T09:00:00+08:00', 'UTC')).toEqual({
      kind: 'instant',
      instant: Date.parse('2026-10-08T01:00:00Z'),
    });
  });

  it('refuse impossible dates and times', () => {
    for (const bad of [
      '2026-02-30',
      '2026-13-01',
      '2026-10-08T25:00',
      'tomorrow',
      '08/10/2026',
      '',
    ]) {
      expect(parseMoment(bad, 'Asia/Shanghai'), bad).toBeNull();
    }
  });

  it('parse ISO 8601 durations to the second', () => {
    expect(parseDurationMs('P3D')).toBe(3 * 86_400_000);
    expect(parseDurationMs('PT2H')).toBe(7_200_000);
    expect(parseDurationMs('PT90S')).toBe(90_000);
    expect(parseDurationMs('P1DT12H30M')).toBe(86_400_000 + 12.5 * 3_600_000);
    expect(parseDurationMs('P1W')).toBe(7 * 86_400_000);
    for (const bad of ['P', 'PT', '3 days', 'P1H', 'PT-1M', ''])
      expect(parseDurationMs(bad), bad).toBeNull();
  });

  it('convert between local wall-clock time and instants, also in zones with daylight saving', () => {
    expect(
      formatIsoOffset(zonedInstant(2026, 10, 8, 18, 0, 0, 'Asia/Shanghai'), 'Asia/Shanghai'),
    ).toBe('2026-10-08T18:00:00+08:00');
    // New York changes clocks on 2026-03-08.
    expect(
      formatIsoOffset(zonedInstant(2026, 3, 9, 9, 0, 0, 'America/New_York'), 'America/New_York'),
    ).toBe('2026-03-09T09:00:00-04:00');
    expect(
      formatIsoOffset(zonedInstant(2026, 3, 6, 9, 0, 0, 'America/New_York'), 'America/New_York'),
    ).toBe('2026-03-06T09:00:00-05:00');
  });

  it('do calendar-day arithmetic across month and year ends', () => {
    expect(addCalendarDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addCalendarDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(weekdayOf('2026-10-10')).toBe(6);
  });
});
