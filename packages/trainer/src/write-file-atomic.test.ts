import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidFileError } from '@distilljs/core';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { FileCheckpointStore } from './file-checkpoint-store.js';
import { FileWriteError, readChecksummedFile, writeChecksummedFile } from './write-file-atomic.js';

// A full disk, for real: when armed, the temporary file is opened on /dev/full, whose writes fail with
// ENOSPC from the kernel (the rest of the path, rename and cleanup, runs unchanged).
const full = vi.hoisted(() => ({ armed: false }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...fs,
    open: (path: string, ...rest: unknown[]) =>
      (fs.open as (...a: unknown[]) => unknown)(
        full.armed && path.endsWith('.tmp') ? '/dev/full' : path,
        ...rest,
      ),
  };
});

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'trainer-write-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('a full disk while writing a checkpoint is an error naming the file; the old one stays', async () => {
    const dir = tempDir();
    const store = new FileCheckpointStore(dir);
    await store.write('ckpt-1', new Uint8Array([1, 2, 3]));
    full.armed = true;
    const error = await store.write('ckpt-1', new Uint8Array(4096).fill(7)).catch((e: unknown) => e);
    full.armed = false;
    expect(error).toBeInstanceOf(FileWriteError);
    expect((error as Error).message).toBe(`cannot write ${join(dir, 'ckpt-1')}: no space left on the device`);
    expect(((error as Error).cause as NodeJS.ErrnoException).code).toBe('ENOSPC');
    expect(readdirSync(dir)).toEqual(['ckpt-1']);
    expect([...readFileSync(join(dir, 'ckpt-1'))]).toEqual([1, 2, 3]);
  });
});

describe('writeChecksummedFile / readChecksummedFile', () => {
  it('round-trips; a flipped byte is an error naming the file; a missing file is undefined', async () => {
    const file = join(tempDir(), 'cache', 'decoded.bin');
    const payload = Uint8Array.from({ length: 1000 }, (_, i) => i % 256);
    await writeChecksummedFile(file, payload);
    expect(await readChecksummedFile(file)).toEqual(payload);
    const bytes = readFileSync(file);
    bytes[500]! ^= 0x04;
    writeFileSync(file, bytes);
    const error = await readChecksummedFile(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidFileError);
    expect((error as Error).message).toMatch(new RegExp(`^${file}: sha256 checksum mismatch`));
    expect(await readChecksummedFile(`${file}.absent`)).toBeUndefined();
  });
});
