// The campaign definition: the zod schema of a definition file and the cross-reference checks
// that a schema alone cannot express. Both report every problem at once, each with its path.
import { z } from 'zod';
import { isLocalDate, isValidTimeZone, parseClock, parseDuration, parseMoment } from './time.ts';

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

const duration = z
  .string()
  .refine(
    (s) => parseDuration(s) !== null,
    'must be an ISO 8601 duration such as P3D, PT2H, PT90S',
  );

const clock = z.string().refine((s) => parseClock(s) !== null, 'must be a clock time HH:mm');

const localDate = z.string().refine(isLocalDate, 'must be a date YYYY-MM-DD');

/** A delay: an ISO duration, or a number of working days on the campaign's calendar. */
export const delaySchema = z.union([
  z.strictObject({ duration }),
  z.strictObject({ workingDays: z.number().int().min(0).max(60) }),
]);
export type Delay = z.infer<typeof delaySchema>;

const personSchema = z.strictObject({
  id,
  name: z.string().min(1),
  role: z.enum(ROLES),
  title: z.string().optional(),
  phone: z.string().optional(),
  /** Channel-specific handle, e.g. a WeCom user id to @mention. */
  handle: z.string().optional(),
});
export type Person = z.infer<typeof personSchema>;

const unitSchema = z.strictObject({
  id,
  name: z.string().min(1),
  kind: z.enum(UNIT_KINDS),
  people: z.array(personSchema).min(1, 'a unit needs at least one person'),
});
export type Unit = z.infer<typeof unitSchema>;

const fieldSchema = z.strictObject({
  key: z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]*$/, 'must be an identifier (letters, digits, _)'),
  label: z.string().min(1),
  type: z.enum(FIELD_TYPES),
  required: z.boolean().default(true),
  unit: z.string().optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  options: z.array(z.string().min(1)).optional(),
  help: z.string().optional(),
});
export type QuestionnaireField = z.infer<typeof fieldSchema>;

const indicatorSchema = z.strictObject({
  code: id,
  name: z.string().min(1),
  nameEn: z.string().optional(),
  leadUnit: id,
  cooperatingUnits: z.array(id).default([]),
  /** 领队: the person who leads the indicator's team. */
  teamLeader: id,
  /** 填报人员: the people who fill in the questionnaire. */
  fillers: z.array(id).min(1, 'an indicator needs at least one filler'),
  /** 填报指引: where the filling guide is, or its text. */
  guide: z.string().optional(),
  fields: z.array(fieldSchema).min(1, 'an indicator needs at least one questionnaire field'),
  evidence: z.array(z.string().min(1)).default([]),
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
    order: z.array(id).optional(),
  }),
  verification: z.strictObject({
    ...windowShape,
    evidenceDue: delaySchema.default({ workingDays: 3 }),
    samplingProportion: z.number(),
  }),
  reporting: z.strictObject({ ...windowShape }),
});

const escalationStepSchema = z.strictObject({
  after: delaySchema,
  notify: z.array(z.enum(RECIPIENTS)).min(1, 'an escalation step must notify someone'),
  label: z.string().optional(),
});
export type EscalationStep = z.infer<typeof escalationStepSchema>;

const policySchema = z.strictObject({
  /** Reminders before a task's due instant, as ISO durations (P3D, P1D, PT2H). */
  reminders: z.array(duration).default(['P3D', 'P1D', 'PT2H']),
  /** A task is yellow within this window before its due instant. */
  warningWindow: duration.default('P1D'),
  /** After the due instant, each step fires this long after the previous one. */
  escalation: z.array(escalationStepSchema).min(1, 'the escalation ladder needs at least one step'),
  /** New due instant after the bureau returns a submission. */
  returnDue: delaySchema.default({ workingDays: 2 }),
  /** Who may grant an extension. */
  extensionApprovers: z
    .array(z.enum(['bureau', 'deputy', 'head']))
    .min(1)
    .default(['bureau']),
  maxExtensions: z.number().int().min(0).default(2),
});
export type Policy = z.infer<typeof policySchema>;

const dispatchSchema = z.strictObject({
  /** Local time of the daily digest on each working day. */
  at: clock.default('17:30'),
  /** Who receives it (unit ids); defaults to the bureau and the leadership. */
  recipients: z.array(id).optional(),
});

const rectificationSchema = z.strictObject({
  triggers: z
    .strictObject({
      scoreBelow: z.number().min(0).optional(),
      rankBottom: z.number().int().min(1).optional(),
    })
    .refine(
      (t) => t.scoreBelow !== undefined || t.rankBottom !== undefined,
      'give scoreBelow, rankBottom or both',
    ),
  stepDue: delaySchema.default({ workingDays: 5 }),
  measureDue: delaySchema.default({ workingDays: 20 }),
  progressEvery: duration.default('P7D'),
});

const channelSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('console'), id: id.optional() }),
  z.strictObject({
    type: z.literal('webhook'),
    id: id.optional(),
    url: z.url(),
    headers: z.record(z.string(), z.string()).optional(),
  }),
  z.strictObject({ type: z.literal('wecom'), id: id.optional(), url: z.url() }),
  z.strictObject({
    type: z.literal('dingtalk'),
    id: id.optional(),
    url: z.url(),
    secret: z.string().optional(),
  }),
]);
export type ChannelConfig = z.infer<typeof channelSchema>;

const calendarSchema = z.strictObject({
  /** Use the maintained Chinese public-holiday data as the base (default true). */
  chineseHolidays: z.boolean().default(true),
  workdayStart: clock.default('09:00'),
  workdayEnd: clock.default('18:00'),
  /** Extra days off (for years the holiday package does not know yet). */
  holidays: z.array(localDate).default([]),
  /** Extra adjusted working days (调休), typically weekends. */
  workdays: z.array(localDate).default([]),
});

export const definitionSchema = z.strictObject({
  campaign: z.strictObject({
    id,
    name: z.string().min(1),
    county: z.string().min(1),
    year: z.number().int().min(2000).max(2100),
    timeZone: z
      .string()
      .default('Asia/Shanghai')
      .refine(isValidTimeZone, 'must be an IANA time zone such as Asia/Shanghai'),
    description: z.string().optional(),
  }),
  calendar: calendarSchema.default({
    chineseHolidays: true,
    workdayStart: '09:00',
    workdayEnd: '18:00',
    holidays: [],
    workdays: [],
  }),
  units: z.array(unitSchema).min(1),
  indicators: z.array(indicatorSchema).min(1),
  phases: phasesSchema,
  policy: policySchema,
  dispatch: dispatchSchema.default({ at: '17:30' }),
  rectification: rectificationSchema,
  notifications: z
    .strictObject({ channels: z.array(channelSchema).default([{ type: 'console' }]) })
    .default({ channels: [{ type: 'console' }] }),
});

export type CampaignDefinition = z.infer<typeof definitionSchema>;
export type DefinitionInput = z.input<typeof definitionSchema>;
