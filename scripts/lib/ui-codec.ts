// The codec endpoint the local services' Temporal UI is pointed at, so that auditors read
// decoded payloads: with payload encryption on (CAMPAIGN_CODEC_KEYS or CAMPAIGN_CODEC_KEYS_FILE)
// the endpoint of `npm run codec-server` (CAMPAIGN_CODEC_ADDRESS, default 127.0.0.1:8888), or
// CAMPAIGN_CODEC_UI_ENDPOINT when the codec server is reached some other way (behind a proxy).
// Without encryption the UI gets no endpoint (payloads are in clear).
//
// The UI's browser shows the codec server a session cookie (worker/codec-server.ts: an auditor
// signs in at …/codec/sign-in), so the UI server is told to include credentials. The cookie is
// SameSite=Strict: the endpoint must be on the same site as the page of the UI, hence
// `localhost` for a codec server on this machine's loopback, the name the local UI is opened
// with (http://localhost:8233).

/** The endpoint to give the UI (…/codec: the UI appends /decode), or null. */
export function uiCodecEndpoint(env: NodeJS.ProcessEnv = process.env): string | null {
  const explicit = env.CAMPAIGN_CODEC_UI_ENDPOINT?.trim();
  if (explicit) return explicit.replace(/\/+$/, '');
  if (!env.CAMPAIGN_CODEC_KEYS?.trim() && !env.CAMPAIGN_CODEC_KEYS_FILE?.trim()) return null;
  const address = env.CAMPAIGN_CODEC_ADDRESS?.trim() || '127.0.0.1:8888';
  const [host, port] = address.split(/:(?=\d+$)/);
  const loopback = host === '127.0.0.1' || host === 'localhost';
  return `http://${loopback ? 'localhost' : host}${port ? `:${port}` : ''}/codec`;
}

/** The dev server's flags for it (`temporal server start-dev --ui-codec-endpoint …`). */
export function devUiCodecFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  const endpoint = uiCodecEndpoint(env);
  return endpoint ? ['--ui-codec-endpoint', endpoint] : [];
}

/** The UI server's configuration section for it (its `codec:` block), or ''. */
export function uiServerCodecYaml(endpoint: string | null): string {
  if (!endpoint) return '';
  // The UI's own access token (its OIDC sign-in, when it has one) is not a codec token: the
  // browser shows the codec server its session cookie instead (credentials included).
  return `codec:
  endpoint: ${JSON.stringify(endpoint)}
  passAccessToken: false
  includeCredentials: true
`;
}
