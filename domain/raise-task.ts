// The bureau raises a supervised task (督办事项) outside the campaign's plan. The campaign
// workflow decides it (update `raiseTask`): the roster, policy, calendar and channels are the
// recorded campaign's, never the caller's, and the same rules hold from any client.
import type { CampaignPlan } from './campaign.ts';
import { TASK_KINDS, taskIdOf, type TaskInput, type TaskKind } from './task.ts';
import { indicatorsOfUnit, isProposalKind, proposalFields } from './highlights.ts';
import { Refusal } from './refusal.ts';
import { parseMoment, type Instant } from './time.ts';

export interface RaiseTaskRequest {
  requestId: string;
  actor: string;
  operator?: string | undefined;
  unit: string;
  assignee: string;
  title: string;
  /** A local date-time (2026-10-20T18:00), an instant with offset, or a date (then workday end). */
  due: string;
  kind?: string | undefined;
  indicator?: string | undefined;
  /** A suffix that makes the task id unique (letters, digits, - and _). */
  key?: string | undefined;
  review?: boolean | undefined;
  note?: boolean | undefined;
  evidence?: boolean | undefined;
  /** What the task asks in full (the title says it in short): shown with the task. */
  instructions?: string | undefined;
}
export interface RaiseTaskResult {
  taskId: string;
  due: Instant;
}

/** A raise the rules refuse, in English and Chinese (domain/refusal.ts). */
export class RaiseRefused extends Refusal {}

const KEY_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** The task the request raises, or RaiseRefused saying what is wrong and what would do. */
export function raisedTask(plan: CampaignPlan, req: RaiseTaskRequest, now: Instant): TaskInput {
  const refuse = (m: string, zh?: string): never => {
    throw new RaiseRefused(m, zh);
  };
  if (!req || typeof req !== 'object') refuse('a task request is required', '缺少事项内容');
  const { roster } = plan.shared;
  const str = (v: unknown) => (typeof v === 'string' ? v.trim() : '');
  const unit = roster.units.find((u) => u.id === str(req.unit));
  if (!unit)
    refuse(
      `unknown unit "${str(req.unit)}": not a unit of campaign ${plan.campaignId}`,
      `本次考核没有单位“${str(req.unit)}”`,
    );
  const assignee = roster.people.find((p) => p.id === str(req.assignee));
  if (!assignee || assignee.unitId !== unit!.id)
    refuse(
      `"${str(req.assignee)}" is not a person of unit ${unit!.id}`,
      `“${str(req.assignee)}”不是${unit!.name}的人员`,
    );
  const title = str(req.title);
  if (!title) refuse('say what is asked (--title)', '请写明事项内容（事项名称）');
  if (title.length > 200)
    refuse('the title is longer than 200 characters', '事项标题超过 200 个字');
  const kind = str(req.kind) || 'adhoc';
  if (!(TASK_KINDS as readonly string[]).includes(kind))
    refuse(
      `the kind must be one of ${TASK_KINDS.join(', ')}`,
      `事项类型只能是 ${TASK_KINDS.join('、')}`,
    );
  const code = str(req.indicator);
  const indicator = code ? plan.indicators.find((i) => i.code === code) : undefined;
  if (code && !indicator)
    refuse(
      `unknown indicator "${code}" of campaign ${plan.campaignId}`,
      `本次考核没有指标“${code}”`,
    );
  const key = req.key === undefined ? '' : str(req.key);
  if (req.key !== undefined && !KEY_RE.test(key))
    refuse(
      'the key is 1 to 64 letters, digits, - or _',
      '事项编号只能是 1 到 64 个字母、数字、短横线或下划线',
    );
  const instructions = str(req.instructions);
  if (instructions.length > 4000)
    refuse('the instructions are longer than 4000 characters', '事项说明超过 4000 个字');
  const m = parseMoment(str(req.due), plan.timeZone);
  if (!m)
    refuse(
      `the due time "${str(req.due)}" is not a date-time such as 2026-10-20T18:00`,
      `截止时间“${str(req.due)}”不是日期时间，例如 2026-10-20T18:00`,
    );
  const due =
    m!.kind === 'instant'
      ? m!.instant
      : (
          parseMoment(`${m!.date}T${plan.rectification.workdayEnd}`, plan.timeZone) as {
            instant: number;
          }
        ).instant;
  if (due <= now)
    refuse(`the due time ${str(req.due)} is in the past`, `截止时间 ${str(req.due)} 已经过去`);
  // A highlight or typical case: the unit proposes it for one of its indicators (or the one
  // named), with evidence, and the bureau always reviews it (approve selects it).
  const proposal = isProposalKind(kind);
  const proposable = proposal ? (code ? [code] : indicatorsOfUnit(plan.indicators, unit!.id)) : [];
  if (proposal && proposable.length === 0)
    refuse(
      `unit ${unit!.id} neither leads nor cooperates on an indicator: name the indicator (--indicator)`,
      `${unit!.name}未牵头或配合任何指标：请指明事项所属的指标`,
    );
  return {
    taskId: taskIdOf({
      campaignId: plan.campaignId,
      indicator: code || null,
      kind: kind as TaskKind,
      unitId: unit!.id,
      key: key || `${now.toString(36)}`,
    }),
    campaignId: plan.campaignId,
    indicator: code || null,
    kind: kind as TaskKind,
    title,
    unitId: unit!.id,
    assignee: assignee!.id,
    review: proposal || req.review !== false,
    due,
    policy: plan.shared.policy,
    calendar: plan.shared.calendar,
    roster,
    completion: {
      note: req.note === true,
      evidence: proposal || req.evidence === true,
      fields: proposal
        ? proposalFields(proposable)
        : kind === 'questionnaire' && indicator
          ? indicator.fields
          : [],
    },
    channels: plan.shared.channels,
    ...(instructions ? { instructions } : {}),
  };
}
