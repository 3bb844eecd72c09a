// Progress of long work, on stderr so that stdout stays the command's result:
// - on a terminal: one line redrawn in place — a spinner, a bar when the total is known, the
//   count and the elapsed time — cleared when the work ends;
// - not on a terminal (CI logs, pipes): at most a plain line every so often ("… 45 s"), no
//   escape sequences, nothing at all for work shorter than that;
// - with `--json`: nothing.
import { displayWidth, truncateToWidth } from './text-width.ts';

/** What the progress is written to: process.stderr, or a fake in tests. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(chunk: string): unknown;
}

export interface ProgressOptions {
  /** What is being done, e.g. "导入企业名单" or "go install …". */
  label: string;
  /** How much there is to do, when known: a bar; otherwise a spinner. */
  total?: number;
  /** The unit of the count, e.g. "行" or "rows". */
  unit?: string;
  /** Where to write; process.stderr by default. */
  stream?: ProgressStream;
  /** `--json` mode: write nothing. */
  json?: boolean;
  /** Not on a terminal: a plain line this often (ms); 0 for none. Default 15 s. */
  plainEveryMs?: number;
  /** On a terminal: redraw this often (ms) for the spinner and the clock; 0 for no timer. */
  redrawMs?: number;
  /** On a terminal: draw nothing before this much time (ms), so quick work does not flicker. */
  showAfterMs?: number;
  /** The clock, for tests. */
  now?: () => number;
}

export type ProgressMode = 'bar' | 'plain' | 'off';

export interface Progress {
  readonly mode: ProgressMode;
  /** Sets how much is done (and the total, when it changes). */
  update(done: number, total?: number): void;
  /** Adds to what is done. */
  tick(n?: number): void;
  /** Starts another stage of the same work: a new label, total and unit, the count back to 0. */
  stage(label: string, total?: number, unit?: string): void;
  /** A short note shown after the count, e.g. the tool's last line of output. */
  detail(text: string): void;
  /** Ends the progress: clears the line, then prints `message` as a line of its own. */
  done(message?: string): void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const BAR_WIDTH = 24;
const MIN_REDRAW_MS = 80;

const active = new Set<Progress>();

/** Clears every progress line still drawn, e.g. before printing an error. */
export function clearProgress(): void {
  for (const p of [...active]) p.done();
}

/** Elapsed time for people: "12 s", "3 min 05 s". */
export function formatElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

function modeOf(stream: ProgressStream, json: boolean | undefined): ProgressMode {
  if (json) return 'off';
  return stream.isTTY === true ? 'bar' : 'plain';
}

export function createProgress(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  const mode = modeOf(stream, opts.json);
  const now = opts.now ?? Date.now;
  const started = now();
  let label = opts.label;
  let total = opts.total;
  let unit = opts.unit;
  let done = 0;
  let note = '';
  let frame = 0;
  let lastDraw = -Infinity;
  let drawn = false;
  let finished = false;
  let timer: NodeJS.Timeout | undefined;

  const counts = () => {
    const u = unit ? ` ${unit}` : '';
    if (total !== undefined && total > 0) return `${done}/${total}${u}`;
    return done > 0 ? `${done}${u}` : '';
  };

  const line = (): string => {
    const cols = stream.columns !== undefined && stream.columns > 0 ? stream.columns : 80;
    const width = Math.max(20, cols - 1);
    const head = `${FRAMES[frame % FRAMES.length]} ${label}`;
    const tail = [counts(), formatElapsed(now() - started), note].filter(Boolean);
    let bar = '';
    if (total !== undefined && total > 0) {
      const ratio = Math.min(1, Math.max(0, done / total));
      const pct = `${String(Math.floor(ratio * 100)).padStart(3)}%`;
      // The bar gives way first on a narrow terminal, then the note and the label are cut.
      const room = width - displayWidth([head, ...tail.slice(0, 2)].join('  ')) - pct.length - 6;
      const size = Math.min(BAR_WIDTH, room);
      if (size >= 6) {
        const full = Math.round(ratio * size);
        bar = `[${'█'.repeat(full)}${'░'.repeat(size - full)}] ${pct}`;
      } else bar = pct;
    }
    const text = [head, bar, ...tail].filter(Boolean).join('  ');
    return displayWidth(text) > width ? truncateToWidth(text, width) : text;
  };

  const draw = (force = false) => {
    if (mode !== 'bar' || finished) return;
    const t = now();
    if (t - started < (opts.showAfterMs ?? 250)) return;
    if (!force && t - lastDraw < MIN_REDRAW_MS) return;
    lastDraw = t;
    frame++;
    stream.write(`\r${line()}\x1b[K`);
    drawn = true;
  };

  const plainLine = () => {
    const c = counts();
    const pct =
      total !== undefined && total > 0
        ? `${Math.floor((Math.min(done, total) / total) * 100)}%, `
        : '';
    stream.write(
      `  … ${label}: ${pct}${c ? `${c}, ` : ''}${formatElapsed(now() - started)}${note ? ` (${note})` : ''}\n`,
    );
  };

  if (mode === 'bar') {
    const every = opts.redrawMs ?? 100;
    if (every > 0) timer = setInterval(() => draw(true), every);
  } else if (mode === 'plain') {
    const every = opts.plainEveryMs ?? 15_000;
    if (every > 0) timer = setInterval(plainLine, every);
  }
  timer?.unref();

  const progress: Progress = {
    mode,
    update(d, t) {
      done = d;
      if (t !== undefined) total = t;
      draw(total !== undefined && done >= total);
    },
    tick(n = 1) {
      progress.update(done + n);
    },
    stage(l, t, u) {
      label = l;
      total = t;
      unit = u;
      done = 0;
      note = '';
      draw(true);
    },
    detail(text) {
      note = text.replace(/\s+/g, ' ').trim();
      draw();
    },
    done(message) {
      if (finished) return;
      finished = true;
      active.delete(progress);
      if (timer) clearInterval(timer);
      if (mode === 'off') return;
      if (mode === 'bar' && drawn) stream.write('\r\x1b[K');
      if (message) stream.write(`${message}\n`);
    },
  };
  if (mode !== 'off') active.add(progress);
  draw(true);
  return progress;
}

/**
 * Runs `work` with a progress line, cleared when the work ends (also when it fails, so that the
 * error is printed on a clean line). `message` is printed after success, if given.
 */
export async function withProgress<T>(
  opts: ProgressOptions,
  work: (p: Progress) => Promise<T>,
  message?: (result: T) => string | undefined,
): Promise<T> {
  const p = createProgress(opts);
  try {
    const result = await work(p);
    p.done(message?.(result));
    return result;
  } catch (e) {
    p.done();
    throw e;
  }
}
