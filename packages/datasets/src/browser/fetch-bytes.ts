import { DistillError, InvalidFileError } from '@distilljs/core';
import type { FetchLike, ProgressCallback } from '../download-types.js';

/** Options of {@link fetchBytes}. */
export interface FetchBytesOptions {
  readonly fetch?: FetchLike;
  readonly onProgress?: ProgressCallback;
  /** When given, the bytes must have this sha256 (checked with Web Crypto). */
  readonly sha256?: string;
}

function toHex(buf: ArrayBuffer): string {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Fetches a whole file into memory with progress reports, optionally verifying its sha256. */
export async function fetchBytes(url: string, options: FetchBytesOptions = {}): Promise<Uint8Array> {
  const fetchFn: FetchLike = options.fetch ?? ((u, init) => fetch(u, init));
  const res = await fetchFn(url);
  if (!res.ok) {
    await res.body?.cancel();
    throw new DistillError(`fetchBytes: GET ${url} failed with HTTP ${res.status} ${res.statusText}`.trim(), {
      code: 'download-failed',
      where: url,
    });
  }
  const length = Number(res.headers.get('content-length') ?? Number.NaN);
  const total = Number.isFinite(length) ? length : undefined;
  const chunks: Uint8Array[] = [];
  let received = 0;
  if (res.body) {
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      received += value.length;
      options.onProgress?.({ url, file: url, receivedBytes: received, totalBytes: total, done: false });
    }
  }
  const bytes = new Uint8Array(received);
  let o = 0;
  for (const c of chunks) {
    bytes.set(c, o);
    o += c.length;
  }
  if (options.sha256) {
    const got = toHex(await crypto.subtle.digest('SHA-256', bytes));
    if (got !== options.sha256.toLowerCase()) {
      throw new InvalidFileError(
        `fetchBytes: ${url} has sha256 ${got}, expected ${options.sha256.toLowerCase()}`,
        {
          where: url,
        },
      );
    }
  }
  options.onProgress?.({
    url,
    file: url,
    receivedBytes: received,
    totalBytes: total ?? received,
    done: true,
  });
  return bytes;
}
