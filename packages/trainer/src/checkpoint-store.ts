/**
 * Where checkpoints live. A store writes each checkpoint atomically: a reader (or a resumed run after a
 * crash) sees the previous complete checkpoint or the new complete one, never a partial file.
 *
 * `MemoryCheckpointStore` works everywhere; `FileCheckpointStore` (from `@distilljs/trainer/node`)
 * writes files through a temporary file and a rename. A browser app can implement this interface over
 * IndexedDB (one `put` per checkpoint is atomic).
 */
export interface CheckpointStore {
  /** Stores `bytes` under `name`, replacing any previous content atomically. */
  write(name: string, bytes: Uint8Array): Promise<void>;
  /** The bytes stored under `name`, or `undefined` when there are none. */
  read(name: string): Promise<Uint8Array | undefined>;
  /** Names of the stored checkpoints (complete ones only). */
  list(): Promise<string[]>;
  /** Deletes `name` if present. */
  remove(name: string): Promise<void>;
  /** Renames `from` to `to` (a corrupt checkpoint is set aside this way rather than deleted); optional. */
  rename?(from: string, to: string): Promise<void>;
  /** Where the store writes, for messages (a directory, `memory`, a database name). */
  readonly location: string;
}

/** A {@link CheckpointStore} in memory (tests, short browser sessions). Copies bytes in and out. */
export class MemoryCheckpointStore implements CheckpointStore {
  readonly location = 'memory';
  private readonly entries = new Map<string, Uint8Array>();

  async write(name: string, bytes: Uint8Array): Promise<void> {
    this.entries.set(name, bytes.slice());
  }

  async read(name: string): Promise<Uint8Array | undefined> {
    return this.entries.get(name)?.slice();
  }

  async list(): Promise<string[]> {
    return [...this.entries.keys()].sort();
  }

  async remove(name: string): Promise<void> {
    this.entries.delete(name);
  }

  async rename(from: string, to: string): Promise<void> {
    const bytes = this.entries.get(from);
    if (bytes === undefined) return;
    this.entries.set(to, bytes);
    this.entries.delete(from);
  }
}
