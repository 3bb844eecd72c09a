// Builds or finds everything the project runs on: the Temporal CLI and the Java test server.
// Idempotent; the second run takes seconds. Usage: npm run bootstrap
import {
  ensureTemporalCli,
  ensureTestServer,
  temporalCliVersion,
  ToolError,
  cacheRoot,
} from './lib/tools.ts';

const started = Date.now();
try {
  console.error(`Cache: ${cacheRoot()}`);
  const cli = await ensureTemporalCli();
  console.error(`Temporal CLI: ${cli} (${temporalCliVersion(cli)})`);
  const ts = await ensureTestServer();
  console.error(`Temporal test server: ${ts}`);
  console.error(`Bootstrap done in ${((Date.now() - started) / 1000).toFixed(1)}s`);
} catch (e) {
  console.error(`bootstrap: ${e instanceof ToolError ? e.message : String(e)}`);
  process.exit(1);
}
