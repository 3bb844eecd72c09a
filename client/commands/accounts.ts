// `campaign accounts invite|revoke`: the bureau's side of the portal's accounts. An invitation
// is a one-time, expiring link to set a password; the CSV is for the bureau to hand each link
// to its person. The links' tokens are stored only hashed, so a lost file means new invitations.
import { writeFile } from 'node:fs/promises';
import { stringify } from 'csv-stringify/sync';
import { createInvitations, revokeAccount } from '../../portal/invitations.ts';
import { readPortalConfig } from '../../portal/config.ts';
import { Refused } from '../../portal/errors.ts';
import { withDb } from '../connections.ts';
import { CliError, EXIT } from '../errors.ts';
import { colour, printJson, t, table, type OutputOptions } from '../output.ts';

const asCliError = (e: unknown, lang: 'zh' | 'en') =>
  e instanceof Refused ? new CliError(e.text(lang), EXIT.refused) : e;

export async function inviteCommand(
  campaignId: string,
  opts: { unit?: string; person?: string; as: string; out?: string },
  out: OutputOptions,
): Promise<void> {
  const cfg = readPortalConfig();
  const invites = await withDb((pool) =>
    createInvitations(pool, {
      campaignId,
      by: opts.as,
      unit: opts.unit,
      person: opts.person,
      ttlMs: cfg.inviteTtlMs,
      publicUrl: cfg.publicUrl,
    }),
  ).catch((e: unknown) => {
    throw asCliError(e, out.lang);
  });
  if (opts.out) {
    const rows = invites.map((i) => [
      i.personId,
      i.name,
      i.unitId,
      i.unitName,
      i.role,
      i.link,
      i.expiresAt,
    ]);
    const header = ['personId', 'name', 'unit', 'unitName', 'role', 'link', 'expiresAt'];
    await writeFile(opts.out, `\uFEFF${stringify([header, ...rows])}`, { mode: 0o600 });
  }
  if (out.json)
    return printJson({ invited: invites.length, out: opts.out ?? null, invitations: invites });
  if (opts.out) {
    console.log(
      `${colour.ok('✓')} ${t(out.lang, `已为 ${invites.length} 人生成邀请，写入 ${opts.out}（每个链接只能使用一次）`, `${invites.length} invitation(s) written to ${opts.out} (each link works once)`)}`,
    );
    return;
  }
  console.log(
    table(
      [
        t(out.lang, '人员', 'Person'),
        t(out.lang, '单位', 'Unit'),
        t(out.lang, '邀请链接', 'Link'),
        t(out.lang, '有效期至', 'Expires'),
      ],
      invites.map((i) => [
        `${i.name} (${i.personId})`,
        i.unitName,
        i.link,
        `${i.expiresAt.slice(0, 16).replace('T', ' ')} (UTC${i.expiresAt.slice(19) || 'Z'})`,
      ]),
    ),
  );
}

export async function revokeCommand(
  campaignId: string,
  person: string,
  opts: { as: string },
  out: OutputOptions,
): Promise<void> {
  await withDb((pool) => revokeAccount(pool, { campaignId, by: opts.as, person })).catch(
    (e: unknown) => {
      throw asCliError(e, out.lang);
    },
  );
  if (out.json) return printJson({ revoked: person });
  console.log(
    `${colour.ok('✓')} ${t(out.lang, `已撤销 ${person} 的门户账号`, `revoked the portal account of ${person}`)}`,
  );
}
