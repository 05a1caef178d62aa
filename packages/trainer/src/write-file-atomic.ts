import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DistillError, InvalidFileError, openChecksum, sealChecksum } from '@distilljs/core';

/** A file could not be written (disk full, no permission); the message names the file. */
export class FileWriteError extends DistillError {
  override readonly name = 'FileWriteError';
  constructor(message: string, options: { where: string; cause?: unknown }) {
    super(message, { ...options, code: 'write-failed' });
  }
}

/** The prefix of the hidden temporary files {@link writeFileAtomic} writes (`.NAME.PID.RANDOM.tmp`). */
export function isTemporaryFileName(name: string): boolean {
  return /^\..+\.tmp$/.test(name);
}

/**
 * Node: writes `bytes` to `path` atomically. The bytes go to a hidden temporary file beside it, are flushed
 * to disk and renamed over `path`, so a reader (or a crash) sees the old file or the new one, never a part.
 * A failure removes the temporary file and throws a {@link FileWriteError} naming `path`.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await mkdir(dir, { recursive: true });
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (cause) {
    await rm(tmp, { force: true }).catch(() => undefined);
    const code = (cause as NodeJS.ErrnoException).code;
    const why = code === 'ENOSPC' ? 'no space left on the device' : (cause as Error).message;
    throw new FileWriteError(`cannot write ${path}: ${why}`, { where: path, cause });
  }
}

/**
 * Node: writes `payload` with a sha256 trailer ({@link sealChecksum}), atomically. For cache files
 * (teacher outputs, decoded images, teacher logits) and checkpoints: {@link readChecksummedFile} then
 * tells an intact file from a truncated, bit-flipped or edited one.
 */
export async function writeChecksummedFile(path: string, payload: Uint8Array): Promise<void> {
  await writeFileAtomic(path, await sealChecksum(payload));
}

/**
 * Node: reads a file written by {@link writeChecksummedFile} and returns its payload after checking the
 * sha256; `undefined` when the file does not exist. A mismatch (or a missing trailer) is an
 * {@link InvalidFileError} naming the file.
 */
export async function readChecksummedFile(path: string): Promise<Uint8Array | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new InvalidFileError(`cannot read ${path}: ${(cause as Error).message}`, { where: path, cause });
  }
  return openChecksum(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
}
