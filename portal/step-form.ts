// A rectification step's data (problems, causes, gaps, measures) as the portal takes it: read
// from a form's flat fields (`problems.0.description`, …) or from a JSON body, then checked with
// the schemas and rules of domain/rectification.ts, every problem said in Chinese or English
// and keyed by the field it is about. Raw schema output never reaches a person.
import type { z } from 'zod';
import {
  causesSchema,
  checkStepData,
  gapsSchema,
  measuresSchema,
  problemsSchema,
  type StepContext,
  type StepKind,
} from '../domain/rectification.ts';
import { parseMoment } from '../domain/time.ts';
import { t, type Lang } from './html.ts';

/** The list each step's data holds, and the fields of one row of it. */
export const STEP_LISTS: Record<StepKind, { list: string; fields: string[] }> = {
  'rectify-problems': { list: 'problems', fields: ['finding', 'description'] },
  'rectify-causes': { list: 'causes', fields: ['problem', 'cause'] },
  'rectify-gaps': { list: 'gaps', fields: ['problem', 'gap'] },
  'rectify-measures': {
    list: 'measures',
    fields: ['problem', 'measure', 'unit', 'person', 'due'],
  },
};

const SCHEMAS: Record<StepKind, z.ZodType> = {
  'rectify-problems': problemsSchema,
  'rectify-causes': causesSchema,
  'rectify-gaps': gapsSchema,
  'rectify-measures': measuresSchema,
};

/** Names of the fields, for labels and for messages. */
export const FIELD_LABELS: Record<string, [string, string]> = {
  finding: ['问题来源', 'source'],
  description: ['问题描述', 'description'],
  problem: ['对应问题', 'problem'],
  cause: ['原因分析', 'cause'],
  benchmark: ['对标地区', 'benchmark'],
  gap: ['差距', 'gap'],
  measure: ['整改措施', 'measure'],
  unit: ['责任单位', 'responsible unit'],
  person: ['责任人', 'responsible person'],
  due: ['完成时限', 'due date'],
  reason: ['增加原因', 'reason'],
};

export const STEP_TITLES: Record<StepKind, [string, string]> = {
  'rectify-problems': ['查问题', 'Find the problems'],
  'rectify-causes': ['摆原因', 'Analyse the causes'],
  'rectify-gaps': ['找差距', 'Find the gaps'],
  'rectify-measures': ['定措施', 'Define the measures'],
};

const WHAT_PER_PROBLEM: Record<string, [string, string]> = {
  causes: ['原因', 'cause'],
  gaps: ['差距', 'gap'],
  measures: ['整改措施', 'measure'],
};

/** Per-field problems: the key is the form field's name (`problems.0.description`, `gaps`, …). */
export type FieldErrors = Record<string, string>;

/** What a form gave for a step: the data, and for each row of the data its row on the form. */
export interface StepFromForm {
  data: Record<string, unknown>;
  /** data row index → form row index. */
  rows: number[];
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/**
 * A step's data from a form's flat fields. A row left wholly blank is no row; a row partly
 * filled stays, so that its empty field is named. Problem numbers become numbers.
 */
export function stepFromForm(kind: StepKind, body: Record<string, unknown>): StepFromForm {
  const { list, fields } = STEP_LISTS[kind];
  const byRow = new Map<number, Record<string, string>>();
  const re = new RegExp(`^${list}\\.(\\d{1,3})\\.(\\w+)$`);
  for (const [k, v] of Object.entries(body)) {
    const m = re.exec(k);
    if (!m || !fields.includes(m[2]!)) continue;
    const i = Number(m[1]);
    const row = byRow.get(i) ?? {};
    row[m[2]!] = str(v);
    byRow.set(i, row);
  }
  const rows: number[] = [];
  const items: Record<string, unknown>[] = [];
  for (const i of [...byRow.keys()].sort((a, b) => a - b)) {
    const row = byRow.get(i)!;
    // The causes and gaps forms have one row per problem (its number fixed): such a row stays
    // even when blank, so that its empty field is named beside it. Elsewhere a blank row is none.
    const perProblem = kind === 'rectify-causes' || kind === 'rectify-gaps';
    const filled = fields.filter((f) => (perProblem || f !== 'problem') && row[f]?.trim());
    if (filled.length === 0) continue;
    const item: Record<string, unknown> = {};
    for (const f of fields) {
      const v = row[f] ?? '';
      item[f] = f === 'problem' ? (/^\d{1,4}$/.test(v.trim()) ? Number(v.trim()) : v) : v;
    }
    rows.push(i);
    items.push(item);
  }
  const data: Record<string, unknown> = { [list]: items };
  if (kind === 'rectify-gaps') data.benchmark = str(body.benchmark);
  return { data, rows };
}

/** The values a form shows again after a refusal, by field name. */
export function formValues(body: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** A step's data as form values (to show a returned step's last submission again). */
export function valuesOfData(kind: StepKind, data: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!data || typeof data !== 'object') return out;
  const d = data as Record<string, unknown>;
  const { list, fields } = STEP_LISTS[kind];
  const items = Array.isArray(d[list]) ? (d[list] as Record<string, unknown>[]) : [];
  items.forEach((it, i) => {
    for (const f of fields)
      if (it && it[f] !== undefined && it[f] !== null) out[`${list}.${i}.${f}`] = String(it[f]);
  });
  if (typeof d.benchmark === 'string') out.benchmark = d.benchmark;
  return out;
}

function fieldLabel(lang: Lang, field: string): string {
  const l = FIELD_LABELS[field];
  return l ? t(lang, l[0], l[1]) : field;
}

/** "第 2 条的问题描述" / "row 2: the description" */
function where(lang: Lang, row: number, field: string): string {
  return t(
    lang,
    `第 ${row + 1} 条的${fieldLabel(lang, field)}`,
    `Row ${row + 1}: the ${fieldLabel(lang, field)}`,
  );
}

/** One zod issue as a person's sentence about the field it names. */
function issueText(
  lang: Lang,
  issue: z.core.$ZodIssue,
  problemCount: number,
  formRow: (i: number) => number,
): { key: string; text: string } {
  const path = issue.path.map(String);
  const [list, index, field] = path;
  if (path.length === 0)
    return {
      key: '_',
      text: t(lang, '提交的内容不是有效的整改数据。', 'What was sent is not rectification data.'),
    };
  if (path.length === 1) {
    // The list itself (or the benchmark).
    if (list === 'benchmark')
      return {
        key: 'benchmark',
        text: t(lang, '请填写对标的先进地区。', 'Name the benchmark (a leading place).'),
      };
    return {
      key: list!,
      text: t(lang, '请至少填写一条。', 'Fill in at least one row.'),
    };
  }
  const row = formRow(Number(index));
  const key = field ? `${list}.${row}.${field}` : `${list}.${row}`;
  if (!field)
    return { key, text: t(lang, `第 ${row + 1} 条填写有误。`, `Row ${row + 1} is not valid.`) };
  if (field === 'problem')
    return {
      key,
      text: t(
        lang,
        `${where(lang, row, field)}须为 1 至 ${Math.max(problemCount, 1)} 的问题编号。`,
        `${where(lang, row, field)} must be a problem number from 1 to ${Math.max(problemCount, 1)}.`,
      ),
    };
  return {
    key,
    text: t(
      lang,
      `${where(lang, row, field)}不能为空。`,
      `${where(lang, row, field)} must not be empty.`,
    ),
  };
}

/**
 * A measure's unit, person and due date against the roster and the clock: the checks of
 * domain/rectification.ts checkMeasure, field by field.
 */
export function measureFieldErrors(
  lang: Lang,
  m: { unit: string; person: string; due: string },
  ctx: StepContext,
  prefix: string,
): FieldErrors {
  const out: FieldErrors = {};
  const unit = ctx.roster.units.find((u) => u.id === m.unit);
  if (!unit)
    out[`${prefix}unit`] = t(
      lang,
      '请选择本次考核中的责任单位。',
      'Choose a unit of the campaign.',
    );
  else if (unit.kind !== 'department' && unit.kind !== 'bureau')
    out[`${prefix}unit`] = t(
      lang,
      `“${unit.name}”不是职能部门，不能承担整改措施。`,
      `“${unit.name}” is not a department: it cannot own a measure.`,
    );
  const person = ctx.roster.people.find((p) => p.id === m.person);
  if (!person)
    out[`${prefix}person`] = t(
      lang,
      '请选择本次考核名册中的责任人。',
      'Choose a person of the roster.',
    );
  else if (unit && person.unitId !== m.unit)
    out[`${prefix}person`] = t(
      lang,
      `${person.name}不在${unit.name}，责任人须是责任单位的人员。`,
      `${person.name} is not in ${unit.name}: the person must be of the responsible unit.`,
    );
  const due = parseMoment(m.due, ctx.timeZone);
  if (!due)
    out[`${prefix}due`] = t(
      lang,
      '完成时限须为日期（如 2026-12-20）或日期和时间（如 2026-12-20T18:00）。',
      'The due date must be a date such as 2026-12-20, or a date and time such as 2026-12-20T18:00.',
    );
  else if (due.kind === 'instant' && due.instant <= ctx.now)
    out[`${prefix}due`] = t(lang, '完成时限已经过去。', 'The due date is in the past.');
  return out;
}

/**
 * Every problem of a step's data, keyed by field; empty when the step's own rules (the task's
 * validator runs them again) accept it. `rows` maps the data's rows to the form's.
 */
export function stepErrors(
  kind: StepKind,
  data: unknown,
  ctx: StepContext,
  lang: Lang,
  rows?: number[],
): FieldErrors {
  const formRow = (i: number) => rows?.[i] ?? i;
  const out: FieldErrors = {};
  const r = SCHEMAS[kind].safeParse(data);
  if (!r.success) {
    for (const issue of r.error.issues) {
      const { key, text } = issueText(lang, issue, ctx.problemCount, formRow);
      out[key] ??= text;
    }
    return out;
  }
  const { list } = STEP_LISTS[kind];
  const items = (r.data as Record<string, { problem?: number }[]>)[list] ?? [];
  if (kind !== 'rectify-problems') {
    items.forEach((it, i) => {
      if ((it.problem ?? 0) > ctx.problemCount)
        out[`${list}.${formRow(i)}.problem`] ??= t(
          lang,
          `没有第 ${it.problem} 个问题（共列出 ${ctx.problemCount} 个）。`,
          `There is no problem ${it.problem} (${ctx.problemCount} listed).`,
        );
    });
    const what = WHAT_PER_PROBLEM[list]!;
    const lacking: number[] = [];
    for (let p = 1; p <= ctx.problemCount; p++)
      if (!items.some((it) => it.problem === p)) lacking.push(p);
    if (lacking.length)
      out[list] ??= t(
        lang,
        `问题 ${lacking.join('、')} 还没有填写${what[0]}：每个问题都要有。`,
        `Problem ${lacking.join(', ')} has no ${what[1]} yet: every problem needs one.`,
      );
  }
  if (kind === 'rectify-measures') {
    (r.data as { measures: { unit: string; person: string; due: string }[] }).measures.forEach(
      (m, i) => {
        for (const [k, v] of Object.entries(
          measureFieldErrors(lang, m, ctx, `measures.${formRow(i)}.`),
        ))
          out[k] ??= v;
      },
    );
  }
  // The domain's own check is the last word: anything it finds that the above did not name is
  // said in general terms rather than in its own words.
  if (Object.keys(out).length === 0 && checkStepData(kind, data, ctx).length > 0)
    out._ = t(
      lang,
      '填报内容不符合整改规则，请检查后再提交。',
      'The data do not meet the rectification rules: check them and submit again.',
    );
  return out;
}
