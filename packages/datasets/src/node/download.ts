import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DistillError, InvalidFileError, invalidArgument } from '@distilljs/core';
import type { FetchLike, ProgressCallback } from '../download-types.js';

/** Options of {@link downloadFile}. */
export interface DownloadFileOptions {
  /** An `https:` URL (or `http:` on a loopback address when `allowHttpLoopback`). */
  readonly url: string;
  /** The expected sha256 of the file, 64 hex digits. */
  readonly sha256: string;
  /** Where the verified file is stored. */
  readonly dest: string;
  readonly fetch?: FetchLike;
  readonly onProgress?: ProgressCallback;
  /** Allow plain `http:` to 127.0.0.0/8, `localhost` and `[::1]` (for tests against a local server). */
  readonly allowHttpLoopback?: boolean;
  readonly signal?: AbortSignal;
}

/** What {@link downloadFile} did. */
export interface DownloadResult {
  readonly path: string;
  /** True when a verified file was already in place and nothing was fetched. */
  readonly cached: boolean;
  /** Bytes of an earlier, interrupted download that were kept (resumed with an HTTP Range request). */
  readonly resumedFrom: number;
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/** Throws unless `url` is https (or http on loopback when allowed). */
export function checkDownloadUrl(fn: string, url: string, allowHttpLoopback = false): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    invalidArgument(fn, 'url', 'an absolute https:// URL', url);
  }
  if (parsed.protocol === 'https:') return parsed;
  if (parsed.protocol === 'http:' && allowHttpLoopback && LOOPBACK.test(parsed.hostname)) return parsed;
  invalidArgument(
    fn,
    'url',
    allowHttpLoopback
      ? 'an https:// URL, or http:// on a loopback address'
      : 'an https:// URL (downloads are https only)',
    url,
  );
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

async function hashFile(path: string, hash = createHash('sha256')): Promise<ReturnType<typeof createHash>> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash;
}

async function removeQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}

/**
 * Downloads one file to `dest` and verifies its sha256, with the guarantees a cache needs:
 * - a file already at `dest` with the right hash is used as is (no request); one with a wrong hash is
 *   deleted and downloaded again;
 * - bytes go to `dest + '.part'`, which is renamed to `dest` only once the whole file is verified, so
 *   `dest` is never a partial or corrupt file;
 * - an interrupted download leaves its `.part`, and the next call resumes it with an HTTP Range request
 *   (or starts over when the server ignores ranges);
 * - a checksum mismatch deletes the downloaded bytes and throws {@link InvalidFileError}.
 */
export async function downloadFile(options: DownloadFileOptions): Promise<DownloadResult> {
  const fn = 'downloadFile';
  const { url, dest, onProgress, signal } = options;
  checkDownloadUrl(fn, url, options.allowHttpLoopback);
  const want = typeof options.sha256 === 'string' ? options.sha256.toLowerCase() : '';
  if (!/^[0-9a-f]{64}$/.test(want)) invalidArgument(fn, 'sha256', '64 hex digits', options.sha256);
  if (typeof dest !== 'string' || dest === '') invalidArgument(fn, 'dest', 'a file path', dest);
  const fetchFn: FetchLike = options.fetch ?? ((u, init) => fetch(u, init));
  await mkdir(dirname(dest), { recursive: true });

  if ((await sizeOf(dest)) !== undefined) {
    if ((await hashFile(dest)).digest('hex') === want) {
      onProgress?.({
        url,
        file: dest,
        receivedBytes: (await sizeOf(dest)) ?? 0,
        totalBytes: undefined,
        done: true,
      });
      return { path: dest, cached: true, resumedFrom: 0 };
    }
    await removeQuietly(dest);
  }

  const part = `${dest}.part`;
  let start = (await sizeOf(part)) ?? 0;
  let res = await fetchFn(url, {
    headers: start > 0 ? { Range: `bytes=${start}-` } : {},
    ...(signal ? { signal } : {}),
  });
  if (start > 0 && res.status === 416) {
    // The part may already hold the whole file.
    await res.body?.cancel();
    if ((await hashFile(part)).digest('hex') === want) {
      await rename(part, dest);
      onProgress?.({ url, file: dest, receivedBytes: start, totalBytes: start, done: true });
      return { path: dest, cached: false, resumedFrom: start };
    }
    await removeQuietly(part);
    start = 0;
    res = await fetchFn(url, { headers: {}, ...(signal ? { signal } : {}) });
  }
  const resumed =
    start > 0 && res.status === 206 && (res.headers.get('content-range') ?? '').startsWith(`bytes ${start}-`);
  if (res.status === 206 && !resumed) {
    // A range we did not ask for: start over with the whole file.
    await res.body?.cancel();
    await removeQuietly(part);
    res = await fetchFn(url, { headers: {}, ...(signal ? { signal } : {}) });
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new DistillError(`${fn}: GET ${url} failed with HTTP ${res.status} ${res.statusText}`.trim(), {
      code: 'download-failed',
      where: url,
    });
  }
  if (!resumed) start = 0;
  const length = Number(res.headers.get('content-length') ?? Number.NaN);
  const total = Number.isFinite(length) ? start + length : undefined;
  const hash = start > 0 ? await hashFile(part) : createHash('sha256');
  const fh = await open(part, start > 0 ? 'a' : 'w');
  let received = start;
  try {
    if (res.body) {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        await fh.write(chunk);
        hash.update(chunk);
        received += chunk.length;
        onProgress?.({ url, file: dest, receivedBytes: received, totalBytes: total, done: false });
      }
    }
  } catch (cause) {
    throw new DistillError(
      `${fn}: download of ${url} was interrupted after ${received} bytes; the part is kept in ${part} and the next call resumes it`,
      { code: 'download-failed', where: url, cause },
    );
  } finally {
    await fh.close();
  }
  if (total !== undefined && received < total) {
    throw new DistillError(
      `${fn}: download of ${url} ended after ${received} of ${total} bytes; the part is kept in ${part} and the next call resumes it`,
      { code: 'download-failed', where: url },
    );
  }
  const got = hash.digest('hex');
  if (got !== want) {
    await removeQuietly(part);
    throw new InvalidFileError(
      `${fn}: ${url} has sha256 ${got}, expected ${want}; the downloaded file was deleted and nothing was kept in ${dirname(dest)}`,
      { where: dest },
    );
  }
  await rename(part, dest);
  onProgress?.({ url, file: dest, receivedBytes: received, totalBytes: total ?? received, done: true });
  return { path: dest, cached: false, resumedFrom: start };
}
