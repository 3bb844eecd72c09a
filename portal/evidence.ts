// Evidence files (印证资料): the type is decided by the content (magic bytes, and for ZIP
// containers the names inside), never by the file name or the browser's word; each content is
// stored once by its SHA-256, in PostgreSQL or under the data folder; a task's workflow history
// carries only the file's id, name, size and hash.
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type pg from 'pg';
import { withTransaction } from '../db/pool.ts';
import { Q, run } from '../db/portal.ts';
import type { PortalConfig } from './config.ts';

export interface Sniffed {
  mime: string;
  kind: string;
}

const startsWith = (b: Buffer, sig: number[], at = 0) =>
  b.length >= at + sig.length && sig.every((x, i) => b[at + i] === x);

/** Names of the entries in a ZIP's central directory (enough to tell Office and OFD apart). */
function zipEntries(b: Buffer): string[] {
  const names: string[] = [];
  for (let i = 0; i + 46 <= b.length && names.length < 2000; i++) {
    if (b[i] === 0x50 && b[i + 1] === 0x4b && b[i + 2] === 0x01 && b[i + 3] === 0x02) {
      const len = b.readUInt16LE(i + 28);
      names.push(b.subarray(i + 46, i + 46 + len).toString('utf8'));
      i += 45 + len;
    }
  }
  return names;
}

/** The type of an allowed file by its content, or null: PDF, images, Office files, OFD. */
export function sniff(b: Buffer): Sniffed | null {
  if (startsWith(b, [0x25, 0x50, 0x44, 0x46, 0x2d]))
    return { mime: 'application/pdf', kind: 'PDF' };
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
    return { mime: 'image/png', kind: 'PNG' };
  if (startsWith(b, [0xff, 0xd8, 0xff])) return { mime: 'image/jpeg', kind: 'JPEG' };
  if (startsWith(b, [0x47, 0x49, 0x46, 0x38])) return { mime: 'image/gif', kind: 'GIF' };
  if (startsWith(b, [0x52, 0x49, 0x46, 0x46]) && startsWith(b, [0x57, 0x45, 0x42, 0x50], 8))
    return { mime: 'image/webp', kind: 'WebP' };
  if (startsWith(b, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]))
    return { mime: 'application/x-ole-storage', kind: 'Office 97–2003' };
  if (startsWith(b, [0x50, 0x4b, 0x03, 0x04])) {
    const names = zipEntries(b);
    if (names.includes('OFD.xml')) return { mime: 'application/ofd', kind: 'OFD' };
    if (names.includes('[Content_Types].xml')) {
      if (names.some((n) => n.startsWith('word/')))
        return {
          mime: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
          kind: 'Word',
        };
      if (names.some((n) => n.startsWith('xl/')))
        return {
          mime: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
          kind: 'Excel',
        };
      if (names.some((n) => n.startsWith('ppt/')))
        return {
          mime: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
          kind: 'PowerPoint',
        };
    }
  }
  return null;
}

export interface EvidenceFile {
  fileId: string;
  taskId: string;
  name: string;
  sha256: string;
  size: number;
  mime: string;
  uploadedBy: string;
  uploadedAt: string;
}

/** The reference a task's history carries for a file: id, name, size and hash, nothing else. */
export function evidenceReference(
  f: Pick<EvidenceFile, 'fileId' | 'name' | 'size' | 'sha256'>,
): string {
  return `portal-evidence:${f.fileId} ${f.name} (${f.size} bytes, sha256:${f.sha256})`;
}

/** A file name safe to show and to send back: no folders, no control characters, not too long. */
export function cleanName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const clean = [...base]
    .filter((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f && c !== '"')
    .join('')
    .trim();
  return (clean || 'file').slice(0, 120);
}

const blobPath = (cfg: PortalConfig, sha: string) =>
  join(resolve(cfg.evidenceDir), sha.slice(0, 2), sha);

export async function storeEvidence(
  pool: pg.Pool,
  cfg: PortalConfig,
  f: {
    taskId: string;
    campaignId: string;
    unitId: string;
    name: string;
    content: Buffer;
    by: string;
    mime: string;
  },
): Promise<EvidenceFile> {
  const sha256 = createHash('sha256').update(f.content).digest('hex');
  const fileId = randomUUID();
  const exists = (await run(pool, Q.blobExists, [sha256])).rowCount! > 0;
  if (!exists && cfg.evidenceStore === 'dir') {
    const path = blobPath(cfg, sha256);
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${fileId}.tmp`;
    await writeFile(tmp, f.content);
    await rename(tmp, path);
  }
  const uploadedAt = await withTransaction(pool, async (client) => {
    await run(client, Q.insertBlob, [
      sha256,
      f.content.length,
      f.mime,
      cfg.evidenceStore === 'db' ? f.content : null,
      cfg.evidenceStore === 'dir' ? 'dir' : 'db',
    ]);
    const r = await run<{ uploaded_at: Date }>(client, Q.insertEvidence, [
      fileId,
      f.taskId,
      f.campaignId,
      f.unitId,
      f.name,
      sha256,
      f.content.length,
      f.mime,
      f.by,
    ]);
    return r.rows[0]!.uploaded_at;
  });
  return {
    fileId,
    taskId: f.taskId,
    name: f.name,
    sha256,
    size: f.content.length,
    mime: f.mime,
    uploadedBy: f.by,
    uploadedAt: uploadedAt.toISOString(),
  };
}

export async function evidenceOfTask(pool: pg.Pool, taskId: string): Promise<EvidenceFile[]> {
  const r = await run<{
    file_id: string;
    task_id: string;
    name: string;
    sha256: string;
    size: string;
    mime: string;
    uploaded_by: string;
    uploaded_at: Date;
  }>(pool, Q.evidenceOfTask, [taskId]);
  return r.rows.map((x) => ({
    fileId: x.file_id,
    taskId: x.task_id,
    name: x.name,
    sha256: x.sha256,
    size: Number(x.size),
    mime: x.mime,
    uploadedBy: x.uploaded_by,
    uploadedAt: x.uploaded_at.toISOString(),
  }));
}

export async function readEvidence(
  pool: pg.Pool,
  cfg: PortalConfig,
  fileId: string,
): Promise<{ taskId: string; name: string; mime: string; content: Buffer } | null> {
  if (!/^[0-9a-f-]{36}$/i.test(fileId)) return null;
  const r = await run<{
    task_id: string;
    name: string;
    mime: string;
    sha256: string;
    content: Buffer | null;
    stored_at: string | null;
  }>(pool, Q.evidenceFile, [fileId]);
  const row = r.rows[0];
  if (!row) return null;
  const content = row.content ?? (await readFile(blobPath(cfg, row.sha256)));
  return { taskId: row.task_id, name: row.name, mime: row.mime, content };
}
