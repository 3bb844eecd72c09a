// Property tests over every edge where people's files and data come in or go out, with a fixed
// seed and a bounded number of runs (the long run is `npm run fuzz`): nothing crashes, and every
// refusal says where.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  csvInput,
  definitionInput,
  documentInput,
  judgeCsv,
  judgeDefinition,
  judgeDocument,
  judgeExport,
  judgeText,
  judgeUpdate,
  sheetText,
  textInput,
  updateInput,
  type Judged,
} from '../../scripts/lib/fuzz-targets.ts';
import { checkEnterpriseRows, parseCsvTable, withCreditCheck } from '../../domain/imports.ts';

const SEED = 20261201;
/** Accepted, or refused with a location; the detail of anything else shows in the failure. */
const settled = (j: Judged) =>
  expect(j).toEqual({ outcome: expect.stringMatching(/^(accepted|located)$/) });

describe('fuzzing (fixed seed, bounded runs)', () => {
  it('the definition loader refuses every mutated definition with a line, or accepts one that plans', () => {
    fc.assert(
      fc.property(definitionInput, (input) => {
        const j = judgeDefinition(input);
        settled(j);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('the definition validator names a path for every problem of any document', () => {
    fc.assert(
      fc.property(documentInput, (doc) => {
        const j = judgeDocument(doc);
        settled(j);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('the update validators answer any data with problems or acceptance, never a crash', () => {
    fc.assert(
      fc.property(updateInput, (input) => {
        const j = judgeUpdate(input);
        settled(j);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('the CSV importers refuse every hostile file with lines inside the file', async () => {
    await fc.assert(
      fc.asyncProperty(csvInput, async (input) => {
        const j = await judgeCsv(input);
        settled(j);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('the CSV importer names the physical line of a bad row after quoted line breaks and blank lines', async () => {
    const row = fc.record({
      name: fc.array(fc.constantFrom('甲', '乙', '\n', '\r\n', ',', '""', ' '), { maxLength: 6 }),
      blankBefore: fc.nat({ max: 3 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(row, { minLength: 1, maxLength: 8 }),
        fc.nat(),
        async (rows, badPick) => {
          const bad = badPick % rows.length;
          const lines: string[] = ['统一社会信用代码,企业名称'];
          let physical = 1;
          let expected = 0;
          rows.forEach((r, i) => {
            for (let b = 0; b < r.blankBefore; b++) lines.push('');
            physical += r.blankBefore + 1;
            const name = `企业${r.name.join('')}`;
            const code =
              i === bad ? 'BAD' : withCreditCheck(`9134052300000${String(i).padStart(4, '0')}`);
            if (i === bad) expected = physical;
            lines.push(`${code},"${name.replace(/"/g, '""')}"`);
            physical += (name.match(/\r\n|\n/g) ?? []).length;
          });
          const parsed = await parseCsvTable(Buffer.from(`${lines.join('\n')}\n`), 'the list');
          if ('problems' in parsed) throw new Error(JSON.stringify(parsed.problems));
          const { rejected } = checkEnterpriseRows(parsed.table.rows, parsed.table.header);
          expect(rejected.map((p) => p.line)).toEqual([expected]);
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('the text rule finds every lone surrogate, NUL, control character and over-long text at its path, and accepts the rest', () => {
    fc.assert(
      fc.property(textInput, (input) => {
        const j = judgeText(input);
        settled(j);
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('the exporters neutralise formulas, escape Markdown and clean sheet names for any text', () => {
    fc.assert(
      fc.property(sheetText, (text) => {
        const j = judgeExport(text);
        settled(j);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });
});
