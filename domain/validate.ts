// Validation of a campaign definition: schema errors and cross-reference errors together, so a
// person fixing a file sees every mistake at once, each with its path.
import type { z } from 'zod';
import { BusinessCalendar, CalendarError } from './calendar.ts';
import { KNOWN_HOLIDAY_YEARS, resolveCalendar } from './calendar-data.ts';
import {
  definitionSchema,
  ROLES_BY_UNIT_KIND,
  type CampaignDefinition,
  type Role,
  type UnitKind,
} from './definition.ts';
import { dataEntrySchedule, momentToInstant, phaseWindows, type PhaseWindow } from './schedule.ts';
import {
  DAY,
  isValidTimeZone,
  localParts,
  parseClock,
  parseDurationMs,
  parseMoment,
  zonedInstant,
} from './time.ts';
import type { ResolvedCalendar } from './calendar.ts';
import { describeFault, firstTextProblem, LONG_TEXT_MAX } from './text.ts';

export interface DefinitionProblem {
  /** Where, as a path into the file: `indicators[3].leadUnit`. */
  path: string;
  message: string;
  /** 1-based line in the source file, when known. */
  line?: number;
}

export interface DefinitionSummary {
  campaignId: string;
  name: string;
  county: string;
  year: number;
  timeZone: string;
  units: number;
  people: number;
  indicators: number;
  phases: { phase: string; start: string; end: string }[];
}

export interface ValidationResult {
  valid: boolean;
  errors: DefinitionProblem[];
  warnings: DefinitionProblem[];
  definition?: CampaignDefinition;
  calendar?: ResolvedCalendar;
  summary?: DefinitionSummary;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(root)';
}

function zodProblems(error: z.ZodError): DefinitionProblem[] {
  const out: DefinitionProblem[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({ path: formatPath([...issue.path, key]), message: `unknown key "${key}"` });
      }
      continue;
    }
    if (issue.code === 'invalid_union' && 'errors' in issue && Array.isArray(issue.errors)) {
      // Show the alternatives' own complaints rather than "invalid input".
      const inner = (issue.errors as z.core.$ZodIssue[][]).flat();
      const msgs = [...new Set(inner.map((i) => `${formatPath(i.path)}: ${i.message}`))];
      out.push({
        path: formatPath(issue.path),
        message: `does not match any allowed form (${msgs.join('; ')})`,
      });
      continue;
    }
    out.push({ path: formatPath(issue.path), message: issue.message });
  }
  return out;
}

// ---- defensive readers over the raw (possibly malformed) document ----
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
/** A raw value for a message, whatever it is (String() throws on `{ toString: 1 }`). */
const show = (v: unknown): string =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
    ? String(v)
    : v === null
      ? 'null'
      : Array.isArray(v)
        ? 'a list'
        : typeof v;
/** The roles a unit of `kind` may have, for a kind from the file (never the prototype's). */
const rolesOfKind = (kind: string | undefined): readonly string[] | undefined =>
  kind !== undefined && Object.hasOwn(ROLES_BY_UNIT_KIND, kind)
    ? ROLES_BY_UNIT_KIND[kind as UnitKind]
    : undefined;

interface RawPerson {
  id: string;
  role: string | undefined;
  unitId: string;
  unitKind: string | undefined;
  path: string;
}

/** Cross-reference checks over the raw document; works on whatever parts are well formed. */
function semanticProblems(raw: unknown): DefinitionProblem[] {
  const problems: DefinitionProblem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  if (!isObj(raw)) return problems;

  const campaign = isObj(raw.campaign) ? raw.campaign : {};
  const year = typeof campaign.year === 'number' ? campaign.year : undefined;
  const tzRaw = str(campaign.timeZone) ?? 'Asia/Shanghai';
  const timeZone = isValidTimeZone(tzRaw) ? tzRaw : 'Asia/Shanghai';

  // Units and people.
  const units = new Map<string, { kind: string | undefined; people: RawPerson[]; index: number }>();
  const people = new Map<string, RawPerson>();
  arr(raw.units).forEach((u, ui) => {
    if (!isObj(u)) return;
    const unitId = str(u.id);
    const kind = str(u.kind);
    if (!unitId) return;
    if (units.has(unitId)) add(`units[${ui}].id`, `duplicate unit id "${unitId}"`);
    const entry = units.get(unitId) ?? { kind, people: [], index: ui };
    units.set(unitId, entry);
    arr(u.people).forEach((p, pi) => {
      if (!isObj(p)) return;
      const pid = str(p.id);
      if (!pid) return;
      const path = `units[${ui}].people[${pi}]`;
      if (people.has(pid)) {
        add(
          `${path}.id`,
          `duplicate person id "${pid}" (also in unit "${people.get(pid)?.unitId}")`,
        );
        return;
      }
      const person: RawPerson = { id: pid, role: str(p.role), unitId, unitKind: kind, path };
      people.set(pid, person);
      entry.people.push(person);
      const allowed = rolesOfKind(kind);
      if (allowed && person.role && !allowed.includes(person.role)) {
        add(
          `${path}.role`,
          `a ${kind} unit cannot have a person with role "${person.role}" (allowed: ${allowed.join(', ')})`,
        );
      }
    });
  });
  const unitsOfKind = (k: UnitKind) => [...units.entries()].filter(([, u]) => u.kind === k);
  const bureaus = unitsOfKind('bureau');
  if (bureaus.length !== 1 && units.size > 0) {
    add('units', `exactly one unit must be of kind "bureau" (审批局); found ${bureaus.length}`);
  }
  for (const [bid, b] of bureaus) {
    if (!b.people.some((p) => p.role === 'coordinator' || p.role === 'head')) {
      add('units', `the bureau "${bid}" needs a coordinator or head to review entries`);
    }
  }
  if (unitsOfKind('evaluator').length === 0 && units.size > 0) {
    add('units', 'no unit of kind "evaluator": verification needs the third-party evaluator');
  }
  const hasRole = (unitId: string, role: Role) =>
    units.get(unitId)?.people.some((p) => p.role === role) ?? false;

  // Escalation ladder recipients.
  const policy = isObj(raw.policy) ? raw.policy : {};
  const ladderRecipients = new Set<string>();
  arr(policy.escalation).forEach((s) => {
    if (isObj(s)) arr(s.notify).forEach((r) => typeof r === 'string' && ladderRecipients.add(r));
  });
  if (ladderRecipients.has('leadership') && unitsOfKind('leadership').length === 0 && units.size) {
    add(
      'policy.escalation',
      'the ladder notifies "leadership" but no unit is of kind "leadership"',
    );
  }
  const reminders = arr(policy.reminders).filter((r): r is string => typeof r === 'string');
  const seenOffsets = new Set<number>();
  reminders.forEach((r, i) => {
    const ms = parseDurationMs(r);
    if (ms === null) return;
    if (ms <= 0) add(`policy.reminders[${i}]`, 'a reminder offset must be longer than zero');
    if (seenOffsets.has(ms)) add(`policy.reminders[${i}]`, `duplicate reminder offset ${r}`);
    seenOffsets.add(ms);
  });

  // Indicators.
  const codes = new Set<string>();
  const workUnits = new Set<string>();
  arr(raw.indicators).forEach((ind, ii) => {
    if (!isObj(ind)) return;
    const base = `indicators[${ii}]`;
    const code = str(ind.code);
    if (code) {
      if (codes.has(code)) add(`${base}.code`, `duplicate indicator code "${code}"`);
      codes.add(code);
    }
    const lead = str(ind.leadUnit);
    if (lead) {
      const u = units.get(lead);
      if (!u) add(`${base}.leadUnit`, `unknown unit "${lead}"`);
      else if (u.kind !== 'department' && u.kind !== 'bureau') {
        add(
          `${base}.leadUnit`,
          `unit "${lead}" is a ${u.kind} unit; a lead unit must be a department or the bureau`,
        );
      } else workUnits.add(lead);
    }
    const coop = arr(ind.cooperatingUnits);
    const seenCoop = new Set<string>();
    coop.forEach((c, ci) => {
      if (typeof c !== 'string') return;
      const p = `${base}.cooperatingUnits[${ci}]`;
      if (c === lead) add(p, `"${c}" is the lead unit; it cannot also be a cooperating unit`);
      else if (seenCoop.has(c)) add(p, `cooperating unit "${c}" is listed twice`);
      else if (!units.has(c)) add(p, `unknown unit "${c}"`);
      else if (units.get(c)?.kind !== 'department' && units.get(c)?.kind !== 'bureau') {
        add(
          p,
          `unit "${c}" is a ${units.get(c)?.kind} unit; cooperating units are departments or the bureau`,
        );
      } else workUnits.add(c);
      seenCoop.add(c);
    });
    const teamUnits = new Set([lead, ...coop].filter((x): x is string => typeof x === 'string'));
    const leader = str(ind.teamLeader);
    if (leader) {
      const p = people.get(leader);
      if (!p) add(`${base}.teamLeader`, `unknown person "${leader}"`);
      else if (p.unitId !== lead) {
        add(
          `${base}.teamLeader`,
          `team leader "${leader}" belongs to "${p.unitId}", not to the lead unit "${lead}"`,
        );
      } else if (p.role !== 'head' && p.role !== 'deputy') {
        add(
          `${base}.teamLeader`,
          `team leader "${leader}" has role "${p.role}"; the 领队 must be the lead unit's head or deputy`,
        );
      }
    }
    let leadFillers = 0;
    const seenFillers = new Set<string>();
    arr(ind.fillers).forEach((f, fi) => {
      if (typeof f !== 'string') return;
      const path = `${base}.fillers[${fi}]`;
      const p = people.get(f);
      if (seenFillers.has(f)) add(path, `filler "${f}" is listed twice`);
      seenFillers.add(f);
      if (!p) add(path, `unknown person "${f}"`);
      else if (!teamUnits.has(p.unitId)) {
        add(
          path,
          `filler "${f}" belongs to "${p.unitId}", which is neither the lead nor a cooperating unit`,
        );
      } else if (p.unitId === lead) leadFillers++;
    });
    if (lead && units.has(lead) && arr(ind.fillers).length > 0 && leadFillers === 0) {
      add(`${base}.fillers`, `no filler belongs to the lead unit "${lead}"`);
    }
    const keys = new Set<string>();
    arr(ind.fields).forEach((f, fi) => {
      if (!isObj(f)) return;
      const path = `${base}.fields[${fi}]`;
      const key = str(f.key);
      if (key) {
        if (keys.has(key)) add(`${path}.key`, `duplicate field key "${key}"`);
        keys.add(key);
      }
      if (f.type === 'enum' && arr(f.options).length === 0) {
        add(`${path}.options`, 'an enum field needs its options');
      }
      if (f.type !== 'enum' && f.options !== undefined) {
        add(`${path}.options`, `options apply only to enum fields, not "${show(f.type)}"`);
      }
      if (typeof f.min === 'number' && typeof f.max === 'number' && f.min > f.max) {
        add(`${path}.min`, `min ${f.min} is greater than max ${f.max}`);
      }
      if (f.type === 'percent') {
        if (typeof f.min === 'number' && f.min < 0)
          add(`${path}.min`, 'a percent cannot be below 0');
        if (typeof f.max === 'number' && f.max > 100)
          add(`${path}.max`, 'a percent cannot exceed 100');
      }
    });
  });

  // Units reached by the ladder need the roles it names.
  for (const unitId of workUnits) {
    for (const role of ['deputy', 'head'] as const) {
      if (ladderRecipients.has(role) && !hasRole(unitId, role)) {
        const ui = units.get(unitId)?.index ?? 0;
        add(
          `units[${ui}].people`,
          `unit "${unitId}" has no ${role === 'deputy' ? 'deputy in charge (分管领导)' : 'head (一把手)'}, but the escalation ladder notifies one`,
        );
      }
    }
  }

  // Phases: parseable, in order, in the campaign's year or the next (a campaign that begins late
  // in its year reports in the next, as a rehearsal moved to begin in December does).
  const phases = isObj(raw.phases) ? raw.phases : {};
  const names = ['training', 'dataEntry', 'verification', 'reporting'] as const;
  const bounds: { name: string; start?: number; end?: number }[] = [];
  for (const name of names) {
    const w = isObj(phases[name]) ? phases[name] : undefined;
    if (!w) continue;
    const b: { name: string; start?: number; end?: number } = { name };
    for (const edge of ['start', 'end'] as const) {
      const text = str(w[edge]);
      const m = text ? parseMoment(text, timeZone) : null;
      if (!m) continue;
      // Bare dates: start of the day / end of the day, enough for ordering and the year check.
      const at = m.kind === 'instant' ? m.instant : dayBound(m.date, edge, timeZone);
      b[edge] = at;
      const y = localParts(at, timeZone).year;
      if (year !== undefined && y < year) {
        add(`phases.${name}.${edge}`, `${text} is before the campaign year ${year}`);
      } else if (year !== undefined && y > year + 1) {
        add(
          `phases.${name}.${edge}`,
          `${text} is after ${year + 1}: a campaign of ${year} runs in ${year} and ${year + 1}`,
        );
      }
    }
    if (b.start !== undefined && b.end !== undefined && b.start >= b.end) {
      add(`phases.${name}`, `the window ends (${str(w.end)}) before it starts (${str(w.start)})`);
    }
    bounds.push(b);
  }
  for (let i = 1; i < bounds.length; i++) {
    const prev = bounds[i - 1];
    const cur = bounds[i];
    if (!prev || !cur) continue;
    if (prev.start !== undefined && cur.start !== undefined && cur.start < prev.start) {
      add(
        `phases.${cur.name}.start`,
        `${cur.name} starts before ${prev.name}: phases must be in order`,
      );
    }
    if (prev.end !== undefined && cur.end !== undefined && cur.end < prev.end) {
      add(
        `phases.${cur.name}.end`,
        `${cur.name} ends before ${prev.name}: phases must be in order`,
      );
    }
  }
  const verification = isObj(phases.verification) ? phases.verification : {};
  const proportion = verification.samplingProportion;
  if (typeof proportion === 'number' && !(proportion > 0 && proportion <= 1)) {
    add(
      'phases.verification.samplingProportion',
      `${proportion} is outside (0, 1]: give a share such as 0.1`,
    );
  }
  const dataEntry = isObj(phases.dataEntry) ? phases.dataEntry : {};
  if (dataEntry.order !== undefined) {
    const order = arr(dataEntry.order).filter((c): c is string => typeof c === 'string');
    const seen = new Set<string>();
    order.forEach((c, i) => {
      if (!codes.has(c)) add(`phases.dataEntry.order[${i}]`, `unknown indicator "${c}"`);
      if (seen.has(c)) add(`phases.dataEntry.order[${i}]`, `indicator "${c}" is listed twice`);
      seen.add(c);
    });
    for (const c of codes)
      if (!seen.has(c)) add('phases.dataEntry.order', `indicator "${c}" is missing from the order`);
  }

  // Calendar lists and hours.
  const cal = isObj(raw.calendar) ? raw.calendar : {};
  const opens = parseClock(str(cal.workdayStart) ?? '09:00');
  const closes = parseClock(str(cal.workdayEnd) ?? '18:00');
  if (opens && closes && opens.hour * 60 + opens.minute >= closes.hour * 60 + closes.minute) {
    add(
      'calendar.workdayEnd',
      `the working day ends (${str(cal.workdayEnd) ?? '18:00'}) before it starts (${str(cal.workdayStart) ?? '09:00'})`,
    );
  }
  const hol = new Set(arr(cal.holidays).filter((d): d is string => typeof d === 'string'));
  arr(cal.workdays).forEach((d, i) => {
    if (typeof d === 'string' && hol.has(d)) {
      add(`calendar.workdays[${i}]`, `${d} is listed both as a holiday and as a working day`);
    }
  });

  // Dispatch recipients and channel ids.
  const dispatch = isObj(raw.dispatch) ? raw.dispatch : {};
  arr(dispatch.recipients).forEach((r, i) => {
    if (typeof r === 'string' && !units.has(r))
      add(`dispatch.recipients[${i}]`, `unknown unit "${r}"`);
  });
  // The assessment's rank bands: each bound once, and a wider band never worth more.
  const assessment = isObj(raw.assessment) ? raw.assessment : {};
  const bands = arr(assessment.rankBonuses)
    .map((b, i) => ({ i, b }))
    .filter(
      (x): x is { i: number; b: { rankAtMost: number; points: number } } =>
        isObj(x.b) && typeof x.b.rankAtMost === 'number' && typeof x.b.points === 'number',
    );
  const bandAt = new Map<number, number>();
  for (const { i, b } of bands) {
    if (bandAt.has(b.rankAtMost))
      add(
        `assessment.rankBonuses[${i}].rankAtMost`,
        `rank band ${b.rankAtMost} is already given at rankBonuses[${bandAt.get(b.rankAtMost)}]`,
      );
    else bandAt.set(b.rankAtMost, i);
    for (const { i: j, b: o } of bands)
      if (o.rankAtMost < b.rankAtMost && o.points < b.points)
        add(
          `assessment.rankBonuses[${i}].points`,
          `the band rank ≤ ${b.rankAtMost} gives ${b.points} points, more than the narrower band rank ≤ ${o.rankAtMost} (rankBonuses[${j}]) gives`,
        );
  }
  const notifications = isObj(raw.notifications) ? raw.notifications : {};
  const channelIds = new Set<string>();
  arr(notifications.channels).forEach((c, i) => {
    const cid = isObj(c) ? str(c.id) : undefined;
    if (!cid) return;
    if (channelIds.has(cid))
      add(`notifications.channels[${i}].id`, `duplicate channel id "${cid}"`);
    channelIds.add(cid);
  });
  return problems;
}

function dayBound(date: string, edge: 'start' | 'end', timeZone: string): number {
  const [y, mo, d] = date.split('-').map(Number) as [number, number, number];
  return edge === 'start'
    ? zonedInstant(y, mo, d, 0, 0, 0, timeZone)
    : zonedInstant(y, mo, d, 23, 59, 59, timeZone);
}

/** Checks that need the whole, well-typed definition and its calendar. */
function planProblems(def: CampaignDefinition, calendar: BusinessCalendar): DefinitionProblem[] {
  const problems: DefinitionProblem[] = [];
  const de = def.phases.dataEntry;
  const codes = de.order ?? def.indicators.map((i) => i.code);
  const slots = dataEntrySchedule(codes, de, calendar);
  const end = momentToInstant(de.end, 'end', calendar);
  const last = slots[slots.length - 1];
  if (last && last.due > end) {
    const needed = Math.ceil(codes.length / de.indicatorsPerDay);
    const available = de.slot
      ? `${Math.floor((end - momentToInstant(de.start, 'start', calendar)) / (parseDurationMs(de.slot) ?? 1))} slots`
      : `${calendar.workingDaysBetween(calendar.localDate(momentToInstant(de.start, 'start', calendar)), calendar.localDate(end)).length} working days`;
    problems.push({
      path: 'phases.dataEntry',
      message: `${codes.length} indicators at ${de.indicatorsPerDay} per ${de.slot ? 'slot' : 'working day'} need ${needed} ${de.slot ? 'slots' : 'working days'}, but the window has ${available}`,
    });
  }
  return problems;
}

/**
 * The years whose holidays the campaign needs: from its year to the year after its last phase
 * ends (rectification runs on after reporting): two years, or three when reporting ends in the
 * year after the campaign year.
 */
export function calendarYears(def: CampaignDefinition): number[] {
  const tz = def.campaign.timeZone;
  let last = def.campaign.year;
  for (const w of Object.values(def.phases)) {
    const m = parseMoment(w.end, tz);
    if (m)
      last = Math.max(
        last,
        m.kind === 'instant' ? localParts(m.instant, tz).year : +m.date.slice(0, 4),
      );
  }
  const years: number[] = [];
  for (let y = def.campaign.year; y <= last + 1; y++) years.push(y);
  return years;
}

/**
 * Years the campaign needs that the holiday package does not know and the definition lists
 * nothing for: their working days are then Monday to Friday without public holidays. A warning,
 * never an error: a rehearsal moved into such a year runs on that calendar.
 */
function yearWarnings(def: CampaignDefinition): DefinitionProblem[] {
  if (!def.calendar.chineseHolidays) return [];
  const out: DefinitionProblem[] = [];
  for (const y of calendarYears(def)) {
    const listed = [...def.calendar.holidays, ...def.calendar.workdays].some((d) =>
      d.startsWith(`${y}-`),
    );
    if (!KNOWN_HOLIDAY_YEARS.has(y) && !listed) {
      out.push({
        path: 'calendar',
        message: `the holiday package has no data for ${y}, so its working days are Monday to Friday without public holidays; list that year's holidays and adjusted working days under calendar.holidays / calendar.workdays`,
      });
    }
  }
  return out;
}

/**
 * Progress reports so frequent that one rectification would write hundreds of them: each is a
 * timer and an activity in the rectification workflow's history, which has its limits.
 */
function progressWarnings(def: CampaignDefinition): DefinitionProblem[] {
  const every = parseDurationMs(def.rectification.progressEvery);
  const due = def.rectification.measureDue;
  const span = 'duration' in due ? parseDurationMs(due.duration) : (due.workingDays * 7 * DAY) / 5;
  if (!every || !span || span / every <= 200) return [];
  return [
    {
      path: 'rectification.progressEvery',
      message: `a progress report every ${def.rectification.progressEvery} while measures run about ${Math.round(span / DAY)} days makes some ${Math.round(span / every)} reports per rectification, each kept in its history; choose a longer interval (P7D by default)`,
    },
  ];
}

/** Problems listed at most; a file with more gets a last line saying how many were left out. */
export const MAX_PROBLEMS = 200;

function capped(problems: DefinitionProblem[]): DefinitionProblem[] {
  if (problems.length <= MAX_PROBLEMS) return problems;
  return [
    ...problems.slice(0, MAX_PROBLEMS),
    {
      path: '(root)',
      message: `… and ${problems.length - MAX_PROBLEMS} more problem(s) not listed; fix these first`,
    },
  ];
}

/**
 * A plan that cannot be computed (a calendar without a working day in reach, a window whose
 * slots run past the end of time) as a problem at its place in the file, never a crash.
 */
function unplannable(e: unknown): DefinitionProblem {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof CalendarError)
    return {
      path: 'calendar.holidays',
      message: `the business calendar cannot place the campaign: ${message}`,
    };
  return {
    path: 'phases.dataEntry',
    message: `the data-entry schedule cannot be computed (${message}); check phases.dataEntry.slot and the windows`,
  };
}

/** Validates a parsed definition document (the object from YAML or JSON). */
/** The first text of a definition that breaks the text rule (domain/text.ts), at its path. */
function textProblems(raw: unknown): DefinitionProblem[] {
  const p = firstTextProblem(raw, { max: LONG_TEXT_MAX });
  if (!p) return [];
  const d = describeFault(p);
  const key = p.en.startsWith('the name of ');
  return [
    {
      path: p.path,
      message: key ? `键名${d.zh}（the key ${d.en}）` : `${d.zh}（the text ${d.en}）`,
    },
  ];
}

export function validateDefinition(raw: unknown): ValidationResult {
  const parsed = definitionSchema.safeParse(raw);
  const errors = [
    ...textProblems(raw),
    ...(parsed.success ? [] : zodProblems(parsed.error)),
    ...semanticProblems(raw),
  ];
  if (!parsed.success || errors.length > 0) {
    return { valid: false, errors: capped(dedupe(errors)), warnings: [] };
  }
  const def = parsed.data;
  const calendarData = resolveCalendar(def.campaign.timeZone, calendarYears(def), def.calendar);
  const calendar = new BusinessCalendar(calendarData);
  let planErrors: DefinitionProblem[];
  let phases: PhaseWindow[];
  try {
    planErrors = planProblems(def, calendar);
    phases = phaseWindows(def.phases, calendar);
  } catch (e) {
    return { valid: false, errors: [unplannable(e)], warnings: [] };
  }
  const summary: DefinitionSummary = {
    campaignId: def.campaign.id,
    name: def.campaign.name,
    county: def.campaign.county,
    year: def.campaign.year,
    timeZone: def.campaign.timeZone,
    units: def.units.length,
    people: def.units.reduce((n, u) => n + u.people.length, 0),
    indicators: def.indicators.length,
    phases: phases.map((p) => ({
      phase: p.phase,
      start: new Date(p.start).toISOString(),
      end: new Date(p.end).toISOString(),
    })),
  };
  return {
    valid: planErrors.length === 0,
    errors: planErrors,
    warnings: [...yearWarnings(def), ...progressWarnings(def)],
    definition: def,
    calendar: calendarData,
    summary,
  };
}

function dedupe(problems: DefinitionProblem[]): DefinitionProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.path}\u0000${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
