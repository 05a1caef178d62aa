import * as tf from '@tensorflow/tfjs-core';
import { type AdapterLike, describeAdapter, type GpuAdapterReport } from './gpu-adapter.js';
import { firstLine, importNode, importOptional, isNotFound } from './runtime.js';
import { checkVulkan } from './vulkan-check.js';

/** The npm package that ships Dawn for Node.js as a prebuilt `dawn.node`, and the version tested. */
export const DAWN_PACKAGE = 'webgpu';
export const DAWN_VERSION = '0.6.2';

interface AdapterLimits {
  readonly [name: string]: number;
}
interface NodeGpuAdapter extends AdapterLike {
  readonly features: { has(name: string): boolean };
  readonly limits: AdapterLimits;
  requestDevice(descriptor: unknown): Promise<unknown>;
}
interface NodeGpu {
  requestAdapter(options?: {
    powerPreference?: 'high-performance' | 'low-power';
  }): Promise<NodeGpuAdapter | null>;
}
interface DawnModule {
  create(flags: string[]): NodeGpu;
  globals: Record<string, unknown>;
}
type WebGpuBackendClass = new (device: unknown, adapterInfo?: unknown) => tf.KernelBackend;

/** Where Dawn comes from: the `webgpu` package, or a `dawn.node` file (e.g. beside a bundled app). */
export interface DawnSource {
  /** Path of a `dawn.node` to load instead of the `webgpu` package. */
  readonly dawnNode?: string | undefined;
}

/** The outcome of {@link startNodeWebGpu}. */
export type NodeWebGpuStart =
  | {
      readonly ok: true;
      readonly adapter: NodeGpuAdapter;
      readonly report: GpuAdapterReport;
      readonly gpu: NodeGpu;
    }
  | { readonly ok: false; readonly reason: string; readonly notInstalled?: boolean };

/**
 * The GPU object of this process. Kept for the life of the process: when Dawn's GPU object is garbage
 * collected its instance goes with it, and every pending `mapAsync` then fails with "A valid external
 * Instance reference no longer exists".
 */
let processGpu: NodeGpu | undefined;

async function loadDawn(
  source: DawnSource,
): Promise<{ module?: DawnModule; dir?: string; error?: string; missing?: boolean }> {
  const { createRequire } = await importNode<typeof import('node:module')>('node:module');
  const { dirname } = await importNode<typeof import('node:path')>('node:path');
  const require = createRequire(import.meta.url);
  if (source.dawnNode !== undefined) {
    try {
      return { module: require(source.dawnNode) as DawnModule, dir: dirname(source.dawnNode) };
    } catch (error) {
      return { error: `${source.dawnNode} failed to load: ${firstLine(error)}` };
    }
  }
  try {
    const module = (await importOptional(DAWN_PACKAGE)) as DawnModule;
    const arch = process.platform === 'darwin' ? 'universal' : process.arch;
    const dir = `${dirname(require.resolve(`${DAWN_PACKAGE}/package.json`))}/dist/${process.platform}-${arch}`;
    return { module, dir };
  } catch (error) {
    if (isNotFound(error, DAWN_PACKAGE)) {
      return { missing: true, error: `${DAWN_PACKAGE} (Dawn for Node.js) is not installed` };
    }
    return { error: `${DAWN_PACKAGE} failed to load: ${firstLine(error)}` };
  }
}

/** Puts Dawn's GPU object at `navigator.gpu` and its classes (GPUBufferUsage, ...) on `globalThis`, once. */
function installGlobals(dawn: DawnModule): NodeGpu {
  const g = globalThis as Record<string, unknown> & { navigator?: { gpu?: NodeGpu } };
  if (processGpu !== undefined) return processGpu;
  for (const [key, value] of Object.entries(dawn.globals)) if (!(key in g)) g[key] = value;
  const gpu = g.navigator?.gpu ?? dawn.create([]);
  if (g.navigator === undefined) g.navigator = { gpu };
  else if (g.navigator.gpu === undefined) {
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, enumerable: true });
  }
  processGpu = gpu;
  return gpu;
}

/** The high-performance adapter, or whatever adapter there is when that request returns none. */
async function requestAdapter(gpu: NodeGpu): Promise<NodeGpuAdapter | null> {
  return (await gpu.requestAdapter({ powerPreference: 'high-performance' })) ?? (await gpu.requestAdapter());
}

/**
 * Sets WebGPU up in Node.js through Dawn: loads `dawn.node`, checks the Vulkan loader and driver on Linux
 * (naming what is missing in one line), installs `navigator.gpu` and requests an adapter.
 */
export async function startNodeWebGpu(source: DawnSource = {}): Promise<NodeWebGpuStart> {
  const dawn = await loadDawn(source);
  if (dawn.module === undefined)
    return { ok: false, reason: dawn.error ?? 'Dawn did not load', notInstalled: dawn.missing === true };
  if (process.platform === 'linux') {
    const vulkan = await checkVulkan({ extraLoaderDirs: dawn.dir === undefined ? [] : [dawn.dir] });
    if (vulkan.problem !== undefined) return { ok: false, reason: vulkan.problem };
  }
  let gpu: NodeGpu;
  let adapter: NodeGpuAdapter | null;
  try {
    gpu = installGlobals(dawn.module);
    adapter = await requestAdapter(gpu);
  } catch (error) {
    return { ok: false, reason: `Dawn failed to start: ${firstLine(error)}` };
  }
  if (adapter === null) {
    return {
      ok: false,
      reason:
        'Dawn found no WebGPU adapter on the Vulkan drivers present (check the GPU driver, or VK_ICD_FILENAMES)',
    };
  }
  return { ok: true, adapter, report: describeAdapter(adapter), gpu };
}

function deviceDescriptor(adapter: NodeGpuAdapter): unknown {
  // What @tensorflow/tfjs-backend-webgpu asks for in its own factory.
  const requiredFeatures = ['timestamp-query', 'bgra8unorm-storage'].filter((f) => adapter.features.has(f));
  const limits = adapter.limits;
  const pick = [
    'maxComputeWorkgroupStorageSize',
    'maxComputeWorkgroupsPerDimension',
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxComputeWorkgroupSizeX',
    'maxComputeInvocationsPerWorkgroup',
  ];
  return { requiredFeatures, requiredLimits: Object.fromEntries(pick.map((k) => [k, limits[k]])) };
}

/**
 * Registers tfjs's `webgpu` backend on the adapter {@link startNodeWebGpu} found (replacing the package's
 * own factory, which asks only for a high-performance adapter and fails when there is none). Does nothing
 * once the backend has been initialised.
 */
export function registerNodeWebGpuBackend(
  module: unknown,
  start: Extract<NodeWebGpuStart, { ok: true }>,
): string | undefined {
  const registry = (tf.engine() as unknown as { registry: Record<string, unknown> }).registry;
  if (registry.webgpu !== undefined) return undefined;
  const m = module as {
    WebGPUBackend?: WebGpuBackendClass;
    default?: { WebGPUBackend?: WebGpuBackendClass };
  };
  const Backend = m?.WebGPUBackend ?? m?.default?.WebGPUBackend;
  if (typeof Backend !== 'function') return 'the module has no WebGPUBackend export';
  let first: NodeGpuAdapter | undefined = start.adapter;
  if (tf.findBackendFactory('webgpu') !== null) tf.removeBackend('webgpu');
  tf.registerBackend(
    'webgpu',
    async () => {
      // An adapter makes one device; a later initialisation (after removeBackend) asks again.
      const adapter = first ?? (await requestAdapter(start.gpu));
      first = undefined;
      if (adapter === null) throw new Error('the WebGPU adapter is gone');
      const device = await adapter.requestDevice(deviceDescriptor(adapter));
      return new Backend(device, adapter.info);
    },
    3,
  );
  return undefined;
}
