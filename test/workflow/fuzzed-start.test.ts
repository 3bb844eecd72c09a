// Definitions the fuzzer's mutations produce and the loader accepts must also run: a sample of
// them (a fixed seed) is moved to begin on the test server's clock, started, and driven through
// training and into data entry under time skipping, with no workflow task failing on the way.
import fc from 'fast-check';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDefinitionBytes } from '../../client/definition-file.ts';
import { BusinessCalendar } from '../../domain/calendar.ts';
import { planCampaign, type CampaignInput } from '../../domain/campaign.ts';
import { rehearse } from '../../domain/rehearsal.ts';
import { definitionInput } from '../../scripts/lib/fuzz-targets.ts';
import type { TestDatabase } from '../helpers/postgres.ts';
import { startHarness, type Harness } from '../helpers/temporal.ts';

Runtime.install({ logger: new DefaultLogger('ERROR') });

let harness: Harness;
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let taskQueue: string;
beforeAll(async () => {
  harness = await startHarness('time-skipping');
  ({ env, db, taskQueue } = harness);
});
afterAll(async () => {
  await harness?.close();
});

/** Accepted mutated definitions small enough to drive here (the quick demo's size). */
function acceptedSample(count: number) {
  const out: NonNullable<ReturnType<typeof loadDefinitionBytes>>[] = [];
  const seen = new Set<string>();
  for (const input of fc.sample(definitionInput, { seed: 20261201, numRuns: 3000 })) {
    const r = loadDefinitionBytes(input.bytes, input.name);
    if (!r.valid || !r.definition || r.definition.indicators.length > 6) continue;
    const key = JSON.stringify(r.definition);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(r);
    if (out.length === count) break;
  }
  return out;
}

const WORKFLOW_TASK_FAILED = temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED;

describe('fuzzed definitions the loader accepts', () => {
  it('start and run through training without a workflow task failing', async () => {
    const sample = acceptedSample(3);
    expect(sample).toHaveLength(3);
    let n = 0;
    for (const loaded of sample) {
      const now = await env.currentTimeMs();
      const moved = rehearse(loaded.definition!, { begin: 'now' }, () => now);
      const def = moved.definition;
      def.campaign.id = `fuzzed-${++n}-${now.toString(36)}`;
      const plan = planCampaign(def, moved.calendar, new BusinessCalendar(moved.calendar));
      const input: CampaignInput = {
        definition: def,
        calendar: moved.calendar,
        plan,
        startedBy: null,
      };
      const campaign = await env.client.workflow.start('campaignWorkflow', {
        taskQueue,
        workflowId: def.campaign.id,
        args: [input],
      });
      // Through training and a day beyond: tasks start, remind, escalate and are projected.
      await env.sleep(Math.max(0, plan.phases.training.end - now) + 86_400_000);
      const ids = [def.campaign.id, ...def.indicators.map((i) => `${def.campaign.id}/${i.code}`)];
      for (const id of ids) {
        const h = env.client.workflow.getHandle(id);
        const history = await h.fetchHistory();
        const failed = (history.events ?? []).filter((e) => e.eventType === WORKFLOW_TASK_FAILED);
        expect(failed, `${id}: a workflow task failed`).toHaveLength(0);
        expect(['RUNNING', 'COMPLETED']).toContain((await h.describe()).status.name);
      }
      const tasks = await db.pool.query(
        'SELECT count(*)::int AS n FROM tasks WHERE campaign_id = $1',
        [def.campaign.id],
      );
      expect(tasks.rows[0].n, `${def.campaign.id}: its training tasks`).toBeGreaterThan(0);
      await campaign.terminate('checked');
      for (const i of def.indicators)
        await env.client.workflow
          .getHandle(`${def.campaign.id}/${i.code}`)
          .terminate('checked')
          .catch(() => undefined);
    }
    // Three campaigns through training on one time-skipping server: on two busy cores this
    // takes minutes, not the default two.
  }, 600_000);
});
