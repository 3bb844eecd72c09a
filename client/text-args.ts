// The command line's values kept to the text rule (domain/text.ts): every argument and option
// value of the command about to run — a control character pasted with a note, an over-long id —
// is refused before the command connects to anything, naming the option or argument, exit 1.
// The bound follows what the value is, by its placeholder: `<text>` is long text (notes,
// reasons), a file, a path or a web address is a path, a task id is a path of ids, anything else
// a short field (ids, codes, dates, names).
import type { Command } from 'commander';
import { firstTextProblem, LONG_TEXT_MAX, SHORT_TEXT_MAX } from '../domain/text.ts';
import { CliError, EXIT } from './errors.ts';

/** The longest path or web address a value may be. */
const PATH_MAX = 4096;
/** A task id: campaign/indicator/kind/unit/key. */
const TASK_ID_MAX = 1000;

/** The bound of a value by the placeholder in its flags or argument name. */
export function boundOf(placeholder: string): number {
  const p = placeholder.replace(/[<>[\].]/g, '').toLowerCase();
  if (p === 'text') return LONG_TEXT_MAX;
  if (/file|csv|definition|dir|path|url/.test(p)) return PATH_MAX;
  if (/taskid|taskorcampaignid/.test(p)) return TASK_ID_MAX;
  return SHORT_TEXT_MAX;
}

/** The values a command was given, named as a person typed them: `--note`, `<taskId>`. */
function namedValues(cmd: Command): { name: string; value: unknown; max: number }[] {
  const out: { name: string; value: unknown; max: number }[] = [];
  cmd.registeredArguments.forEach((a, i) => {
    out.push({ name: `<${a.name()}>`, value: cmd.processedArgs[i], max: boundOf(a.name()) });
  });
  for (let c: Command | null = cmd; c; c = c.parent) {
    for (const o of c.options) {
      const value = c.getOptionValue(o.attributeName());
      if (value === undefined) continue;
      const placeholder = /[<[]([^>\]]+)[>\]]/.exec(o.flags)?.[1] ?? '';
      out.push({ name: o.long ?? o.short ?? o.flags, value, max: boundOf(placeholder) });
    }
  }
  return out;
}

/** The first value of the command that breaks the rule, as a refusal naming it; or null. */
export function commandTextError(cmd: Command): CliError | null {
  for (const { name, value, max } of namedValues(cmd)) {
    const p = firstTextProblem(value, { root: name, max });
    if (!p) continue;
    const kind = name.startsWith('<')
      ? { en: 'argument', zh: '参数' }
      : { en: 'option', zh: '选项' };
    const where = p.path.slice(name.length);
    const detail = p.en.slice(p.path.length + 1);
    const detailZh = p.zh.slice(`字段“${p.path}”`.length);
    const en = `${kind.en} ${name}${where} ${detail}`;
    const zh = `${kind.zh} ${name}${where} ${detailZh}`;
    return new CliError(en, EXIT.refused, { option: name, defect: p.defect }, { zh, en });
  }
  return null;
}

/** Throws the refusal of commandTextError. */
export function checkCommandText(cmd: Command): void {
  const e = commandTextError(cmd);
  if (e) throw e;
}
