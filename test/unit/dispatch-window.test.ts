// Which days have a daily dispatch: every working day from the start of training to the end of
// reporting at the dispatch time, none for a rehearsal held outside working hours; a past day
// without a sent digest says why.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { whyNoDispatch } from '../../client/commands/reports.ts';
import { loadDefinitionText } from '../../client/definition-file.ts';
import { BusinessCalendar } from '../../domain/calendar.ts';
import { dispatchInstants } from '../../domain/campaign.ts';
import type { CampaignDefinition, PhaseName } from '../../domain/definition.ts';
import { phaseWindows } from '../../domain/schedule.ts';
import { localDateOf } from '../../domain/time.ts';

function load(text: string) {
  const r = loadDefinitionText(text, 'x.yaml');
  expect(r.errors).toEqual([]);
  return { def: r.definition!, calendar: new BusinessCalendar(r.calendar!) };
}

function instants(def: CampaignDefinition, calendar: BusinessCalendar): number[] {
  const w = Object.fromEntries(
    phaseWindows(def.phases, calendar).map((p) => [p.phase, { start: p.start, end: p.end }]),
  ) as Record<PhaseName, { start: number; end: number }>;
  return dispatchInstants(calendar, w, def.dispatch.at);
}

const county = readFileSync('examples/county-2026.yaml', 'utf8');

/** The county campaign squeezed into one evening, as a rehearsal outside working hours. */
const rehearsal = county
  .replace(
    /training:\n\s+start: 2026-09-14\n\s+end: 2026-09-30/,
    'training:\n    start: 2026-10-13T19:00\n    end: 2026-10-13T19:10',
  )
  .replace(
    /dataEntry:\n\s+start: 2026-10-08\n\s+end: 2026-10-20/,
    'dataEntry:\n    start: 2026-10-13T19:10\n    end: 2026-10-13T19:40\n    slot: PT3M',
  )
  .replace(
    /verification:\n\s+start: 2026-10-21\n\s+end: 2026-11-20/,
    'verification:\n    start: 2026-10-13T19:40\n    end: 2026-10-13T19:50',
  )
  .replace(
    /reporting:\n\s+start: 2026-11-23\n\s+end: 2026-12-25/,
    'reporting:\n    start: 2026-10-13T19:50\n    end: 2026-10-13T20:00',
  );

describe('the daily dispatch window', () => {
  it('holds one dispatch per working day of the county campaign, none on the National Day holiday', () => {
    const { def, calendar } = load(county);
    const days = instants(def, calendar).map((i) => localDateOf(i, 'Asia/Shanghai'));
    expect(days[0]).toBe('2026-09-14');
    expect(days[days.length - 1]).toBe('2026-12-25');
    expect(days.filter((d) => d >= '2026-10-01' && d <= '2026-10-07')).toEqual([]);
    // Saturday 10 October is an adjusted working day (调休).
    expect(days).toContain('2026-10-10');
    expect(days.every((d) => calendar.isWorkingDay(d))).toBe(true);
    expect(whyNoDispatch(def, calendar, '2026-10-09')).toBeNull();
    expect(whyNoDispatch(def, calendar, '2026-10-03')).toMatch(/not a working day/);
    expect(whyNoDispatch(def, calendar, '2027-01-05')).toMatch(
      /dispatches run from 2026-09-14 to 2026-12-25/,
    );
  });

  it('is empty for a campaign rehearsed in the evening, and the report says so', () => {
    const { def, calendar } = load(rehearsal);
    expect(def.phases.training.start).toBe('2026-10-13T19:00');
    expect(instants(def, calendar)).toEqual([]);
    expect(whyNoDispatch(def, calendar, '2026-10-13')).toMatch(
      /no daily dispatch falls in the window of campaign hx-2026 .*17:30/,
    );
  });
});
