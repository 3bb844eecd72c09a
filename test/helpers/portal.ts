// The portal for a test: built on a harness's Temporal client and database, listening on a free
// port of 127.0.0.1, configured through the same environment variables as `npm run portal`.
import { readConfig } from '../../worker/config.ts';
import { buildPortal, type PortalApp } from '../../portal/app.ts';
import { readPortalConfig, type PortalConfig } from '../../portal/config.ts';
import type { Harness } from './temporal.ts';

export interface TestPortal {
  url: string;
  app: PortalApp;
  cfg: PortalConfig;
  close(): Promise<void>;
}

export async function startPortal(
  harness: Harness,
  env: Record<string, string> = {},
): Promise<TestPortal> {
  const shared = readConfig({
    TEMPORAL_ADDRESS: harness.env.address,
    DATABASE_URL: harness.db.url,
    TEMPORAL_TASK_QUEUE: harness.taskQueue,
  });
  // The port is known only once listening: the public URL is set to it afterwards.
  const cfg = readPortalConfig({ PORTAL_PORT: '1', ...env }, shared);
  const app = await buildPortal({ pool: harness.db.pool, temporal: harness.env.client, cfg });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  cfg.port = port;
  if (!env.PORTAL_PUBLIC_URL) cfg.publicUrl = url;
  return { url, app, cfg, close: () => app.close() };
}

/** A campaign definition's text under another campaign id (for `task create --file`). */
export function withCampaignId(yamlText: string, id: string): string {
  return yamlText.replace(/^ {2}id: demo-2026$/m, `  id: ${id}`);
}
