// Output for people (tables, colours on a terminal, Chinese or English labels) or for
// programs (`--json`: one JSON document on stdout, nothing else there).
import Table from 'cli-table3';
import pc from 'picocolors';

export type Lang = 'zh' | 'en';

export interface OutputOptions {
  json: boolean;
  lang: Lang;
}

const useColour = () => process.stdout.isTTY === true && !process.env.NO_COLOR;

export const colour = {
  ok: (s: string) => (useColour() ? pc.green(s) : s),
  warn: (s: string) => (useColour() ? pc.yellow(s) : s),
  bad: (s: string) => (useColour() ? pc.red(s) : s),
  dim: (s: string) => (useColour() ? pc.dim(s) : s),
  bold: (s: string) => (useColour() ? pc.bold(s) : s),
};

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({
    head: head.map((h) => colour.bold(h)),
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const r of rows) t.push(r.map(String));
  return t.toString();
}

/** Picks the label for the output language. */
export function t(lang: Lang, zh: string, en: string): string {
  return lang === 'zh' ? zh : en;
}
