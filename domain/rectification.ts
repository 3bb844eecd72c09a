// The rectification loop (整改): the shapes of its step submissions — problems, causes, gaps,
// measures — and their checks against the roster. Pure: the task validator uses them, so a
// malformed step is refused before it touches a history.
import { z } from 'zod';
import type { Roster } from './roster.ts';
import { localDateOf, parseMoment, type Instant } from './time.ts';

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
  /** The end of the working day (HH:mm), when known: a bare date's deadline is then. */
  workdayEnd?: string | undefined;
}

/** A problem of a step's data, in English and Chinese, for the person who submitted it. */
export interface StepProblem {
  en: string;
  zh: string;
}

/** The names people know the step fields by. */
const FIELD_NAMES: Record<string, [string, string]> = {
  problems: ['problems', '问题清单'],
  causes: ['causes', '原因分析'],
  gaps: ['gaps', '差距'],
  measures: ['measures', '整改措施'],
  finding: ['source (finding)', '问题来源'],
  description: ['description', '问题描述'],
  problem: ['problem number', '对应问题序号'],
  cause: ['cause', '原因'],
  gap: ['gap', '差距'],
  benchmark: ['benchmark', '对标地区'],
  measure: ['measure', '措施内容'],
  unit: ['responsible unit', '责任单位'],
  person: ['responsible person', '责任人'],
  due: ['deadline', '完成时限'],
};

/** Where in the step's data, as people read it: "problems #2, description" / "问题清单第 2 条的“问题描述”". */
function placeOf(path: readonly PropertyKey[]): StepProblem {
  const en: string[] = [];
  let zh = '';
  for (let i = 0; i < path.length; i++) {
    const k = path[i];
    if (typeof k === 'number') {
      en.push(`#${k + 1}`);
      zh += `第 ${k + 1} 条`;
      continue;
    }
    const [e, z] = FIELD_NAMES[String(k)] ?? [String(k), String(k)];
    en.push(e);
    zh += i === 0 ? z : `的“${z}”`;
  }
  return en.length ? { en: en.join(', '), zh } : { en: 'the data', zh: '填报内容' };
}

/** A schema's refusal said in words: what is wrong, where, and what would do. */
function schemaProblem(issue: z.core.$ZodIssue): StepProblem {
  const where = placeOf(issue.path);
  switch (issue.code) {
    case 'invalid_type':
      if (issue.expected === 'number')
        return { en: `${where.en}: give a number`, zh: `${where.zh}应填写数字` };
      if (issue.expected === 'array')
        return { en: `${where.en}: give a list`, zh: `${where.zh}应为逐条列出的清单` };
      if (issue.expected === 'object')
        return { en: `${where.en}: give the entry's fields`, zh: `${where.zh}应按栏目填写` };
      return { en: `${where.en}: fill it in (text)`, zh: `请填写${where.zh}（文字）` };
    case 'too_small':
      return issue.origin === 'array'
        ? { en: `${where.en}: list at least one`, zh: `${where.zh}至少要列出一条` }
        : issue.origin === 'number'
          ? { en: `${where.en}: must be 1 or more`, zh: `${where.zh}应为 1 或更大` }
          : { en: `${where.en}: must not be empty`, zh: `${where.zh}不能为空` };
    case 'invalid_format':
    case 'invalid_value':
    default:
      return issue.path.at(-1) === 'problem'
        ? { en: `${where.en}: give a whole number`, zh: `${where.zh}应为整数` }
        : { en: `${where.en}: not valid`, zh: `${where.zh}不合要求` };
  }
}

/** Every problem of a step's data, in both languages; an empty list when it is acceptable. */
export function checkStepProblems(kind: StepKind, data: unknown, ctx: StepContext): StepProblem[] {
  const problems: StepProblem[] = [];
  const schemaProblems = (e: z.ZodError) => e.issues.map(schemaProblem);
  const refs = (items: { problem: number }[], list: string) => {
    for (const [i, it] of items.entries()) {
      if (it.problem > ctx.problemCount) {
        const where = placeOf([list, i, 'problem']);
        problems.push({
          en: `${where.en}: there is no problem ${it.problem} (${ctx.problemCount} listed)`,
          zh: `${where.zh}为 ${it.problem}，但只列出了 ${ctx.problemCount} 个问题`,
        });
      }
    }
  };
  const every = (items: { problem: number }[], what: string, whatZh: string) => {
    for (let p = 1; p <= ctx.problemCount; p++) {
      if (!items.some((it) => it.problem === p))
        problems.push({
          en: `problem ${p} has no ${what}`,
          zh: `第 ${p} 个问题还没有${whatZh}：每个问题都要有`,
        });
    }
  };
  switch (kind) {
    case 'rectify-problems': {
      const r = problemsSchema.safeParse(data);
      return r.success ? [] : schemaProblems(r.error);
    }
    case 'rectify-causes': {
      const r = causesSchema.safeParse(data);
      if (!r.success) return schemaProblems(r.error);
      refs(r.data.causes, 'causes');
      every(r.data.causes, 'cause', '原因分析');
      return problems;
    }
    case 'rectify-gaps': {
      const r = gapsSchema.safeParse(data);
      if (!r.success) return schemaProblems(r.error);
      refs(r.data.gaps, 'gaps');
      every(r.data.gaps, 'gap', '差距');
      return problems;
    }
    case 'rectify-measures': {
      const r = measuresSchema.safeParse(data);
      if (!r.success) return schemaProblems(r.error);
      refs(r.data.measures, 'measures');
      every(r.data.measures, 'measure', '整改措施');
      for (const [i, m] of r.data.measures.entries()) {
        const where = placeOf(['measures', i]);
        for (const p of measureProblems(m, ctx))
          problems.push({ en: `${where.en}, ${p.en}`, zh: `${where.zh}：${p.zh}` });
      }
      return problems;
    }
  }
}

/** Every problem of a step's data (in English); an empty list when it is acceptable. */
export function checkStepData(kind: StepKind, data: unknown, ctx: StepContext): string[] {
  return checkStepProblems(kind, data, ctx).map((p) => p.en);
}

/** A measure's owner, person and deadline against the roster and the clock, in both languages. */
export function measureProblems(
  m: { unit: string; person: string; due: string },
  ctx: StepContext,
): StepProblem[] {
  const out: StepProblem[] = [];
  const unit = ctx.roster.units.find((u) => u.id === m.unit);
  const units = ctx.roster.units
    .filter((u) => u.kind === 'department' || u.kind === 'bureau')
    .map((u) => u.id)
    .join(', ');
  if (!unit)
    out.push({
      en: `unit: unknown unit "${m.unit}" (units: ${units})`,
      zh: `责任单位“${m.unit}”不在本次考核的单位中（可选：${units}）`,
    });
  else if (unit.kind !== 'department' && unit.kind !== 'bureau')
    out.push({
      en: `unit: "${m.unit}" is a ${unit.kind} unit`,
      zh: `“${unit.name}”不是职能部门，不能承担整改措施`,
    });
  const person = ctx.roster.people.find((p) => p.id === m.person);
  if (!person)
    out.push({ en: `person: unknown person "${m.person}"`, zh: `责任人“${m.person}”不在名册中` });
  else if (person.unitId !== m.unit)
    out.push({
      en: `person: ${m.person} is not in unit "${m.unit}"`,
      zh: `${person.name}不属于“${unit?.name ?? m.unit}”，责任人须是责任单位的人员`,
    });
  const late = measureDeadlineProblem(m.due, ctx);
  if (late) out.push(late);
  return out;
}

/**
 * A measure's deadline that is not a moment, or has already passed: a date-time at or before
 * `now`, a bare date before today (or, when the working day's end is known, a day whose working
 * day has ended). A measure due in the past would be overdue and escalated the moment it
 * starts, so it is refused before anything is created. null when the deadline is acceptable.
 */
export function measureDeadlineProblem(
  dueText: string,
  ctx: Pick<StepContext, 'timeZone' | 'now' | 'workdayEnd'>,
): StepProblem | null {
  const due = parseMoment(dueText, ctx.timeZone);
  if (!due)
    return {
      en: `due: "${dueText}" is not a date or date-time`,
      zh: `完成时限“${dueText}”不是日期或时间（如 2026-11-30 或 2026-11-30T18:00）`,
    };
  const today = localDateOf(ctx.now, ctx.timeZone);
  const passed =
    due.kind === 'instant'
      ? due.instant <= ctx.now
      : due.date < today ||
        (ctx.workdayEnd !== undefined &&
          measureDue(due.date, ctx.timeZone, ctx.workdayEnd) <= ctx.now);
  return passed
    ? {
        en: `due: ${dueText} is in the past (today is ${today}): give a deadline still to come`,
        zh: `完成时限 ${dueText} 已经过去（今天是 ${today}）：请给出尚未到来的期限`,
      }
    : null;
}

/** A measure's owner, person and deadline against the roster and the clock (in English). */
export function checkMeasure(
  m: { unit: string; person: string; due: string },
  ctx: StepContext,
): string[] {
  return measureProblems(m, ctx).map((p) => p.en);
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
