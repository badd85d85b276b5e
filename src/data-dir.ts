// The data directory is checked before anything is opened or written in it:
// a read-only, full, missing or mistyped DATA_DIR stops start-up with
// PC_ERR_DATA_DIR naming the path and the reason, instead of a stack trace
// from deep inside the embedded database, or a first-run admin token stored
// in PostgreSQL but never written to DATA_DIR/admin-token (and so never seen).
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  statfsSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { PcError } from './errors.ts';

/** Free space the embedded database needs to start and grow (a WAL segment is 16 MiB). */
export const EMBEDDED_MIN_FREE = 64 * 1024 * 1024;

const REASONS: Record<string, string> = {
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENOTDIR: 'a path component is a file, not a directory',
  EEXIST: 'it exists and is not a directory',
  EIO: 'input/output error',
};

function unusable(dir: string, why: string, errno?: string): PcError {
  return new PcError(
    'PC_ERR_DATA_DIR',
    `data dir ${dir} is not usable: ${why}${errno ? ` (${errno})` : ''}; set PORTCULLIS_DATA_DIR to a writable directory with free space`,
    { path: dir, reason: why, errno },
  );
}

function fail(dir: string, e: unknown): PcError {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  return unusable(dir, REASONS[code] ?? (e as Error).message, code || undefined);
}

/**
 * Creates DATA_DIR if missing and proves it writable (a small file written,
 * synced and removed). `embedded`: the embedded database lives there, which
 * also needs EMBEDDED_MIN_FREE bytes free. Throws PcError('PC_ERR_DATA_DIR').
 */
export function checkDataDir(dir: string, opts: { embedded: boolean }): void {
  try {
    const st = statSync(dir, { throwIfNoEntry: false });
    if (st && !st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'EEXIST' });
    if (!st) mkdirp(dir);
  } catch (e) {
    throw fail(dir, e);
  }
  checkWritable(dir, opts);
}

/** mkdir -p that reports why: Node's recursive mkdir says ENOENT when a level cannot be created. */
function mkdirp(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    let first = dir;
    while (dirname(first) !== first && !existsSync(dirname(first))) first = dirname(first);
    mkdirSync(first); // throws the real cause (EROFS, EACCES, ...)
    throw e;
  }
}

function checkWritable(dir: string, opts: { embedded: boolean }): void {
  const file = join(dir, `.write-check-${process.pid}`);
  let fd: number | undefined;
  try {
    fd = openSync(file, 'w', 0o600);
    writeSync(fd, Buffer.alloc(4096));
    fsyncSync(fd);
  } catch (e) {
    throw fail(dir, e);
  } finally {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(file);
    } catch {}
  }
  if (opts.embedded) {
    const fs = statfsSync(dir);
    const free = fs.bavail * fs.bsize;
    if (free < EMBEDDED_MIN_FREE)
      throw unusable(
        dir,
        `only ${(free / 1048576).toFixed(1)} MiB free, the embedded database needs at least ${EMBEDDED_MIN_FREE / 1048576} MiB`,
        'ENOSPC',
      );
  }
}
