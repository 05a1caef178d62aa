import { createRequire } from 'node:module';
import type { BackendRequest } from '@distilljs/core';
import { type Io, println } from '../io.js';
import { renderTable } from '../results-table.js';
import { checkTfjsInstances } from '../tfjs-instances.js';
import * as toolkit from '../toolkit.js';

const CANDIDATES = [
  {
    backend: 'tensorflow-gpu',
    pkg: '@tensorflow/tfjs-node-gpu',
    note: 'libtensorflow with CUDA (NVIDIA GPUs)',
  },
  { backend: 'tensorflow', pkg: '@tensorflow/tfjs-node', note: 'libtensorflow on the CPU' },
  {
    backend: 'wasm',
    pkg: '@tensorflow/tfjs-backend-wasm',
    note: 'WebAssembly + XNNPACK, with distilljs training kernels',
  },
  { backend: 'cpu', pkg: '@tensorflow/tfjs-backend-cpu', note: 'pure JavaScript' },
] as const;

/** `distill backends`: what is installed, what the request resolves to and why, and the tfjs-core instances. */
export async function backendsCommand(opts: Record<string, unknown>, io: Io): Promise<void> {
  const require = createRequire(import.meta.url);
  const installed = CANDIDATES.map((c) => {
    try {
      require.resolve(`${c.pkg}/package.json`);
      return { ...c, installed: true };
    } catch {
      return { ...c, installed: false };
    }
  });
  const selection = await toolkit.setupBackend((opts.backend as BackendRequest) ?? 'auto');
  const tfjsCore = checkTfjsInstances('@tensorflow/tfjs-core');
  const tfjsLayers = checkTfjsInstances('@tensorflow/tfjs-layers');
  if (opts.json) {
    println(io.stdout, JSON.stringify({ selection, installed, tfjsCore, tfjsLayers }));
    return;
  }
  println(
    io.stdout,
    renderTable(
      ['backend', 'package', 'installed', 'what'],
      installed.map((c) => [c.backend, c.pkg, c.installed ? 'yes' : 'no', c.note]),
    ),
  );
  println(io.stdout, `'${selection.requested}' -> ${selection.backend}: ${selection.reason}`);
  for (const a of selection.attempts)
    println(io.stdout, `  ${a.ok ? 'ok  ' : 'skip'} ${a.backend}: ${a.reason}`);
  const core = tfjsCore.resolutions[0];
  println(
    io.stdout,
    `tfjs-core ${core?.version ?? '?'}: ${tfjsCore.single ? 'one instance' : `${tfjsCore.distinct.length} different copies!`} (${core?.path ?? 'unresolved'})`,
  );
  if (!selection.backend.startsWith('tensorflow')) {
    println(
      io.stdout,
      'To train on an NVIDIA GPU: npm i @tensorflow/tfjs-node-gpu@4.22.0 (then --backend auto picks it).',
    );
  }
}
