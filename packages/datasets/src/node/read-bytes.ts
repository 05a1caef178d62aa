import { readFile } from 'node:fs/promises';

/** Reads a whole file as a plain Uint8Array (not a Buffer). */
export async function readBytes(path: string): Promise<Uint8Array> {
  const buf = await readFile(path);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
