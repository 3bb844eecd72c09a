// Who may do what in which state: the full table of role × action × state, against the rules
// the task workflow's update validators enforce. Every forbidden pair is refused with its reason.
import { beforeAll, describe, expect, it } from 'vitest';
import { rosterOf } from '../../domain/campaign-parts.ts';
import {
  checkRequest,
  extensionApproversOf,
  Refusal,
  TASK_ACTIONS,
  TASK_STATES,
  type Roster,
  type TaskAction,
  type TaskFacts,
  type TaskState,
} from '../../domain/task.ts';
import { demoFixture, goodData } from '../helpers/task-fixture.ts';

let roster: Roster;
let fields: TaskFacts['completion']['fields'];
beforeAll(async () => {
  const fx = await demoFixture();
  roster = rosterOf(fx.def);
  fields = fx.def.indicators[0]!.fields;
});

const NOW = Date.parse('2026-12-01T01:00:00Z');
const DUE = NOW + 3_600_000;

const facts = (state: TaskState, unitId = 'scjgj'): TaskFacts => ({
  unitId,
  assignee: unitId === 'scjgj' ? 'scjgj-staff1' : 'spj-coord',
  state,
  review: true,
  due: DUE,
  extensionsUsed: 0,
  policy: { extensionApprovers: ['bureau'], maxExtensions: 2 },
  completion: { note: false, evidence: false, fields },
});

const payload: Record<TaskAction, Record<string, unknown>> = {
  submit: { data: goodData },
  approve: {},
  return: { reason: '数据口径不一致' },
  extend: { until: DUE + 86_400_000, reason: '等待系统数据' },
  reassign: { to: 'scjgj-staff2' },
  cancel: { reason: '指标取消' },
};

const ACTORS = [
  'scjgj-staff1', // the assignee
  'scjgj-staff2', // staff of the same unit
  'scjgj-deputy',
  'scjgj-head',
  'swj-staff1', // staff of another department
  'spj-coord', // bureau coordinator
  'spj-head',
  'xzf-leader', // county leadership
  'dsf-eval', // third-party evaluator
];
const IN_UNIT = ['scjgj-staff1', 'scjgj-staff2', 'scjgj-deputy', 'scjgj-head'];
const BUREAU = ['spj-coord', 'spj-head'];

/** The specification, written independently of the implementation. */
function allowed(
  action: TaskAction,
  actor: string,
  state: TaskState,
): { states: TaskState[]; actors: string[] } {
  switch (action) {
    case 'submit':
      return { states: ['open', 'returned'], actors: IN_UNIT };
    case 'approve':
    case 'return':
      return { states: ['submitted'], actors: BUREAU };
    case 'extend':
      return { states: ['open', 'returned'], actors: [...IN_UNIT, ...BUREAU] };
    case 'reassign':
      return { states: ['open', 'returned'], actors: ['scjgj-deputy', 'scjgj-head', ...BUREAU] };
    case 'cancel':
      return { states: ['open', 'returned', 'submitted'], actors: BUREAU };
  }
  void actor;
  void state;
}

describe('the task rules, role × action × state', () => {
  const cases = TASK_ACTIONS.flatMap((action) =>
    ACTORS.flatMap((actor) => TASK_STATES.map((state) => [action, actor, state] as const)),
  );

  it(`cover ${TASK_ACTIONS.length * ACTORS.length * TASK_STATES.length} combinations, allowing exactly the specified ones`, () => {
    const mismatches: string[] = [];
    let refused = 0;
    for (const [action, actor, state] of cases) {
      const spec = allowed(action, actor, state);
      const shouldPass = spec.states.includes(state) && spec.actors.includes(actor);
      let reason: string | null = null;
      try {
        checkRequest(
          action,
          { requestId: 'r1', actor, ...payload[action] },
          facts(state),
          roster,
          NOW,
        );
      } catch (e) {
        if (!(e instanceof Refusal)) throw e;
        reason = e.message;
      }
      if (shouldPass && reason)
        mismatches.push(`${action} by ${actor} when ${state}: refused (${reason})`);
      if (!shouldPass) {
        if (!reason) mismatches.push(`${action} by ${actor} when ${state}: allowed`);
        else {
          refused++;
          // The reason names what is wrong: the state, or the actor.
          const expectState = !spec.states.includes(state);
          const ok = expectState
            ? reason.includes(`cannot ${action} a task that is ${state}`)
            : reason.includes(actor) || /reviewer may not/.test(reason);
          if (!ok)
            mismatches.push(`${action} by ${actor} when ${state}: unclear reason "${reason}"`);
        }
      }
    }
    expect(mismatches).toEqual([]);
    expect(refused).toBeGreaterThan(200);
  });

  it('grants an extension for the bureau but only records a request from the unit', () => {
    const ext = payload.extend;
    expect(
      checkRequest(
        'extend',
        { requestId: 'a', actor: 'spj-coord', ...ext },
        facts('open'),
        roster,
        NOW,
      ),
    ).toEqual({
      extension: 'granted',
    });
    expect(
      checkRequest(
        'extend',
        { requestId: 'b', actor: 'scjgj-staff1', ...ext },
        facts('open'),
        roster,
        NOW,
      ),
    ).toEqual({
      extension: 'requested',
    });
  });

  it("lets the leadership, not the bureau, review the bureau's own work", () => {
    const own = facts('submitted', 'spj');
    expect(() =>
      checkRequest('approve', { requestId: 'a', actor: 'spj-coord' }, own, roster, NOW),
    ).toThrow(/reviewer may not approve their own unit's work/);
    expect(
      checkRequest('approve', { requestId: 'b', actor: 'xzf-leader' }, own, roster, NOW),
    ).toEqual({});
  });

  it("leaves extensions and cancellations of the bureau's own tasks to the county leadership", () => {
    const own = facts('open', 'spj');
    const ext = { requestId: 'e', ...payload.extend };
    expect(checkRequest('extend', { ...ext, actor: 'xzf-leader' }, own, roster, NOW)).toEqual({
      extension: 'granted',
    });
    expect(checkRequest('extend', { ...ext, actor: 'spj-coord' }, own, roster, NOW)).toEqual({
      extension: 'requested',
    });
    expect(() =>
      checkRequest('cancel', { requestId: 'c', actor: 'spj-coord', reason: 'x' }, own, roster, NOW),
    ).toThrow(/may not cancel their own unit's task/);
    expect(
      checkRequest(
        'cancel',
        { requestId: 'c', actor: 'xzf-leader', reason: 'x' },
        own,
        roster,
        NOW,
      ),
    ).toEqual({});
    expect(extensionApproversOf(roster, ['bureau'], 'spj')).toEqual(['xzf-leader']);
    expect(extensionApproversOf(roster, ['bureau'], 'scjgj').sort()).toEqual([
      'spj-coord',
      'spj-head',
    ]);
  });

  it('refuses bad payloads with their reason', () => {
    const open = facts('open');
    const bad: [TaskAction, Record<string, unknown>, RegExp][] = [
      [
        'submit',
        { data: { ...goodData, onlineRate: 120 } },
        /网办率 \(onlineRate\) must be a percentage between 0 and 100/,
      ],
      ['submit', { data: { days: 1 } }, /办理环节 \(procedures\) is required/],
      ['submit', { data: { ...goodData, colour: 'red' } }, /unknown field "colour"/],
      ['extend', { until: DUE - 1, reason: 'x' }, /must be later than the current one/],
      ['extend', { until: DUE + 1 }, /needs a reason/],
      ['reassign', { to: 'swj-staff1' }, /not in the task's unit "scjgj"/],
      ['reassign', { to: 'scjgj-staff1' }, /already the assignee/],
      ['cancel', {}, /needs a reason/],
    ];
    for (const [action, body, message] of bad) {
      const actor =
        action === 'submit' ? 'scjgj-staff1' : action === 'reassign' ? 'scjgj-deputy' : 'spj-coord';
      expect(
        () => checkRequest(action, { requestId: 'x', actor, ...body }, open, roster, NOW),
        action,
      ).toThrow(message);
    }
    expect(() =>
      checkRequest(
        'return',
        { requestId: 'x', actor: 'spj-coord', reason: ' ' },
        facts('submitted'),
        roster,
        NOW,
      ),
    ).toThrow(/a return needs a reason/);
    const required = { ...open, completion: { note: true, evidence: true, fields } };
    expect(() =>
      checkRequest(
        'submit',
        { requestId: 'x', actor: 'scjgj-staff1', data: goodData },
        required,
        roster,
        NOW,
      ),
    ).toThrow(/a note is required/);
    expect(() =>
      checkRequest(
        'submit',
        { requestId: 'x', actor: 'scjgj-staff1', data: goodData, note: '好' },
        required,
        roster,
        NOW,
      ),
    ).toThrow(/evidence .* is required/);
    const used = { ...open, extensionsUsed: 2 };
    expect(() =>
      checkRequest(
        'extend',
        { requestId: 'x', actor: 'spj-coord', ...payload.extend },
        used,
        roster,
        NOW,
      ),
    ).toThrow(/the most the policy allows/);
  });
});
