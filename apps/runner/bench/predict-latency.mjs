// Inference latency of an exported student (apps/runner/README.md, "Export and predict"): time per
// example at batch 1 and batch 64, float32 against the quantised exports, in Node (our wasm backend, the
// model loaded by @distilljs/models) and in headless Chromium (stock tfjs from npm, wasm and webgl, the
// model loaded with tf.loadLayersModel). Each figure is the median over rounds of the per-round mean;
// each round runs `--iters` predictions after 5 warm-up ones, the configurations in alternating order.
//   node bench/predict-latency.mjs RUN_DIR [--rounds 5] [--iters 50] [--browser-backends wasm,webgl]
// RUN_DIR is a run with a distilled student (e.g. `distill demo`'s); it is exported here with
// `distill export --quantize none|float16|uint8` into a temporary directory.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectBackend } from '@distilljs/backends';
import { loadModel } from '@distilljs/models/node';
import * as tf from '@tensorflow/tfjs-core';
import { chromium } from 'playwright-core';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : process.argv[i + 1];
};
const run = process.argv[2];
if (!run || run.startsWith('--')) {
  console.error('usage: node bench/predict-latency.mjs RUN_DIR [--rounds 5] [--iters 50]');
  process.exit(2);
}
const rounds = Number(arg('rounds', 5));
const iters = Number(arg('iters', 50));
const browserBackends = arg('browser-backends', 'wasm,webgl').split(',').filter(Boolean);
const BATCHES = [1, 64];
const PRECISIONS = ['none', 'float16', 'uint8'];
const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '..', 'dist', 'cli.js');
const work = mkdtempSync(join(tmpdir(), 'distill-latency-'));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

for (const q of PRECISIONS) {
  execFileSync(process.execPath, [cli, 'export', run, '--out', join(work, q), '--quantize', q], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
const shape = JSON.parse(
  readFileSync(join(work, 'none', 'model.json'), 'utf8'),
).modelTopology.config.layers[0].config.batch_input_shape.slice(1);
const size = shape.reduce((a, b) => a * b, 1);
const input = (batch) => Float32Array.from({ length: batch * size }, (_, i) => ((i * 7919) % 256) / 255);

/** Node: our wasm backend; milliseconds per example, one round. */
async function nodeRound(model, batch) {
  const x = tf.tensor(input(batch), [batch, ...shape]);
  const once = async () => {
    const y = model.predict(x);
    await y.data();
    y.dispose();
  };
  for (let i = 0; i < 5; i++) await once();
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) await once();
  const ms = (performance.now() - t0) / iters / batch;
  x.dispose();
  return ms;
}

/** Chromium: stock tfjs bundles and the exports, served from disk through playwright's request routing. */
async function openPage() {
  const require = createRequire(import.meta.url);
  const dist = (pkg) => join(dirname(require.resolve(`${pkg}/package.json`)), 'dist');
  const tfFiles = {
    'tf-core.min.js': join(dist('@tensorflow/tfjs-core'), 'tf-core.min.js'),
    'tf-layers.min.js': join(dist('@tensorflow/tfjs-layers'), 'tf-layers.min.js'),
    'tf-backend-webgl.min.js': join(dist('@tensorflow/tfjs-backend-webgl'), 'tf-backend-webgl.min.js'),
    'tf-backend-wasm.min.js': join(dist('@tensorflow/tfjs-backend-wasm'), 'tf-backend-wasm.min.js'),
  };
  for (const w of ['', '-simd', '-threaded-simd'])
    tfFiles[`tfjs-backend-wasm${w}.wasm`] = join(
      dist('@tensorflow/tfjs-backend-wasm'),
      `tfjs-backend-wasm${w}.wasm`,
    );
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox'],
  });
  const page = await browser.newPage();
  await page.route('http://bench.local/**', (route) => {
    const path = new URL(route.request().url()).pathname.slice(1);
    if (path === '') {
      const scripts = Object.keys(tfFiles)
        .filter((f) => f.endsWith('.js'))
        .map((f) => `<script src="/tf/${f}"></script>`)
        .join('');
      return route.fulfill({ contentType: 'text/html', body: `<!doctype html>${scripts}` });
    }
    const file = path.startsWith('tf/') ? tfFiles[path.slice(3)] : join(work, path.replace(/^models\//, ''));
    const type = file?.endsWith('.wasm') ? 'application/wasm' : undefined;
    return file ? route.fulfill({ path: file, ...(type ? { contentType: type } : {}) }) : route.abort();
  });
  await page.goto('http://bench.local/');
  await page.evaluate(() => tf.wasm.setWasmPaths('/tf/'));
  return { page, close: () => browser.close() };
}

async function browserRound(page, backend, q, batch) {
  return page.evaluate(
    async ({ backend, q, batch, iters, shape, size }) => {
      if (tf.getBackend() !== backend) await tf.setBackend(backend);
      globalThis.models ??= {};
      globalThis.models[q] ??= await tf.loadLayersModel(`/models/${q}/model.json`);
      const model = globalThis.models[q];
      const data = Float32Array.from({ length: batch * size }, (_, i) => ((i * 7919) % 256) / 255);
      const x = tf.tensor(data, [batch, ...shape]);
      const once = async () => {
        const y = model.predict(x);
        await y.data();
        y.dispose();
      };
      for (let i = 0; i < 5; i++) await once();
      const t0 = performance.now();
      for (let i = 0; i < iters; i++) await once();
      const ms = (performance.now() - t0) / iters / batch;
      x.dispose();
      return ms;
    },
    { backend, q, batch, iters, shape, size },
  );
}

const results = new Map(); // key -> per-round figures
const record = (key, ms) => results.set(key, [...(results.get(key) ?? []), ms]);
const engine = await selectBackend('wasm');
const nodeModels = Object.fromEntries(
  await Promise.all(PRECISIONS.map(async (q) => [q, await loadModel(join(work, q))])),
);
const page = browserBackends.length ? await openPage() : undefined;
try {
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? [...PRECISIONS].reverse() : PRECISIONS;
    for (const batch of BATCHES) {
      for (const q of order) record(`node wasm|${q}|${batch}`, await nodeRound(nodeModels[q], batch));
      for (const backend of browserBackends)
        for (const q of order)
          record(`chromium ${backend}|${q}|${batch}`, await browserRound(page.page, backend, q, batch));
    }
    process.stderr.write(`round ${r + 1}/${rounds} done\n`);
  }
} finally {
  await page?.close();
  for (const m of Object.values(nodeModels)) m.dispose();
  rmSync(work, { recursive: true, force: true });
}

const where = [...new Set([...results.keys()].map((k) => k.split('|')[0]))];
console.log(
  `# ${new Date().toISOString().slice(0, 10)}, ${cpus()[0]?.model} x${cpus().length}, load average ${loadavg()[0].toFixed(1)}, node ${process.version}, ${engine.engine}; Chromium: stock tfjs 4.22.0, webgl on SwiftShader (no GPU); input [${shape}], ${rounds} rounds x ${iters} predictions, milliseconds per example (median of round means)`,
);
console.log('| where | batch | float32 | float16 | uint8 |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const w of where)
  for (const batch of BATCHES) {
    const cell = (q) => median(results.get(`${w}|${q}|${batch}`)).toFixed(4);
    console.log(`| ${w} | ${batch} | ${cell('none')} | ${cell('float16')} | ${cell('uint8')} |`);
  }
console.log(JSON.stringify(Object.fromEntries(results)));
