import {
  BACKEND_REQUESTS,
  type BackendAttempt,
  type BackendName,
  type BackendRequest,
  type BackendSelection,
  DistillError,
  invalidArgument,
  isBackendRequest,
  NotInstalledError,
} from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import { AUTO_ORDER, type BackendInfo, backendInfo } from './backend-catalog.js';
import { probeBrowserWebGpu, probeWebGlRenderer, type WebGlRenderer } from './browser-gpu.js';
import { adapterPhrase, type GpuAdapterReport } from './gpu-adapter.js';
import { simdHelpers, startSimdHelpers } from './kernels/simd/simd-helpers.js';
import {
  relaxedSimdSupported,
  setRelaxedSimdEnabled,
  simdKernels,
  simdKernelsRelaxed,
} from './kernels/simd/simd-kernels.js';
import { DAWN_PACKAGE, registerNodeWebGpuBackend, startNodeWebGpu } from './node-webgpu.js';
import { registerCpuTrainingKernels } from './register-cpu-training-kernels.js';
import { registerWasmTrainingKernels } from './register-wasm-training-kernels.js';
import { detectRuntime, firstLine, importNode, importOptional, isNotFound, type Runtime } from './runtime.js';
import {
  type NodeThreadsPlan,
  nodeWasmFiles,
  prepareNodeWasmThreads,
  type WasmModuleApi,
} from './wasm-node-threads.js';

/** Where the wasm backend finds its `.wasm` binaries: a URL/path prefix ending in `/`, or one URL per file. */
export type WasmPaths =
  | string
  | Partial<
      Record<
        'tfjs-backend-wasm.wasm' | 'tfjs-backend-wasm-simd.wasm' | 'tfjs-backend-wasm-threaded-simd.wasm',
        string
      >
    >;

/** Options of {@link selectBackend}. */
export interface SelectBackendOptions {
  /**
   * Register the distilljs training kernels of the chosen backend (default true):
   * {@link registerWasmTrainingKernels} for wasm (without them no CNN trains on wasm and dense layers train
   * several times slower) and {@link registerCpuTrainingKernels} for cpu (a convolution filter gradient
   * ~100x faster than the stock one).
   */
  readonly trainingKernels?: boolean;
  /**
   * XNNPACK threads for the wasm backend. In Node, `'auto'` (the default) uses up to 4 threads, one per
   * core, through the workaround described in the README, plus `threads - 1` helper threads for the
   * package's SIMD kernels; `1` keeps tfjs's single-threaded default. In a browser, tfjs uses threads only
   * on cross-origin-isolated pages; a number caps them.
   */
  readonly threads?: number | 'auto';
  /**
   * Where the `.wasm` files are. In Node the default is the `dist/` directory of the installed
   * `@tensorflow/tfjs-backend-wasm`, so bundling the JavaScript does not lose them. In a bundled page pass
   * the URLs the bundler emitted (with Vite: `import simd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url'`).
   */
  readonly wasmPaths?: WasmPaths;
  /**
   * Loaders that import a backend's package, for bundlers that must see a literal `import()`, e.g.
   * `{ webgl: () => import('@tensorflow/tfjs-backend-webgl') }`. Without one, the package is imported by
   * name at run time (works in Node and with import maps). A backend the app imported itself is used as is.
   */
  readonly loaders?: Partial<Record<BackendName, () => Promise<unknown>>>;
  /** Where the code runs; detected when omitted. */
  readonly runtime?: Runtime;
  /**
   * WebAssembly relaxed SIMD for the wasm training kernels: the multiply-adds of `filterTaps` (filter
   * gradients) and `convDirect` (forward and input-gradient convolutions) as `f32x4.relaxed_madd`, one
   * fused multiply-add where the CPU has FMA (here 10-27% faster filter gradients, single-threaded, and
   * convolutions 1.2-1.4x XNNPACK's speed). `'auto'` (default): where the runtime supports it as started
   * (Chrome 114+, Node 22+).
   * `'enable'`: in Node versions that keep it behind a V8 flag (Node 20), first set
   * `--experimental-wasm-relaxed-simd` with `v8.setFlagsFromString` (process-wide; apps such as the
   * distill runner do this). `'off'`: plain SIMD, so results are the same bits on every x86 and ARM CPU
   * (a relaxed multiply-add may round once or twice, depending on the CPU). Takes effect where the kernels
   * are instantiated, once per wasm backend.
   */
  readonly relaxedSimd?: 'auto' | 'enable' | 'off';
  /**
   * webgpu in Node.js: a `dawn.node` file to load instead of the `webgpu` package (e.g. one copied beside
   * a bundled app). By default `webgpu` is imported.
   */
  readonly dawnNode?: string;
}

/** The result of {@link selectBackend}: the core selection plus what was set up. */
export interface SelectedBackend extends BackendSelection {
  /** `tfjs 4.22.0 wasm (simd, 2 threads, distilljs kernels)`: the engine, for logs and run records. */
  readonly engine: string;
  /** XNNPACK threads of the wasm backend, when it is the one selected. */
  readonly threads?: number;
  /** Whether the distilljs training kernels of the selected backend (wasm or cpu) are registered. */
  readonly trainingKernels: boolean;
  /** webgpu (Node.js or browser): the adapter it runs on (vendor, architecture, and whether it is software). */
  readonly adapter?: GpuAdapterReport;
  /** webgl in a browser: the renderer (from WEBGL_debug_renderer_info) and whether it is software. */
  readonly renderer?: WebGlRenderer;
}

/**
 * The command that installs a backend's package at the version of the running tfjs (in Node.js, with the
 * other packages it needs there: Dawn's `webgpu` for webgpu).
 */
export function installCommand(backend: BackendName, runtime: Runtime = detectRuntime()): string {
  const info = backendInfo(backend);
  const extra = runtime === 'node' ? (info.nodePackages ?? []) : [];
  return `npm install ${[`${info.packageName}@${tf.version_core}`, ...extra].join(' ')}`;
}

interface TryResult {
  readonly ok: boolean;
  readonly reason: string;
  readonly notInstalled?: boolean;
  /** The package that is not installed, when it is not the backend's own (webgpu in Node.js: Dawn). */
  readonly missing?: string;
  readonly threads?: number;
  readonly kernels?: boolean;
  /** wasm: the training kernels are the relaxed-SIMD build. */
  readonly relaxed?: boolean;
  /** webgpu: the adapter. */
  readonly adapter?: GpuAdapterReport;
  /** webgl in a browser: the renderer. */
  readonly renderer?: WebGlRenderer;
}

function engineRegistry(): Record<string, unknown> {
  return (tf.engine() as unknown as { registry: Record<string, unknown> }).registry;
}

function wasmApiOf(mod: unknown): (WasmModuleApi & { setWasmPaths(p: WasmPaths): void }) | undefined {
  const m = mod as Record<string, unknown> & { default?: Record<string, unknown> };
  const pick = (k: string) => (typeof m?.[k] === 'function' ? m[k] : m?.default?.[k]);
  const setThreadsCount = pick('setThreadsCount');
  const getThreadsCount = pick('getThreadsCount');
  const setWasmPaths = pick('setWasmPaths');
  if (typeof setThreadsCount !== 'function' || typeof setWasmPaths !== 'function') return undefined;
  return {
    setThreadsCount: setThreadsCount as (n: number) => void,
    getThreadsCount: getThreadsCount as () => number,
    setWasmPaths: setWasmPaths as (p: WasmPaths) => void,
  };
}

async function autoThreads(runtime: Runtime): Promise<number> {
  if (runtime !== 'node') return 0;
  const os = await importNode<typeof import('node:os')>('node:os');
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(4, cores));
}

async function load(
  info: BackendInfo,
  options: SelectBackendOptions,
): Promise<{ module?: unknown; error?: TryResult }> {
  const loader = options.loaders?.[info.backend];
  try {
    if (loader !== undefined) return { module: await loader() };
    if (tf.findBackendFactory(info.tfjsName) !== null && info.backend !== 'wasm') return {};
    return { module: await importOptional(info.packageName) };
  } catch (error) {
    if (tf.findBackendFactory(info.tfjsName) !== null) return {};
    if (isNotFound(error, info.packageName)) {
      return { error: { ok: false, notInstalled: true, reason: `${info.packageName} is not installed` } };
    }
    return { error: { ok: false, reason: `${info.packageName} failed to load: ${firstLine(error)}` } };
  }
}

async function activate(name: string): Promise<string | undefined> {
  try {
    const ok = await tf.setBackend(name);
    if (!ok) return `tf.setBackend('${name}') failed to initialise it`;
    await tf.ready();
    return undefined;
  } catch (error) {
    return `initialising it failed: ${firstLine(error)}`;
  }
}

async function tryWasm(
  info: BackendInfo,
  options: SelectBackendOptions,
  runtime: Runtime,
): Promise<TryResult> {
  const loaded = await load(info, options);
  if (loaded.error) return loaded.error;
  const alreadyStarted = engineRegistry().wasm !== undefined;
  let api = wasmApiOf(loaded.module);
  if (api === undefined && runtime === 'node') {
    api = wasmApiOf(await importOptional(info.packageName).catch(() => undefined));
  }
  const notes: string[] = [];
  let plan: NodeThreadsPlan | undefined;
  const wanted =
    options.threads === undefined || options.threads === 'auto'
      ? await autoThreads(runtime)
      : options.threads;
  if (!alreadyStarted && api !== undefined) {
    const files = runtime === 'node' ? await nodeWasmFiles(import.meta.url) : undefined;
    const paths = options.wasmPaths ?? files?.wasmDir;
    if (paths !== undefined) api.setWasmPaths(paths);
    if (runtime === 'node' && wanted > 1 && files !== undefined && options.wasmPaths === undefined) {
      try {
        plan = await prepareNodeWasmThreads(tf.env(), api, wanted, files);
      } catch (error) {
        notes.push(`threads off: ${firstLine(error)}`);
      }
    } else if (runtime === 'browser' && wanted > 0) {
      api.setThreadsCount(wanted);
    }
  } else if (alreadyStarted && options.threads !== undefined && options.threads !== 'auto') {
    notes.push('the wasm backend was already initialised, so its thread count could not change');
  }
  let failure: string | undefined;
  try {
    failure = await activate(info.tfjsName);
  } finally {
    plan?.restore();
  }
  if (failure !== undefined && plan !== undefined) {
    // Threads failed: start again single-threaded.
    notes.push(`threads off: ${failure}`);
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    api?.setThreadsCount(1);
    plan = undefined;
    failure = await activate(info.tfjsName);
  }
  if (failure !== undefined) return { ok: false, reason: `${info.packageName}: ${failure}` };
  if (plan !== undefined) plan.unrefWorkers(tf.backend());
  let threads = 1;
  try {
    threads = api?.getThreadsCount() ?? 1;
  } catch {
    threads = 1;
  }
  const kernels = options.trainingKernels !== false;
  const relaxedSimd = options.relaxedSimd ?? 'auto';
  setRelaxedSimdEnabled(relaxedSimd !== 'off');
  if (kernels && relaxedSimd === 'enable' && runtime === 'node' && !relaxedSimdSupported()) {
    try {
      const v8 = await importNode<typeof import('node:v8')>('node:v8');
      v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
    } catch (error) {
      notes.push(`relaxed SIMD off: ${firstLine(error)}`);
    }
  }
  if (kernels) registerWasmTrainingKernels(info.tfjsName);
  const wasmModule = (tf.backend() as { wasm?: unknown }).wasm;
  // Instantiated here (once per backend) so that the reason can say which build runs.
  const relaxed = kernels && simdKernels(wasmModule) !== undefined && simdKernelsRelaxed(wasmModule);
  // Node: helper threads for the SIMD kernels, one fewer than XNNPACK's (they take turns with it).
  let helpers = 0;
  if (kernels && runtime === 'node' && threads > 1) {
    const why = await startSimdHelpers(wasmModule, threads - 1);
    if (why === undefined) helpers = simdHelpers(wasmModule)?.count ?? 0;
    else notes.push(why);
  }
  const parts = [
    tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'SIMD' : 'no SIMD',
    `${threads} thread${threads === 1 ? '' : 's'}`,
    ...(helpers > 0 ? [`${helpers} SIMD helper thread${helpers === 1 ? '' : 's'}`] : []),
    kernels ? `distilljs training kernels${relaxed ? ' with relaxed SIMD' : ''}` : 'stock kernels',
  ];
  return {
    ok: true,
    reason: `wasm (${parts.join(', ')})${notes.length ? `; ${notes.join('; ')}` : ''}`,
    threads,
    kernels,
    relaxed,
  };
}

async function tryNodeWebGpu(
  info: BackendInfo,
  options: SelectBackendOptions,
  auto: boolean,
): Promise<TryResult> {
  const start = await startNodeWebGpu({ dawnNode: options.dawnNode });
  if (!start.ok)
    return {
      ok: false,
      reason: start.reason,
      ...(start.notInstalled ? { notInstalled: true, missing: `${DAWN_PACKAGE} (Dawn for Node.js)` } : {}),
    };
  const phrase = adapterPhrase(start.report);
  if (auto && start.report.software) {
    return {
      ok: false,
      reason: `the only adapter is ${phrase}, slower than wasm; auto takes a hardware GPU only (ask for webgpu to use it)`,
      adapter: start.report,
    };
  }
  let module: unknown;
  try {
    const loader = options.loaders?.webgpu;
    module = loader !== undefined ? await loader() : await importOptional(info.packageName);
  } catch (error) {
    if (isNotFound(error, info.packageName)) {
      return { ok: false, notInstalled: true, reason: `${info.packageName} is not installed` };
    }
    return { ok: false, reason: `${info.packageName} failed to load: ${firstLine(error)}` };
  }
  const problem = registerNodeWebGpuBackend(module, start);
  if (problem !== undefined) return { ok: false, reason: `${info.packageName}: ${problem}` };
  const failure = await activate(info.tfjsName);
  if (failure !== undefined) return { ok: false, reason: `${info.packageName}: ${failure}` };
  return { ok: true, reason: `webgpu (Dawn on ${phrase})`, adapter: start.report };
}

async function tryBackend(
  backend: BackendName,
  options: SelectBackendOptions,
  runtime: Runtime,
  auto: boolean,
): Promise<TryResult> {
  const info = backendInfo(backend);
  if (!info.runtimes.includes(runtime)) {
    return {
      ok: false,
      reason: `${backend} runs only in ${info.runtimes.includes('node') ? 'Node.js' : 'a browser'}`,
    };
  }
  if (backend === 'wasm') return tryWasm(info, options, runtime);
  if (backend === 'webgpu' && runtime === 'node') return tryNodeWebGpu(info, options, auto);
  if (backend === 'webgpu') return tryBrowserWebGpu(info, options);
  let renderer: WebGlRenderer | undefined;
  if (backend === 'webgl') {
    renderer = probeWebGlRenderer();
    if (renderer === undefined) return { ok: false, reason: 'this browser cannot make a WebGL context' };
    if (auto && renderer.software) {
      return {
        ok: false,
        reason: `WebGL runs on software rendering (${renderer.renderer}), several times slower than wasm; auto skips it (ask for webgl to use it)`,
        renderer,
      };
    }
  }
  const loaded = await load(info, options);
  if (loaded.error) return loaded.error;
  const failure = await activate(info.tfjsName);
  if (failure !== undefined) return { ok: false, reason: `${info.packageName}: ${failure}` };
  if (backend === 'cpu') {
    const kernels = options.trainingKernels !== false;
    if (kernels) registerCpuTrainingKernels(info.tfjsName);
    return {
      ok: true,
      reason: `${backend} (${info.description}, ${kernels ? 'distilljs training kernels' : 'stock kernels'})`,
      kernels,
    };
  }
  if (renderer !== undefined) {
    const kind = renderer.software ? 'software rendering' : 'GPU';
    return { ok: true, reason: `webgl (${info.description} on ${kind}: ${renderer.renderer})`, renderer };
  }
  return { ok: true, reason: `${backend} (${info.description})` };
}

/** webgpu in a browser: an adapter is asked for first, so a missing one is a reason, not a tfjs TypeError. */
async function tryBrowserWebGpu(info: BackendInfo, options: SelectBackendOptions): Promise<TryResult> {
  const probe = await probeBrowserWebGpu(typeof navigator === 'undefined' ? undefined : navigator.gpu);
  if (!probe.ok) return { ok: false, reason: probe.reason };
  const loaded = await load(info, options);
  if (loaded.error) return loaded.error;
  const failure = await activate(info.tfjsName);
  if (failure !== undefined) return { ok: false, reason: `${info.packageName}: ${failure}` };
  const where = probe.report.software ? 'software, on the CPU' : 'GPU';
  return {
    ok: true,
    reason: `webgpu (WebGPU compute shaders on ${adapterPhrase(probe.report).replace(/, (software|hardware)$/, '')}, ${where})`,
    adapter: probe.report,
  };
}

function engineName(backend: BackendName, tfjsName: string, result: TryResult): string {
  const base = `tfjs ${tf.version_core} ${tfjsName}`;
  if (backend === 'tensorflow-gpu') return `${base} (gpu)`;
  if (backend === 'webgpu' && result.adapter !== undefined) {
    const a = result.adapter;
    return `${base} (${[a.vendor, a.architecture].filter(Boolean).join(' ') || 'adapter'}${a.software ? ', software' : ''})`;
  }
  if (backend === 'webgl' && result.renderer?.software) return `${base} (software rendering)`;
  if (backend !== 'wasm') return base;
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'simd' : 'no simd';
  const kernels = result.kernels ? `, distilljs kernels${result.relaxed ? ', relaxed simd' : ''}` : '';
  return `${base} (${simd}, ${result.threads ?? 1} thread${result.threads === 1 ? '' : 's'}${kernels})`;
}

/**
 * Chooses, loads and activates a TensorFlow.js backend, and says why.
 *
 * `auto` tries, in Node: `@tensorflow/tfjs-node-gpu`, webgpu through Dawn on a hardware adapter (never a
 * software one), `@tensorflow/tfjs-node` (optional packages, loaded by dynamic import when installed), then
 * wasm, then cpu; in a browser: webgpu, webgl, wasm, cpu. The first
 * that loads and initialises wins. When wasm or cpu is chosen, its distilljs training kernels are registered
 * and, for wasm in Node, XNNPACK threads are enabled (see {@link SelectBackendOptions}).
 *
 * @param request `auto` or one backend name.
 * @returns the backend, its tfjs name, one sentence of reason and every attempt in order.
 * @throws {NotInstalledError} when a named backend's package is not installed (the message names the
 *   package and the install command).
 * @throws {DistillError} code `backend-unavailable` when a named backend is installed but cannot run here,
 *   or when `auto` finds nothing that runs.
 * @throws {InvalidArgumentError} for a request that is not a backend name.
 */
export async function selectBackend(
  request: BackendRequest = 'auto',
  options: SelectBackendOptions = {},
): Promise<SelectedBackend> {
  if (!isBackendRequest(request)) {
    invalidArgument(
      'selectBackend',
      'request',
      `one of ${BACKEND_REQUESTS.map((r) => `'${r}'`).join(', ')}`,
      request,
    );
  }
  if (
    options.threads !== undefined &&
    options.threads !== 'auto' &&
    !(Number.isInteger(options.threads) && options.threads >= 1 && options.threads <= 64)
  ) {
    invalidArgument('selectBackend', 'options.threads', "'auto' or an integer in [1, 64]", options.threads);
  }
  const runtime = options.runtime ?? detectRuntime();
  const candidates = request === 'auto' ? AUTO_ORDER[runtime] : [request];
  const attempts: BackendAttempt[] = [];
  for (const backend of candidates) {
    const result = await tryBackend(backend, options, runtime, request === 'auto');
    attempts.push({ backend, ok: result.ok, reason: result.reason });
    if (result.ok) {
      const info = backendInfo(backend);
      const skipped = attempts.filter((a) => !a.ok).map((a) => `${a.backend}: ${a.reason}`);
      const reason =
        request === 'auto'
          ? `auto picked ${result.reason}${skipped.length ? ` after ${skipped.join('; ')}` : ' (the first choice)'}`
          : `requested explicitly: ${result.reason}`;
      return {
        requested: request,
        backend,
        tfjsName: info.tfjsName,
        reason,
        attempts,
        engine: engineName(backend, info.tfjsName, result),
        trainingKernels: result.kernels === true,
        ...(result.threads !== undefined ? { threads: result.threads } : {}),
        ...(result.adapter !== undefined ? { adapter: result.adapter } : {}),
        ...(result.renderer !== undefined ? { renderer: result.renderer } : {}),
      };
    }
    if (request !== 'auto') {
      const info = backendInfo(backend);
      if (result.notInstalled) {
        throw new NotInstalledError(
          `selectBackend: backend '${backend}' needs the package ${result.missing ?? info.packageName}, which is not installed.`,
          installCommand(backend, runtime),
        );
      }
      throw new DistillError(`selectBackend: backend '${backend}' is not available here: ${result.reason}.`, {
        code: 'backend-unavailable',
        where: 'selectBackend(request)',
      });
    }
  }
  throw new DistillError(
    `selectBackend: no backend could start (${attempts.map((a) => `${a.backend}: ${a.reason}`).join('; ')}). ` +
      `Install one, e.g. ${installCommand('wasm', runtime)}.`,
    { code: 'backend-unavailable', where: 'selectBackend(request)' },
  );
}
