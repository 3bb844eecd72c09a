// Update handlers that cannot race: on the dev server, with one local activity held so that an
// update's handler is suspended at its first await while a second request arrives, the second
// request must be judged on what the first has already claimed. And one truth about where an
// indicator stands when the bureau starts its rectification by hand during verification.
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDefinitionText } from '../../client/definition-file.ts';
import { BusinessCalendar } from '../../domain/calendar.ts';
import { indicatorWorkflowId, planCampaign, type CampaignInput } from '../../domain/campaign.ts';
import {
  campaignStatusQuery,
  indicatorStatusQuery,
  movePhaseUpdate,
  recordResultsUpdate,
  rectifyClosedUpdate,
  startRectificationUpdate,
} from '../../domain/messages.ts';
import type { PhaseName } from '../../domain/definition.ts';
import { formatIsoOffset } from '../../domain/time.ts';
import type { TestDatabase } from '../helpers/postgres.ts';
import { runCli } from '../helpers/cli.ts';
import { startHarness, type Harness } from '../helpers/temporal.ts';

Runtime.install({ logger: new DefaultLogger('ERROR') });

/** Activities a test holds: each call waits until its gate opens; calls are counted. */
const held = new Map<string, { open: Promise<void>; release: () => void }>();
const calls = new Map<string, number>();
function hold(name: string) {
  let release!: () => void;
  const open = new Promise<void>((r) => (release = r));
  held.set(name, { open, release });
  return () => {
    held.delete(name);
    release();
  };
}

let harness: Harness;
let env: TestWorkflowEnvironment;
let db: TestDatabase;

beforeAll(async () => {
  harness = await startHarness('dev', {
    activityDeps: {
      beforeActivity: async (name) => {
        calls.set(name, (calls.get(name) ?? 0) + 1);
        await held.get(name)?.open;
      },
    },
  });
  ({ env, db } = harness);
});

afterAll(async () => {
  for (const h of held.values()) h.release();
  await harness?.close();
});

async function eventually<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean) {
  for (let i = 0; i < 600; i++) {
    const v = await read();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** The quick example with windows of hours from now, started on the harness's worker. */
async function startCampaign(): Promise<string> {
  const t0 = Date.now();
  const iso = (h: number) => formatIsoOffset(t0 + h * 3_600_000, 'Asia/Shanghai');
  const raw = parse(readFileSync('examples/quick-demo.yaml', 'utf8'));
  raw.campaign.id = `race-${randomUUID().slice(0, 8)}`;
  raw.campaign.year = Number(iso(0).slice(0, 4));
  raw.phases.training = { start: iso(0), end: iso(1) };
  raw.phases.dataEntry = { ...raw.phases.dataEntry, start: iso(1), end: iso(2), slot: 'PT1H' };
  raw.phases.dataEntry.indicatorsPerDay = raw.indicators.length;
  raw.phases.verification = { ...raw.phases.verification, start: iso(2), end: iso(3) };
  raw.phases.reporting = { start: iso(3), end: iso(4) };
  const r = loadDefinitionText(JSON.stringify(raw), 'race.json');
  expect(r.errors).toEqual([]);
  const plan = planCampaign(r.definition!, r.calendar!, new BusinessCalendar(r.calendar!));
  const input: CampaignInput = {
    definition: r.definition!,
    calendar: r.calendar!,
    plan,
    startedBy: null,
  };
  await env.client.workflow.start('campaignWorkflow', {
    taskQueue: harness.taskQueue,
    workflowId: plan.campaignId,
    args: [input],
  });
  return plan.campaignId;
}

async function closePhases(id: string, ...phases: PhaseName[]) {
  const h = env.client.workflow.getHandle(id);
  for (const phase of phases)
    await h.executeUpdate(movePhaseUpdate, {
      args: [
        { requestId: randomUUID(), actor: 'spj-coord', phase, action: 'close', reason: '测试' },
      ],
    });
}

const results = [
  { code: 'kbqy', score: 72, rank: 4 },
  { code: 'ns', score: 91, rank: 1 },
  { code: 'jzxk', score: 86, rank: 2 },
  { code: 'scjg', score: 83, rank: 3 },
];

describe('update handlers under a forced interleaving', () => {
  it('judge a second results import on the first one already under way, not after it', async () => {
    const id = await startCampaign();
    await closePhases(id, 'training', 'dataEntry', 'verification');
    const h = env.client.workflow.getHandle(id);
    await eventually(
      'reporting',
      () => h.query(campaignStatusQuery),
      (s) => s.phase === 'reporting',
    );

    // Out-of-range figures are refused by the campaign itself, from any client.
    const outOfRange = await h
      .executeUpdate(recordResultsUpdate, {
        args: [
          {
            requestId: randomUUID(),
            actor: 'spj-coord',
            results: results.map((r) => (r.code === 'ns' ? { ...r, score: 150, rank: 0 } : r)),
          },
        ],
      })
      .then(
        () => 'accepted',
        (e: Error) => String((e.cause as Error | undefined)?.message ?? e),
      );
    expect(outOfRange).toMatch(/a score is 0 to 100 and a rank .* not so for: ns$/);

    const before = calls.get('recordResults') ?? 0;
    const release = hold('recordResults');
    const first = h.executeUpdate(recordResultsUpdate, {
      args: [{ requestId: randomUUID(), actor: 'spj-coord', results }],
    });
    await eventually(
      'the first import held in its activity',
      async () => calls.get('recordResults') ?? 0,
      (n) => n === before + 1,
    );
    let second: { ok: boolean; message: string } | null = null;
    void h
      .executeUpdate(recordResultsUpdate, {
        args: [{ requestId: randomUUID(), actor: 'spj-coord', results }],
      })
      .then(
        () => (second = { ok: true, message: '' }),
        (e: unknown) =>
          (second = {
            ok: false,
            message:
              e instanceof WorkflowUpdateFailedError
                ? String((e.cause as Error)?.message)
                : String(e),
          }),
      );
    // Either the second import is refused at once, or it reaches the activity too (the race).
    await eventually(
      'the second import answered or applied',
      async () => ({ second, n: calls.get('recordResults') ?? 0 }),
      (v) => v.second !== null || v.n > before + 1,
    );
    const appliedTwice = (calls.get('recordResults') ?? 0) > before + 1;
    release();
    expect(await first).toEqual({ imported: 4, rectificationStarted: ['kbqy'] });
    expect(appliedTwice, 'the second import ran the activity again').toBe(false);
    expect(second).toEqual({
      ok: false,
      message: 'results were already imported for this campaign',
    });
    await h.terminate('test done');
  });

  it('keep an indicator in rectification when the bureau starts it by hand during verification', async () => {
    const id = await startCampaign();
    await closePhases(id, 'training', 'dataEntry');
    const kbqy = env.client.workflow.getHandle(indicatorWorkflowId(id, 'kbqy'));
    await eventually(
      'verification',
      () => kbqy.query(indicatorStatusQuery),
      (s) => s.phase === 'verification',
    );
    await kbqy.executeUpdate(startRectificationUpdate, {
      args: [{ requestId: randomUUID(), actor: 'spj-coord', reason: '核验中发现问题' }],
    });
    await closePhases(id, 'verification');
    const h = env.client.workflow.getHandle(id);
    await eventually(
      'reporting',
      () => h.query(campaignStatusQuery),
      (s) => s.phase === 'reporting',
    );
    const projected = async () =>
      (
        await db.pool.query<{ phase: string; state: string }>(
          'SELECT phase, state FROM indicator_status WHERE campaign_id = $1 AND code = $2',
          [id, 'kbqy'],
        )
      ).rows[0];
    // The other indicators have entered reporting by now; kbqy stays in rectification.
    await eventually(
      'the others in reporting',
      async () =>
        (
          await db.pool.query<{ n: string }>(
            `SELECT count(*) AS n FROM indicator_status WHERE campaign_id = $1 AND phase = 'reporting'`,
            [id],
          )
        ).rows[0]!.n,
      (n) => Number(n) === 3,
    );
    expect((await kbqy.query(indicatorStatusQuery)).phase).toBe('rectification');
    expect(await projected()).toEqual({ phase: 'rectification', state: 'in-progress' });
    if (process.env.SAVE_HISTORIES) {
      writeFileSync(
        'test/replay/histories/campaign-phases-moved.json',
        historyToJSON(await h.fetchHistory()),
      );
      writeFileSync(
        'test/replay/histories/indicator-moved-rectified-by-hand.json',
        historyToJSON(await kbqy.fetchHistory()),
      );
    }
    await h.terminate('test done');
    for (const c of ['kbqy', 'ns', 'jzxk', 'scjg'])
      await env.client.workflow
        .getHandle(indicatorWorkflowId(id, c))
        .terminate('test done')
        .catch(() => {});
  });

  it('show a rectification the bureau starts on a closed indicator on the board, and refuse one after the campaign has ended', async () => {
    const id = await startCampaign();
    await closePhases(id, 'training', 'dataEntry', 'verification');
    const h = env.client.workflow.getHandle(id);
    await eventually(
      'reporting',
      () => h.query(campaignStatusQuery),
      (s) => s.phase === 'reporting',
    );
    await h.executeUpdate(recordResultsUpdate, {
      args: [{ requestId: randomUUID(), actor: 'spj-coord', results }],
    });
    const row = async (code: string) =>
      (
        await db.pool.query<{ phase: string; state: string }>(
          'SELECT phase, state FROM indicator_status WHERE campaign_id = $1 AND code = $2',
          [id, code],
        )
      ).rows[0];
    await eventually(
      'ns closed',
      () => row('ns'),
      (r) => r?.phase === 'closed',
    );
    const cli = (...args: string[]) =>
      runCli([...args, '--json'], {
        TEMPORAL_ADDRESS: env.address,
        DATABASE_URL: db.url,
        TEMPORAL_TASK_QUEUE: harness.taskQueue,
      });
    const started = await cli('rectify', id, 'ns', '--as', 'spj-coord', '--reason', '复盘发现问题');
    expect(started.code, started.stderr).toBe(0);
    expect(
      await eventually(
        'ns on the board in rectification',
        () => row('ns'),
        (r) => r?.phase === 'rectification',
      ),
    ).toEqual({ phase: 'rectification', state: 'in-progress' });

    const again = await cli('rectify', id, 'ns', '--as', 'spj-coord', '--reason', '重复');
    expect(again.code).toBe(1);
    expect(again.json<{ error: string }>().error).toMatch(/指标 ns 的整改已经发起/);
    const staff = await cli('rectify', id, 'jzxk', '--as', 'zjj-staff1', '--reason', 'x');
    expect(staff.code).toBe(1);
    expect(staff.json<{ error: string }>().error).toMatch(
      /zjj-staff1 \(staff in "zjj"\) may not start a rectification/,
    );

    // The same rules hold for any client: the campaign decides, not the CLI.
    const direct = (code: string, actor: string) =>
      h
        .executeUpdate(rectifyClosedUpdate, {
          args: [{ requestId: randomUUID(), actor, reason: '直接发起', code }],
        })
        .then(
          () => 'accepted',
          (e: Error) => String((e.cause as Error | undefined)?.message ?? e),
        );
    expect(await direct('jzxk', 'zjj-staff1')).toMatch(/zjj-staff1 may not start a rectification/);
    expect(await direct('ns', 'spj-coord')).toMatch(/already started/);

    const cancelled = await cli('cancel', id, '--as', 'spj-coord', '--reason', '演练');
    expect(cancelled.code, cancelled.stderr).toBe(0);
    await eventually(
      'the campaign recorded as cancelled',
      async () =>
        (await db.pool.query('SELECT status FROM campaigns WHERE campaign_id = $1', [id])).rows[0],
      (r) => r?.status === 'cancelled',
    );
    const late = await cli('rectify', id, 'jzxk', '--as', 'spj-coord', '--reason', '再整改');
    expect(late.code).toBe(1);
    expect(late.json<{ error: string }>().error).toBe(`campaign ${id} was cancelled: 演练`);
  });
});
