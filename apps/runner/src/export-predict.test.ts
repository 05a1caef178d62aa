import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMnist } from '@distilljs/datasets';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStockTfjsPage } from './stock-tfjs-page.js';
import { type CliResult, errorLines, runDistill } from './testing/built-cli.js';

// End-to-end on the built binary: a small model trained on the embedded MNIST digits is exported (uint8,
// float16), then `distill predict` reads PNG and JPEG files written from test digits and must agree with
// `distill eval`'s predictions for them. (cli.test.ts rebuilds a stale dist before any test runs.)
const DIGITS = 12;
let work = '';
let exported: CliResult | undefined;

const distill = (args: string[]) => runDistill(args, work);

const data = [
  '--dataset',
  'mnist-embedded',
  '--train-size',
  '1500',
  '--test-size',
  '200',
  '--backend',
  'wasm',
];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'distill-export-'));
  const trained = await distill([
    'train',
    '--model',
    'mlp',
    ...data,
    '--epochs',
    '2',
    '--quiet',
    '--out',
    'run',
  ]);
  expect(trained.code, trained.stderr).toBe(0);
  exported = await distill(['export', 'run', '--out', 'exported', '--quantize', 'uint8', ...data, '--json']);
  // the first test digits as PNG (lossless) and JPEG (quality 100) files
  const mnist = await loadMnist();
  for (let i = 0; i < DIGITS; i++) {
    const raw = { raw: { width: 28, height: 28, channels: 1 as const } };
    const px = Buffer.from(mnist.test.images.subarray(i * 784, (i + 1) * 784));
    await sharp(px, raw)
      .png()
      .toFile(join(work, `digit-${i}.png`));
    await sharp(px, raw)
      .jpeg({ quality: 100 })
      .toFile(join(work, `digit-${i}.jpg`));
  }
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('distill export', () => {
  it('writes the student alone with uint8 weights tfjs can dequantise, its preprocessing and both accuracies', async () => {
    const r = exported as CliResult;
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.quantize).toBe('uint8');
    expect(report.testCount).toBe(200);
    expect(report.weightsRatio).toBeLessThanOrEqual(0.27);
    expect(report.exported.weights * 4).toBe(report.float32.weights);
    expect(Math.abs(report.accuracyDropPoints)).toBeLessThanOrEqual(1);
    expect(readdirSync(join(work, 'exported')).sort()).toEqual([
      'model.json',
      'preprocessing.json',
      'weights.bin',
    ]);
    const json = JSON.parse(readFileSync(join(work, 'exported', 'model.json'), 'utf8'));
    const specs = json.weightsManifest[0].weights as { name: string; quantization?: { dtype: string } }[];
    expect(specs.length).toBeGreaterThan(0);
    for (const s of specs) expect(s.quantization?.dtype, s.name).toBe('uint8');
    expect(specs.some((s) => /adam|optimizer|teacher|regressor/i.test(s.name))).toBe(false);
    expect(json.userDefinedMetadata.distilljs.preprocessing).toMatchObject({
      kind: 'image',
      image: { height: 28, width: 28, channels: 1 },
      scale: '1/255',
      classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    });
    const text = await distill(['export', 'run', '--out', 'exported-f16', '--quantize', 'float16', ...data]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/float16 weight file: 50\.0% of float32; accuracy drop -?\d+\.\d\d points/);
  });

  it('refuses when quantisation costs more accuracy than --max-accuracy-drop, and writes nothing', async () => {
    // An outlier weight on a pixel that is 0 in every MNIST digit (the top-left corner) changes no float32
    // output, but stretches the first kernel's uint8 range so far that its other weights round to 0.
    const src = join(work, 'run', 'models');
    const modelDir = join(src, readdirSync(src)[0] as string);
    const outlier = join(work, 'outlier');
    const json = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8'));
    const weights = new Float32Array(readFileSync(join(modelDir, 'weights.bin')).buffer.slice(0));
    weights[0] = 1000;
    const bytes = Buffer.from(weights.buffer);
    json.userDefinedMetadata.distilljs.weightsSha256 = createHash('sha256').update(bytes).digest('hex');
    rmSync(outlier, { recursive: true, force: true });
    await import('node:fs').then((fs) => fs.mkdirSync(outlier));
    writeFileSync(join(outlier, 'model.json'), JSON.stringify(json));
    writeFileSync(join(outlier, 'weights.bin'), bytes);
    const r = await distill(['export', outlier, '--out', 'refused', '--max-accuracy-drop', '0.5', ...data]);
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(errorLines(r.stderr)[0]).toMatch(
      /uint8 weights cost \d+\.\d\d accuracy points .* more than --max-accuracy-drop 0\.5; nothing was written/,
    );
    expect(existsSync(join(work, 'refused'))).toBe(false);
    const f16 = await distill([
      'export',
      outlier,
      '--out',
      'accepted',
      '--quantize',
      'float16',
      '--max-accuracy-drop',
      '0.5',
      ...data,
    ]);
    expect(f16.code, f16.stderr).toBe(0);
  });
});

describe('distill predict', () => {
  it('on PNG and JPEG files of test digits matches distill eval for those digits', async () => {
    const evalRun = await distill(['eval', '--model', 'exported', ...data, '--predictions', 'eval.csv']);
    expect(evalRun.code, evalRun.stderr).toBe(0);
    const evaluated = readFileSync(join(work, 'eval.csv'), 'utf8').trim().split('\n').slice(1);
    const byIndex = new Map(evaluated.map((l) => l.split(',')).map((f) => [Number(f[1]), Number(f[3])]));
    for (const ext of ['png', 'jpg']) {
      const files = Array.from({ length: DIGITS }, (_, i) => `digit-${i}.${ext}`);
      const r = await distill(['predict', 'exported', ...files, '--json', '--top', '2', '--backend', 'wasm']);
      expect(r.code, r.stderr).toBe(0);
      const { predictions } = JSON.parse(r.stdout);
      expect(predictions).toHaveLength(DIGITS);
      predictions.forEach(
        (p: { predicted: { index: number }; top: unknown[]; probabilities: number[] }, i: number) => {
          expect(p.predicted.index, `${files[i]}`).toBe(byIndex.get(i));
          expect(p.top).toHaveLength(2);
          expect(p.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
        },
      );
    }
    const text = await distill(['predict', 'exported', 'digit-0.png']);
    expect(text.stdout).toMatch(/^digit-0\.png: \d \d+\.\d\d%, \d \d+\.\d\d%, \d \d+\.\d\d%$/m);
  });

  it('bad input: one clear line each, exit 2', async () => {
    writeFileSync(join(work, 'broken.png'), 'not a png at all');
    const src = join(work, 'run', 'models');
    const bare = join(src, readdirSync(src)[0] as string);
    const cases: [string[], RegExp][] = [
      [
        ['predict', bare, 'digit-0.png'],
        /has no saved preprocessing \(input size, normalisation, class names\); pass --dataset NAME/,
      ],
      [
        ['predict', 'exported', 'broken.png'],
        /broken\.png: cannot decode the image \(.*\); give a PNG, JPEG/,
      ],
      [['predict', 'exported', 'missing.png'], /missing\.png: no such file/],
      [['predict', 'exported', 'eval.csv'], /eval\.csv: not an image file/],
    ];
    for (const [args, message] of cases) {
      const r = await distill(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(errorLines(r.stderr), args.join(' ')).toHaveLength(1);
      expect(errorLines(r.stderr)[0], args.join(' ')).toMatch(message);
    }
    // with --dataset the bare model predicts as the exported one does
    const given = await distill(['predict', bare, 'digit-0.png', '--dataset', 'mnist-embedded', '--json']);
    expect(given.code, given.stderr).toBe(0);
  });
});

describe('the exported model in Chromium with stock tfjs', () => {
  it('loads with tf.loadLayersModel and reproduces distill predict to 1e-3 on the PNG digits', async () => {
    const files = Array.from({ length: DIGITS }, (_, i) => `digit-${i}.png`);
    const r = await distill(['predict', 'exported', ...files, '--json', '--backend', 'wasm']);
    expect(r.code, r.stderr).toBe(0);
    const expected = (JSON.parse(r.stdout).predictions as { probabilities: number[] }[]).map(
      (p) => p.probabilities,
    );
    const browser = await openStockTfjsPage(work);
    try {
      const got = await browser.page.evaluate(async (names: string[]) => {
        type Tf = typeof import('@tensorflow/tfjs-core');
        type StockTf = Tf & { loadLayersModel: typeof import('@tensorflow/tfjs-layers').loadLayersModel };
        const tf = (globalThis as unknown as { tf: StockTf }).tf;
        await tf.setBackend('cpu');
        const model = await tf.loadLayersModel('/files/exported/model.json');
        // the preprocessing travels inside model.json: size, scaling, class names
        const meta = model.getUserDefinedMetadata() as {
          distilljs: { preprocessing: { image: { height: number; width: number } } };
        };
        const { height, width } = meta.distilljs.preprocessing.image;
        const canvas = document.createElement('canvas');
        canvas.width = width;
        canvas.height = height;
        const ctx = canvas.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D;
        const out: number[][] = [];
        for (const name of names) {
          const img = new Image();
          img.src = `/files/${name}`;
          await img.decode();
          ctx.drawImage(img, 0, 0, width, height);
          const rgba = ctx.getImageData(0, 0, width, height).data;
          const grey = Float32Array.from({ length: width * height }, (_, i) => (rgba[i * 4] as number) / 255);
          const probs = tf.tidy(() =>
            tf.softmax(model.predict(tf.tensor4d(grey, [1, height, width, 1])) as ReturnType<Tf['softmax']>),
          );
          out.push(Array.from(await probs.data()));
          probs.dispose();
        }
        return out;
      }, files);
      expect(got).toHaveLength(DIGITS);
      got.forEach((row, i) => {
        row.forEach((p, k) => {
          expect(Math.abs(p - (expected[i]?.[k] as number)), `${files[i]} class ${k}`).toBeLessThanOrEqual(
            1e-3,
          );
        });
      });
    } finally {
      await browser.close();
    }
  });
});
