// The fault suite, short (`npm run chaos` is the long one): the quick campaign driven by its
// state, once undisturbed and once while the worker is killed with SIGKILL five times (once
// during an update, once during a projection), the Temporal server restarted on its persisted
// file, PostgreSQL stopped for a while during data entry and the webhook failing, then timing
// out. The final databases must be equal once times and generated ids are stripped; no
// workflow failed, no task left open, the late unit's ladder fired; every delivery reached the
// test's webhook, none twice once de-duplicated by its Idempotency-Key.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/lib/tools.ts';

// Every line of both runs, for reading after a failure.
const LOG = join(REPO_ROOT, '.artifacts', 'chaos.log');
import { runChaosSuite } from '../../scripts/lib/chaos.ts';

describe('the fault suite', () => {
  it('ends a campaign under kills, a server restart, a database outage and a failing webhook exactly as an undisturbed run does', async () => {
    mkdirSync(join(REPO_ROOT, '.artifacts'), { recursive: true });
    writeFileSync(LOG, '');
    const result = await runChaosSuite({
      seed: 7,
      kills: 5,
      serverRestarts: 1,
      dbOutageMs: 10_000,
      endpointFaultMs: 5_000,
      maxKillGapMs: 8_000,
      ladderStepS: 45,
      // Streamed as it happens, so that a run that goes wrong shows where.
      log: (line) => {
        appendFileSync(LOG, `${new Date().toISOString()} ${line}\n`);
        if (/chaos:|stalled:|✗|…/.test(line)) process.stderr.write(`${line}\n`);
      },
      stallMs: 300_000,
    });
    const { chaos, baseline, differences } = result;
    console.log(result.summary);
    expect(baseline.problems).toEqual([]);
    expect(chaos.problems).toEqual([]);
    expect(differences, JSON.stringify(differences, null, 1).slice(0, 4000)).toEqual([]);
    expect(chaos.figures).toMatchObject({
      kills: 5,
      killsDuringUpdate: 1,
      killsDuringProjection: 1,
      serverRestarts: 1,
      duplicates: 0,
      missing: 0,
    });
    expect(chaos.figures.dbOutageS).toBeGreaterThanOrEqual(10);
    expect(chaos.figures.notices).toBe(baseline.figures.notices);
    expect(chaos.figures.received).toBe(chaos.figures.deliveries);
  }, 1_200_000);
});
