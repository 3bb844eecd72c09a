// Before any test: make sure the servers exist (built or found once, cached by version), so
// that individual test files never build or download anything, and that the compiled CLI is
// current, so that the tests' CLI runs start from it.
import { ensureCliBuild } from '../../bin/cli-build.mjs';
import {
  ensureClusterServers,
  ensureTemporalCli,
  ensureTestServer,
} from '../../scripts/lib/tools.ts';

export default async function setup(): Promise<void> {
  await ensureCliBuild();
  process.env.TEMPORAL_CLI_PATH ||= await ensureTemporalCli();
  process.env.TEMPORAL_TEST_SERVER_PATH ||= await ensureTestServer();
  // The production server, schema tool and UI server of the cluster mode (test/integration/
  // cluster.test.ts): built once (minutes), then found in the cache.
  await ensureClusterServers();
}
