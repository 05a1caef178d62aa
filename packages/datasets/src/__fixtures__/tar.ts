// Builds .tar.gz archives in memory for tests (with tar-stream, the library the extractor reads them with).
import { gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';

export interface TarEntry {
  readonly name: string;
  readonly body?: Uint8Array | string;
  readonly type?: 'file' | 'directory' | 'symlink' | 'link';
  readonly linkname?: string;
}

export async function makeTarGz(entries: readonly TarEntry[]): Promise<Uint8Array> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  for (const e of entries) {
    const type = e.type ?? 'file';
    if (type === 'file') {
      pack.entry(
        { name: e.name, type },
        typeof e.body === 'string' ? e.body : Buffer.from(e.body ?? new Uint8Array(0)),
      );
    } else {
      pack.entry({ name: e.name, type, ...(e.linkname ? { linkname: e.linkname } : {}) });
    }
  }
  pack.finalize();
  await done;
  const gz = gzipSync(Buffer.concat(chunks));
  return new Uint8Array(gz.buffer, gz.byteOffset, gz.byteLength);
}
