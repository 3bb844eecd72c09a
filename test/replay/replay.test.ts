// Saved histories of real executions, replayed against today's workflow code: a change that
// would break running workflows (non-determinism) fails here. Regenerate a history only when
// its workflow's behaviour is meant to change, and guard the change with patched().
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { fileURLToPath } from 'node:url';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleWorkflows } from '../helpers/temporal.ts';

const dir = join(import.meta.dirname, 'histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

let bundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  bundle = await bundleWorkflows();
});

describe('saved workflow histories', () => {
  it('are present', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  for (const file of files) {
    it(`replay without non-determinism: ${file}`, async () => {
      const history = historyFromJSON(JSON.parse(readFileSync(join(dir, file), 'utf8')));
      await Worker.runReplayHistory(
        { workflowBundle: bundle },
        history,
        file.replace(/\.json$/, ''),
      );
    });
  }

  it('catch a deliberately non-deterministic change (the negative control)', async () => {
    const changed = await bundleWorkflowCode({
      workflowsPath: fileURLToPath(
        new URL('../workflows/nondeterministic/index.ts', import.meta.url),
      ),
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
    });
    const history = historyFromJSON(
      JSON.parse(readFileSync(join(dir, 'task-full-life.json'), 'utf8')),
    );
    await expect(
      Worker.runReplayHistory({ workflowBundle: changed }, history, 'task-full-life'),
    ).rejects.toBeInstanceOf(DeterminismViolationError);
  });
});
