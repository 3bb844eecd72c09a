// Output for people (tables, colours on a terminal, Chinese or English labels) or for
// programs (`--json`: one JSON document on stdout, nothing else there).
import { createRequire } from 'node:module';
import type Table from 'cli-table3';
import pc from 'picocolors';

// cli-table3 (and the string-width tables under it) only when a table is drawn: `--help` and
// `--json` never need it.
const require = createRequire(import.meta.url);

export type Lang = 'zh' | 'en';

/** How a report is written: a table for people, or a file format. */
export const FORMATS = ['table', 'md', 'csv', 'xlsx'] as const;
export type Format = (typeof FORMATS)[number];

export interface OutputOptions {
  json: boolean;
  lang: Lang;
}

/** Colours only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function colourOn(stream: { isTTY?: boolean }): boolean {
  return stream.isTTY === true && !process.env.NO_COLOR;
}

// picocolors decides by itself from stdout alone (and turns off for NO_COLOR=""): take its
// always-on functions and let the guard above decide, per stream.
const ansi = pc.createColors(true);

function palette(on: () => boolean) {
  return {
    ok: (s: string) => (on() ? ansi.green(s) : s),
    warn: (s: string) => (on() ? ansi.yellow(s) : s),
    bad: (s: string) => (on() ? ansi.red(s) : s),
    dim: (s: string) => (on() ? ansi.dim(s) : s),
    bold: (s: string) => (on() ? ansi.bold(s) : s),
  };
}

export type Palette = ReturnType<typeof palette>;

/** For what is written to stdout. */
export const colour: Palette = palette(() => colourOn(process.stdout));
/** For what is written to stderr: coloured only when stderr itself is a terminal. */
export const errColour: Palette = palette(() => colourOn(process.stderr));
/** For text that may end up anywhere (error messages, JSON): never coloured. */
export const noColour: Palette = palette(() => false);

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Text from departments for a terminal: control characters (an ESC that would move the cursor,
 * clear the screen or retitle the window) are shown as U+FFFD, line breaks and tabs stay.
 */
export function terminalSafe(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '\uFFFD');
}

export function table(head: string[], rows: (string | number)[][]): string {
  const TableOf = require('cli-table3') as typeof Table;
  const t = new TableOf({
    head: head.map((h) => colour.bold(h)),
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const r of rows) t.push(r.map((v) => terminalSafe(String(v))));
  return t.toString();
}

/** Picks the label for the output language. */
export function t(lang: Lang, zh: string, en: string): string {
  return lang === 'zh' ? zh : en;
}
