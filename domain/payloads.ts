// The shapes of every update's request, as zod schemas shared by the senders (the CLI's and the
// portal's update functions) and the workflows (every update validator checks its request with
// the same schema before its rules). A request of the wrong shape — a missing request id, a
// number where a text belongs, a list of a million items — is refused with the field's path
// in English and Chinese, and never reaches the rules, the state or a projection. The schemas
// check shape and size only; what a value may be in the campaign (who may act, which phase,
// which unit) is decided by the rules beside each workflow (domain/task.ts, …).
import { z } from 'zod';
import { Refusal } from './refusal.ts';
import { firstTextProblem } from './text.ts';

const id = z.string().min(1).max(200);
const text = (max: number) => z.string().max(max);
const instant = z.number().finite();

/** What every changing request carries: its idempotency key and the acting person. */
const base = {
  requestId: id,
  actor: id,
  /** Who typed it in on the actor's behalf (代录), at the command line. */
  operator: text(200).optional(),
};

/** The longest text any field of a request may be (a field value of a submission's data). */
const TEXT_CEILING = 20_000;

const fieldValue = z.union([z.string().max(TEXT_CEILING), z.number(), z.boolean(), z.null()]);

export const UPDATE_PAYLOADS = {
  // the task workflow
  submit: z.object({
    ...base,
    note: text(10_000).optional(),
    data: z
      .record(
        z.string().max(200),
        z.union([fieldValue, z.array(z.unknown()).max(1000), z.record(z.string(), z.unknown())]),
      )
      .optional(),
    evidence: z.array(text(2000)).max(200).optional(),
  }),
  approve: z.object({ ...base, note: text(10_000).optional() }),
  return: z.object({ ...base, reason: text(10_000) }),
  extend: z.object({ ...base, until: instant, reason: text(10_000) }),
  reassign: z.object({ ...base, to: id }),
  cancel: z.object({ ...base, reason: text(10_000) }),
  // the campaign workflow
  movePhase: z.object({
    ...base,
    phase: id,
    action: id,
    until: instant.optional(),
    reason: text(10_000),
  }),
  cancelCampaign: z.object({ ...base, reason: text(10_000) }),
  raiseTask: z.object({
    ...base,
    unit: id,
    assignee: id,
    title: text(500),
    due: text(100),
    kind: text(100).optional(),
    indicator: text(200).optional(),
    key: text(100).optional(),
    review: z.boolean().optional(),
    note: z.boolean().optional(),
    evidence: z.boolean().optional(),
    instructions: text(4000).optional(),
  }),
  recordResults: z.object({
    ...base,
    results: z.array(z.object({ code: id, score: z.number(), rank: z.number() })).max(10_000),
  }),
  rectifyClosed: z.object({ ...base, code: id, reason: text(10_000) }),
  // the indicator workflow
  requestEvidence: z.object({ ...base, unit: id, what: text(2000) }),
  verify: z.object({
    ...base,
    item: text(2000),
    outcome: z.enum(['confirmed', 'discrepant']),
    note: text(10_000).optional(),
  }),
  startRectification: z.object({ ...base, reason: text(10_000) }),
  // the rectification workflow
  addMeasure: z.object({
    ...base,
    problem: z.number().int(),
    measure: text(5000),
    unit: id,
    person: id,
    due: text(100),
    reason: text(10_000),
  }),
} as const;

export type UpdateName = keyof typeof UPDATE_PAYLOADS;

/** Where and what the first problem of a request is, or null when its shape is right. */
export function payloadProblem(
  update: string,
  request: unknown,
): { en: string; zh: string } | null {
  const schema = (UPDATE_PAYLOADS as Record<string, z.ZodType>)[update];
  if (!schema) return null;
  const r = schema.safeParse(request, { reportInput: true });
  if (r.success) {
    // Every text of the request, the free-form ones inside `data` and the keys too, must be
    // text PostgreSQL, JSON and people can hold (domain/text.ts). The schemas bound each known
    // field's length; here only the largest of them bounds what they leave free.
    const t = firstTextProblem(request, { max: TEXT_CEILING });
    if (!t) return null;
    return { en: `${update}: ${t.en}`, zh: `请求格式有误（${update}）：${t.zh}` };
  }
  const issue = r.error.issues[0]!;
  const where = issue.path.length ? issue.path.map(String).join('.') : '(the request)';
  const whereZh = issue.path.length ? `字段“${issue.path.map(String).join('.')}”` : '请求';
  const what = (() => {
    switch (issue.code) {
      case 'invalid_type':
        return issue.input === undefined
          ? { en: 'is missing', zh: '缺失' }
          : { en: `must be ${issue.expected}`, zh: `类型不对（应为 ${issue.expected}）` };
      case 'too_big':
        return {
          en: `is too long (at most ${issue.maximum})`,
          zh: `过长（最多 ${issue.maximum}）`,
        };
      case 'too_small':
        return { en: 'is empty', zh: '为空' };
      case 'invalid_value':
        return { en: 'is not one of the allowed values', zh: '不是允许的取值' };
      default:
        return { en: 'is not valid', zh: '不合要求' };
    }
  })();
  return {
    en: `${update}: ${where} ${what.en}`,
    zh: `请求格式有误（${update}）：${whereZh}${what.zh}`,
  };
}

/** Throws a Refusal (English and Chinese) when the request's shape is wrong. */
export function checkPayload(update: string, request: unknown): void {
  const p = payloadProblem(update, request);
  if (p) throw new Refusal(p.en, p.zh);
}
