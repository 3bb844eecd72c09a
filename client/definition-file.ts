// Reads a campaign definition file (YAML or JSON), validates it, and points each problem at
// its line in the file. Whatever the file holds, the answer is a list of problems, never a
// crash: the file's size is bounded before it is read, YAML is parsed once with its nesting
// and aliases bounded, and every parser error is located.
import { extname } from 'node:path';
import {
  Composer,
  isMap,
  isScalar,
  isSeq,
  Lexer,
  LineCounter,
  Parser,
  visit,
  type CST,
  type Document,
  type Node,
  type YAMLMap,
} from 'yaml';
import { decodeText, isEncodingProblem } from '../domain/encoding.ts';
import {
  formatPath,
  validateDefinition,
  type DefinitionProblem,
  type ValidationResult,
} from '../domain/validate.ts';
import { readFileLimits } from '../worker/config.ts';
import { readBoundedFile } from './files.ts';

export interface LoadedDefinition extends ValidationResult {
  file: string;
}

export class DefinitionFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: DefinitionProblem[],
  ) {
    super(problems.map((p) => `${file}:${p.line ?? ''} ${p.path}: ${p.message}`).join('\n'));
  }
}

/** Deeper than this, a document is refused: a real definition nests about six levels. */
export const MAX_NESTING = 64;
/** Aliases a YAML document may expand (an alias bomb expands millions). */
export const MAX_ALIASES = 100;

/** Splits `indicators[3].fields[0].key` into ['indicators', 3, 'fields', 0, 'key']. */
function splitPath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[1] !== undefined) out.push(m[1]);
  }
  return out;
}

/** Line numbers of offsets in a text, by binary search over its line starts. */
class Lines {
  private readonly starts: number[] = [0];
  constructor(text: string) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1))
      this.starts.push(i + 1);
  }
  get count(): number {
    return this.starts.length;
  }
  at(offset: number): { line: number; col: number } {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - this.starts[lo]! + 1 };
  }
}

// ---- YAML ----

/** Items of a map by key, built once per map: looking up 200 problems stays linear. */
const keyIndex = new WeakMap<YAMLMap, Map<unknown, Node>>();

function mapValue(map: YAMLMap, key: string | number): Node | undefined {
  let index = keyIndex.get(map);
  if (!index) {
    index = new Map();
    for (const p of map.items) {
      if (!isScalar(p.key)) continue;
      const k = p.key.value;
      // The first occurrence, as the key it describes; point at the key when the value is missing.
      if (!index.has(String(k))) index.set(String(k), (p.value ?? p.key) as Node);
    }
    keyIndex.set(map, index);
  }
  return index.get(String(key));
}

/** The deepest node of the document on the path, to find a line for a problem. */
function nodeAt(root: unknown, path: (string | number)[]): Node | undefined {
  let node = root as Node | undefined;
  let found: Node | undefined = node;
  for (const key of path) {
    if (isMap(node)) node = mapValue(node, key);
    else if (isSeq(node) && typeof key === 'number') node = node.items[key] as Node | undefined;
    else break;
    if (!node) break;
    found = node;
  }
  return found;
}

/**
 * The CST of a YAML text, parsed once; null with the offset where it nests deeper than
 * MAX_NESTING (the composer recurses, and a few thousand levels exhaust its stack or memory).
 */
function yamlTokens(
  text: string,
  lc: LineCounter,
): { tokens: CST.Token[] } | { tooDeepAt: number } {
  const parser = new Parser(lc.addNewLine);
  lc.addNewLine(0);
  const tokens: CST.Token[] = [];
  for (const lexeme of new Lexer().lex(text)) {
    for (const token of parser.next(lexeme)) tokens.push(token);
    // The parser's stack holds the document and every collection open at this point.
    if (parser.stack.length > MAX_NESTING + 1) return { tooDeepAt: parser.offset };
  }
  for (const token of parser.end()) tokens.push(token);
  return { tokens };
}

type Parsed =
  | {
      raw: unknown;
      locate: (path: string) => number | undefined;
      /** Called once with the paths to locate, before `locate`. */
      prepare?: (paths: string[]) => void;
    }
  | { problems: DefinitionProblem[] };

const fileProblem = (message: string, line?: number): DefinitionProblem =>
  line === undefined ? { path: '(file)', message } : { path: '(file)', message, line };

function parseYaml(text: string): Parsed {
  const lc = new LineCounter();
  const lineOf = (offset: number) => lc.linePos(offset).line;
  const cst = yamlTokens(text, lc);
  if ('tooDeepAt' in cst) {
    const deep = cst.tooDeepAt;
    return {
      problems: [
        fileProblem(
          `nested more than ${MAX_NESTING} levels deep at line ${lineOf(deep)}; a campaign definition needs far fewer`,
          lineOf(deep),
        ),
      ],
    };
  }
  const tokens = cst.tokens;
  const docs: Document.Parsed[] = [];
  for (const doc of new Composer({ uniqueKeys: true, prettyErrors: false }).compose(
    tokens,
    true,
    text.length,
  )) {
    docs.push(doc);
    if (docs.length > 1) break;
  }
  const doc = docs[0]!;
  const problems: DefinitionProblem[] = doc.errors.map((err) => {
    const line = lineOf(err.pos[0]);
    return fileProblem(`not valid YAML at line ${line}: ${err.message.split('\n')[0]}`, line);
  });
  if (docs[1]) {
    const line = lineOf(docs[1].range[0]);
    problems.push(
      fileProblem(
        `a second YAML document starts at line ${line} (after "---"); a definition is one document`,
        line,
      ),
    );
  }
  if (problems.length) return { problems };
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (e) {
    return { problems: [aliasProblem(doc, e, lineOf)] };
  }
  return {
    raw,
    locate: (path) => {
      const n = nodeAt(doc.contents, splitPath(path));
      return n?.range ? lineOf(n.range[0]) : undefined;
    },
  };
}

/** An alias that cannot be expanded (unknown anchor, too many expansions), at its line. */
function aliasProblem(
  doc: Document.Parsed,
  e: unknown,
  lineOf: (offset: number) => number,
): DefinitionProblem {
  let unresolved: { source: string; offset: number } | undefined;
  let first: { source: string; offset: number } | undefined;
  visit(doc, {
    Alias(_key, node) {
      const at = { source: node.source, offset: node.range?.[0] ?? 0 };
      first ??= at;
      if (!node.resolve(doc)) {
        unresolved = at;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  if (unresolved) {
    const line = lineOf(unresolved.offset);
    return fileProblem(
      `not valid YAML at line ${line}: the alias *${unresolved.source} names no anchor &${unresolved.source} defined before it`,
      line,
    );
  }
  const message = e instanceof Error ? e.message : String(e);
  if (first) {
    const line = lineOf(first.offset);
    return fileProblem(
      `YAML aliases expand too much (more than ${MAX_ALIASES} expansions, from the alias *${first.source} at line ${line} on): write the values out`,
      line,
    );
  }
  return fileProblem(`not valid YAML: ${message}`, 1);
}

// ---- JSON ----

/**
 * Offsets of the values at the `wanted` paths (formatted as formatPath does), found in one pass
 * over a text that JSON.parse accepted. Only paths whose parent is wanted are formatted, so a
 * deeply nested document costs no more than its length. A repeated key keeps its last value,
 * as JSON.parse does.
 */
export function jsonOffsets(text: string, wanted: ReadonlySet<string>): Map<string, number> {
  const found = new Map<string, number>();
  interface Frame {
    kind: 'obj' | 'arr';
    /** The frame's own path, when it is wanted (else its children cannot be). */
    path: string | null;
    segments: (string | number)[] | null;
    index: number;
    key: string | null;
  }
  const stack: Frame[] = [];
  const root: (string | number)[] = [];
  const childPath = (): { path: string | null; segments: (string | number)[] | null } => {
    const top = stack[stack.length - 1];
    if (!top) {
      const p = formatPath(root);
      return wanted.has(p) ? { path: p, segments: root } : { path: null, segments: null };
    }
    if (top.path === null || top.segments === null) return { path: null, segments: null };
    const segs = [...top.segments, top.kind === 'arr' ? top.index : (top.key ?? '')];
    const p = formatPath(segs);
    return wanted.has(p) ? { path: p, segments: segs } : { path: null, segments: null };
  };
  let i = 0;
  const n = text.length;
  /** In an object, the next string is a key rather than a value. */
  let expectKey = false;
  const skipString = (): string => {
    // i is at the opening quote; returns the raw contents.
    const start = ++i;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x5c) i += 2;
      else if (c === 0x22) break;
      else i++;
    }
    const raw = text.slice(start, i);
    i++;
    return raw;
  };
  while (i < n) {
    const c = text[i]!;
    if (c === ' ' || c === '\n' || c === '\r' || c === '\t' || c === ':') {
      i++;
      continue;
    }
    if (c === ',') {
      const top = stack[stack.length - 1];
      if (top?.kind === 'arr') top.index++;
      if (top?.kind === 'obj') expectKey = true;
      i++;
      continue;
    }
    if (c === '}' || c === ']') {
      stack.pop();
      expectKey = false;
      i++;
      continue;
    }
    if (expectKey && c === '"') {
      const raw = skipString();
      const top = stack[stack.length - 1]!;
      let key: string;
      try {
        key = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
      } catch {
        key = raw;
      }
      top.key = key;
      expectKey = false;
      continue;
    }
    // A value starts here.
    const { path, segments } = childPath();
    if (path !== null) found.set(path, i);
    if (c === '{' || c === '[') {
      stack.push({ kind: c === '{' ? 'obj' : 'arr', path, segments, index: 0, key: null });
      expectKey = c === '{';
      i++;
      continue;
    }
    if (c === '"') {
      skipString();
      continue;
    }
    // A number, true, false or null.
    while (i < n && !/[\s,\]}]/.test(text[i]!)) i++;
  }
  return found;
}

function parseJson(text: string): Parsed {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    const lines = new Lines(text);
    const msg = (e as Error).message;
    const pos = /position (\d+)/.exec(msg);
    // "Unexpected end of JSON input" has no position: the file ends too early.
    const where = pos ? lines.at(Number(pos[1])) : lines.at(Math.max(0, text.length - 1));
    return {
      problems: [
        fileProblem(
          `not valid JSON: ${msg.replace(/\s*\(line \d+ column \d+\)$/, '')} (line ${where.line}, column ${where.col})`,
          where.line,
        ),
      ],
    };
  }
  let offsets: Map<string, number> | undefined;
  let lines: Lines | undefined;
  return {
    raw,
    locate: (path) => {
      if (!offsets) return undefined;
      // The deepest part of the path that the document has.
      const segs = splitPath(path);
      for (let k = segs.length; k >= 0; k--) {
        const at = offsets.get(formatPath(segs.slice(0, k)));
        if (at !== undefined) return (lines ??= new Lines(text)).at(at).line;
      }
      return undefined;
    },
    prepare: (paths) => {
      const wanted = new Set<string>();
      for (const p of paths) {
        const segs = splitPath(p);
        for (let k = 0; k <= segs.length; k++) wanted.add(formatPath(segs.slice(0, k)));
      }
      offsets = jsonOffsets(text, wanted);
    },
  };
}

// ---- both ----

/**
 * A YAML or JSON document (by the file's extension) as a value, with the same bounds as a
 * definition: for `--data` files. A problem names its line.
 */
export function parseDataText(
  text: string,
  file: string,
): { value: unknown } | { problems: DefinitionProblem[] } {
  try {
    const parsed = extname(file).toLowerCase() === '.json' ? parseJson(text) : parseYaml(text);
    return 'problems' in parsed ? parsed : { value: parsed.raw };
  } catch (e) {
    return { problems: [fileProblem(`cannot be read: ${(e as Error).message}`, 1)] };
  }
}

/** Parses and validates a definition from text; `file` names it in messages. */
export function loadDefinitionText(text: string, file: string): LoadedDefinition {
  try {
    return loadChecked(text, file);
  } catch (e) {
    // A safety net: a bug of ours is reported as a refusal, never as a stack trace.
    return {
      file,
      valid: false,
      warnings: [],
      errors: [
        fileProblem(
          `could not be checked because of an internal error (${e instanceof Error ? e.message : String(e)}); please report it with the file`,
          1,
        ),
      ],
    };
  }
}

function loadChecked(text: string, file: string): LoadedDefinition {
  const isJson = extname(file).toLowerCase() === '.json';
  const parsed = isJson ? parseJson(text) : parseYaml(text);
  if ('problems' in parsed) return { file, valid: false, warnings: [], errors: parsed.problems };
  const { raw, locate, prepare } = parsed;
  if (raw === null || raw === undefined) {
    return {
      file,
      valid: false,
      warnings: [],
      errors: [fileProblem('the file is empty (no definition in it)', 1)],
    };
  }
  const result = validateDefinition(raw);
  prepare?.([...result.errors, ...result.warnings].map((p) => p.path));
  const withLine = (p: DefinitionProblem): DefinitionProblem => {
    const line = locate(p.path);
    return line === undefined ? p : { ...p, line };
  };
  return {
    ...result,
    file,
    errors: result.errors.map(withLine),
    warnings: result.warnings.map(withLine),
  };
}

/** Decodes and loads a definition from the bytes of a file. */
export function loadDefinitionBytes(bytes: Uint8Array, file: string): LoadedDefinition {
  const decoded = decodeText(bytes, file);
  if (isEncodingProblem(decoded))
    return {
      file,
      valid: false,
      warnings: [],
      errors: [fileProblem(decoded.message, decoded.line)],
    };
  return loadDefinitionText(decoded.text, file);
}

/** A file read as a workbook rather than YAML or JSON. */
export function isWorkbookFile(file: string): boolean {
  return extname(file).toLowerCase() === '.xlsx';
}

export async function loadDefinitionFile(
  file: string,
  opts: { maxBytes?: number } = {},
): Promise<LoadedDefinition> {
  let maxBytes = opts.maxBytes;
  if (maxBytes === undefined) {
    try {
      maxBytes = readFileLimits().definitionBytes;
    } catch (e) {
      return { file, valid: false, warnings: [], errors: [fileProblem((e as Error).message)] };
    }
  }
  const read = await readBoundedFile(file, maxBytes, 'CAMPAIGN_MAX_DEFINITION_SIZE');
  if ('problem' in read)
    return { file, valid: false, warnings: [], errors: [fileProblem(read.problem)] };
  // The office's division-of-labour workbook (任务分工表) is a definition too.
  if (isWorkbookFile(file)) {
    const { loadWorkbookBytes } = await import('./workbook.ts');
    return loadWorkbookBytes(read.bytes, file);
  }
  return loadDefinitionBytes(read.bytes, file);
}
