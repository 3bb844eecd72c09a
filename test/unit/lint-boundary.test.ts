// The determinism boundary is enforced by lint: workflow code may not import Node built-ins,
// the database driver or activity implementations (type-only imports are fine).
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const probe = `
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { systemCheckActivities } from '../activities/system-check.ts';
import type { createActivities } from '../activities/index.ts';
export const x = [readFileSync, pg, systemCheckActivities] as unknown as ReturnType<typeof createActivities>;
`;

describe('the workflow import rule', () => {
  it('refuses Node built-ins, pg and activity implementations in workflows/ but allows type imports', async () => {
    const eslint = new ESLint({ cwd: process.cwd() });
    const [result] = await eslint.lintText(probe, { filePath: 'workflows/system-check.ts' });
    const restricted = result!.messages.filter(
      (m) => m.ruleId === '@typescript-eslint/no-restricted-imports',
    );
    expect(restricted.map((m) => m.line)).toEqual([2, 3, 4]);
  });

  it('lets the same imports stand in activity code', async () => {
    const eslint = new ESLint({ cwd: process.cwd() });
    const [result] = await eslint.lintText(probe, { filePath: 'activities/system-check.ts' });
    expect(
      result!.messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports'),
    ).toEqual([]);
  });
});

describe('the client and portal import rule', () => {
  const clientProbe = `
import { taskWorkflow } from '../workflows/task.ts';
export const x = taskWorkflow;
`;

  it.each(['client/output.ts', 'portal/config.ts'])(
    'refuses an import of workflow code in %s',
    async (filePath) => {
      const eslint = new ESLint({ cwd: process.cwd() });
      const [result] = await eslint.lintText(clientProbe, { filePath });
      const restricted = result!.messages.filter(
        (m) => m.ruleId === '@typescript-eslint/no-restricted-imports',
      );
      expect(restricted.map((m) => m.line)).toEqual([2]);
    },
  );
});
