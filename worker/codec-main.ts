// `npm run codec-server`: the codec endpoint (worker/codec-server.ts) as its own process.
import { codecKeysFromEnv, EncryptionCodec } from './codec.ts';
import { startCodecServer } from './codec-server.ts';

const list = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

try {
  const keys = codecKeysFromEnv();
  if (!keys) throw new Error('set CAMPAIGN_CODEC_KEYS or CAMPAIGN_CODEC_KEYS_FILE');
  const tokens = list(process.env.CAMPAIGN_CODEC_TOKENS);
  if (!tokens.length) throw new Error('set CAMPAIGN_CODEC_TOKENS (who may decode payloads)');
  const hours = process.env.CAMPAIGN_CODEC_SESSION_HOURS?.trim();
  if (hours && !(Number(hours) > 0 && Number(hours) <= 720))
    throw new Error(
      `CAMPAIGN_CODEC_SESSION_HOURS is ${JSON.stringify(hours)}: give hours between 0 and 720 (a browser's sign-in)`,
    );
  const [host, port] = (process.env.CAMPAIGN_CODEC_ADDRESS ?? '127.0.0.1:8888').split(/:(?=\d+$)/);
  const server = await startCodecServer({
    codec: new EncryptionCodec(keys),
    tokens,
    // By default the local services' UI (TEMPORAL_UI_PORT), under either name of this machine.
    corsOrigins: process.env.CAMPAIGN_CODEC_CORS_ORIGINS
      ? list(process.env.CAMPAIGN_CODEC_CORS_ORIGINS)
      : ['localhost', '127.0.0.1'].map(
          (h) => `http://${h}:${process.env.TEMPORAL_UI_PORT || 8233}`,
        ),
    ...(hours ? { sessionSeconds: Math.max(60, Math.round(Number(hours) * 3600)) } : {}),
    host: host!,
    port: Number(port),
  });
  console.error(
    `codec-server: ${server.url}/codec/{decode,encode}; a browser signs in at ` +
      `${server.url.replace('127.0.0.1', 'localhost')}/codec/sign-in`,
  );
} catch (e) {
  console.error(`codec-server: ${(e as Error).message}`);
  process.exit(1);
}
