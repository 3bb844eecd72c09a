// `campaign highlight request|propose|select|return`, `campaign publicity add` and `campaign
// report highlights`: highlights and typical cases (突出亮点、典型案例) on the supervised-task
// machinery with review, and publicity (宣传引导) recorded per department.
//
// The bureau asks a department for a highlight or a typical case (a task of kind `highlight` or
// `case` raised through the campaign's `raiseTask`, reviewed, with evidence required), or the
// department's person raises one for themselves; the proposal is the task's submission (title,
// description, indicator, replicable, evidence); the bureau's approval selects it, a return
// sends it back for rework.
import type pg from 'pg';
import {
  isProposalKind,
  PROPOSAL_KIND_ZH,
  PUBLICITY_CHANNEL_ZH,
  PUBLICITY_CHANNELS,
  publicityChannelOf,
  maxTypicalCases,
  type ProposalKind,
  type PublicityChannel,
} from '../../domain/highlights.ts';
import { raiseTaskUpdate, submitUpdate } from '../../domain/messages.ts';
import type { ActionResult } from '../../domain/task.ts';
import { formatIsoOffset, formatLocal, isLocalDate } from '../../domain/time.ts';
import {
  assertPayload,
  connectTemporal,
  derivedRequestId,
  sendUpdate,
  updateError,
  withDb,
  withWorkerDeadline,
} from '../connections.ts';
import { CliError, EXIT, UsageError } from '../errors.ts';
import { emitSheets, type Format, type Sheet } from '../export.ts';
import { colour, printJson, t, type Lang, type OutputOptions } from '../output.ts';
import { withProgress } from '../progress.ts';
import { loadCampaign, loadRunningCampaign } from './board.ts';
import { requireCasePlace } from './case-limit.ts';
import {
  cliOperator,
  createTaskCommand,
  evidenceReference,
  taskActionCommand,
  type ActionOptions,
} from './tasks.ts';

/** A refusal of the CLI's own, in both languages (shown in the one asked for). */
function refused(en: string, zh: string, details?: unknown): CliError {
  return new CliError(en, EXIT.refused, details, { en, zh });
}

// ---- the bureau asks ----

export interface RequestOptions {
  type: string;
  unit: string;
  assignee: string;
  due: string;
  as: string;
  indicator?: string;
  title?: string;
  key?: string;
  requestId?: string;
}

/** The bureau asks a department for a highlight or a typical case: a reviewed task. */
export async function requestHighlightCommand(
  campaignId: string,
  opts: RequestOptions,
  out: OutputOptions,
): Promise<void> {
  if (!isProposalKind(opts.type))
    throw new UsageError(`--type must be highlight or case, not "${opts.type}"`);
  const kind: ProposalKind = opts.type;
  const title = await withDb(async (pool) => {
    const c = await loadRunningCampaign(pool, campaignId);
    if (kind === 'case' && opts.indicator)
      await requireCasePlace(pool, campaignId, opts.indicator, 'request');
    const unit = c.definition.units.find((u) => u.id === opts.unit);
    const ind = c.definition.indicators.find((i) => i.code === opts.indicator);
    return (
      opts.title ??
      `报送${PROPOSAL_KIND_ZH[kind]}：${unit?.name ?? opts.unit}${ind ? `（${ind.name}）` : ''}`
    );
  });
  await createTaskCommand(
    {
      campaign: campaignId,
      unit: opts.unit,
      assignee: opts.assignee,
      title,
      due: opts.due,
      as: opts.as,
      kind,
      review: true,
      note: false,
      evidence: true,
      ...(opts.indicator ? { indicator: opts.indicator } : {}),
      ...(opts.key ? { key: opts.key } : {}),
      ...(opts.requestId ? { requestId: opts.requestId } : {}),
    },
    out,
  );
}

// ---- the department proposes ----

export interface ProposeOptions {
  as: string;
  /** With a campaign id instead of a task id: what the department proposes of its own accord. */
  type?: string;
  title: string;
  description: string;
  indicator?: string;
  replicable: string;
  evidence?: string[];
  note?: string;
  requestId?: string;
}

const YES = ['yes', 'y', 'true', '1', '是', '可以', '可复制'];
const NO = ['no', 'n', 'false', '0', '否', '不可以', '不可复制'];

/** yes/no, 是/否 … as a boolean, or a usage error naming the option. */
export function yesNo(v: string, option: string): boolean {
  const s = v.trim().toLowerCase();
  if (YES.includes(s)) return true;
  if (NO.includes(s)) return false;
  throw new UsageError(`${option} "${v}" must be yes or no (是 / 否)`);
}

interface ProposalTask {
  task_id: string;
  campaign_id: string;
  kind: string;
  indicator: string | null;
  last_seq: number;
  time_zone: string;
}

async function proposalTask(pool: pg.Pool, taskId: string): Promise<ProposalTask> {
  const r = await pool.query<ProposalTask>(
    'SELECT task_id, campaign_id, kind, indicator, last_seq, time_zone FROM tasks WHERE task_id = $1',
    [taskId],
  );
  const row = r.rows[0];
  if (!row)
    throw refused(
      `no task "${taskId}" is recorded (see \`campaign tasks <campaignId> --state all\`)`,
      `没有事项“${taskId}”（见 campaign tasks <campaignId> --state all）`,
    );
  if (!isProposalKind(row.kind))
    throw refused(
      `task ${taskId} is a ${row.kind} task, not a highlight or typical case: submit it with \`campaign task submit\``,
      `事项 ${taskId} 不是亮点或典型案例的报送事项：请用 campaign task submit 提交`,
    );
  return row;
}

/**
 * The department's person proposes the highlight or case: the submission of the task the bureau
 * raised for it, or — given a campaign id and --type — of a task the proposer raises for
 * themselves in their own department (the campaign decides: update `raiseTask`), so that a
 * department proposes of its own accord and the bureau still selects or returns it.
 */
export async function proposeCommand(
  target: string,
  opts: ProposeOptions,
  out: OutputOptions,
): Promise<void> {
  yesNo(opts.replicable, '--replicable');
  const taskId = (await withDb((pool) => isCampaignId(pool, target)))
    ? await raiseOwnProposal(target, opts, out)
    : target;
  await submitProposal(taskId, opts, out);
}

async function isCampaignId(pool: pg.Pool, id: string): Promise<boolean> {
  const r = await pool.query('SELECT 1 FROM campaigns WHERE campaign_id = $1', [id]);
  return (r.rowCount ?? 0) > 0;
}

/** The proposal task a department's person raises for themselves; its id once it is recorded. */
async function raiseOwnProposal(
  campaignId: string,
  opts: ProposeOptions,
  out: OutputOptions,
): Promise<string> {
  if (!isProposalKind(opts.type))
    throw new UsageError(
      `proposing of your own accord needs --type highlight or case (given the campaign id ${campaignId})`,
    );
  const kind: ProposalKind = opts.type;
  const c = await withDb(async (pool) => {
    const c = await loadRunningCampaign(pool, campaignId);
    if (kind === 'case' && opts.indicator)
      await requireCasePlace(pool, campaignId, opts.indicator, 'propose');
    return c;
  });
  const unit = c.definition.units.find((u) => u.people.some((p) => p.id === opts.as));
  if (!unit)
    throw refused(
      `unknown person "${opts.as}": not on the roster of campaign ${campaignId}`,
      `查无此人“${opts.as}”：不在考核 ${campaignId} 的人员名单中`,
    );
  const title = `${PROPOSAL_KIND_ZH[kind]}：${opts.title}`.slice(0, 200);
  // Due a week from now (the bureau's review follows); the same proposal retried names the
  // same task.
  const due = formatIsoOffset(Date.now() + 7 * 86_400_000, c.timeZone).slice(0, 10);
  const key = derivedRequestId('own', kind, opts.as, opts.title).slice(0, 10);
  const requestId = derivedRequestId('raise-own', campaignId, kind, opts.as, opts.title, key);
  const r = await sendUpdate(
    campaignId,
    raiseTaskUpdate,
    {
      requestId,
      actor: opts.as,
      operator: cliOperator(),
      unit: unit.id,
      assignee: opts.as,
      title,
      due,
      kind,
      indicator: opts.indicator,
      key,
      review: true,
      note: false,
      evidence: true,
    },
    t(out.lang, `报送${PROPOSAL_KIND_ZH[kind]}`, `propose a ${kind}`),
    { updateId: requestId, what: 'campaign' },
  );
  // The task projects its creation in its first moments; the submission needs its record.
  await withDb(async (pool) => {
    for (let i = 0; ; i++) {
      const row = await pool.query('SELECT 1 FROM tasks WHERE task_id = $1', [r.taskId]);
      if (row.rowCount) return;
      if (i >= 600)
        throw refused(
          `task ${r.taskId} was raised but is not recorded yet: propose again with \`campaign highlight propose ${r.taskId}\``,
          `事项 ${r.taskId} 已下达但尚未登记：请稍后用 campaign highlight propose ${r.taskId} 再报送`,
        );
      await new Promise((res) => setTimeout(res, 100));
    }
  });
  return r.taskId;
}

async function submitProposal(taskId: string, opts: ProposeOptions, out: OutputOptions) {
  const replicable = yesNo(opts.replicable, '--replicable');
  const task = await withDb(async (pool) => {
    const row = await proposalTask(pool, taskId);
    const indicator = opts.indicator ?? row.indicator ?? undefined;
    if (row.kind === 'case' && indicator)
      await requireCasePlace(pool, row.campaign_id, indicator, 'propose', taskId);
    return { ...row, indicator };
  });
  const data: Record<string, unknown> = {
    title: opts.title,
    description: opts.description,
    replicable,
    ...(task.indicator ? { indicator: task.indicator } : {}),
  };
  const evidence = await Promise.all((opts.evidence ?? []).map(evidenceReference));
  const requestId =
    opts.requestId ??
    derivedRequestId(
      'highlight',
      'propose',
      taskId,
      opts.as,
      JSON.stringify(data),
      evidence.join('\u0000'),
      opts.note,
      task.last_seq,
    );
  const request = {
    requestId,
    actor: opts.as,
    operator: cliOperator(),
    data,
    evidence,
    ...(opts.note ? { note: opts.note } : {}),
  };
  assertPayload(submitUpdate.name, request);
  const temporal = await connectTemporal();
  let result: ActionResult;
  try {
    result = await withWorkerDeadline(temporal.client, () =>
      temporal.client.workflow
        .getHandle(taskId)
        .executeUpdate(submitUpdate, { args: [request], updateId: requestId }),
    );
  } catch (e) {
    throw updateError(e, 'propose', taskId, 'task');
  } finally {
    await temporal.close();
  }
  const doc = {
    taskId: result.taskId,
    kind: task.kind,
    indicator: task.indicator ?? null,
    state: result.state,
    due: formatIsoOffset(result.due, task.time_zone),
    requestId,
  };
  if (out.json) return printJson(doc);
  console.log(
    `${colour.ok('✓')} ${taskId}: ${t(out.lang, `已报送${PROPOSAL_KIND_ZH[task.kind as ProposalKind]}，待审批局审核`, `${task.kind} proposed, awaiting the bureau's review`)}`,
  );
}

/** The bureau selects (approves) or returns a proposal: the task's own review actions. */
export async function decideCommand(
  decision: 'select' | 'return',
  taskId: string,
  opts: ActionOptions,
  out: OutputOptions,
): Promise<void> {
  await withDb((pool) => proposalTask(pool, taskId));
  await taskActionCommand(decision === 'select' ? 'approve' : 'return', taskId, opts, out);
}

// ---- publicity ----

export interface PublicityOptions {
  as: string;
  channel: string;
  title: string;
  date: string;
  unit?: string;
  link?: string;
  reach?: string;
}

export interface PublicityRecord {
  campaignId: string;
  no: number;
  unit: string;
  channel: PublicityChannel;
  title: string;
  link: string | null;
  date: string;
  reach: number | null;
  by: string;
}

/** A department's person records a publicity item of their own department. */
export async function publicityAddCommand(
  campaignId: string,
  opts: PublicityOptions,
  out: OutputOptions,
): Promise<void> {
  const channel = publicityChannelOf(opts.channel);
  if (!channel)
    throw new UsageError(
      `--channel "${opts.channel}" must be one of ${PUBLICITY_CHANNELS.join(', ')} (${Object.values(PUBLICITY_CHANNEL_ZH).join('、')})`,
    );
  const title = opts.title.trim();
  if (!title || title.length > 500)
    throw new UsageError('--title must name the item, in at most 500 characters');
  if (!isLocalDate(opts.date))
    throw new UsageError(`--date "${opts.date}" must be the publication date, YYYY-MM-DD`);
  const link = opts.link?.trim() || null;
  if (link && (!/^https?:\/\/\S+$/i.test(link) || link.length > 2000))
    throw new UsageError(`--link "${link}" must be an http(s) address of at most 2000 characters`);
  let reach: number | null = null;
  if (opts.reach !== undefined) {
    reach = /^\d{1,11}$/.test(opts.reach.trim()) ? Number(opts.reach.trim()) : NaN;
    if (!Number.isSafeInteger(reach) || reach > 10_000_000_000)
      throw new UsageError(
        `--reach "${opts.reach}" must be a whole number of people reached (views, readers)`,
      );
  }
  const record = await withDb(async (pool): Promise<PublicityRecord> => {
    const c = await loadRunningCampaign(pool, campaignId);
    const unitOf = c.definition.units.find((u) => u.people.some((p) => p.id === opts.as));
    if (!unitOf)
      throw refused(
        `unknown person "${opts.as}": not on the roster of campaign "${campaignId}"`,
        `查无此人“${opts.as}”：不在本次考核的人员名单中`,
      );
    const unitId = opts.unit ?? unitOf.id;
    const unit = c.definition.units.find((u) => u.id === unitId);
    if (!unit || unit.kind !== 'department')
      throw refused(
        `--unit "${unitId}" is not a department of campaign "${campaignId}": publicity is recorded per department`,
        `“${unitId}”不是本次考核的部门：宣传报道按部门记录`,
      );
    if (unitOf.id !== unitId)
      throw refused(
        `${opts.as} is of "${unitOf.id}", not of "${unitId}": a department's publicity is recorded by its own people`,
        `${opts.as} 属于${unitOf.name}，不是${unit.name}的人员：宣传报道由本部门人员记录`,
      );
    const r = await pool.query<{ no: number }>(
      `INSERT INTO publicity (campaign_id, unit_id, channel, title, link, published_on, reach, by_person)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING no`,
      [campaignId, unitId, channel, title, link, opts.date, reach, opts.as],
    );
    return {
      campaignId,
      no: r.rows[0]!.no,
      unit: unitId,
      channel,
      title,
      link,
      date: opts.date,
      reach,
      by: opts.as,
    };
  });
  if (out.json) return printJson(record);
  console.log(
    `${colour.ok('✓')} ${t(
      out.lang,
      `已记录宣传报道 #${record.no}：${record.unit}，${PUBLICITY_CHANNEL_ZH[channel]}《${title}》（${record.date}）`,
      `publicity item #${record.no} recorded: ${record.unit}, ${channel} "${title}" (${record.date})`,
    )}`,
  );
}

// ---- the report ----

export type HighlightState =
  'requested' | 'proposed' | 'returned' | 'selected' | 'over-limit' | 'cancelled';

const STATE_LABEL: Record<HighlightState, [string, string]> = {
  requested: ['待报送', 'requested'],
  proposed: ['已报送待审核', 'proposed'],
  returned: ['已退回修改', 'returned'],
  selected: ['已选用', 'selected'],
  'over-limit': ['超出上限未选用', 'over the limit'],
  cancelled: ['已撤销', 'cancelled'],
};
const STATE_FILL: Record<HighlightState, string | null> = {
  requested: null,
  proposed: 'FFFFF3CD',
  returned: 'FFF8D7DA',
  selected: 'FFD4EDDA',
  'over-limit': 'FFF8D7DA',
  cancelled: null,
};

export interface HighlightItem {
  taskId: string;
  kind: ProposalKind;
  indicator: string | null;
  indicatorName: string | null;
  unit: string;
  unitName: string;
  proposer: string | null;
  title: string | null;
  description: string | null;
  replicable: boolean | null;
  evidence: string[];
  state: HighlightState;
  /** A selected typical case's place among its indicator's (1 … the maximum). */
  place: number | null;
  returns: number;
  lastReturnReason: string | null;
  proposedAt: string | null;
  decidedAt: string | null;
}

export interface HighlightsReport {
  campaignId: string;
  name: string;
  maxTypicalCasesPerIndicator: number;
  items: HighlightItem[];
  /** Per indicator: its highlights and typical cases selected, and the cases' limit. */
  indicators: { code: string; name: string; highlights: number; cases: number; max: number }[];
  publicity: (PublicityRecord & { unitName: string; recordedAt: string })[];
}

export async function highlightsReport(
  pool: pg.Pool,
  campaignId: string,
): Promise<HighlightsReport> {
  const c = await loadCampaign(pool, campaignId);
  const tz = c.timeZone;
  const at = (d: Date | null) => (d ? formatLocal(d.getTime(), tz).slice(0, 16) : null);
  const [items, pub, inds] = await Promise.all([
    pool.query<{
      task_id: string;
      kind: ProposalKind;
      indicator: string | null;
      indicator_name: string | null;
      unit_id: string;
      unit_name: string | null;
      proposer: string | null;
      title: string | null;
      description: string | null;
      replicable: boolean | null;
      evidence: string[];
      state: HighlightState;
      slot: number | null;
      returns: string;
      last_return_reason: string | null;
      proposed_at: Date | null;
      decided_at: Date | null;
    }>(
      `SELECT h.task_id, h.kind, h.indicator, i.name AS indicator_name, h.unit_id,
              u.name AS unit_name, h.proposer, h.title, h.description, h.replicable, h.evidence,
              h.state, h.slot, t.last_return_reason, h.proposed_at, h.decided_at,
              (SELECT count(*) FROM task_events e WHERE e.task_id = h.task_id AND e.type = 'returned') AS returns
         FROM highlights h
         JOIN tasks t USING (task_id)
         LEFT JOIN indicators i ON i.campaign_id = h.campaign_id AND i.code = h.indicator
         LEFT JOIN units u ON u.campaign_id = h.campaign_id AND u.unit_id = h.unit_id
        WHERE h.campaign_id = $1
        ORDER BY i.position NULLS LAST, h.kind DESC, h.slot NULLS LAST, h.task_id`,
      [campaignId],
    ),
    pool.query<{
      no: number;
      unit_id: string;
      unit_name: string | null;
      channel: PublicityChannel;
      title: string;
      link: string | null;
      published_on: string;
      reach: string | null;
      by_person: string;
      recorded_at: Date;
    }>(
      `SELECT p.no, p.unit_id, u.name AS unit_name, p.channel, p.title, p.link,
              to_char(p.published_on, 'YYYY-MM-DD') AS published_on, p.reach, p.by_person, p.recorded_at
         FROM publicity p
         LEFT JOIN units u ON u.campaign_id = p.campaign_id AND u.unit_id = p.unit_id
        WHERE p.campaign_id = $1
        ORDER BY p.unit_id, p.published_on, p.no`,
      [campaignId],
    ),
    pool.query<{ code: string; name: string }>(
      'SELECT code, name FROM indicators WHERE campaign_id = $1 ORDER BY position',
      [campaignId],
    ),
  ]);
  const max = maxTypicalCases(c.definition);
  const list: HighlightItem[] = items.rows.map((r) => ({
    taskId: r.task_id,
    kind: r.kind,
    indicator: r.indicator,
    indicatorName: r.indicator_name,
    unit: r.unit_id,
    unitName: r.unit_name ?? r.unit_id,
    proposer: r.proposer,
    title: r.title,
    description: r.description,
    replicable: r.replicable,
    evidence: r.evidence,
    state: r.state,
    place: r.slot,
    returns: Number(r.returns),
    lastReturnReason: r.last_return_reason,
    proposedAt: at(r.proposed_at),
    decidedAt: at(r.decided_at),
  }));
  const selected = (code: string, kind: ProposalKind) =>
    list.filter((x) => x.indicator === code && x.kind === kind && x.state === 'selected').length;
  return {
    campaignId,
    name: c.name,
    maxTypicalCasesPerIndicator: max,
    items: list,
    indicators: inds.rows.map((i) => ({
      code: i.code,
      name: i.name,
      highlights: selected(i.code, 'highlight'),
      cases: selected(i.code, 'case'),
      max,
    })),
    publicity: pub.rows.map((p) => ({
      campaignId,
      no: p.no,
      unit: p.unit_id,
      unitName: p.unit_name ?? p.unit_id,
      channel: p.channel,
      title: p.title,
      link: p.link,
      date: p.published_on,
      reach: p.reach === null ? null : Number(p.reach),
      by: p.by_person,
      recordedAt: formatLocal(p.recorded_at.getTime(), tz).slice(0, 16),
    })),
  };
}

/** The report as sheets: the highlights and cases, the count per indicator, the publicity. */
export function highlightsSheets(report: HighlightsReport, lang: Lang): Sheet[] {
  const L = (zh: string, en: string) => t(lang, zh, en);
  const items: Sheet = {
    title: `${L('亮点与典型案例', 'Highlights and typical cases')} — ${report.name}`,
    columns: [
      { header: L('指标', 'Indicator'), width: 14 },
      { header: L('类别', 'Kind'), width: 9 },
      { header: L('标题', 'Title'), width: 24 },
      { header: L('主要做法与成效', 'Description'), width: 36 },
      { header: L('报送单位', 'Unit'), width: 16 },
      { header: L('报送人', 'Proposer'), width: 12 },
      { header: L('可复制推广', 'Replicable'), width: 8 },
      { header: L('佐证材料', 'Evidence'), width: 28 },
      { header: L('状态', 'State'), width: 12 },
      { header: L('案例序号', 'Place'), width: 8 },
      { header: L('退回次数', 'Returns'), width: 8 },
      { header: L('退回原因', 'Return reason'), width: 20 },
      { header: L('报送时间', 'Proposed'), width: 16 },
      { header: L('审定时间', 'Decided'), width: 16 },
      { header: L('事项', 'Task'), width: 36 },
    ],
    rows: report.items.map((x) => [
      x.indicator ? `${x.indicator} ${x.indicatorName ?? ''}`.trim() : null,
      lang === 'zh' ? PROPOSAL_KIND_ZH[x.kind] : x.kind,
      x.title,
      x.description,
      x.unitName,
      x.proposer,
      x.replicable === null ? null : x.replicable ? L('是', 'yes') : L('否', 'no'),
      x.evidence.join('\n'),
      L(...STATE_LABEL[x.state]),
      x.place === null ? null : `${x.place}/${report.maxTypicalCasesPerIndicator}`,
      x.returns,
      x.lastReturnReason,
      x.proposedAt,
      x.decidedAt,
      x.taskId,
    ]),
    fills: report.items.map((x) => STATE_FILL[x.state]),
  };
  const perIndicator: Sheet = {
    title: `${L('各指标入选情况', 'Selected per indicator')} — ${report.name}`,
    columns: [
      { header: L('指标', 'Indicator'), width: 20 },
      { header: L('入选亮点', 'Highlights selected'), width: 10 },
      { header: L('入选典型案例', 'Cases selected'), width: 12 },
      { header: L('案例上限', 'Case limit'), width: 10 },
    ],
    rows: report.indicators.map((i) => [`${i.code} ${i.name}`, i.highlights, i.cases, i.max]),
    fills: report.indicators.map((i) => (i.cases >= i.max ? 'FFFFF3CD' : null)),
  };
  const publicity: Sheet = {
    title: `${L('宣传报道', 'Publicity')} — ${report.name}`,
    columns: [
      { header: L('序号', 'No.'), width: 6 },
      { header: L('单位', 'Unit'), width: 18 },
      { header: L('渠道', 'Channel'), width: 10 },
      { header: L('标题', 'Title'), width: 30 },
      { header: L('链接', 'Link'), width: 30 },
      { header: L('日期', 'Date'), width: 11 },
      { header: L('阅读/覆盖人数', 'Reach'), width: 10 },
      { header: L('记录人', 'Recorded by'), width: 14 },
    ],
    rows: report.publicity.map((p) => [
      p.no,
      p.unitName,
      lang === 'zh' ? PUBLICITY_CHANNEL_ZH[p.channel] : p.channel,
      p.title,
      p.link,
      p.date,
      p.reach,
      p.by,
    ]),
  };
  return [items, perIndicator, publicity];
}

export async function highlightsReportCommand(
  campaignId: string,
  opts: { format: Format; out?: string; force?: boolean },
  out: OutputOptions,
): Promise<void> {
  const report = await withProgress(
    {
      label: t(out.lang, '汇总亮点、典型案例与宣传', 'collecting highlights, cases and publicity'),
      json: out.json,
    },
    () => withDb((pool) => highlightsReport(pool, campaignId)),
  );
  if (out.json && opts.format === 'table' && !opts.out) return printJson(report);
  await emitSheets(highlightsSheets(report, out.lang), opts.format, opts.out, {
    ...out,
    force: opts.force,
  });
}
