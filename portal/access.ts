// Who sees what, decided from the signed-in person's place on each campaign's roster. The
// rules of who may act come from domain/task.ts (the task workflow's validators check them
// again); what a person may not see answers 404.
import type pg from 'pg';
import { Q, run } from '../db/portal.ts';
import { taskPolicyOf } from '../domain/campaign-parts.ts';
import type { CampaignDefinition } from '../domain/definition.ts';
import {
  checkRequest,
  isReviewer,
  Refusal,
  type Roster,
  type TaskAction,
  type TaskFacts,
  type TaskState,
} from '../domain/task.ts';

export interface Membership {
  campaignId: string;
  campaignName: string;
  campaignStatus: string;
  personId: string;
  name: string;
  role: string;
  unitId: string;
  unitName: string;
  unitKind: 'bureau' | 'department' | 'evaluator' | 'leadership';
}

export interface Me {
  personId: string;
  /** Name as the first (newest) roster has it. */
  name: string;
  memberships: Membership[];
}

export async function loadMe(pool: pg.Pool, personId: string): Promise<Me> {
  const r = await run<{
    campaign_id: string;
    campaign_name: string;
    campaign_status: string;
    person_id: string;
    name: string;
    role: string;
    unit_id: string;
    unit_name: string;
    unit_kind: Membership['unitKind'];
  }>(pool, Q.memberships, [personId]);
  const memberships = r.rows.map((x) => ({
    campaignId: x.campaign_id,
    campaignName: x.campaign_name,
    campaignStatus: x.campaign_status,
    personId: x.person_id,
    name: x.name,
    role: x.role,
    unitId: x.unit_id,
    unitName: x.unit_name,
    unitKind: x.unit_kind,
  }));
  return { personId, name: memberships[0]?.name ?? personId, memberships };
}

export const membershipIn = (me: Me, campaignId: string): Membership | undefined =>
  me.memberships.find((m) => m.campaignId === campaignId);

export const isBureauOfficer = (m: Membership): boolean =>
  m.unitKind === 'bureau' && (m.role === 'coordinator' || m.role === 'head');

/** The task columns the rules need. */
export interface TaskRow {
  task_id: string;
  campaign_id: string;
  indicator: string | null;
  kind: string;
  title: string;
  unit_id: string;
  unit_name: string | null;
  unit_kind: string | null;
  assignee: string;
  assignee_name: string | null;
  reviewer: string | null;
  review: boolean;
  state: TaskState;
  due_at: Date;
  warning_ms: string;
  time_zone: string;
  escalation_level: number;
  extensions_used: number;
  pending_extension: { until: number; reason: string; by: string } | null;
  last_submission: { note?: string; data?: Record<string, unknown>; evidence?: string[] } | null;
  last_return_reason: string | null;
  completed_at: Date | null;
  on_time: boolean | null;
}

/**
 * Whether the person sees the task: a unit's people see their unit's tasks; the bureau sees
 * every task; the evaluator sees the evidence it asked for; the county leadership sees the
 * bureau's own work, which it reviews.
 */
export function canSeeTask(
  me: Me,
  t: Pick<TaskRow, 'campaign_id' | 'unit_id' | 'kind' | 'unit_kind'>,
): boolean {
  const m = membershipIn(me, t.campaign_id);
  if (!m) return false;
  if (m.unitId === t.unit_id) return true;
  if (m.unitKind === 'bureau') return true;
  if (m.unitKind === 'evaluator') return t.kind === 'evidence';
  if (m.unitKind === 'leadership') return t.unit_kind === 'bureau';
  return false;
}

/** Boards (campaign board, ledger, dispatch, unit performance): the bureau and the leadership. */
export function canReadBoards(m: Membership | undefined): boolean {
  return !!m && (m.unitKind === 'bureau' || m.unitKind === 'leadership');
}

export async function rosterOfCampaign(pool: pg.Pool, campaignId: string): Promise<Roster> {
  const units = await run<{ unit_id: string; name: string; kind: Roster['units'][number]['kind'] }>(
    pool,
    Q.rosterUnits,
    [campaignId],
  );
  const people = await run<{
    person_id: string;
    name: string;
    role: Roster['people'][number]['role'];
    unit_id: string;
  }>(pool, Q.roster, [campaignId]);
  return {
    units: units.rows.map((u) => ({ id: u.unit_id, name: u.name, kind: u.kind })),
    people: people.rows.map((p) => ({
      id: p.person_id,
      name: p.name,
      unitId: p.unit_id,
      role: p.role,
    })),
  };
}

export async function campaignDefinition(
  pool: pg.Pool,
  campaignId: string,
): Promise<{
  definition: CampaignDefinition;
  timeZone: string;
  name: string;
  phase: string;
} | null> {
  const r = await run<{
    definition: CampaignDefinition;
    time_zone: string;
    name: string;
    phase: string;
  }>(pool, Q.campaignDefinition, [campaignId]);
  const row = r.rows[0];
  return row
    ? { definition: row.definition, timeZone: row.time_zone, name: row.name, phase: row.phase }
    : null;
}

/**
 * The actions the person may take on the task now, by the same rules the workflow's validators
 * apply (domain/task.ts checkRequest), with the content of each request taken as given.
 */
export function allowedActions(
  roster: Roster,
  def: CampaignDefinition | undefined,
  personId: string,
  t: TaskRow,
  now = Date.now(),
): TaskAction[] {
  const policy = def
    ? taskPolicyOf(def)
    : { extensionApprovers: ['bureau' as const], maxExtensions: 2 };
  const facts: TaskFacts = {
    unitId: t.unit_id,
    assignee: t.assignee,
    state: t.state,
    review: t.review,
    due: t.due_at.getTime(),
    extensionsUsed: t.extensions_used,
    policy: { extensionApprovers: policy.extensionApprovers, maxExtensions: policy.maxExtensions },
    completion: { note: false, evidence: false, fields: [] },
  };
  const other = roster.people.find((p) => p.unitId === t.unit_id && p.id !== t.assignee);
  const out: TaskAction[] = [];
  for (const action of ['submit', 'approve', 'return', 'extend', 'reassign'] as const) {
    try {
      checkRequest(
        action,
        {
          requestId: 'probe',
          actor: personId,
          reason: 'probe',
          until: Math.max(t.due_at.getTime(), now) + 86_400_000,
          to: other?.id ?? '',
        },
        facts,
        roster,
        now,
      );
      out.push(action);
    } catch (e) {
      if (!(e instanceof Refusal)) throw e;
    }
  }
  return out;
}

/** Whether the person reviews this task (approve / return): the same rule as the workflow's. */
export function reviews(roster: Roster, personId: string, unitId: string): boolean {
  const p = roster.people.find((x) => x.id === personId);
  return !!p && p.unitId !== unitId && isReviewer(roster, p, unitId);
}
