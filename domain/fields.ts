// Validation of questionnaire data against an indicator's typed fields. Pure: the task
// workflow's update validator and the CLI both use it, so bad data is refused before it
// touches a workflow history.
import type { QuestionnaireField } from './definition.ts';
import { isLocalDate } from './time.ts';

export type FieldValue = string | number | boolean | null;

export interface FieldProblem {
  field: string;
  message: string;
}

/** A value for a message, whatever it is (JSON.stringify throws on a cycle or a BigInt). */
function shown(v: unknown): string {
  try {
    const text = JSON.stringify(v) ?? typeof v;
    return text.length > 200 ? `${text.slice(0, 200)}…` : text;
  } catch {
    return Array.isArray(v) ? 'a list' : typeof v;
  }
}

function checkOne(f: QuestionnaireField, v: unknown): string | null {
  switch (f.type) {
    case 'integer':
    case 'number':
    case 'percent': {
      if (typeof v !== 'number' || !Number.isFinite(v)) return `must be a number, got ${shown(v)}`;
      if (f.type === 'integer' && !Number.isInteger(v)) return `must be a whole number, got ${v}`;
      if (f.type === 'percent' && (v < 0 || v > 100))
        return `must be a percentage between 0 and 100, got ${v}`;
      if (f.min !== undefined && v < f.min) return `must be at least ${f.min}, got ${v}`;
      if (f.max !== undefined && v > f.max) return `must be at most ${f.max}, got ${v}`;
      return null;
    }
    case 'text':
      return typeof v === 'string' ? null : `must be text, got ${shown(v)}`;
    case 'boolean':
      return typeof v === 'boolean' ? null : `must be true or false, got ${shown(v)}`;
    case 'date':
      return typeof v === 'string' && isLocalDate(v)
        ? null
        : `must be a date YYYY-MM-DD, got ${shown(v)}`;
    case 'enum':
      return typeof v === 'string' && (f.options ?? []).includes(v)
        ? null
        : `must be one of ${(f.options ?? []).join(' / ')}, got ${shown(v)}`;
  }
}

/** Every problem of `data` against `fields`: missing required, unknown keys, wrong types. */
export function validateFieldData(
  fields: QuestionnaireField[],
  data: Record<string, unknown> | undefined,
): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const values = data ?? {};
  const known = new Set(fields.map((f) => f.key));
  for (const f of fields) {
    // Own keys only: a field named "constructor" is not found on the object's prototype.
    const v = Object.hasOwn(values, f.key) ? values[f.key] : undefined;
    if (v === undefined || v === null || v === '') {
      if (f.required) problems.push({ field: f.key, message: `${f.label} (${f.key}) is required` });
      continue;
    }
    const msg = checkOne(f, v);
    if (msg) problems.push({ field: f.key, message: `${f.label} (${f.key}) ${msg}` });
  }
  for (const k of Object.keys(values)) {
    if (!known.has(k))
      problems.push({
        field: k,
        message: `unknown field "${k}" (expected one of ${[...known].join(', ')})`,
      });
  }
  return problems;
}

/**
 * Converts text values (from a CSV or a command line) to the field's type where that is
 * unambiguous: "12" → 12 for numbers, "true"/"是" → true for booleans. Anything else is left
 * for validateFieldData to refuse.
 */
export function coerceFieldData(
  fields: QuestionnaireField[],
  data: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...data };
  for (const f of fields) {
    const v = out[f.key];
    if (typeof v !== 'string') continue;
    const s = v.trim();
    if (
      (f.type === 'integer' || f.type === 'number' || f.type === 'percent') &&
      /^-?\d+(\.\d+)?%?$/.test(s)
    ) {
      out[f.key] = Number(s.replace('%', ''));
    } else if (f.type === 'boolean') {
      if (['true', 'yes', '是', 'y', '1'].includes(s.toLowerCase())) out[f.key] = true;
      else if (['false', 'no', '否', 'n', '0'].includes(s.toLowerCase())) out[f.key] = false;
    }
  }
  return out;
}
