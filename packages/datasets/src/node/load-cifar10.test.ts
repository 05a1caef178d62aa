import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes, tempDir } from '../__fixtures__/files.js';
import { serveFiles, type TestServer } from '../__fixtures__/server.js';
import { makeTarGz } from '../__fixtures__/tar.js';
import { encodeCifarBatch } from '../cifar.js';
import { CIFAR10_BATCH_FILES } from '../sources.js';
import { loadCifar10 } from './load-cifar10.js';

function batches(seed: number) {
  const all = [...CIFAR10_BATCH_FILES.train, ...CIFAR10_BATCH_FILES.test].map((file, i) => {
    const count = 2 + i;
    const split = {
      images: randomBytes(count * 3072, seed + i),
      labels: randomBytes(count, seed + 50 + i, 10),
      count,
    };
    return { file, split, bytes: encodeCifarBatch(split) };
  });
  return all;
}

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('loadCifar10', () => {
  it('reads binary batches from a directory, bit-exact, with class names', async () => {
    const dir = tempDir();
    const sub = join(dir, 'cifar-10-batches-bin');
    mkdirSync(sub);
    const bs = batches(1);
    for (const b of bs) writeFileSync(join(sub, b.file), b.bytes);
    writeFileSync(
      join(sub, 'batches.meta.txt'),
      'airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n',
    );
    const ds = await loadCifar10({ dir });
    expect(ds.imageShape).toEqual([32, 32, 3]);
    expect(ds.classNames[1]).toBe('automobile');
    expect(ds.train.count).toBe(2 + 3 + 4 + 5 + 6);
    expect(ds.test.count).toBe(7);
    expect(ds.test.images).toEqual(bs[5]?.split.images);
    expect(ds.train.images.subarray(2 * 3072, 5 * 3072)).toEqual(bs[1]?.split.images);
    expect(ds.train.labels.subarray(0, 2)).toEqual(bs[0]?.split.labels);
  });

  it('names a missing batch file', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'test_batch.bin'),
      encodeCifarBatch({ images: new Uint8Array(3072), labels: Uint8Array.of(0), count: 1 }),
    );
    await expect(loadCifar10({ dir })).rejects.toThrow(/loadCifar10: .*data_batch_1\.bin is missing/);
    await expect(loadCifar10({})).rejects.toThrow(
      "loadCifar10: argument 'options' must be { dir } or { download: true }",
    );
  });

  it('downloads the archive into the cache, verifies it, extracts it safely, and reuses it', async () => {
    const bs = batches(2);
    const tgz = await makeTarGz([
      { name: 'cifar-10-batches-bin/', type: 'directory' },
      ...bs.map((b) => ({ name: `cifar-10-batches-bin/${b.file}`, body: b.bytes })),
    ]);
    server = await serveFiles({ 'cifar-10-binary.tar.gz': tgz });
    const cacheDir = tempDir();
    const opts = {
      download: true,
      url: `${server.url}cifar-10-binary.tar.gz`,
      sha256: createHash('sha256').update(tgz).digest('hex'),
      cacheDir,
      allowHttpLoopback: true,
    };
    const ds = await loadCifar10(opts);
    expect(ds.test.images).toEqual(bs[5]?.split.images);
    expect(readdirSync(join(cacheDir, 'cifar10')).sort()).toEqual(['cifar-10-binary.tar.gz', 'extracted']);
    const n = server.requests.length;
    await loadCifar10(opts);
    expect(server.requests.length).toBe(n);
  });

  it('refuses an archive whose entry escapes the cache directory', async () => {
    const tgz = await makeTarGz([{ name: '../../outside.bin', body: 'x' }]);
    server = await serveFiles({ 'c.tar.gz': tgz });
    const cacheDir = tempDir();
    await expect(
      loadCifar10({
        download: true,
        url: `${server.url}c.tar.gz`,
        sha256: createHash('sha256').update(tgz).digest('hex'),
        cacheDir,
        allowHttpLoopback: true,
      }),
    ).rejects.toThrow(
      /cifar-10-binary\.tar\.gz: tar entry 0 '\.\.\/\.\.\/outside\.bin' escapes the target directory/,
    );
    expect(readdirSync(join(cacheDir, 'cifar10'))).toEqual(['cifar-10-binary.tar.gz']);
    expect(readdirSync(cacheDir)).toEqual(['cifar10']);
  });
});
