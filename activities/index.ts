// All activities, built from their dependencies so that tests can pass their own.
import type pg from 'pg';
import { systemCheckActivities } from './system-check.ts';

export interface ActivityDeps {
  pool: pg.Pool;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...systemCheckActivities(deps),
  };
}
