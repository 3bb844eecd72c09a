// Files the CLI reads from and writes to people's folders: reads are bounded in size (a 100 MB
// "definition" is refused before it is read, not after it has filled the memory) and writes
// never follow a symbolic link nor replace a file unless asked to.
import { constants } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import { CliError, EXIT } from './errors.ts';

export type ReadResult = { bytes: Buffer } | { problem: string };

const MB = 1024 * 1024;

/** A size for people: `5 MB`, `512 KB`, `300 bytes`. */
export function formatSize(bytes: number): string {
  if (bytes >= MB) return `${Math.round((bytes / MB) * 10) / 10} MB`;
  if (bytes >= 1024) return `${Math.round((bytes / 1024) * 10) / 10} KB`;
  return `${bytes} bytes`;
}

/**
 * The bytes of `file`, at most `maxBytes` of them: a larger file, a directory or a device is
 * refused with a message naming the file, the limit and the setting that raises it.
 */
export async function readBoundedFile(
  file: string,
  maxBytes: number,
  setting: string,
): Promise<ReadResult> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : (e as Error).message;
    return { problem: `cannot read ${file}: ${reason}` };
  }
  try {
    const st = await handle.stat();
    if (st.isDirectory()) return { problem: `cannot read ${file}: is a directory` };
    if (!st.isFile()) return { problem: `cannot read ${file}: not a regular file` };
    const tooBig = () => ({
      problem: `${file} is larger than the limit of ${formatSize(maxBytes)}${st.size > maxBytes ? ` (it has ${formatSize(st.size)})` : ''}; set ${setting} to raise the limit (for example ${setting}=${Math.ceil(Math.max(st.size, maxBytes + 1) / MB)}MB)`,
    });
    if (st.size > maxBytes) return tooBig();
    // Read at most one byte past the limit: a file that grows while it is read is still bounded.
    const buffer = Buffer.alloc(Math.min(maxBytes + 1, Math.max(st.size, 0) + 64 * 1024));
    let length = 0;
    for (;;) {
      if (length === buffer.length) break;
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) return tooBig();
    return { bytes: buffer.subarray(0, length) };
  } catch (e) {
    return { problem: `cannot read ${file}: ${(e as Error).message}` };
  } finally {
    await handle.close();
  }
}

/**
 * Writes a report to `file`: refused when the path is a symbolic link (whatever `force` says),
 * or when a file is already there and `force` is not set, or when it is not a regular file.
 */
export async function writeNewFile(
  file: string,
  data: string | Uint8Array,
  opts: { force?: boolean | undefined } = {},
): Promise<void> {
  let existing;
  try {
    existing = await lstat(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new CliError(`cannot write ${file}: ${(e as Error).message}`, EXIT.refused);
  }
  if (existing?.isSymbolicLink())
    throw new CliError(
      `${file} is a symbolic link; reports are not written through links: give the real path`,
      EXIT.refused,
    );
  if (existing && !existing.isFile())
    throw new CliError(`${file} exists and is not a regular file; give another path`, EXIT.refused);
  if (existing && !opts.force)
    throw new CliError(`${file} already exists; add --force to overwrite it`, EXIT.refused);
  // O_EXCL for a new file and O_NOFOLLOW for a replaced one: a link planted between the check
  // above and the open is refused by the system, not followed.
  const flags = existing
    ? constants.O_WRONLY | constants.O_TRUNC | constants.O_NOFOLLOW
    : constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  let handle;
  try {
    handle = await open(file, flags, 0o644);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason =
      code === 'ELOOP'
        ? 'it is a symbolic link'
        : code === 'EEXIST'
          ? 'it appeared while writing; add --force to overwrite it'
          : code === 'ENOENT'
            ? 'no such folder'
            : (e as Error).message;
    throw new CliError(`cannot write ${file}: ${reason}`, EXIT.refused);
  }
  try {
    await handle.writeFile(data);
  } finally {
    await handle.close();
  }
}
