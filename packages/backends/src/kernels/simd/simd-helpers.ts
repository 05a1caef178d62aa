import { firstLine, importNode } from '../../runtime.js';
import { type WasmBackendInternals, xnnpackThreads } from '../wasm-heap.js';
import { type SimdKernels, simdKernelModule, simdKernels } from './simd-kernels.js';

/**
 * Helper threads that run the SIMD kernels alongside the calling thread, on the same (shared) wasm
 * memory. tfjs-backend-wasm's own thread pool only runs XNNPACK's operators; a kernel of this package
 * calls {@link SimdHelpers.start} for part of its work, does the rest itself, then
 * {@link SimdHelpers.join}s. Node.js only: a helper is a `worker_threads` Worker blocked in
 * `Atomics.wait` until work arrives (a browser's main thread may not block).
 */
export interface SimdHelpers {
  /** Number of helper threads. */
  readonly count: number;
  /** Starts kernel `name` with integer arguments on helper `index` and returns at once. */
  start(index: number, name: SimdHelperKernel, args: readonly number[]): void;
  /** Waits until helper `index` has finished what {@link SimdHelpers.start} gave it; rethrows its failure. */
  join(index: number): void;
}

/** The kernels a helper can run. */
export type SimdHelperKernel =
  | 'filterTaps'
  | 'convDirect'
  | 'convFew'
  | 'convWino'
  | 'convWino4'
  | 'filterWino4'
  | 'sumChunks'
  | 'filterFew'
  | 'filterWino'
  | 'batchNormApply'
  | 'batchNormSums'
  | 'batchNormTrainDx'
  | 'batchNormApplyRelu'
  | 'batchNormSumsRelu'
  | 'batchNormTrainDxRelu'
  | 'batchNormApplyReluPool'
  | 'batchNormSumsReluPool'
  | 'batchNormTrainDxReluPool'
  | 'reluGrad'
  | 'maxPool2x2'
  | 'maxPoolGrad2x2'
  | 'colSums4'
  | 'colSums1'
  | 'colSqDevSums4'
  | 'colSqDevSums1'
  | 'gemm'
  | 'gemmBatch'
  | 'winoTilesInput'
  | 'winoTilesOutput'
  | 'winoTilesDy'
  | 'winoTiles4Input'
  | 'winoTiles4Output'
  | 'winoTiles4Dy'
  | 'adamUpdate';
const KERNELS: readonly SimdHelperKernel[] = [
  'filterTaps',
  'batchNormApply',
  'batchNormSums',
  'batchNormTrainDx',
  'reluGrad',
  'maxPool2x2',
  'maxPoolGrad2x2',
  'colSums4',
  'colSums1',
  'colSqDevSums4',
  'colSqDevSums1',
  'convDirect',
  'gemm',
  'adamUpdate',
  'convFew',
  'convWino',
  'filterFew',
  'filterWino',
  'convWino4',
  'filterWino4',
  'sumChunks',
  'gemmBatch',
  'winoTilesInput',
  'winoTilesOutput',
  'winoTilesDy',
  'batchNormApplyRelu',
  'batchNormSumsRelu',
  'batchNormTrainDxRelu',
  'winoTiles4Input',
  'winoTiles4Output',
  'winoTiles4Dy',
  'batchNormApplyReluPool',
  'batchNormSumsReluPool',
  'batchNormTrainDxReluPool',
];

// Control block, one per helper (Int32Array): [0] request sequence number, [1] finished sequence number,
// [2] kernel index (-1: exit), [3] argument count, [4..4+MAX_ARGS) arguments, [STATUS] 0 = ok, 1 = failed.
const MAX_ARGS = 32;
const STATUS = 4 + MAX_ARGS;
const CONTROL_INTS = STATUS + 1;
/** A helper that has not started after this long is given up (the kernels then run on one thread). */
const START_TIMEOUT_MS = 20_000;
/** A helper that has not finished after this long is taken to be lost (its kernel would have trapped). */
const JOIN_TIMEOUT_MS = 120_000;

const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
(function main() {
  const { module, memory, control, kernels } = workerData;
  const c = new Int32Array(control);
  let exports;
  try {
    exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
  } catch (error) {
    parentPort.postMessage('failed: ' + (error && error.message));
    return;
  }
  parentPort.postMessage('ready');
  let seen = 0;
  for (;;) {
    Atomics.wait(c, 0, seen);
    seen = Atomics.load(c, 0);
    const kernel = Atomics.load(c, 2);
    if (kernel < 0) break;
    let status = 0;
    try {
      exports[kernels[kernel]](...Array.from(c.subarray(4, 4 + c[3])));
    } catch (error) {
      status = 1;
    }
    Atomics.store(c, ${STATUS}, status);
    Atomics.store(c, 1, seen);
    Atomics.notify(c, 1);
  }
})();
`;

interface Helper {
  readonly control: Int32Array;
  readonly worker: { terminate(): unknown; unref(): void };
  pending: number;
}

const started = new WeakMap<object, { helpers: Helper[]; api: SimdHelpers }>();

/** The helper threads started for this backend module by {@link startSimdHelpers}, if any. */
export function simdHelpers(wasmModule: unknown): SimdHelpers | undefined {
  if (typeof wasmModule !== 'object' || wasmModule === null) return undefined;
  return started.get(wasmModule)?.api;
}

/**
 * Starts `count` helper threads for the SIMD kernels of a tfjs-backend-wasm module whose memory is shared
 * (the threaded build). Resolves to a one-line reason when none could start (not Node.js, unshared
 * memory, no SIMD kernels, a worker that failed), else to `undefined`. Idempotent per backend module.
 */
export async function startSimdHelpers(wasmModule: unknown, count: number): Promise<string | undefined> {
  if (typeof wasmModule !== 'object' || wasmModule === null) return 'no wasm module';
  if (started.has(wasmModule)) return undefined;
  if (count < 1) return 'no helper threads wanted';
  const compiled = simdKernelModule(wasmModule);
  if (compiled === undefined) return 'no SIMD kernels';
  if (!(compiled.memory.buffer instanceof SharedArrayBuffer)) return 'the wasm memory is not shared';
  let workerThreads: typeof import('node:worker_threads');
  try {
    workerThreads = await importNode<typeof import('node:worker_threads')>('node:worker_threads');
  } catch (error) {
    return `no worker threads (${firstLine(error)})`;
  }
  const helpers: Helper[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const control = new Int32Array(new SharedArrayBuffer(CONTROL_INTS * 4));
      const worker = new workerThreads.Worker(WORKER_SOURCE, {
        eval: true,
        workerData: {
          module: compiled.module,
          memory: compiled.memory,
          control: control.buffer,
          kernels: KERNELS,
        },
      });
      helpers.push({ control, worker, pending: 0 });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const answer = await new Promise<string>((resolve) => {
        worker.once('message', (m: unknown) => resolve(String(m)));
        worker.once('error', (e: unknown) => resolve(`failed: ${firstLine(e)}`));
        timer = setTimeout(() => resolve(`no answer within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
      });
      clearTimeout(timer);
      if (answer !== 'ready') throw new Error(answer);
      worker.unref();
    }
  } catch (error) {
    for (const h of helpers) void h.worker.terminate();
    return `SIMD helper threads off (${firstLine(error)})`;
  }
  const api: SimdHelpers = {
    count,
    start(index, name, args) {
      const h = helpers[index] as Helper;
      if (args.length > MAX_ARGS)
        throw new Error(`SIMD helper: ${args.length} arguments (at most ${MAX_ARGS})`);
      const c = h.control;
      c[2] = KERNELS.indexOf(name);
      c[3] = args.length;
      c.set(args, 4);
      Atomics.store(c, STATUS, 0);
      h.pending = Atomics.add(c, 0, 1) + 1;
      Atomics.notify(c, 0);
    },
    join(index) {
      const h = helpers[index] as Helper;
      const c = h.control;
      const deadline = Date.now() + JOIN_TIMEOUT_MS;
      for (let done = Atomics.load(c, 1); done !== h.pending; done = Atomics.load(c, 1)) {
        if (Atomics.wait(c, 1, done, 1000) === 'timed-out' && Date.now() > deadline) {
          started.delete(wasmModule);
          throw new Error(`SIMD helper thread ${index} did not finish within ${JOIN_TIMEOUT_MS / 1000} s`);
        }
      }
      if (Atomics.load(c, STATUS) !== 0) {
        throw new Error(`SIMD helper thread ${index}: the kernel failed (out-of-bounds memory access?)`);
      }
    },
  };
  started.set(wasmModule, { helpers, api });
  return undefined;
}

/** Stops the helper threads of a backend module (tests; kernels then run on the calling thread alone). */
export async function stopSimdHelpers(wasmModule: unknown): Promise<boolean> {
  if (typeof wasmModule !== 'object' || wasmModule === null) return false;
  const entry = started.get(wasmModule);
  if (entry === undefined) return false;
  started.delete(wasmModule);
  for (const h of entry.helpers) {
    Atomics.store(h.control, 2, -1);
    Atomics.add(h.control, 0, 1);
    Atomics.notify(h.control, 0);
    await h.worker.terminate();
  }
  return true;
}

/** Below this many floats a kernel runs on the calling thread alone: waking a helper costs more. */
export const SPLIT_MIN_FLOATS = 1 << 16;

/**
 * Runs a SIMD kernel over rows [0, rows) shared between the calling thread and the helper threads, in
 * fixed contiguous shares (so every run splits alike and gives the same bits): part p gets rows
 * [round(p * rows / parts), round((p + 1) * rows / parts)); part 0 runs here through `runHere`, the
 * others on helpers. `argsFor(from, to, part)` gives the kernel's arguments for a share. With no helpers,
 * or under {@link SPLIT_MIN_FLOATS} floats, one part runs here; at most `maxParts` parts. Returns the
 * number of parts.
 */
export function runRows(
  wasmModule: unknown,
  name: SimdHelperKernel,
  rows: number,
  floatsPerRow: number,
  argsFor: (from: number, to: number, part: number) => readonly number[],
  runHere: (args: readonly number[]) => void,
  maxParts = Number.POSITIVE_INFINITY,
): number {
  const helpers = simdHelpers(wasmModule);
  const parts =
    helpers !== undefined && rows * floatsPerRow >= SPLIT_MIN_FLOATS
      ? Math.max(1, Math.min(1 + helpers.count, rows, maxParts))
      : 1;
  const bound = (p: number) => Math.round((p * rows) / parts);
  let running = 0;
  let failure: unknown;
  try {
    for (let p = 1; p < parts; p++) {
      helpers?.start(p - 1, name, argsFor(bound(p), bound(p + 1), p));
      running = p;
    }
    runHere(argsFor(0, bound(1), 0));
  } catch (error) {
    failure = error;
  }
  joinHelpers(helpers, running, failure);
  return parts;
}

/**
 * The SIMD kernels and helper threads for a kernel that takes chunks of the batch (`filterTaps`,
 * `convDirect`), or `undefined` where such a kernel should not run: no SIMD, or XNNPACK has several
 * threads but no helper thread runs (a browser page), so XNNPACK's own operator uses more cores.
 */
export function chunkedKernels(
  backend: WasmBackendInternals,
): { simd: SimdKernels; helpers: SimdHelpers | undefined; helperCount: number } | undefined {
  const simd = simdKernels(backend.wasm);
  if (simd === undefined) return undefined;
  const helpers = simdHelpers(backend.wasm);
  const helperCount = helpers?.count ?? 0;
  if (helperCount === 0 && xnnpackThreads(backend) > 1) return undefined;
  return { simd, helpers, helperCount };
}

/**
 * Runs a kernel that takes its work in chunks from a shared atomic counter (`filterTaps`, `convDirect`):
 * the same `args` on `helperCount` helper threads and, through `runHere`, on the calling thread, which then
 * waits for the helpers. A failure here or in a helper is thrown after every helper has finished.
 */
export function runChunked(
  helpers: SimdHelpers | undefined,
  name: SimdHelperKernel,
  args: readonly number[],
  helperCount: number,
  runHere: () => void,
): void {
  let running = 0;
  let failure: unknown;
  try {
    for (let p = 0; p < helperCount; p++) {
      helpers?.start(p, name, args);
      running = p + 1;
    }
    runHere();
  } catch (error) {
    failure = error;
  }
  joinHelpers(helpers, running, failure);
}

/**
 * Waits for helpers [0, count) even when one fails or `failure` (the caller's own) is set, so that no
 * helper still writes to memory the caller is about to free; then throws `failure` or the first helper's.
 */
export function joinHelpers(helpers: SimdHelpers | undefined, count: number, failure?: unknown): void {
  let first = failure;
  for (let p = 0; p < count; p++) {
    try {
      helpers?.join(p);
    } catch (error) {
      first ??= error;
    }
  }
  if (first !== undefined) throw first;
}

/** The most shares a reduction is split into (the calling thread and up to three helpers). */
export const MAX_REDUCTION_SHARES = 4;

/** The wasm heap access {@link reduceRows} needs (tfjs-backend-wasm 4.x `BackendWasm`). */
interface ReductionBackend {
  wasm?: unknown;
  dataIdMap?: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): { dataId: object; shape: number[]; dtype: string };
  typedArrayFromHeap(info: { dataId: object; shape: number[]; dtype: string }): ArrayLike<number> & {
    buffer: ArrayBufferLike;
  };
  disposeData(dataId: object): unknown;
}

/**
 * A SIMD reduction over rows [0, rows) shared as in {@link runRows}: each share's kernel adds its
 * `width` float64 sums at the heap address `argsFor` is given (zeroed, 8-byte aligned, one block per
 * share), and the shares' sums are added here in share order, so the result is the same every run.
 */
export function reduceRows(
  backend: ReductionBackend,
  name: SimdHelperKernel,
  rows: number,
  floatsPerRow: number,
  width: number,
  argsFor: (from: number, to: number, accOffset: number) => readonly number[],
  runHere: (args: readonly number[]) => void,
): Float64Array {
  const acc = backend.makeOutput([MAX_REDUCTION_SHARES * 2 * width + 1], 'float32');
  try {
    const offset = Math.ceil((backend.dataIdMap?.get(acc.dataId)?.memoryOffset as number) / 8) * 8;
    const all = new Float64Array(
      backend.typedArrayFromHeap(acc).buffer,
      offset,
      MAX_REDUCTION_SHARES * width,
    );
    all.fill(0);
    const shares = runRows(
      backend.wasm,
      name,
      rows,
      floatsPerRow,
      (r0, r1, share) => argsFor(r0, r1, offset + share * 8 * width),
      runHere,
      MAX_REDUCTION_SHARES,
    );
    const total = all.slice(0, width);
    for (let p = 1; p < shares; p++) {
      for (let k = 0; k < width; k++) total[k] = (total[k] as number) + (all[p * width + k] as number);
    }
    return total;
  } finally {
    backend.disposeData(acc.dataId);
  }
}
