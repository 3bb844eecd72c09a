// A stopped run stops its servers: a program that started a Temporal dev server, the Java
// time-skipping test server, a test PostgreSQL and the local services through the project's
// helpers is killed midway (SIGTERM, then SIGKILL), and every process it had started, the
// servers' own children included (the JVM, PostgreSQL's backends, the services' processes), is
// gone shortly after. Processes are told apart from any others by pid and start time (Linux).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/lib/tools.ts';

interface Proc {
  pid: number;
  ppid: number;
  state: string;
  start: string;
  args: string;
}

function readProc(pid: number): Proc | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces and parentheses): state, ppid, …,
    // the start time is the 20th.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    return { pid, ppid: Number(rest[1]), state: rest[0]!, start: rest[19]!, args };
  } catch {
    return undefined; // gone
  }
}

function allProcs(): Proc[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map((n) => readProc(Number(n)))
    .filter((p): p is Proc => p !== undefined);
}

/** The roots and everything below them, as they are now. */
function tree(roots: number[]): Proc[] {
  const procs = allProcs();
  const found = new Map<number, Proc>();
  const queue = [...roots];
  while (queue.length) {
    const pid = queue.shift()!;
    if (found.has(pid)) continue;
    const p = procs.find((x) => x.pid === pid);
    if (!p) continue;
    found.set(pid, p);
    for (const c of procs) if (c.ppid === pid) queue.push(c.pid);
  }
  return [...found.values()];
}

/** Still running: the same process (same start time) and not a zombie. */
function running(p: Proc): boolean {
  const now = readProc(p.pid);
  return !!now && now.start === p.start && now.state !== 'Z' && now.state !== 'X';
}

let fixture: ChildProcess | undefined;
let seen: Proc[] = [];
let dataDir: string | undefined;

afterEach(() => {
  // Whatever a failed case left: only the processes this test saw, by pid and start time.
  for (const p of seen.filter(running)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  if (fixture?.exitCode === null && fixture.signalCode === null) fixture.kill('SIGKILL');
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  fixture = undefined;
  seen = [];
  dataDir = undefined;
});

/** Starts the fixture and resolves with the services' state folder once it printed READY. */
function startFixture(): Promise<string> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO_ROOT, 'test', 'fixtures', 'start-servers-and-wait.ts')],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  fixture = child;
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /^READY (.*)$/m.exec(out);
      if (m) resolve((JSON.parse(m[1]!) as { servicesDir: string }).servicesDir);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code, signal) =>
      reject(new Error(`the fixture exited (${signal ?? code}) before READY:\n${out}`)),
    );
  });
}

async function gone(procs: Proc[], boundMs: number): Promise<Proc[]> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const left = procs.filter(running);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('a run stopped midway', () => {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`leaves no server running when it is killed with ${signal}`, async () => {
      const servicesDir = await startFixture();
      dataDir = dirname(servicesDir);
      const servicePids = existsSync(servicesDir)
        ? readdirSync(servicesDir)
            .filter((f) => f.endsWith('.pid'))
            .map((f) => Number(readFileSync(join(servicesDir, f), 'utf8').trim()))
        : [];
      seen = tree([fixture!.pid!, ...servicePids]);
      // (The watchdog shells name their program in their own arguments: only programs count.)
      const args = seen.map((p) => p.args).filter((a) => !a.startsWith('/bin/sh -c'));
      // The servers really ran: two dev servers (the helper's and the services'), the JVM, two
      // PostgreSQL servers (the test database's and the services') with their backends.
      expect(args.filter((a) => /^\S*temporal\S* server start-dev /.test(a)).length).toBe(2);
      expect(
        args.filter((a) => /^\S*java .*io\.temporal\.testserver\.TestServer/.test(a)).length,
      ).toBe(1);
      expect(args.filter((a) => /^\S*\/postgres -D /.test(a)).length).toBe(2);
      expect(args.filter((a) => /scripts\/pg-daemon\.ts/.test(a)).length).toBeGreaterThan(0);

      process.kill(fixture!.pid!, signal);
      const left = await gone(seen, 90_000);
      expect(
        left.map((p) => `${p.pid} ${p.args}`),
        'processes still running after the run was killed',
      ).toEqual([]);
    }, 400_000);
  }
});
