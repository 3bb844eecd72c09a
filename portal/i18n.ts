// The portal's language: Chinese by default, English with ?lang=en (remembered in a cookie).
// Field problems come from domain/fields.ts (the same rules as the CLI and the workflow); this
// module says them in Chinese.
import type { FieldProblem } from '../domain/fields.ts';
import type { QuestionnaireField } from '../domain/definition.ts';
import type { Lang } from './html.ts';

/** Chinese unless the person asked for English (?lang=en, remembered in a cookie). */
export function pickLang(query: unknown, cookie: string | undefined): Lang {
  const q = (query as { lang?: unknown } | undefined)?.lang;
  if (q === 'en' || q === 'zh') return q;
  if (cookie === 'en' || cookie === 'zh') return cookie;
  return 'zh';
}

const ZH: [RegExp, (m: RegExpExecArray) => string][] = [
  [/^is required$/, () => '必填'],
  [/^must be a number, got (.*)$/, (m) => `须为数字（填写的是 ${m[1]}）`],
  [/^must be a whole number, got (.*)$/, (m) => `须为整数（填写的是 ${m[1]}）`],
  [
    /^must be a percentage between 0 and 100, got (.*)$/,
    (m) => `须为 0 至 100 之间的百分比（填写的是 ${m[1]}）`,
  ],
  [/^must be at least (.*), got (.*)$/, (m) => `不得小于 ${m[1]}（填写的是 ${m[2]}）`],
  [/^must be at most (.*), got (.*)$/, (m) => `不得大于 ${m[1]}（填写的是 ${m[2]}）`],
  [
    /^is too large to be kept exactly \(at most (\d+) either way\), got (.*)$/,
    (m) => `数值过大，无法精确保存（绝对值不得超过 ${m[1]}；填写的是 ${m[2]}）`,
  ],
  [
    /^has more digits than can be kept exactly \(at most (\d+) significant digits\), got (.*)$/,
    (m) => `有效数字过多，无法精确保存（至多 ${m[1]} 位有效数字；填写的是 ${m[2]}）`,
  ],
  [/^must be text, got (.*)$/, () => '须为文字'],
  [/^must be true or false, got (.*)$/, () => '须选择“是”或“否”'],
  [/^must be a date YYYY-MM-DD, got (.*)$/, (m) => `须为日期，格式 YYYY-MM-DD（填写的是 ${m[1]}）`],
  [/^must be one of (.*), got (.*)$/, (m) => `须为以下之一：${m[1]}（填写的是 ${m[2]}）`],
];

/** One problem per field, in the person's language, keyed by the field's key. */
export function fieldMessages(
  fields: QuestionnaireField[],
  problems: FieldProblem[],
  lang: Lang,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of problems) {
    const f = fields.find((x) => x.key === p.field);
    if (!f) {
      out[p.field] = lang === 'zh' ? `未知字段「${p.field}」` : p.message;
      continue;
    }
    const rest = p.message.replace(`${f.label} (${f.key}) `, '');
    let text = p.message;
    if (lang === 'zh') {
      text = `${f.label}${rest}`;
      for (const [re, say] of ZH) {
        const m = re.exec(rest);
        if (m) {
          text = `${f.label}${say(m)}`;
          break;
        }
      }
    }
    out[p.field] ??= text;
  }
  return out;
}
