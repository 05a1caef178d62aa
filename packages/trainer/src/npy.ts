import { InvalidFileError } from '@distilljs/core';
import { fromFloat16Bits, toFloat16Bits } from './float16.js';

/** The NumPy dtypes teacher-logit files use: float32, float16 (logits) and int32 (top-k class ids). */
export type NpyDtype = 'float32' | 'float16' | 'int32';

/** A C-ordered, little-endian NumPy array read from a .npy file; float16 values come back as float32. */
export interface NpyArray {
  readonly dtype: NpyDtype;
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array;
}

const DESCR: Record<NpyDtype, string> = { float32: '<f4', float16: '<f2', int32: '<i4' };
const SIZE: Record<NpyDtype, number> = { float32: 4, float16: 2, int32: 4 };
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/**
 * Encodes an array as NumPy's .npy format 1.0 (what `numpy.save` writes): magic, version, a header dict
 * padded with spaces to a multiple of 64 bytes and ended by a newline, then the little-endian values.
 */
export function encodeNpy(data: ArrayLike<number>, shape: readonly number[], dtype: NpyDtype): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new RangeError(`encodeNpy: ${data.length} values for shape [${shape}]`);
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': (${dims}), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += `${' '.repeat(pad % 64)}\n`;
  const out = new Uint8Array(10 + header.length + count * SIZE[dtype]);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  dv.setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  const base = 10 + header.length;
  for (let i = 0; i < count; i++) {
    const v = data[i]!;
    if (dtype === 'float32') dv.setFloat32(base + i * 4, v, true);
    else if (dtype === 'int32') dv.setInt32(base + i * 4, v, true);
    else dv.setUint16(base + i * 2, toFloat16Bits(v), true);
  }
  return out;
}

/** Decodes a .npy file (versions 1-3) of float32, float16 or int32; errors name `source` and what was found. */
export function decodeNpy(bytes: Uint8Array, source: string): NpyArray {
  const fail = (what: string): never => {
    throw new InvalidFileError(`${source}: not a readable .npy file: ${what}`, { where: source });
  };
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) fail('it does not start with \\x93NUMPY');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  const wide = major >= 2;
  const headerLen = wide ? dv.getUint32(8, true) : dv.getUint16(8, true);
  const start = wide ? 12 : 10;
  if (start + headerLen > bytes.length) fail(`the header (${headerLen} bytes) runs past the end of the file`);
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined)
    fail(`bad header ${header.trim()}`);
  const dtype = (Object.keys(DESCR) as NpyDtype[]).find((k) => DESCR[k] === descr);
  if (!dtype)
    fail(`dtype '${descr}'; expected '<f4' (float32), '<f2' (float16) or '<i4' (int32), little-endian`);
  if (fortran === 'True') fail('fortran_order is True; save a C-ordered array (numpy.ascontiguousarray)');
  const shape = shapeText!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) fail(`shape (${shapeText})`);
  const count = shape.reduce((a, b) => a * b, 1);
  const base = start + headerLen;
  const size = SIZE[dtype!];
  if (bytes.length !== base + count * size) {
    fail(
      `${bytes.length - base} data bytes, but shape (${shape.join(', ')}) of ${dtype} needs ${count * size}`,
    );
  }
  const data = dtype === 'int32' ? new Int32Array(count) : new Float32Array(count);
  for (let i = 0; i < count; i++) {
    if (dtype === 'float32') data[i] = dv.getFloat32(base + i * 4, true);
    else if (dtype === 'int32') data[i] = dv.getInt32(base + i * 4, true);
    else data[i] = fromFloat16Bits(dv.getUint16(base + i * 2, true));
  }
  return { dtype: dtype!, shape, data };
}
