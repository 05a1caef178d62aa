// Fast non-cryptographic 64-bit content hashes for fingerprints (cache keys, not security).

function fmix(h: number): number {
  let x = h >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

function hex(h1: number, h2: number): string {
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}

/** A 64-bit hash of bytes as 16 hex digits. */
export function hashBytes(bytes: Uint8Array, seed = 0): string {
  let h1 = (0x811c9dc5 ^ seed) >>> 0;
  let h2 = (0x9e3779b9 ^ Math.imul(seed, 0x27d4eb2f)) >>> 0;
  const n = bytes.length;
  const words = n >>> 2;
  let i = 0;
  if (bytes.byteOffset % 4 === 0) {
    const u32 = new Uint32Array(bytes.buffer, bytes.byteOffset, words);
    for (; i < words; i++) {
      const k = u32[i] as number;
      h1 = Math.imul(h1 ^ k, 0x9e3779b1);
      h1 = (h1 << 13) | (h1 >>> 19);
      h2 = Math.imul(h2 + k, 0x85ebca77);
      h2 ^= h2 >>> 15;
    }
    i = words * 4;
  } else {
    i = 0;
  }
  for (; i < n; i++) {
    const k = bytes[i] as number;
    h1 = Math.imul(h1 ^ (k + 0x100), 0x9e3779b1);
    h1 = (h1 << 13) | (h1 >>> 19);
    h2 = Math.imul(h2 + k + 0x100, 0x85ebca77);
    h2 ^= h2 >>> 15;
  }
  return hex(fmix(h1 ^ n), fmix(h2 ^ Math.imul(n, 31) ^ h1));
}

/** A 64-bit hash of a string as 16 hex digits. */
export function hashString(text: string): string {
  return hashBytes(new TextEncoder().encode(text));
}

const splitHashes = new WeakMap<ArrayBufferView, string>();

/**
 * Content hash of an image, feature or label array (its bytes), memoised per array (the arrays are
 * treated as immutable).
 */
export function memoHash(array: Uint8Array | Int32Array | Float32Array): string {
  let h = splitHashes.get(array);
  if (h === undefined) {
    h = hashBytes(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
    splitHashes.set(array, h);
  }
  return h;
}

/** Mixes integers into one 32-bit seed (for per-epoch generators). */
export function mixSeed(...parts: number[]): number {
  let h = 0x1b873593;
  for (const p of parts) {
    h = fmix(h ^ fmix((p >>> 0) ^ Math.imul(Math.floor(p / 4294967296) >>> 0, 0x2545f491)));
    h = Math.imul(h, 5) + 0xe6546b64;
  }
  return fmix(h);
}
