import { InvalidFileError } from './errors.js';

/** Magic of the checksum trailer {@link sealChecksum} appends: the ASCII bytes `DJSSHA256` and a version byte. */
export const CHECKSUM_MAGIC = 'DJSSHA2561';
const DIGEST_BYTES = 32;
/** Bytes {@link sealChecksum} appends to the payload: the 32-byte sha256, then the 10-byte magic. */
export const CHECKSUM_TRAILER_BYTES = DIGEST_BYTES + CHECKSUM_MAGIC.length;

async function digest(bytes: Uint8Array): Promise<Uint8Array> {
  // WebCrypto (Node 20 and browsers); copy so a view of a SharedArrayBuffer or a pooled Buffer digests too.
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes.slice()));
}

/**
 * The sha256 of `bytes` (or of byte chunks one after another) as 64 lower-case hex digits (the form
 * `sha256sum` prints). WebCrypto: the same code in Node 20 and browsers.
 */
export async function sha256Hex(bytes: Uint8Array | readonly Uint8Array[]): Promise<string> {
  const one = bytes instanceof Uint8Array ? bytes : concat(bytes);
  return Array.from(await digest(one), (b) => b.toString(16).padStart(2, '0')).join('');
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const all = new Uint8Array(chunks.reduce((a, b) => a + b.length, 0));
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.length;
  }
  return all;
}

/**
 * Returns `payload` followed by a trailer holding its sha256 and {@link CHECKSUM_MAGIC}, so that a reader
 * can tell an intact file from a truncated, bit-flipped or edited one ({@link openChecksum}). Used for
 * checkpoints and every cache file distilljs writes.
 */
export async function sealChecksum(payload: Uint8Array): Promise<Uint8Array> {
  const out = new Uint8Array(payload.length + CHECKSUM_TRAILER_BYTES);
  out.set(payload, 0);
  out.set(await digest(payload), payload.length);
  out.set(new TextEncoder().encode(CHECKSUM_MAGIC), payload.length + DIGEST_BYTES);
  return out;
}

/**
 * Checks the trailer {@link sealChecksum} wrote and returns the payload (a view of `sealed`). A missing
 * trailer or a sha256 that does not match is an {@link InvalidFileError} naming `source` (the file).
 */
export async function openChecksum(sealed: Uint8Array, source: string): Promise<Uint8Array> {
  const fail = (what: string): never => {
    throw new InvalidFileError(`${source}: ${what}`, { where: source });
  };
  const n = sealed.length - CHECKSUM_TRAILER_BYTES;
  const magic = n >= 0 ? new TextDecoder().decode(sealed.subarray(n + DIGEST_BYTES)) : '';
  if (magic !== CHECKSUM_MAGIC) {
    fail(
      `no sha256 checksum at the end of the file (${sealed.length} bytes): it is truncated, corrupt, or was not written by distilljs`,
    );
  }
  const payload = sealed.subarray(0, n);
  const stored = sealed.subarray(n, n + DIGEST_BYTES);
  const actual = await digest(payload);
  if (!actual.every((b, i) => b === stored[i])) {
    fail('sha256 checksum mismatch: the contents changed after they were written (a corrupt or edited file)');
  }
  return payload;
}
