// The local services' Temporal UI is pointed at the codec endpoint when payloads are encrypted:
// the dev server's flag and the UI server's configuration, in both modes of services:start.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterLayout, uiServerArgs } from '../../scripts/lib/cluster.ts';
import { devUiCodecFlags, uiCodecEndpoint } from '../../scripts/lib/ui-codec.ts';

const dir = mkdtempSync(join(tmpdir(), 'ui-codec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const layout = (endpoint: string | null) =>
  clusterLayout({
    dir,
    frontendHost: '127.0.0.1',
    frontendPort: 7233,
    uiPort: 8233,
    portBase: 6933,
    historyShards: 4,
    tls: false,
    namespace: 'default',
    pg: { host: '127.0.0.1', port: 55433, user: 'postgres', password: 'x' },
    uiCodecEndpoint: endpoint,
  });

describe("the Temporal UI's codec endpoint", () => {
  it('is the codec server of this machine when codec keys are configured, and none otherwise', () => {
    expect(uiCodecEndpoint({})).toBeNull();
    expect(devUiCodecFlags({})).toEqual([]);
    // Loopback by the name the local UI is opened with: the session cookie is SameSite=Strict.
    expect(uiCodecEndpoint({ CAMPAIGN_CODEC_KEYS: 'k1:abc' })).toBe('http://localhost:8888/codec');
    expect(uiCodecEndpoint({ CAMPAIGN_CODEC_KEYS_FILE: '/etc/keys' })).toBe(
      'http://localhost:8888/codec',
    );
    expect(
      devUiCodecFlags({ CAMPAIGN_CODEC_KEYS: 'k1:abc', CAMPAIGN_CODEC_ADDRESS: '127.0.0.1:9999' }),
    ).toEqual(['--ui-codec-endpoint', 'http://localhost:9999/codec']);
    expect(
      uiCodecEndpoint({ CAMPAIGN_CODEC_KEYS: 'k1:abc', CAMPAIGN_CODEC_ADDRESS: '10.0.0.5:8888' }),
    ).toBe('http://10.0.0.5:8888/codec');
    expect(
      uiCodecEndpoint({ CAMPAIGN_CODEC_UI_ENDPOINT: 'https://codec.example.gov.cn/codec/' }),
    ).toBe('https://codec.example.gov.cn/codec');
  });

  it("is written into the cluster UI server's configuration, with credentials and without the UI's own token", () => {
    const file = join(dir, 'ui', 'config', 'cluster.yaml');
    uiServerArgs(layout('http://127.0.0.1:8888/codec'));
    const yaml = readFileSync(file, 'utf8');
    expect(yaml).toContain('codec:\n  endpoint: "http://127.0.0.1:8888/codec"');
    expect(yaml).toContain('passAccessToken: false');
    expect(yaml).toContain('includeCredentials: true');
    uiServerArgs(layout(null));
    expect(readFileSync(file, 'utf8')).not.toContain('codec:');
  });
});
