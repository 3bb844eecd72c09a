// Builds a worker: the workflow bundle (or its source path) and the activities with their
// dependencies, with the cache and slots of the configuration. Used by `npm run worker`, the
// tests and the benchmarks.
import { createRequire } from 'node:module';
import type { NativeConnection } from '@temporalio/worker';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import type pg from 'pg';
import { createActivities, type ActivityDeps } from '../activities/index.ts';
import { WORKER_DEFAULTS, type WorkerTuning } from './config.ts';

const require = createRequire(import.meta.url);
export const WORKFLOWS_PATH = require.resolve('../workflows/index.ts');

export interface WorkerSetup {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  pool: pg.Pool;
  /** A prebuilt bundle (tests build one per file); otherwise the worker bundles on start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Cache and slots; WORKER_DEFAULTS (sized for a 1 GiB worker) for what is not given. */
  tuning?: Partial<WorkerTuning>;
  /** Overrides tuning.maxConcurrentActivities (tests and benchmarks). */
  maxConcurrentActivityTaskExecutions?: number;
  shutdownGraceTime?: WorkerOptions['shutdownGraceTime'];
  identity?: string;
  /** Extra activity dependencies (tests inject faults here). */
  activityDeps?: Partial<ActivityDeps>;
  /** The payload codec (worker/codec.ts), when codec keys are configured. */
  dataConverter?: WorkerOptions['dataConverter'];
  /** Interceptors (tests: time held while an activity runs on the time-skipping server). */
  interceptors?: WorkerOptions['interceptors'];
}

export async function createWorker(setup: WorkerSetup): Promise<Worker> {
  const tuning = { ...WORKER_DEFAULTS, ...setup.tuning };
  const opts: WorkerOptions = {
    connection: setup.connection,
    namespace: setup.namespace,
    taskQueue: setup.taskQueue,
    activities: createActivities({ pool: setup.pool, ...setup.activityDeps }),
    ...(setup.workflowBundle
      ? { workflowBundle: setup.workflowBundle }
      : { workflowsPath: WORKFLOWS_PATH }),
    // A bounded sticky cache: each cached workflow keeps its state and history in memory, and
    // the SDK's default (from the heap limit: some 2,300 on a 4 GiB heap) lets a busy worker
    // grow to gigabytes. Sticky execution stays on (a cache of at least 2); a workflow evicted
    // from it is replayed from its history when it next has work.
    maxCachedWorkflows: tuning.maxCachedWorkflows,
    maxConcurrentWorkflowTaskExecutions: Math.min(
      tuning.maxConcurrentWorkflowTasks,
      tuning.maxCachedWorkflows,
    ),
    maxConcurrentActivityTaskExecutions:
      setup.maxConcurrentActivityTaskExecutions ?? tuning.maxConcurrentActivities,
    maxConcurrentLocalActivityExecutions: tuning.maxConcurrentLocalActivities,
    ...(setup.shutdownGraceTime ? { shutdownGraceTime: setup.shutdownGraceTime } : {}),
    ...(setup.identity ? { identity: setup.identity } : {}),
    ...(setup.dataConverter ? { dataConverter: setup.dataConverter } : {}),
    ...(setup.interceptors ? { interceptors: setup.interceptors } : {}),
  };
  return Worker.create(opts);
}
