#!/usr/bin/env node
// Entry point of the `campaign` command. It runs the compiled CLI in dist/cli (see
// bin/cli-build.mjs: built by `npm ci`, checked on every start against the sources and rebuilt
// when one has changed), so that a command starts in a fraction of a second and loads only the
// code and packages it needs. When no build can be made (a read-only checkout, a source esbuild
// cannot compile), or when CAMPAIGN_CLI_SOURCE=1 asks for it, it runs the TypeScript sources
// through tsx instead. CAMPAIGN_CLI_TRACE=1 says on stderr which of them runs.
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCli, currentBuild, REPO_ROOT } from './cli-build.mjs';

function trace(message) {
  if (process.env.CAMPAIGN_CLI_TRACE === '1') process.stderr.write(`campaign: ${message}\n`);
}

async function compiledEntry() {
  if (process.env.CAMPAIGN_CLI_SOURCE === '1') return undefined;
  const current = currentBuild();
  if (current) return { url: current, how: 'current' };
  try {
    return { url: await buildCli(), how: 'rebuilt, a source had changed' };
  } catch (e) {
    process.stderr.write(
      `campaign: the compiled command could not be rebuilt (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); running from the TypeScript sources\n`,
    );
    return undefined;
  }
}

const entry = await compiledEntry();
if (entry) {
  trace(`compiled build ${relative(REPO_ROOT, fileURLToPath(entry.url))} (${entry.how})`);
  await import(entry.url);
} else {
  trace('TypeScript sources through tsx');
  const { register } = await import('tsx/esm/api');
  register();
  await import('../client/cli.ts');
}
