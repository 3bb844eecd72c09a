// `npm run services:start|stop|status` on ports and a data folder of the test's own, so that
// it never touches services a developer is running.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/lib/tools.ts';
import { runNode } from '../helpers/cli.ts';
import { freePort } from '../helpers/postgres.ts';

const tsxCli = join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const services = (cmd: string, env: NodeJS.ProcessEnv, extra: string[] = []) =>
  runNode([tsxCli, join(REPO_ROOT, 'scripts', 'services.ts'), cmd, ...extra], env);

let env: NodeJS.ProcessEnv;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'campaign-services-'));
  chmodSync(dataDir, 0o755); // the embedded PostgreSQL runs as the postgres user under root
  env = {
    CAMPAIGN_DATA_DIR: dataDir,
    TEMPORAL_ADDRESS: `localhost:${await freePort()}`,
    TEMPORAL_UI_PORT: String(await freePort()),
    EMBEDDED_PG_PORT: String(await freePort()),
    DATABASE_URL: '',
  };
});

afterAll(async () => {
  if (env) await services('stop', env);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('local services', () => {
  it('start, report their addresses, and are harmless to start twice', async () => {
    const first = await services('start', env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/PostgreSQL started/);
    expect(first.stdout).toMatch(/Temporal started .* Web UI http:\/\/localhost:\d+/);

    const second = await services('start', env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/PostgreSQL already running/);
    expect(second.stdout).toMatch(/Temporal already running/);

    const status = await services('status', env, ['--json']);
    const s = JSON.parse(status.stdout) as {
      service: string;
      running: boolean;
      managed: boolean;
    }[];
    expect(s.map((x) => [x.service, x.running, x.managed])).toEqual([
      ['temporal', true, true],
      ['temporal-ui', true, true],
      ['postgres', true, true],
    ]);
  });

  it("register the product's search attributes", async () => {
    const conn = await Connection.connect({ address: env.TEMPORAL_ADDRESS! });
    try {
      const sa = await conn.operatorService.listSearchAttributes({ namespace: 'default' });
      expect(Object.keys(sa.customAttributes ?? {})).toEqual(
        expect.arrayContaining([
          'CampaignId',
          'IndicatorCode',
          'UnitId',
          'TaskState',
          'Colour',
          'EscalationLevel',
          'DueAt',
        ]),
      );
    } finally {
      await conn.close();
    }
  });

  it('keep workflows across a restart (SQLite persistence)', async () => {
    const connect = async () => {
      const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS! });
      return { connection, client: new Client({ connection }) };
    };
    let { connection, client } = await connect();
    const workflowId = `restart-check-${Date.now()}`;
    // No worker: the workflow just waits in the server's store.
    await client.workflow.start('systemCheckWorkflow', {
      taskQueue: 'no-worker-here',
      workflowId,
      args: [{ checkId: workflowId, sleepMs: 3_600_000, requestedAt: Date.now() }],
    });
    await connection.close();

    expect((await services('stop', env)).code).toBe(0);
    const down = await services('status', env, ['--json']);
    expect((JSON.parse(down.stdout) as { running: boolean }[]).every((x) => !x.running)).toBe(true);
    expect((await services('start', env)).code).toBe(0);

    ({ connection, client } = await connect());
    try {
      const d = await client.workflow.getHandle(workflowId).describe();
      expect(d.status.name).toBe('RUNNING');
      await client.workflow.getHandle(workflowId).terminate('test done');
    } finally {
      await connection.close();
    }
  });

  it('say clearly when a port is taken by something else', async () => {
    const port = await freePort();
    const squatter: Server = createServer(() => {});
    await new Promise<void>((r) => squatter.listen(port, '127.0.0.1', () => r()));
    try {
      const otherEnv = {
        ...env,
        CAMPAIGN_DATA_DIR: mkdtempSync(join(tmpdir(), 'campaign-services-')),
        TEMPORAL_ADDRESS: `localhost:${port}`,
        TEMPORAL_UI_PORT: String(await freePort()),
        DATABASE_URL: `postgres://postgres:postgres@127.0.0.1:${env.EMBEDDED_PG_PORT}/campaign`,
      };
      const r = await services('start', otherEnv);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(`port ${port} \\(for Temporal\\) is already taken by another process`),
      );
    } finally {
      squatter.close();
    }
  });

  it('start nothing when the UI port is taken, and do not call the other program our UI', async () => {
    const uiPort = await freePort();
    const squatter: Server = createServer(() => {});
    await new Promise<void>((r) => squatter.listen(uiPort, '127.0.0.1', () => r()));
    const otherDir = mkdtempSync(join(tmpdir(), 'campaign-services-'));
    chmodSync(otherDir, 0o755);
    const otherEnv = {
      ...env,
      CAMPAIGN_DATA_DIR: otherDir,
      TEMPORAL_ADDRESS: `localhost:${await freePort()}`,
      TEMPORAL_UI_PORT: String(uiPort),
      EMBEDDED_PG_PORT: String(await freePort()),
    };
    try {
      const r = await services('start', otherEnv);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(`port ${uiPort} \\(for the Temporal UI\\) is already taken by another process`),
      );
      const s = JSON.parse((await services('status', otherEnv, ['--json'])).stdout) as {
        service: string;
        running: boolean;
        managed: boolean;
        detail: string;
      }[];
      expect(s.map((x) => [x.service, x.running, x.managed])).toEqual([
        ['temporal', false, false],
        ['temporal-ui', false, false],
        ['postgres', false, false],
      ]);
      expect(s[1]!.detail).toMatch(/taken by another program/);
    } finally {
      squatter.close();
      await services('stop', otherEnv);
      rmSync(otherDir, { recursive: true, force: true });
    }
  });

  it('stop cleanly, and stopping again is harmless', async () => {
    expect((await services('stop', env)).stdout).toMatch(/temporal: stopped/);
    const again = await services('stop', env);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/temporal: not running/);
  });
});
