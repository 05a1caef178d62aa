import type { CheckpointStore } from './checkpoint-store.js';

// A variable specifier, so bundlers (Vite, esbuild, tsup) never pull node:fs into a browser build; in Node
// the package resolves its own `./node` entry by name (package self-reference through `exports`).
const NODE_ENTRY = '@distilljs/trainer/node';

/** @internal Node only: a file-system checkpoint store for `dir`, loaded on demand. */
export async function loadFileCheckpointStore(dir: string): Promise<CheckpointStore> {
  const mod = (await import(/* @vite-ignore */ NODE_ENTRY)) as typeof import('./node.js');
  return new mod.FileCheckpointStore(dir);
}
