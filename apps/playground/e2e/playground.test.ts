import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBatchStream, loadFashionMnist, loadMnist } from '@distilljs/datasets';
import { loadGraphTeacher, loadOnnxTeacher } from '@distilljs/models/node';
import { evaluate } from '@distilljs/trainer';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import sharp from 'sharp';
import { build, type InlineConfig, type PreviewServer, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import config from '../vite.config.js';
import { collectConsoleStacks, layoutProblems, seriousAxeViolations, WEBGPU_FLAGS } from './checks.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
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

/** Types values into the fields with these ids, in order. */
async function fillFields(page: Page, fields: Record<string, string>): Promise<void> {
  for (const [id, value] of Object.entries(fields)) await page.fill(`#${id}`, value);
}

/** The comparison table's cells, row by row. */
function tableRows(page: Page): Promise<string[][]> {
  return page.$$eval('#comparison-table tbody tr', (trs) =>
    trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent ?? '')),
  );
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
      // No GPU flags: like a machine without a GPU, WebGL runs on software rendering and WebGPU has no adapter.
      args: CHROMIUM_ARGS,
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

  /** A fresh page on wasm with its data loaded, and the errors it throws. */
  async function openReadyPage(): Promise<{ context: BrowserContext; page: Page; pageErrors: string[] }> {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${url}?backend=wasm`);
    await page.waitForSelector('#data-status[data-ready="true"]', { timeout: 60_000 });
    return { context, page, pageErrors };
  }

  it('a folder of your own images (one subfolder per class) is a dataset: picked, split, distilled', async () => {
    // 150 real Fashion-MNIST test images (Debian's dataset-fashion-mnist) of two classes as PNG and JPEG
    // files in class folders, and one file that is not an image.
    const fashion = await loadFashionMnist();
    const dir = mkdtempSync(join(tmpdir(), 'playground-folder-'));
    const root = join(dir, 'clothes');
    const wanted = { 'Ankle boot': 9, Trouser: 1 } as Record<string, number>;
    let written = 0;
    for (const [name, label] of Object.entries(wanted)) {
      mkdirSync(join(root, name), { recursive: true });
      for (let i = 0, n = 0; n < 75; i++) {
        if (fashion.test.labels[i] !== label) continue;
        const img = sharp(Buffer.from(fashion.test.images.subarray(i * 784, (i + 1) * 784)), {
          raw: { width: 28, height: 28, channels: 1 },
        });
        await (n % 2 ? img.jpeg({ quality: 95 }) : img.png()).toFile(
          join(root, name, `${i}.${n % 2 ? 'jpg' : 'png'}`),
        );
        n++;
        written++;
      }
    }
    writeFileSync(join(root, 'Trouser', 'broken.png'), 'not a png');
    expect(written).toBe(150);
    const { context, page, pageErrors } = await openReadyPage();
    try {
      await page.setInputFiles('#folder-input', root);
      await page.waitForFunction(
        () => document.getElementById('data-status')?.textContent?.startsWith('clothes'),
        null,
        {
          timeout: 60_000,
        },
      );
      // 20% of each class held out as the test split: 120 training and 30 test images; the bad file named
      expect(await page.textContent('#data-status')).toBe('clothes: 120 training and 30 test images');
      expect(await page.inputValue('#dataset')).toBe('folder:clothes');
      expect(await page.textContent('#message')).toContain(
        '1 file could not be read and was left out: clothes/Trouser/broken.png',
      );
      await page.fill('#teacher-epochs', '2');
      await page.fill('#student-epochs', '2');
      await page.fill('#student-size', '100');
      await page.click('#run');
      await page
        .waitForSelector('#comparison-table:not([hidden]) tbody tr:nth-child(3)', { timeout: 150_000 })
        .catch(async (error) => {
          const said = await page.textContent('#message').catch(() => '');
          const status = await page.textContent('#run-status').catch(() => '');
          throw new Error(`${(error as Error).message}\npage message: ${said}\nrun status: ${status}`);
        });
      const rows = await tableRows(page);
      // two classes, chance is 50%: boots and trousers are told apart after two epochs
      expect(Number.parseFloat(rows[0]![5]!), 'teacher accuracy (%)').toBeGreaterThan(80);
      // the dark-knowledge view shows the folder's images with its class names
      expect(await page.textContent('#digit-caption')).toMatch(/label (Ankle boot|Trouser)/);
    } finally {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(pageErrors).toEqual([]);
  });

  it('a teacher file from disk (PyTorch ONNX, tfjs graph model): loaded, described, scored as in Node, distilled from; bad files refused', async () => {
    const fixtures = join(root, '..', '..', 'packages', 'models', 'src', '__fixtures__');
    const onnx = join(fixtures, 'onnx', 'mnist-bn-cnn.onnx');
    const graphDir = join(fixtures, 'graph', 'graph');
    const normalize = { mean: [0.1307], std: [0.3081] };
    // What Node computes on the same 500 test digits: onnxruntime-node and tfjs-converter, the trainer's evaluate
    await tf.setBackend('cpu');
    const mnist = await loadMnist({ source: 'embedded' });
    const shape = { inputShape: [28, 28, 1], numClasses: 10 };
    const testSize = 500;
    const inNode = async (teacher: Awaited<ReturnType<typeof loadOnnxTeacher>>) => {
      const r = await evaluate(
        teacher,
        createBatchStream(mnist, { split: 'test', batchSize: 250, take: testSize }),
      );
      await teacher.dispose();
      return r;
    };
    const onnxNode = await inNode(await loadOnnxTeacher(onnx, { ...shape, normalize }));
    const graphNode = await inNode(await loadGraphTeacher(graphDir, shape));
    const work = mkdtempSync(join(tmpdir(), 'playground-teachers-'));
    // bad files: not ONNX, truncated, a graph model.json without its weights, one whose input does not fit
    writeFileSync(join(work, 'notes.onnx'), 'this is not an ONNX model');
    writeFileSync(join(work, 'cut.onnx'), readFileSync(onnx).subarray(0, 200_000));
    const edited = JSON.parse(readFileSync(join(graphDir, 'model.json'), 'utf8'));
    const dims = [{ size: '-1' }, { size: '32' }, { size: '32' }, { size: '3' }];
    edited.signature.inputs.conv2d_input.tensorShape.dim = dims;
    edited.modelTopology.node[0].attr.shape.shape.dim = dims;
    mkdirSync(join(work, 'wide'));
    writeFileSync(join(work, 'wide', 'model.json'), JSON.stringify(edited));
    writeFileSync(
      join(work, 'wide', 'group1-shard1of1.bin'),
      readFileSync(join(graphDir, 'group1-shard1of1.bin')),
    );
    const { context, page, pageErrors } = await openReadyPage();
    const refused = async (files: string | string[], expected: RegExp | string) => {
      await page.evaluate(() => {
        document.getElementById('teacher-file-error')!.hidden = true;
      });
      await page.setInputFiles('#load-teacher', files);
      await page.waitForSelector('#teacher-file-error:not([hidden])', { timeout: 30_000 });
      const line = (await page.textContent('#teacher-file-error')) ?? '';
      expect(line.split('\n')).toHaveLength(1);
      if (typeof expected === 'string') expect(line).toBe(expected);
      else expect(line).toMatch(expected);
    };
    const facts = () =>
      page.$$eval('#teacher-file-info dt', (dts) =>
        Object.fromEntries(dts.map((dt) => [dt.textContent, dt.nextElementSibling?.textContent])),
      );
    const loadedLine = (file: string) =>
      page.waitForSelector(`#teacher-file-status:has-text("Loaded ${file} as the teacher")`, {
        timeout: 60_000,
      });
    const teacherRow = async () => (await tableRows(page)).find((r) => r[0] === 'Teacher')!;
    /** Distils from the current teacher on soft targets alone (alpha 1: the labels are not used). */
    const distilFromTeacher = async () => {
      expect(await page.isChecked('#reuse-teacher')).toBe(true);
      await fillFields(page, {
        alpha: '1',
        'student-epochs': '10',
        'train-size': '1000',
        'student-size': '500',
        'batch-size': '32',
        'learning-rate': '0.003',
      });
      await page.click('#run');
      await page.waitForSelector('#run-status:has-text("Done")', { timeout: 120_000 });
      const rows = await tableRows(page);
      expect(rows.map((r) => r[0])).toEqual(['Teacher', 'Baseline student', 'Distilled student']);
      return Number.parseFloat(rows[2]![5]!);
    };
    try {
      await page.fill('#test-size', String(testSize));
      await refused(
        join(work, 'notes.onnx'),
        /^Could not load the teacher: notes\.onnx: .*expected a complete \.onnx file/,
      );
      await refused(join(work, 'cut.onnx'), /^Could not load the teacher: cut\.onnx: .*truncated/);
      await refused(
        join(graphDir, 'model.json'),
        'Could not load the teacher: model.json needs weight file(s) group1-shard1of1.bin: pick them together with the model.json.',
      );
      await refused(
        [join(work, 'wide', 'model.json'), join(work, 'wide', 'group1-shard1of1.bin')],
        'Could not load the teacher: model.json: the model takes input [?, 32, 32, 3] but the data gives examples of [28, 28, 1] (NHWC, i.e. [1, 28, 28] as NCHW); use a teacher trained on data of this shape',
      );
      // several outputs: listed, and the one chosen is used
      await refused(
        join(fixtures, 'onnx', 'tiny-two-outputs.onnx'),
        'tiny-two-outputs.onnx has 2 outputs (logits, features); choose the one holding the class scores under "Output".',
      );
      expect(await page.isVisible('#teacher-output')).toBe(true);
      expect(await page.$$eval('#teacher-output option', (os) => os.map((o) => o.textContent))).toEqual([
        'choose the output…',
        'logits',
        'features',
      ]);
      await page.selectOption('#teacher-output', 'logits');
      await loadedLine('tiny-two-outputs.onnx');
      expect((await facts()).Output).toBe('logits');
      expect(await page.isHidden('#teacher-file-error')).toBe(true);

      // The PyTorch export, with its normalisation, dropped on the card as a user would drag it there.
      await page.fill('#teacher-normalize', '0.1307,0.3081');
      const bytes = readFileSync(onnx).toString('base64');
      const drop = await page.evaluateHandle((b64) => {
        const dt = new DataTransfer();
        const raw = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        dt.items.add(new File([raw], 'mnist-bn-cnn.onnx'));
        return dt;
      }, bytes);
      await page.dispatchEvent('#teacher-drop', 'drop', { dataTransfer: drop });
      await loadedLine('mnist-bn-cnn.onnx');
      expect(await facts()).toEqual({
        File: 'mnist-bn-cnn.onnx',
        Format: expect.stringMatching(/^ONNX \(opset 13, made by pytorch/),
        Input: "[?, 1, 28, 28] (NCHW: the page's 28 × 28 × 1 images are transposed)",
        Output: 'probs',
        Classes: '10',
        Parameters: '105,866',
        'Input normalisation': '(x − 0.1307) / 0.3081 on pixels in [0, 1]',
        'Softmax head': 'log-probabilities used as logits (the same soft targets at every temperature)',
      });
      // the page scores it on the same 500 test digits as onnxruntime-node does
      const onnxRow = await teacherRow();
      expect(onnxRow[1]).toBe('mnist-bn-cnn.onnx');
      expect(onnxRow[3]).toBe(`${onnxNode.errors} / ${testSize}`);
      expect(Math.abs(Number.parseFloat(onnxRow[6]!) - onnxNode.nll)).toBeLessThan(2e-4);
      expect(await page.textContent('#teacher-file-status')).toContain(
        `(${onnxNode.errors} errors on ${testSize} test images)`,
      );
      console.log(
        `e2e ONNX teacher: ${onnxNode.errors} errors / ${testSize} in Node (onnxruntime-node), page: ${onnxRow[3]}, NLL ${onnxRow[6]} vs ${onnxNode.nll.toFixed(4)}`,
      );
      const fromOnnx = await distilFromTeacher();
      expect(await page.textContent('#comparison-summary')).toContain(
        'The distilled student learned from the teacher file mnist-bn-cnn.onnx (loaded, not trained here).',
      );
      expect(await page.textContent('#history-list li:last-child')).toContain(
        'teacher file mnist-bn-cnn.onnx',
      );

      // The tfjs graph model (untrained weights: near chance); without normalisation.
      await page.fill('#teacher-normalize', '');
      await page.setInputFiles('#load-teacher', [
        join(graphDir, 'model.json'),
        join(graphDir, 'group1-shard1of1.bin'),
      ]);
      await loadedLine('model.json');
      expect(await facts()).toEqual({
        File: 'model.json',
        Format: expect.stringMatching(/^tfjs graph model \(converted by .*make-graph-teacher-fixture/),
        Input: "[?, 28, 28, 1] (NHWC, as the page's images)",
        Output: 'Identity',
        Classes: '10',
        Parameters: '5,130',
        'Input normalisation': 'none (pixels in [0, 1])',
        'Softmax head': 'log-probabilities used as logits (the same soft targets at every temperature)',
      });
      // (the table keeps the students of the ONNX teacher until new ones are trained: the status line says)
      expect(await page.textContent('#teacher-file-status')).toContain(
        `(${graphNode.errors} errors on ${testSize} test images)`,
      );
      const fromGraph = await distilFromTeacher();
      const graphRow = await teacherRow();
      expect(graphRow[1]).toBe('model.json');
      expect(graphRow[3]).toBe(`${graphNode.errors} / ${testSize}`);
      expect(Math.abs(Number.parseFloat(graphRow[6]!) - graphNode.nll)).toBeLessThan(2e-4);
      expect(await page.textContent('#comparison-summary')).toContain(
        'learned from the teacher file model.json',
      );
      // On soft targets alone, each student learned what its teacher knows: the trained PyTorch teacher's
      // student reads digits, the untrained graph teacher's does not.
      console.log(
        `e2e students on soft targets alone: from the ONNX teacher ${fromOnnx}%, from the graph teacher ${fromGraph}% (teachers ${((1 - onnxNode.errors / testSize) * 100).toFixed(1)}% and ${((1 - graphNode.errors / testSize) * 100).toFixed(1)}%)`,
      );
      expect(fromOnnx).toBeGreaterThan(60);
      expect(fromGraph).toBeLessThan(25);

      // A teacher of 10 digits on a dataset of 2 classes (a folder of the user's images): refused, both counts
      for (const label of [0, 1]) {
        mkdirSync(join(work, 'two', `digit-${label}`), { recursive: true });
        for (let i = 0, n = 0; n < 5; i++) {
          if (mnist.test.labels[i] !== label) continue;
          await sharp(Buffer.from(mnist.test.images.subarray(i * 784, (i + 1) * 784)), {
            raw: { width: 28, height: 28, channels: 1 },
          })
            .png()
            .toFile(join(work, 'two', `digit-${label}`, `${i}.png`));
          n++;
        }
      }
      await page.setInputFiles('#folder-input', join(work, 'two'));
      await page.waitForFunction(() =>
        document.getElementById('data-status')?.textContent?.startsWith('two'),
      );
      expect(await page.isHidden('#teacher-file-info')).toBe(true);
      await refused(
        onnx,
        "Could not load the teacher: mnist-bn-cnn.onnx: the model outputs 10 classes ('probs' [?, 10]) but the data has 2; use a teacher trained on the same classes",
      );
    } finally {
      await context.close();
      rmSync(work, { recursive: true, force: true });
    }
    expect(pageErrors).toEqual([]);
  });

  it('loads an exported student and predicts on an image file and on the digit shown, as tfjs does in Node', async () => {
    // A model in `distill export`'s format: a tfjs Layers model.json whose userDefinedMetadata carries the
    // preprocessing (input size, scaling, class names), with fixed weights, and a real Fashion-MNIST image.
    await tf.setBackend('cpu');
    const fashion = await loadFashionMnist();
    const model = tfl.sequential({
      layers: [tfl.layers.flatten({ inputShape: [28, 28, 1] }), tfl.layers.dense({ units: 10 })],
    });
    model.setWeights(
      model.getWeights().map((w) =>
        tf.tensor(
          Float32Array.from({ length: w.size }, (_, i) => Math.sin(i * 0.37) * 0.05),
          w.shape,
        ),
      ),
    );
    const pixels = fashion.test.images.subarray(0, 784);
    const expected = tf.tidy(() =>
      Array.from(
        tf
          .softmax(model.predict(tf.div(tf.tensor4d(pixels, [1, 28, 28, 1], 'float32'), 255)) as tf.Tensor)
          .dataSync(),
      ),
    );
    const dir = mkdtempSync(join(tmpdir(), 'playground-export-'));
    const preprocessing = {
      kind: 'image',
      image: { height: 28, width: 28, channels: 1, resize: 'stretch' },
      scale: '1/255',
      classNames: fashion.classNames,
    };
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        writeFileSync(
          join(dir, 'student.weights.bin'),
          Buffer.from(new Uint8Array(artifacts.weightData as ArrayBuffer)),
        );
        writeFileSync(
          join(dir, 'model.json'),
          JSON.stringify({
            modelTopology: artifacts.modelTopology,
            format: 'layers-model',
            weightsManifest: [{ paths: ['./student.weights.bin'], weights: artifacts.weightSpecs }],
            userDefinedMetadata: { distilljs: { preprocessing } },
          }),
        );
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    model.dispose();
    await sharp(Buffer.from(pixels), { raw: { width: 28, height: 28, channels: 1 } })
      .png()
      .toFile(join(dir, 'boot.png'));
    const { context, page, pageErrors } = await openReadyPage();
    try {
      expect(await page.isDisabled('#predict-image')).toBe(true);
      await page.setInputFiles('#predict-model', [join(dir, 'model.json'), join(dir, 'student.weights.bin')]);
      await page.waitForFunction(() =>
        document.getElementById('predict-status')?.textContent?.startsWith('Loaded'),
      );
      expect(await page.textContent('#predict-status')).toBe(
        'Loaded model.json: 28 x 28 x 1 inputs, 10 classes.',
      );
      await page.setInputFiles('#predict-image', join(dir, 'boot.png'));
      await page.waitForSelector('#predict-result li');
      const shown = await page.$$eval('#predict-result li', (lis) =>
        lis.map((li) => [li.textContent ?? '', Number((li as HTMLElement).dataset.p)] as const),
      );
      const top = expected
        .map((p, i) => [fashion.classNames[i]!, p] as const)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3);
      expect(shown.map((x) => x[0].split(':')[0])).toEqual(top.map((x) => x[0]));
      shown.forEach(([, p], i) => {
        expect(Math.abs(p - top[i]![1])).toBeLessThan(1e-4);
      });
      expect(await page.textContent('#predict-status')).toBe('model.json on boot.png:');
      // the digit shown in the dark-knowledge view (the page's test digit #0)
      await page.click('#predict-digit');
      await page.waitForFunction(() =>
        document.getElementById('predict-status')?.textContent?.includes('test digit #0'),
      );
      expect(await page.locator('#predict-result li').count()).toBe(3);
      // a file that is not a model is refused in words
      await page.setInputFiles('#predict-model', join(dir, 'boot.png'));
      await page.waitForFunction(() =>
        document.getElementById('predict-status')?.textContent?.startsWith('Could not'),
      );
      expect(await page.textContent('#predict-status')).toContain('boot.png is not a model');
    } finally {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(pageErrors).toEqual([]);
  });

  /** Reads the comparison table as { run label: [test errors, test NLL] }. */
  async function tableErrors(page: Page): Promise<Record<string, [number, number]>> {
    const rows = await tableRows(page);
    return Object.fromEntries(
      rows.map((r) => [r[0]!, [Number.parseInt(r[3]!.replace(/,/g, ''), 10), Number.parseFloat(r[6]!)]]),
    );
  }

  async function shot(page: Page, name: string): Promise<void> {
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, name), fullPage: true });
  }

  it('on a machine without a GPU: auto picks wasm over software WebGL and says why; the page reads, fits and keeps its runs', async () => {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const stacks = collectConsoleStacks(page);
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    // The built page is sent precompressed (Chromium asks for gzip, and for br where it trusts the origin).
    const encodings = new Map<string, string>();
    page.on('response', (r) => {
      if (/\/assets\/index-[^/]+\.js$/.test(new URL(r.url()).pathname))
        encodings.set('js', r.headers()['content-encoding'] ?? 'none');
    });
    try {
      await page.goto(url);
      await page.waitForSelector('#backend-status[data-backend="wasm"]', { timeout: 60_000 });
      const reason = (await page.textContent('#backend-reason')) ?? '';
      console.log(`e2e no-GPU backend line: ${reason}`);
      expect(reason).toMatch(/^Running on wasm/);
      expect(reason).not.toMatch(/tf\.setBackend/);
      expect(['br', 'gzip']).toContain(encodings.get('js'));
      const script = await page.$eval('script[type="module"]', (e) => (e as HTMLScriptElement).src);
      const asked = await fetch(script, { headers: { 'accept-encoding': 'br' } });
      expect(asked.headers.get('content-encoding')).toBe('br');
      expect(asked.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
      expect((await asked.text()).length).toBeGreaterThan(100_000);
      expect(reason).toMatch(/webgpu: the browser has WebGPU but offers no adapter/);
      expect(reason).toMatch(/webgl: WebGL runs on software rendering \(.*SwiftShader/);
      await page.waitForSelector('#data-status[data-ready="true"]', { timeout: 60_000 });
      expect(await seriousAxeViolations(page), 'axe before a run').toEqual([]);

      // "Test digit #": its error beside it, aria-invalid, cleared when valid; not in the banner far above.
      await page.fill('#digit-index', 'x');
      await page.press('#digit-index', 'Tab');
      expect(await page.getAttribute('#digit-index', 'aria-invalid')).toBe('true');
      expect(await page.textContent('#digit-index-error')).toMatch(/Test digit # must be a whole number/);
      expect(await page.isHidden('#message')).toBe(true);
      await page.fill('#digit-index', '3');
      await page.press('#digit-index', 'Tab');
      expect(await page.getAttribute('#digit-index', 'aria-invalid')).toBeNull();
      expect(await page.isHidden('#digit-index-error')).toBe(true);

      // A backend that cannot start: a banner, the pill on what still runs; a good switch clears the banner.
      await page.selectOption('#backend', 'webgpu');
      await page.waitForSelector('#message:has-text("Could not start the webgpu backend")');
      expect(await page.textContent('#message')).toMatch(/The page stays on wasm\./);
      expect(await page.getAttribute('#backend-status', 'data-backend')).toBe('wasm');
      expect(await page.textContent('#backend-status')).toBe('wasm');
      await page.selectOption('#backend', 'wasm');
      await page.waitForSelector('#message', { state: 'hidden' });
      expect(await page.textContent('#backend-status')).toBe('wasm');

      // The default run (the form as it opens), timed; axe while it trains.
      await page.fill('#seed', '2');
      const started = Date.now();
      await page.click('#run');
      await page.waitForFunction(
        () =>
          ((document.querySelector('#panel-baseline .p-bar') as HTMLProgressElement | null)?.value ?? 0) > 0,
        undefined,
        { polling: 100, timeout: 120_000 },
      );
      expect(await seriousAxeViolations(page), 'axe during a run').toEqual([]);
      await page.waitForSelector('#run-status:has-text("Done")', { timeout: 240_000 });
      console.log(
        `e2e default run on wasm (2 cores, not asserted): ${await page.textContent('#run-status')} wall ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      expect(await seriousAxeViolations(page), 'axe after a run').toEqual([]);

      // What the table and charts say.
      const summary = (await page.textContent('#comparison-summary')) ?? '';
      expect(summary).not.toMatch(/made 0 (fewer|more)/);
      const vs = await page.$$eval('#comparison-table tbody tr', (trs) =>
        trs.map((tr) => tr.children[4]?.textContent),
      );
      expect(vs[0], 'teacher vs baseline').toMatch(/^[-+±]\d+$/);
      expect(await page.textContent('#panel-distilled .p-loss')).toMatch(
        /^\d+\.\d{4} \(soft \d+\.\d{4}, hard \d+\.\d{4}\)$/,
      );
      expect(await page.textContent('#loss-title')).toMatch(/what each run minimises/);
      expect(await page.locator('#loss-table tbody tr').count()).toBe(30);
      expect(await page.locator('#acc-table tbody tr').count()).toBe(30);
      expect(await page.textContent('#slider-note')).toMatch(/T = 4/);
      expect(await page.textContent('#similar-pairs').then((t) => t ?? '')).toMatch(/looks like/);
      expect(await page.textContent('#dark-knowledge')).toMatch(
        /means: on test images of a 9, the teacher gives 4 a mean probability/,
      );

      // Named controls, a visible focus ring on the file button, the drawing pad by keyboard and by touch.
      expect(await page.getAttribute('#panel-teacher .p-bar', 'aria-label')).toBe(
        'Teacher training progress',
      );
      await page.focus('#load-teacher');
      const ring = await page.$eval('.file-button', (e) => getComputedStyle(e).outlineStyle);
      expect(ring).not.toBe('none');
      await page.focus('#draw-pad');
      await page.keyboard.press('Space');
      for (let i = 0; i < 6; i++) await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Enter');
      await page.waitForSelector('#digit-caption:has-text("your drawing")');
      await page.click('#draw-clear');
      await page.waitForSelector('#digit-caption:has-text("test #")');
      const pad = (await page.locator('#draw-pad').boundingBox())!;
      // A finger, through Chromium's own touch input (it becomes pointer events with pointerType 'touch').
      const cdp = await context.newCDPSession(page);
      await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: true, maxTouchPoints: 1 });
      const at = (y: number) => [{ x: pad.x + pad.width / 2, y: pad.y + pad.height * y }];
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: at(0.2) });
      for (const y of [0.3, 0.45, 0.6, 0.75])
        await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: at(y) });
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
      await page.waitForSelector('#digit-caption:has-text("your drawing")');

      // The layout at a phone, a tablet and a desktop width: no sideways page scroll, nothing cut off.
      for (const width of [360, 768, 1280]) {
        await page.setViewportSize({ width, height: 800 });
        await page.waitForTimeout(200);
        expect(await layoutProblems(page), `layout at ${width} px`).toEqual([]);
        await shot(page, `layout-${width}.png`);
      }

      // After a reload: the run is listed with its charts, the settings are kept; a second run keeps the first.
      await page.reload();
      await page.waitForSelector('#history-list li', { timeout: 60_000 });
      expect(await page.locator('#loss-table tbody tr').count()).toBe(30);
      expect(await page.inputValue('#seed')).toBe('2');
      await page.waitForSelector('#storage-status:has-text("Restored")', { timeout: 60_000 });
      await page.check('#reuse-teacher');
      await page.fill('#student-epochs', '2');
      await page.fill('#temperature', '8');
      await page.click('#run');
      // the second run is listed once its baseline ends (so the "Done" below is this run's)
      await expect.poll(() => page.locator('#history-list li').count(), { timeout: 120_000 }).toBe(2);
      await page.waitForSelector('#run-status:has-text("Done")', { timeout: 120_000 });
      expect(await page.isChecked('#reuse-teacher'), 'the box keeps its tick after a run').toBe(true);
      expect(await page.textContent('#slider-note')).toMatch(/T = 8/);
      expect(await page.locator('#history-list li').count()).toBe(2);
      // the kept teacher's 3 epochs and the students' 2
      expect(await page.locator('#loss-table tbody tr').count()).toBe(3);
      // The first run's charts are still there.
      await page.click('#history-list li:nth-child(1) .show-run');
      expect(await page.locator('#loss-table tbody tr').count()).toBe(30);
      // Compare the two, then delete the first.
      await page.check('#history-list li:nth-child(1) input[type="checkbox"]');
      await page.check('#history-list li:nth-child(2) input[type="checkbox"]');
      await page.waitForSelector('#history-compare:not([hidden])');
      const compared = await page.$$eval('#history-compare-table tbody tr', (trs) =>
        trs.map((tr) => Array.from(tr.children, (c) => c.textContent)),
      );
      expect(compared.find((r) => r[0] === 'Temperature T')).toEqual(['Temperature T', '4', '8']);
      expect(await seriousAxeViolations(page), 'axe with the history compared').toEqual([]);
      await page.click('#history-list li:nth-child(1) .delete-run');
      await expect.poll(() => page.locator('#history-list li').count()).toBe(1);
      await page.reload();
      await page.waitForSelector('#history-list li');
      expect(await page.locator('#history-list li').count()).toBe(1);
    } catch (error) {
      await shot(page, 'failure-no-gpu.png').catch(() => {});
      throw error;
    }
    expect(stacks, 'stack traces in the console').toEqual([]);
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('with WebGPU (SwiftShader): auto picks webgpu, and webgpu, webgl, wasm and cpu distil to the same results', async () => {
    const gpuBrowser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_ARGS, ...WEBGPU_FLAGS],
    });
    const query =
      'teacherModel=mlp-30x30&studentModel=mlp-10&teacherEpochs=1&studentEpochs=2&trainSize=400&studentSize=200' +
      '&testSize=300&batchSize=50&learningRate=0.01&temperature=4&alpha=0.9&seed=3&autorun=1';
    const seen: Record<string, { tables: Record<string, [number, number]>; seconds: string }> = {};
    try {
      for (const backend of ['auto', 'webgl', 'wasm', 'cpu']) {
        const context = await gpuBrowser.newContext({ viewport: { width: 1280, height: 900 } });
        const page = await context.newPage();
        const stacks = collectConsoleStacks(page);
        const syncReads: string[] = [];
        page.on('console', (m) => {
          if (/synchronous|readSync|dataSync/i.test(m.text())) syncReads.push(m.text().slice(0, 200));
        });
        try {
          await page.goto(`${url}?backend=${backend}&${query}`);
          await page.waitForSelector('#run-status:has-text("Done")', { timeout: 200_000 });
          const pill = (await page.textContent('#backend-status')) ?? '';
          const reason = (await page.textContent('#backend-reason')) ?? '';
          if (backend === 'auto') {
            expect(pill).toBe('webgpu');
            expect(reason).toMatch(/auto picked webgpu .*swiftshader.*software.*\(the first choice\)/);
          } else {
            expect(pill).toBe(backend);
          }
          // Evaluation and the dark-knowledge view ran on this backend too.
          await page.waitForSelector('#bars-t .bar');
          expect(await page.locator('#similar-pairs li').count()).toBeGreaterThan(0);
          // tfjs warns on webgpu when data is read synchronously; the training loop reads asynchronously.
          expect(syncReads, `synchronous GPU reads on ${pill}`).toEqual([]);
          const teacherLoss = Number.parseFloat((await page.textContent('#panel-teacher .p-loss')) ?? '');
          expect(teacherLoss, `teacher's train loss on ${pill}`).toBeGreaterThan(0.01);
          seen[pill] = {
            tables: await tableErrors(page),
            seconds: (await page.textContent('#run-status')) ?? '',
          };
          expect(stacks, `stack traces in the console on ${pill}`).toEqual([]);
        } catch (error) {
          await shot(page, `failure-${backend}.png`).catch(() => {});
          throw error;
        } finally {
          await context.close();
        }
      }
    } finally {
      await gpuBrowser.close();
    }
    // Tolerance: same seed and settings, so only float rounding differs between backends: each model's test
    // errors within 2% of the 300 test digits (6) and its test NLL within 0.02 of wasm's.
    const ref = seen.wasm!.tables;
    for (const [backend, { tables, seconds }] of Object.entries(seen)) {
      console.log(`e2e ${backend}: ${seconds} ${JSON.stringify(tables)}`);
      expect(Object.keys(tables)).toEqual(['Teacher', 'Baseline student', 'Distilled student']);
      for (const [run, [errors, nll]] of Object.entries(tables)) {
        expect(Math.abs(errors - ref[run]![0]), `${backend} ${run} test errors vs wasm`).toBeLessThanOrEqual(
          6,
        );
        expect(Math.abs(nll - ref[run]![1]), `${backend} ${run} test NLL vs wasm`).toBeLessThanOrEqual(0.02);
      }
    }
    expect(Object.keys(seen).sort()).toEqual(['cpu', 'wasm', 'webgl', 'webgpu']);
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
    // Each error beside its field, named by aria-describedby, the field marked aria-invalid; none in the banner.
    expect(await page.textContent('#temperature-error')).toBe(
      'Temperature must be a number between 1 and 20; got "hot".',
    );
    expect(await page.textContent('#teacher-epochs-error')).toBe(
      'Teacher epochs must be a whole number between 1 and 50; got "0".',
    );
    expect(await page.getAttribute('#temperature', 'aria-invalid')).toBe('true');
    expect(await page.getAttribute('#temperature', 'aria-describedby')).toContain('temperature-error');
    expect(await page.isHidden('#message')).toBe(true);
    expect(await page.isDisabled('#stop')).toBe(true);
    // Fixed, the field's error goes at once, before Run is pressed again; the other stays.
    await page.fill('#temperature', '4');
    expect(await page.getAttribute('#temperature', 'aria-invalid')).toBeNull();
    expect(await page.isHidden('#temperature-error')).toBe(true);
    expect(await page.getAttribute('#teacher-epochs', 'aria-invalid')).toBe('true');

    // A file that is not a model is refused with a message.
    await page.setInputFiles('#load-teacher', {
      name: 'notes.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('not a model'),
    });
    await page.waitForSelector('#teacher-file-error:not([hidden])');
    expect(await page.textContent('#teacher-file-error')).toBe(
      'Could not load the teacher: notes.txt is not a teacher: pick an .onnx file, or a tfjs model.json together with its .bin weight file(s).',
    );

    // A short distillation on wasm into CNN students: their first convolution's filter gradient and their
    // pooling gradients run in @distilljs/backends' WebAssembly SIMD kernels, on the page's shared memory.
    await page.selectOption('#student-model', 'mnist-cnn');
    await fillFields(page, {
      temperature: '4',
      'teacher-epochs': '2',
      'student-epochs': '2',
      'train-size': '1500',
      'student-size': '500',
      'test-size': '500',
      'batch-size': '64',
    });
    await page.click('#run');
    await page.waitForSelector('#comparison-table:not([hidden]) tbody tr:nth-child(3)', { timeout: 150_000 });
    expect(await page.textContent('#backend-status')).toContain('wasm');
    const rows = await tableRows(page);
    expect(rows.map((r) => r[0])).toEqual(['Teacher', 'Baseline student', 'Distilled student']);
    // 10 classes, chance is 10%: even two short epochs on 1,500 digits learn far more than that.
    const accuracy = rows.map((r) => Number.parseFloat(r[5]!));
    expect(accuracy[0], 'teacher accuracy (%)').toBeGreaterThan(60);
    expect(accuracy[1], 'baseline accuracy (%)').toBeGreaterThan(25);
    expect(accuracy[2], 'distilled accuracy (%)').toBeGreaterThan(25);
    // the table shows the last run as it ends; the buttons follow once its models are stored
    await page.waitForSelector('#download-student:not([disabled])', { timeout: 30_000 });
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

    // Draw a digit: a vertical stroke becomes a 28x28 input and the teacher's bars follow it. The mouse acts in
    // the viewport, so the pad is scrolled into view first, as a user would.
    await page.locator('#draw-pad').scrollIntoViewIfNeeded();
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
    // the complete first run is kept in the history beside the stopped one
    expect(await page.locator('#history-list li').count()).toBe(2);
    expect(await page.textContent('#history-list li:nth-child(1)')).toMatch(
      /distilled \d+ vs baseline \d+ test errors/,
    );
    expect(await page.textContent('#history-list li:nth-child(2)')).toMatch(/stopped/);
    expect(await page.locator('#comparison-table tbody tr').count()).toBe(1);

    // A failure inside training shows a message on the page, and the page stays usable.
    await page.setInputFiles('#load-teacher', await nanTeacherFiles());
    await page.waitForSelector('#teacher-file-status:has-text("Loaded nan-teacher.json as the teacher")', {
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
