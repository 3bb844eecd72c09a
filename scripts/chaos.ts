// `npm run chaos`: the fault suite at full strength (scripts/lib/chaos.ts): an undisturbed run
// of the quick campaign, then the same run while the worker is killed 20 times, the Temporal
// server restarted once, PostgreSQL stopped for 60 s during data entry and the webhook failing
// and timing out; the two final databases compared. Exits 1 on any difference or problem.
//   npm run chaos [-- --seed N --kills K --outage S --endpoint S --verbose]
import { runChaosSuite } from './lib/chaos.ts';

const argv = process.argv.slice(2);
const num = (name: string, dflt: number): number => {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) {
    console.error(`chaos: --${name} must be a number ≥ 0, got ${argv[i + 1]}`);
    process.exit(2);
  }
  return v;
};
const verbose = argv.includes('--verbose');
const seed = num('seed', 20261201);
const result = await runChaosSuite({
  seed,
  kills: num('kills', 20),
  serverRestarts: 1,
  dbOutageMs: num('outage', 60) * 1000,
  endpointFaultMs: num('endpoint', 20) * 1000,
  log: (line) => {
    if (verbose || line.startsWith('chaos:') || line.startsWith('[baseline] chaos:'))
      console.log(line);
  },
});
const { baseline, chaos } = result;
const f = chaos.figures;
console.log('');
console.log(`seed                          ${seed}`);
console.log(
  `undisturbed run               ${baseline.figures.seconds} s, ${baseline.figures.commands} commands`,
);
console.log(`disturbed run                 ${f.seconds} s, ${f.commands} commands`);
console.log(
  `worker kills (SIGKILL)        ${f.kills} (during an update ${f.killsDuringUpdate}, during a projection ${f.killsDuringProjection})`,
);
console.log(`Temporal server restarts      ${f.serverRestarts}`);
console.log(`database outage               ${f.dbOutageS} s`);
console.log(
  `notices / deliveries          ${f.notices} / ${f.deliveries} (undisturbed: ${baseline.figures.notices} / ${baseline.figures.deliveries})`,
);
console.log(
  `received (distinct keys)      ${f.received}; redelivered and dropped by key: ${f.redelivered}; missing: ${f.missing}`,
);
for (const p of [...baseline.problems.map((p) => `undisturbed: ${p}`), ...chaos.problems])
  console.log(`problem: ${p}`);
for (const d of result.differences) {
  console.log(`difference in ${d.table}:`);
  for (const r of d.onlyInBaseline.slice(0, 5)) console.log(`  undisturbed only: ${r}`);
  for (const r of d.onlyInChaos.slice(0, 5)) console.log(`  disturbed only:   ${r}`);
}
console.log(result.summary);
process.exit(result.differenceCount || chaos.problems.length || baseline.problems.length ? 1 : 0);
