// One `worker/main.ts` process as production runs it (`node --import tsx worker/main.ts`), in a
// process group of its own so that cleanup gets it all, with its output kept for the test;
// guarded (scripts/lib/guard.ts), so that it ends with the process that started it.
import type { ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { spawnGuarded } from '../../scripts/lib/guard.ts';
import { REPO_ROOT } from '../../scripts/lib/tools.ts';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

export class WorkerProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  log = '';
  exit: Exit | undefined;

  constructor(
    readonly name: string,
    env: NodeJS.ProcessEnv,
    /** Node's own options before the entry, e.g. `--max-old-space-size=384`. */
    nodeArgs: string[] = [],
  ) {
    this.child = spawnGuarded(
      process.execPath,
      [...nodeArgs, '--import', 'tsx', 'worker/main.ts'],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, NO_COLOR: '1', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const append = (d: Buffer) => (this.log += d.toString());
    this.child.stdout!.on('data', append);
    this.child.stderr!.on('data', append);
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exit = { code, signal, at: Date.now() };
        resolve(this.exit);
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The identity worker/main.ts gives its Temporal worker. */
  get identity(): string {
    return `campaign-worker@${hostname()}:${this.pid}`;
  }

  async waitForLog(pattern: RegExp, timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.log)) {
      if (this.exit)
        throw new Error(`${this.name} exited (${JSON.stringify(this.exit)}):\n${this.log}`);
      if (Date.now() > deadline)
        throw new Error(`${this.name} never logged ${pattern}:\n${this.log}`);
      await sleep(100);
    }
  }

  /** SIGTERM, then SIGKILL to the whole group if it is still there after `graceMs`. */
  async stop(graceMs = 20_000): Promise<void> {
    if (this.exit) return;
    signalGroup(this.pid, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(this.pid, 'SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
    signalGroup(this.pid, 'SIGKILL'); // anything the worker may have left in its group
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
