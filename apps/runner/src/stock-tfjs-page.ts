// A page in headless Chromium with stock TensorFlow.js only (the tfjs script bundles from npm, none of
// our packages), serving a directory of files beside it: to check that an exported model loads and
// predicts in a browser, and to time it there. Used by tests and the latency benchmark.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join, normalize } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

const require = createRequire(import.meta.url);
const dist = (pkg: string) => dirname(require.resolve(`${pkg}/package.json`));

/** The stock tfjs bundles the page loads, by URL path. */
function tfjsFiles(): Record<string, string> {
  const core = join(dist('@tensorflow/tfjs-core'), 'dist');
  const wasm = join(dist('@tensorflow/tfjs-backend-wasm'), 'dist');
  return {
    '/tf/tf-core.min.js': join(core, 'tf-core.min.js'),
    '/tf/tf-layers.min.js': join(dist('@tensorflow/tfjs-layers'), 'dist', 'tf-layers.min.js'),
    '/tf/tf-backend-cpu.min.js': join(dist('@tensorflow/tfjs-backend-cpu'), 'dist', 'tf-backend-cpu.min.js'),
    '/tf/tf-backend-webgl.min.js': join(
      dist('@tensorflow/tfjs-backend-webgl'),
      'dist',
      'tf-backend-webgl.min.js',
    ),
    '/tf/tf-backend-wasm.min.js': join(wasm, 'tf-backend-wasm.min.js'),
    '/tf/tfjs-backend-wasm.wasm': join(wasm, 'tfjs-backend-wasm.wasm'),
    '/tf/tfjs-backend-wasm-simd.wasm': join(wasm, 'tfjs-backend-wasm-simd.wasm'),
    '/tf/tfjs-backend-wasm-threaded-simd.wasm': join(wasm, 'tfjs-backend-wasm-threaded-simd.wasm'),
  };
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>stock tfjs</title>
<script src="/tf/tf-core.min.js"></script><script src="/tf/tf-layers.min.js"></script>
<script src="/tf/tf-backend-cpu.min.js"></script><script src="/tf/tf-backend-webgl.min.js"></script>
<script src="/tf/tf-backend-wasm.min.js"></script>
<script>tf.wasm.setWasmPaths('/tf/');</script>`;

const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.html': 'text/html',
};

export interface StockTfjsPage {
  readonly page: Page;
  close(): Promise<void>;
}

/** Opens the page; `files` is served under `/files/` (an exported model, images). */
export async function openStockTfjsPage(files: string, args: readonly string[] = []): Promise<StockTfjsPage> {
  const tf = tfjsFiles();
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/');
    let file: string | undefined = tf[path];
    if (path.startsWith('/files/'))
      file = join(files, normalize(path.slice('/files/'.length)).replace(/^(\.\.[/\\])+/, ''));
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
      return;
    }
    try {
      const body = readFileSync(file ?? '');
      const ext = /\.[a-z]+$/.exec(file ?? '')?.[0] ?? '';
      res.writeHead(200, { 'content-type': TYPES[ext] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', ...args],
    });
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.waitForFunction(() => typeof (globalThis as { tf?: unknown }).tf === 'object');
    const opened = browser;
    return {
      page,
      close: async () => {
        await opened.close();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  } catch (error) {
    await browser?.close();
    server.close();
    throw error;
  }
}
