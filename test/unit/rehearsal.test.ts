// Rehearsals on any date: the realistic example and the quick demo moved to begin "now", with
// "now" a fixed instant of the test's choosing (December, New Year's Eve, the next year), never
// the machine's clock. A campaign whose later phases and rectification run into the next year
// is valid; a year the holiday package does not know is a warning.
import { describe, expect, it } from 'vitest';
import { loadDefinitionFile } from '../../client/definition-file.ts';
import { BusinessCalendar } from '../../domain/calendar.ts';
import { planCampaign } from '../../domain/campaign.ts';
import type { CampaignDefinition } from '../../domain/definition.ts';
import { rehearse, RehearsalError } from '../../domain/rehearsal.ts';
import { phaseWindows } from '../../domain/schedule.ts';
import { addCalendarDays, localParts, zonedInstant } from '../../domain/time.ts';
import { validateDefinition } from '../../domain/validate.ts';
import { definitionFrom, firstMondayAfter } from '../helpers/moved-definition.ts';

const TZ = 'Asia/Shanghai';
const at = (date: string, hour = 10, minute = 0) =>
  zonedInstant(+date.slice(0, 4), +date.slice(5, 7), +date.slice(8, 10), hour, minute, 0, TZ);
const clock = (instant: number) => () => instant;

async function example(file: string): Promise<CampaignDefinition> {
  const r = await loadDefinitionFile(file);
  expect(r.valid, JSON.stringify(r.errors)).toBe(true);
  return r.definition!;
}

/** Each phase's number of working days on the definition's own calendar. */
function workingDays(def: CampaignDefinition): Record<string, number> {
  const v = validateDefinition(def);
  expect(v.valid, JSON.stringify(v.errors)).toBe(true);
  const cal = new BusinessCalendar(v.calendar!);
  return Object.fromEntries(phaseWindows(def.phases, cal).map((p) => [p.phase, p.workingDays]));
}

describe('a rehearsal of the realistic example', () => {
  it('begun on 1 December reports in the next year, and is valid', async () => {
    const def = await example('examples/county-2026.yaml');
    const now = at('2026-12-01', 19, 24);
    const r = rehearse(def, { begin: 'now' }, clock(now));
    expect(r.definition.campaign.year).toBe(2026);
    expect(r.definition.phases.training.start).toBe('2026-12-01T19:24:00+08:00');
    expect(r.definition.phases.reporting.end.startsWith('2027-')).toBe(true);
    // The calendar covers the next year (and the one after, for rectification).
    expect(r.calendar.holidays).toContain('2027-01-01');
    // 2027 is listed by the definition (New Year's Day); 2028 only is unknown, and only warned of.
    expect(r.warnings.map((w) => w.message)).toEqual([
      expect.stringMatching(/the holiday package has no data for 2028/),
    ]);
    const plan = planCampaign(r.definition, r.calendar, new BusinessCalendar(r.calendar));
    expect(plan.indicators).toHaveLength(18);
  });

  it('begins training at the moment asked for, also early in the morning where it runs', async () => {
    const def = await example('examples/county-2026.yaml');
    // 19:50 on 1 December in UTC is 03:50 on 2 December in Shanghai: hours before the working
    // day opens. The first tasks are due to be created now, not at 09:00.
    const now = Date.parse('2026-12-01T19:50:00Z');
    const r = rehearse(def, { begin: 'now' }, clock(now));
    expect(r.definition.phases.training.start).toBe('2026-12-02T03:50:00+08:00');
    const plan = planCampaign(r.definition, r.calendar, new BusinessCalendar(r.calendar));
    expect(plan.phases.training.start).toBe(now);
    expect(plan.phases.training.end).toBeGreaterThan(now);
  });

  it('keeps every window’s working days, whatever day it begins', async () => {
    const def = await example('examples/county-2026.yaml');
    const written = workingDays(def);
    // Every day of December and January, early and late, then two days of each month after.
    const days: string[] = [];
    for (let day = '2026-12-01'; day <= '2027-01-31'; day = addCalendarDays(day, 1)) days.push(day);
    for (let m = 2; m <= 12; m++)
      days.push(`2027-${String(m).padStart(2, '0')}-01`, `2027-${String(m).padStart(2, '0')}-15`);
    for (const day of days) {
      for (const [hour, minute] of [
        [0, 5],
        [23, 59],
      ] as const) {
        const r = rehearse(def, { begin: 'now' }, clock(at(day, hour, minute)));
        const moved = workingDays(r.definition);
        expect(moved.dataEntry, `begun ${day} ${hour}:${minute}`).toBe(written.dataEntry);
        for (const phase of ['training', 'verification', 'reporting'])
          expect(moved[phase], `${phase} begun ${day}`).toBeGreaterThanOrEqual(written[phase]!);
        expect(r.definition.campaign.year).toBe(+day.slice(0, 4));
      }
    }
  });

  it('begun in the next year is a campaign of that year, its unknown holidays a warning', async () => {
    const def = await example('examples/county-2026.yaml');
    const r = rehearse(def, { begin: '2027-03-15T09:00' }, () => {
      throw new Error('the clock is not read for a given date-time');
    });
    expect(r.definition.campaign.year).toBe(2027);
    expect(r.definition.phases.training.start).toBe('2027-03-15T09:00:00+08:00');
    expect(r.warnings.map((w) => w.message)).toEqual([expect.stringMatching(/no data for 2028/)]);
    const late = rehearse(def, { begin: 'now' }, clock(at('2027-12-20')));
    expect(late.definition.campaign.year).toBe(2027);
    expect(late.definition.phases.reporting.end.startsWith('2028-')).toBe(true);
    expect(late.warnings.map((w) => w.message)).toEqual([
      expect.stringMatching(/no data for 2028/),
      expect.stringMatching(/no data for 2029/),
    ]);
  });
});

describe('a rehearsal of windows of hours that cross midnight', () => {
  // Windows of a few hours from the quick demo's first morning, the last one past midnight: moved
  // to begin in the afternoon or late at night, the first day's moments shift into the next
  // day, past the later day's moments that keep their clock; the order must hold anyway.
  it('keeps every window in order and as long as written, whatever hour it begins', async () => {
    const def = await example('examples/quick-demo.yaml');
    const t0 = Date.parse(`${def.phases.training.start}+08:00`);
    const iso = (h: number) => new Date(t0 + h * 3_600_000).toISOString();
    def.phases.training = { start: iso(0), end: iso(4) };
    def.phases.dataEntry = { ...def.phases.dataEntry, start: iso(4), end: iso(8), slot: 'PT4H' };
    def.phases.dataEntry.indicatorsPerDay = def.indicators.length;
    def.phases.verification = { ...def.phases.verification, start: iso(8), end: iso(12) };
    def.phases.reporting = { start: iso(12), end: iso(16) };
    expect(validateDefinition(def).valid).toBe(true);
    for (const [day, hour] of [
      ['2026-12-02', 9],
      ['2026-12-02', 14],
      ['2026-12-02', 23],
      ['2026-12-04', 20],
      ['2026-12-31', 22],
    ] as const) {
      const r = rehearse(def, { begin: 'now' }, clock(at(day, hour)));
      const v = validateDefinition(r.definition);
      expect(v.valid, `${day} ${hour}:00 ${JSON.stringify(v.errors)}`).toBe(true);
      const edges = (['training', 'dataEntry', 'verification', 'reporting'] as const).map(
        (p): [number, number] => [
          Date.parse(r.definition.phases[p].start),
          Date.parse(r.definition.phases[p].end),
        ],
      );
      for (const [start, end] of edges) expect(end - start).toBeGreaterThan(0);
      for (let i = 1; i < edges.length; i++)
        expect(edges[i]![0]).toBeGreaterThanOrEqual(edges[i - 1]![1]!);
    }
  });
});

describe('a paced rehearsal of the quick demo', () => {
  it('begun five minutes before midnight on New Year’s Eve runs into the new year', async () => {
    const def = await example('examples/quick-demo.yaml');
    const now = at('2026-12-31', 23, 55);
    const r = rehearse(def, { begin: 'now', pace: 10 }, clock(now));
    expect(r.definition.campaign.year).toBe(2026);
    expect(r.definition.phases.training.start).toBe('2026-12-31T23:55:00+08:00');
    const end = Date.parse(r.definition.phases.reporting.end);
    expect(localParts(end, TZ).year).toBe(2027);
    expect(validateDefinition(r.definition).valid).toBe(true);
  });

  it('refuses a bad --begin or --pace as a usage error, reading no clock for them', async () => {
    const def = await example('examples/quick-demo.yaml');
    const noClock = () => {
      throw new Error('not read');
    };
    const usage = (f: () => unknown) => {
      try {
        f();
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(RehearsalError);
        expect((e as RehearsalError).kind).toBe('usage');
        return (e as Error).message;
      }
    };
    expect(usage(() => rehearse(def, { begin: 'tomorrow' }, noClock))).toMatch(
      /--begin "tomorrow" is not "now" or a date-time/,
    );
    expect(usage(() => rehearse(def, { pace: 0 }, noClock))).toMatch(/--pace "0"/);
  });
});

describe('a definition moved onto real weeks for time-skipping tests', () => {
  it('may start in the last week of December and end in January', () => {
    const monday = firstMondayAfter(at('2026-12-24'), TZ);
    expect(monday).toBe('2026-12-28');
    const { def } = definitionFrom(monday, 'moved-over-new-year');
    expect(def.campaign.year).toBe(2026);
    expect(def.phases.reporting.end).toBe('2027-01-08');
  });
});

describe('the campaign year of a definition', () => {
  it('allows phases in the next year and refuses them any later', async () => {
    const def = await example('examples/county-2026.yaml');
    const next = structuredClone(def);
    next.phases.reporting.end = '2027-02-26';
    expect(validateDefinition(next).errors).toEqual([]);
    const later = structuredClone(def);
    later.phases.reporting.end = '2028-01-10';
    expect(validateDefinition(later).errors).toEqual([
      {
        path: 'phases.reporting.end',
        message: '2028-01-10 is after 2027: a campaign of 2026 runs in 2026 and 2027',
      },
    ]);
    const before = structuredClone(def);
    before.phases.training.start = '2025-12-29';
    expect(validateDefinition(before).errors).toEqual([
      { path: 'phases.training.start', message: '2025-12-29 is before the campaign year 2026' },
    ]);
  });
});
