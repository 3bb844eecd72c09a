// The codec endpoint the local services' Temporal UI is pointed at, so that auditors read
// decoded payloads: with payload encryption on (CAMPAIGN_CODEC_KEYS or CAMPAIGN_CODEC_KEYS_FILE)
// the endpoint of `npm run codec-server` (CAMPAIGN_CODEC_ADDRESS, default 127.0.0.1:8888), or
// CAMPAIGN_CODEC_UI_ENDPOINT when the codec server is reached some other way (behind a proxy).
// Without encryption the UI gets no endpoint (payloads are in clear).

/** The endpoint to give the UI (…/codec: the UI appends /decode), or null. */
export function uiCodecEndpoint(env: NodeJS.ProcessEnv = process.env): string | null {
  const explicit = env.CAMPAIGN_CODEC_UI_ENDPOINT?.trim();
  if (explicit) return explicit.replace(/\/+$/, '');
  if (!env.CAMPAIGN_CODEC_KEYS?.trim() && !env.CAMPAIGN_CODEC_KEYS_FILE?.trim()) return null;
  const address = env.CAMPAIGN_CODEC_ADDRESS?.trim() || '127.0.0.1:8888';
  return `http://${address}/codec`;
}

/** The dev server's flags for it (`temporal server start-dev --ui-codec-endpoint …`). */
export function devUiCodecFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  const endpoint = uiCodecEndpoint(env);
  return endpoint ? ['--ui-codec-endpoint', endpoint] : [];
}

/** The UI server's configuration section for it (its `codec:` block), or ''. */
export function uiServerCodecYaml(endpoint: string | null): string {
  if (!endpoint) return '';
  // The UI's own access token is not the codec server's: the endpoint's token is configured
  // with it (CAMPAIGN_CODEC_TOKENS) and the browser sends no cookies to it.
  return `codec:
  endpoint: ${JSON.stringify(endpoint)}
  passAccessToken: false
  includeCredentials: false
`;
}
