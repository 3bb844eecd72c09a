// Local services: the Temporal dev server (SQLite file, Web UI, our search attributes) and the
// embedded PostgreSQL. `start` and `stop` are safe to repeat; `status` says what runs where.
//   npm run services:start | services:stop | services:status [-- --json]
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
import { ensureTemporalCli, REPO_ROOT, ToolError } from './lib/tools.ts';

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

function temporalHostPort(): { host: string; port: number } {
  const [host = 'localhost', port = '7233'] = config().temporalAddress.split(':');
  return { host, port: Number(port) };
}

const isLocal = (host: string) => ['localhost', '127.0.0.1', '::1'].includes(host);

async function temporalReady(): Promise<boolean> {
  try {
    const conn = await Connection.connect({
      address: config().temporalAddress,
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

function spawnDetached(name: string, cmd: string, args: string[]): number {
  mkdirSync(STATE, { recursive: true });
  mkdirSync(LOGS, { recursive: true });
  const logFile = join(LOGS, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd], cwd: REPO_ROOT });
  closeSync(fd);
  child.unref();
  if (!child.pid) throw new ToolError(`could not start ${name} (${cmd})`);
  writeFileSync(pidFile(name), String(child.pid));
  return child.pid;
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
  for (const [what, p] of [
    ['Temporal', port],
    ['the Temporal UI', ui],
  ] as const) {
    if (await portOpen('127.0.0.1', p)) {
      throw new ToolError(
        `port ${p} (for ${what}) is already taken by another process, not one this project started. ` +
          `Stop that process, or choose other ports with TEMPORAL_ADDRESS=localhost:<port> / TEMPORAL_UI_PORT=<port>.`,
      );
    }
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
  ];
  const pid = spawnDetached('temporal', bin, args);
  await waitFor('the Temporal dev server', temporalReady, 60, join(LOGS, 'temporal.log'));
  return `Temporal started (pid ${pid}) at ${host}:${port}, namespace ${config().temporalNamespace}; Web UI http://localhost:${ui}`;
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
  if (await portOpen('127.0.0.1', config().embeddedPgPort)) {
    throw new ToolError(
      `port ${config().embeddedPgPort} (for the embedded PostgreSQL) is already taken by another process. ` +
        'Stop it, or point DATABASE_URL at a PostgreSQL of your own.',
    );
  }
  const tsx = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
  const pid = spawnDetached('postgres', tsx, [join(REPO_ROOT, 'scripts', 'pg-daemon.ts')]);
  await waitFor(
    'the embedded PostgreSQL',
    () => postgresReady(cfg.databaseUrl),
    60,
    join(LOGS, 'postgres.log'),
  );
  return `PostgreSQL started (pid ${pid}) at ${redact(cfg.databaseUrl)} with data in ${join(DATA, 'postgres')}`;
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

async function status(): Promise<ServiceStatus[]> {
  const cfg = config();
  const { host, port } = temporalHostPort();
  const tPid = readPid('temporal');
  const pPid = readPid('postgres');
  const tReady = await temporalReady();
  const uiOpen = await portOpen('127.0.0.1', cfg.temporalUiPort);
  const pReady = await postgresReady(cfg.databaseUrl);
  const out: ServiceStatus[] = [
    {
      service: 'temporal',
      running: tReady,
      managed: alive(tPid),
      address: `${host}:${port} (namespace ${cfg.temporalNamespace})`,
      detail: tReady ? 'reachable' : 'not reachable — run `npm run services:start`',
    },
    {
      service: 'temporal-ui',
      running: uiOpen,
      managed: alive(tPid),
      address: `http://localhost:${cfg.temporalUiPort}`,
      detail: uiOpen ? 'serving' : 'not serving',
    },
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
  ];
  if (alive(tPid)) out[0]!.pid = tPid;
  if (alive(pPid)) out[2]!.pid = pPid;
  return out;
}

async function main() {
  const [command] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const json = process.argv.includes('--json');
  try {
    switch (command) {
      case 'start': {
        console.log(await startPostgres());
        console.log(await startTemporal());
        console.log('Run a worker with `npm run worker`; check with `npm run services:status`.');
        break;
      }
      case 'stop': {
        console.log(await stopService('temporal'));
        console.log(await stopService('postgres'));
        break;
      }
      case 'status': {
        const s = await status();
        if (json) console.log(JSON.stringify(s, null, 2));
        else {
          for (const x of s) {
            const mark = x.running ? '●' : '○';
            console.log(
              `${mark} ${x.service.padEnd(12)} ${x.address.padEnd(52)} ${x.detail}${x.pid ? ` (pid ${x.pid})` : ''}`,
            );
          }
        }
        break;
      }
      default:
        console.error('usage: tsx scripts/services.ts start|stop|status [--json]');
        process.exit(2);
    }
  } catch (e) {
    console.error(`services ${command}: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(e instanceof ToolError ? 1 : 3);
  }
}

await main();
