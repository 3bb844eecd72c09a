// Who may do what, by the campaign's recorded roster: a person's unit kind and role. Kept apart
// from the commands that talk to Temporal, so that commands reading PostgreSQL alone check it too.
import type { CampaignDefinition } from '../../domain/definition.ts';
import { CliError } from '../errors.ts';

export const BUREAU = { kind: 'bureau', roles: ['coordinator', 'head'] };
export const EVALUATOR = { kind: 'evaluator', roles: ['evaluator', 'head'] };

/** Checks that `personId` is on the campaign's roster with one of the allowed unit kinds and roles. */
export function requireRole(
  def: CampaignDefinition,
  personId: string,
  allowed: { kind: string; roles: string[] }[],
  what: string,
): void {
  for (const u of def.units) {
    const p = u.people.find((x) => x.id === personId);
    if (!p) continue;
    if (allowed.some((a) => a.kind === u.kind && a.roles.includes(p.role))) return;
    throw new CliError(`${personId} (${p.role} in "${u.id}") may not ${what}`);
  }
  throw new CliError(
    `unknown person "${personId}": not on the roster of campaign "${def.campaign.id}"`,
  );
}
