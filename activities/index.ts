// All activities, built from their dependencies so that tests can pass their own.
import type pg from 'pg';
import { campaignActivities } from './campaign.ts';
import { rectificationActivities } from './rectification.ts';
import { systemCheckActivities } from './system-check.ts';
import { taskActivities } from './tasks.ts';

export interface ActivityDeps {
  pool: pg.Pool;
  /** Test hook: see TaskActivityDeps. */
  afterProjection?: (taskId: string, seq: number) => void;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...systemCheckActivities(deps),
    ...taskActivities(deps),
    ...campaignActivities(deps),
    ...rectificationActivities(deps),
  };
}
