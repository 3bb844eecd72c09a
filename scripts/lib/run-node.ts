// Runs a Node.js program of the repository (the `campaign` command line above all) as a person
// would, capturing stdout, stderr and the exit code. Used by the demo's simulated departments
// and by the tests.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ensureCliBuild } from '../../bin/cli-build.mjs';
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

export function runNode(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 120_000,
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
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
