// Highlights, typical cases and publicity (突出亮点、典型案例、宣传引导). A department proposes a
// highlight or a typical case as the submission of a supervised task the bureau raises for it
// (kind `highlight` or `case`, reviewed: the bureau's approval selects it, a return sends it
// back for rework); the proposal's fields are the task's typed fields, so the task's own
// validators, the CLI and the portal check them alike. A typical case is one of at most N per
// indicator (the definition's `highlights.maxTypicalCasesPerIndicator`). Publicity items are
// recorded per department by its own people. Pure.
import type { CampaignDefinition, QuestionnaireField } from './definition.ts';
import { DEFAULT_MAX_TYPICAL_CASES } from './highlights-policy.ts';
import { Refusal } from './refusal.ts';

export { DEFAULT_MAX_TYPICAL_CASES } from './highlights-policy.ts';

export const PROPOSAL_KINDS = ['highlight', 'case'] as const;
export type ProposalKind = (typeof PROPOSAL_KINDS)[number];

export const PROPOSAL_KIND_ZH: Record<ProposalKind, string> = {
  highlight: '亮点',
  case: '典型案例',
};

export function isProposalKind(kind: unknown): kind is ProposalKind {
  return kind === 'highlight' || kind === 'case';
}

/** The cap in force for a definition (the default when it has no `highlights` section). */
export function maxTypicalCases(def: Pick<CampaignDefinition, 'highlights'>): number {
  return def.highlights?.maxTypicalCasesPerIndicator ?? DEFAULT_MAX_TYPICAL_CASES;
}

/**
 * The fields a proposal is submitted with: its title, description, indicator (one of those
 * the unit works on, or the task's own), and whether it is replicable. Evidence comes as the
 * submission's evidence list, which the task requires.
 */
export function proposalFields(indicatorCodes: string[]): QuestionnaireField[] {
  return [
    { key: 'title', label: '标题', type: 'text', required: true },
    {
      key: 'description',
      label: '主要做法与成效',
      type: 'text',
      required: true,
      help: '做法、成效与可借鉴之处',
    },
    { key: 'indicator', label: '所属指标', type: 'enum', required: true, options: indicatorCodes },
    { key: 'replicable', label: '可复制推广', type: 'boolean', required: true },
  ];
}

/** The indicators a unit may propose for: those it leads or cooperates on. */
export function indicatorsOfUnit(
  indicators: { code: string; leadUnit: string; cooperatingUnits: string[] }[],
  unitId: string,
): string[] {
  return indicators
    .filter((i) => i.leadUnit === unitId || i.cooperatingUnits.includes(unitId))
    .map((i) => i.code);
}

/** The refusal of a typical case for an indicator that already has the most it may have. */
export function caseLimitRefusal(
  indicator: { code: string; name: string },
  selected: number,
  max: number,
  what: 'request' | 'propose' | 'select',
): Refusal {
  const en = { request: 'requested', propose: 'proposed', select: 'selected' }[what];
  const zh = { request: '征集', propose: '报送', select: '选用' }[what];
  return new Refusal(
    `indicator ${indicator.code} (${indicator.name}) already has ${selected} selected typical case(s), the most the campaign allows (highlights.maxTypicalCasesPerIndicator: ${max}): no further case can be ${en} for it; it may be proposed as a highlight instead`,
    `指标 ${indicator.code}（${indicator.name}）已选用典型案例 ${selected} 个，达到本次考核的上限（每个指标至多 ${max} 个），不能再${zh}典型案例；可改作亮点报送`,
  );
}

export const PUBLICITY_CHANNELS = ['tv', 'web', 'newspaper', 'wechat', 'other'] as const;
export type PublicityChannel = (typeof PUBLICITY_CHANNELS)[number];
export const PUBLICITY_CHANNEL_ZH: Record<PublicityChannel, string> = {
  tv: '电视',
  web: '网站',
  newspaper: '报纸',
  wechat: '微信公众号',
  other: '其他',
};
/** Channel names people write (电视, 公众号, WeChat…) to the channel's code. */
export function publicityChannelOf(s: string): PublicityChannel | null {
  const v = s.trim().toLowerCase();
  if ((PUBLICITY_CHANNELS as readonly string[]).includes(v)) return v as PublicityChannel;
  const byName: Record<string, PublicityChannel> = {
    电视: 'tv',
    电视台: 'tv',
    网站: 'web',
    网络: 'web',
    报纸: 'newspaper',
    报刊: 'newspaper',
    微信: 'wechat',
    微信公众号: 'wechat',
    公众号: 'wechat',
    其他: 'other',
  };
  return byName[s.trim()] ?? null;
}
