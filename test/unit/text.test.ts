// The rule for text from outside (domain/text.ts): well-formed Unicode, no NUL, no control
// character but tab and line breaks, a bounded length; a refusal names the field in Chinese and
// English without quoting the bad text, and the walk over a JSON-like value finds the first bad
// string or key with its path.
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { payloadProblem } from '../../domain/payloads.ts';
import {
  cleanText,
  firstTextProblem,
  LONG_TEXT_MAX,
  SHORT_TEXT_MAX,
  textFault,
  textProblem,
} from '../../domain/text.ts';

/** Whether a message holds only well-formed text itself (it is sent as JSON and stored). */
const wellFormed = (s: string) => textFault(s, Infinity) === null;

describe('the text rule', () => {
  it('accepts ordinary Chinese and English text, tab, newline, CRLF and a valid surrogate pair', () => {
    for (const s of [
      '',
      '按统一口径填报',
      'plain text',
      'a\tb',
      '第一行\n第二行',
      'Windows line\r\nnext',
      'emoji 😀 ok',
      '𠀀 (CJK extension B)',
    ])
      expect(textFault(s), JSON.stringify(s)).toBeNull();
  });

  it('refuses a lone high surrogate, a lone low surrogate and a reversed pair', () => {
    expect(textFault('lone \ud800 surrogate')).toMatchObject({ defect: 'lone-surrogate', index: 5, code: 0xd800 }); // prettier-ignore
    expect(textFault('x\udfff')).toMatchObject({
      defect: 'lone-surrogate',
      index: 1,
      code: 0xdfff,
    });
    expect(textFault('\ude00\ud83d')).toMatchObject({ defect: 'lone-surrogate', index: 0 });
    expect(textFault('end \ud83d')).toMatchObject({ defect: 'lone-surrogate', index: 4 });
  });

  it('refuses NUL, BEL, ESC, DEL, a C1 control and a bare carriage return', () => {
    expect(textFault('a\u0000b')).toMatchObject({ defect: 'nul', index: 1 });
    expect(textFault('bell\u0007')).toMatchObject({ defect: 'control', code: 7 });
    expect(textFault('\u001b[31mred')).toMatchObject({ defect: 'control', code: 0x1b });
    expect(textFault('del\u007f')).toMatchObject({ defect: 'control', code: 0x7f });
    expect(textFault('c1\u0085')).toMatchObject({ defect: 'control', code: 0x85 });
    expect(textFault('over\rwrite')).toMatchObject({ defect: 'control', code: 0x0d });
    expect(textFault('end\r')).toMatchObject({ defect: 'control', code: 0x0d });
  });

  it('bounds the length in characters, short fields by default, a caller choosing another bound', () => {
    expect(textFault('字'.repeat(SHORT_TEXT_MAX))).toBeNull();
    expect(textFault('字'.repeat(SHORT_TEXT_MAX + 1))).toMatchObject({ defect: 'too-long', code: 201, max: 200 }); // prettier-ignore
    expect(textFault('x'.repeat(LONG_TEXT_MAX), LONG_TEXT_MAX)).toBeNull();
    expect(textFault('x'.repeat(LONG_TEXT_MAX + 1), LONG_TEXT_MAX)?.defect).toBe('too-long');
    // An emoji is one character, not two UTF-16 units.
    expect(textFault('😀'.repeat(200))).toBeNull();
  });

  it('names the field in Chinese and English, and never quotes the bad text', () => {
    const p = textProblem('lone \ud800 surrogate \udfff end', 'note', LONG_TEXT_MAX)!;
    expect(p.path).toBe('note');
    expect(p.en).toBe('note is not well-formed Unicode (a lone surrogate U+D800 at character 6)');
    expect(p.zh).toBe('字段“note”含有无效的 Unicode 字符（第 6 个字符处为孤立的代理项 U+D800）');
    expect(textProblem('x'.repeat(11), 'name', 10)?.zh).toBe(
      '字段“name”过长（11 个字符，最多 10 个）',
    );
    expect(textProblem('a\u0007', 'title')?.en).toMatch(
      /^title contains a control character U\+0007/,
    );
  });
});

describe('the walk over a JSON-like value', () => {
  it('finds the first bad string with its path, through objects and arrays', () => {
    const body = {
      note: 'fine',
      data: { procedures: 4, phone: '138\u0000', list: ['a', 'b\u001b'] },
    };
    expect(firstTextProblem(body)?.path).toBe('data.phone');
    expect(firstTextProblem({ evidence: ['a.pdf', 'b\ud800.pdf'] })?.path).toBe('evidence[1]');
    expect(firstTextProblem({ a: { b: [{ c: 'x\udc00' }] } })?.path).toBe('a.b[0].c');
    expect(firstTextProblem('top\u0000', { root: 'note' })?.path).toBe('note');
    expect(firstTextProblem({ note: '😀', n: 1, t: true, z: null })).toBeNull();
  });

  it('checks the keys of objects too, naming them safely', () => {
    const p = firstTextProblem({ data: { 'ph\ud800one': '1' } })!;
    expect(p.defect).toBe('lone-surrogate');
    expect(p.path).toBe('data."ph\\ud800one"');
    expect(p.zh).toMatch(/^字段名“data\."ph\\ud800one"”/);
    expect(wellFormed(p.en) && wellFormed(p.zh)).toBe(true);
    expect(firstTextProblem({ ['k'.repeat(201)]: 'v' })?.defect).toBe('too-long');
  });

  it('bounds values by path when the caller says so, long text by default', () => {
    const max = (path: readonly (string | number)[]) => (path[0] === 'note' ? 20 : 5);
    expect(firstTextProblem({ note: 'x'.repeat(20), id: 'abcde' }, { max })).toBeNull();
    expect(firstTextProblem({ note: 'x'.repeat(20), id: 'abcdef' }, { max })?.path).toBe('id');
    expect(firstTextProblem({ note: 'x'.repeat(LONG_TEXT_MAX) })).toBeNull();
    expect(firstTextProblem({ note: 'x'.repeat(LONG_TEXT_MAX + 1) })?.defect).toBe('too-long');
  });

  it('walks a value nested a hundred thousand levels deep without a stack overflow', () => {
    let deep: unknown = 'bottom\u0000';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const p = firstTextProblem({ deep });
    expect(p?.defect).toBe('nul');
    expect(p?.path.startsWith('deep[0][0]')).toBe(true);
  });

  it('does not look into binary content or streams, and visits a cycle once', () => {
    const body: Record<string, unknown> = {
      file: { filename: 'ok.pdf', _buf: new Uint8Array([0, 0xd8]) },
      stream: { pipe: () => {}, junk: '\u0000' },
    };
    body.self = body;
    expect(firstTextProblem(body)).toBeNull();
    body.late = 'bad\u0000';
    expect(firstTextProblem(body)?.path).toBe('late');
  });
});

describe('the zod helper', () => {
  it('refuses what the rule refuses, with the Chinese text beside the English', () => {
    const schema = z.object({ name: cleanText(10), note: cleanText(100).optional() });
    expect(schema.safeParse({ name: '张三', note: '好😀' }).success).toBe(true);
    const r = schema.safeParse({ name: 'a\ud800' });
    expect(r.success).toBe(false);
    const issue = r.error!.issues[0]!;
    expect(issue.path).toEqual(['name']);
    expect(issue.message).toMatch(/lone surrogate U\+D800/);
    expect((issue as { params?: { zh?: string } }).params?.zh).toMatch(/孤立的代理项/);
    expect(schema.safeParse({ name: 'x'.repeat(11) }).success).toBe(false);
  });
});

describe('update requests through the rule', () => {
  const base = { requestId: 'r-1', actor: 'scjgj-staff1' };
  it('refuse a lone surrogate in a note, naming the field in both languages', () => {
    expect(payloadProblem('submit', { ...base, note: 'lone \ud800 surrogate \udfff end' })).toEqual(
      {
        en: 'submit: note is not well-formed Unicode (a lone surrogate U+D800 at character 6)',
        zh: '请求格式有误（submit）：字段“note”含有无效的 Unicode 字符（第 6 个字符处为孤立的代理项 U+D800）',
      },
    );
  });

  it('refuse a bad text deep in the free-form data, and a bad key', () => {
    expect(payloadProblem('submit', { ...base, data: { phone: '138\u0000' } })?.en).toBe(
      'submit: data.phone contains a NUL character (U+0000) at character 4',
    );
    expect(payloadProblem('submit', { ...base, data: { t: { x: ['a\u001b'] } } })?.en).toMatch(
      /^submit: data\.t\.x\[0\] contains a control character U\+001B/,
    );
    expect(payloadProblem('submit', { ...base, data: { 'a\udfff': 1 } })?.en).toMatch(
      /^submit: the name of data\."a\\udfff" is not well-formed/,
    );
    expect(payloadProblem('return', { ...base, reason: '退回\r\n请补充' })).toBeNull();
    expect(payloadProblem('reassign', { ...base, to: 'x\u0007' })?.zh).toMatch(/字段“to”含有不允许的控制字符/); // prettier-ignore
  });
});
