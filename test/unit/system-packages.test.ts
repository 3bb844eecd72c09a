import { describe, expect, it } from 'vitest';
import {
  installCommand,
  missingMessage,
  missingNeeds,
  TEST_SYSTEM_NEEDS,
} from '../../scripts/lib/system-packages.ts';

describe('the Debian packages the tests need', () => {
  it('are chromium, the CJK fonts, docker-compose, LibreOffice Calc, the PDF tools and sqlite3', () => {
    expect(TEST_SYSTEM_NEEDS.map((n) => n.pkg).sort()).toEqual([
      'chromium',
      'docker-compose',
      'fonts-noto-cjk',
      'libreoffice-calc-nogui',
      'poppler-utils',
      'sqlite3',
    ]);
  });

  it('are found missing by their command or file, and only those', () => {
    const missing = missingNeeds(TEST_SYSTEM_NEEDS, (probe) => probe === 'docker-compose');
    expect(missing.map((n) => n.pkg)).toEqual([
      'chromium',
      'fonts-noto-cjk',
      'libreoffice-calc-nogui',
      'poppler-utils',
      'sqlite3',
    ]);
    expect(missingNeeds(TEST_SYSTEM_NEEDS, () => true)).toEqual([]);
  });

  it('when missing, are named in one message with the command that installs them', () => {
    const missing = missingNeeds(TEST_SYSTEM_NEEDS, () => false);
    const msg = missingMessage(missing);
    for (const n of TEST_SYSTEM_NEEDS) {
      expect(msg).toContain(n.pkg);
      expect(msg).toContain(n.probe);
    }
    expect(msg).toContain(installCommand(missing));
    expect(installCommand(missing)).toBe(
      'apt-get update && apt-get install -y --no-install-recommends docker-compose chromium fonts-noto-cjk libreoffice-calc-nogui poppler-utils sqlite3',
    );
  });
});
