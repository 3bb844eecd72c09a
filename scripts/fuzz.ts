// `npm run fuzz`: the long run of the fuzz targets (scripts/lib/fuzz-targets.ts). Prints per
// target the inputs tried and the outcomes: accepted, refused with a location, refused without
// one, crashes, and inputs slower than 5 s; exits 1 when any input crashed, was refused without
// a location or was slow. `-- --seed N` repeats a run, `-- --scale F` runs F times as many.
import fc from 'fast-check';
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
} from './lib/fuzz-targets.ts';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
};
const seed = Number(arg('seed') ?? Math.floor(Math.random() * 2 ** 31));
const scale = Number(arg('scale') ?? 1);
const SLOW_MS = 5000;
const BATCH = 250;

interface Target {
  name: string;
  runs: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  arbitrary: fc.Arbitrary<any>;
  judge: (input: never) => Judged | Promise<Judged>;
}

const targets: Target[] = [
  {
    name: 'definition files (YAML/JSON)',
    runs: 10_000,
    arbitrary: definitionInput,
    judge: judgeDefinition,
  },
  { name: 'definition documents', runs: 5_000, arbitrary: documentInput, judge: judgeDocument },
  { name: 'update validators', runs: 10_000, arbitrary: updateInput, judge: judgeUpdate },
  {
    name: 'CSV imports (enterprises, results, record lists, answered lists)',
    runs: 10_000,
    arbitrary: csvInput,
    judge: judgeCsv,
  },
  {
    name: 'text from outside (lone surrogates, NUL, controls, over-long)',
    runs: 20_000,
    arbitrary: textInput,
    judge: judgeText,
  },
  {
    name: 'exports (CSV, Markdown, sheet names)',
    runs: 20_000,
    arbitrary: sheetText,
    judge: judgeExport,
  },
];

console.log(`fuzz: seed ${seed}${scale !== 1 ? `, scale ${scale}` : ''}`);
let bad = 0;
const rows: string[][] = [];
for (const [t, target] of targets.entries()) {
  const runs = Math.round(target.runs * scale);
  const counts = { accepted: 0, located: 0, unlocated: 0, crash: 0, slow: 0 };
  const examples: string[] = [];
  const started = Date.now();
  let slowest = 0;
  for (let done = 0; done < runs; done += BATCH) {
    const inputs = fc.sample(target.arbitrary, {
      seed: seed + t * 1_000_003 + done,
      numRuns: Math.min(BATCH, runs - done),
    });
    for (const input of inputs) {
      const t0 = performance.now();
      const j = await target.judge(input as never);
      const ms = performance.now() - t0;
      slowest = Math.max(slowest, ms);
      counts[j.outcome]++;
      if (ms > SLOW_MS) {
        counts.slow++;
        if (examples.length < 3) examples.push(`slow (${Math.round(ms)} ms)`);
      }
      if ((j.outcome === 'crash' || j.outcome === 'unlocated') && examples.length < 3)
        examples.push(`${j.outcome}: ${(j.detail ?? '').split('\n').slice(0, 4).join(' | ')}`);
    }
    process.stderr.write(
      `${target.name}: ${Math.min(runs, done + BATCH)}/${runs} (heap ${Math.round(process.memoryUsage().heapUsed / 1e6)} MB)\n`,
    );
  }
  process.stderr.write('\n');
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  rows.push([
    target.name,
    String(runs),
    String(counts.accepted),
    String(counts.located),
    String(counts.unlocated),
    String(counts.crash),
    String(counts.slow),
    `${Math.round(slowest)} ms`,
    `${secs} s`,
  ]);
  bad += counts.unlocated + counts.crash + counts.slow;
  for (const e of examples) console.log(`  ${target.name}: ${e}`);
}

const head = [
  'target',
  'tried',
  'accepted',
  'refused, located',
  'refused, no location',
  'crash',
  'slow > 5 s',
  'slowest',
  'time',
];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]) =>
  r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
console.log(line(head));
for (const r of rows) console.log(line(r));
console.log(
  bad
    ? `fuzz: ${bad} input(s) crashed, were refused without a location or were slow`
    : 'fuzz: no crash, no hang, no refusal without a location',
);
process.exitCode = bad ? 1 : 0;
