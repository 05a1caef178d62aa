import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEBIAN_FASHION_MNIST_DIR, loadFashionMnist } from '@distilljs/datasets';
import { loadModel } from '@distilljs/models/node';
import sharp from 'sharp';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, errorLines, runDistill } from './testing/built-cli.js';

// End-to-end on your own data, through the BUILT binary (dist/cli.js; cli.test.ts rebuilds a stale one):
// an image folder of real Fashion-MNIST images, sklearn's digits table, and every bad input of issue 19.
const DIGITS = '/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz';
let work = '';
let folder = '';
let unlabelled = '';

const distill = (args: string[]) => runDistill(args, work, { env: { DISTILLJS_CACHE: join(work, 'cache') } });

/** 240 labelled test images (PNG for even indices, JPEG for odd) in class folders, 120 more unlabelled. */
async function writeFolders(): Promise<void> {
  const fashion = await loadFashionMnist();
  const write = async (i: number, path: string) => {
    const img = sharp(Buffer.from(fashion.test.images.subarray(i * 784, (i + 1) * 784)), {
      raw: { width: 28, height: 28, channels: 1 },
    });
    await (i % 2 ? img.jpeg({ quality: 95 }) : img.png()).toFile(path);
  };
  const name = (i: number) => `${String(i).padStart(5, '0')}.${i % 2 ? 'jpg' : 'png'}`;
  for (let i = 0; i < 240; i++) {
    const dir = join(folder, fashion.classNames[fashion.test.labels[i]!]!.replace('/', '-'));
    mkdirSync(dir, { recursive: true });
    await write(i, join(dir, name(i)));
  }
  mkdirSync(unlabelled, { recursive: true });
  for (let i = 240; i < 360; i++) await write(i, join(unlabelled, name(i)));
}

beforeAll(async () => {
  expect(existsSync(cli), `${cli} is missing: run \`pnpm build\` first`).toBe(true);
  expect(statSync(cli).mtimeMs).toBeGreaterThan(0);
  expect(existsSync(DEBIAN_FASHION_MNIST_DIR), 'apt-get install dataset-fashion-mnist').toBe(true);
  expect(existsSync(DIGITS), 'apt-get install python3-sklearn').toBe(true);
  work = mkdtempSync(join(tmpdir(), 'distill-own-'));
  folder = join(work, 'fashion');
  unlabelled = join(work, 'unlabelled');
  await writeFolders();
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const FOLDER_FLAGS = ['--channels', '1', '--image-size', '28', '--batch-size', '32'];

describe('distill on an image folder of real Fashion-MNIST PNG and JPEG files', () => {
  it('`distill train` then `distill distill` run end to end; the models carry their preprocessing', async () => {
    const teacherRun = join(work, 'teacher');
    const t = await distill([
      'train',
      '--dataset',
      folder,
      '--model',
      'mlp:64',
      '--epochs',
      '2',
      ...FOLDER_FLAGS,
      '--out',
      teacherRun,
      '--quiet',
    ]);
    expect(t.stderr).toBe('');
    expect(t.code).toBe(0);
    const record = JSON.parse(readFileSync(join(teacherRun, 'run.json'), 'utf8'));
    expect(record.stages[0].test.count).toBe(48); // 20% of 240, stratified by class
    const pre = JSON.parse(
      readFileSync(join(teacherRun, 'models', 'teacher-s1', 'preprocessing.json'), 'utf8'),
    );
    expect(pre).toMatchObject({
      kind: 'image-folder',
      image: { height: 28, width: 28, channels: 1, resize: 'stretch' },
    });
    expect(pre.classNames).toContain('T-shirt-top');

    const studentRun = join(work, 'student');
    const s = await distill([
      'distill',
      '--dataset',
      `folder:${folder}`,
      '--teacher',
      teacherRun,
      '--student',
      'mlp:16',
      '--epochs',
      '2',
      ...FOLDER_FLAGS,
      '--out',
      studentRun,
      '--quiet',
    ]);
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/student mlp:16 .*\/ 48/);

    // the same with 120 unlabelled images added to the transfer set (soft term only)
    const withU = join(work, 'student-unlabelled');
    const u = await distill([
      'distill',
      '--dataset',
      folder,
      '--unlabelled',
      unlabelled,
      '--teacher',
      teacherRun,
      '--student',
      'mlp:16',
      '--epochs',
      '2',
      ...FOLDER_FLAGS,
      '--out',
      withU,
      '--json',
      '--quiet',
    ]);
    expect(u.code).toBe(0);
    const out = JSON.parse(u.stdout);
    // 192 labelled + 120 unlabelled transfer images at batch 32: 10 steps per epoch instead of 6
    expect(out.stages[0].steps).toBe(20);
  });

  it('`data inspect` prints classes with counts, the shape, the split, and every unreadable file', async () => {
    const bad = join(work, 'bad-inspect');
    mkdirSync(join(bad, 'a'), { recursive: true });
    mkdirSync(join(bad, 'b'), { recursive: true });
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#777' } })
      .png()
      .toBuffer();
    for (let i = 0; i < 5; i++) {
      writeFileSync(join(bad, 'a', `${i}.png`), png);
      writeFileSync(join(bad, 'b', `${i}.png`), png);
    }
    writeFileSync(join(bad, 'b', 'zz.jpg'), 'not a jpeg');
    const r = await distill(['data', 'inspect', bad, '--image-size', '4']);
    expect(r.code).toBe(0);
    // 10 readable images: 2 held out as the test split (1 per class), 1 of the other 8 carved as validation
    expect(r.stdout).toContain('7 train / 1 validation / 2 test images of [4, 4, 3], 2 classes');
    expect(r.stdout).toMatch(/│ 0\s+│\s+a │\s+3 │\s+1 │\s+1 │/);
    expect(r.stdout).toMatch(/│ 1\s+│\s+b │\s+4 │\s+0 │\s+1 │/);
    expect(r.stdout).toContain(`unreadable files: 1\n  ${join(bad, 'b', 'zz.jpg')}: cannot decode the image`);
    const u = await distill(['data', 'inspect', unlabelled, '--channels', '1', '--image-size', '28']);
    expect(u.stdout).toMatch(
      /\d+ train \/ \d+ validation \/ 0 test images of \[28, 28, 1\], unlabelled \(a transfer set\)/,
    );
  });
});

describe('distill on sklearn digits (a real table)', () => {
  it('`distill distill` runs with an MLP teacher and a smaller student', async () => {
    const r = await distill([
      'distill',
      '--dataset',
      `csv:${DIGITS}`,
      '--no-header',
      '--no-standardize',
      '--teacher',
      'mlp:128',
      '--student',
      'mlp:16',
      '--epochs',
      '3',
      '--batch-size',
      '64',
      '--temperature',
      '4',
      '--out',
      join(work, 'digits'),
      '--quiet',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/teacher mlp:128\s+│\s+mlp:128\s+│\s+9,610\s+│\s+\d+ \/ \d+\s+│\s+\d+ \/ 359/);
    expect(r.stdout).toMatch(/student mlp:16 .*│\s+1,210\s+│\s+\d+ \/ \d+\s+│\s+\d+ \/ 359/);
    const pre = JSON.parse(
      readFileSync(join(work, 'digits', 'models', 'teacher-s1', 'preprocessing.json'), 'utf8'),
    );
    expect(pre).toMatchObject({ kind: 'table', featureShape: [64], standardization: null });
  });
});

describe('distill predict on table rows (CSV by header name, NPY arrays), standardised as in training', () => {
  it("gives the saved model's probabilities for each row, with the training part's standardisation", async () => {
    // sklearn's wine table (13 features) rewritten with a header and the label first
    const wine = readFileSync('/usr/lib/python3/dist-packages/sklearn/datasets/data/wine_data.csv', 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','));
    const names = Array.from({ length: 13 }, (_, j) => `f${j + 1}`);
    const table = join(work, 'wine.csv');
    writeFileSync(
      table,
      `${['label', ...names].join(',')}\n${wine.map((r) => [r[13], ...r.slice(0, 13)].join(',')).join('\n')}\n`,
    );
    const run = join(work, 'wine');
    const t = await distill([
      'train',
      '--dataset',
      `csv:${table}`,
      '--label-column',
      'label',
      '--model',
      'mlp:8',
      '--epochs',
      '2',
      '--out',
      run,
      '--quiet',
    ]);
    expect(t.code, t.stderr).toBe(0);
    const modelDir = join(run, 'models', 'teacher-s1');
    const pre = JSON.parse(readFileSync(join(modelDir, 'preprocessing.json'), 'utf8'));
    expect(pre.featureNames).toEqual(names);

    // rows to predict: the features in reverse column order, no label column
    const rows = wine.slice(0, 6).map((r) => r.slice(0, 13).map(Number));
    const reversed = [...names].reverse();
    const csv = join(work, 'new-wine.csv');
    writeFileSync(csv, `${reversed.join(',')}\n${rows.map((r) => [...r].reverse().join(',')).join('\n')}\n`);
    const npy = join(work, 'new-wine.npy');
    execFileSync('/usr/bin/python3', [
      '-c',
      `import numpy, sys; numpy.save(sys.argv[1], numpy.array(${JSON.stringify(rows)}, dtype=numpy.float64))`,
      npy,
    ]);
    const p = await distill(['predict', modelDir, csv, npy, '--json', '--backend', 'cpu']);
    expect(p.code, p.stderr).toBe(0);
    const predictions = JSON.parse(p.stdout).predictions as { input: string; probabilities: number[] }[];
    expect(predictions.map((x) => x.input)).toEqual([
      ...rows.map((_, i) => `${csv}:${i + 2}`),
      ...rows.map((_, i) => `${npy}[${i}]`),
    ]);

    // what the model gives for the rows standardised by hand with the saved statistics
    await tf.setBackend('cpu');
    const model = await loadModel(modelDir);
    const x = tf.tensor2d(
      rows.map((r) => r.map((v, j) => (v - pre.standardization.mean[j]) / pre.standardization.std[j])),
    );
    const y = tf.softmax(model.predict(x) as tf.Tensor);
    const expected = (await y.array()) as number[][];
    tf.dispose([x, y]);
    model.dispose();
    predictions.forEach((pr, i) => {
      pr.probabilities.forEach((v, k) => {
        expect(v).toBeCloseTo(expected[i % rows.length]![k]!, 5);
      });
    });

    // bad rows: one line naming the file, the line and what is expected
    writeFileSync(csv, `${reversed.join(',')}\n${rows[0]!.join(',')}\n1,2\n`);
    const bad = await distill(['predict', modelDir, csv]);
    expect(bad.code).toBe(2);
    expect(errorLines(bad.stderr)).toEqual([
      `distill: ${csv}: line 3: has 2 fields, expected 13 like the header`,
    ]);
    writeFileSync(csv, 'f1,f2\n1,2\n');
    const missing = await distill(['predict', modelDir, csv]);
    expect(errorLines(missing.stderr)[0]).toMatch(`distill: ${csv}: header: no column "f3", "f4"`);
    const image = await distill([
      'predict',
      modelDir,
      join(folder, 'Bag', readdirFirst(join(folder, 'Bag'))),
    ]);
    expect(image.code).toBe(2);
    expect(errorLines(image.stderr)[0]).toMatch(
      /this model takes table rows \(13 features\); give a \.csv or \.tsv file/,
    );
  });
});

describe('bad input: exit 2, one line naming the file, no run directory', () => {
  const expectBad = async (args: string[], line: string | RegExp) => {
    const out = join(work, `bad-${Math.random().toString(36).slice(2)}`);
    const r = await distill([...args, '--out', out]);
    expect(r.code).toBe(2);
    const errors = errorLines(r.stderr);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(line);
    expect(existsSync(out)).toBe(false);
  };
  const train = ['train', '--model', 'mlp:8', '--epochs', '1'];

  it('a corrupt image fails, listing every one; --skip-bad-files skips them and reports the count', async () => {
    const dir = join(work, 'corrupt');
    execFileSync('cp', ['-r', folder, dir]);
    writeFileSync(
      join(dir, 'Bag', 'broken.png'),
      readFileSync(join(folder, 'Bag', readdirFirst(join(folder, 'Bag')))).subarray(0, 50),
    );
    writeFileSync(join(dir, 'Coat', 'empty.jpg'), '');
    await expectBad(
      [...train, '--dataset', dir, ...FOLDER_FLAGS],
      new RegExp(
        `distill: ${dir}: 2 image files could not be read: ${dir}/Bag/broken.png \\(.*\\); ${dir}/Coat/empty.jpg`,
      ),
    );
    const r = await distill([
      ...train,
      '--dataset',
      dir,
      ...FOLDER_FLAGS,
      '--skip-bad-files',
      '--out',
      join(work, 'skipped'),
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('data: skipped 2 unreadable image file(s) (--skip-bad-files)');
  });

  it('an empty class folder, and a folder with no images', async () => {
    const dir = join(work, 'empty-class');
    mkdirSync(join(dir, 'cats'), { recursive: true });
    mkdirSync(join(dir, 'dogs'), { recursive: true });
    writeFileSync(
      join(dir, 'cats', 'a.png'),
      readFileSync(join(folder, 'Bag', readdirFirst(join(folder, 'Bag')))),
    );
    await expectBad(
      [...train, '--dataset', dir],
      `distill: ${join(dir, 'dogs')}: class folder "dogs" holds no images`,
    );
    const none = join(work, 'no-images');
    mkdirSync(none);
    writeFileSync(join(none, 'README.txt'), 'nothing here');
    await expectBad(
      [...train, '--dataset', `folder:${none}`],
      `distill: ${none}: no images; expected class folders`,
    );
  });

  it('CSV: a non-numeric cell, a ragged row, a missing label column, a zero-variance column', async () => {
    const csv = (name: string, text: string) => {
      const f = join(work, name);
      writeFileSync(f, text);
      return f;
    };
    const rows = (fn: (i: number) => string) => Array.from({ length: 20 }, (_, i) => fn(i)).join('\n');
    const nonNumeric = csv(
      'nn.csv',
      `x,y,label\n${rows((i) => `${i},${i === 7 ? 'n/a' : i * 2},${i % 2}`)}\n`,
    );
    await expectBad(
      [...train, '--dataset', nonNumeric, '--label-column', 'label'],
      `distill: ${nonNumeric}: line 9, column "y": "n/a" is not a number`,
    );
    const ragged = csv(
      'ragged.csv',
      `x,y,label\n${rows((i) => (i === 3 ? `${i},${i % 2}` : `${i},${i * 2},${i % 2}`))}\n`,
    );
    await expectBad(
      [...train, '--dataset', `csv:${ragged}`, '--label-column', 'label'],
      `distill: ${ragged}: line 5: has 2 fields, expected 3`,
    );
    await expectBad(
      [...train, '--dataset', ragged, '--label-column', 'class'],
      `distill: ${ragged}: header: no label column "class"; expected one of x, y, label`,
    );
    const flat = csv('flat.csv', `x,y,label\n${rows((i) => `${i},5,${i % 2}`)}\n`);
    await expectBad(
      [...train, '--dataset', flat, '--label-column', 'label'],
      `distill: ${flat}: column "y" has the same value (5) in every training row`,
    );
  });

  it('NPY: files of different lengths, an unsupported dtype', async () => {
    execFileSync('/usr/bin/python3', [
      '-c',
      `import numpy as np, os\nos.chdir(${JSON.stringify(work)})\nnp.save('x.npy', np.random.default_rng(0).normal(size=(30, 4)).astype('f4')); np.save('y.npy', np.arange(29) % 3); np.save('s.npy', np.array(['a'] * 30)); np.save('y30.npy', np.arange(30) % 3)`,
    ]);
    await expectBad(
      [...train, '--dataset', `npy:${join(work, 'x.npy')},${join(work, 'y.npy')}`],
      `distill: ${join(work, 'y.npy')}: holds 29 labels but ${join(work, 'x.npy')} holds 30 examples`,
    );
    await expectBad(
      [...train, '--dataset', `npy:${join(work, 's.npy')},${join(work, 'y30.npy')}`],
      `distill: ${join(work, 's.npy')}: dtype "<U1" is not supported`,
    );
  });
});

function readdirFirst(dir: string): string {
  return readdirSync(dir).sort()[0] as string;
}
