// Moves a campaign's phase windows so that training begins at a given instant, keeping every
// interval between them: how a demonstration or a rehearsal runs a definition now.
import type { CampaignDefinition } from './definition.ts';
import {
  addCalendarDays,
  DAY,
  formatIsoOffset,
  localParts,
  parseClock,
  parseMoment,
  zonedInstant,
  type Instant,
} from './time.ts';

export function rebaseDefinition(def: CampaignDefinition, begin: Instant): CampaignDefinition {
  const tz = def.campaign.timeZone;
  const open = parseClock(def.calendar.workdayStart) ?? { hour: 9, minute: 0, second: 0 };
  const first = parseMoment(def.phases.training.start, tz);
  if (!first) throw new Error('training.start is not a moment');
  const firstInstant =
    first.kind === 'instant'
      ? first.instant
      : zonedInstant(
          +first.date.slice(0, 4),
          +first.date.slice(5, 7),
          +first.date.slice(8, 10),
          open.hour,
          open.minute,
          0,
          tz,
        );
  const delta = begin - firstInstant;
  const days = Math.round(delta / DAY);
  const move = (text: string): string => {
    const m = parseMoment(text, tz);
    if (!m) return text;
    return m.kind === 'instant'
      ? formatIsoOffset(m.instant + delta, tz)
      : addCalendarDays(m.date, days);
  };
  const out = structuredClone(def);
  for (const phase of ['training', 'dataEntry', 'verification', 'reporting'] as const) {
    out.phases[phase].start = move(out.phases[phase].start);
    out.phases[phase].end = move(out.phases[phase].end);
  }
  out.campaign.year = localParts(begin, tz).year;
  return out;
}
