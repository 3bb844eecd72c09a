// domain/ has no import cycle, counting type imports and re-exports: every message of the
// workflows is named in domain/messages.ts, which nothing in domain/ imports, and the shared
// types sit in modules of their own (domain/roster.ts, domain/phases.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/lib/tools.ts';

const dir = join(REPO_ROOT, 'domain');

/** The domain modules each domain module imports or re-exports from. */
function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
    const text = readFileSync(join(dir, f), 'utf8');
    const deps = [...text.matchAll(/^(?:import|export)\b[^;]*?from '\.\/([\w-]+\.ts)'/gms)].map(
      (m) => m[1]!,
    );
    g.set(f, [...new Set(deps)]);
  }
  return g;
}

/** Every cycle found by a depth-first walk, as a path. */
function cycles(g: Map<string, string[]>): string[] {
  const found = new Set<string>();
  const done = new Set<string>();
  const walk = (n: string, path: string[]) => {
    for (const d of g.get(n) ?? []) {
      const at = path.indexOf(d);
      if (at >= 0) found.add([...path.slice(at), d].join(' → '));
      else if (!done.has(d)) walk(d, [...path, d]);
    }
    done.add(n);
  };
  for (const n of g.keys()) walk(n, [n]);
  return [...found];
}

describe('domain/ imports', () => {
  it('form no cycle', () => {
    expect(cycles(graph())).toEqual([]);
  });

  it('would report one (the check itself can fail)', () => {
    const g = graph();
    g.set('task.ts', [...(g.get('task.ts') ?? []), 'messages.ts']);
    expect(cycles(g).some((c) => c.includes('messages.ts'))).toBe(true);
  });

  it('name every workflow message in domain/messages.ts alone', () => {
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts') && n !== 'messages.ts')) {
      const text = readFileSync(join(dir, f), 'utf8');
      expect(/\bdefine(?:Update|Signal|Query)\b/.test(text), f).toBe(false);
    }
  });
});
