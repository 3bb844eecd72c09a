// All activities, built from their dependencies so that tests can pass their own.
import type pg from 'pg';
import { campaignActivities } from './campaign.ts';
import { rectificationActivities } from './rectification.ts';
import { signalActivities } from './signals.ts';
import { systemCheckActivities } from './system-check.ts';
import { taskActivities } from './tasks.ts';

export interface ActivityDeps {
  pool: pg.Pool;
  /** Test hooks: see TaskActivityDeps. */
  afterProjection?: (taskId: string, seq: number) => void;
  beforeProjection?: (taskId: string, seqs: number[]) => 'lose' | void;
  projectionRefused?: (what: string, reason: string) => void;
  /**
   * Test hook: awaited before every activity runs, with its name and input, so that a test can
   * hold one (an update handler then waits on it) to force an interleaving.
   */
  beforeActivity?: (name: string, input: unknown) => Promise<void>;
}

export function createActivities(deps: ActivityDeps) {
  const all = {
    ...systemCheckActivities(deps),
    ...taskActivities(deps),
    ...campaignActivities(deps),
    ...rectificationActivities(deps),
    ...signalActivities(),
  };
  const hook = deps.beforeActivity;
  if (!hook) return all;
  return Object.fromEntries(
    Object.entries(all).map(([name, fn]) => [
      name,
      async (input: unknown) => {
        await hook(name, input);
        return (fn as (i: unknown) => Promise<unknown>)(input);
      },
    ]),
  ) as typeof all;
}
