// The task commands of the CLI, run as a separate process against the dev server and
// PostgreSQL, exactly as a bureau coordinator and a department clerk would use them.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatIsoOffset } from '../../domain/time.ts';
import { runCli } from '../helpers/cli.ts';
import { demoFixture, taskInput } from '../helpers/task-fixture.ts';
import { taskStartOptions } from '../../domain/task-start.ts';
import type { TestDatabase } from '../helpers/postgres.ts';
import { startHarness, type Harness } from '../helpers/temporal.ts';

Runtime.install({ logger: new DefaultLogger('ERROR') });

let harness: Harness;
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let taskQueue: string;
let cliEnv: NodeJS.ProcessEnv;
const dir = mkdtempSync(join(tmpdir(), 'cli-tasks-'));
const taskId = `demo-2026/kbqy/questionnaire/scjgj/cli-${Date.now().toString(36)}`;

beforeAll(async () => {
  harness = await startHarness('dev');
  ({ env, db, taskQueue } = harness);
  cliEnv = { TEMPORAL_ADDRESS: env.address, DATABASE_URL: db.url, TEMPORAL_TASK_QUEUE: taskQueue };
  writeFileSync(join(dir, 'bad.json'), JSON.stringify({ procedures: 'three', onlineRate: 140 }));
  writeFileSync(join(dir, 'first.csv'), 'procedures,days,onlineRate\n4,2.5,35\n');
  writeFileSync(join(dir, 'second.yaml'), 'procedures: 4\ndays: 2.5\nonlineRate: 92\n');
  writeFileSync(join(dir, 'evidence.pdf'), '%PDF-1.4 test evidence');
  // Tasks are raised in a running campaign, which decides them from its recorded roster.
  const started = await runCli(
    ['start', 'examples/quick-demo.yaml', '--begin', 'now', '--as', 'spj-coord', '--json'],
    cliEnv,
  );
  if (started.code !== 0) throw new Error(`campaign start failed: ${started.stderr}`);
});

afterAll(async () => {
  await harness?.close();
});

const cli = (...args: string[]) => runCli(args, cliEnv);

describe('the task commands', () => {
  it('drive a task through submit → return → resubmit → approve, refusing what is not allowed', async () => {
    const due = formatIsoOffset(Date.now() + 3_600_000, 'Asia/Shanghai').slice(0, 19);
    const created = await cli(
      'task',
      'create',
      '--file',
      'examples/quick-demo.yaml',
      '--unit',
      'scjgj',
      '--assignee',
      'scjgj-staff1',
      '--title',
      '开办企业 问卷填报',
      '--due',
      due,
      '--as',
      'spj-coord',
      '--indicator',
      'kbqy',
      '--kind',
      'questionnaire',
      '--key',
      taskId.split('/').pop()!,
      '--json',
    );
    expect(created.code, created.stderr).toBe(0);
    expect(created.json()).toEqual({ taskId, workflowId: taskId });

    const bad = await cli(
      'task',
      'submit',
      taskId,
      '--as',
      'scjgj-staff1',
      '--data',
      join(dir, 'bad.json'),
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/办理环节 \(procedures\) must be a number, got "three"/);
    expect(bad.stderr).toMatch(
      /网办率 \(onlineRate\) must be a percentage between 0 and 100, got 140/,
    );
    expect(bad.stderr).toMatch(/办理时间 \(days\) is required/);

    const stranger = await cli(
      'task',
      'submit',
      taskId,
      '--as',
      'swj-staff1',
      '--data',
      join(dir, 'first.csv'),
      '--json',
    );
    expect(stranger.code).toBe(1);
    // Refusals are written for people: in Chinese by default, in English on request.
    expect(stranger.json<{ error: string }>().error).toBe(
      '未被接受：黄填报员（swj-staff1）属于县税务局，该事项由县市场监督管理局办理，只有该单位的人员可以提交',
    );
    const strangerEn = await cli(
      'task',
      'submit',
      taskId,
      '--as',
      'swj-staff1',
      '--data',
      join(dir, 'first.csv'),
      '--json',
      '--lang',
      'en',
    );
    expect(strangerEn.json<{ error: string }>().error).toMatch(
      /belongs to "swj", not to the task's unit "scjgj"/,
    );

    const submitted = await cli(
      'task',
      'submit',
      taskId,
      '--as',
      'scjgj-staff1',
      '--data',
      join(dir, 'first.csv'),
      '--note',
      '按指引填报',
      '--evidence',
      join(dir, 'evidence.pdf'),
      '--evidence',
      'https://example.org/notice.pdf',
      '--json',
    );
    expect(submitted.code, submitted.stderr).toBe(0);
    expect(submitted.json()).toMatchObject({ taskId, state: 'submitted' });

    const returned = await cli(
      'task',
      'return',
      taskId,
      '--as',
      'spj-coord',
      '--reason',
      '网办率与系统数据不一致',
      '--json',
    );
    expect(returned.code, returned.stderr).toBe(0);
    expect(returned.json()).toMatchObject({ state: 'returned' });

    const own = await cli('task', 'approve', taskId, '--as', 'scjgj-head');
    expect(own.code).toBe(1);
    expect(own.stderr).toMatch(/该事项已退回，不能审核通过（已提交待审核时才可以）/);

    const again = await cli(
      'task',
      'submit',
      taskId,
      '--as',
      'scjgj-staff1',
      '--data',
      join(dir, 'second.yaml'),
      '--json',
    );
    expect(again.json()).toMatchObject({ state: 'submitted' });
    const approved = await cli(
      'task',
      'approve',
      taskId,
      '--as',
      'spj-coord',
      '--note',
      '符合填报尺度',
      '--json',
    );
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.json()).toMatchObject({ state: 'done' });

    const shown = await cli('task', 'show', taskId, '--json');
    const doc = shown.json<{
      state: string;
      reviewer: string;
      events: { type: string; actor: string | null; detail: Record<string, unknown> }[];
    }>();
    expect(doc.state).toBe('done');
    expect(doc.events.map((e) => e.type)).toEqual([
      'created',
      'submitted',
      'returned',
      'submitted',
      'approved',
    ]);
    expect(doc.events[1]!.detail.data).toEqual({ procedures: 4, days: 2.5, onlineRate: 35 });
    expect(doc.events[1]!.detail.evidence).toEqual([
      expect.stringMatching(/^file:\/\/.*evidence\.pdf \(22 bytes, sha256:[0-9a-f]{64}\)$/),
      'https://example.org/notice.pdf',
    ]);
    expect(doc.events[2]).toMatchObject({
      actor: 'spj-coord',
      detail: { reason: '网办率与系统数据不一致' },
    });

    const list = await cli('tasks', 'demo-2026', '--state', 'all', '--json');
    expect(list.json<{ taskId: string; state: string; colour: string }[]>()).toContainEqual(
      expect.objectContaining({
        taskId,
        state: 'done',
        colour: 'green',
        unit: 'scjgj',
        assignee: 'scjgj-staff1',
      }),
    );
    const human = await cli('task', 'show', taskId, '--lang', 'en');
    expect(human.stdout).toMatch(/returned .*spj-coord/);

    const late = await cli(
      'task',
      'submit',
      taskId,
      '--as',
      'scjgj-staff1',
      '--data',
      join(dir, 'second.yaml'),
    );
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(/no task .* is running|already finished/);
  });

  it('give up with exit 3 and a hint when no worker answers', async () => {
    // A task on a queue that no worker polls (started directly: the campaign's own queue is
    // served).
    const fx = await demoFixture();
    const input = taskInput(fx, Date.now() + 3_600_000, { kind: 'adhoc', indicator: null });
    const orphan = input.taskId;
    await env.client.workflow.start('taskWorkflow', {
      ...taskStartOptions(input),
      taskQueue: 'no-worker-polls-this',
      args: [input],
    });
    const r = await runCli(['task', 'submit', orphan, '--as', 'scjgj-staff1'], {
      ...cliEnv,
      CLI_WORKER_TIMEOUT: '2',
    });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/no worker answered within 2 s: is a worker running/);
    await env.client.workflow.getHandle(orphan).terminate('test done');
  });

  it('give usage errors exit 2, unknown tasks exit 1 and an unreachable database exit 3', async () => {
    const noActor = await cli('task', 'approve', taskId);
    expect(noActor.code).toBe(2);
    expect(noActor.stderr).toMatch(/required option '--as <personId>' not specified/);
    const unknown = await cli('task', 'show', 'demo-2026/none/adhoc/x', '--json');
    expect(unknown.code).toBe(1);
    expect(unknown.json<{ error: string }>().error).toMatch(
      /no task "demo-2026\/none\/adhoc\/x" is recorded/,
    );
    const badState = await cli('tasks', 'demo-2026', '--state', 'late');
    expect(badState.code).toBe(2);
    const down = await runCli(['tasks', 'demo-2026'], {
      ...cliEnv,
      DATABASE_URL: 'postgres://postgres:x@127.0.0.1:1/none',
    });
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(
      /PostgreSQL is not reachable at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/none/,
    );
  });
});
