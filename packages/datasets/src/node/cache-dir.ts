import { resolve } from 'node:path';
import envPaths from 'env-paths';

/**
 * The directory datasets are downloaded to: the `cacheDir` option when given, else the `DISTILLJS_CACHE`
 * environment variable, else the user's cache directory (`~/.cache/distilljs` on Linux,
 * `~/Library/Caches/distilljs` on macOS, `%LOCALAPPDATA%\distilljs\Cache` on Windows).
 */
export function resolveCacheDir(cacheDir?: string): string {
  if (cacheDir) return resolve(cacheDir);
  const fromEnv = process.env.DISTILLJS_CACHE;
  if (fromEnv) return resolve(fromEnv);
  return envPaths('distilljs', { suffix: '' }).cache;
}
