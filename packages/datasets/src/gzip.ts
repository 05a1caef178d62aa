import { InvalidFileError } from '@distilljs/core';

/**
 * Decompresses a complete gzip file. Injected into the shared parsers so that the same parsing code runs
 * in Node (`node:zlib`) and in the browser (`DecompressionStream('gzip')`).
 */
export type Gunzip = (bytes: Uint8Array) => Promise<Uint8Array>;

/** True when `bytes` start with the gzip magic number `1f 8b`. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** A {@link Gunzip} built on the web-standard `DecompressionStream('gzip')` (browsers, Deno, Node >= 18). */
export const webGunzip: Gunzip = async (bytes) => {
  if (typeof DecompressionStream === 'undefined') {
    throw new Error('DecompressionStream is not available in this runtime');
  }
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
};

/**
 * Returns `bytes` unchanged when they are not gzip, or their decompressed content when they start with the
 * gzip magic. A stream that starts like gzip but does not decompress (corrupt, truncated) is an
 * {@link InvalidFileError} naming `file`.
 */
export async function maybeGunzip(bytes: Uint8Array, file: string, gunzip: Gunzip): Promise<Uint8Array> {
  if (!isGzip(bytes)) return bytes;
  try {
    return await gunzip(bytes);
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new InvalidFileError(
      `${file}: starts with the gzip magic 1f 8b but is not a valid gzip stream (${why}); expected a complete gzip file or raw IDX/CIFAR bytes`,
      { where: `${file}@0`, cause },
    );
  }
}
