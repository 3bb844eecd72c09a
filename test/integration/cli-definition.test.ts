// The CLI's definition commands, run as a separate process exactly as people and scripts do.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';

describe('campaign validate', () => {
  it('exits 0 for each example and prints the summary', async () => {
    for (const file of ['examples/county-2026.yaml', 'examples/quick-demo.yaml']) {
      const r = await runCli(['validate', file, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const out = r.json<{ valid: boolean; errors: unknown[]; summary: { campaignId: string } }>();
      expect(out.valid).toBe(true);
      expect(out.errors).toEqual([]);
      expect(out.summary.campaignId).toMatch(/2026$/);
    }
  });

  it('exits 1 for a file with a dozen mistakes and lists each with its path, in --json too', async () => {
    const human = await runCli(['validate', 'test/fixtures/twelve-mistakes.yaml', '--lang', 'en']);
    expect(human.code).toBe(1);
    expect(human.stderr).toMatch(/problem\(s\)/);
    expect(human.stderr).toMatch(
      /twelve-mistakes\.yaml:20 +units\[2\]\.id +duplicate unit id "scjgj"/,
    );
    const json = await runCli(['validate', 'test/fixtures/twelve-mistakes.yaml', '--json']);
    expect(json.code).toBe(1);
    const out = json.json<{
      valid: boolean;
      errors: { path: string; message: string; line: number }[];
    }>();
    expect(out.valid).toBe(false);
    expect(out.errors.length).toBeGreaterThanOrEqual(12);
    for (const e of out.errors) {
      expect(e.path).toBeTruthy();
      expect(e.message).toBeTruthy();
    }
  });

  it('exits 1 with a clear message for a missing file', async () => {
    const r = await runCli(['validate', 'nope.yaml', '--json']);
    expect(r.code).toBe(1);
    expect(r.json<{ errors: { message: string }[] }>().errors[0]!.message).toMatch(
      /cannot read nope.yaml: no such file/,
    );
  });

  it('exits 2 for a usage error and prints help for --help', async () => {
    const missing = await runCli(['validate']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing required argument 'file'/);
    const unknown = await runCli(['frobnicate']);
    expect(unknown.code).toBe(2);
    const help = await runCli(['schedule', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: campaign schedule/);
  });
});

describe('campaign schedule', () => {
  it("lists phases with working days and each indicator's data-entry day, none on a day off", async () => {
    const r = await runCli(['schedule', 'examples/county-2026.yaml', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = r.json<{
      dataEntry: { code: string; date: string; dayKind: string }[];
      phases: { phase: string; start: string; end: string; workingDays: number }[];
    }>();
    expect(out.phases.map((p) => p.phase)).toEqual([
      'training',
      'dataEntry',
      'verification',
      'reporting',
    ]);
    expect(out.dataEntry).toHaveLength(18);
    const dates = out.dataEntry.map((d) => d.date);
    expect(dates).toContain('2026-10-10');
    expect(dates.some((d) => d >= '2026-10-01' && d <= '2026-10-07')).toBe(false);
    for (const d of out.dataEntry) {
      const wd = new Date(`${d.date}T00:00:00Z`).getUTCDay();
      if (wd === 0 || wd === 6) expect(d.dayKind, d.date).toBe('adjusted-workday');
    }
  });

  it('prints a table for people in Chinese by default', async () => {
    const r = await runCli(['schedule', 'examples/county-2026.yaml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/数据填报/);
    expect(r.stdout).toMatch(/调休上班/);
  });

  it('refuses an invalid definition with exit 1', async () => {
    const r = await runCli(['schedule', 'test/fixtures/twelve-mistakes.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is not a valid campaign definition/);
  });
});

describe('campaign doctor', () => {
  it('exits 3 and says how to start Temporal when it is unreachable', async () => {
    const r = await runCli(['doctor'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /Temporal is not reachable at 127\.0\.0\.1:1 .*npm run services:start/,
    );
  });

  it('exits 1 and names the variable when the configuration is malformed', async () => {
    const r = await runCli(['doctor'], { TEMPORAL_ADDRESS: 'no port here' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/TEMPORAL_ADDRESS="no port here": must be host:port/);
  });
});

describe('hostile files through the command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-hostile-'));
  const file = (name: string, content: string | Buffer) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  it('refuses `a: *x` with exit 1 and its JSON document, the problem at line 1', async () => {
    const r = await runCli(['validate', file('alias.yaml', 'a: *x'), '--json']);
    expect(r.code, r.stderr).toBe(1);
    const out = r.json<{
      valid: boolean;
      errors: { path: string; line: number; message: string }[];
    }>();
    expect(out.valid).toBe(false);
    expect(out.errors).toEqual([
      { path: '(file)', line: 1, message: expect.stringMatching(/alias \*x names no anchor/) },
    ]);
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
  });

  it('refuses a unit of kind "constructor" in --json, at the line of the kind', async () => {
    const text = readFileSync('examples/quick-demo.yaml', 'utf8').replace(
      /kind: department/,
      'kind: constructor',
    );
    const r = await runCli(['validate', file('constructor.yaml', text), '--json']);
    expect(r.code, r.stderr).toBe(1);
    const errors = r.json<{ errors: { path: string; line: number }[] }>().errors;
    const kind = errors.find((e) => /^units\[\d+\]\.kind$/.test(e.path));
    expect(kind?.line).toBe(text.split('\n').findIndex((l) => l.includes('constructor')) + 1);
  });

  it('refuses a definition over CAMPAIGN_MAX_DEFINITION_SIZE, naming the setting', async () => {
    const r = await runCli(['validate', 'examples/quick-demo.yaml', '--json'], {
      CAMPAIGN_MAX_DEFINITION_SIZE: '1KB',
    });
    expect(r.code).toBe(1);
    expect(r.json<{ errors: { message: string }[] }>().errors[0]!.message).toMatch(
      /larger than the limit of 1 KB .*set CAMPAIGN_MAX_DEFINITION_SIZE/,
    );
  });

  it('prints a JSON document for a usage error and for a malformed configuration', async () => {
    const usage = await runCli(['validate', '--json']);
    expect(usage.code).toBe(2);
    expect(usage.json<{ error: string; exitCode: number }>()).toMatchObject({
      error: expect.stringMatching(/missing required argument 'file'/),
      exitCode: 2,
    });
    const config = await runCli(['list', '--json'], { TEMPORAL_ADDRESS: 'no port here' });
    expect(config.code).toBe(1);
    expect(config.json<{ error: string; exitCode: number }>()).toMatchObject({
      error: expect.stringMatching(/TEMPORAL_ADDRESS="no port here"/),
      exitCode: 1,
    });
  });

  it('refuses an enterprise list that is not good CSV with its line and column in --json, before any service is asked', async () => {
    const csv = file(
      'enterprises.csv',
      '统一社会信用代码,企业名称\n91110108551385082Q,"小米\n科技"\n91110108551385082R,坏的,多的\n',
    );
    const r = await runCli([
      'enterprises',
      'import',
      'x-2026',
      '--file',
      csv,
      '--as',
      'p',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.json()).toEqual({
      imported: 0,
      rejected: [
        {
          line: 4,
          column: 3,
          message: expect.stringMatching(/3 field\(s\) where the header has 2/),
        },
      ],
    });
    const empty = await runCli([
      'enterprises',
      'import',
      'x-2026',
      '--file',
      file('e.csv', ''),
      '--as',
      'p',
      '--json',
    ]);
    expect(empty.code).toBe(1);
    expect(empty.json()).toEqual({
      imported: 0,
      rejected: [{ line: 1, message: expect.stringMatching(/is empty/) }],
    });
  });
});
