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

/** The largest magnitude a number field keeps exactly (2^53 − 1). */
export const MAX_EXACT = Number.MAX_SAFE_INTEGER;
/** Significant digits a decimal text may have and still be kept exactly. */
const MAX_SIGNIFICANT = 15;

/**
 * A numeral as a clerk types it, with full-width digits, point, minus and percent sign
 * (０１２．５％, －３) read as their ASCII forms, and the spaces around it dropped. Only the
 * value of a number field goes through this: no other text is rewritten.
 */
export function normaliseNumeral(text: string): string {
  return text
    .replace(/[\uFF10-\uFF19]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xff10 + 0x30))
    .replace(/\uFF0E/g, '.')
    .replace(/[\uFF0D\u2212\u2012\u2013\uFE63]/g, '-')
    .replace(/[\uFF0B]/g, '+')
    .replace(/\uFF05/g, '%')
    .replace(/^[\s\u3000]+|[\s\u3000]+$/g, '');
}

const NUMERAL = /^[-+]?\d+(\.\d+)?%?$/;

/**
 * The value of a numeral (after normaliseNumeral), or why it cannot be kept exactly: more than
 * 15 significant digits, or a magnitude beyond 2^53 − 1. null when the text is not a numeral.
 */
export function parseNumeral(text: string): { value: number } | { problem: string } | null {
  const s = normaliseNumeral(text);
  if (!NUMERAL.test(s)) return null;
  const body = s.replace('%', '');
  const digits = body.replace(/^[-+]/, '').replace('.', '').replace(/^0+/, '');
  const significant = digits.replace(/0+$/, '').length;
  const value = Number(body);
  if (Math.abs(value) > MAX_EXACT) return { problem: tooLarge(body) };
  const intDigits = body.replace(/^[-+]/, '').split('.')[0]!.replace(/^0+/, '').length;
  if (significant > MAX_SIGNIFICANT && intDigits < significant)
    return {
      problem: `has more digits than can be kept exactly (at most ${MAX_SIGNIFICANT} significant digits), got ${body.slice(0, 60)}`,
    };
  return { value };
}

const tooLarge = (shownValue: string) =>
  `is too large to be kept exactly (at most ${MAX_EXACT} either way), got ${shownValue.slice(0, 60)}`;

function checkOne(f: QuestionnaireField, v: unknown): string | null {
  switch (f.type) {
    case 'integer':
    case 'number':
    case 'percent': {
      // Text that is a numeral here was left as text by coerceFieldData: it cannot be exact.
      if (typeof v === 'string') {
        const n = parseNumeral(v);
        if (n && 'problem' in n) return n.problem;
      }
      if (typeof v !== 'number' || !Number.isFinite(v)) return `must be a number, got ${shown(v)}`;
      if (Math.abs(v) > MAX_EXACT) return tooLarge(BigInt(Math.trunc(v)).toString());
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
 * Converts text values (from a CSV, a form or a command line) to the field's type where that is
 * unambiguous: "12" (or full-width "１２") → 12 for numbers, "true"/"是" → true for booleans.
 * Anything else, and a numeral that cannot be kept exactly, is left for validateFieldData to
 * refuse.
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
    if (f.type === 'integer' || f.type === 'number' || f.type === 'percent') {
      // A numeral that cannot be kept exactly stays text, for validateFieldData to refuse.
      const n = parseNumeral(v);
      if (n && 'value' in n) out[f.key] = n.value;
    } else if (f.type === 'boolean') {
      if (['true', 'yes', '是', 'y', '1'].includes(s.toLowerCase())) out[f.key] = true;
      else if (['false', 'no', '否', 'n', '0'].includes(s.toLowerCase())) out[f.key] = false;
    }
  }
  return out;
}
