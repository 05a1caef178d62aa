import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { type Browser, chromium, type Page } from 'playwright-core';
import { build, type InlineConfig, type PreviewServer, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import config from '../vite.config.js';

const CHROMIUM = '/usr/bin/chromium';
const root = fileURLToPath(new URL('..', import.meta.url));
const artifacts = join(root, 'test-artifacts');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * A well-formed tfjs model file whose weights are NaN: it loads as a teacher, and distilling from it
 * makes the loss non-finite, so the trainer fails inside training.
 */
async function nanTeacherFiles(): Promise<{ name: string; mimeType: string; buffer: Buffer }[]> {
  await tf.setBackend('cpu');
  const model = tfl.sequential({
    layers: [tfl.layers.flatten({ inputShape: [28, 28, 1] }), tfl.layers.dense({ units: 10 })],
  });
  model.setWeights(model.getWeights().map((w) => tf.fill(w.shape, Number.NaN)));
  let json = '';
  let weights = Buffer.alloc(0);
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = artifacts.weightData as ArrayBuffer;
      weights = Buffer.from(new Uint8Array(data));
      json = JSON.stringify({
        modelTopology: artifacts.modelTopology,
        format: 'layers-model',
        weightsManifest: [{ paths: ['./nan-teacher.weights.bin'], weights: artifacts.weightSpecs }],
      });
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  model.dispose();
  return [
    { name: 'nan-teacher.json', mimeType: 'application/json', buffer: Buffer.from(json) },
    { name: 'nan-teacher.weights.bin', mimeType: 'application/octet-stream', buffer: weights },
  ];
}

/** Reads the probabilities the page shows in a bar container. */
function readBars(page: Page, id: string): Promise<number[]> {
  return page.$$eval(`#${id} .bar`, (bars) => bars.map((b) => Number((b as HTMLElement).dataset.p)));
}

describe('playground in Chromium', () => {
  let browser: Browser | undefined;
  let server: PreviewServer | undefined;
  let outDir = '';
  let url = '';

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `e2e: ${CHROMIUM} is missing; install Debian's Chromium with 'apt-get install -y chromium' (.ci/run does this)`,
      );
    }
    rmSync(join(artifacts, 'failure.png'), { force: true });
    outDir = mkdtempSync(join(tmpdir(), 'playground-dist-'));
    const inline: InlineConfig = { ...(config as InlineConfig), configFile: false, logLevel: 'warn' };
    await build({ ...inline, build: { ...inline.build, outDir, emptyOutDir: true } });
    const port = await freePort();
    server = await preview({
      ...inline,
      build: { ...inline.build, outDir },
      preview: { ...inline.preview, host: '127.0.0.1', port, strictPort: true, open: false },
    });
    url = server.resolvedUrls?.local[0] ?? `http://127.0.0.1:${port}/`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it('distils on wasm, fills the comparison table and shows the soft targets change with T', async () => {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    try {
      await drive(page);
    } catch (error) {
      // Keep what the page looked like, and what it said, next to the failure.
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, 'failure.png'), fullPage: true }).catch(() => {});
      const said = await page.textContent('#message').catch(() => '');
      const status = await page.textContent('#run-status').catch(() => '');
      throw new Error(`${(error as Error).message}\npage message: ${said}\nrun status: ${status}`, {
        cause: error,
      });
    }
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  async function drive(page: Page): Promise<void> {
    await page.goto(url);

    // Served cross-origin isolated (COOP/COEP), so wasm may use threads.
    expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);

    // The backend selector goes through selectBackend and shows what runs.
    await page.selectOption('#backend', 'wasm');
    await page.waitForSelector('#backend-status[data-backend="wasm"]', { timeout: 60_000 });
    await page.waitForSelector('#data-status[data-ready="true"]', { timeout: 60_000 });

    // Bad input cannot start a run and says why.
    await page.fill('#temperature', 'hot');
    await page.fill('#teacher-epochs', '0');
    await page.click('#run');
    const problems = await page.textContent('#form-problems');
    expect(problems).toContain('Temperature must be a number between 1 and 20; got "hot".');
    expect(problems).toContain('Teacher epochs must be a whole number between 1 and 50; got "0".');
    expect(await page.isDisabled('#stop')).toBe(true);

    // A file that is not a model is refused with a message.
    await page.setInputFiles('#load-teacher', {
      name: 'notes.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('not a model'),
    });
    await page.waitForSelector('#message:not([hidden])');
    expect(await page.textContent('#message')).toContain('notes.txt is not a model');

    // A short distillation on wasm into CNN students: their first convolution's filter gradient and their
    // pooling gradients run in @distilljs/backends' WebAssembly SIMD kernels, on the page's shared memory.
    await page.selectOption('#student-model', 'mnist-cnn');
    await page.fill('#temperature', '4');
    await page.fill('#teacher-epochs', '2');
    await page.fill('#student-epochs', '2');
    await page.fill('#train-size', '1500');
    await page.fill('#student-size', '500');
    await page.fill('#test-size', '500');
    await page.fill('#batch-size', '64');
    await page.click('#run');
    await page.waitForSelector('#comparison-table:not([hidden]) tbody tr:nth-child(3)', { timeout: 150_000 });
    expect(await page.textContent('#backend-status')).toContain('wasm');
    const rows = await page.$$eval('#comparison-table tbody tr', (trs) =>
      trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent ?? '')),
    );
    expect(rows.map((r) => r[0])).toEqual(['Teacher', 'Baseline student', 'Distilled student']);
    // 10 classes, chance is 10%: even two short epochs on 1,500 digits learn far more than that.
    const accuracy = rows.map((r) => Number.parseFloat(r[5]!));
    expect(accuracy[0], 'teacher accuracy (%)').toBeGreaterThan(60);
    expect(accuracy[1], 'baseline accuracy (%)').toBeGreaterThan(25);
    expect(accuracy[2], 'distilled accuracy (%)').toBeGreaterThan(25);
    expect(await page.isEnabled('#download-student')).toBe(true);

    // The dark-knowledge view: the bars at the slider's T change when the slider moves.
    await page.waitForSelector('#bars-t .bar');
    const t1 = await readBars(page, 'bars-t1');
    const before = await readBars(page, 'bars-t');
    expect(t1).toHaveLength(10);
    await page.fill('#dk-temperature', '12');
    await page.waitForFunction(() => document.getElementById('slider-value')?.textContent === '12');
    const after = await readBars(page, 'bars-t');
    const entropy = (p: number[]) => p.reduce((h, x) => (x > 0 ? h - x * Math.log(x) : h), 0);
    expect(Math.max(...after.map((p, i) => Math.abs(p - before[i]!)))).toBeGreaterThan(1e-3);
    expect(entropy(after)).toBeGreaterThan(entropy(before));
    expect(await readBars(page, 'bars-t1')).toEqual(t1);
    expect(Math.abs(after.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-3);
    expect(await page.locator('#similar-digit li').count()).toBe(3);

    // Download the distilled student: tfjs files (model.json + weights) through downloads://.
    const downloads: string[] = [];
    page.on('download', (d) => downloads.push(d.suggestedFilename()));
    await page.click('#download-student');
    await expect.poll(() => downloads.length, { timeout: 20_000 }).toBe(2);
    expect(downloads.sort()).toEqual([
      'distilljs-distilled-student.json',
      'distilljs-distilled-student.weights.bin',
    ]);

    // Draw a digit: a vertical stroke becomes a 28x28 input and the teacher's bars follow it.
    const pad = (await page.locator('#draw-pad').boundingBox())!;
    await page.mouse.move(pad.x + pad.width / 2, pad.y + pad.height * 0.15);
    await page.mouse.down();
    for (let i = 1; i <= 10; i++)
      await page.mouse.move(pad.x + pad.width / 2, pad.y + pad.height * (0.15 + 0.07 * i));
    await page.mouse.up();
    await page.waitForSelector('#digit-caption:has-text("your drawing")');
    await page.waitForSelector('#dk-status:has-text("for your drawing")');
    expect(await readBars(page, 'bars-t1')).not.toEqual(t1);

    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'playground.png'), fullPage: true });

    // Models survive a reload (IndexedDB): the table and the soft targets come back without training.
    await page.reload();
    await page.waitForSelector('#storage-status:has-text("Restored")', { timeout: 60_000 });
    await page.waitForSelector('#comparison-table:not([hidden]) tbody tr:nth-child(3)');
    await page.waitForSelector('#bars-t .bar');
    expect(await page.isEnabled('#download-student')).toBe(true);

    // The page stays responsive while training (the trainer yields between batches): Stop works mid-run.
    await page.selectOption('#backend', 'wasm');
    await page.waitForSelector('#backend-status[data-backend="wasm"]', { timeout: 60_000 });
    await page.fill('#teacher-epochs', '20');
    await page.fill('#train-size', '1500');
    await page.fill('#student-size', '500');
    await page.fill('#test-size', '500');
    await page.click('#run');
    await page.waitForFunction(
      () => ((document.querySelector('#panel-teacher .p-bar') as HTMLProgressElement | null)?.value ?? 0) > 0,
      undefined,
      { polling: 50, timeout: 60_000 },
    );
    await page.click('#stop');
    await page.waitForSelector('#run-status:has-text("Stopped")', { timeout: 60_000 });
    expect(await page.textContent('#comparison-table tbody')).toContain('Teacher (stopped)');
    expect(await page.locator('#comparison-table tbody tr').count()).toBe(1);

    // A failure inside training shows a message on the page, and the page stays usable.
    await page.setInputFiles('#load-teacher', await nanTeacherFiles());
    await page.waitForSelector('#message:has-text("Loaded nan-teacher.json as the teacher")', {
      timeout: 60_000,
    });
    expect(await page.isChecked('#reuse-teacher')).toBe(true);
    await page.fill('#student-epochs', '1');
    await page.fill('#train-size', '300');
    await page.fill('#student-size', '200');
    await page.fill('#test-size', '200');
    await page.click('#run');
    await page.waitForSelector('#message:has-text("Training failed")', { timeout: 90_000 });
    expect(await page.textContent('#message')).toMatch(/non-finite|NaN/i);
    expect(await page.isEnabled('#run')).toBe(true);
    expect(await page.isDisabled('#stop')).toBe(true);
  }
});
