// Reads a campaign definition file (YAML or JSON), validates it, and points each problem at
// its line in the file.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import {
  validateDefinition,
  type DefinitionProblem,
  type ValidationResult,
} from '../domain/validate.ts';

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

/** Splits `indicators[3].fields[0].key` into ['indicators', 3, 'fields', 0, 'key']. */
function splitPath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[1] !== undefined) out.push(m[1]);
  }
  return out;
}

/** The deepest node of the document on the path, to find a line for a problem. */
function nodeAt(root: unknown, path: (string | number)[]): Node | undefined {
  let node = root as Node | undefined;
  let found: Node | undefined = node;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && p.key.value === key);
      if (!pair) break;
      // Point at the key when the value is missing.
      node = (pair.value ?? pair.key) as Node | undefined;
    } else if (isSeq(node) && typeof key === 'number') {
      node = node.items[key] as Node | undefined;
    } else break;
    if (node) found = node;
  }
  return found;
}

function lineOfOffset(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let last = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      last = i;
    }
  }
  return { line, col: offset - last };
}

/** Parses and validates a definition from text; `file` names it in messages. */
export function loadDefinitionText(text: string, file: string): LoadedDefinition {
  const isJson = extname(file).toLowerCase() === '.json';
  let raw: unknown;
  let locate: (path: string) => number | undefined = () => undefined;
  if (isJson) {
    try {
      raw = JSON.parse(text);
    } catch (e) {
      const msg = (e as Error).message;
      const pos = /position (\d+)/.exec(msg);
      const where = pos ? lineOfOffset(text, Number(pos[1])) : undefined;
      const problem: DefinitionProblem = {
        path: '(file)',
        message: `not valid JSON: ${msg}${where ? ` (line ${where.line}, column ${where.col})` : ''}`,
      };
      if (where) problem.line = where.line;
      return { file, valid: false, errors: [problem], warnings: [] };
    }
    // JSON is YAML too: parse once more as YAML only to locate problems by line.
    const lc = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lc });
    locate = (path) => {
      const n = nodeAt(doc.contents, splitPath(path));
      return n?.range ? lc.linePos(n.range[0]).line : undefined;
    };
  } else {
    const lc = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lc, prettyErrors: true, uniqueKeys: true });
    if (doc.errors.length > 0) {
      return {
        file,
        valid: false,
        warnings: [],
        errors: doc.errors.map((err) => {
          const line = err.linePos?.[0]?.line;
          const problem: DefinitionProblem = {
            path: '(file)',
            message: `not valid YAML: ${err.message.split('\n')[0]}`,
          };
          if (line !== undefined) problem.line = line;
          return problem;
        }),
      };
    }
    raw = doc.toJS();
    locate = (path) => {
      const n = nodeAt(doc.contents, splitPath(path));
      return n?.range ? lc.linePos(n.range[0]).line : undefined;
    };
  }
  if (raw === null || raw === undefined) {
    return {
      file,
      valid: false,
      warnings: [],
      errors: [{ path: '(file)', message: 'the file is empty' }],
    };
  }
  const result = validateDefinition(raw);
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

export async function loadDefinitionFile(file: string): Promise<LoadedDefinition> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a directory'
          : (e as Error).message;
    return {
      file,
      valid: false,
      warnings: [],
      errors: [{ path: '(file)', message: `cannot read ${file}: ${reason}` }],
    };
  }
  return loadDefinitionText(text, file);
}
