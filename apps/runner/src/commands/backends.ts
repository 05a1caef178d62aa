import type { BackendRequest } from '@distilljs/core';
import { type Io, println } from '../io.js';
import { renderTable } from '../results-table.js';
import { checkTfjsInstances } from '../tfjs-instances.js';
import * as toolkit from '../toolkit.js';

/** `distill backends`: what is installed, what the request resolves to and why, and the tfjs-core instances. */
export async function backendsCommand(opts: Record<string, unknown>, io: Io): Promise<void> {
  const installed = (await toolkit.listBackends()).filter((b) => b.runsHere);
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
      ['backend', 'package', 'installed', 'auto order', 'what'],
      installed.map((b) => [
        b.backend,
        b.packageName,
        b.installed ? 'yes' : `no (${b.installCommand})`,
        b.autoRank === undefined ? '-' : String(b.autoRank),
        b.description,
      ]),
    ),
  );
  println(io.stdout, `'${selection.requested}' -> ${selection.backend}: ${selection.reason}`);
  println(io.stdout, `engine: ${selection.engine}`);
  for (const a of selection.attempts)
    println(io.stdout, `  ${a.ok ? 'ok  ' : 'skip'} ${a.backend}: ${a.reason}`);
  // The rest of auto's order: why each was not chosen although it was not tried.
  const tried = new Set(selection.attempts.map((a) => a.backend));
  for (const b of installed) {
    if (tried.has(b.backend)) continue;
    const why =
      selection.requested !== 'auto'
        ? `not tried (${selection.requested} was asked for)`
        : `not tried (auto stopped at ${selection.backend}, which comes first)`;
    println(io.stdout, `  -    ${b.backend}: ${why}`);
  }
  const core = tfjsCore.resolutions[0];
  if (core === undefined) println(io.stdout, 'tfjs-core: inlined (a single-file build)');
  else
    println(
      io.stdout,
      `tfjs-core ${core?.version ?? '?'}: ${tfjsCore.single ? 'one instance' : `${tfjsCore.distinct.length} different copies!`} (${core?.path ?? 'unresolved'})`,
    );
  if (
    !selection.backend.startsWith('tensorflow') &&
    !(selection.backend === 'webgpu' && !selection.adapter?.software)
  ) {
    println(
      io.stdout,
      'To train on an NVIDIA GPU: npm i @tensorflow/tfjs-node-gpu@4.22.0, or WebGPU on its Vulkan driver: ' +
        'npm i webgpu@0.6.2 @tensorflow/tfjs-backend-webgpu@4.22.0 (then --backend auto picks it).',
    );
  }
}
