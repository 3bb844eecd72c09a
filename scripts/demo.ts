// `npm run demo`: the product at work on its embedded defaults, from a fresh clone.
//
// Builds what is missing and starts the local services (Temporal dev server with its Web UI,
// embedded PostgreSQL), starts a worker, starts the quick example campaign under a fresh id,
// paced to run in about ten minutes, and lets simulated departments work through it
// on the command line: most on time, 住建局 late until its head is chased, one questionnaire
// returned, evidence asked for and verified, results that send 开办企业 into rectification,
// one measure rejected and reopened, every measure closed. Once each, as well: 市场监管局's
// business records (办件台账) uploaded, sampled, asked for and verified (one confirmed, one
// discrepant); the sampled enterprises' questionnaire followed (answers imported and marked, the
// response rates, the 协助企业填报 task) and a site visit; a highlight returned once and
// selected, a typical case, a publicity item; an assessment adjustment. At the end it prints the
// ledger, the units' assessment, the highlights and the day's dispatch digest. A live board shows
// where things stand. The department portal runs beside it, and the demo prints ready invitations for a
// clerk of 市场监管局 and the bureau's coordinator, so that a person can sign in and look.
// Ctrl-C stops the departments, the portal, the worker and the services it started, cleanly.
//
//   npm run demo                 live board until Ctrl-C (the campaign closes in ~10 min)
//   npm run demo -- --once       plain log, exits when the campaign has closed
//   npm run demo -- --pace 20    faster (the quick example's times divided by 20; default 10)
import { spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createPool } from '../db/pool.ts';
import { loadDefinitionFile } from '../client/definition-file.ts';
import { readBoard, renderBoard } from '../client/commands/board.ts';
import { readPortalConfig } from '../portal/config.ts';
import { config } from '../worker/config.ts';
import { spawnGuarded } from './lib/guard.ts';
import { runCampaignCli } from './lib/run-node.ts';
import { SimulatedDepartments } from './lib/simulated-departments.ts';
import { REPO_ROOT } from './lib/tools.ts';

const argv = process.argv.slice(2);
const once = argv.includes('--once') || !process.stdout.isTTY;
const paceArg = argv.indexOf('--pace');
const pace = paceArg >= 0 ? Number(argv[paceArg + 1]) : 10;
if (!(pace >= 1 && pace <= 60)) {
  console.error(`demo: --pace must be a number from 1 to 60, got ${argv[paceArg + 1]}`);
  process.exit(2);
}
const example = join('examples', 'quick-demo.yaml');
const tsx = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const logDir = join(REPO_ROOT, '.data', 'demo');
mkdirSync(logDir, { recursive: true });
const began = Date.now();
const elapsed = () => {
  const s = Math.round((Date.now() - began) / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};
const say = (line: string) => console.log(`[${elapsed()}] ${line}`);
const pool = createPool(config().databaseUrl);
const live: { simulation?: SimulatedDepartments } = {};

function services(cmd: 'start' | 'stop' | 'status'): { code: number; stdout: string } {
  const r = spawnSync(tsx, [join('scripts', 'services.ts'), cmd, '--json'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  return { code: r.status ?? 1, stdout: r.stdout };
}

// 1. Services: leave alone what was already running; stop at the end what the demo started.
const before = JSON.parse(services('status').stdout || '[]') as { running: boolean }[];
const servicesWereRunning = before.length > 0 && before.every((s) => s.running);
say('Starting the local services (the first run builds the Temporal CLI: a few minutes)…');
const started = services('start');
process.stdout.write(started.stdout);
if (started.code !== 0) {
  console.error('demo: the local services did not start; see above.');
  process.exit(started.code);
}

// 2. A worker; its own log goes to a file so the board stays readable.
const workerLog = join(logDir, 'worker.log');
const workerOut = createWriteStream(workerLog, { flags: 'a' });
// In a process group of its own, so that Ctrl-C on the terminal reaches only the demo, which
// then asks the worker once (SIGTERM) to finish its work and stop; a second signal would make
// the worker stop at once.
// Guarded (scripts/lib/guard.ts): the worker and the portal end with the demo however it ends;
// the services it started stay for the user, as services:start leaves them.
const worker: ChildProcess = spawnGuarded(tsx, [join('worker', 'main.ts')], {
  cwd: REPO_ROOT,
  stdio: ['ignore', 'pipe', 'pipe'],
});
/** Set once the demo stops; declared before the first await that may stop it. */
let shuttingDown = false;
process.on('exit', () => {
  if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGTERM');
});
worker.stdout?.pipe(workerOut);
await new Promise<void>((resolve, reject) => {
  let buf = '';
  worker.stderr?.on('data', (d: Buffer) => {
    workerOut.write(d);
    buf += d.toString();
    if (buf.includes('worker: polling')) resolve();
  });
  worker.once('exit', (code) =>
    reject(new Error(`the worker exited (code ${code}) before it was ready; see ${workerLog}`)),
  );
}).catch(async (e: Error) => {
  console.error(`demo: ${e.message}`);
  await shutdown(1);
});
say(`Worker polling (log: ${workerLog})`);

// 2b. The department portal, in its own process group like the worker.
const portalCfg = readPortalConfig();
const portalLog = join(logDir, 'portal.log');
const portalOut = createWriteStream(portalLog, { flags: 'a' });
const portal: ChildProcess = spawnGuarded(tsx, [join('portal', 'main.ts')], {
  cwd: REPO_ROOT,
  stdio: ['ignore', 'pipe', 'pipe'],
});
process.on('exit', () => {
  if (portal.exitCode === null && portal.signalCode === null) portal.kill('SIGTERM');
});
portal.stderr?.pipe(portalOut);
await new Promise<void>((resolve, reject) => {
  let buf = '';
  portal.stdout?.on('data', (d: Buffer) => {
    portalOut.write(d);
    buf += d.toString();
    if (buf.includes('portal: listening')) resolve();
  });
  portal.once('exit', (code) =>
    reject(new Error(`the portal exited (code ${code}) before it listened; see ${portalLog}`)),
  );
}).catch(async (e: Error) => {
  console.error(`demo: ${e.message}`);
  await shutdown(1);
});
say(`Portal listening on ${portalCfg.publicUrl} (log: ${portalLog})`);

/** Asks a child process to stop (SIGTERM) and waits until it has. */
function stopChild(child: ChildProcess | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function shutdown(code: number): Promise<never> {
  if (shuttingDown) return new Promise<never>(() => {});
  shuttingDown = true;
  live.simulation?.stop();
  await stopChild(portal);
  say('Stopping: the worker finishes what it is doing…');
  await new Promise<void>((resolve) => {
    if (worker.exitCode !== null || worker.signalCode !== null) return resolve();
    worker.once('exit', () => resolve());
    worker.kill('SIGTERM');
  });
  say('Worker stopped.');
  await pool.end().catch(() => {});
  if (!servicesWereRunning) {
    process.stdout.write(services('stop').stdout);
    say('Services stopped. The campaign is kept: `npm run services:start` brings it back.');
  } else {
    say('The services were running before the demo and keep running.');
  }
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

// 3. The campaign, under a fresh id each run.
const stamp = new Date()
  .toISOString()
  .replace(/[-:T]/g, '')
  .slice(2, 14)
  .replace(/(\d{6})(\d{6})/, '$1-$2');
const campaignId = `demo-${stamp}`;
const start = await runCampaignCli([
  'start',
  example,
  '--id',
  campaignId,
  '--begin',
  'now',
  '--pace',
  String(pace),
  '--as',
  'spj-coord',
]);
process.stdout.write(start.stdout);
if (start.code !== 0) {
  process.stderr.write(start.stderr);
  await shutdown(1);
}
const ui = `http://localhost:${config().temporalUiPort}`;
const uiList = `${ui}/namespaces/${config().temporalNamespace}/workflows?query=${encodeURIComponent(`CampaignId="${campaignId}"`)}`;
say(`Campaign ${campaignId} started at ${pace}× pace. Temporal UI: ${uiList}`);

// 3b. Ready invitations to the portal, once the campaign has recorded its roster.
for (let i = 0; i < 120; i++) {
  const r = await pool.query('SELECT 1 FROM people WHERE campaign_id = $1', [campaignId]);
  if (r.rowCount) break;
  await new Promise((r) => setTimeout(r, 500));
}
const invitations: string[] = [];
for (const [person, who] of [
  ['scjgj-staff1', '市场监管局填报员 刘填报员 (a clerk)'],
  ['spj-coord', '审批局协调人 吴股长 (the coordinator)'],
] as const) {
  const r = await runCampaignCli([
    'accounts',
    'invite',
    campaignId,
    '--person',
    person,
    '--as',
    'spj-coord',
    '--json',
  ]);
  const link =
    r.code === 0 ? r.json<{ invitations: { link: string }[] }>().invitations[0]?.link : undefined;
  invitations.push(link ? `  ${who}: ${link}` : `  ${who}: ${r.stderr.trim()}`);
}
const portalLines = [
  `门户 Portal: ${portalCfg.publicUrl} — 邀请链接（一次有效）ready invitations:`,
  ...invitations,
];
for (const line of portalLines) say(line);

// 4. Simulated departments and the live board.
const loaded = await loadDefinitionFile(example);
const recent: string[] = [];
const simulation = (live.simulation = new SimulatedDepartments({
  campaignId,
  definition: loaded.definition!,
  pool,
  tour: true,
  log: (line) => {
    const stamped = `[${elapsed()}] ${line}`;
    recent.push(stamped);
    if (recent.length > 12) recent.shift();
    if (once) console.log(stamped);
  },
}));
const simulated = simulation.run();

async function drawBoard(): Promise<void> {
  const board = await readBoard(pool, campaignId).catch(() => null);
  if (!board) return;
  const lines = [
    renderBoard(board, 'zh'),
    `Temporal UI: ${uiList}`,
    `已用时 ${elapsed()}；模拟部门已执行命令 ${simulation.counts.commands} 条（被拒 ${simulation.counts.refused}）`,
    ...portalLines,
    '',
    ...recent,
    '',
    'Ctrl-C 停止演示（worker 与本次启动的服务一并停止）',
  ];
  if (once) console.log(`\n${lines.slice(0, 3).join('\n')}\n`);
  else process.stdout.write(`\x1b[2J\x1b[H${lines.join('\n')}\n`);
}

const boardTimer = setInterval(() => void drawBoard(), once ? 30_000 : 2_000);
await simulated;
clearInterval(boardTimer);
await drawBoard();

// 5. The ledger of the rectification, and where to look next.
const ledger = join(REPO_ROOT, '.artifacts', 'demo', `ledger-${campaignId}.xlsx`);
mkdirSync(join(REPO_ROOT, '.artifacts', 'demo'), { recursive: true });
const table = await runCampaignCli(['report', 'ledger', campaignId]);
process.stdout.write(table.stdout);
await runCampaignCli(['report', 'ledger', campaignId, '--format', 'xlsx', '--out', ledger]);
// The units' assessment, the highlights and publicity, and today's dispatch digest (which counts
// the publicity per department).
for (const args of [
  ['report', 'assessment', campaignId],
  ['report', 'highlights', campaignId],
  ['report', 'dispatch', campaignId],
]) {
  say(`campaign ${args.join(' ')}`);
  const r = await runCampaignCli(args);
  process.stdout.write(r.stdout);
  if (r.code !== 0) process.stderr.write(r.stderr);
}
say(`The campaign has closed in ${elapsed()}. Ledger (整改台账): ${ledger}`);
say(`Every task, reminder and escalation is in the Temporal UI: ${uiList}`);
for (const line of portalLines) say(line);
if (once) await shutdown(0);
say(
  'The portal, the worker and the services keep running so you can look around; Ctrl-C stops everything.',
);
await new Promise<void>(() => {});
