// Local services: the Temporal dev server (SQLite file, Web UI, our search attributes) and the
// embedded PostgreSQL; or, in cluster mode (`--cluster` or TEMPORAL_SERVICES_MODE=cluster), the
// production Temporal server on PostgreSQL with one process per service and the Web UI server
// (scripts/lib/cluster.ts). `start` and `stop` are safe to repeat; `status` says what runs where.
// Starting is all or nothing: when one part cannot start, what this run started is stopped.
//   npm run services:start [-- --cluster [--tls]] | services:stop [-- NAME] | services:status
//   [-- --json] | tsx scripts/services.ts restart NAME
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import pg from 'pg';
import { redactUrl as redact } from '../db/pool.ts';
import { searchAttributeFlags } from '../domain/search-attributes.ts';
import { config } from '../worker/config.ts';
import {
  CLUSTER_SERVICES,
  clusterConnectionOptions,
  clusterLayout,
  clusterPorts,
  ensureCertificates,
  migrateTemporalDatabases,
  registerNamespace,
  serverArgs,
  uiServerArgs,
  writeClientProfile,
  writeServerConfig,
  type ClusterLayout,
  type ClusterService,
  type PgServer,
} from './lib/cluster.ts';
import { inheritedLifeline, spawnGuarded } from './lib/guard.ts';
import { ensureClusterServers, ensureTemporalCli, REPO_ROOT, ToolError } from './lib/tools.ts';
import { devUiCodecFlags, uiCodecEndpoint } from './lib/ui-codec.ts';

const DATA = config().dataDir ?? join(REPO_ROOT, '.data');
const STATE = join(DATA, 'services');
const LOGS = join(DATA, 'logs');

interface ServiceStatus {
  service: string;
  running: boolean;
  managed: boolean;
  pid?: number;
  address: string;
  detail: string;
}

function pidFile(name: string): string {
  return join(STATE, `${name}.pid`);
}

function readPid(name: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile(name), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function portOpen(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  seconds: number,
  logFile: string,
) {
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  const tail = existsSync(logFile)
    ? readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n')
    : '';
  throw new ToolError(`${what} did not become ready within ${seconds}s. Log ${logFile}:\n${tail}`);
}

/**
 * Starts a service to outlive this command (it is what `services:start` is for). Only when this
 * command was given a lifeline to pass on (scripts/lib/guard.ts: a test runs it through
 * runNode) is the service guarded by it, so that it ends with the test that started it.
 */
function spawnDetached(name: string, cmd: string, args: string[], cwd = REPO_ROOT): number {
  mkdirSync(STATE, { recursive: true });
  mkdirSync(LOGS, { recursive: true });
  const logFile = join(LOGS, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const lifeline = inheritedLifeline();
  const child =
    lifeline === null
      ? spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd], cwd })
      : spawnGuarded(cmd, args, { lifeline, stdio: ['ignore', fd, fd], cwd });
  closeSync(fd);
  child.unref();
  if (!child.pid) throw new ToolError(`could not start ${name} (${cmd})`);
  writeFileSync(pidFile(name), String(child.pid));
  return child.pid;
}

function temporalHostPort(): { host: string; port: number } {
  const [host = 'localhost', port = '7233'] = config().temporalAddress.split(':');
  return { host, port: Number(port) };
}

const isLocal = (host: string) => ['localhost', '127.0.0.1', '::1'].includes(host);

type Mode = 'dev' | 'cluster';

/** The mode of what runs: the one recorded at start, else the flag or the configuration. */
function modeOf(argv: string[]): Mode {
  if (argv.includes('--cluster')) return 'cluster';
  if (argv.includes('--dev')) return 'dev';
  try {
    const recorded = readFileSync(join(STATE, 'mode'), 'utf8').trim();
    if (recorded === 'cluster' || recorded === 'dev') return recorded;
  } catch {
    // nothing recorded
  }
  return config().services.mode;
}

/** The PostgreSQL server that holds Temporal's databases in cluster mode. */
function pgServer(): PgServer {
  const cfg = config();
  if (cfg.embeddedDatabase) {
    return { host: '127.0.0.1', port: cfg.embeddedPgPort, user: 'postgres', password: 'postgres' };
  }
  const u = new URL(cfg.databaseUrl);
  return {
    host: u.hostname || '127.0.0.1',
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username || 'postgres'),
    password: decodeURIComponent(u.password),
  };
}

function layout(tls: boolean): ClusterLayout {
  const cfg = config();
  const { host, port } = temporalHostPort();
  return clusterLayout({
    dir: join(DATA, 'cluster'),
    frontendHost: host,
    frontendPort: port,
    uiPort: cfg.temporalUiPort,
    portBase: cfg.services.clusterPortBase,
    historyShards: cfg.services.historyShards,
    tls,
    namespace: cfg.temporalNamespace,
    pg: pgServer(),
    uiCodecEndpoint: uiCodecEndpoint(),
  });
}

/** Whether TLS is on: as recorded at start, else the flag or the configuration. */
function tlsOf(argv: string[]): boolean {
  if (argv.includes('--tls')) return true;
  if (argv.includes('--no-tls')) return false;
  try {
    return readFileSync(join(STATE, 'tls'), 'utf8').trim() === 'true';
  } catch {
    return config().services.clusterTls;
  }
}

async function temporalReady(l?: ClusterLayout): Promise<boolean> {
  try {
    const conn = await Connection.connect({
      ...(l ? await clusterConnectionOptions(l) : { address: config().temporalAddress }),
      connectTimeout: 1000,
    });
    try {
      await conn.workflowService.describeNamespace({ namespace: config().temporalNamespace });
      return true;
    } finally {
      await conn.close();
    }
  } catch {
    return false;
  }
}

async function frontendServing(l: ClusterLayout): Promise<boolean> {
  try {
    const conn = await Connection.connect({
      ...(await clusterConnectionOptions(l)),
      connectTimeout: 1000,
    });
    try {
      await conn.workflowService.getSystemInfo({});
      return true;
    } finally {
      await conn.close();
    }
  } catch {
    return false;
  }
}

async function httpOk(url: string): Promise<boolean> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
    return r.ok;
  } catch {
    return false;
  }
}

async function postgresReady(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}

function portTaken(port: number, what: string, hint: string): ToolError {
  return new ToolError(
    `port ${port} (for ${what}) is already taken by another process, not one this project started. ` +
      `Stop that process, or ${hint}.`,
  );
}

/** What this run started, so that a failure stops it again (all or nothing). */
const startedNow: string[] = [];

function spawnService(name: string, cmd: string, args: string[], cwd?: string): number {
  const pid = spawnDetached(name, cmd, args, cwd);
  startedNow.push(name);
  return pid;
}

/** Waits for `check`, failing early with the log when the process has exited. */
async function waitForProcess(
  name: string,
  what: string,
  check: () => Promise<boolean>,
  seconds: number,
) {
  const pid = readPid(name);
  const logFile = join(LOGS, `${name}.log`);
  await waitFor(
    what,
    async () => {
      if (!alive(pid)) {
        const tail = existsSync(logFile)
          ? readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n')
          : '';
        throw new ToolError(`${what} exited while starting. Log ${logFile}:\n${tail}`);
      }
      return check();
    },
    seconds,
    logFile,
  );
}

async function startTemporal(): Promise<string> {
  const { host, port } = temporalHostPort();
  const ui = config().temporalUiPort;
  if (alive(readPid('temporal'))) {
    return `Temporal already running (pid ${readPid('temporal')}) at ${host}:${port}, UI http://localhost:${ui}`;
  }
  if (!isLocal(host)) {
    if (await temporalReady()) return `Temporal at ${host}:${port} (not managed here) is reachable`;
    throw new ToolError(
      `TEMPORAL_ADDRESS=${host}:${port} is not local and not reachable; services:start only runs a local server`,
    );
  }
  const bin = await ensureTemporalCli();
  mkdirSync(join(DATA, 'temporal'), { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--ui-port',
    String(ui),
    '--db-filename',
    join(DATA, 'temporal', 'temporal.sqlite'),
    '--namespace',
    config().temporalNamespace,
    '--log-level',
    'warn',
    ...searchAttributeFlags().flatMap((f) => ['--search-attribute', f]),
    // With payload encryption on, the UI decodes through the codec endpoint.
    ...devUiCodecFlags(),
  ];
  const pid = spawnService('temporal', bin, args);
  await waitForProcess('temporal', 'the Temporal dev server', () => temporalReady(), 60);
  const codec = uiCodecEndpoint();
  return (
    `Temporal started (pid ${pid}) at ${host}:${port}, namespace ${config().temporalNamespace}; Web UI http://localhost:${ui}` +
    (codec
      ? `; encrypted payloads: sign in at ${codec}/sign-in, then in the UI's Codec Server settings use the browser's setting with that endpoint and "Include cross-origin credentials"`
      : '')
  );
}

async function startPostgres(): Promise<string> {
  const cfg = config();
  if (!cfg.embeddedDatabase) {
    if (await postgresReady(cfg.databaseUrl))
      return `PostgreSQL from DATABASE_URL is reachable (not managed here)`;
    throw new ToolError(
      `DATABASE_URL is set but the database is not reachable (${redact(cfg.databaseUrl)}). ` +
        'Start that server, or unset DATABASE_URL to use the embedded one.',
    );
  }
  if (alive(readPid('postgres'))) {
    return `PostgreSQL already running (pid ${readPid('postgres')}) at ${redact(cfg.databaseUrl)}`;
  }
  const tsx = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
  const pid = spawnService('postgres', tsx, [join(REPO_ROOT, 'scripts', 'pg-daemon.ts')]);
  await waitForProcess(
    'postgres',
    'the embedded PostgreSQL',
    () => postgresReady(cfg.databaseUrl),
    60,
  );
  return `PostgreSQL started (pid ${pid}) at ${redact(cfg.databaseUrl)} with data in ${join(DATA, 'postgres')}`;
}

const clusterName = (s: ClusterService) => `temporal-${s}`;

/** Names of the managed services of a mode, in the order they start. */
function serviceNames(mode: Mode): string[] {
  return mode === 'cluster'
    ? ['postgres', ...CLUSTER_SERVICES.map(clusterName), 'temporal-ui']
    : ['postgres', 'temporal'];
}

/**
 * Before anything starts: every port a service that is not running yet would listen on must be
 * free, so that a taken port fails the start before any service runs.
 */
async function checkPorts(mode: Mode, only?: string): Promise<void> {
  const cfg = config();
  const { host, port } = temporalHostPort();
  const wanted: { service: string; port: number; what: string; hint: string }[] = [];
  if (cfg.embeddedDatabase) {
    wanted.push({
      service: 'postgres',
      port: cfg.embeddedPgPort,
      what: 'the embedded PostgreSQL',
      hint: 'choose another with EMBEDDED_PG_PORT=<port>, or point DATABASE_URL at a PostgreSQL of your own',
    });
  }
  const ports =
    'choose other ports with TEMPORAL_ADDRESS=localhost:<port> / TEMPORAL_UI_PORT=<port>' +
    (mode === 'cluster' ? ' / TEMPORAL_CLUSTER_PORT_BASE=<port>' : '');
  if (mode === 'dev' && isLocal(host)) {
    wanted.push({ service: 'temporal', port, what: 'Temporal', hint: ports });
    wanted.push({
      service: 'temporal',
      port: cfg.temporalUiPort,
      what: 'the Temporal UI',
      hint: ports,
    });
  }
  if (mode === 'cluster') {
    const l = layout(false);
    for (const p of clusterPorts(l)) {
      const svc = CLUSTER_SERVICES.find((s) => p.what.startsWith(`Temporal ${s} `));
      wanted.push({
        service: svc ? clusterName(svc) : 'temporal-ui',
        port: p.port,
        what: p.what === `Temporal frontend (gRPC)` ? 'Temporal' : p.what,
        hint: ports,
      });
    }
  }
  for (const w of wanted) {
    if (only && w.service !== only) continue;
    if (alive(readPid(w.service))) continue;
    if (await portOpen('127.0.0.1', w.port)) throw portTaken(w.port, w.what, w.hint);
  }
}

async function startClusterService(
  l: ClusterLayout,
  name: string,
  servers: Awaited<ReturnType<typeof ensureClusterServers>>,
): Promise<string> {
  if (alive(readPid(name))) return `${name} already running (pid ${readPid(name)})`;
  if (name === 'temporal-ui') {
    const pid = spawnService(name, servers.ui, uiServerArgs(l), join(l.dir, 'ui'));
    await waitForProcess(
      name,
      'the Temporal UI server',
      () => httpOk(`http://127.0.0.1:${l.uiPort}/healthz`),
      60,
    );
    return (
      `${name} started (pid ${pid}): Web UI http://localhost:${l.uiPort}` +
      (l.uiCodecEndpoint
        ? `; to read encrypted payloads sign in at ${l.uiCodecEndpoint}/sign-in`
        : '')
    );
  }
  const service = name.replace(/^temporal-/, '') as ClusterService;
  const pid = spawnService(name, servers.server, serverArgs(l, service), l.dir);
  const grpc = l.grpcPorts[service];
  await waitForProcess(
    name,
    `the Temporal ${service} service`,
    async () =>
      service === 'frontend'
        ? frontendServing(l)
        : // The internal worker serves no gRPC: it has joined once its membership port listens.
          portOpen('127.0.0.1', service === 'worker' ? l.membershipPorts.worker : grpc),
    120,
  );
  return `${name} started (pid ${pid}) on 127.0.0.1:${grpc}`;
}

async function startCluster(tls: boolean, only?: string): Promise<string[]> {
  const cfg = config();
  const { host } = temporalHostPort();
  if (!isLocal(host)) {
    throw new ToolError(
      `TEMPORAL_ADDRESS=${cfg.temporalAddress} is not local; the cluster mode runs its frontend on this machine (localhost:<port>)`,
    );
  }
  const l = layout(tls);
  const servers = await ensureClusterServers();
  mkdirSync(l.dir, { recursive: true });
  if (tls) ensureCertificates(l);
  writeServerConfig(l);
  writeClientProfile(l);
  const out: string[] = [];
  const names = only ? [only] : [...CLUSTER_SERVICES.map(clusterName), 'temporal-ui'];
  const anyRunning = CLUSTER_SERVICES.some((s) => alive(readPid(clusterName(s))));
  if (!anyRunning) {
    await migrateTemporalDatabases(servers, l, (line) => out.push(line));
    out.push(
      `Temporal's databases temporal and temporal_visibility are at the server's schema (${l.pg.host}:${l.pg.port})`,
    );
  }
  for (const name of names) {
    out.push(await startClusterService(l, name, servers));
    if (name === 'temporal-frontend') {
      const conn = await Connection.connect(await clusterConnectionOptions(l));
      try {
        await registerNamespace(conn, cfg.temporalNamespace, 120_000);
      } finally {
        await conn.close();
      }
      out.push(`namespace ${cfg.temporalNamespace} and the product's search attributes registered`);
    }
  }
  if (!only) {
    out.push(
      `Temporal cluster (${l.historyShards} history shards${tls ? ', mTLS' : ''}) at 127.0.0.1:${l.frontendPort}, namespace ${cfg.temporalNamespace}; Web UI http://localhost:${l.uiPort}`,
    );
    out.push(
      tls
        ? `Clients connect with Temporal's environment configuration: export TEMPORAL_CONFIG_FILE=${join(l.dir, 'temporal.toml')} TEMPORAL_PROFILE=cluster`
        : `Profile for clients: TEMPORAL_CONFIG_FILE=${join(l.dir, 'temporal.toml')} TEMPORAL_PROFILE=cluster`,
    );
  }
  return out;
}

async function stopService(name: string): Promise<string> {
  const pid = readPid(name);
  if (!alive(pid) || !pid) {
    rmSync(pidFile(name), { force: true });
    return `${name}: not running`;
  }
  process.kill(pid, 'SIGTERM');
  const until = Date.now() + 20_000;
  while (alive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(pidFile(name), { force: true });
  return `${name}: stopped (pid ${pid})`;
}

async function status(mode: Mode, tls: boolean): Promise<ServiceStatus[]> {
  const cfg = config();
  const { host, port } = temporalHostPort();
  const pPid = readPid('postgres');
  const pReady = await postgresReady(cfg.databaseUrl);
  const out: ServiceStatus[] = [];
  const withPid = (s: ServiceStatus, pid: number | undefined): ServiceStatus =>
    alive(pid) ? { ...s, pid } : s;
  if (mode === 'dev') {
    const tPid = readPid('temporal');
    const tReady = await temporalReady();
    const uiOpen = await portOpen('127.0.0.1', cfg.temporalUiPort);
    // The UI is ours only while our dev server runs: another program on its port is not.
    const uiOurs = uiOpen && alive(tPid);
    out.push(
      withPid(
        {
          service: 'temporal',
          running: tReady,
          managed: alive(tPid),
          address: `${host}:${port} (namespace ${cfg.temporalNamespace})`,
          detail: tReady ? 'reachable' : 'not reachable — run `npm run services:start`',
        },
        tPid,
      ),
      {
        service: 'temporal-ui',
        running: uiOurs,
        managed: alive(tPid),
        address: `http://localhost:${cfg.temporalUiPort}`,
        detail: uiOurs
          ? 'serving'
          : uiOpen
            ? 'not serving — the port is taken by another program'
            : 'not serving',
      },
    );
  } else {
    const l = layout(tls);
    const frontendUp = await temporalReady(l);
    for (const s of CLUSTER_SERVICES) {
      const name = clusterName(s);
      const pid = readPid(name);
      const running =
        alive(pid) &&
        (s === 'frontend'
          ? frontendUp
          : await portOpen('127.0.0.1', s === 'worker' ? l.membershipPorts[s] : l.grpcPorts[s]));
      out.push(
        withPid(
          {
            service: name,
            running,
            managed: alive(pid),
            address:
              s === 'frontend'
                ? `${host}:${port} (namespace ${cfg.temporalNamespace}${tls ? ', mTLS' : ''})`
                : `127.0.0.1:${s === 'worker' ? l.membershipPorts[s] : l.grpcPorts[s]}`,
            detail: running
              ? s === 'frontend'
                ? 'reachable'
                : 'serving'
              : alive(pid)
                ? 'starting or not answering'
                : 'not running — run `npm run services:start -- --cluster`',
          },
          pid,
        ),
      );
    }
    const uiPid = readPid('temporal-ui');
    const uiOpen = await portOpen('127.0.0.1', l.uiPort);
    const uiOurs = alive(uiPid) && (await httpOk(`http://127.0.0.1:${l.uiPort}/healthz`));
    out.push(
      withPid(
        {
          service: 'temporal-ui',
          running: uiOurs,
          managed: alive(uiPid),
          address: `http://localhost:${l.uiPort}`,
          detail: uiOurs
            ? 'serving'
            : uiOpen && !alive(uiPid)
              ? 'not serving — the port is taken by another program'
              : 'not serving',
        },
        uiPid,
      ),
    );
  }
  out.push(
    withPid(
      {
        service: 'postgres',
        running: pReady,
        managed: alive(pPid),
        address: redact(cfg.databaseUrl),
        detail: pReady
          ? cfg.embeddedDatabase
            ? `reachable (embedded, data in ${join(DATA, 'postgres')})`
            : 'reachable (DATABASE_URL)'
          : 'not reachable — run `npm run services:start`',
      },
      pPid,
    ),
  );
  return out;
}

function record(mode: Mode, tls: boolean) {
  mkdirSync(STATE, { recursive: true });
  writeFileSync(join(STATE, 'mode'), mode);
  writeFileSync(join(STATE, 'tls'), String(tls));
}

/** Stops what this run started, last first, after a failure; says what it stopped. */
async function undoStarted(): Promise<string[]> {
  const stopped: string[] = [];
  for (const name of startedNow.splice(0).reverse()) {
    await stopService(name);
    stopped.push(name);
  }
  return stopped;
}

async function start(mode: Mode, tls: boolean, only?: string): Promise<void> {
  const other = mode === 'cluster' ? 'temporal' : clusterName('frontend');
  if (alive(readPid(other))) {
    throw new ToolError(
      `the ${mode === 'cluster' ? 'dev server' : 'cluster'} is running: stop it first with \`npm run services:stop\``,
    );
  }
  await checkPorts(mode, only);
  record(mode, tls);
  if (!only || only === 'postgres') console.log(await startPostgres());
  if (mode === 'dev') {
    if (!only || only === 'temporal') console.log(await startTemporal());
  } else if (only !== 'postgres') {
    for (const line of await startCluster(tls, only)) console.log(line);
  }
  if (!only)
    console.log('Run a worker with `npm run worker`; check with `npm run services:status`.');
}

async function main() {
  inheritedLifeline(); // read (and taken out of the environment) before anything is started
  const argv = process.argv.slice(2);
  const [command, name] = argv.filter((a) => !a.startsWith('--'));
  const json = argv.includes('--json');
  const mode = modeOf(argv);
  const tls = mode === 'cluster' && tlsOf(argv);
  const names = serviceNames(mode);
  if (name && !names.includes(name)) {
    console.error(
      `services ${command}: no service "${name}" in ${mode} mode; services: ${names.join(', ')}`,
    );
    process.exit(2);
  }
  try {
    switch (command) {
      case 'start':
        await start(mode, tls, name);
        break;
      case 'restart': {
        if (!name) {
          console.error('usage: tsx scripts/services.ts restart NAME');
          process.exit(2);
        }
        console.log(await stopService(name));
        await start(mode, tls, name);
        break;
      }
      case 'stop': {
        for (const n of name ? [name] : [...names].reverse()) console.log(await stopService(n));
        break;
      }
      case 'status': {
        const s = await status(mode, tls);
        if (json) console.log(JSON.stringify(s, null, 2));
        else {
          for (const x of s) {
            const mark = x.running ? '●' : '○';
            console.log(
              `${mark} ${x.service.padEnd(18)} ${x.address.padEnd(52)} ${x.detail}${x.pid ? ` (pid ${x.pid})` : ''}`,
            );
          }
        }
        break;
      }
      default:
        console.error(
          'usage: tsx scripts/services.ts start|stop|status|restart [NAME] [--cluster [--tls]] [--json]',
        );
        process.exit(2);
    }
  } catch (e) {
    const stopped = await undoStarted();
    const undo = stopped.length
      ? `\nStopped what this start had started (${stopped.join(', ')}): nothing is left running by it.`
      : '';
    console.error(`services ${command}: ${e instanceof Error ? e.message : String(e)}${undo}`);
    process.exit(e instanceof ToolError ? 1 : 3);
  }
}

await main();
