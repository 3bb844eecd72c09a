// Who may do what on a campaign, beside the task's rules (domain/task.ts checkRequest): the
// bureau's coordinators and head steer the campaign (phase moves, cancelling, raising tasks,
// results, rectifications and their measures); the third-party evaluator's people request and
// verify evidence. The workflows call these from their update validators; a Refusal here
// refuses the update with both texts.
import { Refusal } from './refusal.ts';
import type { Roster, RosterPerson } from './roster.ts';

/** Someone on the campaign's roster, or a refusal that says they are not. */
export function rosterPerson(roster: Roster, actor: unknown): RosterPerson {
  const p = roster.people.find((x) => x.id === actor);
  if (!p)
    throw new Refusal(
      `unknown person "${String(actor)}": not on the campaign's roster`,
      `查无此人“${String(actor)}”：不在本次考核的人员名单中`,
    );
  return p;
}

/** What a bureau lead may do, in both languages, and the verb of its Chinese refusal. */
export interface BureauAct {
  en: string;
  zh: string;
  /** 办理 unless the act reads better with another verb (发起, 增加). */
  verb?: string;
}

export const BUREAU_ACTS = {
  movePhase: { en: 'move a phase', zh: '调整阶段' },
  cancel: { en: 'cancel the campaign', zh: '撤销考核' },
  raiseTask: { en: 'raise a task', zh: '下达督办事项' },
  rectify: { en: 'start a rectification', zh: '发起整改', verb: '发起' },
  results: { en: 'import results', zh: '导入评价结果' },
  addMeasure: { en: 'add a measure', zh: '增加整改措施', verb: '增加' },
} as const satisfies Record<string, BureauAct>;

/** The bureau's coordinators and head may do `act`; anyone else is refused. */
export function requireBureauLead(roster: Roster, actor: unknown, act: BureauAct): RosterPerson {
  const p = roster.people.find((x) => x.id === actor);
  const unit = roster.units.find((u) => u.id === p?.unitId);
  if (!p || unit?.kind !== 'bureau' || !['coordinator', 'head'].includes(p.role))
    throw new Refusal(
      `${String(actor)} may not ${act.en}: the bureau's coordinators and head may`,
      `${String(actor)} 无权${act.zh}：由审批局的协调人和主要负责人${act.verb ?? '办理'}`,
    );
  return p;
}

/** Only the third-party evaluator's people may request and verify evidence. */
export function requireEvaluator(roster: Roster, actor: unknown): RosterPerson {
  const p = rosterPerson(roster, actor);
  const unit = roster.units.find((u) => u.id === p.unitId);
  if (unit?.kind !== 'evaluator')
    throw new Refusal(
      `${p.id} is not with the third-party evaluator: only the evaluator may do this`,
      `${p.id} 不属于第三方评估机构：只有评估机构人员可以办理`,
    );
  return p;
}
