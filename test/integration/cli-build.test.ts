// The compiled CLI: `node bin/campaign.mjs` runs from dist/cli when the build is current, lists
// every command, and rebuilds itself when a source changes (checked in a scratch copy of the
// sources, so that the repository's own files are never touched while other tests run).
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentBuild, ensureCliBuild } from '../../bin/cli-build.mjs';
import { runNode } from '../../scripts/lib/run-node.ts';
import { REPO_ROOT } from '../../scripts/lib/tools.ts';
import { runCli } from '../helpers/cli.ts';

const TRACE = { CAMPAIGN_CLI_TRACE: '1' };
const COMMANDS = [
  'validate',
  'schedule',
  'template',
  'import-workbook',
  'doctor',
  'tasks',
  'task',
  'start',
  'list',
  'status',
  'enterprises',
  'sample',
  'records',
  'evidence',
  'verify',
  'results',
  'rectify',
  'phase',
  'cancel',
  'measure',
  'accounts',
  'report',
  'assessment',
  'questionnaire',
  'visit',
  'highlight',
  'publicity',
  'help',
];

/** The command names in the "Commands:" part of commander's help. */
function commandsIn(help: string): string[] {
  const part = help.slice(help.indexOf('Commands:'));
  return [...part.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)].map((m) => m[1]!);
}

describe('the compiled campaign command', () => {
  it('runs --help from the compiled build and lists every command', async () => {
    const url = await ensureCliBuild();
    expect(currentBuild()).toBe(url);
    const r = await runCli(['--help'], TRACE);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /^campaign: compiled build dist\/cli\/build-[^/]+\/cli\.mjs \(current\)$/m,
    );
    expect(commandsIn(r.stdout)).toEqual(COMMANDS);
    // A subcommand's help comes from the same build.
    const task = await runCli(['task', '--help'], TRACE);
    expect(task.code).toBe(0);
    expect(task.stderr).toMatch(/compiled build/);
    expect(commandsIn(task.stdout)).toEqual([
      'show',
      'submit',
      'approve',
      'return',
      'extend',
      'reassign',
      'cancel',
      'create',
      'help',
    ]);
  });

  it('prints the same help from the TypeScript sources when asked to', async () => {
    const [compiled, source] = await Promise.all([
      runCli(['--help']),
      runCli(['--help'], { ...TRACE, CAMPAIGN_CLI_SOURCE: '1' }),
    ]);
    expect(source.code, source.stderr).toBe(0);
    expect(source.stderr).toMatch(/TypeScript sources through tsx/);
    expect(source.stdout).toBe(compiled.stdout);
  });

  describe('in a scratch copy of the sources', () => {
    let root: string;
    const bin = () => join(root, 'bin', 'campaign.mjs');

    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), 'cli-build-'));
      for (const part of [
        'bin',
        'client',
        'domain',
        'db',
        'worker',
        'activities',
        'portal',
        'package.json',
        'tsconfig.json',
      ]) {
        await cp(join(REPO_ROOT, part), join(root, part), { recursive: true });
      }
      await symlink(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
    });
    afterAll(async () => {
      if (root) await rm(root, { recursive: true, force: true });
    });

    it('builds on first use, then starts from the build until a source changes', async () => {
      const first = await runNode([bin(), '--help'], TRACE);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stderr).toMatch(/compiled build .* \(rebuilt, a source had changed\)/);
      const again = await runNode([bin(), '--help'], TRACE);
      expect(again.stderr).toMatch(/compiled build .* \(current\)/);
      expect(again.stdout).toBe(first.stdout);

      // A developer edits a source (here the program's description) and runs the command.
      const cli = join(root, 'client', 'cli.ts');
      const text = await readFile(cli, 'utf8');
      expect(text).toContain('county business-environment evaluation on Temporal');
      await writeFile(
        cli,
        text.replace('county business-environment evaluation on Temporal', 'edited just now'),
      );
      const edited = await runNode([bin(), '--help'], TRACE);
      expect(edited.code, edited.stderr).toBe(0);
      expect(edited.stderr).toMatch(/\(rebuilt, a source had changed\)/);
      expect(edited.stdout).toContain('edited just now');
      const after = await runNode([bin(), '--help'], TRACE);
      expect(after.stderr).toMatch(/\(current\)/);
      expect(after.stdout).toContain('edited just now');
    });

    it('runs from the sources, saying why, when the sources do not compile', async () => {
      const board = join(root, 'client', 'commands', 'board.ts');
      await writeFile(board, `${await readFile(board, 'utf8')}\nexport const broken = ;\n`);
      const r = await runNode([bin(), '--help'], TRACE);
      expect(r.stderr).toMatch(/the compiled command could not be rebuilt \(.*board\.ts/);
      expect(r.stderr).toMatch(/TypeScript sources through tsx/);
      // --help loads no command module, so it still works from the sources.
      expect(r.code).toBe(0);
      expect(commandsIn(r.stdout)).toEqual(COMMANDS);
    });
  });
});
