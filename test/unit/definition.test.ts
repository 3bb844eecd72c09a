import { describe, expect, it } from 'vitest';
import { loadDefinitionFile, loadDefinitionText } from '../../client/definition-file.ts';

describe('the campaign definition', () => {
  it('accepts both example definitions without errors or warnings', async () => {
    for (const file of ['examples/county-2026.yaml', 'examples/quick-demo.yaml']) {
      const r = await loadDefinitionFile(file);
      expect(r.errors, file).toEqual([]);
      expect(r.warnings, file).toEqual([]);
      expect(r.valid).toBe(true);
    }
  });

  it('summarises the realistic example: 18 national indicators, ~25 units, ~100 people', async () => {
    const r = await loadDefinitionFile('examples/county-2026.yaml');
    expect(r.summary).toMatchObject({ campaignId: 'hx-2026', year: 2026, indicators: 18 });
    expect(r.summary!.units).toBeGreaterThanOrEqual(24);
    expect(r.summary!.people).toBeGreaterThanOrEqual(75);
    expect(r.definition!.indicators.map((i) => i.name)).toContain('知识产权创造、保护和运用');
  });

  it('lists every mistake of a file with a dozen of them, each with its path and line', async () => {
    const r = await loadDefinitionFile('test/fixtures/twelve-mistakes.yaml');
    expect(r.valid).toBe(false);
    const got = r.errors.map((e) => `${e.path} | ${e.message}`);
    const expected: [string, RegExp][] = [
      ['campaign.id', /lower-case letters/],
      ['units[1].people[2].role', /department unit cannot have a person with role "leader"/],
      ['units[2].id', /duplicate unit id "scjgj"/],
      ['units[2].people[0].id', /duplicate person id "spj-coord"/],
      ['indicators[0].cooperatingUnits[0]', /is the lead unit/],
      ['indicators[0].cooperatingUnits[1]', /unknown unit "nowhere"/],
      ['indicators[0].teamLeader', /unknown person "nobody"/],
      ['indicators[0].fields[1].type', /percentage|Invalid option/i],
      ['phases.training', /ends .* before it starts/],
      ['phases.verification.samplingProportion', /outside \(0, 1\]/],
      ['phases.reporting.end', /is after 2027: a campaign of 2026 runs in 2026 and 2027/],
      ['policy.reminders[1]', /ISO 8601 duration/],
      ['policy.escalation', /no unit is of kind "leadership"/],
      ['colour', /unknown key "colour"/],
    ];
    for (const [path, message] of expected) {
      const hit = r.errors.find((e) => e.path === path && message.test(e.message));
      expect(hit, `expected ${path} ~ ${message}; got:\n${got.join('\n')}`).toBeDefined();
      expect(hit!.line, `line for ${path}`).toBeGreaterThan(1);
    }
    // The line points at the mistake itself.
    expect(r.errors.find((e) => e.path === 'units[2].id')!.line).toBe(20);
  });

  it('says where a YAML file stops being YAML', () => {
    const r = loadDefinitionText(
      'campaign:\n  id: x\n  name: [unclosed\nunits: []\n',
      'broken.yaml',
    );
    expect(r.valid).toBe(false);
    expect(r.errors[0]!.path).toBe('(file)');
    expect(r.errors[0]!.message).toMatch(/not valid YAML/);
    expect(r.errors[0]!.line).toBeGreaterThanOrEqual(3);
  });

  it('says where a JSON file stops being JSON', () => {
    const r = loadDefinitionText('{\n  "campaign": {\n    "id": "x",\n  }\n}\n', 'broken.json');
    expect(r.valid).toBe(false);
    expect(r.errors[0]!.message).toMatch(/not valid JSON/);
    expect(r.errors[0]!.line).toBe(4);
  });

  it('refuses an empty file and a missing file with a clear message', async () => {
    expect(loadDefinitionText('', 'empty.yaml').errors[0]!.message).toMatch(/empty/);
    const r = await loadDefinitionFile('examples/no-such-file.yaml');
    expect(r.errors[0]!.message).toMatch(/cannot read .*no-such-file.yaml: no such file/);
  });

  it('checks roles, fillers and the team leader against the roster', async () => {
    const base = (await import('yaml')).parse(
      await (await import('node:fs/promises')).readFile('examples/quick-demo.yaml', 'utf8'),
    );
    base.indicators[0].teamLeader = 'scjgj-staff1';
    base.indicators[0].fillers = ['zjj-staff1', 'swj-staff1'];
    base.units[0].people.push({ id: 'spj-ev', name: 'x', role: 'evaluator' });
    const r = loadDefinitionText(JSON.stringify(base), 'mutated.json');
    const msgs = r.errors.map((e) => `${e.path}: ${e.message}`);
    expect(msgs).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /indicators\[0\].teamLeader: .*must be the lead unit's head or deputy/,
        ),
        expect.stringMatching(
          /indicators\[0\].fillers\[0\]: .*neither the lead nor a cooperating unit/,
        ),
        expect.stringMatching(
          /units\[0\].people\[2\].role: a bureau unit cannot have a person with role "evaluator"/,
        ),
      ]),
    );
  });

  it('refuses a data-entry window too short for its indicators', async () => {
    const base = (await import('yaml')).parse(
      await (await import('node:fs/promises')).readFile('examples/county-2026.yaml', 'utf8'),
    );
    base.phases.dataEntry.end = '2026-10-13';
    const r = loadDefinitionText(JSON.stringify(base), 'short.json');
    expect(r.valid).toBe(false);
    expect(r.errors).toEqual([
      expect.objectContaining({
        path: 'phases.dataEntry',
        message: expect.stringMatching(
          /18 indicators at 2 per working day need 9 working days, but the window has 5 working days/,
        ),
      }),
    ]);
  });

  it('warns when the holiday package does not know a year and the file lists nothing for it', async () => {
    const base = (await import('yaml')).parse(
      await (await import('node:fs/promises')).readFile('examples/quick-demo.yaml', 'utf8'),
    );
    base.calendar.holidays = [];
    const r = loadDefinitionText(JSON.stringify(base), 'no-2027.json');
    expect(r.valid).toBe(true);
    expect(r.warnings.map((w) => w.message)).toEqual([expect.stringMatching(/no data for 2027/)]);
  });

  it('warns when progress reports would come hundreds of times in one rectification', async () => {
    const base = (await import('yaml')).parse(
      await (await import('node:fs/promises')).readFile('examples/quick-demo.yaml', 'utf8'),
    );
    base.rectification.measureDue = { workingDays: 20 };
    const r = loadDefinitionText(JSON.stringify(base), 'chatty.json');
    expect(r.valid).toBe(true);
    expect(r.warnings).toEqual([
      expect.objectContaining({
        path: 'rectification.progressEvery',
        message: expect.stringMatching(
          /every PT5M while measures run about 28 days makes some 8064 reports/,
        ),
      }),
    ]);
  });
});
