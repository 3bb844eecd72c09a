// A small PNG writer (RGB, no interlace) with node:zlib, and a line plot drawn into it: enough
// for the benchmark's latency-against-load figure without a plotting library.
import { deflateSync } from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

export class Canvas {
  readonly px: Buffer;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.px = Buffer.alloc(width * height * 3, 255);
  }
  set(x: number, y: number, [r, g, b]: [number, number, number]): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = (y * this.width + x) * 3;
    this.px[i] = r;
    this.px[i + 1] = g;
    this.px[i + 2] = b;
  }
  line(x0: number, y0: number, x1: number, y1: number, c: [number, number, number], w = 1) {
    const n = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
    for (let i = 0; i <= n; i++) {
      const x = x0 + ((x1 - x0) * i) / n;
      const y = y0 + ((y1 - y0) * i) / n;
      for (let dx = -(w >> 1); dx <= w >> 1; dx++)
        for (let dy = -(w >> 1); dy <= w >> 1; dy++) this.set(x + dx, y + dy, c);
    }
  }
  dot(x: number, y: number, c: [number, number, number], r = 3) {
    for (let dx = -r; dx <= r; dx++)
      for (let dy = -r; dy <= r; dy++) if (dx * dx + dy * dy <= r * r) this.set(x + dx, y + dy, c);
  }
  png(): Buffer {
    const raw = Buffer.alloc((this.width * 3 + 1) * this.height);
    for (let y = 0; y < this.height; y++) {
      raw[y * (this.width * 3 + 1)] = 0;
      this.px.copy(raw, y * (this.width * 3 + 1) + 1, y * this.width * 3, (y + 1) * this.width * 3);
    }
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(this.width, 0);
    ihdr.writeUInt32BE(this.height, 4);
    ihdr[8] = 8; // bit depth
    ihdr[9] = 2; // RGB
    return Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      chunk('IDAT', deflateSync(raw)),
      chunk('IEND', Buffer.alloc(0)),
    ]);
  }
}

export interface Series {
  colour: [number, number, number];
  /** Points (x, y); drawn joined, dashed when `dashed`. */
  points: [number, number][];
  dashed?: boolean;
}

/**
 * A line plot on linear axes from 0, with grid lines at `xTicks` and every `yStep`: the
 * colours and what they mean are given in the text that shows the image.
 */
export function linePlot(series: Series[], opts: { xTicks: number[]; yStep: number }): Buffer {
  const W = 640;
  const H = 400;
  const m = { l: 50, r: 20, t: 20, b: 40 };
  const c = new Canvas(W, H);
  const xMax = Math.max(...opts.xTicks);
  const yMaxRaw = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p[1])));
  // A grid of about eight lines: the step as 1, 2 or 5 times a power of ten (opts.yStep at least).
  const raw = yMaxRaw / 8;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(opts.yStep, ([1, 2, 5, 10].find((k) => k * pow >= raw) ?? 10) * pow);
  opts = { ...opts, yStep: step };
  const yMax = Math.ceil(yMaxRaw / opts.yStep) * opts.yStep;
  const X = (x: number) => m.l + (x / xMax) * (W - m.l - m.r);
  const Y = (y: number) => H - m.b - (y / yMax) * (H - m.t - m.b);
  const grey: [number, number, number] = [220, 220, 220];
  for (let y = 0; y <= yMax; y += opts.yStep) c.line(m.l, Y(y), W - m.r, Y(y), grey);
  for (const x of opts.xTicks) c.line(X(x), m.t, X(x), H - m.b, grey);
  c.line(m.l, H - m.b, W - m.r, H - m.b, [0, 0, 0], 2);
  c.line(m.l, m.t, m.l, H - m.b, [0, 0, 0], 2);
  for (const s of series) {
    const pts = s.points.map(([x, y]) => [X(x), Y(y)] as const);
    for (let i = 1; i < pts.length; i++) {
      const [a, b] = [pts[i - 1]!, pts[i]!];
      if (!s.dashed) c.line(a[0], a[1], b[0], b[1], s.colour, 3);
      else {
        const n = 12;
        for (let k = 0; k < n; k += 2) {
          const f0 = k / n;
          const f1 = (k + 1) / n;
          c.line(
            a[0] + (b[0] - a[0]) * f0,
            a[1] + (b[1] - a[1]) * f0,
            a[0] + (b[0] - a[0]) * f1,
            a[1] + (b[1] - a[1]) * f1,
            s.colour,
            3,
          );
        }
      }
    }
    for (const [x, y] of pts) c.dot(x, y, s.colour, 4);
  }
  return c.png();
}
