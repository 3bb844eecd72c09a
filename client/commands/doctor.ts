// `campaign doctor`: checks the whole chain on the running services — Temporal reachable, our
// search attributes registered, a worker polling, PostgreSQL migrated — and runs the system
// check workflow (a timer, then an activity that writes a row) end to end.
import { randomUUID } from 'node:crypto';
import protoPkg from '@temporalio/proto';
import type { Client } from '@temporalio/client';
import { retryProjectionsSignal, stuckProjectionsQuery } from '../../domain/messages.ts';
import { ALL_SEARCH_ATTRIBUTES } from '../../domain/search-attributes.ts';
import { heldProjectionsOf } from './board.ts';
import { config } from '../../worker/config.ts';
import { connectDatabase, connectTemporal, redactUrl } from '../connections.ts';
import { CliError } from '../errors.ts';
import { colour, printJson, t, type OutputOptions } from '../output.ts';
import { displayWidth, padToWidth } from '../text-width.ts';

interface Check {
  check: string;
  ok: boolean;
  detail: string;
  /** The detail for people reading Chinese (the JSON keeps the English one). */
  zh?: string;
}

const CHECK_ZH: Record<string, string> = {
  temporal: 'Temporal 服务',
  postgres: 'PostgreSQL 数据库',
  'search-attributes': '搜索属性',
  migrations: '数据库迁移',
  worker: '工作进程',
  workflow: '系统检查工作流',
  projections: '数据库记录',
};

export async function doctorCommand(
  opts: { timeout: number; retry?: boolean },
  out: OutputOptions,
): Promise<void> {
  const cfg = config();
  const checks: Check[] = [];
  const temporal = await connectTemporal();
  const pool = await connectDatabase();
  try {
    checks.push({
      check: 'temporal',
      ok: true,
      detail: `${cfg.temporalAddress} namespace ${cfg.temporalNamespace}`,
      zh: `${cfg.temporalAddress}，命名空间 ${cfg.temporalNamespace}`,
    });
    checks.push({ check: 'postgres', ok: true, detail: redactUrl(cfg.databaseUrl) });

    const sa = await temporal.client.connection.operatorService.listSearchAttributes({
      namespace: cfg.temporalNamespace,
    });
    const missing = ALL_SEARCH_ATTRIBUTES.map((k) => k.name).filter(
      (n) => !(n in (sa.customAttributes ?? {})),
    );
    checks.push({
      check: 'search-attributes',
      ok: missing.length === 0,
      detail: missing.length
        ? `missing: ${missing.join(', ')} (restart with npm run services:start)`
        : `${ALL_SEARCH_ATTRIBUTES.length} registered`,
      zh: missing.length
        ? `缺少 ${missing.join(', ')}（用 npm run services:start 重新启动）`
        : `已注册 ${ALL_SEARCH_ATTRIBUTES.length} 个`,
    });

    const migrated = await pool
      .query<{ n: string }>('SELECT count(*) AS n FROM schema_migrations')
      .then((r) => Number(r.rows[0]?.n ?? 0))
      .catch(() => 0);
    checks.push({
      check: 'migrations',
      ok: migrated > 0,
      detail:
        migrated > 0
          ? `${migrated} applied`
          : 'none applied: start a worker (npm run worker) or run npm run migrate',
      zh:
        migrated > 0
          ? `已执行 ${migrated} 个`
          : '一个也没有执行：启动工作进程（npm run worker）或运行 npm run migrate',
    });

    const tq = await temporal.client.workflowService.describeTaskQueue({
      namespace: cfg.temporalNamespace,
      taskQueue: { name: cfg.taskQueue },
      taskQueueType: protoPkg.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    const pollers = tq.pollers?.length ?? 0;
    checks.push({
      check: 'worker',
      ok: pollers > 0,
      detail:
        pollers > 0
          ? `${pollers} poller(s) on "${cfg.taskQueue}"`
          : `no worker polls "${cfg.taskQueue}": start one with npm run worker`,
      zh:
        pollers > 0
          ? `任务队列 "${cfg.taskQueue}" 上有 ${pollers} 个轮询者`
          : `没有工作进程在轮询 "${cfg.taskQueue}"：用 npm run worker 启动一个`,
    });

    checks.push(await projectionsCheck(temporal.client, !!opts.retry));

    if (pollers > 0 && migrated > 0) {
      const checkId = `doctor-${randomUUID()}`;
      const started = Date.now();
      const handle = await temporal.client.workflow.start('systemCheckWorkflow', {
        taskQueue: cfg.taskQueue,
        workflowId: `system-check/${checkId}`,
        args: [{ checkId, sleepMs: 1000, requestedAt: started }],
        staticSummary: 'System check: a 1 s timer, then a row written to system_checks',
        workflowExecutionTimeout: `${opts.timeout}s`,
      });
      try {
        await handle.result();
        const row = await pool.query('SELECT slept_ms FROM system_checks WHERE check_id = $1', [
          checkId,
        ]);
        const ms = Date.now() - started;
        checks.push({
          check: 'workflow',
          ok: row.rowCount === 1,
          detail: `timer + activity + row in ${ms} ms (${handle.workflowId})`,
          zh: `定时器 + 活动 + 写入一行，用时 ${ms} ms（${handle.workflowId}）`,
        });
      } catch (e) {
        checks.push({
          check: 'workflow',
          ok: false,
          detail: `system check failed: ${(e as Error).message}`,
          zh: `系统检查失败：${(e as Error).message}`,
        });
      }
    }
  } finally {
    await temporal.close();
    await pool.end();
  }
  const ok = checks.every((c) => c.ok);
  const forJson = checks.map(({ check, ok, detail }) => ({ check, ok, detail }));
  if (out.json) printJson({ ok, checks: forJson });
  else {
    const name = (c: Check) => t(out.lang, CHECK_ZH[c.check] ?? c.check, c.check);
    const width = Math.max(...checks.map((c) => displayWidth(name(c))));
    for (const c of checks)
      console.log(
        `${c.ok ? colour.ok('✓') : colour.bad('✗')} ${padToWidth(name(c), width)}  ${t(out.lang, c.zh ?? c.detail, c.detail)}`,
      );
    console.log(
      ok
        ? colour.ok(t(out.lang, '一切正常', 'all good'))
        : colour.bad(t(out.lang, '有问题，见上', 'problems above')),
    );
  }
  if (!ok)
    throw new CliError(t(out.lang, '系统检查未通过', 'the system check did not pass'), 1, {
      checks: forJson,
      printed: true,
    });
}

/**
 * The workflows holding projections that PostgreSQL refused for good (search attribute
 * ProjectionStuck, workflows/lib/projections.ts), each with the database's reason; with
 * `retry`, each is told to run them again (once the cause is fixed).
 */
async function projectionsCheck(client: Client, retry: boolean): Promise<Check> {
  const ids = await heldProjectionsOf(client);
  if (ids === null)
    return {
      check: 'projections',
      ok: false,
      detail: 'could not list the workflows holding refused records (Temporal visibility)',
      zh: '无法列出记录被数据库拒收的流程（Temporal 可见性查询失败）',
    };
  const held: { workflowId: string; reasons: string[] }[] = [];
  for (const workflowId of ids) {
    const h = client.workflow.getHandle(workflowId);
    const stuck = await h.query(stuckProjectionsQuery).catch(() => []);
    if (retry) await h.signal(retryProjectionsSignal);
    held.push({ workflowId, reasons: stuck.map((p) => `${p.what}: ${p.message}`) });
  }
  if (!held.length)
    return { check: 'projections', ok: true, detail: 'none held back', zh: '没有被拒收的记录' };
  const list = held.map((h) => `${h.workflowId} (${h.reasons.join('; ') || '?'})`).join('\n    ');
  return {
    check: 'projections',
    ok: retry,
    detail: retry
      ? `told ${held.length} workflow(s) to try again:\n    ${list}`
      : `PostgreSQL refused what ${held.length} workflow(s) recorded; fix the cause, then run campaign doctor --retry:\n    ${list}`,
    zh: retry
      ? `已让 ${held.length} 个流程重新写入：\n    ${list}`
      : `数据库拒收了 ${held.length} 个流程的记录；排除原因后运行 campaign doctor --retry：\n    ${list}`,
  };
}
