import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { FileCheckpointStore } from './file-checkpoint-store.js';

// Simulates a crash in the middle of writing: when `crash.armed`, a file handle writes half of the bytes
// it is given and then fails, as a process killed or a disk filling up mid-write would leave it.
const crash = vi.hoisted(() => ({ armed: false }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...fs,
    open: async (...args: Parameters<typeof fs.open>) => {
      const fh = await fs.open(...args);
      const writeFile = fh.writeFile.bind(fh);
      (fh as { writeFile: FileHandle['writeFile'] }).writeFile = async (data) => {
        if (!crash.armed) return writeFile(data);
        const bytes = data as Uint8Array;
        await writeFile(bytes.subarray(0, bytes.length >> 1));
        throw new Error('EIO: simulated crash mid-write');
      };
      return fh;
    },
  };
});

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('FileCheckpointStore', () => {
  it('never leaves a half-written checkpoint under a checkpoint name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trainer-store-'));
    dirs.push(dir);
    const store = new FileCheckpointStore(dir);
    const v1 = Uint8Array.from({ length: 100_000 }, (_, i) => i % 251);
    await store.write('ckpt-a', v1);
    crash.armed = true;
    // Overwriting an existing checkpoint: the old one stays, whole.
    await expect(store.write('ckpt-a', new Uint8Array(100_000).fill(7))).rejects.toThrow('simulated crash');
    // A new checkpoint: it does not appear at all.
    await expect(store.write('ckpt-b', new Uint8Array(100_000).fill(9))).rejects.toThrow('simulated crash');
    crash.armed = false;
    expect(await store.read('ckpt-a')).toEqual(v1);
    expect(await store.read('ckpt-b')).toBeUndefined();
    expect(await store.list()).toEqual(['ckpt-a']);
    expect(readdirSync(dir)).toEqual(['ckpt-a']); // the failed temporary files were removed
    // A process killed outright leaves its hidden temporary file behind; it is never listed.
    writeFileSync(join(dir, '.ckpt-c.1234.abcd.tmp'), new Uint8Array(10));
    expect(await store.list()).toEqual(['ckpt-a']);
  });

  it('rejects names that are not plain file names', async () => {
    const store = new FileCheckpointStore(tmpdir());
    await expect(store.write('../escape', new Uint8Array(1))).rejects.toThrow(/is not a plain file name/);
    expect(() => new FileCheckpointStore('')).toThrow(/argument 'dir' must be a non-empty path/);
  });
});
