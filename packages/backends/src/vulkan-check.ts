import { importNode } from './runtime.js';

/** The environment and file system a Vulkan check looks at (the real ones unless a test gives its own). */
export interface VulkanCheckInput {
  /** Environment variables (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Directories searched for `libvulkan.so.1` first (Dawn also looks beside `dawn.node`). */
  readonly extraLoaderDirs?: readonly string[];
  /**
   * Whether to consult the system's default library directories, `/etc/ld.so.cache` and
   * `/etc/vulkan/icd.d` (default true); the XDG directories always count.
   */
  readonly systemDirs?: boolean;
}

/** What {@link checkVulkan} found. */
export interface VulkanCheck {
  /** Where the loader `libvulkan.so.1` is, or `ld.so.cache` when only the linker cache names it. */
  readonly loader: string | undefined;
  /** The driver manifests (ICD JSON files) the loader will read. */
  readonly icds: readonly string[];
  /** One line saying what is missing and what fixes it; undefined when both are there. */
  readonly problem: string | undefined;
}

const LOADER = 'libvulkan.so.1';
const SYSTEM_LIB_DIRS = [
  '/lib/x86_64-linux-gnu',
  '/usr/lib/x86_64-linux-gnu',
  '/lib/aarch64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
  '/lib64',
  '/usr/lib64',
  '/lib',
  '/usr/lib',
  '/usr/local/lib',
];
/** Chromium's own copy of the loader and its SwiftShader driver (Debian's `chromium` package). */
const CHROMIUM_DIR = '/usr/lib/chromium';

function splitPaths(value: string | undefined): string[] {
  return (value ?? '').split(':').filter((p) => p.length > 0);
}

/** The directories the Vulkan loader searches for driver manifests when no variable names them. */
function icdDirs(env: VulkanCheckInput['env'] & object, system: boolean): string[] {
  const home = env.HOME ?? '';
  const configHome = env.XDG_CONFIG_HOME ?? (home ? `${home}/.config` : '');
  const dataHome = env.XDG_DATA_HOME ?? (home ? `${home}/.local/share` : '');
  const configDirs = splitPaths(env.XDG_CONFIG_DIRS ?? '/etc/xdg');
  const dataDirs = splitPaths(env.XDG_DATA_DIRS ?? '/usr/local/share:/usr/share');
  return [configHome, ...configDirs, ...(system ? ['/etc'] : []), dataHome, ...dataDirs]
    .filter((d) => d.length > 0)
    .map((d) => `${d}/vulkan/icd.d`);
}

/**
 * Looks for the Vulkan loader and a Vulkan driver the way the loader itself would (Linux), without loading
 * either, so that a missing piece is named in one line instead of the native warnings Dawn prints.
 */
export async function checkVulkan(input: VulkanCheckInput = {}): Promise<VulkanCheck> {
  const fs = await importNode<typeof import('node:fs')>('node:fs');
  const env = input.env ?? (process.env as Record<string, string | undefined>);
  const loaderDirs = [
    ...(input.extraLoaderDirs ?? []),
    ...splitPaths(env.LD_LIBRARY_PATH),
    ...(input.systemDirs === false ? [] : SYSTEM_LIB_DIRS),
  ];
  let loader = loaderDirs.map((d) => `${d}/${LOADER}`).find((f) => fs.existsSync(f));
  if (loader === undefined && input.systemDirs !== false) {
    try {
      if (fs.readFileSync('/etc/ld.so.cache').includes(LOADER)) loader = 'ld.so.cache';
    } catch {
      // no linker cache: only the directories count
    }
  }
  const chromium = fs.existsSync(`${CHROMIUM_DIR}/${LOADER}`);
  if (loader === undefined) {
    const fix = chromium
      ? `apt-get install libvulkan1, or LD_LIBRARY_PATH=${CHROMIUM_DIR} (Chromium's copy)`
      : 'apt-get install libvulkan1 (or put libvulkan.so.1 beside dawn.node)';
    return { loader, icds: [], problem: `the Vulkan loader ${LOADER} was not found: ${fix}` };
  }
  const named = [
    ...splitPaths(env.VK_ICD_FILENAMES ?? env.VK_DRIVER_FILES),
    ...splitPaths(env.VK_ADD_DRIVER_FILES),
  ];
  if (named.length > 0) {
    const missing = named.filter((f) => !fs.existsSync(f));
    const variable = env.VK_ICD_FILENAMES !== undefined ? 'VK_ICD_FILENAMES' : 'VK_DRIVER_FILES';
    const icds = named.filter((f) => fs.existsSync(f));
    if (missing.length > 0) {
      return { loader, icds, problem: `${variable} names ${missing.join(', ')}, which does not exist` };
    }
    return { loader, icds, problem: undefined };
  }
  const dirs = icdDirs(env, input.systemDirs !== false);
  const icds = dirs.flatMap((d) => {
    try {
      return fs
        .readdirSync(d)
        .filter((f) => f.endsWith('.json'))
        .map((f) => `${d}/${f}`);
    } catch {
      return [];
    }
  });
  if (icds.length > 0) return { loader, icds, problem: undefined };
  const swiftshader = `${CHROMIUM_DIR}/vk_swiftshader_icd.json`;
  const fix = fs.existsSync(swiftshader)
    ? `install the GPU's driver (NVIDIA's ships nvidia_icd.json), or VK_ICD_FILENAMES=${swiftshader} for SwiftShader on the CPU`
    : "install the GPU's driver (NVIDIA's ships nvidia_icd.json) or mesa-vulkan-drivers";
  return {
    loader,
    icds,
    problem: `no Vulkan driver found (no ICD file in ${dirs.filter((d) => !d.includes('/.')).join(', ')}): ${fix}`,
  };
}
