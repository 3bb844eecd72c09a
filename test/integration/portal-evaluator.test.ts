// The evaluator's work in the portal over HTTP, on the dev server and PostgreSQL: the enterprise
// sample drawn on the page (the official draw, its seed recorded; asked again with the same seed
// it answers the same draw; a second draw without the bureau's reason refused, and the bureau's
// redraw with a reason becomes the official one); an indicator's business-record sample drawn
// through the page and the API (by count, seeded, the same seed the same records); site visits
// recorded through the page (each mistake beside its field, nothing sent) and the API (the
// indicator flagged on a discrepancy, the visit in PostgreSQL with the evaluator as its actor).
// Another unit's person gets 404, a post without the CSRF token 403.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indicatorWorkflowId } from '../../domain/campaign.ts';
import { withCreditCheck } from '../../domain/imports.ts';
import { indicatorStatusQuery } from '../../domain/messages.ts';
import { formatIsoOffset } from '../../domain/time.ts';
import { REPO_ROOT } from '../../scripts/lib/tools.ts';
import { runCli } from '../helpers/cli.ts';
import { startPortal, type TestPortal } from '../helpers/portal.ts';
import {
  accountOf,
  closeBrowser,
  fieldError,
  fitsPhone,
  until,
  type Agent,
} from '../helpers/portal-agent.ts';
import { startHarness, type Harness } from '../helpers/temporal.ts';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const id = `evl-${Date.now().toString(36)}`;
const TZ = 'Asia/Shanghai';
const dir = mkdtempSync(join(tmpdir(), 'portal-evaluator-'));
let harness: Harness;
let portal: TestPortal;
let cliEnv: NodeJS.ProcessEnv;
let evaluator: Agent;
let coord: Agent;
let clerk: Agent;

const cli = (...args: string[]) => runCli(args, cliEnv);
const q = async <T>(sql: string, ...params: unknown[]) =>
  (await harness.db.pool.query(sql, params)).rows as T[];
const base = `/campaigns/${id}`;

/** The part of the page about one indicator (each has its own forms). */
function section(page: string, code: string): string {
  const at = page.indexOf(`data-indicator="${code}"`);
  expect(at).toBeGreaterThan(0);
  const end = page.indexOf('<section', at);
  return page.slice(at, end < 0 ? undefined : end);
}

/** The quick example with windows of hours: nothing passes by itself while the test acts. */
function steadyDefinition(): string {
  const raw = parseYaml(readFileSync(join(REPO_ROOT, 'examples', 'quick-demo.yaml'), 'utf8'));
  raw.campaign.id = id;
  const t0 = Date.parse(`${raw.phases.training.start}+08:00`);
  const at = (hours: number) => formatIsoOffset(t0 + hours * 3_600_000, TZ).slice(0, 19);
  raw.phases.training = { start: at(0), end: at(2) };
  raw.phases.dataEntry = { ...raw.phases.dataEntry, start: at(2), end: at(4), slot: 'PT2H' };
  raw.phases.dataEntry.indicatorsPerDay = raw.indicators.length;
  raw.phases.verification = {
    ...raw.phases.verification,
    start: at(4),
    end: at(6),
    evidenceDue: { duration: 'PT2H' },
  };
  raw.phases.reporting = { start: at(6), end: at(8) };
  raw.policy.reminders = ['PT1H'];
  raw.policy.escalation = [
    { after: { duration: 'PT2H' }, notify: ['assignee', 'deputy'], label: '分管领导督办' },
  ];
  const path = join(dir, 'steady.json');
  writeFileSync(path, JSON.stringify(raw));
  return path;
}

beforeAll(async () => {
  harness = await startHarness('dev');
  portal = await startPortal(harness);
  cliEnv = {
    TEMPORAL_ADDRESS: harness.env.address,
    DATABASE_URL: harness.db.url,
    TEMPORAL_TASK_QUEUE: harness.taskQueue,
    PORTAL_PUBLIC_URL: portal.url,
  };
  const started = await cli('start', steadyDefinition(), '--begin', 'now', '--as', 'spj-coord');
  expect(started.code, started.stderr).toBe(0);
  await until('the roster in PostgreSQL', async () =>
    (await q('SELECT 1 FROM people WHERE campaign_id = $1', id)).length ? true : undefined,
  );
  const invite = async (person: string) => {
    const r = await cli(
      'accounts',
      'invite',
      id,
      '--person',
      person,
      '--as',
      'spj-coord',
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    return r.json<{ invitations: { link: string }[] }>().invitations[0]!.link;
  };
  [evaluator, coord, clerk] = await Promise.all([
    accountOf(portal, 'dsf-eval', invite),
    accountOf(portal, 'spj-coord', invite),
    accountOf(portal, 'zjj-staff1', invite),
  ]);
  // The enterprise list (the bureau's) and a unit's record list for jzxk.
  const lines = ['统一社会信用代码,企业名称,行业,乡镇'];
  for (let i = 0; i < 20; i++)
    lines.push(
      `${withCreditCheck(`913400000000${String(i).padStart(5, '0')}`)},核验企业${i}号,制造业,城关镇`,
    );
  const list = join(dir, 'enterprises.csv');
  writeFileSync(list, `${lines.join('\n')}\n`);
  const imported = await cli('enterprises', 'import', id, '--file', list, '--as', 'spj-coord');
  expect(imported.code, imported.stderr).toBe(0);
  const records = join(dir, 'zjj-jzxk.csv');
  writeFileSync(
    records,
    `办件编号,办结日期,事项名称,申请人,办理时长（工作日）\n${[1, 2, 3, 4, 5, 6].map((i) => `JZ-${i},2026-09-0${i},施工许可,建设单位${i},${i * 2}`).join('\n')}\n`,
  );
  const up = await cli(
    'records',
    'upload',
    id,
    'jzxk',
    '--unit',
    'zjj',
    '--file',
    records,
    '--as',
    'zjj-staff1',
  );
  expect(up.code, up.stderr).toBe(0);
});

afterAll(async () => {
  await closeBrowser();
  await portal?.close();
  await harness?.env.client.workflow
    .getHandle(id)
    .terminate('test done')
    .catch(() => {});
  await harness?.close();
});

describe('the evaluator draws its samples in the portal', () => {
  it('draws the official enterprise sample on the page; a second draw needs the bureau’s reason', async () => {
    expect((await clerk.page(`${base}/evaluator`)).status).toBe(404);
    expect((await coord.page(`${base}/evaluator`)).status).toBe(404);
    const page = await evaluator.page(`${base}/evaluator`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('尚未抽样；企业全量名单共 20 家');

    expect((await evaluator.form(`${base}/evaluator/sample`, { seed: 'p1' }, null)).status).toBe(
      403,
    );
    expect((await clerk.json(`/api${base}/sample`, { seed: 'p1' })).status).toBe(404);

    const drawn = await evaluator.form(`${base}/evaluator/sample`, { seed: 'portal-seed' });
    expect(drawn.status, await drawn.clone().text()).toBe(303);
    const official = await q<{ draw_no: number; seed: string; size: number; drawn_by: string }>(
      'SELECT draw_no, seed, size, drawn_by FROM samples WHERE campaign_id = $1 AND official',
      id,
    );
    expect(official).toEqual([{ draw_no: 1, seed: 'portal-seed', size: 4, drawn_by: 'dsf-eval' }]);
    // The same seed through the API: the official draw again, nothing new.
    const same = await evaluator.json(`/api${base}/sample`, { seed: 'portal-seed' });
    expect(same.status).toBe(200);
    expect(await same.json()).toMatchObject({ drawNo: 1, unchanged: true, seed: 'portal-seed' });
    // Another seed from the evaluator: refused, naming the bureau, in people's terms.
    const again = await evaluator.json(`/api${base}/sample`, { seed: 'other' });
    expect(again.status).toBe(409);
    const msg = ((await again.json()) as { message: string }).message;
    expect(msg).toContain('重新抽样须由审批局');
    expect(msg).toContain('王核验员');
    expect(msg).not.toMatch(/--reason|dsf-eval/);
    // The bureau's redraw, with a reason, on its page: the new official draw.
    const noReason = await coord.form(`${base}/bureau/sample`, { seed: 'other' });
    expect(noReason.status).toBe(422);
    const redraw = await coord.form(`${base}/bureau/sample`, { seed: 'other', reason: '名单有误' });
    expect(redraw.status, await redraw.clone().text()).toBe(303);
    expect(
      await q(
        'SELECT draw_no, official, reason FROM samples WHERE campaign_id = $1 ORDER BY draw_no',
        id,
      ),
    ).toEqual([
      { draw_no: 1, official: false, reason: null },
      { draw_no: 2, official: true, reason: '名单有误' },
    ]);
  });

  it('draws an indicator’s record sample through the page and the API, seeded and reproducible', async () => {
    const wrong = await evaluator.form(`${base}/evaluator/jzxk/records`, {
      proportion: '2',
      count: 'x',
    });
    expect(wrong.status).toBe(422);
    const text = section(await wrong.text(), 'jzxk');
    expect(fieldError(text, 'proportion')).toBe('抽样比例须大于 0、不超过 1，如 0.1。');
    expect(await q('SELECT 1 FROM record_samples WHERE campaign_id = $1', id)).toEqual([]);

    const page = await evaluator.form(`${base}/evaluator/jzxk/records`, {
      seed: 'rec',
      count: '3',
    });
    expect(page.status, await page.clone().text()).toBe(303);
    const items = await q<{ record_no: string }>(
      'SELECT record_no FROM record_sample_items WHERE campaign_id = $1 AND indicator = $2 ORDER BY record_no',
      id,
      'jzxk',
    );
    expect(items).toHaveLength(3);
    const api = await evaluator.json(`/api${base}/records/jzxk/sample`, { seed: 'rec', count: 3 });
    expect(api.status, await api.clone().text()).toBe(200);
    const d = (await api.json()) as {
      drawNo: number;
      unchanged: boolean;
      records: { recordNo: string }[];
    };
    expect(d).toMatchObject({ drawNo: 1, unchanged: true });
    expect(d.records.map((r) => r.recordNo).sort()).toEqual(items.map((i) => i.record_no));
    expect((await evaluator.json(`/api${base}/records/nosuch/sample`, { count: 1 })).status).toBe(
      404,
    );
    // Another seed from the evaluator needs the bureau; the bureau redraws on its page, with a reason.
    const again = await evaluator.json(`/api${base}/records/jzxk/sample`, {
      seed: 'other',
      count: 3,
    });
    expect(again.status).toBe(409);
    const noReason = await coord.form(`${base}/bureau/records`, {
      indicator: 'jzxk',
      seed: 'other',
    });
    expect(noReason.status).toBe(422);
    const recordsForm = (await noReason.text())
      .split('data-form="records"')[1]!
      .split('</section>')[0]!;
    expect(fieldError(recordsForm, 'reason')).toBe('请写明重新抽样的理由。');
    const redraw = await coord.form(`${base}/bureau/records`, {
      indicator: 'jzxk',
      seed: 'other',
      reason: '台账更新后重抽',
    });
    expect(redraw.status, await redraw.clone().text()).toBe(303);
    expect(
      await q(
        'SELECT draw_no, official, reason, drawn_by FROM record_samples WHERE campaign_id = $1 ORDER BY draw_no',
        id,
      ),
    ).toEqual([
      { draw_no: 1, official: false, reason: null, drawn_by: 'dsf-eval' },
      { draw_no: 2, official: true, reason: '台账更新后重抽', drawn_by: 'spj-coord' },
    ]);
  });
});

describe('the evaluator records site visits in the portal', () => {
  it('names each mistake beside its field, records a visit through the page and a discrepancy through the API', async () => {
    const wrong = await evaluator.form(`${base}/evaluator/ns/visit`, {
      kind: 'tour',
      date: '2026-13-40',
      place: ' ',
      outcome: '',
      note: '保留的说明',
    });
    expect(wrong.status).toBe(422);
    const text = section(await wrong.text(), 'ns');
    expect(fieldError(text, 'kind')).toBe('请选择：实地核查或访谈。');
    expect(fieldError(text, 'date')).toBe('请填写日期，如 2026-11-03。');
    expect(fieldError(text, 'place')).toBe('请写明地点或访谈对象。');
    expect(fieldError(text, 'outcome')).toBe('请选择核验结果：属实或有差异。');
    expect(text).toContain('保留的说明');
    expect(
      (await evaluator.form(`${base}/evaluator/ns/visit`, { kind: 'interview' }, null)).status,
    ).toBe(403);
    expect(
      (
        await clerk.json(`/api${base}/visits/ns`, {
          kind: 'interview',
          date: '2026-11-03',
          place: 'x',
          outcome: 'confirmed',
        })
      ).status,
    ).toBe(404);

    // In training the indicator verifies nothing yet: the workflow's refusal, on the page.
    const visit = {
      kind: 'site-visit',
      date: '2026-11-03',
      place: '县政务服务中心',
      outcome: 'confirmed',
    };
    const early = await evaluator.form(`${base}/evaluator/ns/visit`, visit);
    expect(early.status).toBe(409);
    expect(await early.text()).toContain('操作未被接受');
    expect(await q('SELECT 1 FROM verification_visits WHERE campaign_id = $1', id)).toEqual([]);
    // The bureau moves the campaign into verification.
    for (const phase of ['training', 'dataEntry']) {
      const r = await cli('phase', id, 'close', phase, '--as', 'spj-coord', '--reason', '测试推进');
      expect(r.code, r.stderr).toBe(0);
    }
    await until('ns and kbqy in verification', async () => {
      const r = await q<{ code: string }>(
        "SELECT code FROM indicator_status WHERE campaign_id = $1 AND phase = 'verification' AND code IN ('ns', 'kbqy')",
        id,
      );
      return r.length === 2 ? true : undefined;
    });

    const ok = await evaluator.form(`${base}/evaluator/ns/visit`, {
      kind: 'site-visit',
      date: '2026-11-03',
      place: '县政务服务中心',
      outcome: 'confirmed',
    });
    expect(ok.status, await ok.clone().text()).toBe(303);
    const api = await evaluator.json(`/api${base}/visits/kbqy?lang=en`, {
      kind: 'interview',
      date: '2026-11-04',
      place: '企业负责人',
      outcome: 'discrepant',
      note: '实际开办用时与填报不符',
      actor: 'spj-coord',
    });
    expect(api.status, await api.clone().text()).toBe(200);
    expect(await api.json()).toMatchObject({
      indicator: 'kbqy',
      outcome: 'discrepant',
      flagged: true,
    });
    const status = await harness.env.client.workflow
      .getHandle(indicatorWorkflowId(id, 'kbqy'))
      .query(indicatorStatusQuery);
    expect(status.flagged).toBe(true);
    expect(
      await q(
        `SELECT code, kind, to_char(visited_on, 'YYYY-MM-DD') AS day, place, outcome, recorded_by
           FROM verification_visits WHERE campaign_id = $1 ORDER BY visited_on`,
        id,
      ),
    ).toEqual([
      {
        code: 'ns',
        kind: 'site-visit',
        day: '2026-11-03',
        place: '县政务服务中心',
        outcome: 'confirmed',
        recorded_by: 'dsf-eval',
      },
      {
        code: 'kbqy',
        kind: 'interview',
        day: '2026-11-04',
        place: '企业负责人',
        outcome: 'discrepant',
        recorded_by: 'dsf-eval',
      },
    ]);
    const verified = await until('the verified item in PostgreSQL', async () => {
      const r = await q<{ item: string; actor: string }>(
        'SELECT item, actor FROM verifications WHERE campaign_id = $1 AND code = $2',
        id,
        'ns',
      );
      return r.length ? r : undefined;
    });
    expect(verified).toEqual([{ item: '实地核查 2026-11-03 县政务服务中心', actor: 'dsf-eval' }]);
    const page = await evaluator.page(`${base}/evaluator`);
    expect(page.text).toContain('县政务服务中心');
    await fitsPhone(evaluator, `${base}/evaluator`, 'evaluator');
  });
});
