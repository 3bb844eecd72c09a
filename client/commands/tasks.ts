// `campaign tasks` and `campaign task show|create|submit|approve|return|extend|reassign|cancel`.
// Reads come from PostgreSQL (the projection); actions go to the task workflow as Temporal
// updates, whose validators refuse what the rules forbid.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { userInfo } from 'node:os';
import { decodeText, isEncodingProblem } from '../../domain/encoding.ts';
import { coerceFieldData, validateFieldData } from '../../domain/fields.ts';
import { parseCsvTable } from '../../domain/imports.ts';
import { eventLabel, label } from '../../domain/labels.ts';
import { colourAt } from '../../domain/schedule.ts';
import { type ActionResult, type TaskState } from '../../domain/task.ts';
import {
  approveUpdate,
  cancelUpdate,
  extendUpdate,
  reassignUpdate,
  requirementsQuery,
  returnUpdate,
  submitUpdate,
} from '../../domain/messages.ts';
import { formatIsoOffset, formatLocal, parseMoment } from '../../domain/time.ts';
import { config } from '../../worker/config.ts';
import type { UpdateDefinition } from '@temporalio/common';
import {
  assertPayload,
  connectTemporal,
  derivedRequestId,
  sendUpdate,
  updateError,
  withDb,
  withWorkerDeadline,
} from '../connections.ts';
import { parseDataText } from '../definition-file.ts';
import { firstTextProblem } from '../../domain/text.ts';
import { CliError, EXIT, UsageError } from '../errors.ts';
import { readBoundedFile } from '../files.ts';
import { colour, printJson, t, table, type Lang, type OutputOptions } from '../output.ts';
import { truncateToWidth } from '../text-width.ts';
import { requireValidDefinition } from './definition.ts';
import { loadRunningCampaign } from './board.ts';
import { raiseTaskUpdate } from '../../domain/messages.ts';
import { requireCasePlaceForApproval } from './case-limit.ts';

interface TaskRow {
  task_id: string;
  campaign_id: string;
  indicator: string | null;
  kind: string;
  title: string;
  unit_id: string;
  assignee: string;
  reviewer: string | null;
  review: boolean;
  state: TaskState;
  due_at: Date;
  warning_ms: string;
  time_zone: string;
  escalation_level: number;
  extensions_used: number;
  pending_extension: { until: number; reason: string; by: string } | null;
  last_return_reason: string | null;
  completed_at: Date | null;
  on_time: boolean | null;
}

const FINISHED: TaskState[] = ['done', 'cancelled'];

function colourOf(r: TaskRow, now = Date.now()) {
  if (FINISHED.includes(r.state) || r.state === 'submitted') return 'green' as const;
  return colourAt(now, r.due_at.getTime(), Number(r.warning_ms));
}

function summary(r: TaskRow) {
  return {
    taskId: r.task_id,
    kind: r.kind,
    title: r.title,
    indicator: r.indicator,
    unit: r.unit_id,
    assignee: r.assignee,
    state: r.state,
    due: formatIsoOffset(r.due_at.getTime(), r.time_zone),
    colour: colourOf(r),
    escalationLevel: r.escalation_level,
  };
}

const paint = (c: 'green' | 'yellow' | 'red', text: string) =>
  c === 'red' ? colour.bad(text) : c === 'yellow' ? colour.warn(text) : colour.ok(text);

const COLOUR_LABEL: Record<'green' | 'yellow' | 'red', [string, string]> = {
  green: ['绿', 'green'],
  yellow: ['黄', 'yellow'],
  red: ['红', 'red'],
};

export async function listTasksCommand(
  campaignId: string,
  opts: { unit?: string; state: string; indicator?: string },
  out: OutputOptions,
): Promise<void> {
  const rows = await withDb(async (pool) => {
    const where = ['campaign_id = $1'];
    const args: unknown[] = [campaignId];
    if (opts.unit) where.push(`unit_id = $${args.push(opts.unit)}`);
    if (opts.indicator) where.push(`indicator = $${args.push(opts.indicator)}`);
    if (opts.state === 'open') where.push(`state IN ('open', 'submitted', 'returned')`);
    if (opts.state === 'overdue') where.push(`state IN ('open', 'returned') AND due_at < now()`);
    if (opts.state === 'done') where.push(`state = 'done'`);
    const r = await pool.query<TaskRow>(
      `SELECT * FROM tasks WHERE ${where.join(' AND ')} ORDER BY due_at, task_id`,
      args,
    );
    if (r.rowCount === 0) {
      const known = await pool.query('SELECT 1 FROM tasks WHERE campaign_id = $1 LIMIT 1', [
        campaignId,
      ]);
      if (known.rowCount === 0) {
        throw new CliError(
          `no tasks recorded for campaign "${campaignId}" (is the campaign id right?)`,
          EXIT.refused,
        );
      }
    }
    return r.rows;
  });
  if (out.json) return printJson(rows.map(summary));
  if (rows.length === 0)
    return console.log(t(out.lang, '没有符合条件的事项。', 'No matching tasks.'));
  console.log(
    table(
      [
        t(out.lang, '事项', 'Task'),
        t(out.lang, '单位', 'Unit'),
        t(out.lang, '承办人', 'Assignee'),
        t(out.lang, '状态', 'State'),
        t(out.lang, '截止', 'Due'),
        t(out.lang, '灯', 'Light'),
        t(out.lang, '督办级别', 'Escalation'),
      ],
      rows.map((r) => {
        const c = colourOf(r);
        return [
          r.task_id,
          r.unit_id,
          r.assignee,
          label(out.lang, r.state),
          formatLocal(r.due_at.getTime(), r.time_zone),
          paint(c, t(out.lang, ...COLOUR_LABEL[c])),
          r.escalation_level,
        ];
      }),
    ),
  );
}

export async function showTaskCommand(taskId: string, out: OutputOptions): Promise<void> {
  const { row, events } = await withDb(async (pool) => {
    const r = await pool.query<TaskRow>('SELECT * FROM tasks WHERE task_id = $1', [taskId]);
    const row = r.rows[0];
    if (!row) throw new CliError(`no task "${taskId}" is recorded`, EXIT.refused);
    const e = await pool.query<{
      at: Date;
      type: string;
      actor: string | null;
      detail: unknown;
      recipients: string[];
    }>(
      'SELECT at, type, actor, detail, recipients FROM task_events WHERE task_id = $1 ORDER BY seq',
      [taskId],
    );
    return { row, events: e.rows };
  });
  const tz = row.time_zone;
  const doc = {
    ...summary(row),
    reviewer: row.reviewer,
    extensionsUsed: row.extensions_used,
    pendingExtension: row.pending_extension
      ? { ...row.pending_extension, until: formatIsoOffset(row.pending_extension.until, tz) }
      : null,
    completedAt: row.completed_at ? formatIsoOffset(row.completed_at.getTime(), tz) : null,
    onTime: row.on_time,
    events: events.map((e) => ({
      at: formatIsoOffset(e.at.getTime(), tz),
      type: e.type,
      actor: e.actor,
      detail: e.detail,
      recipients: e.recipients,
    })),
  };
  if (out.json) return printJson(doc);
  const c = colourOf(row);
  console.log(colour.bold(`${row.title}  (${row.task_id})`));
  console.log(
    `${t(out.lang, '单位', 'Unit')}: ${row.unit_id}   ${t(out.lang, '承办人', 'Assignee')}: ${row.assignee}   ` +
      `${t(out.lang, '状态', 'State')}: ${label(out.lang, row.state)}   ${t(out.lang, '截止', 'Due')}: ${formatLocal(row.due_at.getTime(), tz)}   ` +
      `${paint(c, t(out.lang, ...COLOUR_LABEL[c]))}   ${t(out.lang, '督办级别', 'Escalation')}: ${row.escalation_level}`,
  );
  console.log(
    table(
      [
        t(out.lang, '时间', 'At'),
        t(out.lang, '事件', 'Event'),
        t(out.lang, '操作人', 'Actor'),
        t(out.lang, '详情', 'Detail'),
      ],
      doc.events.map((e) => [
        formatLocal(Date.parse(e.at), tz),
        eventLabel(out.lang, e.type),
        e.actor ?? '—',
        describeDetail(e.detail as Record<string, unknown>, e.recipients, tz, out.lang),
      ]),
    ),
  );
}

/** Names of the event details for people; the keys themselves in English. */
const DETAIL_ZH: Record<string, string> = {
  title: '事项',
  due: '截止',
  review: '需审核',
  offset: '提前',
  level: '级别',
  label: '名称',
  notify: '通知',
  note: '说明',
  data: '数据',
  evidence: '佐证材料',
  onTime: '按时',
  reason: '原因',
  until: '延至',
  enteredBy: '代录人',
  from: '原',
  to: '转给',
};

function describeDetail(
  d: Record<string, unknown>,
  recipients: string[],
  tz: string,
  lang: Lang,
): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(d ?? {})) {
    if (v === null || v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    const text =
      (k === 'due' || k === 'until' || k === 'from') && typeof v === 'number'
        ? formatLocal(v, tz)
        : typeof v === 'boolean'
          ? t(lang, v ? '是' : '否', String(v))
          : typeof v === 'object'
            ? JSON.stringify(v)
            : String(v);
    parts.push(`${lang === 'zh' ? (DETAIL_ZH[k] ?? k) : k}: ${text}`);
  }
  if (recipients.length) parts.push(`→ ${recipients.join(', ')}`);
  return truncateToWidth(parts.join('; '), 90);
}

// ---- actions ----

type ActionName = 'submit' | 'approve' | 'return' | 'extend' | 'reassign' | 'cancel';

async function taskTimeZone(taskId: string): Promise<string> {
  return (await taskClock(taskId)).timeZone;
}

/** The task's time zone and its campaign's end of the working day (18:00 when unknown). */
async function taskClock(taskId: string): Promise<{ timeZone: string; workdayEnd: string }> {
  return withDb(async (pool) => {
    const r = await pool.query<{ time_zone: string; workday_end: string | null }>(
      `SELECT t.time_zone, c.definition->'calendar'->>'workdayEnd' AS workday_end
         FROM tasks t LEFT JOIN campaigns c USING (campaign_id) WHERE t.task_id = $1`,
      [taskId],
    );
    if (!r.rows[0]) throw new CliError(`no task "${taskId}" is recorded`, EXIT.refused);
    return { timeZone: r.rows[0].time_zone, workdayEnd: r.rows[0].workday_end ?? '18:00' };
  });
}

/** Reads `--data FILE`: JSON, YAML, or a CSV with a header row and one data row. */
export async function readDataFile(file: string): Promise<Record<string, unknown>> {
  const read = await readBoundedFile(
    file,
    config().limits.definitionBytes,
    'CAMPAIGN_MAX_DEFINITION_SIZE',
  );
  if ('problem' in read) throw new CliError(`--data: ${read.problem}`);
  const ext = extname(file).toLowerCase();
  let data: unknown;
  const at = (p: { line?: number; column?: number }) =>
    p.line === undefined ? '' : `:${p.line}${p.column === undefined ? '' : `:${p.column}`}`;
  if (ext === '.csv') {
    const parsed = await parseCsvTable(read.bytes, `--data ${file}`);
    if ('problems' in parsed)
      throw new CliError(
        `--data ${file} is not valid CSV:\n${parsed.problems.map((p) => `  ${file}${at(p)} ${p.message}`).join('\n')}`,
      );
    if (parsed.table.rows.length !== 1)
      throw new CliError(
        `--data ${file}: expected a header row and exactly one data row, found ${parsed.table.rows.length} data rows (line ${parsed.table.rows[1]!.line} is the second)`,
      );
    data = parsed.table.rows[0]!.values;
  } else {
    const decoded = decodeText(read.bytes, `--data ${file}`);
    if (isEncodingProblem(decoded)) throw new CliError(`${file}${at(decoded)}: ${decoded.message}`);
    const parsed = parseDataText(decoded.text, file);
    if ('problems' in parsed)
      throw new CliError(
        `--data ${file} is not valid ${ext === '.json' ? 'JSON' : 'YAML'}:\n${parsed.problems.map((p) => `  ${file}${at(p)} ${p.message}`).join('\n')}`,
      );
    data = parsed.value;
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new CliError(`--data ${file} must hold one object of field: value pairs`);
  }
  try {
    JSON.stringify(data);
  } catch {
    // A YAML alias inside its own anchor makes a value that contains itself.
    throw new CliError(
      `--data ${file} holds a value that contains itself (a YAML alias inside its own anchor)`,
    );
  }
  // Text PostgreSQL, JSON and people can hold (domain/text.ts), named by its path in the file.
  const bad = firstTextProblem(data, { max: 20_000 });
  if (bad) {
    const en = `--data ${file}: ${bad.en}`;
    throw new CliError(
      en,
      EXIT.refused,
      { path: bad.path },
      { en, zh: `--data ${file}：${bad.zh}` },
    );
  }
  return data as Record<string, unknown>;
}

/** An evidence reference: a URL as given, or a local file with its size and SHA-256. */
export async function evidenceReference(ref: string): Promise<string> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(ref)) return ref;
  const path = resolve(ref);
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new CliError(`--evidence ${ref} is not a file`);
    // Streamed: evidence may be a video of several gigabytes.
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    const digest = hash.digest('hex');
    return `file://${path} (${s.size} bytes, sha256:${digest})`;
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(
      `--evidence ${ref}: no such file (give a path to an existing file or a URL)`,
    );
  }
}

/** Who runs the command line: CAMPAIGN_OPERATOR, else the operating-system user. */
export function cliOperator(): string {
  const set = config().operator;
  if (set) return set;
  try {
    return `os:${userInfo().username}`;
  } catch {
    return 'os:unknown';
  }
}

/** The sequence number of the task's last event in the projection (0 before any). */
async function lastRecordedSeq(taskId: string): Promise<number> {
  return withDb(async (pool) => {
    const r = await pool.query<{ last_seq: number }>(
      'SELECT last_seq FROM tasks WHERE task_id = $1',
      [taskId],
    );
    return r.rows[0]?.last_seq ?? 0;
  });
}

export interface ActionOptions {
  as: string;
  note?: string;
  data?: string;
  evidence?: string[];
  reason?: string;
  until?: string;
  to?: string;
  requestId?: string;
}

export async function taskActionCommand(
  action: ActionName,
  taskId: string,
  opts: ActionOptions,
  out: OutputOptions,
): Promise<void> {
  // The default request id is derived from the command and the task's last recorded event, so
  // that the same command retried (after "no worker answered", say) is answered, not applied
  // twice, while the same words said again after the task moved on are a new request.
  const requestId =
    opts.requestId ??
    (await lastRecordedSeq(taskId).then(
      (seq) =>
        derivedRequestId(
          'task',
          action,
          taskId,
          opts.as,
          opts.note,
          opts.data,
          (opts.evidence ?? []).join('\u0000'),
          opts.reason,
          opts.until,
          opts.to,
          seq,
        ),
      () => randomUUID(),
    ));
  // A typical case is approved only while its indicator has a place left (典型案例上限). With
  // PostgreSQL out of reach the approval goes on as before: the registry keeps the limit when
  // the approval is projected.
  if (action === 'approve')
    await withDb((pool) => requireCasePlaceForApproval(pool, taskId)).catch((e: unknown) => {
      if (e instanceof CliError && e.texts) throw e;
    });
  // The CLI enters actions on the named person's behalf (代录): the operator is recorded too.
  const base = { requestId, actor: opts.as, operator: cliOperator() };
  const temporal = await connectTemporal();
  try {
    const taskHandle = temporal.client.workflow.getHandle(taskId);
    // Every action checked against the workflow's own request schema before it is sent.
    const handle = {
      query: taskHandle.query.bind(taskHandle),
      executeUpdate: <R, A>(def: UpdateDefinition<R, [A]>, o: { args: [A]; updateId?: string }) => {
        assertPayload(def.name, o.args[0]);
        return taskHandle.executeUpdate(def, o);
      },
    };
    const run = async (): Promise<ActionResult> => {
      switch (action) {
        case 'submit': {
          let data: Record<string, unknown> | undefined;
          if (opts.data) {
            const req = await handle.query(requirementsQuery);
            const raw = await readDataFile(opts.data);
            // A rectification step's data (problems, causes, gaps, measures) is checked by the
            // task itself against the earlier steps; a questionnaire's fields are checked here.
            data = req.step ? raw : coerceFieldData(req.fields, raw);
            const problems = req.step ? [] : validateFieldData(req.fields, data);
            if (problems.length) {
              throw new CliError(
                `--data ${opts.data} is not valid:\n  ${problems.map((p) => p.message).join('\n  ')}`,
                EXIT.refused,
                { problems },
              );
            }
          }
          const evidence = await Promise.all((opts.evidence ?? []).map(evidenceReference));
          return handle.executeUpdate(submitUpdate, {
            args: [{ ...base, note: opts.note, data, evidence }],
            updateId: requestId,
          });
        }
        case 'approve':
          return handle.executeUpdate(approveUpdate, {
            args: [{ ...base, note: opts.note }],
            updateId: requestId,
          });
        case 'return':
          return handle.executeUpdate(returnUpdate, {
            args: [{ ...base, reason: opts.reason ?? '' }],
            updateId: requestId,
          });
        case 'extend': {
          const { timeZone: tz, workdayEnd } = await taskClock(taskId);
          const m = parseMoment(opts.until ?? '', tz);
          if (!m)
            throw new UsageError(
              `--until "${opts.until}" is not a date-time such as 2026-10-20T18:00`,
            );
          const until =
            m.kind === 'instant'
              ? m.instant
              : (parseMoment(`${m.date}T${workdayEnd}`, tz) as { instant: number }).instant;
          return handle.executeUpdate(extendUpdate, {
            args: [{ ...base, until, reason: opts.reason ?? '' }],
            updateId: requestId,
          });
        }
        case 'reassign':
          return handle.executeUpdate(reassignUpdate, {
            args: [{ ...base, to: opts.to ?? '' }],
            updateId: requestId,
          });
        case 'cancel':
          return handle.executeUpdate(cancelUpdate, {
            args: [{ ...base, reason: opts.reason ?? '' }],
            updateId: requestId,
          });
      }
    };
    let result: ActionResult;
    try {
      result = await withWorkerDeadline(temporal.client, run);
    } catch (e) {
      throw updateError(e, action, taskId, 'task');
    }
    const tz = await taskTimeZone(taskId).catch(() => 'Asia/Shanghai');
    const doc = {
      taskId: result.taskId,
      state: result.state,
      due: formatIsoOffset(result.due, tz),
      assignee: result.assignee,
      ...(result.extension ? { extension: result.extension } : {}),
      requestId,
    };
    if (out.json) printJson(doc);
    else {
      const what =
        result.extension === 'requested'
          ? t(out.lang, '已提出延期申请，待审批', 'extension requested, awaiting approval')
          : `${t(out.lang, '状态', 'state')}: ${label(out.lang, result.state)}`;
      console.log(
        `${colour.ok('✓')} ${taskId}: ${what}; ${t(out.lang, '截止', 'due')} ${formatLocal(result.due, tz)}; ${t(out.lang, '承办人', 'assignee')} ${result.assignee}`,
      );
    }
  } finally {
    await temporal.close();
  }
}

// ---- ad-hoc task ----

export interface CreateOptions {
  campaign?: string;
  file?: string;
  unit: string;
  assignee: string;
  title: string;
  due: string;
  as: string;
  indicator?: string;
  kind: string;
  review: boolean;
  note: boolean;
  evidence: boolean;
  key?: string;
  requestId?: string;
}

/**
 * The bureau raises a supervised task (督办事项) for a unit outside the campaign's plan. The
 * running campaign decides it (update `raiseTask`) from its recorded roster, policy and
 * channels; a definition file only names the campaign when --campaign is not given.
 */
export async function createTaskCommand(opts: CreateOptions, out: OutputOptions): Promise<void> {
  let campaignId = opts.campaign;
  if (!campaignId && opts.file) {
    const { definition } = await requireValidDefinition(opts.file);
    campaignId = definition.campaign.id;
  }
  if (!campaignId) throw new UsageError('say which campaign: --campaign <campaignId>');
  const { timeZone } = await withDb((pool) => loadRunningCampaign(pool, campaignId));
  // Without --key, the same command retried names the same task (and is answered, not doubled).
  const key =
    opts.key ??
    derivedRequestId(opts.unit, opts.assignee, opts.title, opts.due, opts.kind).slice(0, 10);
  // The person is part of the request: the same command by someone else is another request,
  // checked on its own, never answered with the first one's outcome.
  const requestId =
    opts.requestId ??
    derivedRequestId('raise', campaignId, opts.as, opts.unit, opts.assignee, opts.title, opts.due, key); // prettier-ignore
  const r = await sendUpdate(
    campaignId,
    raiseTaskUpdate,
    {
      requestId,
      actor: opts.as,
      operator: cliOperator(),
      unit: opts.unit,
      assignee: opts.assignee,
      title: opts.title,
      due: opts.due,
      kind: opts.kind,
      indicator: opts.indicator,
      key,
      review: opts.review,
      note: opts.note,
      evidence: opts.evidence,
    },
    t(out.lang, '下达督办事项', 'raise a task'),
    { updateId: requestId, what: 'campaign' },
  );
  if (out.json) printJson({ taskId: r.taskId, workflowId: r.taskId });
  else
    console.log(
      `${colour.ok('✓')} ${r.taskId} ${t(out.lang, '已下达，截止', 'created, due')} ${formatLocal(r.due, timeZone)}`,
    );
}
