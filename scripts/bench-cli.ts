// Start-up of the `campaign` command for `npm run bench`, measured in one run: the median of
// five wall times of `node -e 0` (Node's own start), `campaign --help`, and `campaign status
// <id>` against a throw-away PostgreSQL holding the realistic example campaign, each from the
// compiled build (what `npm ci` leaves) and, for comparison, from the TypeScript sources through
// tsx (CAMPAIGN_CLI_SOURCE=1). The runs are interleaved, so that a busy machine slows them
// alike; the ratios against `node -e 0` are the figures (target for --help: ≤ 3).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { campaignActivities } from '../activities/campaign.ts';
import { ensureCliBuild } from '../bin/cli-build.mjs';
import { loadDefinitionFile } from '../client/definition-file.ts';
import { BusinessCalendar } from '../domain/calendar.ts';
import { planCampaign } from '../domain/campaign.ts';
import { startTestDatabase } from '../test/helpers/postgres.ts';
import { runBench } from './lib/bench-run.ts';
import { REPO_ROOT } from './lib/tools.ts';

const RUNS = 5;
const CAMPAIGN = 'bench-cli';

/** Wall time of one run in ms; fails on a non-zero exit. */
function timed(args: string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - started;
      if (code === 0) resolve(ms);
      else reject(new Error(`node ${args.join(' ')} exited ${code}:\n${stderr}`));
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

await runBench('bench-cli', async (started) => {
  await ensureCliBuild();
  const db = await started.add('PostgreSQL', startTestDatabase(), (d) => d.close());
  const loaded = await loadDefinitionFile(join(REPO_ROOT, 'examples', 'county-2026.yaml'));
  const def = { ...loaded.definition!, campaign: { ...loaded.definition!.campaign, id: CAMPAIGN } };
  const calendar = loaded.calendar!;
  await campaignActivities({ pool: db.pool }).recordCampaign({
    definition: def,
    calendar,
    plan: planCampaign(def, calendar, new BusinessCalendar(calendar)),
    workflowId: CAMPAIGN,
    startedBy: null,
  });

  const bin = join(REPO_ROOT, 'bin', 'campaign.mjs');
  const dbEnv = { DATABASE_URL: db.url };
  const source = { CAMPAIGN_CLI_SOURCE: '1' };
  const cases = {
    node: () => timed(['-e', '0']),
    help: () => timed([bin, '--help']),
    status: () => timed([bin, 'status', CAMPAIGN], dbEnv),
    helpSource: () => timed([bin, '--help'], source),
    statusSource: () => timed([bin, 'status', CAMPAIGN], { ...dbEnv, ...source }),
  };
  const times: Record<keyof typeof cases, number[]> = {
    node: [],
    help: [],
    status: [],
    helpSource: [],
    statusSource: [],
  };
  // One unmeasured round warms the file cache.
  for (const run of Object.values(cases)) await run();
  for (let i = 0; i < RUNS; i++) {
    for (const [name, run] of Object.entries(cases) as [
      keyof typeof cases,
      () => Promise<number>,
    ][])
      times[name].push(await run());
  }
  const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])) as Record<
    keyof typeof cases,
    number
  >;
  const line = (label: string, ms: number) =>
    console.log(
      `  ${label.padEnd(44)} ${ms.toFixed(0).padStart(5)} ms  ${(ms / m.node).toFixed(2)}×`,
    );
  console.log(`\nStart-up of the campaign command (median of ${RUNS}; × node -e 0)`);
  line('node -e 0', m.node);
  line('campaign --help (compiled)', m.help);
  line('campaign status <id> (compiled, PostgreSQL)', m.status);
  line('campaign --help (TypeScript through tsx)', m.helpSource);
  line('campaign status <id> (TypeScript through tsx)', m.statusSource);
  console.log(
    `  cli start-up: --help ratio ${(m.help / m.node).toFixed(2)} (target ≤ 3), status ratio ${(m.status / m.node).toFixed(2)}`,
  );
});
