// The custom search attributes the product sets on its workflows, so that an auditor can
// filter in the Temporal UI. They fit the dev server's SQLite visibility slots
// (10 Keyword, 3 each of Int, Datetime, Bool, …): 8 Keyword, 1 Int, 1 Datetime, 1 Bool.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const SA = {
  campaignId: defineSearchAttributeKey('CampaignId', SearchAttributeType.KEYWORD),
  indicator: defineSearchAttributeKey('IndicatorCode', SearchAttributeType.KEYWORD),
  unit: defineSearchAttributeKey('UnitId', SearchAttributeType.KEYWORD),
  kind: defineSearchAttributeKey('TaskKind', SearchAttributeType.KEYWORD),
  state: defineSearchAttributeKey('TaskState', SearchAttributeType.KEYWORD),
  colour: defineSearchAttributeKey('Colour', SearchAttributeType.KEYWORD),
  phase: defineSearchAttributeKey('Phase', SearchAttributeType.KEYWORD),
  assignee: defineSearchAttributeKey('Assignee', SearchAttributeType.KEYWORD),
  escalationLevel: defineSearchAttributeKey('EscalationLevel', SearchAttributeType.INT),
  due: defineSearchAttributeKey('DueAt', SearchAttributeType.DATETIME),
  /** Set while a projection that the database refused for good waits for `doctor --retry`. */
  projectionStuck: defineSearchAttributeKey('ProjectionStuck', SearchAttributeType.BOOL),
} as const;

export const ALL_SEARCH_ATTRIBUTES = Object.values(SA);

/** `Name=Type` pairs as the temporal CLI's `--search-attribute` flag takes them. */
export function searchAttributeFlags(): string[] {
  const cliType: Record<string, string> = {
    [SearchAttributeType.KEYWORD]: 'Keyword',
    [SearchAttributeType.INT]: 'Int',
    [SearchAttributeType.DATETIME]: 'Datetime',
    [SearchAttributeType.TEXT]: 'Text',
    [SearchAttributeType.BOOL]: 'Bool',
    [SearchAttributeType.DOUBLE]: 'Double',
    [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
  };
  return ALL_SEARCH_ATTRIBUTES.map((k) => `${k.name}=${cliType[k.type] ?? 'Keyword'}`);
}
