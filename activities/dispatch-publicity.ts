// The daily dispatch digest's publicity part (宣传引导): per department, how many publicity items
// its people have recorded by the digest's moment, and how many since the previous dispatch.
import type pg from 'pg';

export interface DispatchPublicity {
  unit: string;
  name: string;
  /** Items recorded up to the digest's moment. */
  total: number;
  /** Items recorded since the previous dispatch. */
  sinceLast: number;
  /** Recorded items by channel (tv, web, newspaper, wechat, other), up to the moment. */
  byChannel: Record<string, number>;
}

/** One row per department of the campaign (by unit id), counting at `at`. */
export async function publicityCounts(
  pool: pg.Pool,
  campaignId: string,
  at: number,
  since: number,
): Promise<DispatchPublicity[]> {
  const r = await pool.query<{
    unit_id: string;
    name: string;
    channel: string | null;
    total: string;
    since_last: string;
  }>(
    `SELECT u.unit_id, u.name, p.channel, count(p.no) AS total,
            count(p.no) FILTER (WHERE p.recorded_at > $3) AS since_last
       FROM units u
       LEFT JOIN publicity p ON p.campaign_id = u.campaign_id AND p.unit_id = u.unit_id
                            AND p.recorded_at <= $2
      WHERE u.campaign_id = $1 AND u.kind = 'department'
      GROUP BY u.unit_id, u.name, p.channel
      ORDER BY u.unit_id, p.channel`,
    [campaignId, new Date(at), new Date(since)],
  );
  const out = new Map<string, DispatchPublicity>();
  for (const row of r.rows) {
    const u = out.get(row.unit_id) ?? {
      unit: row.unit_id,
      name: row.name,
      total: 0,
      sinceLast: 0,
      byChannel: {},
    };
    if (row.channel) {
      u.total += Number(row.total);
      u.sinceLast += Number(row.since_last);
      u.byChannel[row.channel] = Number(row.total);
    }
    out.set(row.unit_id, u);
  }
  return [...out.values()];
}

/** The digest notice's line about publicity: the departments with items, or nothing. */
export function publicityLine(digest: { publicity?: DispatchPublicity[] | undefined }): string[] {
  const units = (digest.publicity ?? []).filter((u) => u.total > 0);
  if (units.length === 0) return [];
  return [
    `宣传报道：${units.map((u) => `${u.name} ${u.total} 篇${u.sinceLast ? `（新增 ${u.sinceLast}）` : ''}`).join('，')}`,
  ];
}
