// How many columns a text takes on a terminal or in a spreadsheet: East Asian wide and
// full-width characters (汉字, full-width punctuation such as ，：（）) take two, combining marks,
// control characters and ANSI escape sequences none, everything else one. The ranges are those
// of the `string-width` module cli-table3 pads with, so tables and progress lines agree with it.

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

/** The text without ANSI escape sequences (colours, cursor movement). */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** Columns one code point takes. */
export function codePointWidth(cp: number): 0 | 1 | 2 {
  if (cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f)) return 0; // control characters
  if (cp >= 0x300 && cp <= 0x36f) return 0; // combining diacritical marks
  if (cp === 0x200b || cp === 0x200d || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0; // ZWSP/ZWJ/VS
  if (cp < 0x1100) return 1;
  if (
    cp <= 0x115f || // Hangul Jamo
    cp === 0x2329 ||
    cp === 0x232a ||
    (cp >= 0x2e80 && cp <= 0x3247 && cp !== 0x303f) || // CJK radicals … enclosed CJK
    (cp >= 0x3250 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0xa4c6) || // CJK unified ideographs, Yi
    (cp >= 0xa960 && cp <= 0xa97c) ||
    (cp >= 0xac00 && cp <= 0xd7a3) || // Hangul syllables
    (cp >= 0xf900 && cp <= 0xfaff) || // CJK compatibility ideographs
    (cp >= 0xfe10 && cp <= 0xfe19) ||
    (cp >= 0xfe30 && cp <= 0xfe6b) ||
    (cp >= 0xff01 && cp <= 0xff60) || // full-width forms
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1b000 && cp <= 0x1b001) ||
    (cp >= 0x1f200 && cp <= 0x1f251) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) || // pictographs and emoticons
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd) // CJK extensions B…
  )
    return 2;
  return 1;
}

/** Columns the text takes (ANSI escapes ignored); for multi-line text, the widest line. */
export function displayWidth(text: string): number {
  let widest = 0;
  for (const line of stripAnsi(text).split('\n')) {
    let w = 0;
    for (const ch of line) w += codePointWidth(ch.codePointAt(0)!);
    if (w > widest) widest = w;
  }
  return widest;
}

/** The longest start of a one-line text (without ANSI escapes) that fits in `max` columns. */
export function truncateToWidth(text: string, max: number, ellipsis = '…'): string {
  if (displayWidth(text) <= max) return text;
  const room = max - displayWidth(ellipsis);
  let w = 0;
  let out = '';
  for (const ch of text) {
    const cw = codePointWidth(ch.codePointAt(0)!);
    if (w + cw > room) break;
    out += ch;
    w += cw;
  }
  return room > 0 ? out + ellipsis : out;
}

/** The text followed by spaces up to `width` columns (a CJK character counts twice). */
export function padToWidth(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - displayWidth(text)));
}
