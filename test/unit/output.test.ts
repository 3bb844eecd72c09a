// Output for people: tables whose columns line up with Chinese (double-width) text, the width
// function that checks it, and colours only on a terminal.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { colourOn, table } from '../../client/output.ts';
import { displayWidth, padToWidth, stripAnsi, truncateToWidth } from '../../client/text-width.ts';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('displayWidth', () => {
  it('counts CJK and full-width characters twice, ASCII once, escapes and combining marks not at all', () => {
    expect(displayWidth('abc')).toBe(3);
    expect(displayWidth('开办企业')).toBe(8);
    expect(displayWidth('kbqy 开办企业')).toBe(13);
    expect(displayWidth('（快速演示），：')).toBe(16);
    expect(displayWidth('\x1b[1m阶段\x1b[22m')).toBe(4);
    expect(displayWidth('e\u0301')).toBe(1);
    expect(displayWidth('—✓⚑')).toBe(3);
    expect(displayWidth('短\n更长的一行')).toBe(10);
  });

  it('pads and truncates by columns, not by characters', () => {
    expect(padToWidth('阶段', 6)).toBe('阶段  ');
    expect(truncateToWidth('营商环境考核评价', 9)).toBe('营商环境…');
    expect(displayWidth(truncateToWidth('营商环境考核评价', 9))).toBeLessThanOrEqual(9);
    expect(stripAnsi('\x1b[31mred\x1b[39m \x1b[2K')).toBe('red ');
  });
});

describe('table', () => {
  it('lines up mixed Chinese and ASCII cells: every rendered line has the same display width', () => {
    const rendered = table(
      ['指标', 'Phase', '状态', 'Due'],
      [
        ['kbqy 开办企业', 'dataEntry', '进行中', '2026-12-01 09:14'],
        ['ns 纳税', '数据填报', 'in-progress', '—'],
        ['jzxk 办理建筑许可（含施工图审查）', 'verification', '数据存疑 ⚑', 3],
        ['scjg', '整改', '已结束', '２０２６年１２月'],
        ['多行\n第二行较长的内容', 'x', 'y', 'z'],
      ],
    );
    const lines = rendered.split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(8);
    const widths = new Set(lines.map(displayWidth));
    expect([...widths], rendered).toHaveLength(1);
    // And the column separators sit at the same columns on every line.
    const separatorColumns = (line: string) => {
      const cols: number[] = [];
      let w = 0;
      for (const ch of stripAnsi(line)) {
        if ('│┌┐└┘┬┴┼├┤'.includes(ch)) cols.push(w);
        w += displayWidth(ch);
      }
      return cols;
    };
    const first = separatorColumns(lines[0]!);
    for (const line of lines) expect(separatorColumns(line), line).toEqual(first);
  });
});

describe('colours', () => {
  it('are on only for a terminal, and off with NO_COLOR set to anything but empty', () => {
    vi.stubEnv('NO_COLOR', '');
    expect(colourOn({ isTTY: true })).toBe(true);
    expect(colourOn({ isTTY: false })).toBe(false);
    expect(colourOn({})).toBe(false);
    vi.stubEnv('NO_COLOR', '1');
    expect(colourOn({ isTTY: true })).toBe(false);
  });
});
