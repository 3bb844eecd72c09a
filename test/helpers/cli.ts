// Runs the `campaign` command as a user would, capturing stdout, stderr and the exit code.
import { runCampaignCli, runNode, type CliRun } from '../../scripts/lib/run-node.ts';

export { runNode, type CliRun };
export const runCli = runCampaignCli;
