// The bureau's work in the portal over HTTP, on the dev server and PostgreSQL: a campaign started
// from the uploaded division-of-labour workbook (a wrong cell named by sheet, row and column,
// nothing started) and from a definition through the API; phases closed and a bad extension
// named by field; the results refused before reporting and imported in it; the enterprise list
// imported (a bad line named by its line, nothing changed); the assessment adjusted; campaigns
// cancelled. Each effect is read back from the workflow or PostgreSQL with the signed-in officer
// as the actor; another unit's person gets 404, a post without the CSRF token 403. Driven by the
// campaign's state, never the wall clock: the windows are hours long and the bureau closes them.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDefinitionText } from '../../client/definition-file.ts';
import { SHEETS, templateWorkbook } from '../../client/workbook.ts';
import { withCreditCheck } from '../../domain/imports.ts';
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

const stamp = Date.now().toString(36);
const id = `bur-${stamp}`;
const fromBook = `bur-${stamp}-wb`;
const fromApi = `bur-${stamp}-api`;
const TZ = 'Asia/Shanghai';
const dir = mkdtempSync(join(tmpdir(), 'portal-bureau-'));
let harness: Harness;
let portal: TestPortal;
let cliEnv: NodeJS.ProcessEnv;
let coord: Agent;
let clerk: Agent;
let evaluator: Agent;

const cli = (...args: string[]) => runCli(args, cliEnv);
const q = async <T>(sql: string, ...params: unknown[]) =>
  (await harness.db.pool.query(sql, params)).rows as T[];

/** The quick example with windows of hours: nothing passes by itself while the test acts. */
function steady(campaignId: string) {
  const raw = parseYaml(readFileSync(join(REPO_ROOT, 'examples', 'quick-demo.yaml'), 'utf8'));
  raw.campaign.id = campaignId;
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
  return raw;
}

const b64 = (s: string | Uint8Array) => Buffer.from(s).toString('base64');
const base = (c = id) => `/campaigns/${c}`;

beforeAll(async () => {
  harness = await startHarness('dev');
  portal = await startPortal(harness);
  cliEnv = {
    TEMPORAL_ADDRESS: harness.env.address,
    DATABASE_URL: harness.db.url,
    TEMPORAL_TASK_QUEUE: harness.taskQueue,
    PORTAL_PUBLIC_URL: portal.url,
  };
  const file = join(dir, 'steady.json');
  writeFileSync(file, JSON.stringify(steady(id)));
  const started = await cli('start', file, '--begin', 'now', '--as', 'spj-coord');
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
  [coord, clerk, evaluator] = await Promise.all([
    accountOf(portal, 'spj-coord', invite),
    accountOf(portal, 'scjgj-staff1', invite),
    accountOf(portal, 'dsf-eval', invite),
  ]);
});

afterAll(async () => {
  await closeBrowser();
  await portal?.close();
  for (const c of [id, fromBook, fromApi])
    await harness?.env.client.workflow
      .getHandle(c)
      .terminate('test done')
      .catch(() => {});
  await harness?.close();
});

describe('the bureau starts a campaign in the portal', () => {
  it('checks the uploaded workbook, names a wrong cell by sheet, row and column, and starts it once it is right', async () => {
    const def = loadDefinitionText(JSON.stringify(steady(fromBook)), 'steady.json');
    expect(def.valid, JSON.stringify(def.errors)).toBe(true);
    const good = await templateWorkbook(def.definition!);
    // The first indicator's lead unit made one the roster does not have.
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(good as unknown as ArrayBuffer);
    const ws = wb.getWorksheet(SHEETS.indicators)!;
    const col = (ws.getRow(1).values as string[]).indexOf('牵头单位');
    ws.getRow(2).getCell(col).value = '不存在的局';
    const bad = Buffer.from(await wb.xlsx.writeBuffer());

    // Somebody not of the bureau does not see the page.
    expect((await clerk.page('/campaigns/new')).status).toBe(404);
    expect((await coord.page('/campaigns/new')).status).toBe(200);
    // The officer's pages are in the header of every page; not in the clerk's.
    const tasks = await coord.page('/tasks');
    expect(tasks.text).toContain('href="/campaigns/new"');
    expect(tasks.text).toContain(`href="/campaigns/${id}/bureau"`);
    expect((await clerk.page('/tasks')).text).not.toContain('/bureau"');
    expect((await evaluator.page('/tasks')).text).toContain(`href="/campaigns/${id}/evaluator"`);

    const checked = await coord.upload('/campaigns/new/check', {
      name: '任务分工表.xlsx',
      content: bad,
    });
    expect(checked.status).toBe(422);
    const text = await checked.text();
    expect(text).toMatch(/data-place="指标分工 第 2 行「牵头单位」（不存在的局）"/);
    // Starting it is refused the same way, and nothing is started.
    const refused = await coord.upload(
      '/campaigns/new',
      { name: '任务分工表.xlsx', content: bad },
      { begin: 'now', id: fromBook },
    );
    expect(refused.status).toBe(422);
    expect(await refused.text()).toContain('指标分工 第 2 行「牵头单位」');
    // Without the CSRF token: refused before anything is read.
    const noToken = await coord.upload(
      '/campaigns/new',
      { name: '任务分工表.xlsx', content: good },
      { begin: 'now', id: fromBook },
      null,
    );
    expect(noToken.status).toBe(403);
    expect(await q('SELECT 1 FROM campaigns WHERE campaign_id = $1', fromBook)).toEqual([]);

    // The right workbook, rehearsed from now: started, recorded, with the officer as its starter.
    const ok = await coord.upload(
      '/campaigns/new',
      { name: '任务分工表.xlsx', content: good },
      { begin: 'now', id: fromBook },
    );
    expect(ok.status, await ok.clone().text()).toBe(303);
    expect(ok.headers.get('location')).toBe(`/campaigns/${fromBook}/bureau?done=started`);
    const d = await harness.env.client.workflow.getHandle(fromBook).describe();
    expect(d.status.name).toBe('RUNNING');
    expect(await q('SELECT name FROM campaigns WHERE campaign_id = $1', fromBook)).toHaveLength(1);
    const page = await coord.page(ok.headers.get('location')!);
    expect(page.status).toBe(200);
    expect(page.text).toContain('考核已启动');
    await fitsPhone(coord, '/campaigns/new', 'campaign-new');
    await fitsPhone(coord, `/campaigns/${fromBook}/bureau`, 'bureau');
  });

  it('checks and starts a YAML definition through the API, each problem with its line, and refuses a second start', async () => {
    const raw = steady(fromApi);
    const broken = structuredClone(raw);
    broken.indicators[0].leadUnit = 'nosuch';
    const checked = await coord.json('/api/campaigns/check', {
      fileName: 'broken.yaml',
      content: b64(toYaml(broken)),
    });
    expect(checked.status).toBe(200);
    const c = (await checked.json()) as { valid: boolean; problems: Record<string, string> };
    expect(c.valid).toBe(false);
    const places = Object.keys(c.problems);
    expect(
      places.some((p) => /^broken\.yaml:\d+ indicators\[0\]\.leadUnit$/.test(p)),
      places.join(),
    ).toBe(true);
    const refused = await coord.json('/api/campaigns', {
      fileName: 'broken.yaml',
      content: b64(toYaml(broken)),
      begin: 'now',
    });
    expect(refused.status).toBe(422);
    expect(Object.keys(((await refused.json()) as { fields: object }).fields)).toEqual(places);
    // Not base64: a bad request naming the field.
    const garbled = await coord.json('/api/campaigns', { fileName: 'x.yaml', content: '%%%' });
    expect(garbled.status).toBe(400);
    expect(((await garbled.json()) as { message: string }).message).toContain('body.content');
    // The evaluator is not the bureau: 404, as for a page that does not exist.
    const notBureau = await evaluator.json('/api/campaigns', {
      fileName: 'a.yaml',
      content: b64(toYaml(raw)),
    });
    expect(notBureau.status).toBe(404);

    const started = await coord.json('/api/campaigns?lang=en', {
      fileName: 'ok.yaml',
      content: b64(toYaml(raw)),
      begin: 'now',
    });
    expect(started.status, await started.clone().text()).toBe(200);
    expect(await started.json()).toEqual({
      campaignId: fromApi,
      workflowId: fromApi,
      recorded: true,
    });
    const again = await coord.json('/api/campaigns?lang=en', {
      fileName: 'ok.yaml',
      content: b64(toYaml(raw)),
      begin: 'now',
    });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { message: string }).message).toContain('was already started');
  });
});

describe('the bureau steers a campaign in the portal', () => {
  const phaseOf = async () =>
    (await q<{ phase: string }>('SELECT phase FROM campaigns WHERE campaign_id = $1', id))[0]
      ?.phase;

  it('closes phases through the page and the API; a bad extension is named by field; others get 404', async () => {
    await until('training under way', async () =>
      (await phaseOf()) === 'training' ? true : undefined,
    );
    expect((await clerk.page(`${base()}/bureau`)).status).toBe(404);
    expect(
      (await clerk.json(`/api${base()}/phase`, { action: 'close', phase: 'training', reason: 'x' }))
        .status,
    ).toBe(404);
    const noToken = await coord.form(
      `${base()}/bureau/phase`,
      { action: 'close', phase: 'training', reason: '测试' },
      null,
    );
    expect(noToken.status).toBe(403);

    const wrong = await coord.form(`${base()}/bureau/phase`, {
      action: 'extend',
      phase: 'training',
      until: '下周',
      reason: '',
    });
    expect(wrong.status).toBe(422);
    const wrongText = await wrong.text();
    expect(fieldError(wrongText, 'until')).toContain('请填写新的结束时间');
    expect(fieldError(wrongText, 'reason')).toBe('请写明理由（随决定记录）。');

    const closed = await coord.form(`${base()}/bureau/phase`, {
      action: 'close',
      phase: 'training',
      reason: '培训已完成',
    });
    expect(closed.status, await closed.clone().text()).toBe(303);
    expect(closed.headers.get('location')).toContain('done=phase');
    const api = await coord.json(`/api${base()}/phase?lang=en`, {
      action: 'close',
      phase: 'dataEntry',
      reason: '填报已完成',
    });
    expect(api.status, await api.clone().text()).toBe(200);
    expect(await api.json()).toMatchObject({
      phase: 'dataEntry',
      action: 'close',
      campaignPhase: 'verification',
    });
    const events = await until('the decisions in PostgreSQL', async () => {
      const r = await q<{ type: string; actor: string; reason: string }>(
        'SELECT type, actor, reason FROM campaign_events WHERE campaign_id = $1 ORDER BY seq',
        id,
      );
      return r.length >= 2 ? r : undefined;
    });
    expect(events).toEqual([
      { type: 'phase-closed', actor: 'spj-coord', reason: '培训已完成' },
      { type: 'phase-closed', actor: 'spj-coord', reason: '填报已完成' },
    ]);
  });

  it('refuses the results before reporting, names a bad line, and imports them in reporting', async () => {
    const results = '指标代码,得分,排名\nkbqy,92.5,3\nns,70,12\njzxk,88,5\nscjg,95,1\n';
    const early = await coord.upload(`${base()}/bureau/results`, {
      name: 'results.csv',
      content: results,
    });
    expect(early.status).toBe(409);
    expect(await early.text()).toContain('评价结果在“编制报告”阶段导入');

    const bad = await coord.upload(`${base()}/bureau/results`, {
      name: 'results.csv',
      content: '指标代码,得分,排名\nkbqy,92.5,3\nnosuch,70,12\n',
    });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toMatch(/data-place="results\.csv 第 3 行/);

    const r = await coord.json(`/api${base()}/phase`, {
      action: 'close',
      phase: 'verification',
      reason: '核验已完成',
    });
    expect(r.status, await r.clone().text()).toBe(200);
    const ok = await coord.json(`/api${base()}/results`, {
      fileName: 'results.csv',
      content: b64(results),
    });
    expect(ok.status, await ok.clone().text()).toBe(200);
    expect(((await ok.json()) as { imported: number }).imported).toBe(4);
    const rows = await until('the results in PostgreSQL', async () => {
      const x = await q<{ code: string; score: string }>(
        'SELECT code, score FROM results WHERE campaign_id = $1 ORDER BY code',
        id,
      );
      return x.length === 4 ? x : undefined;
    });
    expect(rows.map((x) => [x.code, Number(x.score)])).toEqual([
      ['jzxk', 88],
      ['kbqy', 92.5],
      ['ns', 70],
      ['scjg', 95],
    ]);
  });

  it('imports the enterprise list through the page (a bad line named, nothing changed) and the API', async () => {
    const lines = ['统一社会信用代码,企业名称,行业,乡镇'];
    for (let i = 0; i < 12; i++)
      lines.push(
        `${withCreditCheck(`913400000000${String(i).padStart(5, '0')}`)},门户测试企业${i}号,制造业,城关镇`,
      );
    const good = `${lines.join('\n')}\n`;
    const bad = good.replace(lines[2]!, lines[2]!.replace(/^[0-9A-Z]+/, '12345'));
    const refused = await coord.upload(`${base()}/bureau/enterprises`, {
      name: 'enterprises.csv',
      content: bad,
    });
    expect(refused.status).toBe(422);
    expect(await refused.text()).toMatch(/data-place="enterprises\.csv 第 3 行/);
    expect(await q('SELECT 1 FROM enterprises WHERE campaign_id = $1', id)).toEqual([]);
    const page = await coord.upload(`${base()}/bureau/enterprises`, {
      name: 'enterprises.csv',
      content: good,
    });
    expect(page.status, await page.clone().text()).toBe(303);
    const rows = await q<{ n: number; by: string }>(
      'SELECT count(*)::int AS n, min(imported_by) AS by FROM enterprises WHERE campaign_id = $1',
      id,
    );
    expect(rows).toEqual([{ n: 12, by: 'spj-coord' }]);
    const api = await coord.json(`/api${base()}/enterprises`, {
      fileName: 'e.csv',
      content: b64(lines.slice(0, 6).join('\n')),
    });
    expect(api.status).toBe(200);
    expect(await api.json()).toEqual({ imported: 5 });
    expect(
      (await clerk.json(`/api${base()}/enterprises`, { fileName: 'e.csv', content: b64(good) }))
        .status,
    ).toBe(404);
  });

  it('adjusts the assessment through the page and the API, the officer recorded', async () => {
    const wrong = await coord.form(`${base()}/bureau/adjust`, {
      unit: 'dsf',
      points: '0',
      reason: '',
    });
    expect(wrong.status).toBe(422);
    const text = await wrong.text();
    expect(fieldError(text, 'unit')).toBe('请选择要调整的职能部门。');
    expect(fieldError(text, 'points')).toContain('不为 0');
    const ok = await coord.form(`${base()}/bureau/adjust`, {
      unit: 'scjgj',
      points: '-1.5',
      reason: '材料报送迟缓',
    });
    expect(ok.status, await ok.clone().text()).toBe(303);
    const api = await coord.json(`/api${base()}/assessment/adjustments`, {
      unit: 'swj',
      points: 2,
      reason: '创新做法',
    });
    expect(api.status, await api.clone().text()).toBe(200);
    expect(await api.json()).toMatchObject({ unit: 'swj', points: 2, by: 'spj-coord' });
    expect(
      await q(
        'SELECT unit_id, points::float AS points, by_person FROM assessment_adjustments WHERE campaign_id = $1 ORDER BY no',
        id,
      ),
    ).toEqual([
      { unit_id: 'scjgj', points: -1.5, by_person: 'spj-coord' },
      { unit_id: 'swj', points: 2, by_person: 'spj-coord' },
    ]);
    const page = await coord.page(`${base()}/bureau`);
    expect(page.text).toContain('材料报送迟缓');
  });

  it('cancels campaigns through the page and the API; a second cancellation answers the same', async () => {
    const empty = await coord.form(`${base(fromBook)}/bureau/cancel`, { reason: ' ' });
    expect(empty.status).toBe(422);
    const page = await coord.form(`${base(fromBook)}/bureau/cancel`, { reason: '演练结束' });
    expect(page.status, await page.clone().text()).toBe(303);
    const api = await coord.json(`/api${base(fromApi)}/cancel`, { reason: '误启动' });
    expect(api.status, await api.clone().text()).toBe(200);
    expect(await api.json()).toEqual({ campaignId: fromApi, status: 'cancelled' });
    const statuses = await until('both cancelled in PostgreSQL', async () => {
      const r = await q<{ status: string; cancel_reason: string }>(
        'SELECT status, cancel_reason FROM campaigns WHERE campaign_id = ANY($1) ORDER BY campaign_id',
        [fromApi, fromBook],
      );
      return r.every((x) => x.status === 'cancelled') && r.length === 2 ? r : undefined;
    });
    expect(statuses.map((s) => s.cancel_reason)).toEqual(['误启动', '演练结束']);
    const again = await coord.json(`/api${base(fromApi)}/cancel`, { reason: '误启动' });
    expect(again.status).toBe(200);
  });
});
