// Finds or builds the servers the project runs on, offline, from package registries only:
// - the `temporal` CLI (dev server + Web UI), built from the Go module proxy;
// - the Java time-skipping test server, resolved from Maven Central, behind a shell wrapper.
// Both are cached by version under the user's cache directory, so a fresh clone reuses them.
import { spawnSync } from 'node:child_process';
import {
  accessSync,
  cpSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createProgress, formatElapsed } from '../../client/progress.ts';
import { spawnGuarded } from './guard.ts';

export const TEMPORAL_CLI_VERSION = '1.5.1';
export const TEST_SERVER_VERSION = '1.33.0';
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function cacheRoot(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'county-campaign');
}

export class ToolError extends Error {}

type Log = (line: string) => void;
const stderrLog: Log = (line) => process.stderr.write(`${line}\n`);

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, cmd);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

/**
 * Runs a long build step with its progress on stderr — on a terminal one line redrawn in place
 * (spinner, elapsed time, the tool's last line of output), otherwise a plain line every 15 s so
 * that CI logs stay readable — and fails with the tail of its output.
 */
export function runWithProgress(
  label: string,
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; log: Log },
): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const started = Date.now();
    // Guarded: a build (go and its compilers) ends with the command that started it.
    const child = spawnGuarded(cmd, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const progress = createProgress({ label, plainEveryMs: 15_000, showAfterMs: 0 });
    const tail: string[] = [];
    let lines = 0;
    const onData = (buf: Buffer) => {
      for (const line of buf.toString().split('\n')) {
        if (!line.trim()) continue;
        lines++;
        tail.push(line);
        if (tail.length > 30) tail.shift();
      }
      const last = tail.at(-1)?.trim() ?? '';
      progress.detail(
        `${lines} line${lines === 1 ? '' : 's'} of output${last ? `, last: ${last.length > 80 ? `${last.slice(0, 79)}…` : last}` : ''}`,
      );
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('error', (err) => {
      progress.done();
      reject(new ToolError(`${label}: cannot run ${cmd}: ${err.message}`));
    });
    child.on('close', (code) => {
      progress.done();
      if (code === 0) {
        opts.log(`  ✓ ${label} in ${formatElapsed(Date.now() - started)}`);
        resolvePromise();
      } else {
        reject(new ToolError(`${label} failed (exit ${code}). Last output:\n${tail.join('\n')}`));
      }
    });
  });
}

/**
 * The `temporal` CLI: $TEMPORAL_CLI_PATH, else one on PATH, else the cached build, else build
 * it now with `go install` from the Go module proxy.
 */
export async function ensureTemporalCli(log: Log = stderrLog): Promise<string> {
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) {
      throw new ToolError(`TEMPORAL_CLI_PATH=${fromEnv} is not an executable file`);
    }
    return fromEnv;
  }
  const onPath = which('temporal');
  if (onPath) return onPath;
  const dir = join(cacheRoot(), `temporal-cli-${TEMPORAL_CLI_VERSION}`);
  const bin = join(dir, 'temporal');
  if (isExecutable(bin)) return bin;

  const go = which('go');
  if (!go) {
    throw new ToolError(
      'the Temporal CLI is not installed and Go is not on PATH to build it. Install Go ' +
        '(e.g. `apt-get install golang`), put a `temporal` binary on PATH, or set TEMPORAL_CLI_PATH.',
    );
  }
  log(
    `Building the Temporal CLI v${TEMPORAL_CLI_VERSION} with Go (first time only, a few minutes) into ${dir}`,
  );
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  await runWithProgress(
    'go install github.com/temporalio/cli/cmd/temporal',
    go,
    ['install', `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`],
    { env: { ...process.env, GOBIN: staging, GOFLAGS: '-mod=mod' }, log },
  );
  publish(staging, dir);
  if (!isExecutable(bin)) throw new ToolError(`the build finished but ${bin} is missing`);
  return bin;
}

/** Moves a finished staging folder into place; a concurrent builder that won is fine. */
function publish(staging: string, dir: string): void {
  try {
    renameSync(staging, dir);
  } catch {
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(dir)) throw new ToolError(`could not move ${staging} to ${dir}`);
  }
}

function javaCommand(): string {
  const home = process.env.JAVA_HOME;
  if (home && isExecutable(join(home, 'bin', 'java'))) return join(home, 'bin', 'java');
  const java = which('java');
  if (!java) {
    throw new ToolError(
      'Java is not on PATH: the time-skipping test server needs a Java 11+ runtime ' +
        '(e.g. `apt-get install openjdk-17-jre-headless`), or set JAVA_HOME.',
    );
  }
  return java;
}

/**
 * The Java time-skipping test server behind an executable wrapper that `@temporalio/testing`
 * accepts as `existing-path`: $TEMPORAL_TEST_SERVER_PATH, else the cached one, else resolve
 * the jars from Maven Central now.
 */
export async function ensureTestServer(log: Log = stderrLog): Promise<string> {
  const fromEnv = process.env.TEMPORAL_TEST_SERVER_PATH;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) {
      throw new ToolError(`TEMPORAL_TEST_SERVER_PATH=${fromEnv} is not an executable file`);
    }
    return fromEnv;
  }
  const dir = join(cacheRoot(), `temporal-test-server-${TEST_SERVER_VERSION}`);
  const wrapper = join(dir, 'temporal-test-server');
  if (isExecutable(wrapper) && existsSync(join(dir, 'lib'))) return wrapper;

  const java = javaCommand();
  const mvn = which('mvn');
  if (!mvn) {
    throw new ToolError(
      'Maven is not on PATH: it is needed once to fetch the Temporal test server from Maven ' +
        'Central (e.g. `apt-get install maven`), or set TEMPORAL_TEST_SERVER_PATH.',
    );
  }
  log(
    `Fetching the Temporal Java test server ${TEST_SERVER_VERSION} from Maven Central into ${dir}`,
  );
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(join(staging, 'lib'), { recursive: true });
  await runWithProgress(
    'mvn dependency:copy-dependencies (io.temporal:temporal-test-server)',
    mvn,
    [
      '-B',
      '-q',
      '-f',
      join(REPO_ROOT, 'scripts', 'test-server', 'pom.xml'),
      `-Dtemporal.version=${TEST_SERVER_VERSION}`,
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${join(staging, 'lib')}`,
    ],
    { log },
  );
  const jars = readdirSync(join(staging, 'lib')).filter((f) => f.endsWith('.jar'));
  if (!jars.some((j) => j.startsWith('temporal-test-server-'))) {
    throw new ToolError(`Maven finished but no temporal-test-server jar is in ${staging}/lib`);
  }
  // `exec` so the JVM replaces the shell: the SDK kills only its direct child.
  writeFileSync(
    join(staging, 'temporal-test-server'),
    [
      '#!/bin/sh',
      '# Temporal time-skipping test server; arguments: <port> [--enable-time-skipping]',
      `exec "${java}" \${TEMPORAL_TEST_SERVER_JAVA_OPTS:--Xmx512m -XX:+UseSerialGC} -cp "${dir}/lib/*" io.temporal.testserver.TestServer "$@"`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  publish(staging, dir);
  return wrapper;
}

/** A quick check that a server binary starts at all, for `bootstrap` to report. */
export function temporalCliVersion(bin: string): string {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return (r.stdout || r.stderr || '').trim().split('\n')[0] ?? '';
}

export const TEMPORAL_SERVER_VERSION = '1.29.1';
export const TEMPORAL_UI_SERVER_VERSION = '2.42.1';

export interface ClusterServers {
  /** The Temporal server (`server --service NAME start`). */
  server: string;
  /** The schema tool (temporal-sql-tool). */
  sql: string;
  /** The standalone Web UI server. */
  ui: string;
  /** PostgreSQL schema shipped in the server's module: `<dir>/{temporal,visibility}/versioned`. */
  schemaDir: string;
}

/**
 * The production Temporal server, its schema tool and the standalone Web UI, built once from
 * the Go module proxy and cached by version (the server and the schema tool in
 * `temporal-server-<v>/` with a copy of the module's PostgreSQL schema, the UI server in
 * `temporal-ui-server-<v>/`: both binaries are named `server`). The first build takes minutes.
 */
export async function ensureClusterServers(log: Log = stderrLog): Promise<ClusterServers> {
  const serverDir = join(cacheRoot(), `temporal-server-${TEMPORAL_SERVER_VERSION}`);
  const uiDir = join(cacheRoot(), `temporal-ui-server-${TEMPORAL_UI_SERVER_VERSION}`);
  const out: ClusterServers = {
    server: join(serverDir, 'server'),
    sql: join(serverDir, 'sql'),
    ui: join(uiDir, 'server'),
    schemaDir: join(serverDir, 'schema', 'postgresql', 'v12'),
  };
  const serverReady = () =>
    isExecutable(out.server) &&
    isExecutable(out.sql) &&
    existsSync(join(out.schemaDir, 'temporal', 'versioned')) &&
    existsSync(join(out.schemaDir, 'visibility', 'versioned'));
  if (serverReady() && isExecutable(out.ui)) return out;
  const go = which('go');
  if (!go) {
    throw new ToolError(
      'the Temporal server (cluster mode) is not built and Go is not on PATH to build it. ' +
        'Install Go (e.g. `apt-get install golang`) or use the dev server (without --cluster).',
    );
  }
  const env = { ...process.env, GOFLAGS: '-mod=mod' };
  if (!serverReady()) {
    log(
      `Building the Temporal server v${TEMPORAL_SERVER_VERSION} and its schema tool with Go (first time only, about 6 minutes) into ${serverDir}`,
    );
    const staging = `${serverDir}.partial-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    for (const pkg of ['go.temporal.io/server/cmd/server', 'go.temporal.io/server/cmd/tools/sql']) {
      await runWithProgress(
        `go install ${pkg}`,
        go,
        ['install', `${pkg}@v${TEMPORAL_SERVER_VERSION}`],
        { env: { ...env, GOBIN: staging }, log },
      );
    }
    const dl = spawnSync(
      go,
      ['mod', 'download', '-json', `go.temporal.io/server@v${TEMPORAL_SERVER_VERSION}`],
      { encoding: 'utf8', env, cwd: staging },
    );
    const moduleDir = (JSON.parse(dl.stdout || '{}') as { Dir?: string }).Dir;
    const schema = moduleDir && join(moduleDir, 'schema', 'postgresql', 'v12');
    if (!schema || !existsSync(schema)) {
      throw new ToolError(
        `could not find the PostgreSQL schema of go.temporal.io/server@v${TEMPORAL_SERVER_VERSION} (go mod download: ${(dl.stderr || '').trim()})`,
      );
    }
    mkdirSync(join(staging, 'schema', 'postgresql'), { recursive: true });
    cpSync(schema, join(staging, 'schema', 'postgresql', 'v12'), { recursive: true });
    rmSync(serverDir, { recursive: true, force: true });
    publish(staging, serverDir);
  }
  await ensureUiServer(log);
  if (!serverReady() || !isExecutable(out.ui)) {
    throw new ToolError(`the build finished but a binary is missing in ${serverDir} or ${uiDir}`);
  }
  return out;
}

/**
 * The standalone Web UI server alone (`temporal-ui-server-<v>/server`), built once with Go and
 * cached like the cluster's servers; seconds to build once the Go modules are cached.
 */
export async function ensureUiServer(log: Log = stderrLog): Promise<string> {
  const uiDir = join(cacheRoot(), `temporal-ui-server-${TEMPORAL_UI_SERVER_VERSION}`);
  const ui = join(uiDir, 'server');
  if (isExecutable(ui)) return ui;
  const go = which('go');
  if (!go) {
    throw new ToolError(
      'the Temporal UI server is not built and Go is not on PATH to build it. ' +
        'Install Go (e.g. `apt-get install golang`).',
    );
  }
  log(`Building the Temporal UI server v${TEMPORAL_UI_SERVER_VERSION} with Go into ${uiDir}`);
  const staging = `${uiDir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  await runWithProgress(
    'go install github.com/temporalio/ui-server/v2/cmd/server',
    go,
    ['install', `github.com/temporalio/ui-server/v2/cmd/server@v${TEMPORAL_UI_SERVER_VERSION}`],
    { env: { ...process.env, GOFLAGS: '-mod=mod', GOBIN: staging }, log },
  );
  rmSync(uiDir, { recursive: true, force: true });
  publish(staging, uiDir);
  if (!isExecutable(ui)) throw new ToolError(`the build finished but ${ui} is missing`);
  return ui;
}
