// The worker's secrets: what channels name with `secretRef` (robot keys, DingTalk signing
// secrets, authorization headers). Read from the environment (`CAMPAIGN_SECRET_<NAME>`) or from
// a secrets file (CAMPAIGN_SECRETS_FILE: `NAME=value` lines, # comments), the environment first.
// Values never leave the worker's memory: not in a workflow's history, not in the database.
import { readFileSync } from 'node:fs';
import { ConfigError } from './config-error.ts';

export type SecretLookup = (name: string) => string | undefined;

export const SECRET_ENV_PREFIX = 'CAMPAIGN_SECRET_';

/** Parses a secrets file: `NAME=value` per line; blank lines and `#` comments skipped. */
export function parseSecretsFile(text: string, path: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([A-Z][A-Z0-9_]{0,62})\s*=\s*(.*)$/.exec(line);
    if (!m)
      throw new ConfigError([
        `${path}:${i + 1}: expected NAME=value with NAME in capitals, digits and _ (the line is not shown: it may hold a secret)`,
      ]);
    out.set(m[1]!, m[2]!.replace(/^"(.*)"$/, '$1'));
  }
  return out;
}

/** The secrets of the environment and of CAMPAIGN_SECRETS_FILE, when it is set. */
export function secretsFromEnv(env: NodeJS.ProcessEnv = process.env): SecretLookup {
  const path = env.CAMPAIGN_SECRETS_FILE;
  let file = new Map<string, string>();
  if (path) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new ConfigError([
        `CAMPAIGN_SECRETS_FILE ${path} cannot be read: ${(e as Error).message}`,
      ]);
    }
    file = parseSecretsFile(text, path);
  }
  return (name) => env[`${SECRET_ENV_PREFIX}${name}`] ?? file.get(name);
}
