// The campaign continues as new without losing a timer or a pending action: on the dev server
// (the Java test server does not carry updates across continue-as-new), a campaign whose phase
// windows are seconds apart continues as new after every clock cycle, and still reaches
// reporting on time, takes the results and marks the weak indicators.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDefinitionText } from '../../client/definition-file.ts';
import { BusinessCalendar } from '../../domain/calendar.ts';
import { planCampaign, type CampaignInput } from '../../domain/campaign.ts';
import { campaignStatusQuery, recordResultsUpdate } from '../../domain/messages.ts';
import { formatIsoOffset } from '../../domain/time.ts';
import type { TestDatabase } from '../helpers/postgres.ts';
import { startHarness, type Harness } from '../helpers/temporal.ts';

Runtime.install({ logger: new DefaultLogger('ERROR') });

let harness: Harness;
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let taskQueue: string;

beforeAll(async () => {
  harness = await startHarness('dev');
  ({ env, db, taskQueue } = harness);
});

afterAll(async () => {
  await harness?.close();
});

describe('a campaign that continues as new', () => {
  it('keeps its clock and takes the results in a later run', async () => {
    const t0 = Date.now() + 1000;
    const iso = (ms: number) => formatIsoOffset(t0 + ms, 'Asia/Shanghai');
    const raw = parse(readFileSync('examples/quick-demo.yaml', 'utf8'));
    raw.campaign.id = `can-${Date.now().toString(36)}`;
    raw.campaign.year = new Date(t0).getUTCFullYear();
    raw.phases = {
      training: { start: iso(0), end: iso(3000) },
      dataEntry: { start: iso(3000), end: iso(9000), indicatorsPerDay: 2, slot: 'PT3S' },
      verification: {
        start: iso(9000),
        end: iso(11000),
        evidenceDue: { duration: 'PT1M' },
        samplingProportion: 0.2,
      },
      reporting: { start: iso(11000), end: iso(40000) },
    };
    const r = loadDefinitionText(JSON.stringify(raw), 'can.json');
    expect(r.errors).toEqual([]);
    const plan = planCampaign(r.definition!, r.calendar!, new BusinessCalendar(r.calendar!));
    const input: CampaignInput = {
      definition: r.definition!,
      calendar: r.calendar!,
      plan,
      startedBy: null,
      continueAsNewAfter: 1,
    };
    const id = raw.campaign.id as string;
    const started = await env.client.workflow.start('campaignWorkflow', {
      taskQueue,
      workflowId: id,
      args: [input],
    });
    const handle = env.client.workflow.getHandle(id);

    // Wait for reporting; each phase boundary was a clock cycle and a new run.
    for (let i = 0; i < 120; i++) {
      if ((await handle.query(campaignStatusQuery)).phase === 'reporting') break;
      await new Promise((res) => setTimeout(res, 250));
    }
    expect((await handle.query(campaignStatusQuery)).phase).toBe('reporting');
    const d = await handle.describe();
    expect(d.runId).not.toBe(started.firstExecutionRunId);

    const outcome = await handle.executeUpdate(recordResultsUpdate, {
      args: [
        {
          requestId: randomUUID(),
          actor: 'spj-coord',
          results: [
            { code: 'kbqy', score: 92, rank: 1 },
            { code: 'ns', score: 71, rank: 4 },
            { code: 'jzxk', score: 85, rank: 2 },
            { code: 'scjg', score: 88, rank: 3 },
          ],
        },
      ],
    });
    expect(outcome).toEqual({ imported: 4, rectificationStarted: ['ns'] });
    // The next run still knows the results were imported.
    for (let i = 0; i < 40 && !(await handle.query(campaignStatusQuery)).resultsImported; i++) {
      await new Promise((res) => setTimeout(res, 250));
    }
    expect((await handle.query(campaignStatusQuery)).resultsImported).toBe(true);
    const phases = await db.pool.query('SELECT phase FROM campaigns WHERE campaign_id = $1', [id]);
    expect(phases.rows[0].phase).toBe('reporting');
    const marked = async () =>
      (
        await db.pool.query(
          `SELECT code FROM indicator_status WHERE campaign_id = $1 AND phase = 'rectification'`,
          [id],
        )
      ).rows.map((row) => row.code);
    for (let i = 0; i < 40 && (await marked()).length === 0; i++)
      await new Promise((res) => setTimeout(res, 250));
    expect(await marked()).toEqual(['ns']);
    await handle.terminate('test done');
  });
});
