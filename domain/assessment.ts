// The units' assessment (考核): points per unit computed from the projections (tasks, their
// events, verification outcomes, results), every deduction and bonus traced to its task, event
// and rule. Pure: the same rows give the same figures every time. Not yet part of the
// The policy is the definition's optional `assessment` section (every field optional, with these
// defaults); `campaign report assessment` reads the rows and prints the result.
import { z } from 'zod';
import type { BusinessCalendar } from './calendar.ts';

export const assessmentPolicySchema = z.strictObject({
  /** Each unit starts from this many points. */
  base: z.number().min(0).max(1000).default(100),
  /** Deducted per working day a task was (or is) late. */
  perWorkingDayLate: z.number().min(0).max(100).default(0.5),
  /** Deducted per escalation level a task reached (level 2 costs twice level 1). */
  perEscalationLevel: z.number().min(0).max(100).default(1),
  /** Deducted per return of a submission by the reviewer. */
  perReturn: z.number().min(0).max(100).default(0.5),
  /** Deducted from the lead unit for each confirmed discrepancy (数据造假 / 不实). */
  perDiscrepancy: z.number().min(0).max(100).default(5),
  /** Deducted per training task not done. */
  trainingNotDone: z.number().min(0).max(100).default(2),
  /** Bonus to the lead unit of an indicator whose rank is at most `rankAtMost`. */
  rankBonuses: z
    .array(
      z.strictObject({
        rankAtMost: z.number().int().min(1).max(10_000),
        points: z.number().min(0).max(100),
      }),
    )
    .max(10)
    .default([
      { rankAtMost: 3, points: 3 },
      { rankAtMost: 10, points: 1 },
    ]),
  /** At most this many points are deducted from a unit in all. */
  cap: z.number().min(0).max(1000).default(30),
});
export type AssessmentPolicy = z.infer<typeof assessmentPolicySchema>;

/** The policy of a definition: its `assessment` section, or the defaults when it has none. */
export function assessmentPolicyOf(def: { assessment?: unknown }): AssessmentPolicy {
  return assessmentPolicySchema.parse(def.assessment ?? {});
}

export interface AssessedTask {
  taskId: string;
  unitId: string;
  indicator: string | null;
  kind: string;
  state: string;
  dueAt: number;
  completedAt: number | null;
  /** The event that completed the task (its seq), for tracing a late entry to it. */
  completedSeq?: number | null;
}
export interface AssessedEvent {
  taskId: string;
  seq: number;
  unitId: string;
  type: string;
  at: number;
  detail: Record<string, unknown>;
}
export interface AssessedVerification {
  indicator: string;
  item: string;
  outcome: 'confirmed' | 'discrepant';
  at: number;
  /** The verification's number within its indicator, for tracing. */
  seq?: number;
}
export interface AssessedResult {
  indicator: string;
  rank: number;
}

export type AssessmentRule =
  'late' | 'escalation' | 'return' | 'discrepancy' | 'trainingNotDone' | 'rankBonus' | 'cap';

export interface AssessmentEntry {
  rule: AssessmentRule;
  points: number;
  taskId?: string;
  eventSeq?: number;
  indicator?: string;
  /** In words, for the report. */
  detail: string;
}

export interface UnitAssessment {
  unitId: string;
  base: number;
  deductions: number;
  bonuses: number;
  points: number;
  entries: AssessmentEntry[];
}

const round = (n: number) => Math.round(n * 100) / 100;

/**
 * Highlights and typical cases are proposals a department offers, not duties: the bureau
 * returning one for rework costs nothing (being late with one it asked for still does).
 */
const PROPOSAL_KINDS = new Set(['highlight', 'case']);

/**
 * Whether an escalation reached at `at` is late against the task's current due instant: an
 * escalation fires at or after the due instant then in force, so one before the current due
 * instant means the deadline has been moved later since.
 */
export function escalationStillLate(at: number, currentDue: number): boolean {
  return at >= currentDue;
}

/** Each unit's points as of `now`, every entry traced; units in the order given. */
export function assess(input: {
  policy: AssessmentPolicy;
  calendar: BusinessCalendar;
  units: string[];
  leadUnitOf: Record<string, string>;
  tasks: AssessedTask[];
  events: AssessedEvent[];
  verifications: AssessedVerification[];
  results: AssessedResult[];
  now: number;
}): UnitAssessment[] {
  const { policy: p, calendar } = input;
  const entries = new Map<string, AssessmentEntry[]>(input.units.map((u) => [u, []]));
  const add = (unit: string, e: AssessmentEntry) => entries.get(unit)?.push(e);
  for (const t of input.tasks) {
    if (t.state === 'cancelled') continue;
    const end = t.completedAt ?? (t.state === 'done' ? t.dueAt : input.now);
    if (end > t.dueAt) {
      // Working days after the due day up to the day it was done (or today), both counted.
      const from = calendar.localDate(t.dueAt);
      const days = calendar
        .workingDaysBetween(from, calendar.localDate(end))
        .filter((d) => d > from).length;
      if (days > 0 && p.perWorkingDayLate > 0)
        add(t.unitId, {
          rule: 'late',
          points: -round(days * p.perWorkingDayLate),
          taskId: t.taskId,
          ...(typeof t.completedSeq === 'number' ? { eventSeq: t.completedSeq } : {}),
          ...(t.indicator ? { indicator: t.indicator } : {}),
          detail: `${days} working day(s) late${t.completedAt === null ? ' (still open)' : ''}`,
        });
    }
    if (t.kind === 'training' && t.state !== 'done' && input.now > t.dueAt && p.trainingNotDone > 0)
      add(t.unitId, {
        rule: 'trainingNotDone',
        points: -p.trainingNotDone,
        taskId: t.taskId,
        ...(t.indicator ? { indicator: t.indicator } : {}),
        detail: 'training not done by its due time',
      });
  }
  const taskById = new Map(input.tasks.map((t) => [t.taskId, t]));
  for (const e of [...input.events].sort(
    (a, b) => a.taskId.localeCompare(b.taskId) || a.seq - b.seq,
  )) {
    const t = taskById.get(e.taskId);
    if (!t || t.state === 'cancelled') continue;
    const indicator = t.indicator ? { indicator: t.indicator } : {};
    if (e.type === 'escalated') {
      // Charges follow the deadline in force now: an escalation reached before the current
      // due instant (the deadline was moved later since, by an extension, a phase move or a
      // measure's new date) was not late against it and costs nothing.
      if (!escalationStillLate(e.at, t.dueAt)) continue;
      const level = Number(e.detail.level ?? 1);
      if (Number.isFinite(level) && level > 0 && p.perEscalationLevel > 0)
        add(e.unitId, {
          rule: 'escalation',
          points: -round(level * p.perEscalationLevel),
          taskId: e.taskId,
          eventSeq: e.seq,
          ...indicator,
          detail: `escalation level ${level} reached`,
        });
    } else if (e.type === 'returned' && p.perReturn > 0 && !PROPOSAL_KINDS.has(t.kind))
      add(e.unitId, {
        rule: 'return',
        points: -p.perReturn,
        taskId: e.taskId,
        eventSeq: e.seq,
        ...indicator,
        detail: `submission returned${typeof e.detail.reason === 'string' ? `: ${e.detail.reason}` : ''}`,
      });
  }
  for (const v of input.verifications) {
    const lead = input.leadUnitOf[v.indicator];
    if (v.outcome === 'discrepant' && lead && p.perDiscrepancy > 0)
      add(lead, {
        rule: 'discrepancy',
        points: -p.perDiscrepancy,
        ...(typeof v.seq === 'number' ? { eventSeq: v.seq } : {}),
        indicator: v.indicator,
        detail: `verified item "${v.item}" discrepant`,
      });
  }
  const bands = [...p.rankBonuses].sort((a, b) => a.rankAtMost - b.rankAtMost);
  for (const r of input.results) {
    const lead = input.leadUnitOf[r.indicator];
    const band = bands.find((b) => r.rank <= b.rankAtMost);
    if (lead && band && band.points > 0)
      add(lead, {
        rule: 'rankBonus',
        points: band.points,
        indicator: r.indicator,
        detail: `rank ${r.rank} (band: rank ≤ ${band.rankAtMost})`,
      });
  }
  return input.units.map((unitId) => {
    const list = entries.get(unitId) ?? [];
    const raw = -list.filter((e) => e.points < 0).reduce((s, e) => s + e.points, 0);
    const bonuses = round(list.filter((e) => e.points > 0).reduce((s, e) => s + e.points, 0));
    let deductions = round(raw);
    if (deductions > p.cap) {
      list.push({
        rule: 'cap',
        points: round(deductions - p.cap),
        detail: `deductions capped at ${p.cap} (${deductions} computed)`,
      });
      deductions = p.cap;
    }
    return {
      unitId,
      base: p.base,
      deductions,
      bonuses,
      points: round(p.base - deductions + bonuses),
      entries: list,
    };
  });
}
