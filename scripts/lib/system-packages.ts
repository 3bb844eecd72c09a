// The Debian packages some tests need, found before any test runs: installed with apt-get when
// we may (root, or sudo without a password), otherwise named in one message with the command
// that installs them, so that a missing program stops the run in its first seconds instead of
// failing a dozen tests.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { which } from './tools.ts';

export interface SystemNeed {
  /** What it is for, for the message. */
  why: string;
  /** A command on PATH, or an absolute path (a font file) whose existence proves the package. */
  probe: string;
  /** The Debian package that provides it. */
  pkg: string;
}

export const TEST_SYSTEM_NEEDS: SystemNeed[] = [
  { why: 'validates the deployment file', probe: 'docker-compose', pkg: 'docker-compose' },
  { why: 'drives the browser tests', probe: 'chromium', pkg: 'chromium' },
  {
    why: 'lets browser screenshots show Chinese',
    probe: '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc',
    pkg: 'fonts-noto-cjk',
  },
  {
    why: 'opens the CSV ledger in a real spreadsheet program',
    probe: 'soffice',
    pkg: 'libreoffice-calc-nogui',
  },
  {
    why: 'turns the workbook template LibreOffice printed into text and a picture',
    probe: 'pdftotext',
    pkg: 'poppler-utils',
  },
  {
    why: "copies the Temporal dev server's SQLite file in `npm run backup` (online backup API)",
    probe: 'sqlite3',
    pkg: 'sqlite3',
  },
];

export const present = (probe: string): boolean =>
  probe.startsWith('/') ? existsSync(probe) : which(probe) !== undefined;

export function missingNeeds(needs: SystemNeed[], isPresent = present): SystemNeed[] {
  return needs.filter((n) => !isPresent(n.probe));
}

export function installCommand(missing: SystemNeed[]): string {
  return `apt-get update && apt-get install -y --no-install-recommends ${missing.map((n) => n.pkg).join(' ')}`;
}

export function missingMessage(missing: SystemNeed[]): string {
  return [
    `The tests need ${missing.length === 1 ? 'a Debian package' : 'Debian packages'} that this machine lacks:`,
    ...missing.map((n) => `  - ${n.pkg} (${n.why}; looked for ${n.probe})`),
    `Install ${missing.length === 1 ? 'it' : 'them'} as root and run the tests again:`,
    `  ${installCommand(missing)}`,
  ].join('\n');
}

/**
 * Makes sure every need is met: returns null when it is (installing with apt-get where allowed),
 * or the message that names what is missing and how to install it.
 */
export function ensureSystemNeeds(
  needs: SystemNeed[],
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): string | null {
  const missing = missingNeeds(needs);
  if (missing.length === 0) return null;
  const root = process.getuid?.() === 0;
  const sudo = !root && which('sudo') !== undefined ? ['sudo', '-n'] : null;
  if (!which('apt-get') || (!root && !sudo)) return missingMessage(missing);
  const prefix = root ? [] : sudo!;
  const pkgs = missing.map((n) => n.pkg);
  log(`Installing Debian packages the tests need: ${pkgs.join(', ')}`);
  const run = (args: string[]) => {
    const [cmd, ...rest] = [...prefix, ...args] as [string, ...string[]];
    return spawnSync(cmd, rest, {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    }).status;
  };
  const install = ['apt-get', 'install', '-y', '-q', '--no-install-recommends', ...pkgs];
  // Fast when the package lists are there; refresh them only when that fails.
  if (run(install) !== 0) {
    run(['apt-get', 'update', '-q']);
    run(install);
  }
  const still = missingNeeds(needs);
  return still.length ? missingMessage(still) : null;
}
