// The progress line: redrawn in place on a terminal, plain periodic lines (or nothing) when
// not on a terminal, nothing at all with --json.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  clearProgress,
  createProgress,
  formatElapsed,
  withProgress,
  type ProgressStream,
} from '../../client/progress.ts';
import { displayWidth } from '../../client/text-width.ts';

function fakeStream(isTTY: boolean, columns = 60): ProgressStream & { chunks: string[] } {
  const chunks: string[] = [];
  return {
    isTTY,
    columns,
    chunks,
    write(s: string) {
      chunks.push(s);
      return true;
    },
  };
}

/** A clock the test moves by hand. */
function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

// eslint-disable-next-line no-control-regex
const ESC = /\x1b/;

afterEach(() => {
  vi.useRealTimers();
});

describe('progress on a terminal', () => {
  it('redraws one line in place with a bar, the count and the elapsed time, then clears it', () => {
    const out = fakeStream(true);
    const c = clock();
    const p = createProgress({
      label: '导入企业名单',
      total: 1000,
      unit: '行',
      stream: out,
      now: c.now,
      redrawMs: 0,
      showAfterMs: 0,
    });
    expect(p.mode).toBe('bar');
    for (let done = 100; done <= 1000; done += 100) {
      c.advance(1000);
      p.update(done);
    }
    // Every draw goes back to the start of the line and erases the rest; no new line.
    expect(out.chunks.length).toBeGreaterThanOrEqual(10);
    for (const chunk of out.chunks) {
      expect(chunk.startsWith('\r')).toBe(true);
      expect(chunk.endsWith('\x1b[K')).toBe(true);
      expect(chunk).not.toContain('\n');
      // Never wider than the terminal, or the next \r would not return to its start.
      expect(displayWidth(chunk.slice(1, -3))).toBeLessThan(60);
    }
    const last = out.chunks.at(-1)!;
    expect(last).toContain('导入企业名单');
    expect(last).toContain('100%');
    expect(last).toContain('1000/1000 行');
    expect(last).toContain('10 s');
    expect(out.chunks[0]).toContain('  0%  0/1000 行  0 s');
    expect(out.chunks[1]).toContain(' 10%');

    out.chunks.length = 0;
    p.done('✓ 已导入 1000 家企业');
    expect(out.chunks).toEqual(['\r\x1b[K', '✓ 已导入 1000 家企业\n']);
    // Done once: later calls write nothing.
    p.done('again');
    p.update(5);
    expect(out.chunks).toHaveLength(2);
  });

  it('draws a spinner without a total, throttles redraws, and shortens a long line to the width', () => {
    const out = fakeStream(true, 40);
    const c = clock();
    const p = createProgress({
      label: 'go install github.com/temporalio/cli/cmd/temporal',
      stream: out,
      now: c.now,
      redrawMs: 0,
      showAfterMs: 0,
    });
    const first = out.chunks.length;
    p.detail('go: downloading golang.org/x/net v0.40.0');
    p.detail('go: downloading google.golang.org/grpc v1.72.0');
    // Within the minimum redraw interval: not drawn again.
    expect(out.chunks.length).toBe(first);
    c.advance(200);
    p.detail('go: downloading google.golang.org/grpc v1.72.0');
    expect(out.chunks.length).toBe(first + 1);
    for (const chunk of out.chunks) {
      expect(chunk).not.toContain('%');
      expect(displayWidth(chunk.slice(1, -3))).toBeLessThanOrEqual(39);
      expect(chunk.endsWith('…\x1b[K')).toBe(true);
    }
  });

  it('draws nothing for work shorter than the delay, so quick commands do not flicker', () => {
    const out = fakeStream(true);
    const c = clock();
    const p = createProgress({ label: 'x', total: 3, stream: out, now: c.now, redrawMs: 0 });
    p.update(1);
    c.advance(100);
    p.update(3);
    p.done();
    expect(out.chunks).toEqual([]);
  });

  it('animates the spinner and the clock on its own timer', () => {
    vi.useFakeTimers();
    const out = fakeStream(true);
    const p = createProgress({ label: 'mvn', stream: out, showAfterMs: 0 });
    const before = out.chunks.length;
    vi.advanceTimersByTime(1000);
    expect(out.chunks.length).toBeGreaterThanOrEqual(before + 9);
    p.done();
    const after = out.chunks.length;
    vi.advanceTimersByTime(1000);
    expect(out.chunks.length).toBe(after);
  });

  it('clearProgress() clears a line still drawn, e.g. before an error is printed', () => {
    const out = fakeStream(true);
    createProgress({ label: 'x', stream: out, redrawMs: 0, showAfterMs: 0 });
    clearProgress();
    expect(out.chunks.at(-1)).toBe('\r\x1b[K');
  });
});

describe('progress not on a terminal', () => {
  it('writes nothing but plain lines, one every interval, without escape sequences or \\r', async () => {
    vi.useFakeTimers();
    const out = fakeStream(false);
    const p = createProgress({ label: 'still building', total: 10, stream: out });
    expect(p.mode).toBe('plain');
    p.update(3);
    expect(out.chunks).toEqual([]);
    vi.advanceTimersByTime(15_000);
    p.update(7);
    vi.advanceTimersByTime(15_000);
    p.done('✓ built in 30 s');
    vi.advanceTimersByTime(60_000);
    expect(out.chunks).toEqual([
      '  … still building: 30%, 3/10, 15 s\n',
      '  … still building: 70%, 7/10, 30 s\n',
      '✓ built in 30 s\n',
    ]);
    for (const chunk of out.chunks) {
      expect(chunk).not.toMatch(ESC);
      expect(chunk).not.toContain('\r');
    }
    await Promise.resolve();
  });

  it('writes nothing at all for quick work when no periodic line is wanted', async () => {
    const out = fakeStream(false);
    await withProgress({ label: '写入', total: 5, stream: out, plainEveryMs: 0 }, async (p) => {
      for (let i = 0; i < 5; i++) p.tick();
    });
    expect(out.chunks).toEqual([]);
  });
});

describe('progress with --json', () => {
  it('writes nothing, even on a terminal, even with a message', async () => {
    vi.useFakeTimers();
    const out = fakeStream(true);
    const result = await withProgress(
      { label: 'x', total: 2, stream: out, json: true, showAfterMs: 0 },
      async (p) => {
        expect(p.mode).toBe('off');
        p.update(1);
        vi.advanceTimersByTime(60_000);
        p.stage('y', 4);
        p.update(4);
        return 42;
      },
      (n) => `done ${n}`,
    );
    expect(result).toBe(42);
    expect(out.chunks).toEqual([]);
  });
});

describe('withProgress', () => {
  it('clears the line when the work fails and passes the error on', async () => {
    const out = fakeStream(true);
    await expect(
      withProgress({ label: 'x', stream: out, redrawMs: 0, showAfterMs: 0 }, () =>
        Promise.reject(new Error('boom')),
      ),
    ).rejects.toThrow('boom');
    expect(out.chunks.at(-1)).toBe('\r\x1b[K');
  });
});

describe('formatElapsed', () => {
  it('counts seconds, then minutes and seconds', () => {
    expect(formatElapsed(999)).toBe('0 s');
    expect(formatElapsed(45_200)).toBe('45 s');
    expect(formatElapsed(185_000)).toBe('3 min 05 s');
  });
});
