// The definition's optional `highlights` section: how many typical cases (典型案例) an indicator
// may have selected. A module of its own so that the definition's schema reads it without
// importing the highlights' rules (domain/highlights.ts), which read the definition's types.
import { z } from 'zod';

/** The default most typical cases selected per indicator (典型案例材料, 每个指标至多 10 个). */
export const DEFAULT_MAX_TYPICAL_CASES = 10;

/** The definition's optional `highlights` section. */
export const highlightsPolicySchema = z.strictObject({
  /** How many typical cases an indicator may have selected at most. */
  maxTypicalCasesPerIndicator: z.number().int().min(1).max(100).default(DEFAULT_MAX_TYPICAL_CASES),
});
export type HighlightsPolicy = z.infer<typeof highlightsPolicySchema>;
