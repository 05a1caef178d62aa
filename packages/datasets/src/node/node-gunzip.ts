import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { Gunzip } from '../gzip.js';

const gunzipAsync = promisify(gunzip);

/** A {@link Gunzip} on `node:zlib`. */
export const nodeGunzip: Gunzip = async (bytes) => {
  const out = await gunzipAsync(bytes);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
};
