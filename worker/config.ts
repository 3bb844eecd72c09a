// Configuration, read once from the environment and checked with zod. Every setting has a
// local default, so that on a machine where `npm run services:start` runs nothing is needed.
import { isIP } from 'node:net';
import type { TLSConfig } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { z } from 'zod';
import { ConfigError } from './config-error.ts';

/** Where the project's own embedded PostgreSQL listens when DATABASE_URL is not given. */
export const DEFAULT_EMBEDDED_PG_PORT = 55433;
export const DEFAULT_TASK_QUEUE = 'county-campaign';

const port = z.coerce.number().int().min(1).max(65535);
/** A count of slots, at least `min`. */
const slots = (min: number) => z.coerce.number().int().min(min).max(100_000);
/** `host:port`, or a bare port for 127.0.0.1 (loopback: nothing is exposed unless asked). */
const listenAddress = (allowAnyPort: boolean) =>
  z
    .string()
    .regex(
      /^(?:(\[[0-9a-fA-F:]+\]|[^\s:]+):)?(\d{1,5})$/,
      'must be host:port or a port, e.g. 127.0.0.1:9464 or 0.0.0.0:9464',
    )
    .transform((v, ctx) => {
      const m = /^(?:(\[[0-9a-fA-F:]+\]|[^\s:]+):)?(\d{1,5})$/.exec(v)!;
      const p = Number(m[2]);
      if (p > 65535 || (p === 0 && !allowAnyPort)) {
        ctx.addIssue({
          code: 'custom',
          message: allowAnyPort ? 'the port must be 0 to 65535' : 'the port must be 1 to 65535',
        });
        return z.NEVER;
      }
      return { host: m[1] ?? '127.0.0.1', port: p };
    });

/**
 * The worker's defaults, sized for a worker process of 1 GiB (see the README, "Workers within
 * their memory"): the workflow cache bounds what the worker keeps (each cached workflow's state
 * and history), and a V8 heap limit of WORKER_HEAP_MIB makes the garbage of evicted workflows
 * collected early instead of growing the heap towards V8's default of a quarter of the machine's
 * memory. Measured with 20 realistic campaigns open (1,820 workflows): peak RSS 759 MiB with
 * these settings (717 MiB with 10 workflow-task and 20 local-activity slots, which start a
 * campaign slower), 1,267 MiB with the same cache and V8's default heap, 854 MiB with a cache
 * of 100 and the default heap. The cache was 250 until 100 campaigns were opened at once (npm
 * run bench:province): both workers' workflow threads then ran out of their 384 MiB heap, so
 * it is now near the SDK's own choice for this heap, (heap - 200 MiB) * 600 / 1024 workflows.
 * Workflow-task slots as the SDK's default (40): a workflow task
 * holds its slot while its local activities (the projections into PostgreSQL) run.
 */
export const WORKER_DEFAULTS = {
  maxCachedWorkflows: 120,
  maxConcurrentWorkflowTasks: 40,
  maxConcurrentActivities: 20,
  maxConcurrentLocalActivities: 40,
} as const;

/**
 * V8's old-space limit of a worker process in MiB: node's `--max-old-space-size`, given by
 * `npm run worker` and the Docker image (it cannot be set from inside the process).
 */
export const WORKER_HEAP_MIB = 384;

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** `5MB`, `512KB`, `1048576`: a size in bytes (units of 1024). Null when malformed. */
export function parseSize(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?b?)$/i.exec(text.trim());
  if (!m) return null;
  const bytes = Math.floor(Number(m[1]) * (SIZE_UNITS[m[2]!.toLowerCase()] ?? NaN));
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : null;
}

const size = z
  .string()
  .refine((s) => parseSize(s) !== null, 'must be a size such as 5MB, 512KB or 1048576')
  .transform((s) => parseSize(s)!);

const fileLimitsSchema = z.object({
  /** The largest campaign definition (or task data file) the CLI reads. */
  CAMPAIGN_MAX_DEFINITION_SIZE: size.default(5 * 1024 ** 2),
  /** The largest CSV import (enterprise list, results) the CLI reads. */
  CAMPAIGN_MAX_IMPORT_SIZE: size.default(50 * 1024 ** 2),
});

const envSchema = fileLimitsSchema.extend({
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:]+:\d+$/, 'must be host:port, e.g. localhost:7233')
    .optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).optional(),
  /**
   * What `services:start` runs: `dev` (the temporal CLI's dev server on SQLite, one process) or
   * `cluster` (the Temporal server on PostgreSQL, one process per service, and the Web UI).
   */
  TEMPORAL_SERVICES_MODE: z.enum(['dev', 'cluster']).default('dev'),
  /** Cluster mode: history shards (fixed once the cluster's database is created). */
  TEMPORAL_HISTORY_SHARDS: z.coerce.number().int().min(1).max(16384).default(4),
  /**
   * Cluster mode: the first of the services' internal ports (membership B…B+6, gRPC of history,
   * matching and worker B+301…B+306, frontend HTTP B+310); membership ports stay below 32768.
   */
  TEMPORAL_CLUSTER_PORT_BASE: z.coerce.number().int().min(1024).max(32000).default(6933),
  /** Cluster mode: mTLS between clients and the frontend, with certificates made locally. */
  TEMPORAL_CLUSTER_TLS: z
    .enum(['true', 'false', '1', '0'], 'must be true or false')
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUE),
  TEMPORAL_UI_PORT: port.default(8233),
  /** Port of the embedded PostgreSQL (used when DATABASE_URL is not given). */
  EMBEDDED_PG_PORT: port.default(DEFAULT_EMBEDDED_PG_PORT),
  /** Folder for local service data (SQLite, PostgreSQL, logs); default `.data` in the repo. */
  CAMPAIGN_DATA_DIR: z.string().min(1).optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// connection URL')
    .optional(),
  /**
   * The worker's own connection (a login in the campaign_worker role); DATABASE_URL, the
   * owner's, then only applies the migrations.
   */
  WORKER_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// connection URL')
    .optional(),
  /** The portal's own connection (a login in the campaign_portal role), likewise. */
  PORTAL_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// connection URL')
    .optional(),
  /** Workflows kept in the worker's sticky cache (memory); at least 2, sticky execution stays on. */
  WORKER_MAX_CACHED_WORKFLOWS: slots(2).default(WORKER_DEFAULTS.maxCachedWorkflows),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: slots(2).default(
    WORKER_DEFAULTS.maxConcurrentWorkflowTasks,
  ),
  WORKER_MAX_CONCURRENT_ACTIVITIES: slots(1).default(WORKER_DEFAULTS.maxConcurrentActivities),
  WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES: slots(1).default(
    WORKER_DEFAULTS.maxConcurrentLocalActivities,
  ),
  /** Prometheus metrics of the Temporal SDK (GET /metrics); off unless set. */
  WORKER_METRICS_ADDRESS: listenAddress(false).optional(),
  /** The worker's health endpoint (GET /health); off unless set; port 0 picks a free one. */
  WORKER_HEALTH_ADDRESS: listenAddress(true).optional(),
  WORKER_SHUTDOWN_GRACE: z
    .string()
    .regex(/^\d+(ms|s|m)$/, 'must be a duration such as 30s or 2m')
    .default('30s'),
  /**
   * How long the outbox dispatcher keeps a claimed batch of notice deliveries its own before
   * another worker may send them (after a crash); longer than a batch takes to send.
   */
  OUTBOX_LEASE: z
    .string()
    .regex(/^\d+(ms|s|m)$/, 'must be a duration such as 30s or 2m')
    .default('2m'),
  /** How long the CLI waits for a worker to answer an action, in seconds. */
  CLI_WORKER_TIMEOUT: z.coerce.number().min(1).max(600).default(30),
  LOG_LEVEL: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
  /**
   * Who runs the CLI, recorded with every task action it enters on someone's behalf (代录);
   * the operating-system user when not set.
   */
  CAMPAIGN_OPERATOR: z.string().trim().min(1).max(120).optional(),
  /** Channels may use http to this machine (development and tests only). */
  NOTIFY_ALLOW_LOOPBACK_HTTP: z
    .enum(['true', 'false', '1', '0'], 'must be true or false')
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  /** When set, the only host names channels may reach, comma-separated (`*.example.com`). */
  NOTIFY_ALLOWED_HOSTS: z
    .string()
    .regex(
      /^\s*(\*\.)?[a-z0-9.-]+(\s*,\s*(\*\.)?[a-z0-9.-]+)*\s*$/i,
      'must be host names separated by commas, e.g. qyapi.weixin.qq.com,oapi.dingtalk.com',
    )
    .optional(),
  /** Private networks channels may reach all the same, CIDRs separated by commas. */
  NOTIFY_ALLOWED_NETWORKS: z
    .string()
    .refine(
      (s) => s.split(',').every((c) => isCidr(c.trim())),
      'must be networks such as 10.20.0.0/16,fd00::/8 separated by commas',
    )
    .optional(),
});

export interface WorkerTuning {
  maxCachedWorkflows: number;
  maxConcurrentWorkflowTasks: number;
  maxConcurrentActivities: number;
  maxConcurrentLocalActivities: number;
}

export interface ListenAddress {
  host: string;
  port: number;
}

function isCidr(text: string): boolean {
  const [net, bits, extra] = text.split('/');
  if (extra !== undefined || !net) return false;
  const family = isIP(net);
  if (!family) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d+$/.test(bits) && n >= 0 && n <= (family === 6 ? 128 : 32);
}

export interface Config {
  temporalAddress: string;
  temporalNamespace: string;
  /**
   * TLS (and an API key) for connections to Temporal, from Temporal's environment
   * configuration (TEMPORAL_TLS_*, TEMPORAL_API_KEY, a temporal.toml profile).
   */
  temporalTls: TLSConfig | boolean | undefined;
  temporalApiKey: string | undefined;
  /** What `services:start` runs, and the cluster mode's settings. */
  services: {
    mode: 'dev' | 'cluster';
    historyShards: number;
    clusterPortBase: number;
    clusterTls: boolean;
  };
  taskQueue: string;
  temporalUiPort: number;
  /** The connection URL in use. */
  databaseUrl: string;
  /** The worker's connection: WORKER_DATABASE_URL, or databaseUrl. */
  workerDatabaseUrl: string;
  /** The portal's connection: PORTAL_DATABASE_URL, or databaseUrl. */
  portalDatabaseUrl: string;
  /** True when DATABASE_URL was not given and the project's embedded PostgreSQL is meant. */
  embeddedDatabase: boolean;
  embeddedPgPort: number;
  /** Folder for local service data, when set in the environment. */
  dataDir: string | undefined;
  maxConcurrentActivities: number;
  /** The worker's tuning (cache and slots). */
  worker: WorkerTuning;
  /** Where the Prometheus metrics are served, when they are. */
  metricsAddress: ListenAddress | undefined;
  /** Where the health endpoint is served, when it is. */
  healthAddress: ListenAddress | undefined;
  shutdownGrace: string;
  /** OUTBOX_LEASE: `500ms`, `30s`, `2m`. */
  outboxLease: string;
  logLevel: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  cliWorkerTimeoutMs: number;
  /** CAMPAIGN_OPERATOR, when set. */
  operator: string | undefined;
  limits: FileLimits;
  /** Where notification channels may send. */
  network: {
    allowLoopbackHttp: boolean;
    allowedHosts: string[] | undefined;
    allowedNetworks: string[] | undefined;
  };
}

export interface FileLimits {
  /** Bytes; CAMPAIGN_MAX_DEFINITION_SIZE. */
  definitionBytes: number;
  /** Bytes; CAMPAIGN_MAX_IMPORT_SIZE. */
  importBytes: number;
}

export { ConfigError };

function parseEnv<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv): z.infer<T> {
  // Empty variables count as unset, as shells often export them empty.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map(
        (i) => `${i.path.join('.')}=${JSON.stringify(env[String(i.path[0])])}: ${i.message}`,
      ),
    );
  }
  return parsed.data;
}

/**
 * Only the file-size limits, for commands that read files and need no service (`validate`
 * works even when DATABASE_URL is malformed).
 */
export function readFileLimits(env: NodeJS.ProcessEnv = process.env): FileLimits {
  const e = parseEnv(fileLimitsSchema, env);
  return {
    definitionBytes: e.CAMPAIGN_MAX_DEFINITION_SIZE,
    importBytes: e.CAMPAIGN_MAX_IMPORT_SIZE,
  };
}

/** A login of the embedded cluster (scripts/lib/postgres.ts, EMBEDDED_LOGINS). */
function embeddedLogin(login: string, port: number): string {
  return `postgres://${login}:${login}@127.0.0.1:${port}/campaign`;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const e = parseEnv(envSchema, env);
  if (e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS > e.WORKER_MAX_CACHED_WORKFLOWS) {
    // The SDK would quietly lower it: say so instead.
    throw new ConfigError([
      `WORKER_MAX_CONCURRENT_WORKFLOW_TASKS=${JSON.stringify(env.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS ?? String(e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS))}: must not exceed WORKER_MAX_CACHED_WORKFLOWS (${e.WORKER_MAX_CACHED_WORKFLOWS})`,
    ]);
  }
  const databaseUrl =
    e.DATABASE_URL ?? `postgres://postgres:postgres@127.0.0.1:${e.EMBEDDED_PG_PORT}/campaign`;
  const temporal = temporalProfile(env);
  return {
    temporalAddress: temporal.address,
    temporalNamespace: temporal.namespace,
    temporalTls: temporal.tls,
    temporalApiKey: temporal.apiKey,
    services: {
      mode: e.TEMPORAL_SERVICES_MODE,
      historyShards: e.TEMPORAL_HISTORY_SHARDS,
      clusterPortBase: e.TEMPORAL_CLUSTER_PORT_BASE,
      clusterTls: e.TEMPORAL_CLUSTER_TLS,
    },
    taskQueue: e.TEMPORAL_TASK_QUEUE,
    temporalUiPort: e.TEMPORAL_UI_PORT,
    databaseUrl,
    // On the embedded default, the logins scripts/lib/postgres.ts creates in the roles.
    workerDatabaseUrl:
      e.WORKER_DATABASE_URL ??
      (e.DATABASE_URL === undefined
        ? embeddedLogin('campaign_worker_app', e.EMBEDDED_PG_PORT)
        : databaseUrl),
    portalDatabaseUrl:
      e.PORTAL_DATABASE_URL ??
      (e.DATABASE_URL === undefined
        ? embeddedLogin('campaign_portal_app', e.EMBEDDED_PG_PORT)
        : databaseUrl),
    embeddedDatabase: e.DATABASE_URL === undefined,
    embeddedPgPort: e.EMBEDDED_PG_PORT,
    dataDir: e.CAMPAIGN_DATA_DIR,
    maxConcurrentActivities: e.WORKER_MAX_CONCURRENT_ACTIVITIES,
    worker: {
      maxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS,
      maxConcurrentWorkflowTasks: e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
      maxConcurrentActivities: e.WORKER_MAX_CONCURRENT_ACTIVITIES,
      maxConcurrentLocalActivities: e.WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES,
    },
    metricsAddress: e.WORKER_METRICS_ADDRESS,
    healthAddress: e.WORKER_HEALTH_ADDRESS,
    shutdownGrace: e.WORKER_SHUTDOWN_GRACE,
    outboxLease: e.OUTBOX_LEASE,
    logLevel: e.LOG_LEVEL,
    cliWorkerTimeoutMs: e.CLI_WORKER_TIMEOUT * 1000,
    operator: e.CAMPAIGN_OPERATOR,
    limits: {
      definitionBytes: e.CAMPAIGN_MAX_DEFINITION_SIZE,
      importBytes: e.CAMPAIGN_MAX_IMPORT_SIZE,
    },
    network: {
      allowLoopbackHttp: e.NOTIFY_ALLOW_LOOPBACK_HTTP,
      allowedHosts: list(e.NOTIFY_ALLOWED_HOSTS),
      allowedNetworks: list(e.NOTIFY_ALLOWED_NETWORKS),
    },
  };
}

/**
 * Where and how to reach Temporal, through the SDK's environment configuration: the profile
 * (TEMPORAL_PROFILE, default `default`) of the temporal.toml file (TEMPORAL_CONFIG_FILE, else
 * Temporal's default location, when there is one), overridden by TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_TLS*, TEMPORAL_API_KEY; localhost:7233 and `default` otherwise.
 */
function temporalProfile(env: NodeJS.ProcessEnv): {
  address: string;
  namespace: string;
  tls: TLSConfig | boolean | undefined;
  apiKey: string | undefined;
} {
  const vars = Object.fromEntries(
    Object.entries(env).filter((kv): kv is [string, string] => kv[1] !== undefined && kv[1] !== ''),
  );
  let loaded: ReturnType<typeof loadClientConnectConfig>;
  try {
    loaded = loadClientConnectConfig({ overrideEnvVars: vars });
  } catch (e) {
    const where = vars.TEMPORAL_CONFIG_FILE
      ? `TEMPORAL_CONFIG_FILE=${JSON.stringify(vars.TEMPORAL_CONFIG_FILE)}`
      : `TEMPORAL_PROFILE=${JSON.stringify(vars.TEMPORAL_PROFILE ?? 'default')}`;
    throw new ConfigError([`${where}: ${(e as Error).message.split('\n')[0]}`]);
  }
  const address = loaded.connectionOptions.address ?? 'localhost:7233';
  if (!/^[^\s:]+:\d+$/.test(address)) {
    throw new ConfigError([
      `TEMPORAL_ADDRESS=${JSON.stringify(address)}: must be host:port, e.g. localhost:7233`,
    ]);
  }
  return {
    address,
    namespace: loaded.namespace || 'default',
    tls: loaded.connectionOptions.tls ?? undefined,
    apiKey:
      typeof loaded.connectionOptions.apiKey === 'string'
        ? loaded.connectionOptions.apiKey
        : undefined,
  };
}

/** The options of a connection to Temporal (client or worker) from the configuration. */
export function temporalConnectionOptions(cfg: Config = config()): {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
} {
  return {
    address: cfg.temporalAddress,
    ...(cfg.temporalTls !== undefined ? { tls: cfg.temporalTls } : {}),
    ...(cfg.temporalApiKey ? { apiKey: cfg.temporalApiKey } : {}),
  };
}

function list(text: string | undefined): string[] | undefined {
  const items = text
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return items?.length ? items : undefined;
}

let cached: Config | undefined;

/** The process's configuration, read on first use. */
export function config(): Config {
  cached ??= readConfig();
  return cached;
}
