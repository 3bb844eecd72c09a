// `npm test`: the whole test suite, as CI runs it. Finds (or installs) the Debian packages some
// tests need and stops at once naming any it cannot install, builds or finds the servers, then
// checks formatting, lint and types, then runs every vitest test, and ends with the plain line
// `N passed, N failed` (static checks counted with the tests).
//
// A stopped run stops everything it started: each step runs guarded (scripts/lib/guard.ts), so
// that it ends with its whole process group if this runner dies (SIGKILL, a crash), and the
// servers the tests start are guarded by the test processes in turn. SIGTERM, SIGINT and SIGHUP
// are passed on to the running step's group, which is then given a few seconds to end.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { killGroup, spawnGuarded } from './lib/guard.ts';
import { ensureSystemNeeds, TEST_SYSTEM_NEEDS } from './lib/system-packages.ts';
import {
  ensureClusterServers,
  ensureTemporalCli,
  ensureTestServer,
  REPO_ROOT,
} from './lib/tools.ts';

const bin = (name: string) => join(REPO_ROOT, 'node_modules', '.bin', name);
let passed = 0;
let failed = 0;

let running: ChildProcess | undefined;

async function step(label: string, cmd: string, args: string[]): Promise<boolean> {
  const started = Date.now();
  console.log(`\n▶ ${label}`);
  const child = spawnGuarded(cmd, args, {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: process.env,
  });
  running = child;
  const code = await new Promise<number | null>((resolve) => {
    child.once('error', (e) => {
      console.error(`cannot run ${cmd}: ${e.message}`);
      resolve(null);
    });
    child.once('exit', (c) => resolve(c));
  });
  running = undefined;
  const ok = code === 0;
  console.log(`${ok ? '✓' : '✗'} ${label} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
  return ok;
}

let stopping = false;
function stopRun(signal: 'SIGTERM' | 'SIGINT' | 'SIGHUP', why: string): void {
  {
    // A terminal's Ctrl-C reaches this runner twice (directly and relayed by tsx): once is enough.
    if (stopping) return;
    stopping = true;
    console.error(`\nnpm test: ${why}; stopping the running step and what it started`);
    const child = running;
    const exit = () => {
      console.log(`\n${passed} passed, ${failed + 1} failed`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    };
    if (!child || child.exitCode !== null || child.signalCode !== null) exit();
    else {
      killGroup(child.pid, signal);
      const timer = setTimeout(() => killGroup(child?.pid, 'SIGKILL'), 15_000);
      child.once('exit', () => {
        clearTimeout(timer);
        exit();
      });
    }
  }
}
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const)
  process.on(signal, () => stopRun(signal, signal));

// `npm test` stopped with SIGTERM ends npm alone: it passes no signal on, and tsx and this runner
// would carry on. So the run also stops when a process that started it (tsx, the shell, npm) is
// gone: its ancestors as they were at start, told apart by start time (Linux /proc).
function procStat(pid: number): { ppid: number; start: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (rest[0] === 'Z' || rest[0] === 'X') return undefined;
    return { ppid: Number(rest[1]), start: rest[19] ?? '' };
  } catch {
    return undefined;
  }
}
const ancestors: { pid: number; start: string }[] = [];
for (let pid = process.ppid; pid > 1 && ancestors.length < 3;) {
  const s = procStat(pid);
  if (!s) break;
  ancestors.push({ pid, start: s.start });
  pid = s.ppid;
}
setInterval(() => {
  const lost = ancestors.find((a) => procStat(a.pid)?.start !== a.start);
  if (lost) stopRun('SIGTERM', `the process that started this run (pid ${lost.pid}) is gone`);
}, 1000).unref();

console.log('▶ system packages (chromium, CJK fonts, docker-compose)');
const lacking = ensureSystemNeeds(TEST_SYSTEM_NEEDS);
if (lacking) {
  console.error(`\n${lacking}`);
  console.log('\n0 passed, 1 failed');
  process.exit(1);
}

console.log('▶ servers (built once, then reused from the cache)');
process.env.TEMPORAL_CLI_PATH ||= await ensureTemporalCli();
process.env.TEMPORAL_TEST_SERVER_PATH ||= await ensureTestServer();
await ensureClusterServers();

for (const [label, cmd, args] of [
  ['format (prettier --check)', bin('prettier'), ['--check', '.']],
  ['lint (eslint)', bin('eslint'), ['.', '--max-warnings=0']],
  ['types (tsc --noEmit)', bin('tsc'), ['--noEmit']],
] as const) {
  if (await step(label, cmd, [...args])) passed++;
  else failed++;
}

const reportDir = join(REPO_ROOT, '.artifacts');
mkdirSync(reportDir, { recursive: true });
const report = join(reportDir, 'vitest.json');
const extra = process.argv.slice(2);
await step('tests (vitest)', bin('vitest'), [
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${report}`,
  ...extra,
]);
let ran = 0;
try {
  const json = JSON.parse(readFileSync(report, 'utf8')) as {
    numPassedTests: number;
    numFailedTests: number;
    numTotalTests: number;
    testResults: { status: string; message?: string; name: string }[];
  };
  passed += json.numPassedTests;
  failed += json.numFailedTests;
  ran = json.numTotalTests;
  // A file that failed to load has no tests but is a failure all the same.
  for (const f of json.testResults) {
    if (f.status === 'failed' && !json.numFailedTests) failed++;
  }
} catch {
  console.error('the vitest report is missing or unreadable: counting the test run as failed');
  failed++;
}
if (ran === 0) {
  console.error('no test ran: counting that as a failure');
  failed++;
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
