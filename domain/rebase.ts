// Moves a campaign's phase windows so that training begins at a given instant, keeping every
// interval between them: how a demonstration or a rehearsal runs a definition now.
import type { CampaignDefinition } from './definition.ts';
import {
  addCalendarDays,
  DAY,
  formatIsoOffset,
  localParts,
  parseClock,
  parseDurationMs,
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

/**
 * Runs a definition `factor` times faster, for demonstrations and end-to-end tests: every phase
 * window keeps its place relative to training's start but lasts 1/factor as long, and every
 * ISO duration of the policy, the evidence deadline, the data-entry slot and the rectification
 * is divided by the factor (to whole seconds, at least one). Delays in working days and the
 * daily dispatch hour cannot be sped up and stay as written. Windows must be date-times.
 */
export function paceDefinition(def: CampaignDefinition, factor: number): CampaignDefinition {
  if (!(factor >= 1 && factor <= 3600)) throw new Error(`pace ${factor} is not between 1 and 3600`);
  const tz = def.campaign.timeZone;
  const instantOf = (text: string, path: string): Instant => {
    const m = parseMoment(text, tz);
    if (!m || m.kind !== 'instant')
      throw new Error(`phases.${path} is a date (${text}); a paced campaign needs date-times`);
    return m.instant;
  };
  const anchor = instantOf(def.phases.training.start, 'training.start');
  const out = structuredClone(def);
  for (const phase of ['training', 'dataEntry', 'verification', 'reporting'] as const) {
    for (const edge of ['start', 'end'] as const) {
      const at = instantOf(out.phases[phase][edge], `${phase}.${edge}`);
      out.phases[phase][edge] = formatIsoOffset(anchor + Math.round((at - anchor) / factor), tz);
    }
  }
  const fast = (iso: string): string => {
    const ms = parseDurationMs(iso);
    return ms === null ? iso : `PT${Math.max(1, Math.round(ms / factor / 1000))}S`;
  };
  const fastDelay = <D extends { duration: string } | { workingDays: number }>(d: D): D =>
    'duration' in d ? { ...d, duration: fast(d.duration) } : d;
  const dataEntry = out.phases.dataEntry;
  if (dataEntry.slot) dataEntry.slot = fast(dataEntry.slot);
  out.phases.verification.evidenceDue = fastDelay(out.phases.verification.evidenceDue);
  const policy = out.policy;
  policy.reminders = policy.reminders.map(fast);
  policy.warningWindow = fast(policy.warningWindow);
  policy.escalation = policy.escalation.map((s) => ({ ...s, after: fastDelay(s.after) }));
  policy.returnDue = fastDelay(policy.returnDue);
  const r = out.rectification;
  r.stepDue = fastDelay(r.stepDue);
  r.measureDue = fastDelay(r.measureDue);
  r.progressEvery = fast(r.progressEvery);
  return out;
}
