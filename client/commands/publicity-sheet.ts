// The daily dispatch's publicity part (宣传引导) as a sheet of its own, beside the digest's
// indicators: a module apart so that the dispatch report loads nothing else of the highlights.
import type { DispatchDigest } from '../../activities/dispatch.ts';
import { PUBLICITY_CHANNEL_ZH, PUBLICITY_CHANNELS } from '../../domain/highlights.ts';
import type { Sheet } from '../export.ts';
import { t, type Lang } from '../output.ts';

/** The daily dispatch's publicity per department, as a sheet; none for a digest without it. */
export function dispatchPublicitySheets(digest: DispatchDigest, lang: Lang): Sheet[] {
  if (!digest.publicity) return [];
  const L = (zh: string, en: string) => t(lang, zh, en);
  return [
    {
      title: `${L('宣传报道', 'Publicity')} ${digest.date} — ${digest.campaignName}`,
      columns: [
        { header: L('单位', 'Unit'), width: 22 },
        { header: L('累计', 'Total'), width: 8 },
        { header: L('上次调度以来', 'Since last'), width: 12 },
        ...PUBLICITY_CHANNELS.map((ch) => ({
          header: lang === 'zh' ? PUBLICITY_CHANNEL_ZH[ch] : ch,
          width: 10,
        })),
      ],
      rows: digest.publicity.map((u) => [
        `${u.unit} ${u.name}`,
        u.total,
        u.sinceLast,
        ...PUBLICITY_CHANNELS.map((ch) => u.byChannel[ch] ?? 0),
      ]),
    },
  ];
}
