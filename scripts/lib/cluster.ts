// The cluster mode of the local services: the production Temporal server (1.29.1) on
// PostgreSQL, its services as separate processes (frontend, history, matching, internal
// worker) and the standalone Web UI, all on loopback; optional mTLS between clients and the
// frontend with certificates made here by the openssl command. docker-compose.yml deploys the
// same server version, schema and configuration choices.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Connection } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes.js';
import { msToTs } from '@temporalio/common/lib/time.js';
import pg from 'pg';
import { ALL_SEARCH_ATTRIBUTES } from '../../domain/search-attributes.ts';
import { type ClusterServers, REPO_ROOT, ToolError, which } from './tools.ts';
import { uiServerCodecYaml } from './ui-codec.ts';

/** The Temporal services, one process each, in the order they start. */
export const CLUSTER_SERVICES = ['history', 'matching', 'frontend', 'worker'] as const;
export type ClusterService = (typeof CLUSTER_SERVICES)[number];

export const TEMPORAL_DATABASES = { default: 'temporal', visibility: 'temporal_visibility' };

export interface PgServer {
  host: string;
  port: number;
  user: string;
  password: string;
}

export interface ClusterLayout {
  /** Where the generated configuration, certificates and client profile live. */
  dir: string;
  frontendHost: string;
  frontendPort: number;
  frontendHttpPort: number;
  uiPort: number;
  grpcPorts: Record<ClusterService, number>;
  membershipPorts: Record<ClusterService, number>;
  historyShards: number;
  tls: boolean;
  namespace: string;
  pg: PgServer;
  /** The codec endpoint the UI decodes payloads with (scripts/lib/ui-codec.ts), or null. */
  uiCodecEndpoint: string | null;
}

export function clusterLayout(opts: {
  dir: string;
  frontendHost: string;
  frontendPort: number;
  uiPort: number;
  portBase: number;
  historyShards: number;
  tls: boolean;
  namespace: string;
  pg: PgServer;
  uiCodecEndpoint?: string | null;
}): ClusterLayout {
  const b = opts.portBase;
  return {
    dir: opts.dir,
    frontendHost: opts.frontendHost,
    frontendPort: opts.frontendPort,
    frontendHttpPort: b + 310,
    uiPort: opts.uiPort,
    grpcPorts: {
      frontend: opts.frontendPort,
      history: b + 301,
      matching: b + 302,
      worker: b + 306,
    },
    membershipPorts: { frontend: b, history: b + 1, matching: b + 2, worker: b + 6 },
    historyShards: opts.historyShards,
    uiCodecEndpoint: opts.uiCodecEndpoint ?? null,
    tls: opts.tls,
    namespace: opts.namespace,
    pg: opts.pg,
  };
}

/** Every port the cluster listens on, with what it is for. */
export function clusterPorts(l: ClusterLayout): { port: number; what: string }[] {
  return [
    ...CLUSTER_SERVICES.map((s) => ({ port: l.grpcPorts[s], what: `Temporal ${s} (gRPC)` })),
    ...CLUSTER_SERVICES.map((s) => ({
      port: l.membershipPorts[s],
      what: `Temporal ${s} (membership)`,
    })),
    { port: l.frontendHttpPort, what: 'Temporal frontend (HTTP)' },
    { port: l.uiPort, what: 'the Temporal UI' },
  ];
}

export interface Certificates {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

export function certificatePaths(l: ClusterLayout): Certificates {
  const d = join(l.dir, 'certs');
  return {
    ca: join(d, 'ca.pem'),
    serverCert: join(d, 'frontend.pem'),
    serverKey: join(d, 'frontend.key'),
    clientCert: join(d, 'client.pem'),
    clientKey: join(d, 'client.key'),
  };
}

/**
 * A private CA, a frontend certificate for localhost/127.0.0.1 and a client certificate, made
 * once with openssl (kept while they exist, so that clients keep trusting the frontend).
 */
export function ensureCertificates(l: ClusterLayout): Certificates {
  const c = certificatePaths(l);
  if (Object.values(c).every((p) => existsSync(p))) return c;
  const openssl = which('openssl');
  if (!openssl) {
    throw new ToolError(
      'TEMPORAL_CLUSTER_TLS needs the openssl command to make certificates (apt-get install openssl)',
    );
  }
  const d = join(l.dir, 'certs');
  mkdirSync(d, { recursive: true, mode: 0o700 });
  const run = (args: string[]) => {
    const r = spawnSync(openssl, args, { encoding: 'utf8', cwd: d });
    if (r.status !== 0) throw new ToolError(`openssl ${args[0]} failed: ${r.stderr.trim()}`);
  };
  const ecKey = (out: string) =>
    run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', out]);
  ecKey(c.ca.replace(/\.pem$/, '.key'));
  run([
    'req', '-x509', '-new', '-key', c.ca.replace(/\.pem$/, '.key'), '-sha256', '-days', '825',
    '-subj', '/CN=county-campaign local CA', '-out', c.ca,
  ]); // prettier-ignore
  const leaf = (name: string, key: string, cert: string, ext: string) => {
    ecKey(key);
    const csr = join(d, `${name}.csr`);
    const extFile = join(d, `${name}.ext`);
    writeFileSync(extFile, ext);
    run(['req', '-new', '-key', key, '-subj', `/CN=${name}`, '-out', csr]);
    run([
      'x509', '-req', '-in', csr, '-CA', c.ca, '-CAkey', c.ca.replace(/\.pem$/, '.key'),
      '-CAcreateserial', '-days', '825', '-sha256', '-extfile', extFile, '-out', cert,
    ]); // prettier-ignore
  };
  leaf(
    'localhost',
    c.serverKey,
    c.serverCert,
    'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n',
  );
  leaf(
    'county-campaign-client',
    c.clientKey,
    c.clientCert,
    'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n',
  );
  return c;
}

const q = (s: string) => JSON.stringify(s);

/** Writes the server's configuration (`<dir>/config/cluster.yaml`) and dynamic configuration. */
export function writeServerConfig(l: ClusterLayout): { configDir: string; env: string } {
  const configDir = join(l.dir, 'config');
  mkdirSync(configDir, { recursive: true });
  const store = (db: string, conns: number) => `      sql:
        pluginName: "postgres12"
        databaseName: ${q(db)}
        connectAddr: ${q(`${l.pg.host}:${l.pg.port}`)}
        connectProtocol: "tcp"
        user: ${q(l.pg.user)}
        password: ${q(l.pg.password)}
        maxConns: ${conns}
        maxIdleConns: ${conns}
        maxConnLifetime: "1h"`;
  const svc = (s: ClusterService) => `  ${s}:
    rpc:
      grpcPort: ${l.grpcPorts[s]}
      membershipPort: ${l.membershipPorts[s]}
      bindOnIP: "127.0.0.1"${s === 'frontend' ? `\n      httpPort: ${l.frontendHttpPort}` : ''}`;
  const c = certificatePaths(l);
  const tls = l.tls
    ? `  tls:
    frontend:
      server:
        certFile: ${q(c.serverCert)}
        keyFile: ${q(c.serverKey)}
        requireClientAuth: true
        clientCaFiles: [${q(c.ca)}]
      client:
        serverName: "localhost"
        rootCaFiles: [${q(c.ca)}]
    systemWorker:
      certFile: ${q(c.clientCert)}
      keyFile: ${q(c.clientKey)}
      client:
        serverName: "localhost"
        rootCaFiles: [${q(c.ca)}]
`
    : '';
  writeFileSync(
    join(configDir, 'cluster.yaml'),
    `# Made by scripts/services.ts (cluster mode) from the settings; rewritten on every start.
log:
  stdout: true
  level: warn

persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: ${l.historyShards}
  datastores:
    postgres-default:
${store(TEMPORAL_DATABASES.default, 20)}
    postgres-visibility:
${store(TEMPORAL_DATABASES.visibility, 10)}

global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
${tls}
services:
${CLUSTER_SERVICES.map(svc).join('\n')}

clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: ${q(`127.0.0.1:${l.frontendPort}`)}

dcRedirectionPolicy:
  policy: "noop"

dynamicConfigClient:
  filepath: ${q(join(configDir, 'dynamic.yaml'))}
  pollInterval: "10s"
`,
  );
  copyFileSync(join(REPO_ROOT, 'deploy', 'temporal-dynamic.yaml'), join(configDir, 'dynamic.yaml'));
  return { configDir, env: 'cluster' };
}

/** The arguments that run one service. */
export function serverArgs(l: ClusterLayout, service: ClusterService): string[] {
  return [
    '--root',
    l.dir,
    '--config',
    'config',
    '--env',
    'cluster',
    '--allow-no-auth',
    'start',
    '--service',
    service,
  ];
}

/** Writes the UI server's configuration; returns its arguments. */
export function uiServerArgs(l: ClusterLayout): string[] {
  const dir = join(l.dir, 'ui');
  mkdirSync(join(dir, 'config'), { recursive: true });
  const c = certificatePaths(l);
  writeFileSync(
    join(dir, 'config', 'cluster.yaml'),
    `temporalGrpcAddress: ${q(`127.0.0.1:${l.frontendPort}`)}
host: "127.0.0.1"
port: ${l.uiPort}
enableUi: true
defaultNamespace: ${q(l.namespace)}
${uiServerCodecYaml(l.uiCodecEndpoint)}${
      l.tls
        ? `tls:
  caFile: ${q(c.ca)}
  certFile: ${q(c.clientCert)}
  keyFile: ${q(c.clientKey)}
  serverName: "localhost"
  enableHostVerification: true
`
        : ''
    }`,
  );
  return ['--root', dir, '--config', 'config', '--env', 'cluster', 'start'];
}

/**
 * A temporal.toml with one profile for the cluster, for the SDK's environment configuration
 * (TEMPORAL_CONFIG_FILE=… TEMPORAL_PROFILE=cluster) and the temporal CLI alike.
 */
export function writeClientProfile(l: ClusterLayout): string {
  const file = join(l.dir, 'temporal.toml');
  const c = certificatePaths(l);
  writeFileSync(
    file,
    `# Made by scripts/services.ts: the local cluster, for Temporal's environment configuration.
[profile.cluster]
address = ${q(`127.0.0.1:${l.frontendPort}`)}
namespace = ${q(l.namespace)}
${
  l.tls
    ? `
[profile.cluster.tls]
server_name = "localhost"
server_ca_cert_path = ${q(c.ca)}
client_cert_path = ${q(c.clientCert)}
client_key_path = ${q(c.clientKey)}
`
    : ''
}`,
  );
  return file;
}

/** The environment that points a client (worker, CLI, portal) at the cluster. */
export function clientEnv(l: ClusterLayout): Record<string, string> {
  return {
    TEMPORAL_CONFIG_FILE: join(l.dir, 'temporal.toml'),
    TEMPORAL_PROFILE: 'cluster',
    TEMPORAL_ADDRESS: `127.0.0.1:${l.frontendPort}`,
  };
}

/** Connection options of the cluster's frontend (with the client certificate under TLS). */
export async function clusterConnectionOptions(l: ClusterLayout) {
  const { readFileSync } = await import('node:fs');
  const c = certificatePaths(l);
  return {
    address: `127.0.0.1:${l.frontendPort}`,
    ...(l.tls
      ? {
          tls: {
            serverNameOverride: 'localhost',
            serverRootCACertificate: readFileSync(c.ca),
            clientCertPair: { crt: readFileSync(c.clientCert), key: readFileSync(c.clientKey) },
          },
        }
      : {}),
  };
}

async function adminClient(pgs: PgServer, database = 'postgres'): Promise<pg.Client> {
  const c = new pg.Client({ ...pgs, database, connectionTimeoutMillis: 5000 });
  await c.connect();
  return c;
}

/**
 * Creates Temporal's two databases when missing and brings their schema to the version the
 * server ships (`setup-schema -v 0.0` on a new database, then `update-schema` to the newest):
 * safe to run on every start.
 */
export async function migrateTemporalDatabases(
  servers: ClusterServers,
  l: ClusterLayout,
  log: (line: string) => void,
): Promise<void> {
  const tool = (db: string, args: string[]) => {
    const r = spawnSync(
      servers.sql,
      [
        '--plugin', 'postgres12', '--ep', l.pg.host, '-p', String(l.pg.port), '-u', l.pg.user,
        '--db', db, ...args,
      ], // prettier-ignore
      { encoding: 'utf8', env: { ...process.env, SQL_PASSWORD: l.pg.password } },
    );
    if (r.status !== 0) {
      throw new ToolError(
        `temporal-sql-tool ${args[0]} on ${db} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join('\n')}`,
      );
    }
  };
  for (const [kind, db] of [
    ['temporal', TEMPORAL_DATABASES.default],
    ['visibility', TEMPORAL_DATABASES.visibility],
  ] as const) {
    const admin = await adminClient(l.pg);
    let exists: boolean;
    try {
      exists =
        ((await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [db])).rowCount ?? 0) >
        0;
      if (!exists) await admin.query(`CREATE DATABASE "${db}"`);
    } finally {
      await admin.end();
    }
    const c = await adminClient(l.pg, db);
    let versioned: boolean;
    try {
      versioned =
        ((await c.query("SELECT 1 FROM pg_tables WHERE tablename = 'schema_version'")).rowCount ??
          0) > 0;
    } finally {
      await c.end();
    }
    if (!versioned) {
      log(`  creating Temporal's ${db} schema`);
      tool(db, ['setup-schema', '-v', '0.0']);
    }
    tool(db, ['update-schema', '-d', join(servers.schemaDir, kind, 'versioned')]);
  }
}

/** Sizes in bytes of Temporal's two databases. */
export async function temporalDatabaseBytes(pgs: PgServer): Promise<number> {
  const c = await adminClient(pgs);
  try {
    const r = await c.query<{ n: string }>(
      'SELECT sum(pg_database_size(datname))::text AS n FROM pg_database WHERE datname = ANY($1)',
      [[TEMPORAL_DATABASES.default, TEMPORAL_DATABASES.visibility]],
    );
    return Number(r.rows[0]?.n ?? 0);
  } finally {
    await c.end();
  }
}

/**
 * Registers the namespace (30 days' retention, as docker-compose) and the product's search
 * attributes when missing, and waits until the frontend serves both.
 */
export async function registerNamespace(
  conn: Connection,
  namespace: string,
  timeoutMs: number,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  const retry = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    let last: unknown;
    while (Date.now() < until) {
      try {
        return await fn();
      } catch (e) {
        last = e;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    throw new ToolError(`${what}: ${(last as Error)?.message ?? last}`);
  };
  await retry('registering the namespace', async () => {
    try {
      await conn.workflowService.registerNamespace({
        namespace,
        workflowExecutionRetentionPeriod: msToTs('30 days'),
      });
    } catch (e) {
      if ((e as { code?: number }).code !== 6) throw e; // ALREADY_EXISTS
    }
  });
  await retry(`namespace ${namespace} not served`, () =>
    conn.workflowService.describeNamespace({ namespace }),
  );
  await retry('registering the search attributes', async () => {
    const have = await conn.operatorService.listSearchAttributes({ namespace });
    const missing = ALL_SEARCH_ATTRIBUTES.filter((k) => !(k.name in (have.customAttributes ?? {})));
    if (missing.length) {
      await conn.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: Object.fromEntries(
          missing.map((k) => [k.name, encodeSearchAttributeIndexedValueType(k.type)!]),
        ),
      });
      throw new Error(`registered ${missing.map((k) => k.name).join(', ')}; checking again`);
    }
  });
}
