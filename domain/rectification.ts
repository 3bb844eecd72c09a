// The rectification loop (整改): the shapes of its step submissions — problems, causes, gaps,
// measures — and their checks against the roster. Pure: the task validator uses them, so a
// malformed step is refused before it touches a history.
import { z } from 'zod';
import type { Roster } from './roster.ts';
import { parseMoment, type Instant } from './time.ts';

export const STEP_KINDS = [
  'rectify-problems',
  'rectify-causes',
  'rectify-gaps',
  'rectify-measures',
] as const;
export type StepKind = (typeof STEP_KINDS)[number];

const text = z.string().trim().min(1, 'must not be empty');

export const problemsSchema = z.object({
  problems: z
    .array(z.object({ finding: text, description: text }))
    .min(1, 'list at least one problem'),
});
export const causesSchema = z.object({
  causes: z.array(z.object({ problem: z.number().int().min(1), cause: text })).min(1),
});
export const gapsSchema = z.object({
  benchmark: text,
  gaps: z.array(z.object({ problem: z.number().int().min(1), gap: text })).min(1),
});
export const measuresSchema = z.object({
  measures: z
    .array(
      z.object({
        problem: z.number().int().min(1),
        measure: text,
        unit: text,
        person: text,
        due: text,
      }),
    )
    .min(1),
});

export type Problems = z.infer<typeof problemsSchema>;
export type Causes = z.infer<typeof causesSchema>;
export type Gaps = z.infer<typeof gapsSchema>;
export type Measures = z.infer<typeof measuresSchema>;

export interface PlannedMeasure {
  no: number;
  problem: number;
  measure: string;
  unit: string;
  person: string;
  due: Instant;
}

/** What an earlier step fixed, against which a later step is checked. */
export interface StepContext {
  problemCount: number;
  roster: Roster;
  timeZone: string;
  now: Instant;
}

function zodMessage(e: z.ZodError): string {
  return e.issues.map((i) => `${i.path.join('.') || '(data)'}: ${i.message}`).join('; ');
}

/** Every problem of a step's data; an empty list when it is acceptable. */
export function checkStepData(kind: StepKind, data: unknown, ctx: StepContext): string[] {
  const problems: string[] = [];
  const refs = (items: { problem: number }[], what: string) => {
    for (const [i, it] of items.entries()) {
      if (it.problem > ctx.problemCount)
        problems.push(
          `${what}[${i}].problem: there is no problem ${it.problem} (${ctx.problemCount} listed)`,
        );
    }
  };
  const every = (items: { problem: number }[], what: string) => {
    for (let p = 1; p <= ctx.problemCount; p++) {
      if (!items.some((it) => it.problem === p)) problems.push(`problem ${p} has no ${what}`);
    }
  };
  switch (kind) {
    case 'rectify-problems': {
      const r = problemsSchema.safeParse(data);
      if (!r.success) return [zodMessage(r.error)];
      return [];
    }
    case 'rectify-causes': {
      const r = causesSchema.safeParse(data);
      if (!r.success) return [zodMessage(r.error)];
      refs(r.data.causes, 'causes');
      every(r.data.causes, 'cause');
      return problems;
    }
    case 'rectify-gaps': {
      const r = gapsSchema.safeParse(data);
      if (!r.success) return [zodMessage(r.error)];
      refs(r.data.gaps, 'gaps');
      every(r.data.gaps, 'gap');
      return problems;
    }
    case 'rectify-measures': {
      const r = measuresSchema.safeParse(data);
      if (!r.success) return [zodMessage(r.error)];
      refs(r.data.measures, 'measures');
      every(r.data.measures, 'measure');
      for (const [i, m] of r.data.measures.entries())
        problems.push(...checkMeasure(m, ctx).map((p) => `measures[${i}].${p}`));
      return problems;
    }
  }
}

/** A measure's owner, person and deadline against the roster and the clock. */
export function checkMeasure(
  m: { unit: string; person: string; due: string },
  ctx: StepContext,
): string[] {
  const out: string[] = [];
  const unit = ctx.roster.units.find((u) => u.id === m.unit);
  if (!unit) out.push(`unit: unknown unit "${m.unit}"`);
  else if (unit.kind !== 'department' && unit.kind !== 'bureau')
    out.push(`unit: "${m.unit}" is a ${unit.kind} unit`);
  const person = ctx.roster.people.find((p) => p.id === m.person);
  if (!person) out.push(`person: unknown person "${m.person}"`);
  else if (person.unitId !== m.unit) out.push(`person: ${m.person} is not in unit "${m.unit}"`);
  const due = parseMoment(m.due, ctx.timeZone);
  if (!due) out.push(`due: "${m.due}" is not a date or date-time`);
  else if (due.kind === 'instant' && due.instant <= ctx.now)
    out.push(`due: ${m.due} is in the past`);
  return out;
}

/** The measure's deadline as an instant: a bare date means the end of that day's work. */
export function measureDue(due: string, timeZone: string, workdayEnd: string): Instant {
  const m = parseMoment(due, timeZone);
  if (!m) throw new Error(`bad due ${due}`);
  if (m.kind === 'instant') return m.instant;
  const end = parseMoment(`${m.date}T${workdayEnd}`, timeZone);
  if (!end || end.kind !== 'instant') throw new Error(`bad due ${due}`);
  return end.instant;
}

/** 整改进展 as the ledger shows it, from the measure task's state. */
export function progressOf(state: string, submitted: boolean): string {
  if (state === 'done') return '已验收';
  if (state === 'cancelled') return '已取消';
  if (state === 'submitted') return '待验收';
  if (state === 'returned') return '已退回整改';
  return submitted ? '进行中' : '未启动';
}
