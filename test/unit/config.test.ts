import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from '../../worker/config.ts';

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
});
