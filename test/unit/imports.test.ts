import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  checkEnterpriseHeader,
  checkEnterpriseRows,
  checkResultRows,
  drawSample,
  parseCsvTable,
  type CsvTable,
} from '../../domain/imports.ts';
import { BusinessCalendar } from '../../domain/calendar.ts';
import { paceDefinition, rebaseDefinition } from '../../domain/rebase.ts';
import { movingCalendar } from '../../domain/rehearsal.ts';
import { loadDefinitionFile } from '../../client/definition-file.ts';
import { validateDefinition } from '../../domain/validate.ts';

async function csv(file: string): Promise<CsvTable> {
  const r = await parseCsvTable(readFileSync(file), file);
  if ('problems' in r) throw new Error(JSON.stringify(r.problems));
  return r.table;
}

describe('the enterprise list importer', () => {
  it('reports every bad line with its number, column and reason', async () => {
    const table = await csv('test/fixtures/enterprises-bad.csv');
    const { rows, rejected } = checkEnterpriseRows(table.rows, table.header);
    expect(rows.map((r) => r.creditCode)).toEqual(['91340523MA2N0XYP1B']);
    expect(rejected).toEqual([
      {
        line: 3,
        column: 1,
        message: expect.stringMatching(/"91340523MA2N0XYP1" has 17 characters; .* has 18/),
      },
      { line: 4, column: 1, message: expect.stringMatching(/统一社会信用代码 is empty/) },
      { line: 5, column: 1, message: expect.stringMatching(/already appears on line 2/) },
      { line: 6, column: 1, message: expect.stringMatching(/check character/) },
      {
        line: 7,
        column: 1,
        message: expect.stringMatching(/the letter O, which GB 32100 leaves out .* at position 14/),
      },
    ]);
    expect(rejected[3]!.message).toMatch(/企业名称 is empty/);
  });

  it('names the missing columns of a wrong header', () => {
    expect(checkEnterpriseHeader(['name', 'town'])).toMatch(/统一社会信用代码/);
    expect(checkEnterpriseHeader(['credit_code', 'name'])).toBeNull();
  });
});

describe('the results importer', () => {
  it("checks every line against the campaign's indicators", async () => {
    const table = await csv('test/fixtures/results-bad.csv');
    const { rows, rejected } = checkResultRows(
      table.rows,
      ['kbqy', 'ns', 'jzxk', 'scjg'],
      table.header,
    );
    expect(rows).toEqual([{ code: 'kbqy', score: 92.5, rank: 1 }]);
    expect(rejected.map((r) => r.line)).toEqual([3, 4, 5, 6, 7]);
    expect(rejected[0]!.message).toMatch(/unknown indicator "nope"/);
    expect(rejected[1]!.message).toMatch(/score "abc" is not a number/);
    expect(rejected[2]!.message).toMatch(/rank "0" is not a whole number from 1 to 10000/);
    expect(rejected[3]!.message).toMatch(/kbqy already appears on line 2/);
    expect(rejected[4]!.message).toMatch(/score "101"/);
  });
});

describe('the verification sample', () => {
  const population = Array.from({ length: 1000 }, (_, i) => `E${String(i).padStart(5, '0')}`);

  it('respects the proportion, rounding up', () => {
    expect(drawSample(population, 0.05, 'a')).toHaveLength(50);
    expect(drawSample(population.slice(0, 7), 0.2, 'a')).toHaveLength(2);
    expect(drawSample(population, 1, 'a')).toHaveLength(1000);
  });

  it('gives the same sample for the same seed, whatever the order of the list', () => {
    const a = drawSample(population, 0.05, 'seed-2026');
    const b = drawSample([...population].reverse(), 0.05, 'seed-2026');
    expect(a).toEqual(b);
    expect(new Set(a).size).toBe(50);
    for (const id of a) expect(population).toContain(id);
  });

  it('gives a different sample for a different seed', () => {
    const a = drawSample(population, 0.05, 'seed-2026');
    const b = drawSample(population, 0.05, 'seed-2027');
    expect(a).not.toEqual(b);
  });

  it('refuses a proportion outside (0, 1]', () => {
    expect(() => drawSample(population, 0, 'x')).toThrow(/outside/);
    expect(() => drawSample(population, 1.5, 'x')).toThrow(/outside/);
  });
});

describe('moving a definition to begin now', () => {
  it('keeps every interval between the windows', async () => {
    const r = await loadDefinitionFile('examples/quick-demo.yaml');
    const begin = Date.parse('2027-03-15T02:00:00Z');
    const moved = rebaseDefinition(
      r.definition!,
      begin,
      new BusinessCalendar(movingCalendar(r.definition!, begin)),
    );
    expect(moved.phases.training.start).toBe('2027-03-15T10:00:00+08:00');
    expect(moved.phases.reporting.end).toBe('2027-03-15T10:50:00+08:00');
    expect(moved.campaign.year).toBe(2027);
    expect(validateDefinition(moved).valid).toBe(true);
  });
});

describe('pacing a definition for a demonstration', () => {
  it('divides every window and every ISO duration, and leaves working days alone', async () => {
    const r = await loadDefinitionFile('examples/quick-demo.yaml');
    const begin = Date.parse('2027-03-15T02:00:00Z');
    const moved = rebaseDefinition(
      r.definition!,
      begin,
      new BusinessCalendar(movingCalendar(r.definition!, begin)),
    );
    const fast = paceDefinition(moved, 5);
    expect(fast.phases.training.start).toBe('2027-03-15T10:00:00+08:00');
    expect(fast.phases.training.end).toBe('2027-03-15T10:02:00+08:00');
    expect(fast.phases.reporting.end).toBe('2027-03-15T10:10:00+08:00');
    expect(fast.phases.dataEntry.slot).toBe('PT48S');
    expect(fast.policy.reminders).toEqual(['PT24S', 'PT12S']);
    expect(fast.policy.escalation.map((s) => s.after)).toEqual([
      { duration: 'PT12S' },
      { duration: 'PT12S' },
      { duration: 'PT24S' },
    ]);
    expect(fast.rectification.measureDue).toEqual({ duration: 'PT60S' });
    expect(validateDefinition(fast).valid).toBe(true);
    const days = paceDefinition(
      { ...moved, policy: { ...moved.policy, returnDue: { workingDays: 2 } } },
      5,
    );
    expect(days.policy.returnDue).toEqual({ workingDays: 2 });
  });

  it('refuses windows given as dates and a factor out of range', async () => {
    const r = await loadDefinitionFile('examples/county-2026.yaml');
    expect(() => paceDefinition(r.definition!, 5)).toThrow(/a paced campaign needs date-times/);
    expect(() => paceDefinition(r.definition!, 0)).toThrow(/not between 1 and 3600/);
  });
});
