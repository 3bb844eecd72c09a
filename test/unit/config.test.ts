import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig, WORKER_DEFAULTS } from '../../worker/config.ts';

describe('configuration from the environment', () => {
  it('has local defaults for everything', () => {
    const c = readConfig({});
    expect(c.temporalAddress).toBe('localhost:7233');
    expect(c.temporalNamespace).toBe('default');
    expect(c.embeddedDatabase).toBe(true);
    expect(c.databaseUrl).toBe('postgres://postgres:postgres@127.0.0.1:55433/campaign');
  });

  it('takes DATABASE_URL and treats empty variables as unset', () => {
    const c = readConfig({ DATABASE_URL: 'postgres://u:p@db:5432/x', TEMPORAL_NAMESPACE: '' });
    expect(c.embeddedDatabase).toBe(false);
    expect(c.databaseUrl).toBe('postgres://u:p@db:5432/x');
    expect(c.temporalNamespace).toBe('default');
  });

  it('names every bad variable and its value', () => {
    try {
      readConfig({
        TEMPORAL_ADDRESS: 'localhost',
        DATABASE_URL: 'mysql://x',
        TEMPORAL_UI_PORT: '99999',
      });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const msg = (e as Error).message;
      expect(msg).toMatch(/TEMPORAL_ADDRESS="localhost": must be host:port/);
      expect(msg).toMatch(/DATABASE_URL="mysql:\/\/x": must be a postgres:\/\/ connection URL/);
      expect(msg).toMatch(/TEMPORAL_UI_PORT="99999"/);
    }
  });

  it('bounds the worker by default: a workflow cache, task slots, no metrics or health port', () => {
    const c = readConfig({});
    expect(c.worker).toEqual({
      maxCachedWorkflows: 120,
      maxConcurrentWorkflowTasks: 40,
      maxConcurrentActivities: 20,
      maxConcurrentLocalActivities: 40,
    });
    expect(c.worker).toEqual(WORKER_DEFAULTS);
    expect(c.maxConcurrentActivities).toBe(20);
    expect(c.metricsAddress).toBeUndefined();
    expect(c.healthAddress).toBeUndefined();
  });

  it('takes the cache, the slots and the addresses of metrics and health from the environment', () => {
    const c = readConfig({
      WORKER_MAX_CACHED_WORKFLOWS: '500',
      WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '40',
      WORKER_MAX_CONCURRENT_ACTIVITIES: '50',
      WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES: '30',
      WORKER_METRICS_ADDRESS: '0.0.0.0:9464',
      WORKER_HEALTH_ADDRESS: '8080',
    });
    expect(c.worker).toEqual({
      maxCachedWorkflows: 500,
      maxConcurrentWorkflowTasks: 40,
      maxConcurrentActivities: 50,
      maxConcurrentLocalActivities: 30,
    });
    expect(c.maxConcurrentActivities).toBe(50);
    expect(c.metricsAddress).toEqual({ host: '0.0.0.0', port: 9464 });
    // A bare port is on loopback; port 0 (any free one) only for the health endpoint.
    expect(c.healthAddress).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(readConfig({ WORKER_HEALTH_ADDRESS: '127.0.0.1:0' }).healthAddress).toEqual({
      host: '127.0.0.1',
      port: 0,
    });
    expect(readConfig({ WORKER_METRICS_ADDRESS: '[::1]:9464' }).metricsAddress).toEqual({
      host: '[::1]',
      port: 9464,
    });
  });

  it('refuses a cache that would turn sticky execution off, and bad addresses, naming each', () => {
    const problems = (env: NodeJS.ProcessEnv): string => {
      try {
        readConfig(env);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      return expect.unreachable() as never;
    };
    const msg = problems({
      WORKER_MAX_CACHED_WORKFLOWS: '0',
      WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES: 'many',
      WORKER_METRICS_ADDRESS: 'localhost:0',
      WORKER_HEALTH_ADDRESS: 'http://127.0.0.1:8080',
    });
    expect(msg).toMatch(/WORKER_MAX_CACHED_WORKFLOWS="0": .*>=2/);
    expect(msg).toMatch(/WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES="many"/);
    expect(msg).toMatch(/WORKER_METRICS_ADDRESS="localhost:0": the port must be 1 to 65535/);
    expect(msg).toMatch(
      /WORKER_HEALTH_ADDRESS="http:\/\/127.0.0.1:8080": must be host:port or a port/,
    );
    expect(
      problems({ WORKER_MAX_CACHED_WORKFLOWS: '20', WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '40' }),
    ).toMatch(
      /WORKER_MAX_CONCURRENT_WORKFLOW_TASKS="40": must not exceed WORKER_MAX_CACHED_WORKFLOWS \(20\)/,
    );
    expect(problems({ WORKER_HEALTH_ADDRESS: '70000' })).toMatch(
      /WORKER_HEALTH_ADDRESS="70000": the port must be 0 to 65535/,
    );
  });
});
