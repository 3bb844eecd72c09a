// The CLI's output for people, run as a separate process: no colour codes when the output is
// piped (even without NO_COLOR), colours on a terminal, Chinese labels by default and English
// with --lang en, and tables whose Chinese cells line up. Needs no servers.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, which } from '../../scripts/lib/tools.ts';
import { displayWidth } from '../../client/text-width.ts';
import { runCli } from '../helpers/cli.ts';

// runCli pipes stdout and stderr and sets NO_COLOR=1; these runs take NO_COLOR (and
// FORCE_COLOR, which some test runners set) away so that only the pipe keeps colours off.
const COLOUR_ALLOWED = { NO_COLOR: undefined, FORCE_COLOR: undefined };
// eslint-disable-next-line no-control-regex
const ESC = /\x1b/;

describe('piped output', () => {
  it('holds no ANSI escape on stdout or stderr, whatever the outcome', async () => {
    const runs = [
      { args: ['validate', 'examples/quick-demo.yaml'], code: 0 },
      { args: ['validate', 'examples/quick-demo.yaml', '--lang', 'en'], code: 0 },
      { args: ['schedule', 'examples/quick-demo.yaml'], code: 0 },
      { args: ['schedule', 'examples/county-2026.yaml', '--lang', 'en'], code: 0 },
      { args: ['validate', 'test/fixtures/twelve-mistakes.yaml'], code: 1 },
      { args: ['schedule', 'test/fixtures/twelve-mistakes.yaml'], code: 1 },
      { args: ['schedule', 'test/fixtures/twelve-mistakes.yaml', '--json'], code: 1 },
      { args: ['validate', 'nope.yaml'], code: 1 },
      { args: ['validate'], code: 2 },
      { args: ['schedule', 'examples/quick-demo.yaml', '--lang', 'fr'], code: 2 },
      { args: ['frobnicate'], code: 2 },
      { args: ['schedule', '--help'], code: 0 },
    ];
    const results = await Promise.all(runs.map((r) => runCli(r.args, COLOUR_ALLOWED)));
    results.forEach((r, i) => {
      const what = `campaign ${runs[i]!.args.join(' ')}`;
      expect(r.code, `${what}\n${r.stderr}`).toBe(runs[i]!.code);
      expect(r.stdout + r.stderr, what).not.toBe('');
      expect(r.stdout, `stdout of ${what}`).not.toMatch(ESC);
      expect(r.stderr, `stderr of ${what}`).not.toMatch(ESC);
    });
  });
});

// `script` runs the command on a pseudo-terminal (util-linux, present on Debian and Ubuntu).
const script = which('script');

/** What the command prints on a terminal; `redirect` is shell text after it, e.g. "2>FILE". */
function onTerminal(args: string[], env: NodeJS.ProcessEnv, redirect = ''): string {
  const cmd = `${[process.execPath, join(REPO_ROOT, 'bin', 'campaign.mjs'), ...args]
    .map((a) => `'${a.replace(/'/g, "'\\''")}'`)
    .join(' ')} ${redirect}`;
  const r = spawnSync(script!, ['-qec', cmd, '/dev/null'], {
    cwd: REPO_ROOT,
    env: { ...process.env, FORCE_COLOR: undefined, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return r.stdout;
}

describe.skipIf(!script)('output on a terminal', () => {
  it('is coloured, on stdout and on stderr, unless NO_COLOR is set', () => {
    const ok = onTerminal(['validate', 'examples/quick-demo.yaml'], { NO_COLOR: undefined });
    expect(ok).toContain('\x1b[32m✓\x1b[39m');
    const bad = onTerminal(['validate', 'test/fixtures/twelve-mistakes.yaml'], {
      NO_COLOR: undefined,
    });
    expect(bad).toContain('\x1b[31m✗\x1b[39m');
    const refused = onTerminal(['schedule', 'test/fixtures/twelve-mistakes.yaml'], {
      NO_COLOR: undefined,
    });
    expect(refused).toContain('\x1b[31mcampaign:\x1b[39m');
    const plain = onTerminal(['validate', 'test/fixtures/twelve-mistakes.yaml'], {
      NO_COLOR: '1',
    });
    expect(plain).toMatch(/发现 \d+ 处错误/);
    expect(plain).not.toMatch(ESC);
  });

  it('colours each stream by itself: stderr to a file is plain while stdout is a terminal, and back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-colour-'));
    const errFile = join(dir, 'stderr.txt');
    const env = { NO_COLOR: undefined };
    onTerminal(['validate', 'test/fixtures/twelve-mistakes.yaml'], env, `2>'${errFile}'`);
    const validateErr = readFileSync(errFile, 'utf8');
    expect(validateErr).toMatch(/✗ .*发现 \d+ 处错误/);
    expect(validateErr).not.toMatch(ESC);
    onTerminal(['schedule', 'test/fixtures/twelve-mistakes.yaml'], env, `2>'${errFile}'`);
    const scheduleErr = readFileSync(errFile, 'utf8');
    expect(scheduleErr).toMatch(/^campaign: .*is not a valid campaign definition/);
    expect(scheduleErr).not.toMatch(ESC);
    // stdout into a pipe, stderr on the terminal.
    const good = onTerminal(['validate', 'examples/quick-demo.yaml'], env, '| cat');
    expect(good).toMatch(/✓ .*定义有效/);
    expect(good).not.toMatch(ESC);
    const bad = onTerminal(['validate', 'test/fixtures/twelve-mistakes.yaml'], env, '| cat');
    expect(bad).toContain('\x1b[31m✗\x1b[39m');
  });
});

describe('languages', () => {
  it('schedule: Chinese headings and phases by default, English with --lang en', async () => {
    const [zh, en] = await Promise.all([
      runCli(['schedule', 'examples/quick-demo.yaml']),
      runCli(['schedule', 'examples/quick-demo.yaml', '--lang', 'en']),
    ]);
    expect(zh.code, zh.stderr).toBe(0);
    expect(en.code, en.stderr).toBe(0);
    for (const word of ['阶段', '开始', '结束', '工作日', '第几天', '日期', '星期', '指标', '截止'])
      expect(zh.stdout).toContain(word);
    for (const word of ['前期培训', '数据填报', '信息核验', '编制报告', '周二'])
      expect(zh.stdout).toContain(word);
    expect(zh.stdout).not.toMatch(/Working days|Weekday|training/);
    for (const word of ['Phase', 'Start', 'End', 'Working days', 'Day', 'Date', 'Weekday'])
      expect(en.stdout).toContain(word);
    for (const word of ['training', 'data entry', 'verification', 'reporting', 'Tue'])
      expect(en.stdout).toContain(word);
    // Only the campaign's own names stay Chinese in English output.
    for (const word of ['阶段', '工作日', '第几天', '星期', '前期培训', '数据填报', '周二'])
      expect(en.stdout).not.toContain(word);
  });

  it('validate: Chinese by default, English with --lang en, for a valid and an invalid file', async () => {
    const [zh, en, zhBad, enBad] = await Promise.all([
      runCli(['validate', 'examples/quick-demo.yaml']),
      runCli(['validate', 'examples/quick-demo.yaml', '--lang', 'en']),
      runCli(['validate', 'test/fixtures/twelve-mistakes.yaml']),
      runCli(['validate', 'test/fixtures/twelve-mistakes.yaml', '--lang', 'en']),
    ]);
    expect(zh.stdout).toMatch(/定义有效 .* \d+ 个单位，\d+ 人，\d+ 项指标/);
    expect(en.stdout).toMatch(/: valid — .* \d+ units, \d+ people, \d+ indicators/);
    expect(en.stdout).not.toMatch(/定义有效|个单位/);
    expect(zhBad.code).toBe(1);
    expect(zhBad.stderr).toMatch(/发现 \d+ 处错误/);
    expect(enBad.code).toBe(1);
    expect(enBad.stderr).toMatch(/\d+ problem\(s\)/);
    expect(enBad.stderr).not.toMatch(/发现|处错误/);
  });

  it('lines up the Chinese schedule: every line of each table has one display width', async () => {
    const r = await runCli(['schedule', 'examples/county-2026.yaml']);
    expect(r.code, r.stderr).toBe(0);
    // The tables: runs of lines drawn with box characters.
    const tables: string[][] = [];
    for (const line of r.stdout.split('\n')) {
      if (line.startsWith('┌')) tables.push([]);
      if (/^[┌│└├]/.test(line)) tables.at(-1)!.push(line);
    }
    expect(tables).toHaveLength(2);
    for (const lines of tables) {
      expect(lines.some((l) => /[\u4e00-\u9fff]/.test(l))).toBe(true);
      expect(new Set(lines.map(displayWidth)).size, lines.join('\n')).toBe(1);
    }
  });
});
