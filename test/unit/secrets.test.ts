// Secrets stay out of definitions, histories and the database: a definition names them with
// secretRef and the worker resolves them; the roster that workflows carry has no contact
// details.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { rosterOf } from '../../domain/campaign-parts.ts';
import { definitionSchema } from '../../domain/definition.ts';
import { validateDefinition } from '../../domain/validate.ts';
import { parseSecretsFile, secretsFromEnv } from '../../worker/secrets.ts';

function example(): Record<string, unknown> {
  return parseYaml(readFileSync('examples/quick-demo.yaml', 'utf8')) as Record<string, unknown>;
}

function withChannels(channels: unknown[]): Record<string, unknown> {
  return { ...example(), notifications: { channels } };
}

function errorsOf(def: unknown): { path: string; message: string }[] {
  const r = validateDefinition(def);
  return r.valid ? [] : r.errors;
}

describe('secrets in a campaign definition', () => {
  it('refuses a WeCom key in the URL, a DingTalk secret and an authorization header, each saying to use secretRef', () => {
    const errors = errorsOf(
      withChannels([
        { type: 'wecom', id: 'w', url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc' },
        { type: 'dingtalk', id: 'd', url: 'https://oapi.dingtalk.com/robot/send', secret: 'SEC1' },
        {
          type: 'webhook',
          id: 'h',
          url: 'https://hooks.example.com/x',
          headers: { Authorization: 'Bearer t0ken' },
        },
      ]),
    );
    const at = (p: string) => errors.find((e) => e.path.startsWith(p))?.message ?? '';
    expect(at('notifications.channels[0].url')).toMatch(/key= parameter.*secretRef: NAME/);
    expect(at('notifications.channels[1].secret')).toMatch(/signingSecretRef: NAME/);
    expect(at('notifications.channels[2].headers')).toMatch(/Authorization header.*secretRef/);
    for (const e of errors) expect(e.message).not.toMatch(/abc|SEC1|t0ken/);
  });

  it('accepts channels that name their secrets, and keeps only the names', () => {
    const channels = [
      {
        type: 'wecom',
        id: 'w',
        url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send',
        secretRef: 'WECOM_KEY',
      },
      {
        type: 'dingtalk',
        id: 'd',
        url: 'https://oapi.dingtalk.com/robot/send',
        secretRef: 'DING_TOKEN',
        signingSecretRef: 'DING_SIGN',
      },
      { type: 'webhook', id: 'h', url: 'https://hooks.example.com/x', secretRef: 'HOOK_AUTH' },
    ];
    expect(errorsOf(withChannels(channels))).toEqual([]);
    const def = definitionSchema.parse(withChannels(channels));
    expect(def.notifications.channels).toEqual(channels);
  });

  it('refuses a secret name that is not in capitals', () => {
    const errors = errorsOf(
      withChannels([{ type: 'wecom', url: 'https://qyapi.weixin.qq.com/x', secretRef: 'my key' }]),
    );
    expect(errors[0]?.path).toBe('notifications.channels[0].secretRef');
    expect(errors[0]?.message).toMatch(/secret name in capitals/);
  });
});

describe('the roster workflows carry', () => {
  it('has ids, names, units and roles but no phone number or handle', () => {
    const raw = example() as { units: { people: Record<string, unknown>[] }[] };
    raw.units[0]!.people[0]!.phone = '13800138000';
    raw.units[0]!.people[0]!.handle = 'wecom-user-1';
    const def = definitionSchema.parse(raw);
    const withPhones = def.units.flatMap((u) => u.people).filter((p) => p.phone);
    expect(withPhones.length).toBeGreaterThan(0);
    const roster = rosterOf(def);
    for (const p of roster.people) {
      expect(Object.keys(p).sort()).toEqual(['id', 'name', 'role', 'unitId']);
    }
    expect(JSON.stringify(roster)).not.toMatch(/13800138000|wecom-user-1/);
  });
});

describe('the worker secrets', () => {
  it('are read from CAMPAIGN_SECRET_<NAME> first, then from the secrets file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'secrets-'));
    const file = join(dir, 'secrets.env');
    writeFileSync(file, '# robots\nWECOM_KEY=from-file\nDING_SIGN="SECabc"\n\n');
    const lookup = secretsFromEnv({
      CAMPAIGN_SECRETS_FILE: file,
      CAMPAIGN_SECRET_WECOM_KEY: 'from-env',
    });
    expect(lookup('WECOM_KEY')).toBe('from-env');
    expect(lookup('DING_SIGN')).toBe('SECabc');
    expect(lookup('OTHER')).toBeUndefined();
  });

  it('refuse a malformed secrets file by its line without showing the line', () => {
    expect(() => parseSecretsFile('A=1\nnot a line with s3cret\n', 'x.env')).toThrow(
      /x\.env:2: expected NAME=value/,
    );
    try {
      parseSecretsFile('not a line with s3cret', 'x.env');
    } catch (e) {
      expect((e as Error).message).not.toContain('s3cret');
    }
  });
});
