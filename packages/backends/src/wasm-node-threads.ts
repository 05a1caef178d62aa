import { firstLine, importNode } from './runtime.js';

/** The parts of `@tensorflow/tfjs-backend-wasm` this module uses. */
export interface WasmModuleApi {
  setThreadsCount(n: number): void;
  getThreadsCount(): number;
}

/** How Node wasm threads were set up. */
export interface NodeThreadsPlan {
  /** Undoes the temporary patches; call right after `tf.setBackend('wasm')` resolved. */
  restore(): void;
  /** Lets Node exit while the thread pool idles; call after the backend initialised. */
  unrefWorkers(backend: unknown): void;
}

type NodeModules = {
  fs: typeof import('node:fs');
  os: typeof import('node:os');
  path: typeof import('node:path');
  module: typeof import('node:module');
};

async function nodeModules(): Promise<NodeModules> {
  const [fs, os, path, module] = await Promise.all([
    importNode<NodeModules['fs']>('node:fs'),
    importNode<NodeModules['os'] & { default?: NodeModules['os'] }>('node:os'),
    importNode<NodeModules['path']>('node:path'),
    importNode<NodeModules['module']>('node:module'),
  ]);
  // The default export is the mutable module object (its cpus() is patched during initialisation).
  return { fs, os: os.default ?? os, path, module };
}

/** Where the wasm backend's files are in Node.js. */
export interface NodeWasmFiles {
  /** The directory of the three `.wasm` binaries (ends in `/`), for `setWasmPaths`. */
  readonly wasmDir: string;
  /** The Emscripten script of the threaded SIMD build (`tfjs-backend-wasm-threaded-simd.js`). */
  readonly threadedFactory: string;
  /** The CommonJS module exporting its pthread worker's source (`...threaded-simd.worker.js`). */
  readonly threadedWorker: string;
}

/** The names the files have beside a bundled app (the scripts renamed `.cjs`: they are CommonJS). */
export const BUNDLED_WASM_FILES = {
  wasm: ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'],
  threadedFactory: 'tfjs-backend-wasm-threaded-simd.cjs',
  threadedWorker: 'tfjs-backend-wasm-threaded-simd.worker.cjs',
} as const;

/**
 * Finds the wasm backend's files: in the installed `@tensorflow/tfjs-backend-wasm` package, or else
 * beside this module (an app bundled into one file with the files of {@link BUNDLED_WASM_FILES} next to
 * it). Undefined when neither holds them.
 */
export async function nodeWasmFiles(moduleUrl: string): Promise<NodeWasmFiles | undefined> {
  const { fs, path, module } = await nodeModules();
  try {
    const dir = path.dirname(
      module.createRequire(moduleUrl).resolve('@tensorflow/tfjs-backend-wasm/package.json'),
    );
    return {
      wasmDir: `${path.join(dir, 'dist')}/`,
      threadedFactory: path.join(dir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js'),
      threadedWorker: path.join(dir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.worker.js'),
    };
  } catch {
    // not installed: a bundled app?
  }
  if (!moduleUrl.startsWith('file:')) return undefined;
  const { fileURLToPath } = await importNode<typeof import('node:url')>('node:url');
  const here = path.dirname(fileURLToPath(moduleUrl));
  if (!BUNDLED_WASM_FILES.wasm.every((f) => fs.existsSync(path.join(here, f)))) return undefined;
  return {
    wasmDir: `${here}/`,
    threadedFactory: path.join(here, BUNDLED_WASM_FILES.threadedFactory),
    threadedWorker: path.join(here, BUNDLED_WASM_FILES.threadedWorker),
  };
}

/**
 * Prepares the threaded SIMD build of tfjs-backend-wasm 4.22 to start in Node.js. tfjs turns threads off in
 * Node (`WASM_HAS_MULTITHREAD_SUPPORT` returns false when `IS_NODE`, tensorflow/tfjs#3830) because three
 * things break there, each worked around here for the duration of the backend's initialisation:
 *
 * 1. The pthread worker script is handed to Emscripten as a `blob:` URL, which Node's `worker_threads`
 *    cannot load: we write the same script (shipped in the package as a string) to a file in the OS temp
 *    directory and answer `URL.createObjectURL` with that path.
 * 2. Inside each worker, the main script arrives as a Blob that the worker turns into another `blob:` URL:
 *    the worker file starts with a line answering that with the path of the package's own
 *    `wasm-out/tfjs-backend-wasm-threaded-simd.js`.
 * 3. The thread pool is capped at `emscripten_num_logical_cores() / 2`, i.e. `os.cpus().length / 2`
 *    (1 on a 2-core machine): `os.cpus()` reports `2 * threads` entries while the pool is created.
 *
 * The workers are unref'd afterwards so that a finished script exits.
 *
 * @param threads XNNPACK threads wanted (>= 2).
 * @param files where the `.wasm` binaries and the threaded build's two scripts are (see {@link nodeWasmFiles}).
 */
export async function prepareNodeWasmThreads(
  tfEnv: { set(flag: string, value: boolean): void },
  wasmApi: WasmModuleApi,
  threads: number,
  files: NodeWasmFiles,
): Promise<NodeThreadsPlan> {
  const { fs, os, path, module } = await nodeModules();
  const requireHere = module.createRequire(path.join(files.wasmDir, 'package.json'));
  const factoryPath = files.threadedFactory;
  const workerSource = requireHere(files.threadedWorker).wasmWorkerContents as string;
  if (typeof workerSource !== 'string' || !fs.existsSync(factoryPath)) {
    throw new Error(`the threaded build is missing from ${path.dirname(factoryPath)}`);
  }
  // The string keeps escaped newlines as real ones; tfjs re-escapes them the same way.
  const body = `URL.createObjectURL = () => ${JSON.stringify(factoryPath)};\nURL.revokeObjectURL = () => {};\n${workerSource.replace(/\n/g, '\\n')}`;
  const dir = path.join(os.tmpdir(), 'distilljs-wasm-threads');
  fs.mkdirSync(dir, { recursive: true });
  const workerPath = path.join(dir, `worker-${hash(body)}.cjs`);
  if (!fs.existsSync(workerPath)) {
    const tmp = `${workerPath}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, body);
    fs.renameSync(tmp, workerPath);
  }

  const realCreateObjectURL = URL.createObjectURL;
  const realCpus = os.cpus;
  URL.createObjectURL = (obj: Blob | MediaSource) =>
    obj instanceof Blob && obj.type === 'application/javascript' ? workerPath : realCreateObjectURL(obj);
  os.cpus = () => {
    const cpus = realCpus();
    const first = cpus[0];
    while (first !== undefined && cpus.length < 2 * threads) cpus.push(first);
    return cpus;
  };
  tfEnv.set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  wasmApi.setThreadsCount(threads);
  return {
    restore() {
      URL.createObjectURL = realCreateObjectURL;
      os.cpus = realCpus;
    },
    unrefWorkers(backend: unknown) {
      const pthread = (backend as { wasm?: { PThread?: Record<string, unknown> } }).wasm?.PThread;
      for (const key of ['unusedWorkers', 'runningWorkers']) {
        const workers = pthread?.[key];
        if (Array.isArray(workers)) {
          for (const w of workers) (w as { unref?: () => void }).unref?.();
        }
      }
    },
  };
}

/** Describes why threads could not be set up, in one line. */
export function threadsFailure(error: unknown): string {
  return `wasm threads unavailable in Node (${firstLine(error)}); running single-threaded`;
}

function hash(text: string): string {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return (h >>> 0).toString(16);
}
