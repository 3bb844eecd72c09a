// A refusal written for people, in Chinese and in English: what is wrong, where, and what would
// be allowed. Workflow validators throw it as an ApplicationFailure of type "Refused" whose
// message is the English text and whose first detail holds both (refusalFailureOptions); the
// CLI and the portal show the reader's language (refusalTexts).
export interface RefusalTexts {
  zh: string;
  en: string;
}

export class Refusal extends Error {
  override name = 'Refusal';
  readonly zh: string;
  readonly en: string;
  constructor(en: string, zh?: string) {
    super(en);
    this.en = en;
    this.zh = zh ?? en;
  }
}

/** What an ApplicationFailure that refuses an update is made of. */
export function refusalFailureOptions(r: { zh: string; en: string }) {
  return {
    message: r.en,
    type: 'Refused',
    nonRetryable: true,
    details: [{ zh: r.zh, en: r.en }],
  };
}

/**
 * The two texts of a refused update, read from the failure the client received (its cause, for
 * a WorkflowUpdateFailedError), or null when it is not a refusal that carries them. A refusal
 * from a workflow written before the texts existed yields its message in both.
 */
export function refusalTexts(e: unknown): RefusalTexts | null {
  const f = ((e as { cause?: unknown })?.cause ?? e) as {
    type?: unknown;
    message?: unknown;
    details?: unknown;
  } | null;
  if (!f || typeof f !== 'object') return null;
  const d = Array.isArray(f.details)
    ? (f.details[0] as Partial<RefusalTexts> | undefined)
    : undefined;
  if (d && typeof d.zh === 'string' && typeof d.en === 'string') return { zh: d.zh, en: d.en };
  if (f.type === 'Refused' && typeof f.message === 'string')
    return { zh: f.message, en: f.message };
  return null;
}
