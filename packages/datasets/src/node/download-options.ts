import type { FetchLike, ProgressCallback } from '../download-types.js';

/** Download settings shared by the Node loaders. */
export interface NodeDownloadOptions {
  /** Where downloads are cached (default: `DISTILLJS_CACHE`, else the user's cache dir; see `resolveCacheDir`). */
  readonly cacheDir?: string;
  /** Called as bytes arrive, per file. */
  readonly onProgress?: ProgressCallback;
  /** A `fetch` to use instead of the global one. */
  readonly fetch?: FetchLike;
  /** Allow `http:` to a loopback address (tests against a local server). Never needed for real downloads. */
  readonly allowHttpLoopback?: boolean;
}
