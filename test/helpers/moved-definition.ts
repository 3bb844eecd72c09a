// The quick demo's roster moved onto real weeks, for tests that run a campaign under time
// skipping: a two-week campaign from a Monday, with the second Tuesday a holiday.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { loadDefinitionText } from '../../client/definition-file.ts';
import { addCalendarDays, localDateOf } from '../../domain/time.ts';

/** The first Monday at least `days` days after `now`, in the zone. */
export function firstMondayAfter(now: number, tz: string, days = 3): string {
  let monday = addCalendarDays(localDateOf(now, tz), days);
  while (new Date(`${monday}T00:00:00Z`).getUTCDay() !== 1) monday = addCalendarDays(monday, 1);
  return monday;
}

/** The quick demo moved onto the weeks from `monday`. */
export function definitionFrom(monday: string, campaignId: string) {
  const raw = parse(readFileSync('examples/quick-demo.yaml', 'utf8'));
  const d = (n: number) => addCalendarDays(monday, n);
  raw.campaign.id = campaignId;
  raw.campaign.year = Number(monday.slice(0, 4));
  raw.calendar.holidays = [d(8)]; // the second Tuesday is a holiday
  raw.phases = {
    training: { start: `${d(0)}T09:00`, end: `${d(1)}T18:00` },
    dataEntry: { start: d(2), end: d(4), indicatorsPerDay: 2 },
    verification: {
      start: d(7),
      end: d(9),
      evidenceDue: { workingDays: 1 },
      samplingProportion: 0.2,
    },
    reporting: { start: d(10), end: d(11) },
  };
  raw.policy = {
    reminders: ['PT2H'],
    warningWindow: 'PT4H',
    escalation: [
      { after: { workingDays: 1 }, notify: ['assignee', 'deputy'], label: '分管领导督办' },
      { after: { workingDays: 1 }, notify: ['head'], label: '一把手督办' },
    ],
    returnDue: { workingDays: 1 },
    extensionApprovers: ['bureau'],
  };
  raw.rectification.triggers = { scoreBelow: 80 };
  // Weekly progress reports on a campaign of weeks (the demo's five minutes would be thousands).
  raw.rectification.progressEvery = 'P7D';
  const r = loadDefinitionText(JSON.stringify(raw), 'moved.json');
  if (!r.valid) throw new Error(JSON.stringify(r.errors));
  return { def: r.definition!, calendar: r.calendar! };
}
