// Highlights and typical cases as the rules decide them: the definition's limit (default 10),
// the task a raise of kind highlight or case becomes (reviewed, evidence required, the proposal
// as typed fields), the proposal checked by the task's own submit rule, and the limit's refusal
// in both languages.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { publicityLine } from '../../activities/dispatch-publicity.ts';
import type { DispatchDigest } from '../../activities/dispatch.ts';
import { dispatchPublicitySheets } from '../../client/commands/publicity-sheet.ts';
import { BusinessCalendar } from '../../domain/calendar.ts';
import { planCampaign } from '../../domain/campaign.ts';
import { caseLimitRefusal, maxTypicalCases } from '../../domain/highlights.ts';
import { raisedTask, RaiseRefused } from '../../domain/raise-task.ts';
import { checkRequest, type TaskFacts, type TaskInput } from '../../domain/task.ts';
import { zonedInstant } from '../../domain/time.ts';
import { validateDefinition } from '../../domain/validate.ts';

const quick = () => parseYaml(readFileSync('examples/quick-demo.yaml', 'utf8'));
const now = zonedInstant(2026, 11, 30, 10, 0, 0, 'Asia/Shanghai');

function plan(raw = quick()) {
  const r = validateDefinition(raw);
  expect(r.errors).toEqual([]);
  return planCampaign(r.definition!, r.calendar!, new BusinessCalendar(r.calendar!));
}

const raise = (over: Record<string, unknown>) => ({
  requestId: 'r1',
  actor: 'spj-coord',
  unit: 'scjgj',
  assignee: 'scjgj-staff1',
  title: '报送亮点',
  due: '2026-12-01T18:00',
  ...over,
});

function facts(task: TaskInput): TaskFacts {
  return {
    unitId: task.unitId,
    assignee: task.assignee,
    state: 'open',
    review: task.review,
    due: task.due,
    extensionsUsed: 0,
    policy: task.policy,
    completion: task.completion,
  };
}

describe('highlights and typical cases', () => {
  it('allow ten typical cases per indicator unless the definition says otherwise, and locate a wrong limit', () => {
    const plain = validateDefinition(quick());
    expect(maxTypicalCases(plain.definition!)).toBe(10);
    const two = validateDefinition({ ...quick(), highlights: { maxTypicalCasesPerIndicator: 2 } });
    expect(maxTypicalCases(two.definition!)).toBe(2);
    const bad = validateDefinition({ ...quick(), highlights: { maxTypicalCasesPerIndicator: 0 } });
    expect(bad.valid).toBe(false);
    expect(bad.errors.map((e) => e.path)).toEqual(['highlights.maxTypicalCasesPerIndicator']);
    const unknown = validateDefinition({ ...quick(), highlights: { maxCases: 3 } });
    expect(unknown.valid).toBe(false);
  });

  it('raise a reviewed task that needs evidence and takes the proposal as typed fields', () => {
    const p = plan();
    const hl = raisedTask(p, raise({ kind: 'highlight', review: false }), now);
    expect(hl.kind).toBe('highlight');
    expect(hl.review).toBe(true);
    expect(hl.completion.evidence).toBe(true);
    expect(hl.completion.fields.map((f) => f.key)).toEqual([
      'title',
      'description',
      'indicator',
      'replicable',
    ]);
    // Without an indicator: those the unit leads or cooperates on (scjgj: kbqy, jzxk, scjg).
    expect(hl.completion.fields.find((f) => f.key === 'indicator')!.options).toEqual([
      'kbqy',
      'jzxk',
      'scjg',
    ]);
    const c = raisedTask(
      p,
      raise({ kind: 'case', indicator: 'ns', unit: 'swj', assignee: 'swj-staff1' }),
      now,
    );
    expect(c.taskId).toMatch(/\/ns\/case\/swj\//);
    expect(c.completion.fields.find((f) => f.key === 'indicator')!.options).toEqual(['ns']);
  });

  it('refuse a raise for a unit that works on no indicator, in both languages', () => {
    const raw = quick();
    raw.units.push({
      id: 'fgw',
      name: '县发展和改革委员会',
      kind: 'department',
      people: [{ id: 'fgw-staff1', name: '钱科员', role: 'staff' }],
    });
    try {
      raisedTask(plan(raw), raise({ kind: 'highlight', unit: 'fgw', assignee: 'fgw-staff1' }), now);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(RaiseRefused);
      expect((e as RaiseRefused).en).toMatch(
        /unit fgw neither leads nor cooperates on an indicator/,
      );
      expect((e as RaiseRefused).zh).toMatch(/县发展和改革委员会未牵头或配合任何指标/);
    }
  });

  it('check the proposal when it is submitted: its fields, its indicator and its evidence', () => {
    const p = plan();
    const task = raisedTask(p, raise({ kind: 'highlight' }), now);
    const submit = (data: Record<string, unknown>, evidence: string[]) =>
      checkRequest(
        'submit',
        { requestId: 's', actor: 'scjgj-staff1', data, evidence },
        facts(task),
        p.shared.roster,
        now,
      );
    const good = {
      title: '一网通办',
      description: '一日办结',
      indicator: 'kbqy',
      replicable: true,
    };
    expect(submit(good, ['https://example.gov.cn/a.pdf'])).toEqual({});
    expect(() => submit(good, [])).toThrow(/supporting evidence/);
    expect(() => submit({ ...good, indicator: 'ns' }, ['x'])).toThrow(
      /所属指标 \(indicator\) must be one of kbqy \/ jzxk \/ scjg, got "ns"/,
    );
    expect(() => submit({ ...good, replicable: '是' }, ['x'])).toThrow(
      /可复制推广 \(replicable\) must be true or false/,
    );
    expect(() =>
      submit({ description: '一日办结', indicator: 'kbqy', replicable: true }, ['x']),
    ).toThrow(/标题 \(title\) is required/);
  });

  it('refuse a case beyond the limit naming the indicator, the count and the setting', () => {
    const r = caseLimitRefusal({ code: 'kbqy', name: '开办企业' }, 10, 10, 'select');
    expect(r.en).toBe(
      'indicator kbqy (开办企业) already has 10 selected typical case(s), the most the campaign allows (highlights.maxTypicalCasesPerIndicator: 10): no further case can be selected for it; it may be proposed as a highlight instead',
    );
    expect(r.zh).toBe(
      '指标 kbqy（开办企业）已选用典型案例 10 个，达到本次考核的上限（每个指标至多 10 个），不能再选用典型案例；可改作亮点报送',
    );
  });

  it('put the publicity per department on the dispatch, and nothing on a digest stored before it was counted', () => {
    const digest = {
      date: '2026-10-12',
      campaignName: '演练',
      publicity: [
        {
          unit: 'scjgj',
          name: '县市场监督管理局',
          total: 3,
          sinceLast: 1,
          byChannel: { wechat: 2, tv: 1 },
        },
        { unit: 'swj', name: '县税务局', total: 0, sinceLast: 0, byChannel: {} },
      ],
    } as unknown as DispatchDigest;
    expect(publicityLine(digest)).toEqual(['宣传报道：县市场监督管理局 3 篇（新增 1）']);
    const [sheet] = dispatchPublicitySheets(digest, 'zh');
    expect(sheet!.columns.map((c) => c.header)).toEqual([
      '单位',
      '累计',
      '上次调度以来',
      '电视',
      '网站',
      '报纸',
      '微信公众号',
      '其他',
    ]);
    expect(sheet!.rows).toEqual([
      ['scjgj 县市场监督管理局', 3, 1, 1, 0, 0, 2, 0],
      ['swj 县税务局', 0, 0, 0, 0, 0, 0, 0],
    ]);
    const before = { ...digest, publicity: undefined };
    expect(publicityLine(before)).toEqual([]);
    expect(dispatchPublicitySheets(before, 'en')).toEqual([]);
  });
});
