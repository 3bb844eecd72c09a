// Where a benchmark stage's CPU went, by process (Linux /proc): a snapshot of every process's
// user and system time before the stage and one after, grouped under a label made from each
// process's command line. It says what limits a latency figure on a machine of few cores (the
// Temporal services, PostgreSQL, the workers or the benchmark's own process).
import { readdirSync, readFileSync } from 'node:fs';

/** Linux reports process times in USER_HZ ticks, 100 per second on every common architecture. */
const TICKS_PER_S = 100;

export interface CpuSnapshot {
  at: number;
  ticks: Map<number, { label: string; ticks: number }>;
}

/** A label for a process: the Temporal service, a worker, PostgreSQL or the command's name. */
function processLabel(pid: number, names: Map<number, string> = new Map()): string | undefined {
  const named = names.get(pid);
  if (named) return named;
  let argv: string[];
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
  if (argv.length === 0) return undefined;
  const service = argv.indexOf('--service');
  if (service >= 0 && argv[service + 1]) return `temporal ${argv[service + 1]}`;
  // Some programs rewrite their title into one string ("postgres: user db …", chromium's flags).
  const exe = argv[0]!.split(' ')[0]!.split('/').pop()!;
  return exe.startsWith('postgres') ? 'postgres' : exe;
}

export function cpuSnapshot(names: Map<number, string> = new Map()): CpuSnapshot {
  const ticks = new Map<number, { label: string; ticks: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // The command may hold spaces and parentheses: the fields start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const used = Number(fields[11]) + Number(fields[12]); // utime, stime
      const label = processLabel(pid, names);
      if (label && Number.isFinite(used)) ticks.set(pid, { label, ticks: used });
    } catch {
      // gone between the listing and the read
    }
  }
  return { at: performance.now(), ticks };
}

export interface CpuShare {
  seconds: number;
  /** Per label: CPU seconds used during the interval, largest first. */
  byLabel: { label: string; cpuS: number }[];
}

/**
 * CPU used between two snapshots, by label. Processes that started in between count from 0;
 * those that ended in between are not counted (their time is gone with them from /proc).
 */
export function cpuShare(before: CpuSnapshot, after: CpuSnapshot): CpuShare {
  const sums = new Map<string, number>();
  for (const [pid, a] of after.ticks) {
    const b = before.ticks.get(pid);
    const used = a.ticks - (b && b.label === a.label ? b.ticks : 0);
    if (used > 0) sums.set(a.label, (sums.get(a.label) ?? 0) + used / TICKS_PER_S);
  }
  return {
    seconds: (after.at - before.at) / 1000,
    byLabel: [...sums].map(([label, cpuS]) => ({ label, cpuS })).sort((x, y) => y.cpuS - x.cpuS),
  };
}

/** "history 31%, worker 1 22%, …" in shares of the machine (all cores), the top `most`. */
export function describeCpuShare(s: CpuShare, cores: number, most = 6): string {
  const capacity = s.seconds * cores;
  if (!(capacity > 0)) return 'no interval measured';
  const shown = s.byLabel.slice(0, most).map((x) => `${x.label} ${((x.cpuS / capacity) * 100).toFixed(0)}%`); // prettier-ignore
  const rest = s.byLabel.slice(most).reduce((n, x) => n + x.cpuS, 0);
  if (rest > 0) shown.push(`other ${((rest / capacity) * 100).toFixed(0)}%`);
  const idle = Math.max(0, capacity - s.byLabel.reduce((n, x) => n + x.cpuS, 0));
  shown.push(`idle ${((idle / capacity) * 100).toFixed(0)}%`);
  return shown.join(', ');
}
