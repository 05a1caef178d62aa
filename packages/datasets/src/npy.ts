import { InvalidFileError } from '@distilljs/core';

/** An array read from a NumPy `.npy` file. */
export interface NpyArray {
  /** The NumPy dtype descriptor, e.g. `<f4`, `<i8`, `|u1`. */
  readonly dtype: string;
  readonly shape: readonly number[];
  /** The values as float64 numbers (exact for every supported dtype except 64-bit ints beyond 2^53). */
  readonly data: Float64Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Dtypes {@link parseNpy} reads: little-endian (or byte-order-free) floats, ints, uints and bools. */
export const NPY_DTYPES = [
  '<f4',
  '<f8',
  '<f2',
  '|i1',
  '<i2',
  '<i4',
  '<i8',
  '|u1',
  '<u2',
  '<u4',
  '<u8',
  '|b1',
];

function reader(dtype: string, dv: DataView): ((i: number) => number) | undefined {
  const d = dtype.replace(/^=/, '<');
  switch (d) {
    case '<f4':
      return (i) => dv.getFloat32(i * 4, true);
    case '<f8':
      return (i) => dv.getFloat64(i * 8, true);
    case '|i1':
      return (i) => dv.getInt8(i);
    case '<i2':
      return (i) => dv.getInt16(i * 2, true);
    case '<i4':
      return (i) => dv.getInt32(i * 4, true);
    case '<i8':
      return (i) => Number(dv.getBigInt64(i * 8, true));
    case '|u1':
    case '|b1':
      return (i) => dv.getUint8(i);
    case '<u2':
      return (i) => dv.getUint16(i * 2, true);
    case '<u4':
      return (i) => dv.getUint32(i * 4, true);
    case '<u8':
      return (i) => Number(dv.getBigUint64(i * 8, true));
    default:
      return undefined;
  }
}

/**
 * Parses a NumPy `.npy` file (format versions 1-3, C order). Errors name the file and byte offset, and
 * an unsupported dtype (big-endian, complex, strings, objects, structured) names the dtype and the ones
 * that are read. The header is a Python dict literal; only its three documented keys are read.
 */
export function parseNpy(bytes: Uint8Array, source: string): NpyArray {
  const fail = (what: string, offset: number): never => {
    throw new InvalidFileError(`${source}: ${what}`, { where: `${source}@${offset}` });
  };
  if (bytes.length < 10 || !MAGIC.every((b, i) => bytes[i] === b))
    fail('not a .npy file (no \\x93NUMPY magic at byte 0); save it with numpy.save', 0);
  const major = bytes[6] as number;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (major < 1 || major > 3) fail(`unsupported .npy format version ${major}`, 6);
  if (start + headerLen > bytes.length) fail('truncated header', 8);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(start, start + headerLen),
  );
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined)
    fail(`header ${JSON.stringify(header.trim())} lacks descr, fortran_order or shape`, start);
  if (fortran === 'True')
    fail('Fortran-ordered array; save a C-ordered one (numpy.ascontiguousarray)', start);
  const shape = (shapeText as string)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const itemSize = Number(/(\d+)$/.exec(descr as string)?.[1] ?? Number.NaN);
  const offset = start + headerLen;
  const body = new DataView(bytes.buffer, bytes.byteOffset + offset, bytes.byteLength - offset);
  const read = reader(descr as string, body);
  if (!read)
    fail(
      `dtype ${JSON.stringify(descr)} is not supported; use one of ${NPY_DTYPES.join(', ')} (e.g. array.astype('float32'))`,
      start,
    );
  const count = shape.reduce((a, b) => a * b, 1);
  if (body.byteLength !== count * itemSize)
    fail(
      `holds ${body.byteLength} data bytes, but shape (${shape.join(', ')}) of ${descr} needs ${count * itemSize}`,
      offset,
    );
  const data = new Float64Array(count);
  for (let i = 0; i < count; i++) data[i] = (read as (i: number) => number)(i);
  return { dtype: descr as string, shape, data };
}
