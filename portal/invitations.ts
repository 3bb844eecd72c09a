// Invitations from a campaign's roster: the bureau's coordinators and head issue one-time,
// expiring links (the token is stored only as its SHA-256), revoke accounts and re-invite
// (a password reset). Used by the portal's bureau page and by `campaign accounts invite`.
import type pg from 'pg';
import { formatIsoOffset } from '../domain/time.ts';
import { Q, run } from '../db/portal.ts';
import { endAllSessions, hashToken, newToken } from './auth.ts';
import { Refused } from './errors.ts';
import { roleTitle } from './views.ts';

export interface RosterEntry {
  person_id: string;
  name: string;
  role: string;
  unit_id: string;
  unit_name: string;
  unit_kind: string;
}

export interface Invitation {
  personId: string;
  name: string;
  unitId: string;
  unitName: string;
  role: string;
  link: string;
  expiresAt: string;
}

export async function campaignRoster(pool: pg.Pool, campaignId: string): Promise<RosterEntry[]> {
  return (await run<RosterEntry>(pool, Q.roster, [campaignId])).rows;
}

/** Checks that `by` is one of the bureau's coordinators or its head in the campaign. */
export async function requireBureauOfficer(
  pool: pg.Pool,
  campaignId: string,
  by: string,
): Promise<RosterEntry[]> {
  const roster = await campaignRoster(pool, campaignId);
  if (roster.length === 0) {
    throw new Refused(
      404,
      `未找到考核评价「${campaignId}」（可用 campaign list 查看）`,
      `no campaign "${campaignId}" is recorded (see \`campaign list\`)`,
    );
  }
  const me = roster.find((p) => p.person_id === by);
  if (!me) {
    throw new Refused(
      403,
      `「${by}」不在考核评价「${campaignId}」的名册中`,
      `"${by}" is not on the roster of campaign "${campaignId}"`,
    );
  }
  if (me.unit_kind !== 'bureau' || !['coordinator', 'head'].includes(me.role)) {
    throw new Refused(
      403,
      `${me.name}（${me.unit_name}${roleTitle('zh', me.role)}）无权发放账号邀请：仅审批局的协调人和主要负责人可以，请联系他们发放`,
      `${by} (${me.role} in "${me.unit_id}") may not invite: the bureau's coordinators and head may`,
    );
  }
  return roster;
}

export async function createInvitations(
  pool: pg.Pool,
  opts: {
    campaignId: string;
    by: string;
    unit?: string | undefined;
    person?: string | undefined;
    ttlMs: number;
    publicUrl: string;
  },
): Promise<Invitation[]> {
  const roster = await requireBureauOfficer(pool, opts.campaignId, opts.by);
  if (opts.unit && !roster.some((p) => p.unit_id === opts.unit)) {
    const units = [...new Set(roster.map((p) => p.unit_id))].join(', ');
    throw new Refused(
      404,
      `考核评价「${opts.campaignId}」没有单位「${opts.unit}」（有：${units}）`,
      `campaign "${opts.campaignId}" has no unit "${opts.unit}" (it has: ${units})`,
    );
  }
  if (opts.person && !roster.some((p) => p.person_id === opts.person)) {
    throw new Refused(
      404,
      `「${opts.person}」不在考核评价「${opts.campaignId}」的名册中`,
      `"${opts.person}" is not on the roster of campaign "${opts.campaignId}"`,
    );
  }
  const people = roster.filter(
    (p) => (!opts.unit || p.unit_id === opts.unit) && (!opts.person || p.person_id === opts.person),
  );
  if (people.length === 0) {
    throw new Refused(
      404,
      `单位「${opts.unit}」中没有「${opts.person}」`,
      `"${opts.person}" is not in unit "${opts.unit}"`,
    );
  }
  // Expiry in the campaign's own time zone (with its offset), as people read it.
  const tz =
    (
      await pool.query<{ time_zone: string }>(
        'SELECT time_zone FROM campaigns WHERE campaign_id = $1',
        [opts.campaignId],
      )
    ).rows[0]?.time_zone ?? 'Asia/Shanghai';
  const out: Invitation[] = [];
  for (const p of people) {
    const token = newToken();
    // A new invitation replaces the person's earlier unused ones.
    await run(pool, Q.revokeInvitations, [p.person_id]);
    const r = await run<{ expires_at: Date }>(pool, Q.insertInvitation, [
      hashToken(token),
      opts.campaignId,
      p.person_id,
      opts.by,
      String(opts.ttlMs),
    ]);
    out.push({
      personId: p.person_id,
      name: p.name,
      unitId: p.unit_id,
      unitName: p.unit_name,
      role: p.role,
      link: `${opts.publicUrl}/invite/${token}`,
      expiresAt: formatIsoOffset(r.rows[0]!.expires_at.getTime(), tz),
    });
  }
  return out;
}

/** Revokes a person's account: no sign-in, every session ended, open invitations withdrawn. */
export async function revokeAccount(
  pool: pg.Pool,
  opts: { campaignId: string; by: string; person: string },
): Promise<void> {
  const roster = await requireBureauOfficer(pool, opts.campaignId, opts.by);
  if (!roster.some((p) => p.person_id === opts.person)) {
    throw new Refused(
      404,
      `「${opts.person}」不在考核评价「${opts.campaignId}」的名册中`,
      `"${opts.person}" is not on the roster of campaign "${opts.campaignId}"`,
    );
  }
  if (opts.person === opts.by) {
    throw new Refused(409, '不能撤销自己的账号', 'you may not revoke your own account');
  }
  await run(pool, Q.revokeAccount, [opts.person, opts.by]);
  await run(pool, Q.revokeInvitations, [opts.person]);
  await endAllSessions(pool, opts.person);
}
