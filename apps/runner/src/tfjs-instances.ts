import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The distilljs packages the runner composes. */
export const DISTILLJS_PACKAGES = [
  '@distilljs/core',
  '@distilljs/losses',
  '@distilljs/models',
  '@distilljs/datasets',
  '@distilljs/trainer',
  '@distilljs/backends',
] as const;

/** Where one package's `@tensorflow/tfjs-core` (or another tfjs package) resolves. */
export interface TfjsResolution {
  /** Who asks: `@distilljs/runner` or a distilljs package. */
  readonly from: string;
  /** Real path of the resolved entry file, or undefined when it does not resolve. */
  readonly path: string | undefined;
  readonly version: string | undefined;
}

/** The answer of {@link checkTfjsInstances}. */
export interface TfjsInstanceReport {
  readonly package: string;
  readonly resolutions: readonly TfjsResolution[];
  /** Distinct resolved files: exactly one when every package shares one tfjs engine. */
  readonly distinct: readonly string[];
  /** Distinct copies of the package loaded in this process (from the module cache). */
  readonly loaded: readonly string[];
  readonly single: boolean;
}

function packageRoot(file: string): string | undefined {
  let dir = dirname(file);
  while (dir !== dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  return undefined;
}

function packageName(root: string): string | undefined {
  try {
    return JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).name as string;
  } catch {
    return undefined;
  }
}

function resolveFrom(
  req: NodeRequire,
  id: string,
): { path: string | undefined; version: string | undefined } {
  try {
    const path = realpathSync(req.resolve(id));
    const root = packageRoot(path);
    const version = root
      ? (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version as string)
      : undefined;
    return { path, version };
  } catch {
    return { path: undefined, version: undefined };
  }
}

/**
 * Resolves `pkg` (default `@tensorflow/tfjs-core`) from the runner and from every distilljs package the
 * runner depends on, and lists the copies loaded in this process. One tfjs engine means one file.
 */
export function checkTfjsInstances(pkg = '@tensorflow/tfjs-core'): TfjsInstanceReport {
  const runnerRequire = createRequire(import.meta.url);
  const resolutions: TfjsResolution[] = [{ from: '@distilljs/runner', ...resolveFrom(runnerRequire, pkg) }];
  for (const dep of DISTILLJS_PACKAGES) {
    let depRoot: string | undefined;
    try {
      depRoot = packageRoot(realpathSync(runnerRequire.resolve(`${dep}/package.json`)));
    } catch {
      depRoot = undefined;
    }
    if (!depRoot) {
      resolutions.push({ from: dep, path: undefined, version: undefined });
      continue;
    }
    resolutions.push({ from: dep, ...resolveFrom(createRequire(join(depRoot, 'package.json')), pkg) });
  }
  const distinct = [...new Set(resolutions.map((r) => r.path).filter((p): p is string => p !== undefined))];
  const loaded = [
    ...new Set(
      Object.keys(runnerRequire.cache)
        .filter((k) => k.includes(`/${pkg}/`))
        .map((k) => packageRoot(realpathSync(k)))
        .filter((root): root is string => root !== undefined && packageName(root) === pkg),
    ),
  ];
  return { package: pkg, resolutions, distinct, loaded, single: distinct.length === 1 && loaded.length <= 1 };
}
