// The worker's health endpoint (WORKER_HEALTH_ADDRESS): GET /health answers 200 with
// {"status":"ready"} once the worker polls its task queue, and 503 while it is starting
// (migrations, connecting, bundling the workflows), draining after SIGTERM, or stopped; a
// load balancer or Docker's health check takes the worker out of rotation as soon as it begins
// to drain. GET /live answers 200 as long as the process serves at all.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ListenAddress } from './config.ts';

export type HealthStatus = 'starting' | 'ready' | 'draining' | 'stopped';

export interface HealthReport {
  status: HealthStatus;
  [detail: string]: unknown;
}

export interface HealthServer {
  /** The address it listens on (the real port when 0 was asked for). */
  url: string;
  close(): Promise<void>;
}

export async function startHealthServer(
  address: ListenAddress,
  report: () => HealthReport,
): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/health' || path === '/ready') {
      const r = report();
      res.writeHead(r.status === 'ready' ? 200 : 503, {
        'content-type': 'application/json',
        'cache-control': 'no-store',
      });
      res.end(`${JSON.stringify(r)}\n`);
    } else if (path === '/live') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"live"}\n');
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host.replace(/^\[|\]$/g, ''), () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Keep-alive connections from a prober must not hold the process open when it stops.
  server.keepAliveTimeout = 1_000;
  const { port } = server.address() as AddressInfo;
  const host =
    address.host.includes(':') && !address.host.startsWith('[')
      ? `[${address.host}]`
      : address.host;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
