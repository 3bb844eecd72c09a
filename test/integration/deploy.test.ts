// The deployment stack (Dockerfile, docker-compose.yml), checked without a Docker engine:
// `docker-compose config` validates and normalises the compose file, and the result is compared
// with the code it deploys: the search attributes, the worker's configuration variables, its
// entry point and its shutdown grace.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ALL_SEARCH_ATTRIBUTES, searchAttributeFlags } from '../../domain/search-attributes.ts';
import { REPO_ROOT, TEMPORAL_SERVER_VERSION } from '../../scripts/lib/tools.ts';
import { readPortalConfig } from '../../portal/config.ts';
import { readConfig, WORKER_DEFAULTS, WORKER_HEAP_MIB } from '../../worker/config.ts';

const COMPOSE_FILE = join(REPO_ROOT, 'docker-compose.yml');
const SERVICES = [
  'temporal-db',
  'temporal-schema',
  'temporal',
  'temporal-setup',
  'temporal-ui',
  'campaign-db',
  'worker',
  'portal',
];
const ONE_SHOT = new Set(['temporal-schema', 'temporal-setup']);

interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string };
  entrypoint?: string[] | string;
  command?: string[] | string;
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[] | string; disable?: boolean };
  init?: boolean;
  restart?: string;
  stop_signal?: string;
  stop_grace_period?: string;
}

let scratch: string;
let emptyEnvFile: string;

/** Runs docker-compose on the file with only the defaults written in it: no variables from the
 * caller's shell or from a .env file a developer may keep next to it. */
function compose(...args: string[]) {
  const r = spawnSync(
    'docker-compose',
    ['--env-file', emptyEnvFile, '--file', COMPOSE_FILE, ...args],
    {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      timeout: 60_000,
    },
  );
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error(
      'docker-compose is not on PATH, so the deployment files cannot be validated. Install it ' +
        'with `apt-get install docker-compose` (Debian’s docker-compose 1.29 validates compose ' +
        'files without a Docker engine; `npm test` installs it through scripts/lib/system-packages.ts).',
    );
  }
  if (r.error) throw r.error;
  return r;
}

/** Seconds in a Go/compose duration such as `45s`, `1m30s`, `500ms`. */
function seconds(duration: string): number {
  const parts = [...duration.matchAll(/(\d+(?:\.\d+)?)(h|ms|us|m|s)/g)];
  expect(parts.map((p) => p[0]).join(''), `duration "${duration}"`).toBe(duration);
  const unit = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6 } as const;
  return parts.reduce((sum, p) => sum + Number(p[1]) * unit[p[2] as keyof typeof unit], 0);
}

function words(value: string[] | string | undefined): string {
  return Array.isArray(value) ? value.join(' ') : (value ?? '');
}

/** The instructions of the Dockerfile's final stage, continuation lines joined. */
function finalStage(dockerfile: string): { instruction: string; args: string }[] {
  const lines = dockerfile
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [instruction = '', ...rest] = l.split(/\s+/);
      return { instruction: instruction.toUpperCase(), args: rest.join(' ') };
    });
  const lastFrom = lines.map((l) => l.instruction).lastIndexOf('FROM');
  return lines.slice(lastFrom);
}

function execForm(stage: { instruction: string; args: string }[], instruction: string): string[] {
  const found = stage.filter((l) => l.instruction === instruction).at(-1);
  expect(found, `the final stage has a ${instruction}`).toBeDefined();
  expect(found!.args, `${instruction} is in exec form (a JSON array)`).toMatch(/^\[.*\]$/);
  return JSON.parse(found!.args) as string[];
}

let loaded: Record<string, Service> | Error | undefined;

/** The services as `docker-compose config` normalises them. Read on first use; when
 * docker-compose is missing or rejects the file, every test that needs it fails with that. */
function stack(): Record<string, Service> {
  if (loaded === undefined) {
    try {
      const r = compose('config');
      if (r.status !== 0) throw new Error(`docker-compose config failed:\n${r.stderr}`);
      loaded = (parse(r.stdout) as { services: Record<string, Service> }).services;
    } catch (e) {
      loaded = e as Error;
    }
  }
  if (loaded instanceof Error) throw loaded;
  return loaded;
}

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'campaign-deploy-'));
  emptyEnvFile = join(scratch, 'empty.env');
  writeFileSync(emptyEnvFile, '');
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe('docker-compose.yml', () => {
  it('is valid for docker-compose, without warnings', () => {
    const r = compose('config', '--quiet');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/warn|deprecat|error/i);
  });

  it('runs the seven services of the stack', () => {
    const r = compose('config', '--services');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').sort()).toEqual([...SERVICES].sort());
    expect(Object.keys(stack()).sort()).toEqual([...SERVICES].sort());
  });

  it('gives every long-running service a healthcheck and a restart policy', () => {
    for (const [name, s] of Object.entries(stack())) {
      if (ONE_SHOT.has(name)) continue;
      expect(s.healthcheck?.disable, name).not.toBe(true);
      expect(words(s.healthcheck?.test), `${name} has a healthcheck`).toMatch(/^CMD(-SHELL)? \S/);
      expect(s.restart, name).toBe('unless-stopped');
    }
  });

  it('pins every pulled image to a version', () => {
    for (const [name, s] of Object.entries(stack())) {
      if (s.build) continue;
      expect(s.image, name).toMatch(/^[\w./-]+:[\w.-]+$/);
      expect(s.image, name).not.toMatch(/:latest$/);
    }
  });

  it('keeps Temporal and the product in separate databases, with matching credentials', () => {
    const temporalDb = stack()['temporal-db']!.environment!;
    const temporal = stack().temporal!.environment!;
    expect(temporal.DB).toBe('postgres12');
    expect(temporal.POSTGRES_SEEDS).toBe('temporal-db');
    expect(temporal.POSTGRES_USER).toBe(temporalDb.POSTGRES_USER);
    expect(temporal.POSTGRES_PWD).toBe(temporalDb.POSTGRES_PASSWORD);
    expect(stack().temporal!.depends_on?.['temporal-db']?.condition).toBe('service_healthy');

    const campaignDb = stack()['campaign-db']!.environment!;
    const url = new URL(stack().worker!.environment!.DATABASE_URL!);
    expect(url.hostname).toBe('campaign-db');
    expect(decodeURIComponent(url.username)).toBe(campaignDb.POSTGRES_USER);
    expect(decodeURIComponent(url.password)).toBe(campaignDb.POSTGRES_PASSWORD);
    expect(url.pathname).toBe(`/${campaignDb.POSTGRES_DB}`);
  });

  it('gives the worker and the portal their own logins in their least-privilege roles', () => {
    const init = readFileSync(join(REPO_ROOT, 'db/compose-init/10-roles.sh'), 'utf8');
    const worker = new URL(stack().worker!.environment!.WORKER_DATABASE_URL!);
    const portal = new URL(stack().portal!.environment!.PORTAL_DATABASE_URL!);
    expect(init).toContain(
      `CREATE ROLE ${worker.username} LOGIN PASSWORD :'worker_pw' IN ROLE campaign_worker`,
    );
    expect(init).toContain(
      `CREATE ROLE ${portal.username} LOGIN PASSWORD :'portal_pw' IN ROLE campaign_portal`,
    );
    expect(readConfig(stack().worker!.environment!).workerDatabaseUrl).toBe(worker.href);
    expect(readConfig(stack().portal!.environment!).portalDatabaseUrl).toBe(portal.href);
    expect(stack()['campaign-db']!.environment!.CAMPAIGN_WORKER_DB_PASSWORD).toBe(
      decodeURIComponent(worker.password),
    );
  });

  it('registers exactly the search attributes the code defines, idempotently', () => {
    const setup = stack()['temporal-setup']!;
    const script = words(setup.command);
    const registered = [
      ...script.matchAll(/\b([A-Za-z]\w*)=(Keyword|KeywordList|Text|Int|Double|Bool|Datetime)\b/g),
    ].map((m) => `${m[1]}=${m[2]}`);
    // searchAttributeFlags() is ALL_SEARCH_ATTRIBUTES as Name=Type: a new attribute in
    // domain/search-attributes.ts must be added to the compose file too.
    expect(registered.sort()).toEqual(searchAttributeFlags().sort());
    expect(registered).toHaveLength(ALL_SEARCH_ATTRIBUTES.length);
    expect(script).toMatch(
      /temporal operator search-attribute create --address temporal:7233 --namespace default --name "\$\$name" --type "\$\$type"/,
    );
    expect(script, 'tolerates attributes that already exist').toMatch(/already exists/);
    // admin-tools' own entrypoint is `tini -- sleep infinity`, which would never run a command.
    expect(words(setup.entrypoint)).toMatch(/^\/bin\/(ba)?sh -c$/);
    expect(setup.restart).toBe('no');
    expect(setup.depends_on?.temporal?.condition).toBe('service_healthy');
  });

  it('runs the server and schema of the cluster mode, with its dynamic configuration', () => {
    const temporal = stack().temporal! as Service & { volumes?: (string | { source?: string })[] };
    expect(temporal.image).toBe(`temporalio/server:${TEMPORAL_SERVER_VERSION}`);
    expect(temporal.depends_on?.['temporal-schema']?.condition).toBe(
      'service_completed_successfully',
    );
    expect(temporal.environment?.NUM_HISTORY_SHARDS).toMatch(/^\d+$/);
    const mounts = (temporal.volumes ?? []).map((v) => (typeof v === 'string' ? v : v.source));
    expect(mounts.some((m) => String(m).includes('deploy/temporal-dynamic.yaml'))).toBe(true);
    const schema = stack()['temporal-schema']!;
    expect(schema.image).toMatch(
      new RegExp(`^temporalio/admin-tools:${TEMPORAL_SERVER_VERSION.replace(/\./g, '\\.')}-`),
    );
    const script = words(schema.command);
    expect(script).toMatch(/temporal-sql-tool --plugin postgres12/);
    expect(script).toMatch(/setup-schema -v 0\.0/);
    expect(script).toMatch(
      /update-schema -d \/etc\/temporal\/schema\/postgresql\/v12\/\$\$dir\/versioned/,
    );
    expect(script).toMatch(/temporal_visibility:visibility/);
    expect(schema.restart).toBe('no');
  });

  it('puts the Temporal UI on port 8233 against the compose Temporal', () => {
    const ui = stack()['temporal-ui']!;
    expect(ui.environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');
    // docker-compose 1.29 normalises short port syntax to `[ip:]published:target/proto`.
    const ports = (ui as { ports?: string[] }).ports ?? [];
    expect(
      ports.some((p) => /(^|:)8233:8080(\/tcp)?$/.test(String(p))),
      String(ports),
    ).toBe(true);
    expect(ui.depends_on?.temporal?.condition).toBe('service_healthy');
  });
});

describe('the worker service', () => {
  it('builds from the Dockerfile and starts after the search attributes are registered', () => {
    const w = stack().worker!;
    expect(w.build?.context).toBe(REPO_ROOT);
    expect(w.build?.dockerfile ?? 'Dockerfile').toBe('Dockerfile');
    expect(w.depends_on?.['temporal-setup']?.condition).toBe('service_completed_successfully');
    expect(w.depends_on?.['campaign-db']?.condition).toBe('service_healthy');
  });

  it('is configured only with variables worker/config.ts reads, and with valid values', () => {
    const source = readFileSync(join(REPO_ROOT, 'worker', 'config.ts'), 'utf8');
    // The environment's names are the schemas' keys: two spaces in, upper case.
    const known = [...source.matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]);
    expect(known).toContain('DATABASE_URL');

    const env = stack().worker!.environment!;
    for (const name of Object.keys(env)) {
      expect(known, `${name} is read by worker/config.ts`).toContain(name);
    }
    const cfg = readConfig(env);
    expect(cfg.embeddedDatabase).toBe(false);
    expect(cfg.temporalAddress).toBe('temporal:7233');
    expect(cfg.temporalNamespace).toBe('default');
  });

  it('drains in-flight activities on SIGTERM before Docker kills it', () => {
    const w = stack().worker!;
    expect(w.stop_signal).toBe('SIGTERM');
    const grace = readConfig(w.environment!).shutdownGrace;
    expect(seconds(w.stop_grace_period ?? '10s')).toBeGreaterThanOrEqual(seconds(grace) + 10);
  });

  it("checks its health on the worker's own health endpoint, where the worker serves it", () => {
    const w = stack().worker!;
    const cfg = readConfig(w.environment!);
    expect(cfg.healthAddress, 'WORKER_HEALTH_ADDRESS is set').toBeDefined();
    const probe = words(w.healthcheck?.test);
    expect(probe).toContain(`http://127.0.0.1:${cfg.healthAddress!.port}/health`);
    expect(['0.0.0.0', '127.0.0.1']).toContain(cfg.healthAddress!.host);
    // Metrics for a Prometheus on the stack's network, not published on the host.
    expect(cfg.metricsAddress).toBeDefined();
    expect((w as { ports?: unknown[] }).ports ?? []).toEqual([]);
  });

  it('runs within the memory its cache is sized for', () => {
    const w = stack().worker! as { mem_limit?: string | number };
    const limit =
      typeof w.mem_limit === 'number' ? w.mem_limit : Number.parseInt(String(w.mem_limit), 10);
    const bytes = /g/i.test(String(w.mem_limit)) ? limit * 2 ** 30 : limit;
    expect(bytes).toBeGreaterThanOrEqual(2 ** 30);
    expect(readConfig(stack().worker!.environment!).worker.maxCachedWorkflows).toBeLessThanOrEqual(
      WORKER_DEFAULTS.maxCachedWorkflows,
    );
  });
});

describe('the portal service', () => {
  it('runs portal/main.ts from the same image, after the database and the search attributes', () => {
    const p = stack().portal!;
    expect(p.build?.context).toBe(REPO_ROOT);
    expect(p.image).toBe(stack().worker!.image);
    expect(words(p.command)).toMatch(/^node --import tsx portal\/main\.ts$/);
    expect(p.depends_on?.['campaign-db']?.condition).toBe('service_healthy');
    expect(p.depends_on?.['temporal-setup']?.condition).toBe('service_completed_successfully');
  });

  it('is configured only with variables that worker/config.ts or portal/config.ts read', () => {
    const known = ['worker', 'portal'].flatMap((dir) => {
      const source = readFileSync(join(REPO_ROOT, dir, 'config.ts'), 'utf8');
      return [...source.matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]);
    });
    expect(known).toContain('PORTAL_PORT');
    const env = stack().portal!.environment!;
    for (const name of Object.keys(env)) expect(known, `${name} is read`).toContain(name);
    const cfg = readPortalConfig(env, readConfig(env));
    expect(cfg.host).toBe('0.0.0.0');
    expect(cfg.shared.embeddedDatabase).toBe(false);
    expect(stack().portal!.environment!.DATABASE_URL).toBe(
      stack().worker!.environment!.DATABASE_URL,
    );
  });

  it('is healthy by GET /health on the port it listens on, published on loopback only', () => {
    const p = stack().portal! as Service & {
      ports?: (string | { published: string | number; target: number; host_ip?: string })[];
    };
    const port = readPortalConfig(p.environment!, readConfig(p.environment!)).port;
    expect(words(p.healthcheck?.test)).toContain(`fetch('http://127.0.0.1:${port}/health')`);
    // docker-compose 1.29 keeps the short form; newer ones write it out.
    expect(
      p.ports?.map((x) =>
        typeof x === 'string' ? x.replace(/\/tcp$/, '') : `${x.host_ip}:${x.published}:${x.target}`,
      ),
    ).toEqual([`127.0.0.1:8080:${port}`]);
    const app = readFileSync(join(REPO_ROOT, 'portal', 'app.ts'), 'utf8');
    expect(app).toContain("app.get('/health'");
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
  const stage = finalStage(dockerfile);

  it('is built on Node 20 and installs the runtime dependencies from the lockfile', () => {
    expect(dockerfile).toMatch(/node:20-bookworm-slim/);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    // --omit=dev: tsx, which runs the TypeScript, must stay a runtime dependency.
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(pkg.dependencies)).toContain('tsx');
  });

  it("runs the worker's entry with an init in front that forwards SIGTERM", () => {
    const cmd = execForm(stage, 'CMD');
    expect(cmd).toContain('worker/main.ts');
    expect(cmd.join(' ')).toBe(
      `node --max-old-space-size=${WORKER_HEAP_MIB} --import tsx worker/main.ts`,
    );
    // The same as `npm run worker`.
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.worker).toBe(cmd.join(' '));
    const entrypoint = stage.some((l) => l.instruction === 'ENTRYPOINT')
      ? execForm(stage, 'ENTRYPOINT')
      : [];
    const imageInit = /(^|\/)tini$/.test(entrypoint[0] ?? '');
    expect(imageInit || stack().worker!.init === true, 'tini in the image or init: true').toBe(
      true,
    );
  });

  it('keeps node_modules, git and local data out of the build context', () => {
    const ignored = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    for (const entry of ['node_modules', '.git', '.data', '.artifacts']) {
      expect(ignored).toContain(entry);
    }
  });
});
