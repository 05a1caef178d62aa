import { InvalidFileError, invalidArgument } from '@distilljs/core';

/** An n-dimensional unsigned-byte array read from an IDX file (the MNIST / Fashion-MNIST format). */
export interface IdxArray {
  /** Dimension sizes, outermost first (e.g. `[60000, 28, 28]`). */
  readonly dims: readonly number[];
  /** `product(dims)` bytes, row-major. */
  readonly data: Uint8Array;
}

const TYPE_NAMES: Record<number, string> = {
  8: 'unsigned byte',
  9: 'signed byte',
  11: 'int16',
  12: 'int32',
  13: 'float32',
  14: 'float64',
};

function hex(n: number): string {
  return `0x${n.toString(16).padStart(2, '0')}`;
}

/**
 * Parses raw (already decompressed) IDX bytes: magic `00 00 08 n`, then `n` big-endian uint32 dimension
 * sizes, then the data. Only unsigned-byte data (type 0x08, what MNIST uses) is supported.
 *
 * @param bytes the whole file
 * @param file a name for error messages (path or URL)
 * @throws InvalidFileError naming the file, the byte offset and what was expected, for a wrong magic, an
 *   unsupported type, a truncated header or body, or trailing bytes.
 */
export function parseIdx(bytes: Uint8Array, file = '<bytes>'): IdxArray {
  if (bytes.length < 4) {
    throw new InvalidFileError(
      `${file}: truncated IDX file: ${bytes.length} bytes, expected at least a 4-byte magic number (00 00 08 <ndims>)`,
      { where: `${file}@${bytes.length}` },
    );
  }
  const b0 = bytes[0] as number;
  const b1 = bytes[1] as number;
  const type = bytes[2] as number;
  const ndims = bytes[3] as number;
  if (b0 !== 0 || b1 !== 0 || TYPE_NAMES[type] === undefined || ndims === 0) {
    const got = Array.from(bytes.subarray(0, 4), (x) => x.toString(16).padStart(2, '0')).join(' ');
    throw new InvalidFileError(
      `${file}: not an IDX file: magic number at byte offset 0 is ${got}, expected 00 00 08 <ndims> (or a gzip file starting 1f 8b)`,
      { where: `${file}@0` },
    );
  }
  if (type !== 0x08) {
    throw new InvalidFileError(
      `${file}: IDX data type ${hex(type)} (${TYPE_NAMES[type]}) at byte offset 2 is not supported, expected 0x08 (unsigned byte)`,
      { where: `${file}@2` },
    );
  }
  const header = 4 + 4 * ndims;
  if (bytes.length < header) {
    throw new InvalidFileError(
      `${file}: truncated IDX header: ${bytes.length} bytes, expected ${header} (magic + ${ndims} dimension sizes)`,
      { where: `${file}@${bytes.length}` },
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let size = 1;
  for (let i = 0; i < ndims; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    if (d === 0 && i > 0) {
      throw new InvalidFileError(
        `${file}: IDX dimension ${i} at byte offset ${4 + 4 * i} is 0, expected >= 1`,
        {
          where: `${file}@${4 + 4 * i}`,
        },
      );
    }
    dims.push(d);
    size *= d;
  }
  const expected = header + size;
  if (bytes.length < expected) {
    throw new InvalidFileError(
      `${file}: truncated IDX file: ${bytes.length} bytes, expected ${expected} (${header}-byte header + ${dims.join('x')} data bytes); data ends early at byte offset ${bytes.length}`,
      { where: `${file}@${bytes.length}` },
    );
  }
  if (bytes.length > expected) {
    throw new InvalidFileError(
      `${file}: ${bytes.length - expected} unexpected trailing bytes after byte offset ${expected}; the header (${dims.join('x')}) says the file is ${expected} bytes`,
      { where: `${file}@${expected}` },
    );
  }
  return { dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + header, size) };
}

/**
 * Encodes an unsigned-byte array as an IDX file (uncompressed), the inverse of {@link parseIdx}.
 *
 * @throws InvalidArgumentError when `data.length` is not `product(dims)` or a dimension is not a uint32.
 */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  if (!Array.isArray(dims) || dims.length === 0 || dims.length > 255) {
    invalidArgument('encodeIdx', 'dims', 'an array of 1..255 dimension sizes', dims);
  }
  let size = 1;
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0 || d > 0xffffffff)
      invalidArgument('encodeIdx', 'dims', 'uint32 sizes', dims);
    size *= d;
  }
  if (!(data instanceof Uint8Array) || data.length !== size) {
    invalidArgument('encodeIdx', 'data', `a Uint8Array of length ${size} (product of dims)`, data);
  }
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + size);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => {
    view.setUint32(4 + 4 * i, d, false);
  });
  out.set(data, header);
  return out;
}
