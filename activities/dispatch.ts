// The daily dispatch digest (每日调度): per indicator, its phase and state, what was done since
// the last dispatch, what is due today and tomorrow, what is overdue, and who was escalated.
// Computed from the PostgreSQL projection; used by the campaign workflow and the CLI.
import type pg from 'pg';
import { addCalendarDays, formatIsoOffset, localDateOf } from '../domain/time.ts';
import { questionnaireSummary } from '../db/questionnaire.ts';
import type { ResponseRates } from '../domain/questionnaire.ts';
import { publicityCounts, type DispatchPublicity } from './dispatch-publicity.ts';

export interface DispatchTaskRef {
  taskId: string;
  kind: string;
  unit: string;
  assignee: string;
  due: string;
}

export interface DispatchIndicator {
  code: string;
  name: string;
  phase: string;
  state: string;
  flagged: boolean;
  done: DispatchTaskRef[];
  dueToday: DispatchTaskRef[];
  dueTomorrow: DispatchTaskRef[];
  overdue: DispatchTaskRef[];
  escalated: { taskId: string; level: number; recipients: string[]; at: string }[];
}

export interface DispatchDigest {
  campaignId: string;
  campaignName: string;
  date: string;
  at: string;
  since: string;
  timeZone: string;
  totals: {
    doneSinceYesterday: number;
    dueToday: number;
    dueTomorrow: number;
    overdue: number;
    escalated: number;
  };
  indicators: DispatchIndicator[];
  /** The sampled enterprises' questionnaire: response rates (absent before a sample). */
  questionnaire?: ResponseRates & { sampleSeed: string };
  /** Publicity items per department (宣传引导); absent in digests stored before it was counted. */
  publicity?: DispatchPublicity[];
  /** Shown by the report: true when this is the digest stored when it was sent. */
  sent?: boolean;
  /** Why a day has no sent digest (a rehearsal outside working hours, a day off). */
  note?: string;
}

interface Row {
  task_id: string;
  indicator: string | null;
  kind: string;
  unit_id: string;
  assignee: string;
  state: string;
  due_at: Date;
  completed_at: Date | null;
}

export class DispatchError extends Error {}

export async function computeDispatch(
  pool: pg.Pool,
  campaignId: string,
  at: number,
  since: number,
): Promise<DispatchDigest> {
  const c = await pool.query<{ name: string; time_zone: string }>(
    'SELECT name, time_zone FROM campaigns WHERE campaign_id = $1',
    [campaignId],
  );
  const campaign = c.rows[0];
  if (!campaign) throw new DispatchError(`no campaign "${campaignId}" is recorded`);
  const tz = campaign.time_zone;
  const today = localDateOf(at, tz);
  const tomorrow = addCalendarDays(today, 1);
  const [indicators, tasks, escalations] = await Promise.all([
    pool.query<{
      code: string;
      name: string;
      phase: string | null;
      state: string | null;
      flagged: boolean | null;
    }>(
      `SELECT i.code, i.name, s.phase, s.state, s.flagged FROM indicators i
       LEFT JOIN indicator_status s USING (campaign_id, code) WHERE i.campaign_id = $1 ORDER BY i.position`,
      [campaignId],
    ),
    pool.query<Row>(
      `SELECT task_id, indicator, kind, unit_id, assignee, state, due_at, completed_at FROM tasks
       WHERE campaign_id = $1 AND created_at <= $2 ORDER BY due_at, task_id`,
      [campaignId, new Date(at)],
    ),
    pool.query<{
      task_id: string;
      indicator: string | null;
      at: Date;
      detail: { level?: number };
      recipients: string[];
    }>(
      `SELECT e.task_id, t.indicator, e.at, e.detail, e.recipients FROM task_events e JOIN tasks t USING (task_id)
       WHERE e.campaign_id = $1 AND e.type = 'escalated' AND e.at > $2 AND e.at <= $3 ORDER BY e.at`,
      [campaignId, new Date(since), new Date(at)],
    ),
  ]);
  const publicity = await publicityCounts(pool, campaignId, at, since);
  const ref = (r: Row): DispatchTaskRef => ({
    taskId: r.task_id,
    kind: r.kind,
    unit: r.unit_id,
    assignee: r.assignee,
    due: formatIsoOffset(r.due_at.getTime(), tz),
  });
  const open = (r: Row) => r.state === 'open' || r.state === 'returned';
  const out: DispatchIndicator[] = indicators.rows.map((i) => {
    const mine = tasks.rows.filter((t) => t.indicator === i.code);
    return {
      code: i.code,
      name: i.name,
      phase: i.phase ?? 'scheduled',
      state: i.state ?? 'waiting',
      flagged: i.flagged ?? false,
      done: mine
        .filter(
          (t) =>
            t.state === 'done' &&
            t.completed_at &&
            t.completed_at.getTime() > since &&
            t.completed_at.getTime() <= at,
        )
        .map(ref),
      dueToday: mine
        .filter(
          (t) =>
            open(t) && t.due_at.getTime() > at && localDateOf(t.due_at.getTime(), tz) === today,
        )
        .map(ref),
      dueTomorrow: mine
        .filter((t) => open(t) && localDateOf(t.due_at.getTime(), tz) === tomorrow)
        .map(ref),
      overdue: mine.filter((t) => open(t) && t.due_at.getTime() <= at).map(ref),
      escalated: escalations.rows
        .filter((e) => e.indicator === i.code)
        .map((e) => ({
          taskId: e.task_id,
          level: Number(e.detail.level ?? 0),
          recipients: e.recipients,
          at: formatIsoOffset(e.at.getTime(), tz),
        })),
    };
  });
  const sum = (f: (i: DispatchIndicator) => number) => out.reduce((n, i) => n + f(i), 0);
  return {
    campaignId,
    campaignName: campaign.name,
    date: today,
    at: formatIsoOffset(at, tz),
    since: formatIsoOffset(since, tz),
    timeZone: tz,
    totals: {
      doneSinceYesterday: sum((i) => i.done.length),
      dueToday: sum((i) => i.dueToday.length),
      dueTomorrow: sum((i) => i.dueTomorrow.length),
      overdue: sum((i) => i.overdue.length),
      escalated: sum((i) => i.escalated.length),
    },
    indicators: out,
    ...(await questionnaireSummary(pool, campaignId).then((q) => (q ? { questionnaire: q } : {}))),
    publicity,
  };
}

/** The questionnaire's lines of the dispatch notice: the rate, and each department's below it. */
export function questionnaireLines(digest: DispatchDigest): string[] {
  const q = digest.questionnaire;
  if (!q) return [];
  const pct = (r: { rate: number | null }) =>
    r.rate === null ? '—' : `${Math.round(r.rate * 1000) / 10}%`;
  return [
    `企业问卷答卷率 ${pct(q.total)}（${q.total.answered}/${q.total.expected}）` +
      q.byUnit
        .filter((u) => u.answered < u.expected)
        .map((u) => `；${u.unit} ${pct(u)}`)
        .join(''),
  ];
}
