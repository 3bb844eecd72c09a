// Text files as people hand them over: UTF-8 with or without a byte-order mark, or GBK/GB18030
// as county offices' spreadsheets often save them. Anything else is refused with a message that
// says where the file stops making sense and how to convert it. Pure.

export type TextEncodingName = 'utf-8' | 'utf-8-bom' | 'gb18030';

export interface DecodedText {
  text: string;
  encoding: TextEncodingName;
}

export interface EncodingProblem {
  /** 1-based physical line of the first byte that does not decode. */
  line: number;
  message: string;
}

const HOW_TO_CONVERT =
  '; save it as UTF-8 (in Excel or WPS: 另存为 "CSV UTF-8 (逗号分隔)"; on the command line: iconv -f GB18030 -t UTF-8 FILE > FILE.utf8)';

/** The 1-based line of a byte offset (lines end at LF). */
function lineOfByte(bytes: Uint8Array, offset: number): number {
  let line = 1;
  const end = Math.min(offset, bytes.length);
  for (let i = 0; i < end; i++) if (bytes[i] === 0x0a) line++;
  return line;
}

/** Offset of the first byte that breaks UTF-8, or -1 when the whole input is UTF-8. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) [need, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [need, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [need, min] = [3, 0x10000];
    else return i;
    if (i + need >= n) return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

const startsWith = (bytes: Uint8Array, prefix: number[]) => prefix.every((b, i) => bytes[i] === b);

/**
 * Decodes a file's bytes: UTF-8 (a BOM is dropped), else GB18030 (a superset of GBK and
 * GB2312). `what` names the file in messages ("the enterprise list").
 */
export function decodeText(bytes: Uint8Array, what: string): DecodedText | EncodingProblem {
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04]))
    return {
      line: 1,
      message: `${what} is an Excel workbook or another zip file, not text${HOW_TO_CONVERT}`,
    };
  if (startsWith(bytes, [0xff, 0xfe]) || startsWith(bytes, [0xfe, 0xff]))
    return {
      line: 1,
      message: `${what} is UTF-16 text (Excel's "Unicode text")${HOW_TO_CONVERT}`,
    };
  const nul = bytes.indexOf(0);
  if (nul !== -1)
    return {
      line: lineOfByte(bytes, nul),
      message: `${what} holds a NUL byte at line ${lineOfByte(bytes, nul)}: it is a binary file, not text${HOW_TO_CONVERT}`,
    };
  const bom = startsWith(bytes, [0xef, 0xbb, 0xbf]);
  const body = bom ? bytes.subarray(3) : bytes;
  const bad = firstInvalidUtf8(body);
  if (bad === -1) {
    return {
      text: new TextDecoder('utf-8', { ignoreBOM: true }).decode(body),
      encoding: bom ? 'utf-8-bom' : 'utf-8',
    };
  }
  const line = lineOfByte(body, bad);
  if (bom)
    return {
      line,
      message: `${what} starts with a UTF-8 byte-order mark but line ${line} is not UTF-8${HOW_TO_CONVERT}`,
    };
  try {
    return { text: new TextDecoder('gb18030', { fatal: true }).decode(body), encoding: 'gb18030' };
  } catch {
    return {
      line,
      message: `${what} is neither UTF-8 nor GBK/GB18030 (line ${line} has bytes that are not text in either)${HOW_TO_CONVERT}`,
    };
  }
}

export function isEncodingProblem(r: DecodedText | EncodingProblem): r is EncodingProblem {
  return 'message' in r;
}
