// The codec endpoint for the Temporal UI and `temporal --codec-endpoint`: Temporal's remote
// codec protocol, POST /codec/decode and POST /codec/encode with `{ payloads: [...] }` (metadata
// and data in base64, as protobuf JSON has them). Only callers with a configured token
// (`Authorization: Bearer …`, CAMPAIGN_CODEC_TOKENS) are answered; CORS admits the UI's origin
// (CAMPAIGN_CODEC_CORS_ORIGINS), whose browser calls the endpoint directly.
//
//   CAMPAIGN_CODEC_KEYS=… CAMPAIGN_CODEC_TOKENS=t1 npm run codec-server   (127.0.0.1:8888)
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload } from '@temporalio/common';
import type { EncryptionCodec } from './codec.ts';

export interface CodecServerOptions {
  codec: EncryptionCodec;
  /** Bearer tokens allowed to use the endpoint. */
  tokens: string[];
  /** Origins whose pages may call the endpoint (the Temporal UI's, e.g. http://localhost:8233). */
  corsOrigins: string[];
  host?: string;
  port?: number;
}

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const MAX_BODY = 8 * 1024 * 1024;

function fromJson(p: JsonPayload): Payload {
  const metadata: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(p.metadata ?? {}))
    metadata[k] = new Uint8Array(Buffer.from(v, 'base64'));
  return { metadata, data: new Uint8Array(Buffer.from(p.data ?? '', 'base64')) };
}

function toJson(p: Payload): JsonPayload {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.metadata ?? {}))
    metadata[k] = Buffer.from(v).toString('base64');
  return { metadata, data: Buffer.from(p.data ?? new Uint8Array()).toString('base64') };
}

function tokenAllowed(header: string | undefined, tokens: string[]): boolean {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  if (!m) return false;
  const given = Buffer.from(m[1]!);
  return tokens.some((t) => {
    const want = Buffer.from(t);
    return want.length === given.length && timingSafeEqual(want, given);
  });
}

export async function startCodecServer(
  opts: CodecServerOptions,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const origin = req.headers.origin;
    const admitted = origin !== undefined && opts.corsOrigins.includes(origin);
    if (admitted) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-credentials', 'true');
      res.setHeader('access-control-allow-methods', 'POST, OPTIONS');
      res.setHeader(
        'access-control-allow-headers',
        'content-type, x-namespace, authorization, caller-type',
      );
      res.setHeader('access-control-max-age', '600');
      res.setHeader('vary', 'origin');
    }
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    // The UI's browser asks first (CORS preflight): answered for a listed origin only, so that
    // a page of any other origin is told no before it sends anything.
    if (req.method === 'OPTIONS') {
      if (origin !== undefined && !admitted)
        return send(403, {
          message: `origin ${origin} is not admitted (CAMPAIGN_CODEC_CORS_ORIGINS)`,
        });
      res.writeHead(204);
      res.end();
      return;
    }
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'POST' || (path !== '/codec/decode' && path !== '/codec/encode'))
      return send(404, { message: 'POST /codec/decode or /codec/encode' });
    if (!tokenAllowed(req.headers.authorization, opts.tokens))
      return send(401, { message: 'a configured token is needed (Authorization: Bearer …)' });
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY) return send(413, { message: `at most ${MAX_BODY} bytes` });
      void (async () => {
        let payloads: Payload[];
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            payloads?: JsonPayload[];
          };
          if (!Array.isArray(body.payloads)) throw new Error('payloads must be an array');
          payloads = body.payloads.map(fromJson);
        } catch (e) {
          return send(400, { message: `not a codec request: ${(e as Error).message}` });
        }
        try {
          const out =
            path === '/codec/decode'
              ? await opts.codec.decode(payloads)
              : await opts.codec.encode(payloads);
          send(200, { payloads: out.map(toJson) });
        } catch (e) {
          send(400, { message: (e as Error).message });
        }
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8888, opts.host ?? '127.0.0.1', () => resolve());
  });
  const a = server.address() as AddressInfo;
  return {
    url: `http://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
