// Update handlers that cannot race: on the dev server, with one local activity held so that an
// update's handler is suspended at its first await while a second request arrives, the second
// request must be judged on what the first has already claimed. And one truth about where an
// indicator stands when the bureau starts its rectification by hand during verification.
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDefinitionText } from '../../client/definition-file.ts';
import { BusinessCalendar } from '../../domain/calendar.ts';
import {
  indicatorWorkflowId,
  planCampaign,
  rectificationInputFor,
  type CampaignInput,
  type CampaignPlan,
  type IndicatorInput,
} from '../../domain/campaign.ts';
import {
  addMeasureUpdate,
  approveUpdate,
  campaignStatusQuery,
  indicatorStatusQuery,
  movePhaseUpdate,
  raiseTaskUpdate,
  recordResultsUpdate,
  rectificationStatusQuery,
  rectifyClosedUpdate,
  requestEvidenceUpdate,
  startRectificationUpdate,
  submitUpdate,
  verifyUpdate,
} from '../../domain/messages.ts';
import type { PhaseName } from '../../domain/definition.ts';
import { formatIsoOffset } from '../../domain/time.ts';
import type { TestDatabase } from '../helpers/postgres.ts';
import { runCli } from '../helpers/cli.ts';
import { startTaskAsChild } from '../helpers/start-task.ts';
import {
  demoFixture,
  goodData,
  recordFixtureCampaign,
  taskInput,
} from '../helpers/task-fixture.ts';
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
    withTestParents: true,
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

const plans = new Map<string, CampaignPlan>();

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
  plans.set(plan.campaignId, plan);
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
    // The board's row is written before the campaign hears of the closing (the indicator's
    // signal): the campaign decides, so wait until it knows.
    await eventually(
      'the campaign knows ns is closed',
      () => h.query(campaignStatusQuery),
      (s) => s.closedIndicators.includes('ns'),
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

/** The task's handle once the workflow that starts it has started it. */
async function taskStarted(id: string) {
  const h = env.client.workflow.getHandle(id);
  await eventually(
    `task ${id} started`,
    () =>
      h.describe().then(
        () => true,
        () => false,
      ),
    (ok) => ok,
  );
  return h;
}

describe('update handlers under a forced interleaving (measures)', () => {
  it('give two measures added at once, while the approved plan starts its own, distinct numbers and tasks', async () => {
    const id = await startCampaign();
    await closePhases(id, 'training', 'dataEntry', 'verification');
    const h = env.client.workflow.getHandle(id);
    await eventually(
      'reporting',
      () => h.query(campaignStatusQuery),
      (s) => s.phase === 'reporting',
    );
    const imported = await h.executeUpdate(recordResultsUpdate, {
      args: [{ requestId: randomUUID(), actor: 'spj-coord', results }],
    });
    expect(imported.rectificationStarted).toEqual(['kbqy']);
    const r = <T extends object>(body: T) => ({ requestId: randomUUID(), ...body });
    const step = async (kind: string, data: Record<string, unknown>) => {
      const t = await taskStarted(`${id}/kbqy/${kind}/scjgj`);
      await t.executeUpdate(submitUpdate, { args: [r({ actor: 'scjgj-staff1', data })] });
      return t;
    };
    const approve = (t: Awaited<ReturnType<typeof step>>) =>
      t.executeUpdate(approveUpdate, { args: [r({ actor: 'spj-coord' })] });
    await approve(
      await step('rectify-problems', {
        problems: [
          { finding: '报告第3条', description: '线下提交材料' },
          { finding: '报告第5条', description: '开办超时' },
        ],
      }),
    );
    await approve(
      await step('rectify-causes', {
        causes: [
          { problem: 1, cause: '电子签名未推行' },
          { problem: 2, cause: '未并联办理' },
        ],
      }),
    );
    await approve(
      await step('rectify-gaps', {
        benchmark: '合肥市',
        gaps: [
          { problem: 1, gap: '全程网办率98%' },
          { problem: 2, gap: '0.5个工作日办结' },
        ],
      }),
    );
    const due = formatIsoOffset(Date.now() + 30 * 86_400_000, 'Asia/Shanghai').slice(0, 16);
    const plan = await step('rectify-measures', {
      measures: [
        { problem: 1, measure: '推行电子签名', unit: 'scjgj', person: 'scjgj-staff1', due },
        { problem: 2, measure: '并联办理', unit: 'swj', person: 'swj-staff1', due },
      ],
    });

    // Every ledger row is held on its way in: the plan's first measure stops there, and two
    // measures added meanwhile reach it too before any is let through.
    const before = calls.get('recordRectificationItem') ?? 0;
    const release = hold('recordRectificationItem');
    const reached = (n: number) =>
      eventually(
        `${n} ledger rows held`,
        async () => calls.get('recordRectificationItem') ?? 0,
        (c) => c >= before + n,
      );
    await approve(plan);
    await reached(1);
    const rect = env.client.workflow.getHandle(`${id}/kbqy/rectification`);
    const add = (measure: string) =>
      rect.executeUpdate(addMeasureUpdate, {
        args: [
          r({
            actor: 'spj-coord',
            problem: 2,
            measure,
            unit: 'spj',
            person: 'spj-coord',
            due,
            reason: '督查发现',
          }),
        ],
      });
    const a = add('设立专窗');
    await reached(2);
    const b = add('增设自助终端');
    await reached(3);
    release();
    const added = await Promise.all([a, b]);
    const status = await eventually(
      'four measures',
      () => rect.query(rectificationStatusQuery),
      (s) => s.measures.length === 4,
    );
    const nos = status.measures.map((m) => m.no).sort();
    expect(nos).toEqual([1, 2, 3, 4]);
    expect(new Set(status.measures.map((m) => m.taskId)).size).toBe(4);
    expect(added[0].no).not.toBe(added[1].no);
    for (const m of status.measures) await taskStarted(m.taskId);
    const ledger = await eventually(
      'four ledger rows',
      async () =>
        (
          await db.pool.query<{ no: number; task_id: string }>(
            'SELECT no, task_id FROM rectification_items WHERE campaign_id = $1 ORDER BY no',
            [id],
          )
        ).rows,
      (rows) => rows.length === 4,
    );
    expect(ledger.map((l) => l.no)).toEqual([1, 2, 3, 4]);
    expect(ledger.map((l) => l.task_id).sort()).toEqual(
      status.measures.map((m) => m.taskId).sort(),
    );
    if (process.env.SAVE_HISTORIES)
      writeFileSync(
        'test/replay/histories/rectification-measures-raced.json',
        historyToJSON(await rect.fetchHistory()),
      );
    await h.terminate('test done');
  });
});

describe('request ids remembered per action', () => {
  it('apply a verification and a raised task whose request ids another action has already used', async () => {
    const id = await startCampaign();
    const h = env.client.workflow.getHandle(id);
    const shared = randomUUID();
    await h.executeUpdate(movePhaseUpdate, {
      args: [
        {
          requestId: shared,
          actor: 'spj-coord',
          phase: 'training',
          action: 'close',
          reason: '测试',
        },
      ],
    });
    // The same id for another action of the campaign: applied, not answered with the move.
    const raised = await h.executeUpdate(raiseTaskUpdate, {
      args: [
        {
          requestId: shared,
          actor: 'spj-coord',
          unit: 'scjgj',
          assignee: 'scjgj-staff1',
          title: '补报材料',
          due: formatIsoOffset(Date.now() + 86_400_000, 'Asia/Shanghai'),
        },
      ],
    });
    expect(raised).toHaveProperty('taskId');
    await taskStarted((raised as { taskId: string }).taskId);
    // The same request again is still answered with its first outcome.
    const again = await h.executeUpdate(movePhaseUpdate, {
      args: [
        {
          requestId: shared,
          actor: 'spj-coord',
          phase: 'training',
          action: 'close',
          reason: '测试',
        },
      ],
    });
    expect(again).toMatchObject({ phase: 'training', action: 'close' });

    await closePhases(id, 'dataEntry');
    const kbqy = env.client.workflow.getHandle(indicatorWorkflowId(id, 'kbqy'));
    await eventually(
      'verification',
      () => kbqy.query(indicatorStatusQuery),
      (s) => s.phase === 'verification',
    );
    const reused = randomUUID();
    const asked = await kbqy.executeUpdate(requestEvidenceUpdate, {
      args: [{ requestId: reused, actor: 'dsf-eval', unit: 'scjgj', what: '办件台账' }],
    });
    expect(asked).toHaveProperty('taskId');
    const verified = await kbqy.executeUpdate(verifyUpdate, {
      args: [{ requestId: reused, actor: 'dsf-eval', item: '开办时间', outcome: 'discrepant' }],
    });
    expect(verified).toEqual({
      indicator: 'kbqy',
      item: '开办时间',
      outcome: 'discrepant',
      flagged: true,
    });
    expect((await kbqy.query(indicatorStatusQuery)).flagged).toBe(true);
    if (process.env.SAVE_HISTORIES) {
      writeFileSync(
        'test/replay/histories/campaign-requests-per-action.json',
        historyToJSON(await h.fetchHistory()),
      );
      writeFileSync(
        'test/replay/histories/indicator-requests-per-action.json',
        historyToJSON(await kbqy.fetchHistory()),
      );
    }
    await h.terminate('test done');
  });
});

describe('indicator and rectification workflows started by anyone but their campaign', () => {
  it('are refused before they record, project or start anything', async () => {
    const id = await startCampaign();
    const plan = plans.get(id)!;
    const forgedIndicator: IndicatorInput = {
      plan: plan.indicators[0]!,
      shared: plan.shared,
      evidenceDue: plan.evidenceDue,
      campaignWorkflowId: id,
      rectification: plan.rectification,
    };
    const cases = [
      {
        type: 'indicatorWorkflow',
        workflowId: `${id}/forged`,
        args: [forgedIndicator],
        message:
          /An indicator workflow .* refused: it runs only as the child of "[^"]+" of campaign/,
      },
      {
        type: 'rectificationWorkflow',
        workflowId: `${id}/kbqy/rectification-forged`,
        args: [
          rectificationInputFor(plan, 'kbqy', '伪造', 'spj-coord', indicatorWorkflowId(id, 'kbqy')),
        ],
        message:
          /A rectification workflow .* refused: .*started directly, without a parent workflow/,
      },
    ];
    for (const c of cases) {
      const handle = await env.client.workflow.start(c.type, {
        taskQueue: harness.taskQueue,
        workflowId: c.workflowId,
        args: c.args,
      });
      const failure = await handle.result().then(
        () => null,
        (e: unknown) => e,
      );
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      expect(String((failure as WorkflowFailedError).cause?.message)).toMatch(c.message);
      const events = (await handle.fetchHistory()).events ?? [];
      const did = events.filter(
        (e) =>
          e.startChildWorkflowExecutionInitiatedEventAttributes ||
          e.activityTaskScheduledEventAttributes ||
          (e.markerRecordedEventAttributes &&
            e.markerRecordedEventAttributes.markerName !== 'core_patch'),
      );
      expect(did, `${c.type} did something before refusing`).toEqual([]);
      if (process.env.SAVE_HISTORIES)
        writeFileSync(
          `test/replay/histories/${c.type.replace('Workflow', '')}-refused-unparented.json`,
          historyToJSON(await handle.fetchHistory()),
        );
    }
    await h(id).terminate('test done');
  });
});

const h = (id: string) => env.client.workflow.getHandle(id);

describe('two task actions at once', () => {
  // An action is applied in the workflow task that accepts it, without awaiting anything before
  // it changes the state: the validator of the second submission sees the first applied, so it
  // is refused as an answer and no workflow task fails. (Executions from before checked again
  // after their fence's wait; their saved histories replay in test/replay.)
  it('refuses the second of two submissions sent at once, as an answer, not a failed workflow task', async () => {
    const fx = await demoFixture();
    await recordFixtureCampaign(db.pool, fx);
    const input = taskInput(fx, Date.now() + 48 * 3_600_000, { review: true });
    const task = await startTaskAsChild(env.client, input, { taskQueue: harness.taskQueue });
    await eventually(
      'the creation recorded',
      async () =>
        (
          await db.pool.query('SELECT 1 FROM task_events WHERE task_id = $1 AND type = $2', [
            input.taskId,
            'created',
          ])
        ).rowCount,
      (n) => n === 1,
    );
    const submit = () =>
      task
        .executeUpdate(submitUpdate, {
          args: [{ requestId: randomUUID(), actor: input.assignee, data: goodData }],
        })
        .then(
          (r) => ({ ok: true as const, state: r.state }),
          (e: unknown) => ({
            ok: false as const,
            message:
              e instanceof WorkflowUpdateFailedError
                ? String((e.cause as Error)?.message)
                : String(e),
          }),
        );
    const answers = await Promise.all([submit(), submit()]);
    expect(answers.filter((a) => a.ok)).toEqual([{ ok: true, state: 'submitted' }]);
    const refused = answers.find((a) => !a.ok) as { message: string } | undefined;
    expect(refused?.message).toMatch(/submitted/);
    const events = (await task.fetchHistory()).events ?? [];
    expect(events.filter((e) => e.workflowTaskFailedEventAttributes)).toEqual([]);
    await eventually('the submission projected', async () => (await db.pool.query('SELECT last_seq FROM tasks WHERE task_id = $1', [input.taskId])).rows[0]?.last_seq, (n) => n >= 2); // prettier-ignore
    const submitted = await db.pool.query('SELECT 1 FROM submissions WHERE task_id = $1', [
      input.taskId,
    ]);
    expect(submitted.rowCount).toBe(1);
    await task.terminate('test done');
  });
});
