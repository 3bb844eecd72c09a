// A task's raw history holds nothing to read in clear: with the payload codec the worker and the
// client encrypt every payload (AES-256-GCM), so `temporal workflow show --output json` shows no
// phone number, no questionnaire value and no channel secret; the codec endpoint decodes them
// for a caller with a token, and a key added later still decrypts what the first key wrote.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTemporalCli } from '../../scripts/lib/tools.ts';
import { approveUpdate, submitUpdate } from '../../domain/messages.ts';
import { HOUR } from '../../domain/time.ts';
import { EncryptionCodec, parseCodecKeys, newCodecKey } from '../../worker/codec.ts';
import { startCodecServer } from '../../worker/codec-server.ts';
import { startTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { startTaskAsChild } from '../helpers/start-task.ts';
import {
  demoFixture,
  goodData,
  recordFixtureCampaign,
  taskInput,
  type Fixture,
} from '../helpers/task-fixture.ts';
import {
  bundleWorkflows,
  devServerEnv,
  runWorker,
  type RunningWorker,
} from '../helpers/temporal.ts';

Runtime.install({ logger: new DefaultLogger('ERROR') });
const run = promisify(execFile);

const PHONE = '13912345678';
const VALUE = 97.125;
const SECRET = 'wk-s3cret-robot-key';
const TOKEN = `t-${randomUUID()}`;

const oldKey = newCodecKey('k2026a');
const newKey = newCodecKey('k2026b');
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let worker: RunningWorker;
let client: Client;
let fx: Fixture;
let cli: string;
let address: string;

beforeAll(async () => {
  let bundle;
  [env, db, bundle, fx, cli] = await Promise.all([
    devServerEnv(),
    startTestDatabase(),
    bundleWorkflows({ withTestParents: true }),
    demoFixture(),
    ensureTemporalCli(),
  ]);
  await recordFixtureCampaign(db.pool, fx);
  address = (env.connection as unknown as { options: { address: string } }).options.address;
  const codec = new EncryptionCodec(parseCodecKeys(oldKey, 'test'));
  worker = await runWorker(env, db.pool, bundle, { dataConverter: { payloadCodecs: [codec] } });
  client = new Client({
    connection: env.connection,
    namespace: 'default',
    dataConverter: { payloadCodecs: [codec] },
  });
}, 180_000);

afterAll(async () => {
  await worker?.stop();
  await env?.teardown();
  await db?.close();
});

describe('a task history with the payload codec', () => {
  it('shows no phone number, questionnaire value or secret in clear, and the codec endpoint decodes them', async () => {
    const input = taskInput(fx, Date.now() + 2 * HOUR);
    input.instructions = `请联系 ${PHONE} 取得填报指引`;
    input.channels = [
      { type: 'console', id: 'console' },
      {
        type: 'wecom',
        id: 'bureau-group',
        url: 'http://127.0.0.1:9/cgi-bin/webhook/send',
        secretRef: 'WECOM_BUREAU_KEY',
      },
    ];
    const h = await startTaskAsChild(client, input, { taskQueue: worker.taskQueue });
    const data = { ...goodData, onlineRate: VALUE };
    await h.executeUpdate(submitUpdate, {
      args: [{ requestId: randomUUID(), actor: 'scjgj-staff1', data }],
    });
    await h.executeUpdate(approveUpdate, {
      args: [{ requestId: randomUUID(), actor: 'spj-coord' }],
    });
    await h.result();

    const { stdout: raw } = await run(
      cli,
      ['workflow', 'show', '--address', address, '--workflow-id', input.taskId, '--output', 'json'],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    const history = JSON.parse(raw) as { events: unknown[] };
    expect(history.events.length).toBeGreaterThan(5);
    // In clear, and base64 as protobuf JSON would show an unencrypted payload's data.
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    for (const needle of [PHONE, String(VALUE), SECRET, 'WECOM_BUREAU_KEY', '张', 'scjgj-staff1"'])
      expect(raw, needle).not.toContain(needle);
    expect(raw).not.toContain(b64(`"${PHONE}`).slice(0, 12));
    expect(raw).toContain(b64('binary/encrypted'));

    // The payloads the codec endpoint decodes, with a key added since (rotation).
    const rotated = new EncryptionCodec(parseCodecKeys(`${oldKey},${newKey}`, 'test'));
    const server = await startCodecServer({
      codec: rotated,
      tokens: [TOKEN],
      corsOrigins: ['http://localhost:8233'],
      port: 0,
    });
    try {
      const payloads = collectPayloads(history);
      expect(payloads.length).toBeGreaterThan(3);
      const post = (token: string | undefined) =>
        fetch(`${server.url}/codec/decode`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-namespace': 'default',
            origin: 'http://localhost:8233',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
          body: JSON.stringify({ payloads }),
        });
      // The UI's browser asks first (CORS preflight): the UI's origin is admitted, another not.
      const preflight = (origin: string) =>
        fetch(`${server.url}/codec/decode`, {
          method: 'OPTIONS',
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type,x-namespace,authorization',
          },
        });
      const admitted = await preflight('http://localhost:8233');
      expect(admitted.status).toBe(204);
      expect(admitted.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
      expect(admitted.headers.get('access-control-allow-methods')).toMatch(/POST/);
      expect(admitted.headers.get('access-control-allow-headers')).toMatch(
        /content-type.*x-namespace.*authorization/,
      );
      const other = await preflight('http://elsewhere.example');
      expect(other.status).toBe(403);
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      expect((await post(undefined)).status).toBe(401);
      expect((await post('wrong')).status).toBe(401);
      const res = await post(TOKEN);
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
      const decoded = (await res.json()) as { payloads: { data: string }[] };
      const clear = decoded.payloads
        .map((p) => Buffer.from(p.data, 'base64').toString())
        .join('\n');
      expect(clear).toContain(PHONE);
      expect(clear).toContain(String(VALUE));
      expect(clear).toContain('WECOM_BUREAU_KEY');
      expect(clear).not.toContain(SECRET);

      // The temporal CLI itself, through the endpoint (the same protocol as the Web UI).
      const { stdout: viaCli } = await run(
        cli,
        [
          'workflow',
          'show',
          '--address',
          address,
          '--workflow-id',
          input.taskId,
          '--output',
          'json',
          '--codec-endpoint',
          `${server.url}/codec`,
          '--codec-auth',
          `Bearer ${TOKEN}`,
        ],
        { maxBuffer: 64 * 1024 * 1024 },
      );
      expect(viaCli).not.toContain(b64('binary/encrypted'));
      const shown = (collectPayloads(JSON.parse(viaCli)) as { data: string }[])
        .map((p) => Buffer.from(p.data, 'base64').toString())
        .join('\n');
      expect(shown).toContain(PHONE);
      expect(shown).toContain(String(VALUE));
      expect(shown).not.toContain(SECRET);

      // What the endpoint encodes now, it encodes with the newest key.
      const enc = await fetch(`${server.url}/codec/encode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({
          payloads: [{ metadata: { encoding: b64('json/plain') }, data: b64('"x"') }],
        }),
      });
      const encoded = (await enc.json()) as { payloads: { metadata: Record<string, string> }[] };
      expect(
        Buffer.from(encoded.payloads[0]!.metadata['encryption-key-id']!, 'base64').toString(),
      ).toBe('k2026b');
    } finally {
      await server.close();
    }
  }, 120_000);
});

/** Every payload of a history in protobuf JSON: objects with `metadata.encoding` and `data`. */
function collectPayloads(node: unknown, out: unknown[] = []): unknown[] {
  if (Array.isArray(node)) for (const n of node) collectPayloads(n, out);
  else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    const meta = o.metadata as Record<string, unknown> | undefined;
    if (meta && typeof meta.encoding === 'string' && typeof o.data === 'string') out.push(o);
    else for (const v of Object.values(o)) collectPayloads(v, out);
  }
  return out;
}
