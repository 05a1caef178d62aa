import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { InvalidFileError } from '@distilljs/core';
import { describe, expect, it } from 'vitest';
import { gzip, makeIdxFiles } from './__fixtures__/files.js';
import * as browser from './browser.js';
import { encodeCifarBatch } from './cifar.js';
import type { FetchLike } from './download-types.js';
import * as node from './index.js';
import { CIFAR10_BATCH_FILES } from './sources.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A fetch over an in-memory map of URL -> bytes, recording the URLs asked for. */
function memoryFetch(files: Record<string, Uint8Array>): FetchLike & { urls: string[] } {
  const urls: string[] = [];
  const f = async (url: string) => {
    urls.push(url);
    const body = files[url];
    return body
      ? new Response(body as Uint8Array<ArrayBuffer>, { headers: { 'content-length': String(body.length) } })
      : new Response('missing', { status: 404, statusText: 'Not Found' });
  };
  return Object.assign(f, { urls });
}

/** Every module reachable from `entry` through relative imports, with its bare and node: imports. */
function importGraph(entry: string): { files: string[]; external: Set<string> } {
  const seen = new Set<string>();
  const external = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(
      /(?:import|export)\s[^'"]*?from\s+'([^']+)'|import\('([^']+)'\)|import\s+'([^']+)'/g,
    )) {
      const spec = (m[1] ?? m[2] ?? m[3]) as string;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else external.add(spec);
    }
  };
  visit(entry);
  return { files: [...seen], external };
}

describe('browser entry point', () => {
  it('never imports node:* or Node-only packages, and the node entry does', () => {
    const here = dirname(new URL(import.meta.url).pathname);
    const b = importGraph(join(here, 'browser.ts'));
    expect([...b.external].sort()).toEqual(['@distilljs/core', '@tensorflow/tfjs-core']);
    expect(b.files.some((f) => f.includes('/node/'))).toBe(false);
    const n = importGraph(join(here, 'index.ts'));
    expect([...n.external]).toEqual(
      expect.arrayContaining(['node:zlib', 'node:fs/promises', 'tar-stream', 'env-paths']),
    );
  });

  it('exports the same shared API as the node entry', () => {
    const browserOnly = ['fetchBytes', 'decodeImageBlob', 'imageFolderFromFiles'];
    const shared = Object.keys(browser).filter((k) => !browserOnly.includes(k));
    for (const k of shared) expect(Object.keys(node), k).toContain(k);
  });

  it('loads Fashion-MNIST-format files by URL with DecompressionStream and checks sha256', async () => {
    const fx = makeIdxFiles(10, 5, 31);
    const served: Record<string, Uint8Array> = {};
    const files: Record<string, { file: string; sha256: string }> = {};
    const keys = {
      trainImages: 'train-images-idx3-ubyte',
      trainLabels: 'train-labels-idx1-ubyte',
      testImages: 't10k-images-idx3-ubyte',
      testLabels: 't10k-labels-idx1-ubyte',
    };
    for (const [key, name] of Object.entries(keys)) {
      const gz = gzip(fx.files[name] as Uint8Array);
      served[`https://cdn.example/fashion/${name}.gz`] = gz;
      files[key] = { file: `${name}.gz`, sha256: sha(gz) };
    }
    const fetch = memoryFetch(served);
    const progress: number[] = [];
    const ds = await browser.loadFashionMnist({
      baseUrl: 'https://cdn.example/fashion',
      files: files as never,
      fetch,
      onProgress: (p) => progress.push(p.receivedBytes),
    });
    expect(ds.name).toBe('fashion-mnist');
    expect(ds.train.images).toEqual(fx.trainImages);
    expect(ds.test.labels).toEqual(fx.testLabels);
    expect(fetch.urls).toHaveLength(4);
    expect(progress.length).toBeGreaterThanOrEqual(4);

    const bad = {
      ...files,
      testImages: { ...(files.testImages as { file: string }), sha256: '1'.repeat(64) },
    };
    const err = await browser
      .loadFashionMnist({ baseUrl: 'https://cdn.example/fashion/', files: bad as never, fetch })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidFileError);
    expect((err as Error).message).toMatch(
      /^fetchBytes: https:\/\/cdn\.example\/fashion\/t10k-images-idx3-ubyte\.gz has sha256 [0-9a-f]{64}, expected 1{64}$/,
    );
  });

  it('loads the embedded MNIST digits by URL, identical to the Node loader', async () => {
    const require = createRequire(import.meta.url);
    const dir = join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
    const served: Record<string, Uint8Array> = {};
    for (let d = 0; d < 10; d++)
      served[`https://app.example/digits/${d}.json`] = new Uint8Array(readFileSync(join(dir, `${d}.json`)));
    const ds = await browser.loadMnist({
      source: 'embedded',
      digitsBaseUrl: 'https://app.example/digits',
      fetch: memoryFetch(served),
    });
    const fromNode = await node.loadMnist();
    expect(ds.train.count).toBe(fromNode.train.count);
    expect(sha(ds.train.images)).toBe(sha(fromNode.train.images));
    expect(sha(ds.test.labels)).toBe(sha(fromNode.test.labels));
  });

  it('loads CIFAR-10 batches by URL and reports HTTP errors with the URL', async () => {
    const served: Record<string, Uint8Array> = {};
    for (const f of [...CIFAR10_BATCH_FILES.train, ...CIFAR10_BATCH_FILES.test]) {
      served[`https://x.example/c/${f}`] = encodeCifarBatch({
        images: new Uint8Array(3072).fill(9),
        labels: Uint8Array.of(4),
        count: 1,
      });
    }
    const ds = await browser.loadCifar10({ baseUrl: 'https://x.example/c', fetch: memoryFetch(served) });
    expect(ds.train.count).toBe(5);
    expect(ds.test.labels[0]).toBe(4);
    await expect(
      browser.loadCifar10({ baseUrl: 'https://x.example/none', fetch: memoryFetch(served) }),
    ).rejects.toThrow(
      'fetchBytes: GET https://x.example/none/data_batch_1.bin failed with HTTP 404 Not Found',
    );
  });
});
