// `npm run demo`: the product's main job on its embedded defaults, from a fresh clone.
// Builds what is missing, starts the local services and a worker, checks the whole chain, then
// validates the realistic example campaign and prints its working-day schedule. The worker
// keeps running until Ctrl-C (or exits at once with --once).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { config } from '../worker/config.ts';
import { REPO_ROOT } from './lib/tools.ts';

const once = process.argv.includes('--once');
const example = join('examples', 'county-2026.yaml');
const tsx = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const campaign = join(REPO_ROOT, 'bin', 'campaign.mjs');

function run(label: string, cmd: string, args: string[]): void {
  console.log(`\n━━ ${label}`);
  const r = spawnSync(cmd, args, { cwd: REPO_ROOT, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`demo: "${label}" failed (exit ${r.status}); see above.`);
    process.exit(r.status ?? 1);
  }
}

run('Local services: Temporal dev server + PostgreSQL', tsx, [
  join('scripts', 'services.ts'),
  'start',
]);

console.log('\n━━ Worker');
const worker: ChildProcess = spawn(tsx, [join('worker', 'main.ts')], {
  cwd: REPO_ROOT,
  stdio: ['ignore', 'inherit', 'pipe'],
});
await new Promise<void>((resolve, reject) => {
  let buf = '';
  worker.stderr?.on('data', (d: Buffer) => {
    const text = d.toString();
    process.stderr.write(
      text
        .split('\n')
        .filter((l) => l.startsWith('worker:'))
        .map((l) => `${l}\n`)
        .join(''),
    );
    buf += text;
    if (buf.includes('worker: polling')) resolve();
  });
  worker.once('exit', (code) =>
    reject(new Error(`the worker exited (code ${code}) before it was ready`)),
  );
});

const stopWorker = () =>
  new Promise<void>((resolve) => {
    if (worker.exitCode !== null) return resolve();
    worker.once('exit', () => resolve());
    worker.kill('SIGINT');
  });

try {
  run('System check (timer + activity + PostgreSQL)', process.execPath, [campaign, 'doctor']);
  run(`Validate ${example}`, process.execPath, [campaign, 'validate', example]);
  run(`Working-day schedule of ${example}`, process.execPath, [campaign, 'schedule', example]);
} catch (e) {
  await stopWorker();
  throw e;
}

console.log(
  `\nTemporal Web UI: http://localhost:${config().temporalUiPort}  (the system-check workflow is listed there)`,
);
if (once) {
  await stopWorker();
  console.log('Worker stopped. Services keep running; stop them with `npm run services:stop`.');
} else {
  console.log(
    'The worker keeps running: Ctrl-C stops it. Stop the services with `npm run services:stop`.',
  );
  process.on('SIGINT', () => void stopWorker().then(() => process.exit(0)));
  process.on('SIGTERM', () => void stopWorker().then(() => process.exit(0)));
  await new Promise<void>((resolve) => worker.once('exit', () => resolve()));
}
