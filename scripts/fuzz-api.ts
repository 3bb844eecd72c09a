// `npm run fuzz:api`: the portal's API fuzzed from its own OpenAPI document with schemathesis
// (from PyPI, installed once into a virtualenv in the project's cache). Starts its own servers
// (the Temporal dev server, a throw-away PostgreSQL, a worker, the portal on 127.0.0.1), a
// campaign with a questionnaire task and evidence, signs a clerk in, puts the real ids into the
// document's parameter examples, and runs schemathesis with the checks that every response is
// as documented and none is a server error. Prints the figures; exits non-zero on any failure.
//
//   npm run fuzz:api                     about 1,500 requests
//   npm run fuzz:api -- --examples 100   more cases per operation
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { formatIsoOffset } from '../domain/time.ts';
import { startPortal, withCampaignId } from '../test/helpers/portal.ts';
import { startHarness } from '../test/helpers/temporal.ts';
import { runCampaignCli } from './lib/run-node.ts';
import { cacheRoot, REPO_ROOT } from './lib/tools.ts';

const SCHEMATHESIS = '4.32.5';
const argv = process.argv.slice(2);
const examplesArg = argv.indexOf('--examples');
const maxExamples = examplesArg >= 0 ? Number(argv[examplesArg + 1]) : 60;

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
  const file = join(out, 'campaign.yaml');
  writeFileSync(
    file,
    withCampaignId(readFileSync(join(REPO_ROOT, 'examples', 'quick-demo.yaml'), 'utf8'), id),
  );
  await cli('start', file, '--begin', 'now', '--as', 'spj-coord');
  for (let i = 0; i < 240; i++) {
    if ((await harness.db.pool.query('SELECT 1 FROM people WHERE campaign_id = $1', [id])).rowCount)
      break;
    await sleep(250);
  }
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
    formatIsoOffset(Date.now() + 3 * 86_400_000, 'Asia/Shanghai').slice(0, 19),
  );
  const taskId = created.json<{ taskId: string }>().taskId;
  for (let i = 0; i < 240; i++) {
    if ((await harness.db.pool.query('SELECT 1 FROM tasks WHERE task_id = $1', [taskId])).rowCount)
      break;
    await sleep(250);
  }
  // The clerk's account and session, as a program gets them.
  const invite = await cli(
    'accounts',
    'invite',
    id,
    '--person',
    'scjgj-staff1',
    '--as',
    'spj-coord',
    '--json',
  );
  const link = invite.json<{ invitations: { link: string }[] }>().invitations[0]!.link;
  const page = await fetch(link);
  const pre = /portal_pre=([^;]+)/.exec(page.headers.get('set-cookie') ?? '')![1]!;
  const form = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!;
  const password = 'fuzzing password 2026';
  await fetch(link, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `portal_pre=${pre}` },
    body: new URLSearchParams({ _csrf: form, password, confirm: password }).toString(),
  });
  const signed = await fetch(`${portal.url}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ personId: 'scjgj-staff1', password }),
  });
  const session = /portal_session=([^;]+)/.exec(signed.headers.get('set-cookie') ?? '')![1]!;
  const { csrfToken } = (await signed.json()) as { csrfToken: string };
  // One evidence file, so that the download has a real id to find.
  const upload = new FormData();
  upload.append('files', new Blob([Buffer.from('%PDF-1.4\n%%EOF\n')]), '政策文件.pdf');
  const stored = (await (
    await fetch(`${portal.url}/api/tasks/${encodeURIComponent(taskId)}/evidence`, {
      method: 'POST',
      headers: { cookie: `portal_session=${session}`, 'x-csrf-token': csrfToken },
      body: upload,
    })
  ).json()) as { fileId: string }[];

  // The portal's own document, with real ids as the parameters' examples.
  const doc = (await (await fetch(`${portal.url}/api/openapi.json`)).json()) as {
    paths: Record<
      string,
      Record<string, { parameters: { name: string; schema: Record<string, unknown> }[] }>
    >;
  };
  const examples: Record<string, string> = {
    taskId,
    campaignId: id,
    personId: 'scjgj-staff2',
    fileId: stored[0]!.fileId,
  };
  for (const ops of Object.values(doc.paths))
    for (const op of Object.values(ops))
      for (const p of op.parameters)
        if (examples[p.name]) p.schema = { ...p.schema, examples: [examples[p.name]] };
  const schemaFile = join(out, 'openapi.json');
  writeFileSync(schemaFile, JSON.stringify(doc, null, 2));

  const report = join(out, 'report.ndjson');
  // Not spawnSync: the portal answers from this very process, whose event loop must run.
  const r = await run(st, [
    'run',
    schemaFile,
    '--url',
    portal.url,
    '--checks',
    'not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance',
    '--max-examples',
    String(maxExamples),
    '--seed',
    '2026',
    '--generation-database',
    'none',
    '--workers',
    '2',
    '--generation-with-security-parameters',
    'false',
    '--header',
    `Cookie: portal_session=${session}`,
    '--header',
    `X-CSRF-Token: ${csrfToken}`,
    '--request-timeout',
    '30',
    '--report',
    'ndjson',
    '--report-ndjson-path',
    report,
    '--no-color',
  ]);
  // Count what was sent and what came back, from schemathesis's own event log.
  let requests = 0;
  const statuses = new Map<number, number>();
  for (const line of readFileSync(report, 'utf8').split('\n')) {
    if (!line.includes('"response"')) continue;
    const text = line;
    for (const m of text.matchAll(/"status_code":\s*(\d{3})/g)) {
      requests++;
      const s = Number(m[1]);
      statuses.set(s, (statuses.get(s) ?? 0) + 1);
    }
  }
  const serverErrors = [...statuses].filter(([s]) => s >= 500).reduce((n, [, c]) => n + c, 0);
  console.log(
    `\nfuzz: schemathesis ${SCHEMATHESIS}: ${requests} responses recorded, ${serverErrors} server errors; statuses ${[
      ...statuses,
    ]
      .sort(([a], [b]) => a - b)
      .map(([s, c]) => `${s}×${c}`)
      .join(', ')}; exit ${r.status}`,
  );
  code = r.status === 0 && serverErrors === 0 ? 0 : 1;
} finally {
  await portal.close();
  await harness.close();
}
process.exit(code);
