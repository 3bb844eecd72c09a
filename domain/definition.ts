// The campaign definition: the zod schema of a definition file and the cross-reference checks
// that a schema alone cannot express. Both report every problem at once, each with its path.
import { z } from 'zod';
import {
  DAY,
  isLocalDate,
  isValidTimeZone,
  parseClock,
  parseDurationMs,
  parseMoment,
} from './time.ts';
import { assessmentPolicySchema } from './assessment.ts';
import { highlightsPolicySchema } from './highlights-policy.ts';

export const UNIT_KINDS = ['bureau', 'department', 'evaluator', 'leadership'] as const;
export type UnitKind = (typeof UNIT_KINDS)[number];

export const ROLES = ['head', 'deputy', 'staff', 'coordinator', 'evaluator', 'leader'] as const;
export type Role = (typeof ROLES)[number];

/** Which roles a person may hold in a unit of each kind. */
export const ROLES_BY_UNIT_KIND: Record<UnitKind, readonly Role[]> = {
  bureau: ['head', 'deputy', 'staff', 'coordinator'],
  department: ['head', 'deputy', 'staff'],
  evaluator: ['head', 'evaluator'],
  leadership: ['leader'],
};

/** Who an escalation step or a reminder reaches. */
export const RECIPIENTS = ['assignee', 'staff', 'deputy', 'head', 'bureau', 'leadership'] as const;
export type Recipient = (typeof RECIPIENTS)[number];

export const FIELD_TYPES = [
  'integer',
  'number',
  'percent',
  'text',
  'boolean',
  'date',
  'enum',
] as const;

export const PHASES = ['training', 'dataEntry', 'verification', 'reporting'] as const;
export type PhaseName = (typeof PHASES)[number];

const id = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{0,62}$/,
    'must be lower-case letters, digits and dashes (at most 63, starting with a letter or digit)',
  );

const moment = z
  .string()
  .refine(
    (s) => parseMoment(s, 'UTC') !== null,
    'must be a date (2026-10-08), a local date-time (2026-10-08T09:00[:ss]) or one with an offset',
  );

/** The longest duration a definition may give: a campaign lasts a year. */
export const MAX_DURATION_DAYS = 366;

/**
 * An ISO 8601 duration of at most MAX_DURATION_DAYS; `positive` ones at least one second (a
 * progress report or a deadline every instant would flood the history).
 */
const isoDuration = (positive: boolean) =>
  z.string().superRefine((s, ctx) => {
    const ms = parseDurationMs(s);
    if (ms === null)
      ctx.addIssue({
        code: 'custom',
        message: 'must be an ISO 8601 duration such as P3D, PT2H, PT90S',
      });
    else if (!(ms <= MAX_DURATION_DAYS * DAY))
      ctx.addIssue({
        code: 'custom',
        message: `${s} is longer than ${MAX_DURATION_DAYS} days (P${MAX_DURATION_DAYS}D), the most a campaign can use`,
      });
    else if (positive && ms < 1000)
      ctx.addIssue({ code: 'custom', message: `${s} is shorter than one second (PT1S)` });
  });
const duration = isoDuration(true);
/** A duration that may be zero (a warning window, an escalation at the due instant). */
const durationOrZero = isoDuration(false);

/** Free text of bounded length. */
const text = (max: number) => z.string().max(max, `at most ${max} characters`);
const name = text(200).min(1);
const list = <T extends z.ZodType>(item: T, max: number) =>
  z.array(item).max(max, `at most ${max} entries`);

const clock = z.string().refine((s) => parseClock(s) !== null, 'must be a clock time HH:mm');

const localDate = z.string().refine(isLocalDate, 'must be a date YYYY-MM-DD');

/** A delay: an ISO duration, or a number of working days on the campaign's calendar. */
const workingDays = z.strictObject({ workingDays: z.number().int().min(0).max(60) });
export const delaySchema = z.union([z.strictObject({ duration }), workingDays]);
/** An escalation step's delay: zero means at the due instant itself. */
const stepDelaySchema = z.union([z.strictObject({ duration: durationOrZero }), workingDays]);
export type Delay = z.infer<typeof delaySchema>;

const personSchema = z.strictObject({
  id,
  name,
  role: z.enum(ROLES),
  title: text(200).optional(),
  phone: text(40).optional(),
  /** Channel-specific handle, e.g. a WeCom user id to @mention. */
  handle: text(200).optional(),
});
export type Person = z.infer<typeof personSchema>;

const unitSchema = z.strictObject({
  id,
  name,
  kind: z.enum(UNIT_KINDS),
  people: list(personSchema, 500).min(1, 'a unit needs at least one person'),
});
export type Unit = z.infer<typeof unitSchema>;

const fieldSchema = z.strictObject({
  key: z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]*$/, 'must be an identifier (letters, digits, _)'),
  label: name,
  type: z.enum(FIELD_TYPES),
  required: z.boolean().default(true),
  unit: text(40).optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  options: list(name, 200).optional(),
  help: text(2000).optional(),
});
export type QuestionnaireField = z.infer<typeof fieldSchema>;

const indicatorSchema = z.strictObject({
  code: id,
  name,
  nameEn: text(200).optional(),
  leadUnit: id,
  cooperatingUnits: list(id, 100).default([]),
  /** 领队: the person who leads the indicator's team. */
  teamLeader: id,
  /** 填报人员: the people who fill in the questionnaire. */
  fillers: list(id, 200).min(1, 'an indicator needs at least one filler'),
  /** 填报指引: where the filling guide is, or its text. */
  guide: text(20_000).optional(),
  fields: list(fieldSchema, 200).min(1, 'an indicator needs at least one questionnaire field'),
  evidence: list(text(500).min(1), 200).default([]),
});
export type Indicator = z.infer<typeof indicatorSchema>;

const windowShape = { start: moment, end: moment };

const phasesSchema = z.strictObject({
  training: z.strictObject({ ...windowShape }),
  dataEntry: z.strictObject({
    ...windowShape,
    indicatorsPerDay: z.number().int().min(1).max(50).default(2),
    /**
     * For demonstrations: each group of indicators gets a slot of this length from the
     * window's start instead of a working day.
     */
    slot: duration.optional(),
    /** Order in which indicators are scheduled; defaults to the order of `indicators`. */
    order: list(id, 200).optional(),
  }),
  verification: z.strictObject({
    ...windowShape,
    evidenceDue: delaySchema.default({ workingDays: 3 }),
    samplingProportion: z.number(),
  }),
  reporting: z.strictObject({ ...windowShape }),
});

const escalationStepSchema = z.strictObject({
  after: stepDelaySchema,
  notify: list(z.enum(RECIPIENTS), RECIPIENTS.length).min(
    1,
    'an escalation step must notify someone',
  ),
  label: text(200).optional(),
});
export type EscalationStep = z.infer<typeof escalationStepSchema>;

const policySchema = z.strictObject({
  /** Reminders before a task's due instant, as ISO durations (P3D, P1D, PT2H). */
  reminders: list(duration, 10).default(['P3D', 'P1D', 'PT2H']),
  /** A task is yellow within this window before its due instant. */
  warningWindow: durationOrZero.default('P1D'),
  /** After the due instant, each step fires this long after the previous one. */
  escalation: list(escalationStepSchema, 10).min(
    1,
    'the escalation ladder needs at least one step',
  ),
  /** New due instant after the bureau returns a submission. */
  returnDue: delaySchema.default({ workingDays: 2 }),
  /** Who may grant an extension. */
  extensionApprovers: list(z.enum(['bureau', 'deputy', 'head']), 3)
    .min(1)
    .default(['bureau']),
  maxExtensions: z.number().int().min(0).max(20).default(2),
});
export type Policy = z.infer<typeof policySchema>;

const dispatchSchema = z.strictObject({
  /** Local time of the daily digest on each working day. */
  at: clock.default('17:30'),
  /** Who receives it (unit ids); defaults to the bureau and the leadership. */
  recipients: list(id, 200).optional(),
});

/** No evaluation ranks more places than this (a province's counties number in the hundreds). */
export const MAX_RANK = 10_000;

const rectificationSchema = z.strictObject({
  triggers: z
    .strictObject({
      /** Scores run from 0 to 100. */
      scoreBelow: z.number().min(0).max(100).optional(),
      /** Ranks run from 1 to MAX_RANK. */
      rankBottom: z.number().int().min(1).max(MAX_RANK).optional(),
    })
    .refine(
      (t) => t.scoreBelow !== undefined || t.rankBottom !== undefined,
      'give scoreBelow, rankBottom or both',
    ),
  stepDue: delaySchema.default({ workingDays: 5 }),
  measureDue: delaySchema.default({ workingDays: 20 }),
  progressEvery: duration.default('P7D'),
});

/**
 * A channel's address: https, or http to the machine itself (a receiver for development and
 * tests; the worker sends there only when NOTIFY_ALLOW_LOOPBACK_HTTP is set).
 */
const channelUrl = z
  .string()
  .max(2000, 'at most 2000 characters')
  .superRefine((s, ctx) => {
    const problem = channelUrlProblem(s);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** Why a channel URL is refused, or null. */
export function channelUrlProblem(s: string): string | null {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return 'must be a URL such as https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…';
  }
  if (u.username || u.password)
    return 'must not carry a user name or password (put a token in headers instead)';
  if (u.protocol === 'https:') return null;
  if (u.protocol === 'http:' && isLoopbackHost(u.hostname)) return null;
  if (u.protocol === 'http:')
    return `must use https (http is allowed only to the machine itself, for development): ${u.protocol}//${u.host}`;
  return `must use https, not ${u.protocol.replace(/:$/, '')}`;
}

/** localhost, 127.0.0.0/8 or ::1 as written in a URL's host. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * The name of a secret the worker holds: `CAMPAIGN_SECRET_<NAME>` in its environment or `NAME`
 * in its secrets file (CAMPAIGN_SECRETS_FILE). A definition names secrets, never holds them, so
 * that no robot key, signing secret or authorization header reaches a workflow's history or the
 * database.
 */
export const secretRefSchema = z
  .string()
  .regex(
    /^[A-Z][A-Z0-9_]{0,62}$/,
    'must be a secret name in capitals, digits and _ (for example WECOM_BUREAU_KEY)',
  );

/** URL query parameters that carry a credential: refused in a definition. */
const SECRET_QUERY = /^(key|access_token|token|secret|sign|signature|apikey|api_key|password)$/i;
/** Header names whose value is a credential: refused in a definition's literal headers. */
const SECRET_HEADER = /auth|token|secret|key|cookie|password|signature|session/i;

const useSecretRef = (what: string, field: string) =>
  `${what} must not be written in the definition (it would be copied into workflow histories and the database): keep it in the worker's secrets (CAMPAIGN_SECRET_<NAME> or CAMPAIGN_SECRETS_FILE) and name it with ${field}: NAME`;

function credentialQuery(url: string): string | null {
  try {
    for (const k of new URL(url).searchParams.keys()) if (SECRET_QUERY.test(k)) return k;
  } catch {
    // The URL's own check reports it.
  }
  return null;
}

/** A literal secret written where a secretRef belongs, as a zod issue at its path. */
function refuseLiterals(c: Record<string, unknown>, ctx: z.RefinementCtx): void {
  const q = typeof c.url === 'string' ? credentialQuery(c.url) : null;
  if (q)
    ctx.addIssue({
      code: 'custom',
      path: ['url'],
      message: useSecretRef(`the URL's ${q}= parameter`, 'secretRef'),
    });
  if (c.secret !== undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['secret'],
      message: useSecretRef('the signing secret', 'signingSecretRef'),
    });
  if (c.headers && typeof c.headers === 'object')
    for (const h of Object.keys(c.headers))
      if (SECRET_HEADER.test(h))
        ctx.addIssue({
          code: 'custom',
          path: ['headers', h],
          message: useSecretRef(`the ${h} header`, 'secretRef (and secretHeader)'),
        });
}

const channelSchema = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('console'), id: id.optional() }),
    z.strictObject({
      type: z.literal('webhook'),
      id: id.optional(),
      url: channelUrl,
      /** Headers without credentials (a credential goes in secretRef). */
      headers: z
        .record(text(100).min(1), text(2000))
        .refine((h) => Object.keys(h).length <= 20, 'at most 20 headers')
        .optional(),
      /** The secret sent as the value of `secretHeader` (e.g. "Bearer …"). */
      secretRef: secretRefSchema.optional(),
      /** The header that carries the secret (default Authorization). */
      secretHeader: text(100).min(1).optional(),
    }),
    z.strictObject({
      type: z.literal('wecom'),
      id: id.optional(),
      /** The robot's address without its key, e.g. https://qyapi.weixin.qq.com/cgi-bin/webhook/send */
      url: channelUrl,
      /** The robot key, sent as the URL's key= parameter. */
      secretRef: secretRefSchema.optional(),
    }),
    z.strictObject({
      type: z.literal('dingtalk'),
      id: id.optional(),
      /** The robot's address without its access token, e.g. https://oapi.dingtalk.com/robot/send */
      url: channelUrl,
      /** The robot's access token, sent as the URL's access_token= parameter. */
      secretRef: secretRefSchema.optional(),
      /** The robot's signing secret (加签, SEC…): the worker signs each message with it. */
      signingSecretRef: secretRefSchema.optional(),
      /** Refused: a literal signing secret (see refuseLiterals). */
      secret: z.string().optional(),
    }),
  ])
  .superRefine((c, ctx) => refuseLiterals(c as Record<string, unknown>, ctx));

/**
 * A channel as workflows carry it and the outbox stores it: names of secrets, never their
 * values. Channels recorded before secretRef existed (histories of running campaigns) may
 * still hold a literal key in the URL, literal headers or a DingTalk `secret`; the worker
 * honours them when it sends, the definition schema refuses them.
 */
export type ChannelConfig = z.infer<typeof channelSchema>;

const calendarSchema = z.strictObject({
  /** Use the maintained Chinese public-holiday data as the base (default true). */
  chineseHolidays: z.boolean().default(true),
  workdayStart: clock.default('09:00'),
  workdayEnd: clock.default('18:00'),
  /** Extra days off (for years the holiday package does not know yet). */
  holidays: list(localDate, 1000).default([]),
  /** Extra adjusted working days (调休), typically weekends. */
  workdays: list(localDate, 1000).default([]),
});

export const definitionSchema = z.strictObject({
  campaign: z.strictObject({
    id,
    name,
    county: name,
    year: z.number().int().min(2000).max(2100),
    timeZone: z
      .string()
      .max(100)
      .default('Asia/Shanghai')
      .refine(isValidTimeZone, 'must be an IANA time zone such as Asia/Shanghai'),
    description: text(20_000).optional(),
  }),
  calendar: calendarSchema.default({
    chineseHolidays: true,
    workdayStart: '09:00',
    workdayEnd: '18:00',
    holidays: [],
    workdays: [],
  }),
  units: list(unitSchema, 200).min(1),
  indicators: list(indicatorSchema, 100).min(1),
  phases: phasesSchema,
  policy: policySchema,
  dispatch: dispatchSchema.default({ at: '17:30' }),
  rectification: rectificationSchema,
  /** The units' assessment (考核); absent: the defaults of `assessmentPolicySchema`. */
  assessment: assessmentPolicySchema.optional(),
  /** Highlights and typical cases (突出亮点); absent: at most 10 typical cases per indicator. */
  highlights: highlightsPolicySchema.optional(),
  notifications: z
    .strictObject({ channels: list(channelSchema, 20).default([{ type: 'console' }]) })
    .default({ channels: [{ type: 'console' }] }),
});

export type CampaignDefinition = z.infer<typeof definitionSchema>;
export type DefinitionInput = z.input<typeof definitionSchema>;
