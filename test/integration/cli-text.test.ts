// The command line keeps the text rule (client/text-args.ts, domain/text.ts): a control
// character in an option's value or an argument, or an over-long id, is refused with exit 1
// before the command connects to anything, naming the option or argument in the language asked
// for. No servers: the refusal comes first (the addresses below lead nowhere).
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';

const nowhere = {
  TEMPORAL_ADDRESS: '127.0.0.1:1',
  DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
};
const cli = (...args: string[]) => runCli(args, nowhere);

describe('the command line refuses text it cannot pass on', () => {
  it('names the option whose value holds a control character, in Chinese by default', async () => {
    const r = await cli(
      'task',
      'submit',
      'demo/kbqy/q/scjgj/k',
      '--as',
      'scjgj-staff1',
      '--note',
      'red\u001b[2J',
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(
      '选项 --note 含有不允许的控制字符 U+001B（第 4 个字符；只允许制表符和换行）',
    );
    expect(r.stderr).not.toMatch(/not reachable|无法连接/);
  });

  it('names an argument in English, and an over-long id in a --json document', async () => {
    const arg = await cli('task', 'show', 'demo/kbqy\u0007', '--lang', 'en');
    expect(arg.code).toBe(1);
    expect(arg.stderr).toContain(
      'argument <taskId> contains a control character U+0007 at character 10',
    );
    const long = await cli('task', 'submit', 'demo/t', '--as', 'x'.repeat(201), '--json');
    expect(long.code).toBe(1);
    const doc = long.json<{ error: string; exitCode: number; details: { option: string } }>();
    expect(doc.exitCode).toBe(1);
    expect(doc.details.option).toBe('--as');
    expect(doc.error).toBe('选项 --as 过长（201 个字符，最多 200 个）');
  });

  it('lets a note with tab, newline and CRLF through to the command (which then needs its servers)', async () => {
    const r = await cli(
      'task',
      'submit',
      'demo/kbqy/q/scjgj/k',
      '--as',
      'scjgj-staff1',
      '--note',
      '第一行\r\n第二行\t😀',
      '--lang',
      'en',
    );
    expect(r.stderr).not.toMatch(/--note/);
    expect(r.code).toBe(3);
  });
});
