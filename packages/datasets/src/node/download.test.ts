import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, InvalidFileError } from '@distilljs/core';
import { afterEach, describe, expect, it } from 'vitest';
import { gzip, makeIdxFiles, randomBytes, tempDir } from '../__fixtures__/files.js';
import { serveFiles, type TestServer } from '../__fixtures__/server.js';
import type { DownloadProgress } from '../download-types.js';
import { resolveCacheDir } from './cache-dir.js';
import { downloadFile } from './download.js';
import { loadMnist } from './load-mnist.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('downloadFile', () => {
  const body = randomBytes(200_000, 1);

  it('downloads, verifies, reports progress and renames into place', async () => {
    server = await serveFiles({ 'a.bin': body });
    const dest = join(tempDir(), 'cache', 'a.bin');
    const progress: DownloadProgress[] = [];
    const r = await downloadFile({
      url: `${server.url}a.bin`,
      sha256: sha(body),
      dest,
      allowHttpLoopback: true,
      onProgress: (p) => progress.push(p),
    });
    expect(r).toEqual({ path: dest, cached: false, resumedFrom: 0 });
    expect(new Uint8Array(readFileSync(dest))).toEqual(body);
    expect(existsSync(`${dest}.part`)).toBe(false);
    expect(progress.at(-1)).toMatchObject({ receivedBytes: 200_000, totalBytes: 200_000, done: true });
    expect(
      progress
        .filter((p) => !p.done)
        .every((p, i, a) => i === 0 || p.receivedBytes >= (a[i - 1] as DownloadProgress).receivedBytes),
    ).toBe(true);
    // A second call finds the verified file and makes no request.
    const n = server.requests.length;
    expect(
      (await downloadFile({ url: `${server.url}a.bin`, sha256: sha(body), dest, allowHttpLoopback: true }))
        .cached,
    ).toBe(true);
    expect(server.requests.length).toBe(n);
  });

  it('on a checksum mismatch throws, naming the URL and both hashes, and keeps nothing in the cache', async () => {
    server = await serveFiles({ 'a.bin': body });
    const dir = join(tempDir(), 'cache');
    const wrong = '0'.repeat(64);
    const err = await downloadFile({
      url: `${server.url}a.bin`,
      sha256: wrong,
      dest: join(dir, 'a.bin'),
      allowHttpLoopback: true,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidFileError);
    expect((err as Error).message).toBe(
      `downloadFile: ${server.url}a.bin has sha256 ${sha(body)}, expected ${wrong}; the downloaded file was deleted and nothing was kept in ${dir}`,
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('replaces a corrupt cached file', async () => {
    server = await serveFiles({ 'a.bin': body });
    const dest = join(tempDir(), 'a.bin');
    writeFileSync(dest, 'corrupt');
    const r = await downloadFile({
      url: `${server.url}a.bin`,
      sha256: sha(body),
      dest,
      allowHttpLoopback: true,
    });
    expect(r.cached).toBe(false);
    expect(new Uint8Array(readFileSync(dest))).toEqual(body);
  });

  it('keeps the part of an interrupted download and resumes it with a Range request', async () => {
    server = await serveFiles({ 'a.bin': body }, { cutAfter: 70_000 });
    const dest = join(tempDir(), 'a.bin');
    const opts = { url: `${server.url}a.bin`, sha256: sha(body), dest, allowHttpLoopback: true };
    await expect(downloadFile(opts)).rejects.toThrow(
      /the part is kept in .*a\.bin\.part and the next call resumes it/,
    );
    expect(existsSync(dest)).toBe(false);
    const kept = readFileSync(`${dest}.part`).length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(body.length);
    await server.close();
    server = await serveFiles({ 'a.bin': body });
    const r = await downloadFile({ ...opts, url: `${server.url}a.bin` });
    expect(r.resumedFrom).toBe(kept);
    expect(server.requests).toEqual([{ path: 'a.bin', range: `bytes=${kept}-` }]);
    expect(new Uint8Array(readFileSync(dest))).toEqual(body);
    expect(existsSync(`${dest}.part`)).toBe(false);
  });

  it('starts over when the server ignores ranges', async () => {
    server = await serveFiles({ 'a.bin': body }, { ranges: false });
    const dest = join(tempDir(), 'a.bin');
    writeFileSync(`${dest}.part`, Buffer.from(body.subarray(0, 1000)).fill(7));
    const r = await downloadFile({
      url: `${server.url}a.bin`,
      sha256: sha(body),
      dest,
      allowHttpLoopback: true,
    });
    expect(r.resumedFrom).toBe(0);
    expect(new Uint8Array(readFileSync(dest))).toEqual(body);
  });

  it('is https only, except loopback http when explicitly allowed', async () => {
    const dest = join(tempDir(), 'x');
    const sha256 = '0'.repeat(64);
    await expect(downloadFile({ url: 'http://example.com/x', sha256, dest })).rejects.toThrow(
      'downloadFile: argument \'url\' must be an https:// URL (downloads are https only), got "http://example.com/x"',
    );
    await expect(downloadFile({ url: 'http://127.0.0.1:9/x', sha256, dest })).rejects.toThrow(
      InvalidArgumentError,
    );
    await expect(
      downloadFile({ url: 'http://10.0.0.1/x', sha256, dest, allowHttpLoopback: true }),
    ).rejects.toThrow(/must be an https:\/\/ URL, or http:\/\/ on a loopback address/);
    await expect(downloadFile({ url: 'https://x/y', sha256: 'abc', dest })).rejects.toThrow(
      "downloadFile: argument 'sha256' must be 64 hex digits",
    );
  });

  it('uses an injected fetch and reports HTTP errors', async () => {
    const calls: string[] = [];
    const fetch = async (u: string) => {
      calls.push(u);
      return new Response('nope', { status: 404, statusText: 'Not Found' });
    };
    await expect(
      downloadFile({
        url: 'https://data.example/f.gz',
        sha256: 'a'.repeat(64),
        dest: join(tempDir(), 'f'),
        fetch,
      }),
    ).rejects.toThrow('downloadFile: GET https://data.example/f.gz failed with HTTP 404 Not Found');
    expect(calls).toEqual(['https://data.example/f.gz']);
  });
});

describe('cache directory', () => {
  it('option > DISTILLJS_CACHE > the user cache dir', () => {
    const saved = process.env.DISTILLJS_CACHE;
    try {
      process.env.DISTILLJS_CACHE = '/tmp/from-env';
      expect(resolveCacheDir('/tmp/opt')).toBe('/tmp/opt');
      expect(resolveCacheDir()).toBe('/tmp/from-env');
      delete process.env.DISTILLJS_CACHE;
      expect(resolveCacheDir()).toMatch(/distilljs/);
    } finally {
      if (saved === undefined) delete process.env.DISTILLJS_CACHE;
      else process.env.DISTILLJS_CACHE = saved;
    }
  });
});

describe("loadMnist({ source: 'url' })", () => {
  it('downloads the four files into the cache, verifies them and loads them; a bad hash leaves nothing', async () => {
    const fx = makeIdxFiles(12, 4, 21);
    const served: Record<string, Uint8Array> = {};
    for (const [name, bytes] of Object.entries(fx.files)) served[`mnist/${name}.gz`] = gzip(bytes);
    server = await serveFiles(served);
    const pinned = (name: string) => ({
      file: `${name}.gz`,
      sha256: sha(served[`mnist/${name}.gz`] as Uint8Array),
    });
    const files = {
      trainImages: pinned('train-images-idx3-ubyte'),
      trainLabels: pinned('train-labels-idx1-ubyte'),
      testImages: pinned('t10k-images-idx3-ubyte'),
      testLabels: pinned('t10k-labels-idx1-ubyte'),
    };
    const cacheDir = tempDir();
    const seen = new Set<string>();
    const ds = await loadMnist({
      source: 'url',
      baseUrl: `${server.url}mnist`,
      files,
      cacheDir,
      allowHttpLoopback: true,
      onProgress: (p) => p.done && seen.add(p.url),
    });
    expect(seen.size).toBe(4);
    expect(ds.train.images).toEqual(fx.trainImages);
    expect(ds.test.labels).toEqual(fx.testLabels);
    expect(readdirSync(join(cacheDir, 'mnist')).sort()).toEqual(
      Object.values(files)
        .map((f) => f.file)
        .sort(),
    );

    const other = tempDir();
    const bad = { ...files, testLabels: { ...files.testLabels, sha256: 'f'.repeat(64) } };
    await expect(
      loadMnist({
        source: 'url',
        baseUrl: `${server.url}mnist/`,
        files: bad,
        cacheDir: other,
        allowHttpLoopback: true,
      }),
    ).rejects.toThrow(/t10k-labels-idx1-ubyte\.gz has sha256 [0-9a-f]{64}, expected f{64}/);
    expect(readdirSync(join(other, 'mnist')).includes('t10k-labels-idx1-ubyte.gz')).toBe(false);
    expect(readdirSync(join(other, 'mnist')).some((f) => f.endsWith('.part'))).toBe(false);
  });
});
