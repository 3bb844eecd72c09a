// `npm run fuzz:api`: the portal's API fuzzed from its own OpenAPI document with schemathesis
// (from PyPI, installed once into a virtualenv in the project's cache). Starts its own servers
// (the Temporal dev server, a throw-away PostgreSQL, a worker, the portal on 127.0.0.1), a
// campaign with a questionnaire task and evidence, signs a clerk in, puts the real ids into the
// document's parameter examples, and runs schemathesis with the checks that every response is
// as documented and none is a server error. Prints the figures; exits non-zero on any failure.
//
//   npm run fuzz:api                     about 1,500 requests
//   npm run fuzz:api -- --examples 100   more cases per operation
//   npm run fuzz:api -- --tags bureau,evaluator   only these operations
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { parse as parseYaml } from 'yaml';
import { textFault } from '../domain/text.ts';
import { withCreditCheck } from '../domain/imports.ts';
import { formatIsoOffset } from '../domain/time.ts';
import { startPortal } from '../test/helpers/portal.ts';
import { startHarness } from '../test/helpers/temporal.ts';
import fc from 'fast-check';
import { hostileText } from './lib/fuzz-targets.ts';
import { runCampaignCli } from './lib/run-node.ts';
import { cacheRoot, REPO_ROOT } from './lib/tools.ts';

const SCHEMATHESIS = '4.32.5';
const argv = process.argv.slice(2);
const examplesArg = argv.indexOf('--examples');
const maxExamples = examplesArg >= 0 ? Number(argv[examplesArg + 1]) : 60;
// `--tags bureau,evaluator`: fuzz only the operations of these tags.
const tagsArg = argv.indexOf('--tags');
const onlyTags = tagsArg >= 0 ? (argv[tagsArg + 1] ?? '').split(',').filter(Boolean) : null;

function ensureSchemathesis(): string {
  const venv = join(cacheRoot(), `schemathesis-${SCHEMATHESIS}`);
  const st = join(venv, 'bin', 'st');
  if (existsSync(st)) return st;
  console.error(`fuzz: installing schemathesis ${SCHEMATHESIS} from PyPI into ${venv}`);
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status})`);
  };
  run('python3', ['-m', 'venv', venv]);
  run(join(venv, 'bin', 'pip'), ['install', '--quiet', `schemathesis==${SCHEMATHESIS}`]);
  return st;
}

function run(cmd: string, args: string[]): Promise<{ status: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (status) => resolve({ status }));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TZ = 'Asia/Shanghai';
async function until(what: string, ok: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 480; i++) {
    if (await ok()) return;
    await sleep(250);
  }
  throw new Error(`fuzz: gave up waiting for ${what}`);
}
const st = ensureSchemathesis();
Runtime.install({ logger: new DefaultLogger('ERROR') });
const harness = await startHarness('dev');
const portal = await startPortal(harness, { PORTAL_SIGNIN_DELAY: '1ms' });
const out = join(REPO_ROOT, '.artifacts', 'schemathesis');
mkdirSync(out, { recursive: true });
let code = 1;
try {
  const env = {
    TEMPORAL_ADDRESS: harness.env.address,
    DATABASE_URL: harness.db.url,
    TEMPORAL_TASK_QUEUE: harness.taskQueue,
    PORTAL_PUBLIC_URL: portal.url,
  };
  const cli = async (...args: string[]) => {
    const r = await runCampaignCli(args, env);
    if (r.code !== 0) throw new Error(`campaign ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  const id = `fuzz-${Date.now().toString(36)}`;
  // The quick example with windows of hours: no phase ends by itself while the fuzzer runs; the
  // bureau closes training and data entry so that verification and a rectification are under way.
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
    end: at(8),
    evidenceDue: { duration: 'PT2H' },
  };
  raw.phases.reporting = { start: at(8), end: at(10) };
  raw.policy.reminders = ['PT1H'];
  raw.policy.escalation = [{ after: { duration: 'PT2H' }, notify: ['assignee'], label: '督办' }];
  raw.policy.returnDue = { duration: 'PT2H' };
  raw.rectification.stepDue = { duration: 'PT2H' };
  raw.rectification.measureDue = { duration: 'PT2H' };
  raw.rectification.progressEvery = 'PT2H';
  const file = join(out, 'campaign.json');
  writeFileSync(file, JSON.stringify(raw));
  await cli('start', file, '--begin', 'now', '--as', 'spj-coord');
  await until(
    'the roster',
    async () =>
      (await harness.db.pool.query('SELECT 1 FROM people WHERE campaign_id = $1', [id])).rowCount,
  );
  const phaseOf = async (code: string) =>
    (
      await harness.db.pool.query<{ phase: string }>(
        'SELECT phase FROM indicator_status WHERE campaign_id = $1 AND code = $2',
        [id, code],
      )
    ).rows[0]?.phase;
  await until('training', async () => (await phaseOf('kbqy')) === 'training');
  for (const phase of ['training', 'dataEntry'])
    await cli('phase', id, 'close', phase, '--as', 'spj-coord', '--reason', '接口测试推进');
  await until('verification', async () => (await phaseOf('ns')) === 'verification');
  // kbqy goes on to a rectification (its lead unit is the clerk's), ns stays in verification.
  await cli('rectify', id, 'kbqy', '--as', 'spj-coord', '--reason', '接口测试：核验发现差异');
  // The enterprise list and a record list of ns, for the samples the evaluator draws.
  const firms = join(out, 'enterprises.csv');
  writeFileSync(
    firms,
    `统一社会信用代码,企业名称\n${[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((i) => `${withCreditCheck(`91340000000000${String(i).padStart(3, '0')}`)},接口测试企业${i}`).join('\n')}\n`,
  );
  await cli('enterprises', 'import', id, '--file', firms, '--as', 'spj-coord');
  const records = join(out, 'records-ns.csv');
  writeFileSync(
    records,
    `办件编号,办结日期,事项名称,申请人,办理时长（工作日）\n${[1, 2, 3, 4, 5].map((i) => `NS-${i},2026-09-0${i},纳税申报,企业${i},${i}`).join('\n')}\n`,
  );
  await cli(
    'records',
    'upload',
    id,
    'ns',
    '--unit',
    'swj',
    '--file',
    records,
    '--as',
    'swj-staff1',
  );

  const created = await cli(
    'task',
    'create',
    '--file',
    file,
    '--unit',
    'scjgj',
    '--assignee',
    'scjgj-staff1',
    '--title',
    '开办企业 数据填报（接口测试）',
    '--kind',
    'questionnaire',
    '--indicator',
    'kbqy',
    '--key',
    'fuzz',
    '--as',
    'spj-coord',
    '--json',
    '--due',
    formatIsoOffset(Date.now() + 3 * 86_400_000, TZ).slice(0, 19),
  );
  const taskId = created.json<{ taskId: string }>().taskId;
  await until(
    'the task',
    async () =>
      (await harness.db.pool.query('SELECT 1 FROM tasks WHERE task_id = $1', [taskId])).rowCount,
  );

  // Each person's account and session, as a program gets them.
  const password = 'fuzzing password 2026';
  const account = async (person: string) => {
    const invite = await cli(
      'accounts',
      'invite',
      id,
      '--person',
      person,
      '--as',
      'spj-coord',
      '--json',
    );
    const link = invite.json<{ invitations: { link: string }[] }>().invitations[0]!.link;
    const page = await fetch(link);
    const pre = /portal_pre=([^;]+)/.exec(page.headers.get('set-cookie') ?? '')![1]!;
    const form = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!;
    await fetch(link, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `portal_pre=${pre}` },
      body: new URLSearchParams({ _csrf: form, password, confirm: password }).toString(),
    });
    const signed = await fetch(`${portal.url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ personId: person, password }),
    });
    const session = /portal_session=([^;]+)/.exec(signed.headers.get('set-cookie') ?? '')![1]!;
    const { csrfToken } = (await signed.json()) as { csrfToken: string };
    return { person, session, csrfToken };
  };
  const clerk = await account('scjgj-staff1');
  const evaluator = await account('dsf-eval');
  const coordinator = await account('spj-coord');
  const call = (
    who: { session: string; csrfToken: string },
    path: string,
    init: RequestInit = {},
  ) =>
    fetch(`${portal.url}${path}`, {
      ...init,
      headers: {
        ...(init.headers as Record<string, string>),
        cookie: `portal_session=${who.session}`,
        'x-csrf-token': who.csrfToken,
      },
    });
  await until('the rectification’s first step', async () => {
    const r = await call(clerk, `/api/campaigns/${id}/rectification/kbqy`);
    return r.ok && ((await r.json()) as { current: unknown }).current !== null;
  });
  // One evidence file, so that the download has a real id to find.
  const upload = new FormData();
  upload.append('files', new Blob([Buffer.from('%PDF-1.4\n%%EOF\n')]), '政策文件.pdf');
  const stored = (await (
    await call(clerk, `/api/tasks/${encodeURIComponent(taskId)}/evidence`, {
      method: 'POST',
      body: upload,
    })
  ).json()) as { fileId: string }[];
  // One API token, so that the revocation has a real id to find.
  const token = (await (
    await call(coordinator, `/api/campaigns/${id}/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ unit: 'scjgj', person: 'scjgj-staff1', name: '接口测试系统' }),
    })
  ).json()) as { tokenId: string };

  // The portal's own document, with real ids as the parameters' examples.
  const doc = (await (await fetch(`${portal.url}/api/openapi.json`)).json()) as {
    paths: Record<
      string,
      Record<
        string,
        {
          parameters: { name: string; schema: Record<string, unknown> }[];
          requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
        }
      >
    >;
  };
  const examples: Record<string, string> = {
    taskId,
    campaignId: id,
    personId: 'scjgj-staff2',
    fileId: stored[0]!.fileId,
    tokenId: token.tokenId,
  };
  // A valid body for each action, so that the examples phase reaches past the refusals to the
  // answers (and their schemas) of actions that random bodies seldom get right.
  const later = formatIsoOffset(Date.now() + 5 * 86_400_000, TZ).slice(0, 16);
  const bodies: Record<string, unknown> = {
    'post /api/tasks/{taskId}/submit': {
      data: { procedures: 3, days: 2.5, onlineRate: 95 },
      note: '按要求填报',
    },
    'post /api/tasks/{taskId}/extend': { until: later, reason: '材料需要再核对' },
    'post /api/tasks/{taskId}/approve': { note: '同意' },
    'post /api/tasks/{taskId}/return': { reason: '请补充办件记录' },
    'post /api/tasks/{taskId}/reassign': { to: 'scjgj-staff2' },
    'post /api/campaigns/{campaignId}/verification/{code}/verify': {
      item: '抽样企业办件记录',
      outcome: 'discrepant',
      note: '实际办理时间与填报不符',
    },
    'post /api/campaigns/{campaignId}/verification/{code}/evidence': {
      unit: 'swj',
      what: '抽样企业的纳税记录',
    },
    'post /api/campaigns/{campaignId}/rectification/{code}/step': {
      data: { problems: [{ finding: '办理时间与填报不符', description: '抽样企业实际用时较长' }] },
    },
    'post /api/campaigns/{campaignId}/rectification/{code}/measures': {
      problem: 1,
      measure: '压缩审批环节',
      unit: 'scjgj',
      person: 'scjgj-staff1',
      due: formatIsoOffset(Date.now() + 10 * 86_400_000, TZ).slice(0, 10),
      reason: '核验后补充',
    },
    'post /api/campaigns/{campaignId}/invitations': { person: 'scjgj-staff2' },
    'post /api/campaigns/check': {
      fileName: 'campaign.json',
      content: Buffer.from(
        JSON.stringify({ ...raw, campaign: { ...raw.campaign, id: `${id}-b` } }),
      ).toString('base64'),
    },
    'post /api/campaigns': {
      fileName: 'campaign.json',
      content: Buffer.from(
        JSON.stringify({ ...raw, campaign: { ...raw.campaign, id: `${id}-b` } }),
      ).toString('base64'),
      begin: 'now',
    },
    'post /api/campaigns/{campaignId}/phase': {
      action: 'extend',
      phase: 'verification',
      until: formatIsoOffset(Date.now() + 2 * 86_400_000, TZ).slice(0, 10),
      reason: '接口测试：延期',
    },
    'post /api/campaigns/{campaignId}/enterprises': {
      fileName: 'enterprises.csv',
      content: readFileSync(firms).toString('base64'),
    },
    'post /api/campaigns/{campaignId}/results': {
      fileName: 'results.csv',
      content: Buffer.from('指标代码,得分,排名\nkbqy,90,1\n').toString('base64'),
    },
    'post /api/campaigns/{campaignId}/assessment/adjustments': {
      unit: 'swj',
      points: 1.5,
      reason: '接口测试：加分',
    },
    'post /api/campaigns/{campaignId}/sample': { seed: 'fuzz' },
    'post /api/campaigns/{campaignId}/records/{code}/sample': { seed: 'fuzz', count: 2 },
    'post /api/campaigns/{campaignId}/visits/{code}': {
      kind: 'site-visit',
      date: formatIsoOffset(Date.now(), TZ).slice(0, 10),
      place: '县政务服务中心',
      outcome: 'confirmed',
    },
  };
  // Verification works on ns (still in verification), rectification on kbqy.
  const codeFor = (path: string) =>
    /\/(verification|records|visits)\//.test(path) ? 'ns' : 'kbqy';
  let operations = 0;
  for (const [path, ops] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(ops)) {
      operations++;
      for (const p of op.parameters) {
        const example = p.name === 'code' ? codeFor(path) : examples[p.name];
        if (example) p.schema = { ...p.schema, examples: [example] };
      }
      const body = bodies[`${method} ${path}`];
      const media = op.requestBody?.content['application/json'];
      if (body && media) media.schema = { ...media.schema, examples: [body] };
    }
  const schemaFile = join(out, 'openapi.json');
  writeFileSync(schemaFile, JSON.stringify(doc, null, 2));

  // Hostile text (scripts/lib/fuzz-targets.ts: lone surrogates, NUL, controls, over-long) put
  // into one string field of each action's valid body, sent as raw JSON (a lone surrogate as
  // its escape, as a client sends it) to the API and to the page's form address: every answer
  // must be 400 naming the field, none a server error, none accepted. Before schemathesis, whose
  // coordinator run may revoke the clerk's account.
  const textCases = fc.sample(
    fc.record({
      // Bad whatever the field's bound: the portal bounds a body's strings at 20,000.
      hostile: hostileText.filter((h) => textFault(h.text, 20_000) !== null),
      op: fc.nat(),
      field: fc.nat(),
      page: fc.boolean(),
    }),
    { seed: 2026, numRuns: Math.max(50, maxExamples * 4) },
  );
  const stringFields = (v: unknown, at: (string | number)[] = []): (string | number)[][] =>
    typeof v === 'string'
      ? [at]
      : v && typeof v === 'object'
        ? Object.entries(v).flatMap(([k, x]) =>
            stringFields(x, [...at, Array.isArray(v) ? Number(k) : k]),
          )
        : [];
  const actions = Object.entries(bodies)
    .map(([key, body]) => ({ path: key.split(' ')[1]!, body }))
    .filter((a) => stringFields(a.body).length);
  const textStatuses = new Map<number, number>();
  const textFailures: string[] = [];
  for (const c of textCases) {
    const a = actions[c.op % actions.length]!;
    const fields = stringFields(a.body);
    const at = fields[c.field % fields.length]!;
    const body = structuredClone(a.body) as Record<string | number, unknown>;
    let parent = body;
    for (const k of at.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
    parent[at[at.length - 1]!] = c.hostile.text;
    const url = a.path
      .replace('{taskId}', encodeURIComponent(taskId))
      .replace('{campaignId}', id)
      .replace('{code}', codeFor(a.path));
    // A task's action also has its page's form address, which answers with a page.
    const page = c.page && url.startsWith('/api/tasks/');
    const who = url.includes('/verification/')
      ? evaluator
      : url.includes('/measures') || url.includes('/invitations')
        ? coordinator
        : clerk;
    const r = await call(who, page ? url.slice(4) : url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    textStatuses.set(r.status, (textStatuses.get(r.status) ?? 0) + 1);
    const text = await r.text();
    const field = at
      .map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`))
      .join('')
      .slice(1);
    if (r.status !== 400 || !text.includes(`“${field}”`))
      textFailures.push(
        `${page ? 'page' : 'api'} ${url} ${field}: ${r.status} ${text.slice(0, 160).replace(/\s+/g, ' ')}`,
      );
  }
  console.log(
    `\nfuzz: hostile text: ${textCases.length} requests; statuses ${[...textStatuses]
      .sort(([x], [y]) => x - y)
      .map(([st, n]) => `${st}×${n}`)
      .join(', ')}; ${textFailures.length} not refused with the field named`,
  );
  for (const f of textFailures.slice(0, 20)) console.log(`  failed: ${f}`);

  // Each person fuzzes the operations of their work: the clerk their unit's tasks and the
  // rectification's step, the evaluator the verification, the bureau's coordinator the review,
  // the boards, accounts, tokens and measures. The coordinator comes last: its run may revoke
  // accounts, the clerk's among them.
  const runs = [
    { who: clerk, tags: ['session', 'tasks', 'actions', 'evidence', 'rectification'] },
    { who: evaluator, tags: ['session', 'verification', 'boards', 'evaluator'] },
    {
      who: coordinator,
      tags: ['tasks', 'actions', 'boards', 'accounts', 'tokens', 'rectification', 'verification'],
    },
    // The bureau's steering last: it may close phases and cancel the campaign.
    { who: coordinator, tags: ['bureau', 'evaluator'] },
  ];
  const perOperation = new Map<string, Map<number, number>>();
  const failures: string[] = [];
  let requests = 0;
  let exit = 0;
  for (const [i, run0] of runs.entries()) {
    const who = run0.who;
    const tags = onlyTags ? run0.tags.filter((t) => onlyTags.includes(t)) : run0.tags;
    if (!tags.length) continue;
    const report = join(out, `report-${i}-${who.person}.ndjson`);
    console.log(`\nfuzz: as ${who.person}: tags ${tags.join(', ')}`);
    // Not spawnSync: the portal answers from this very process, whose event loop must run.
    const r = await run(st, [
      'run',
      schemaFile,
      '--url',
      portal.url,
      '--checks',
      'not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance',
      '--include-tag-regex',
      `^(${tags.join('|')})$`,
      '--max-examples',
      String(maxExamples),
      '--seed',
      String(2026 + i),
      '--generation-database',
      'none',
      // One worker: schemathesis's threads trip a CPython 3.11 AST race ("recursion depth
      // mismatch") that ends a scenario with a runtime error instead of a result.
      '--workers',
      '1',
      '--generation-with-security-parameters',
      'false',
      '--header',
      `Cookie: portal_session=${who.session}`,
      '--header',
      `X-CSRF-Token: ${who.csrfToken}`,
      '--request-timeout',
      '30',
      '--report',
      'ndjson',
      '--report-ndjson-path',
      report,
      '--no-color',
    ]);
    if (r.status !== 0) exit = r.status ?? 1;
    // What was sent and what came back, from schemathesis's own event log.
    for (const line of readFileSync(report, 'utf8').split('\n')) {
      if (!line.startsWith('{"ScenarioFinished"')) continue;
      const ev = JSON.parse(line).ScenarioFinished as {
        recorder: {
          label: string;
          interactions: Record<string, { response?: { status_code: number } }>;
          checks: Record<string, { name: string; status: string }[]>;
        };
      };
      const label = ev.recorder.label;
      const statuses = perOperation.get(label) ?? new Map<number, number>();
      perOperation.set(label, statuses);
      for (const it of Object.values(ev.recorder.interactions ?? {})) {
        if (!it.response) continue;
        requests++;
        const s = it.response.status_code;
        statuses.set(s, (statuses.get(s) ?? 0) + 1);
      }
      for (const checks of Object.values(ev.recorder.checks ?? {}))
        for (const c of checks)
          if (c.status === 'failure') failures.push(`${who.person} ${label}: ${c.name}`);
    }
  }
  const all = new Map<number, number>();
  for (const statuses of perOperation.values())
    for (const [s, c] of statuses) all.set(s, (all.get(s) ?? 0) + c);
  const serverErrors = [...all].filter(([s]) => s >= 500).reduce((n, [, c]) => n + c, 0);
  const reached = [...perOperation].filter(([, m]) => [...m.keys()].some((s) => s < 300));
  const labels = [...perOperation.keys()].filter((l) => /^(GET|POST) /.test(l));
  console.log(`\nfuzz: per operation (statuses):`);
  for (const [label, m] of [...perOperation].sort(([a], [b]) => a.localeCompare(b)))
    console.log(
      `  ${label}: ${[...m]
        .sort(([a], [b]) => a - b)
        .map(([s, c]) => `${s}×${c}`)
        .join(', ')}`,
    );
  console.log(
    `\nfuzz: schemathesis ${SCHEMATHESIS}: ${requests} requests; ${labels.length} of ${operations} operations covered, ${reached.length} answered 2xx/3xx; ${serverErrors} server errors; ${failures.length} conformance failures; statuses ${[
      ...all,
    ]
      .sort(([a], [b]) => a - b)
      .map(([s, c]) => `${s}×${c}`)
      .join(', ')}; exit ${exit}`,
  );
  for (const f of [...new Set(failures)]) console.log(`  failed: ${f}`);
  code =
    exit === 0 && serverErrors === 0 && failures.length === 0 && textFailures.length === 0 ? 0 : 1;
} finally {
  await portal.close();
  await harness.close();
}
process.exit(code);
