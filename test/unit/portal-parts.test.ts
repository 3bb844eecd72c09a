// The portal's pure parts: its configuration, the evidence type check by content, the Chinese
// field messages, and the OpenAPI document made from the API's zod schemas (checked against
// Fastify's own route table).
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { buildPortal } from '../../portal/app.ts';
import { readPortalConfig } from '../../portal/config.ts';
import { sniff } from '../../portal/evidence.ts';
import { fieldMessages } from '../../portal/i18n.ts';
import { validateFieldData } from '../../domain/fields.ts';
import type { QuestionnaireField } from '../../domain/definition.ts';
import { readConfig } from '../../worker/config.ts';
import { xlsxBuffer } from '../../client/export.ts';

const shared = readConfig({});

/** A ZIP holding empty entries of these names (stored, no compression). */
function zip(names: string[]): Buffer {
  const local: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const n of names) {
    const name = Buffer.from(n);
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(name.length, 26);
    local.push(h, name);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt32LE(offset, 42);
    central.push(c, name);
    offset += 30 + name.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(names.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...local, cd, end]);
}

describe('the portal configuration', () => {
  it('has local defaults and turns Secure cookies on behind an https address', () => {
    const local = readPortalConfig({}, shared);
    expect(local.port).toBe(8080);
    expect(local.publicUrl).toBe('http://localhost:8080');
    expect(local.secureCookies).toBe(false);
    expect(local.sessionIdleMs).toBe(30 * 60_000);
    const behindTls = readPortalConfig(
      { PORTAL_PUBLIC_URL: 'https://portal.example.gov.cn/' },
      shared,
    );
    expect(behindTls.secureCookies).toBe(true);
    expect(behindTls.publicUrl).toBe('https://portal.example.gov.cn');
  });

  it('names the variable, its value and the expected form when a value is malformed', () => {
    expect(() =>
      readPortalConfig({ PORTAL_SESSION_IDLE: 'soon', PORTAL_UPLOAD_LIMIT: '20 megs' }, shared),
    ).toThrow(
      /PORTAL_SESSION_IDLE="soon": must be a duration such as 90s, 30m, 12h or 7d[\s\S]*PORTAL_UPLOAD_LIMIT="20 megs": must be a size/,
    );
  });

  it('turns single sign-on on with an issuer, and takes its client secret by reference only', () => {
    expect(readPortalConfig({}, shared).oidc).toBeUndefined();
    const sso = readPortalConfig(
      {
        PORTAL_OIDC_ISSUER: 'https://sso.province.example.gov.cn/oidc',
        PORTAL_OIDC_CLIENT_ID: 'county-portal',
        PORTAL_OIDC_CLIENT_SECRET_REF: 'PORTAL_OIDC',
        CAMPAIGN_SECRET_PORTAL_OIDC: 'the-secret',
        PORTAL_OIDC_SCOPES: 'profile gov_id',
        PORTAL_OIDC_PERSON_CLAIM: 'gov_person_id',
      },
      shared,
    ).oidc;
    expect(sso).toEqual({
      issuer: 'https://sso.province.example.gov.cn/oidc',
      clientId: 'county-portal',
      clientSecret: 'the-secret',
      personClaim: 'gov_person_id',
      scopes: 'openid profile gov_id',
      label: { zh: '统一身份认证登录', en: 'Sign in with the unified identity service' },
    });
    // A literal secret, a missing one, no client id, plain http to another machine: refused.
    expect(() =>
      readPortalConfig(
        {
          PORTAL_OIDC_ISSUER: 'https://sso.example.gov.cn',
          PORTAL_OIDC_CLIENT_ID: 'x',
          PORTAL_OIDC_CLIENT_SECRET: 'literal',
        },
        shared,
      ),
    ).toThrow(/PORTAL_OIDC_CLIENT_SECRET: the client secret is not written in a setting/);
    expect(() =>
      readPortalConfig(
        {
          PORTAL_OIDC_ISSUER: 'https://sso.example.gov.cn',
          PORTAL_OIDC_CLIENT_ID: 'x',
          PORTAL_OIDC_CLIENT_SECRET_REF: 'NOPE',
        },
        shared,
      ),
    ).toThrow(/PORTAL_OIDC_CLIENT_SECRET_REF=NOPE: no such secret: set CAMPAIGN_SECRET_NOPE/);
    expect(() =>
      readPortalConfig({ PORTAL_OIDC_ISSUER: 'https://sso.example.gov.cn' }, shared),
    ).toThrow(/PORTAL_OIDC_CLIENT_ID: required/);
    expect(() =>
      readPortalConfig(
        { PORTAL_OIDC_ISSUER: 'http://sso.example.gov.cn', PORTAL_OIDC_CLIENT_ID: 'x' },
        shared,
      ),
    ).toThrow(/PORTAL_OIDC_ISSUER="http:\/\/sso.example.gov.cn": must be an https:\/\/ address/);
    expect(() => readPortalConfig({ PORTAL_OIDC_CLIENT_ID: 'x' }, shared)).toThrow(
      /PORTAL_OIDC_CLIENT_ID set without PORTAL_OIDC_ISSUER/,
    );
  });
});

describe('the evidence type check', () => {
  it('knows PDF, images, Office files and OFD by their content, whatever their name', async () => {
    expect(sniff(Buffer.from('%PDF-1.7\n'))?.kind).toBe('PDF');
    expect(sniff(Buffer.from('89504e470d0a1a0a0000', 'hex'))?.kind).toBe('PNG');
    expect(sniff(Buffer.from('ffd8ffe000104a464946', 'hex'))?.kind).toBe('JPEG');
    expect(sniff(zip(['[Content_Types].xml', 'word/document.xml']))?.kind).toBe('Word');
    expect(sniff(zip(['[Content_Types].xml', 'ppt/presentation.xml']))?.kind).toBe('PowerPoint');
    expect(sniff(zip(['OFD.xml', 'Doc_0/Document.xml']))?.kind).toBe('OFD');
    // A workbook as the project itself writes one.
    const workbook = await xlsxBuffer([{ title: 't', columns: [{ header: 'a' }], rows: [['1']] }]);
    expect(sniff(workbook)?.kind).toBe('Excel');
  });

  it('refuses executables, web pages, plain archives and empty files', () => {
    expect(sniff(Buffer.concat([Buffer.from('MZ'), Buffer.alloc(64)]))).toBeNull();
    expect(sniff(Buffer.from('<html><script>alert(1)</script>'))).toBeNull();
    expect(sniff(zip(['payload.exe']))).toBeNull();
    expect(sniff(Buffer.alloc(0))).toBeNull();
  });
});

describe('field messages in Chinese', () => {
  const fields: QuestionnaireField[] = [
    { key: 'procedures', label: '办理环节', type: 'integer', min: 0, required: true },
    { key: 'onlineRate', label: '网办率', type: 'percent' },
    { key: 'path', label: '审批路径', type: 'enum', options: ['一般项目', '小型低风险项目'] },
  ] as QuestionnaireField[];

  it('says each problem of the shared field rules beside its field, in Chinese or English', () => {
    const problems = validateFieldData(fields, { procedures: 2.5, onlineRate: 120, path: '其他' });
    expect(fieldMessages(fields, problems, 'zh')).toEqual({
      procedures: '办理环节须为整数（填写的是 2.5）',
      onlineRate: '网办率须为 0 至 100 之间的百分比（填写的是 120）',
      path: '审批路径须为以下之一：一般项目 / 小型低风险项目（填写的是 "其他"）',
    });
    expect(fieldMessages(fields, validateFieldData(fields, {}), 'en').procedures).toBe(
      '办理环节 (procedures) is required',
    );
  });
});

describe('the OpenAPI document', () => {
  it("describes every API route of Fastify's route table, from the zod schemas", async () => {
    const cfg = readPortalConfig({}, shared);
    // No request below touches the database or Temporal.
    const app = await buildPortal({ pool: {} as pg.Pool, temporal: {} as Client, cfg });
    const r = await app.inject({ url: '/api/openapi.json' });
    expect(r.statusCode).toBe(200);
    const doc = r.json<{
      openapi: string;
      paths: Record<
        string,
        Record<
          string,
          {
            responses: Record<string, unknown>;
            security?: unknown[];
            requestBody?: {
              content: Record<string, { schema: { properties?: Record<string, unknown> } }>;
            };
          }
        >
      >;
    }>();
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    const routes = app.routeTable
      .filter((x) => x.url.startsWith('/api/') && x.url !== '/api/openapi.json')
      .map((x) => `${x.method} ${x.url.replace(/:(\w+)/g, '{$1}')}`);
    expect(documented.sort()).toEqual(routes.sort());
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        if (op.security?.length === 0) continue;
        expect(Object.keys(op.responses), `${method} ${path}`).toContain('401');
      }
    }
    const submit = doc.paths['/api/tasks/{taskId}/submit']!.post!;
    const props = Object.keys(submit.requestBody!.content['application/json']!.schema.properties!);
    expect(props.sort()).toEqual(['data', 'note', 'requestId']);
    await app.close();
  });
});
