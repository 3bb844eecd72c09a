// Builds a worker: the workflow bundle (or its source path) and the activities with their
// dependencies. Used by `npm run worker` and by the tests.
import { createRequire } from 'node:module';
import type { NativeConnection } from '@temporalio/worker';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import type pg from 'pg';
import { createActivities, type ActivityDeps } from '../activities/index.ts';

const require = createRequire(import.meta.url);
export const WORKFLOWS_PATH = require.resolve('../workflows/index.ts');

export interface WorkerSetup {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  pool: pg.Pool;
  /** A prebuilt bundle (tests build one per file); otherwise the worker bundles on start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  maxConcurrentActivityTaskExecutions?: number;
  shutdownGraceTime?: WorkerOptions['shutdownGraceTime'];
  identity?: string;
  /** Extra activity dependencies (tests inject faults here). */
  activityDeps?: Partial<ActivityDeps>;
}

export async function createWorker(setup: WorkerSetup): Promise<Worker> {
  const opts: WorkerOptions = {
    connection: setup.connection,
    namespace: setup.namespace,
    taskQueue: setup.taskQueue,
    activities: createActivities({ pool: setup.pool, ...setup.activityDeps }),
    ...(setup.workflowBundle
      ? { workflowBundle: setup.workflowBundle }
      : { workflowsPath: WORKFLOWS_PATH }),
    ...(setup.maxConcurrentActivityTaskExecutions
      ? { maxConcurrentActivityTaskExecutions: setup.maxConcurrentActivityTaskExecutions }
      : {}),
    ...(setup.shutdownGraceTime ? { shutdownGraceTime: setup.shutdownGraceTime } : {}),
    ...(setup.identity ? { identity: setup.identity } : {}),
  };
  return Worker.create(opts);
}
