// The compiled `campaign` command: client/cli.ts and what it imports (client/, domain/, db/,
// worker/config.ts, ...) bundled by esbuild into dist/cli/, one chunk per command module, so that
// a command loads only its own code and packages (node_modules stay external, resolved by Node
// at run time). Built by `npm ci` (the `prepare` script) and by `npm run build`; bin/campaign.mjs
// checks on every start that the build is current and rebuilds it when a source has changed.
//
// Plain JavaScript on purpose: this runs before anything TypeScript can be loaded quickly.
import {
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ENTRY = 'client/cli.ts';
const DIST = join(REPO_ROOT, 'dist', 'cli');
const MANIFEST = join(DIST, 'manifest.json');
const FORMAT = 1;
/** Files that decide the build besides the sources esbuild reports: the builder, the packages. */
const BUILD_FILES = ['bin/cli-build.mjs', 'package.json', 'tsconfig.json'];
/**
 * Sources that may use import.meta.url in the bundle: it then names the chunk in dist/cli/…,
 * which is fine for createRequire of a package and wrong for a path of the repository (such as
 * db/migrate.ts's migrations folder), so anything else that uses it fails the build.
 */
const IMPORT_META_ALLOWED = new Set(['domain/calendar-data.ts', 'client/output.ts']);
/** Earlier builds are removed once they are this old (a command started from one is done). */
const KEEP_OLD_MS = 10 * 60_000;

/** esbuild's options: ES modules for Node 20, packages left to Node, a chunk per lazy import. */
function options(outdir) {
  return {
    absWorkingDir: REPO_ROOT,
    entryPoints: [ENTRY],
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    metafile: true,
    logLevel: 'silent',
    legalComments: 'none',
    banner: { js: '// Compiled by bin/cli-build.mjs from the TypeScript sources; do not edit.' },
  };
}

/**
 * @typedef {{ format: number, dir: string, entry: string, builtAt: string,
 *   inputs: Record<string, [number, number]> }} Manifest
 */

/** @returns {Manifest | undefined} */
function readManifest() {
  try {
    const m = JSON.parse(readFileSync(MANIFEST, 'utf8'));
    return m && m.format === FORMAT ? m : undefined;
  } catch {
    return undefined;
  }
}

/** [mtime, size] of a repository file, or undefined when it is missing. */
function fingerprint(path) {
  const s = statSync(join(REPO_ROOT, path), { throwIfNoEntry: false });
  return s ? [s.mtimeMs, s.size] : undefined;
}

/**
 * The compiled entry's file URL when the build in dist/cli is current: every file it was built
 * from still has the modification time and size it had then. Otherwise undefined.
 */
export function currentBuild() {
  const m = readManifest();
  if (!m) return undefined;
  for (const [path, [mtime, size]] of Object.entries(m.inputs)) {
    const f = fingerprint(path);
    if (!f || f[0] !== mtime || f[1] !== size) return undefined;
  }
  return pathToFileURL(join(DIST, m.dir, m.entry)).href;
}

/**
 * Compiles the CLI into a fresh folder of dist/cli and then points the manifest at it (an atomic
 * rename), so that commands starting meanwhile, or a second build at the same time, always see
 * a whole build. Returns the compiled entry's file URL.
 */
export async function buildCli() {
  const { build } = await import('esbuild');
  mkdirSync(DIST, { recursive: true });
  const dir = `build-${Date.now().toString(36)}-${process.pid}`;
  const outdir = join(DIST, dir);
  // Fingerprints are taken before reading the sources: a file changed during the build then
  // looks stale next time rather than current.
  const before = Object.fromEntries(BUILD_FILES.map((f) => [f, fingerprint(f)]));
  const result = await build(options(outdir)).catch((e) => {
    rmSync(outdir, { recursive: true, force: true });
    // esbuild's own message starts "Build failed with N errors:"; name the first one.
    const first = e?.errors?.[0];
    if (!first) throw e;
    const at = first.location
      ? `${first.location.file}:${first.location.line}:${first.location.column + 1}: `
      : '';
    throw new Error(`${at}${first.text}`);
  });
  const sources = Object.keys(result.metafile.inputs).filter((p) => !p.startsWith('node_modules/'));
  const misplaced = sources.filter(
    (p) =>
      !IMPORT_META_ALLOWED.has(p) &&
      readFileSync(join(REPO_ROOT, p), 'utf8').includes('import.meta'),
  );
  if (misplaced.length) {
    rmSync(outdir, { recursive: true, force: true });
    throw new Error(
      `the CLI cannot be compiled: ${misplaced.join(', ')} use${misplaced.length === 1 ? 's' : ''} import.meta, which would point into dist/ (move that code out of the CLI's imports, or allow it in bin/cli-build.mjs)`,
    );
  }
  /** @type {Record<string, [number, number]>} */
  const inputs = {};
  for (const [f, fp] of Object.entries(before)) if (fp) inputs[f] = fp;
  for (const p of sources) {
    const fp = fingerprint(p);
    if (fp) inputs[p] = fp;
  }
  /** @type {Manifest} */
  const manifest = {
    format: FORMAT,
    dir,
    entry: 'cli.mjs',
    builtAt: new Date().toISOString(),
    inputs,
  };
  const tmp = `${MANIFEST}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(manifest, null, 1)}\n`);
  renameSync(tmp, MANIFEST);
  removeOldBuilds(dir);
  return pathToFileURL(join(outdir, 'cli.mjs')).href;
}

function removeOldBuilds(keep) {
  const now = Date.now();
  for (const name of readdirSync(DIST)) {
    if (name === keep || !name.startsWith('build-')) continue;
    const path = join(DIST, name);
    const s = statSync(path, { throwIfNoEntry: false });
    if (s && now - s.mtimeMs > KEEP_OLD_MS) rmSync(path, { recursive: true, force: true });
  }
}

/** The current build, built first when it is missing or stale. */
export async function ensureCliBuild() {
  return currentBuild() ?? (await buildCli());
}

// `node bin/cli-build.mjs`: build now (`npm run build`, and `npm ci` through `prepare`).
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const missing = statSync(join(REPO_ROOT, ENTRY), { throwIfNoEntry: false }) === undefined;
  if (missing) {
    // The Docker image installs its packages before the sources are copied in; it builds later.
    console.error(`cli-build: ${ENTRY} is not here yet; nothing to compile`);
  } else {
    const started = performance.now();
    try {
      const url = await buildCli();
      console.error(
        `cli-build: compiled the campaign command into ${relative(REPO_ROOT, fileURLToPath(url))} in ${Math.round(performance.now() - started)} ms`,
      );
    } catch (e) {
      console.error(`cli-build: ${e instanceof Error ? e.message : String(e)}`);
      process.exitCode = 1;
    }
  }
}
