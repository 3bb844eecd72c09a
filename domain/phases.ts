// The names of a campaign's and an indicator's phases and of an indicator's states: a module of
// its own, imported by the plan (domain/campaign.ts) and the labels (domain/labels.ts) alike.
export const CAMPAIGN_PHASES = [
  'scheduled',
  'training',
  'dataEntry',
  'verification',
  'reporting',
  'closing',
  'closed',
  'cancelled',
] as const;
export type CampaignPhase = (typeof CAMPAIGN_PHASES)[number];

export const INDICATOR_PHASES = [
  'scheduled',
  'training',
  'dataEntry',
  'verification',
  'reporting',
  'rectification',
  'closed',
] as const;
export type IndicatorPhase = (typeof INDICATOR_PHASES)[number];

/** What the board shows for an indicator beside its phase. */
export type IndicatorState =
  | 'waiting'
  | 'in-progress'
  | 'done'
  | 'flagged'
  | 'awaiting-rectification'
  | 'closed'
  | 'cancelled';
