// Runs a Node.js program of the repository (the `campaign` command line above all) as a person
// would, capturing stdout, stderr and the exit code. Used by the demo's simulated departments
// and by the tests.
import { join } from 'node:path';
import { ensureCliBuild } from '../../bin/cli-build.mjs';
import { killGroup, spawnGuarded } from './guard.ts';
import { REPO_ROOT } from './tools.ts';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  json<T = unknown>(): T;
}

let built: Promise<string> | undefined;

/**
 * Makes sure the compiled CLI (dist/cli) is current, once per process: every run below then
 * starts from it, instead of each one finding the build stale and compiling it again.
 */
export function ensureCompiledCli(): Promise<string> {
  built ??= ensureCliBuild();
  return built;
}

/** `bin/campaign.mjs` with these arguments; colours off unless the environment says otherwise. */
export async function runCampaignCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  await ensureCompiledCli();
  return runNode([join(REPO_ROOT, 'bin', 'campaign.mjs'), ...args], env);
}

/**
 * A Node.js program, guarded (scripts/lib/guard.ts): it and what it starts end when this process
 * does. It is handed this process's lifeline to pass on, so that servers it starts to outlive
 * itself (`services.ts start`) still end with this process. A program given as the tsx command
 * line's (node_modules/tsx/dist/cli.mjs FILE) runs as `node --import tsx FILE`: the same loader
 * in one process, where the tsx command line would start a second Node.js process, and Node.js
 * hands no descriptor but stdio on to the programs it starts.
 */
export function runNode(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 120_000,
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const tsxCli = /[\\/]node_modules[\\/]tsx[\\/]dist[\\/]cli\.mjs$/.test(args[0] ?? '');
    const child = spawnGuarded(
      process.execPath,
      tsxCli ? ['--import', 'tsx', ...args.slice(1)] : args,
      {
        cwd: REPO_ROOT,
        env: { ...process.env, NO_COLOR: '1', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
        passLifeline: true,
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), timeoutMs);
    child.on('error', reject);
    // Its exit and the end of its output, not 'close': the lifeline it was handed stays open
    // while servers it started to outlive it run.
    const ended = (s: NodeJS.ReadableStream) => new Promise((r) => s.once('close', r));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    void Promise.all([exited, ended(child.stdout!), ended(child.stderr!)]).then(([code]) => {
      clearTimeout(timer);
      resolve({
        code,
        stdout,
        stderr,
        json<T>() {
          return JSON.parse(stdout) as T;
        },
      });
    });
  });
}
