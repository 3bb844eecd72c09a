// Temporal servers started by the project itself, waited for until they answer, and only then
// handed to the SDK as existing servers. The SDK's own launcher gives a server a fixed few
// seconds to listen, which a JVM on a busy two-core machine does not always meet; here a slow
// start costs time, not a failure, up to a generous bound with a message that says what did not
// start, where, and what it last printed.
import type { ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import { Connection } from '@temporalio/client';
import { SearchAttributeType, TypedSearchAttributes } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ALL_SEARCH_ATTRIBUTES } from '../../domain/search-attributes.ts';
import { killGroup as signalGroup, spawnGuarded } from '../../scripts/lib/guard.ts';
import { ensureTemporalCli, ensureTestServer } from '../../scripts/lib/tools.ts';
import { freePort } from './postgres.ts';

/** How long a server may take to answer, in seconds (TEST_SERVER_START_TIMEOUT_S). */
export function startBoundMs(): number {
  const s = Number(process.env.TEST_SERVER_START_TIMEOUT_S ?? '');
  return Number.isFinite(s) && s > 0 ? s * 1000 : 180_000;
}

export interface ServerProcess {
  address: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `cmd` in a process group of its own, guarded (scripts/lib/guard.ts: the group ends when
 * this process does, however it ends), and waits until a Temporal gRPC service answers.
 */
export async function startServerProcess(opts: {
  label: string;
  cmd: string;
  args: string[];
  port: number;
  /** Extra readiness check after gRPC answers (e.g. the Web UI's HTTP port). */
  ready?: () => Promise<boolean>;
}): Promise<ServerProcess> {
  const address = `127.0.0.1:${opts.port}`;
  const tail: string[] = [];
  const child = spawnGuarded(opts.cmd, opts.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (buf: Buffer) => {
    for (const line of buf.toString().split('\n')) {
      if (!line.trim()) continue;
      tail.push(line);
      if (tail.length > 20) tail.shift();
    }
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited: string | null = null;
  child.once('exit', (code, signal) => {
    exited = `exited with ${signal ?? `code ${code}`}`;
  });
  const stop = () => killGroup(child);
  const bound = startBoundMs();
  const started = Date.now();
  while (true) {
    if (exited) break;
    if (
      (await tcpOpen(opts.port)) &&
      (await grpcAnswers(address)) &&
      (await (opts.ready?.() ?? true))
    )
      return { address, child, stop };
    if (Date.now() - started > bound) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  throw new Error(
    `${opts.label} did not answer on ${address} within ${Math.round(bound / 1000)} s` +
      (exited ? ` (it ${exited})` : '') +
      ` — started as: ${opts.cmd} ${opts.args.join(' ')}` +
      (tail.length ? `\nits last output:\n${tail.join('\n')}` : '\nit printed nothing') +
      '\nOn a very busy machine, raise TEST_SERVER_START_TIMEOUT_S.',
  );
}

function killGroup(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
      resolve();
      return;
    }
    const timer = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000);
    s.once('connect', () => done(true));
    s.once('timeout', () => done(false));
    s.once('error', () => done(false));
    s.connect(port, '127.0.0.1');
  });
}

/** Whether a gRPC call gets an answer (any answer but "unavailable" or a deadline). */
async function grpcAnswers(address: string): Promise<boolean> {
  let conn: Connection | undefined;
  try {
    conn = await Connection.connect({ address, connectTimeout: 2000 });
    await conn.withDeadline(Date.now() + 3000, () => conn!.workflowService.getSystemInfo({}));
    return true;
  } catch (e) {
    const code = (e as { code?: number })?.code;
    return typeof code === 'number' && code !== 14 && code !== 4;
  } finally {
    await conn?.close().catch(() => {});
  }
}

/** Hands a running server to the SDK; tearing the environment down stops the server too. */
async function environmentOn(
  server: ServerProcess,
  timeSkipping: boolean,
): Promise<TestWorkflowEnvironment> {
  // `create` is the SDK's own factory behind createFromExistingServer; it also takes
  // time skipping and connection options. The Java test server (grpc-java) allows a keepalive
  // ping at most every five minutes and drops connections that ping more often, which loses
  // calls in flight: the client's default ping every 30 s must go.
  const factory = TestWorkflowEnvironment as unknown as {
    create(opts: unknown): Promise<TestWorkflowEnvironment>;
  };
  let env: TestWorkflowEnvironment;
  try {
    env = await factory.create({
      server: { type: 'existing' },
      address: server.address,
      namespace: 'default',
      supportsTimeSkipping: timeSkipping,
      connectionOptions: timeSkipping
        ? {
            channelArgs: {
              'grpc.keepalive_permit_without_calls': 0,
              'grpc.keepalive_time_ms': 600_000,
            },
          }
        : {},
    });
  } catch (e) {
    await server.stop();
    throw e;
  }
  const teardown = env.teardown.bind(env);
  env.teardown = async () => {
    try {
      await teardown();
    } finally {
      await server.stop();
    }
  };
  return env;
}

/** The Java time-skipping test server, with the product's search attributes registered. */
export async function startTimeSkippingServer(): Promise<TestWorkflowEnvironment> {
  const path = await ensureTestServer();
  const port = await freePort();
  const server = await startServerProcess({
    label: `the Java time-skipping test server (${path})`,
    cmd: path,
    // Only the port, as the SDK's own launcher passes it: time is skipped through the test
    // service (the client's sleeps and result waits), not automatically.
    args: [String(port)],
    port,
  });
  const env = await environmentOn(server, true);
  // The test server starts without custom search attributes; register ours.
  await env.connection.operatorService.addSearchAttributes({
    namespace: 'default',
    searchAttributes: Object.fromEntries(
      ALL_SEARCH_ATTRIBUTES.map((k) => [k.name, INDEXED_TYPE[k.type] ?? 2]),
    ),
  });
  return env;
}

/** The proto's IndexedValueType numbers. */
const INDEXED_TYPE: Record<string, number> = {
  [SearchAttributeType.TEXT]: 1,
  [SearchAttributeType.KEYWORD]: 2,
  [SearchAttributeType.INT]: 3,
  [SearchAttributeType.DOUBLE]: 4,
  [SearchAttributeType.BOOL]: 5,
  [SearchAttributeType.DATETIME]: 6,
  [SearchAttributeType.KEYWORD_LIST]: 7,
};

/** The temporal CLI's dev server (in memory) with our search attributes; its Web UI on `uiPort`. */
export async function startDevServer(
  opts: { uiPort?: number; extraArgs?: string[] } = {},
): Promise<TestWorkflowEnvironment> {
  // A dev server that dies at start (a port taken between our check and its bind by another
  // test's server starting at the same moment: it panics with exit code 2) is started again on
  // other ports, twice at most; one that stays up but does not answer is not.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDevServerOnce(opts);
    } catch (e) {
      if (attempt >= 3 || !/\(it exited/.test(String((e as Error).message))) throw e;
    }
  }
}

async function startDevServerOnce(opts: {
  uiPort?: number;
  extraArgs?: string[];
}): Promise<TestWorkflowEnvironment> {
  const path = await ensureTemporalCli();
  const port = await freePort();
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--namespace',
    'default',
    '--log-level',
    'error',
    ...(opts.uiPort ? ['--ui-port', String(opts.uiPort)] : ['--headless']),
    ...(opts.extraArgs ?? []),
    ...ALL_SEARCH_ATTRIBUTES.flatMap((k) => [
      '--search-attribute',
      `${k.name}=${TypedSearchAttributes.toMetadataType(k.type)}`,
    ]),
  ];
  const uiPort = opts.uiPort;
  const server = await startServerProcess({
    label: `the Temporal dev server (${path})`,
    cmd: path,
    args,
    port,
    ...(uiPort
      ? {
          ready: async () => {
            try {
              const r = await fetch(`http://127.0.0.1:${uiPort}/`, {
                signal: AbortSignal.timeout(3000),
              });
              return r.status < 500;
            } catch {
              return false;
            }
          },
        }
      : {}),
  });
  return environmentOn(server, false);
}
