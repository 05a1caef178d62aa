import { readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError } from '@distilljs/core';
import type { CheckpointStore } from './checkpoint-store.js';
import { writeFileAtomic } from './write-file-atomic.js';

/**
 * A {@link CheckpointStore} over a directory (Node). Each write goes to a temporary file in the same
 * directory, is flushed to disk, then renamed over the target, so a crash mid-write leaves the previous
 * checkpoint intact and never a half-written one under a checkpoint name.
 */
export class FileCheckpointStore implements CheckpointStore {
  readonly location: string;

  constructor(dir: string) {
    if (typeof dir !== 'string' || dir.length === 0) {
      throw new InvalidArgumentError(
        `FileCheckpointStore: argument 'dir' must be a non-empty path, got ${typeof dir}`,
        {
          where: 'FileCheckpointStore(dir)',
        },
      );
    }
    this.location = dir;
  }

  private path(name: string): string {
    if (!/^[\w.-]+$/.test(name) || name.startsWith('.')) {
      throw new InvalidArgumentError(
        `FileCheckpointStore: checkpoint name ${JSON.stringify(name)} is not a plain file name`,
        {
          where: 'FileCheckpointStore.write(name)',
        },
      );
    }
    return join(this.location, name);
  }

  async write(name: string, bytes: Uint8Array): Promise<void> {
    await writeFileAtomic(this.path(name), bytes);
  }

  async read(name: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(this.path(name)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async list(): Promise<string[]> {
    try {
      return (await readdir(this.location)).filter((f) => !f.startsWith('.')).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  async remove(name: string): Promise<void> {
    await rm(this.path(name), { force: true });
  }

  async rename(from: string, to: string): Promise<void> {
    await rename(this.path(from), this.path(to));
  }
}
