// API tokens for a unit's own systems (a 一网通办 back office reporting completion, say): scoped
// to one unit of one campaign, acting as a person of that unit who answers for the system,
// stored as SHA-256 only, revocable, last use recorded. A token reaches only the routes marked
// for tokens, and only its unit's tasks.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { Q, run } from '../db/portal.ts';
import { isBureauOfficer, loadMe, membershipIn, type Me } from './access.ts';
import { hashToken, newToken } from './auth.ts';
import { notFound, Refused } from './errors.ts';

export interface TokenUse {
  tokenId: string;
  campaignId: string;
  unitId: string;
  personId: string;
}

/** The person a token acts as, restricted to the token's unit in the token's campaign. */
export async function tokenIdentity(
  pool: pg.Pool,
  bearer: string,
): Promise<{ use: TokenUse; me: Me } | null> {
  if (!bearer.startsWith('cct_') || bearer.length > 100) return null;
  const r = await run<{
    token_id: string;
    campaign_id: string;
    unit_id: string;
    person_id: string;
  }>(pool, Q.useToken, [hashToken(bearer)]);
  const row = r.rows[0];
  if (!row) return null;
  const full = await loadMe(pool, row.person_id);
  const m = full.memberships.filter(
    (x) => x.campaignId === row.campaign_id && x.unitId === row.unit_id,
  );
  if (m.length === 0) return null;
  // Seen as a member of its unit only, whatever else the person may be.
  const me: Me = { ...full, memberships: m.map((x) => ({ ...x, unitKind: 'department' })) };
  return {
    use: {
      tokenId: row.token_id,
      campaignId: row.campaign_id,
      unitId: row.unit_id,
      personId: row.person_id,
    },
    me,
  };
}

/** Who may manage a unit's tokens: the bureau's officers, or the unit's head or deputy. */
function mayManage(me: Me, campaignId: string, unitId: string): boolean {
  const m = membershipIn(me, campaignId);
  if (!m) return false;
  return isBureauOfficer(m) || (m.unitId === unitId && (m.role === 'head' || m.role === 'deputy'));
}

export async function createToken(
  pool: pg.Pool,
  me: Me,
  opts: { campaignId: string; unit: string; person: string; name: string },
): Promise<{
  tokenId: string;
  token: string;
  unit: string;
  person: string;
  name: string;
  createdAt: string;
}> {
  if (!membershipIn(me, opts.campaignId)) throw notFound('campaign');
  if (!mayManage(me, opts.campaignId, opts.unit)) {
    throw new Refused(
      403,
      `只有审批局或「${opts.unit}」的一把手、分管领导可以为该单位发放接口令牌。`,
      `Only the bureau, or the head or deputy of "${opts.unit}", may issue tokens for that unit.`,
    );
  }
  const person = (
    await run<{ person_id: string; unit_id: string }>(pool, Q.roster, [opts.campaignId])
  ).rows.find((p) => p.person_id === opts.person);
  if (!person || person.unit_id !== opts.unit) {
    throw new Refused(
      422,
      `「${opts.person}」不是单位「${opts.unit}」的人员：令牌须由本单位一名人员负责。`,
      `"${opts.person}" is not a person of unit "${opts.unit}": a token answers to a person of its unit.`,
      { person: '须为本单位人员' },
    );
  }
  const token = `cct_${newToken()}`;
  const tokenId = randomUUID();
  const r = await run<{ created_at: Date }>(pool, Q.insertToken, [
    tokenId,
    hashToken(token),
    opts.campaignId,
    opts.unit,
    opts.person,
    opts.name,
    me.personId,
  ]);
  return {
    tokenId,
    token,
    unit: opts.unit,
    person: opts.person,
    name: opts.name,
    createdAt: r.rows[0]!.created_at.toISOString(),
  };
}

export async function listTokens(pool: pg.Pool, me: Me, campaignId: string) {
  if (!membershipIn(me, campaignId)) throw notFound('campaign');
  const r = await run<{
    token_id: string;
    unit_id: string;
    person_id: string;
    name: string;
    created_by: string;
    created_at: Date;
    last_used_at: Date | null;
    revoked_at: Date | null;
  }>(pool, Q.tokensOfCampaign, [campaignId]);
  return r.rows
    .filter((x) => mayManage(me, campaignId, x.unit_id))
    .map((x) => ({
      tokenId: x.token_id,
      unit: x.unit_id,
      person: x.person_id,
      name: x.name,
      createdBy: x.created_by,
      createdAt: x.created_at.toISOString(),
      lastUsedAt: x.last_used_at?.toISOString() ?? null,
      revokedAt: x.revoked_at?.toISOString() ?? null,
    }));
}

export async function revokeToken(
  pool: pg.Pool,
  me: Me,
  campaignId: string,
  tokenId: string,
): Promise<void> {
  if (!/^[0-9a-f-]{36}$/i.test(tokenId)) throw notFound('token');
  const unit = (await run<{ unit_id: string }>(pool, Q.tokenUnit, [tokenId, campaignId])).rows[0]
    ?.unit_id;
  if (!unit || !mayManage(me, campaignId, unit)) throw notFound('token');
  await run(pool, Q.revokeToken, [tokenId, campaignId, me.personId]);
}
