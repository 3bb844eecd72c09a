// The payload codec: every payload a worker, the CLI or the portal hands to Temporal is
// encrypted with AES-256-GCM, so that histories (inputs, update arguments and results, query
// answers, activity inputs, search for "13800138000" in the Temporal UI) hold no personal data,
// questionnaire value or secret in clear. The key id rides in the payload's metadata; keys
// rotate by adding one: the newest (last) key encrypts, any configured key decrypts. Payloads
// without the codec's encoding (histories recorded before it, or by a process without keys)
// pass through unchanged.
//
// Keys: CAMPAIGN_CODEC_KEYS=`id:base64key,id2:base64key` (32-byte keys, the last one newest),
// or CAMPAIGN_CODEC_KEYS_FILE naming a file of `id=base64key` lines (also last newest).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Payload, PayloadCodec } from '@temporalio/common';
// A CommonJS package: its namespace object, not a named import, under plain Node ESM.
import proto from '@temporalio/proto';
import { ConfigError } from './config-error.ts';

export const ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const PayloadProto = proto.temporal.api.common.v1.Payload;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface CodecKey {
  id: string;
  key: Buffer;
}

const te = new TextEncoder();
const td = new TextDecoder();

/** Parses `id:base64,id2:base64` (or newline/`=`-separated lines of a key file). */
export function parseCodecKeys(text: string, where: string): CodecKey[] {
  const keys: CodecKey[] = [];
  const entries = text
    .split(/[,\n]/)
    .map((e) => e.trim())
    .filter((e) => e && !e.startsWith('#'));
  for (const [i, entry] of entries.entries()) {
    const m = /^([A-Za-z0-9_.-]{1,64})\s*[:=]\s*(\S+)$/.exec(entry);
    const key = m ? Buffer.from(m[2]!, 'base64') : undefined;
    if (!m || key?.length !== 32)
      throw new ConfigError([
        `${where}: key ${i + 1} must be id:base64 of 32 random bytes (openssl rand -base64 32); the key itself is not shown`,
      ]);
    if (keys.some((k) => k.id === m[1]))
      throw new ConfigError([`${where}: key id ${m[1]} appears twice`]);
    keys.push({ id: m[1]!, key });
  }
  if (!keys.length) throw new ConfigError([`${where}: no key given`]);
  return keys;
}

/** The codec keys of the environment, or undefined when none are configured. */
export function codecKeysFromEnv(env: NodeJS.ProcessEnv = process.env): CodecKey[] | undefined {
  if (env.CAMPAIGN_CODEC_KEYS)
    return parseCodecKeys(env.CAMPAIGN_CODEC_KEYS, 'CAMPAIGN_CODEC_KEYS');
  const file = env.CAMPAIGN_CODEC_KEYS_FILE;
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([
      `CAMPAIGN_CODEC_KEYS_FILE ${file} cannot be read: ${(e as Error).message}`,
    ]);
  }
  return parseCodecKeys(text, `CAMPAIGN_CODEC_KEYS_FILE ${file}`);
}

/** A fresh key line, `id:base64`, for a key file or CAMPAIGN_CODEC_KEYS. */
export function newCodecKey(id: string): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}

export class EncryptionCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;
  private readonly newest: CodecKey;

  constructor(keys: CodecKey[]) {
    if (!keys.length) throw new Error('the codec needs at least one key');
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
    this.newest = keys[keys.length - 1]!;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      const plain = PayloadProto.encode(p).finish();
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', this.newest.key, iv);
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: { encoding: te.encode(ENCODING), [KEY_ID_METADATA]: te.encode(this.newest.id) },
        data: new Uint8Array(data),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      const encoding = p.metadata?.encoding;
      if (!encoding || td.decode(encoding) !== ENCODING) return p;
      const idBytes = p.metadata?.[KEY_ID_METADATA];
      const id = idBytes ? td.decode(idBytes) : '';
      const key = this.byId.get(id);
      if (!key)
        throw new Error(
          `payload encrypted with key "${id}", which is not among the configured codec keys`,
        );
      const data = Buffer.from(p.data ?? new Uint8Array());
      if (data.length < IV_BYTES + TAG_BYTES) throw new Error('encrypted payload too short');
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return PayloadProto.decode(plain) as Payload;
    });
  }
}

/** The data converter for Temporal clients and workers: the codec when keys are configured. */
export function dataConverterFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): { payloadCodecs: PayloadCodec[] } | undefined {
  const keys = codecKeysFromEnv(env);
  return keys ? { payloadCodecs: [new EncryptionCodec(keys)] } : undefined;
}
