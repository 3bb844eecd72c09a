// Text from outside — a request's field, a command-line value, a cell of a file — as PostgreSQL,
// JSON and people can hold it: well-formed Unicode (no lone UTF-16 surrogate, which PostgreSQL
// refuses as invalid UTF-8 and JSON encoders turn into escapes), no NUL (which PostgreSQL text
// cannot hold), no control character except tab and newline, and a bounded length. A carriage
// return is accepted only as the first half of a CRLF line break (what browsers send for a
// textarea and Windows editors save); a bare one, which overwrites a line on a terminal, is
// refused. Nothing is rewritten: a value is accepted as it is or refused with a problem that
// names its field (`note`, `data.phone`, `evidence[2]`) in Chinese and English. Pure: the
// workflows use it through domain/payloads.ts.
import { z } from 'zod';

/** The default bound of a short field: names, ids, codes, keys. */
export const SHORT_TEXT_MAX = 200;
/** The default bound of a long field: notes, reasons, instructions. */
export const LONG_TEXT_MAX = 10_000;

export type TextDefect = 'lone-surrogate' | 'nul' | 'control' | 'too-long';

/** What is wrong with one string, where in it (a UTF-16 index) and which character. */
export interface TextFault {
  defect: TextDefect;
  /** UTF-16 index of the offending unit, or the bound for too-long. */
  index: number;
  /** The offending unit's code (for too-long: the length in characters). */
  code: number;
  /** For too-long: the bound. */
  max?: number;
}

export interface TextProblem extends TextFault {
  /** Where the string is: `note`, `data.phone`, `evidence[2]`, or the name the caller gave. */
  path: string;
  en: string;
  zh: string;
}

const hex = (n: number) => `U+${n.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * The first fault of a string, or null when it is fine. Length is counted in characters (code
 * points: an emoji is one), at most `max`.
 */
export function textFault(s: string, max: number = SHORT_TEXT_MAX): TextFault | null {
  let chars = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
      if (c === 0x09 || c === 0x0a) {
        // tab and newline are text
      } else if (c === 0x0d && s.charCodeAt(i + 1) === 0x0a) {
        // CRLF: the newline is looked at next
      } else return { defect: c === 0 ? 'nul' : 'control', index: i, code: c };
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) i++;
      else return { defect: 'lone-surrogate', index: i, code: c };
    }
    chars++;
  }
  if (chars > max) return { defect: 'too-long', index: max, code: chars, max };
  return null;
}

/** Whether a string passes the rule with this bound. */
export const isCleanText = (s: string, max: number = SHORT_TEXT_MAX): boolean =>
  textFault(s, max) === null;

/**
 * A string made safe to quote in a message: faulty units as \uXXXX escapes, cut at `room`
 * characters. Used for object keys in paths, which may themselves be the bad text.
 */
export function quoteForMessage(s: string, room = 40): string {
  let out = '';
  let chars = 0;
  for (let i = 0; i < s.length && chars < room; i++) {
    const c = s.charCodeAt(i);
    const pair =
      c >= 0xd800 && c <= 0xdbff && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff;
    if (pair) {
      out += s.slice(i, i + 2);
      i++;
    } else if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xdfff))
      out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += s[i];
    chars++;
  }
  return chars >= room && out.length < s.length ? `${out}…` : out;
}

/** The fault in words, English and Chinese, without quoting the bad text itself. */
export function describeFault(f: TextFault): { en: string; zh: string } {
  const at = f.index + 1;
  switch (f.defect) {
    case 'lone-surrogate':
      return {
        en: `is not well-formed Unicode (a lone surrogate ${hex(f.code)} at character ${at})`,
        zh: `含有无效的 Unicode 字符（第 ${at} 个字符处为孤立的代理项 ${hex(f.code)}）`,
      };
    case 'nul':
      return {
        en: `contains a NUL character (U+0000) at character ${at}`,
        zh: `含有不允许的空字符（U+0000，第 ${at} 个字符）`,
      };
    case 'control':
      return {
        en: `contains a control character ${hex(f.code)} at character ${at} (only tab and line breaks are allowed)`,
        zh: `含有不允许的控制字符 ${hex(f.code)}（第 ${at} 个字符；只允许制表符和换行）`,
      };
    case 'too-long':
      return {
        en: `is too long (${f.code} characters, at most ${f.max})`,
        zh: `过长（${f.code} 个字符，最多 ${f.max} 个）`,
      };
  }
}

/** One string's problem under the name of its field, or null when it is fine. */
export function textProblem(
  s: string,
  path: string,
  max: number = SHORT_TEXT_MAX,
): TextProblem | null {
  const f = textFault(s, max);
  if (!f) return null;
  const d = describeFault(f);
  return { ...f, path, en: `${path} ${d.en}`, zh: `字段“${path}”${d.zh}` };
}

export interface TextWalkOptions {
  /**
   * The bound of a string value at a path (the path's parts: keys and indexes), or one bound
   * for all. Default: LONG_TEXT_MAX for values. Keys are bounded by SHORT_TEXT_MAX.
   */
  max?: number | ((path: readonly (string | number)[]) => number);
  /** The bound of an object key (default SHORT_TEXT_MAX). */
  keyMax?: number;
  /** The name of the whole value in paths ('' by default: top-level keys stand alone). */
  root?: string;
}

/** A path for people: `data.phone`, `evidence[2]`, `note`. Keys are quoted safely. */
export function formatPath(root: string, parts: readonly (string | number)[]): string {
  let out = root;
  for (const p of parts) {
    if (typeof p === 'number') out += `[${p}]`;
    else {
      const k = /^[\p{L}\p{N}_$.-]+$/u.test(p) ? p : `"${quoteForMessage(p).replace(/"/g, '\\"')}"`;
      out += out ? `.${k}` : k;
    }
  }
  return out || '(the value)';
}

/**
 * The first string anywhere in a JSON-like value (objects, arrays, their keys) that breaks the
 * rule, with its path, or null. Binary data (typed arrays, Buffers) and streams are content,
 * not text, and are not looked into; each object is visited once (parsed bodies may refer back
 * to themselves).
 */
export function firstTextProblem(
  value: unknown,
  options: TextWalkOptions = {},
): TextProblem | null {
  const root = options.root ?? '';
  const keyMax = options.keyMax ?? SHORT_TEXT_MAX;
  const maxOf =
    typeof options.max === 'function'
      ? options.max
      : (
          (m: number) => () =>
            m
        )(options.max ?? LONG_TEXT_MAX);
  const seen = new WeakSet<object>();
  // Depth first in document order, with a stack of our own: a value nested a hundred thousand
  // levels deep is walked, not a stack overflow. A path is a chain back to the root.
  interface Link {
    up: Link | null;
    part: string | number;
  }
  const partsOf = (l: Link | null): (string | number)[] => {
    const out: (string | number)[] = [];
    for (let x = l; x; x = x.up) out.push(x.part);
    return out.reverse();
  };
  const stack: { v: unknown; at: Link | null }[] = [{ v: value, at: null }];
  while (stack.length) {
    const { v, at } = stack.pop()!;
    if (typeof v === 'string') {
      const parts = partsOf(at);
      const p = textProblem(v, formatPath(root, parts), maxOf(parts));
      if (p) return p;
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || seen.has(v)) continue;
    if (typeof (v as { pipe?: unknown }).pipe === 'function') continue;
    seen.add(v);
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], at: { up: at, part: i } });
      continue;
    }
    const entries = Object.entries(v);
    for (const [k] of entries) {
      const kf = textFault(k, keyMax);
      if (!kf) continue;
      const where = formatPath(root, partsOf({ up: at, part: k }));
      const d = describeFault(kf);
      return {
        ...kf,
        path: where,
        en: `the name of ${where} ${d.en}`,
        zh: `字段名“${where}”${d.zh}`,
      };
    }
    for (let i = entries.length - 1; i >= 0; i--)
      stack.push({ v: entries[i]![1], at: { up: at, part: entries[i]![0] } });
  }
  return null;
}

/**
 * The rule as a zod refinement, for domain schemas: `z.string().check(cleanText(500))` or
 * `z.string().superRefine(cleanTextRefinement(500))`. The issue's message is the English
 * description; `params.zh` holds the Chinese one, and `params.defect` the kind.
 */
export function cleanTextRefinement(max: number = SHORT_TEXT_MAX) {
  return (s: string, ctx: z.RefinementCtx): void => {
    const f = textFault(s, max);
    if (!f) return;
    const d = describeFault(f);
    ctx.addIssue({ code: 'custom', message: d.en, params: { zh: d.zh, defect: f.defect } });
  };
}

/** A zod string schema that keeps the rule, bounded at `max` characters. */
export const cleanText = (max: number = SHORT_TEXT_MAX) =>
  z.string().superRefine(cleanTextRefinement(max));
