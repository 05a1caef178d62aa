/** Where the code runs, as far as backend choice is concerned. */
export type Runtime = 'node' | 'browser';

/** Detects Node.js (including Electron's main process and Deno's Node mode) versus a browser/worker. */
export function detectRuntime(): Runtime {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string' ? 'node' : 'browser';
}

/**
 * `import()` of a package that may be absent, with a variable specifier so that bundlers (Vite, esbuild,
 * webpack) neither try to resolve it at build time nor fail when it is not installed.
 */
export async function importOptional(specifier: string): Promise<unknown> {
  const spec = specifier;
  return import(/* @vite-ignore */ /* webpackIgnore: true */ spec);
}

/**
 * True when `error` says that `pkg` itself could not be found, as Node (`ERR_MODULE_NOT_FOUND`), Vite's
 * module runner ("Could not resolve ... Is it installed?") or a browser ("Failed to resolve module
 * specifier") word it. A package that is present but fails to load (a missing native library, a broken
 * dependency) is not "not found".
 */
export function isNotFound(error: unknown, pkg: string): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? (message.split('\n')[0] ?? '') : '';
  const names = [`'${pkg}'`, `"${pkg}"`, ` ${pkg} `, `'${pkg}/`, `"${pkg}/`];
  const mentionsPkg = names.some((n) => text.includes(n));
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return mentionsPkg;
  return (
    mentionsPkg &&
    /Cannot find (module|package)|Could not resolve|Failed to resolve module specifier|Failed to load url/.test(
      text,
    )
  );
}

/** The first line of an error's message, for one-line reasons. */
export function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split('\n')[0] ?? '').trim();
}

/**
 * `import()` of a Node.js built-in (`node:fs`, `node:module`, ...) through a variable specifier, so browser
 * bundles never try to include or stub it; only called on Node code paths.
 */
export async function importNode<T>(specifier: `node:${string}`): Promise<T> {
  const spec: string = specifier;
  const mod = (await import(/* @vite-ignore */ /* webpackIgnore: true */ spec)) as T & { default?: T };
  return mod;
}
