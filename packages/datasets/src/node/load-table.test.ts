import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FeatureDataset } from '@distilljs/core';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../__fixtures__/files.js';
import { loadNpy, loadTable } from './load-table.js';

// Debian's python3-sklearn ships these real tables (.ci/run installs it).
const SK = '/usr/lib/python3/dist-packages/sklearn/datasets/data';
const SKLEARN = { header: false, skipLines: 1 } as const;

function classCounts(ds: FeatureDataset): number[] {
  const out = new Array(ds.numClasses).fill(0);
  for (const y of [...ds.train.labels, ...ds.test.labels]) out[y]++;
  return out;
}

function columnMeans(features: Float32Array, d: number): number[] {
  const m = new Array(d).fill(0);
  for (let i = 0; i < features.length; i++) m[i % d] += features[i]! / (features.length / d);
  return m;
}

describe("loadTable on sklearn's real tables (python3-sklearn)", () => {
  it('loads iris, wine and breast cancer with their class counts', async () => {
    expect(existsSync(SK), 'apt-get install python3-sklearn').toBe(true);
    const iris = await loadTable(join(SK, 'iris.csv'), SKLEARN);
    expect(iris.featureShape).toEqual([4]);
    expect(iris.train.count + iris.test.count).toBe(150);
    expect(classCounts(iris)).toEqual([50, 50, 50]);
    const wine = await loadTable(join(SK, 'wine_data.csv'), SKLEARN);
    expect(wine.featureShape).toEqual([13]);
    expect(classCounts(wine)).toEqual([59, 71, 48]);
    const cancer = await loadTable(join(SK, 'breast_cancer.csv'), SKLEARN);
    expect(cancer.featureShape).toEqual([30]);
    expect(classCounts(cancer)).toEqual([212, 357]);
    // stratified 20% held out
    expect(cancer.test.count).toBe(Math.round(0.2 * 212) + Math.round(0.2 * 357));
  });

  it('standardises with statistics of the training rows only', async () => {
    const wine = await loadTable(join(SK, 'wine_data.csv'), { ...SKLEARN, seed: 5 });
    const raw = await loadTable(join(SK, 'wine_data.csv'), { ...SKLEARN, seed: 5, standardize: false });
    const d = 13;
    for (const m of columnMeans(wine.train.features, d)) expect(Math.abs(m)).toBeLessThan(1e-5);
    // the held-out rows are transformed with the training statistics, so their means are not 0
    expect(columnMeans(wine.test.features, d).some((m) => Math.abs(m) > 0.05)).toBe(true);
    const stats = wine.standardization!;
    expect(stats.mean[0]).toBeCloseTo(columnMeans(raw.train.features, d)[0]!, 4);
    const x = raw.test.features[3]!;
    expect(wine.test.features[3]).toBeCloseTo((x - stats.mean[3]!) / stats.std[3]!, 5);
  });

  it('loads the gzipped digits (1,797 8x8 images, label last) and refuses its constant pixel for standardisation', async () => {
    const digits = await loadTable(join(SK, 'digits.csv.gz'), { header: false, standardize: false });
    expect(digits.featureShape).toEqual([64]);
    expect(digits.train.count + digits.test.count).toBe(1797);
    expect(digits.numClasses).toBe(10);
    expect(Math.max(...digits.train.features)).toBe(16);
    await expect(loadTable(join(SK, 'digits.csv.gz'), { header: false })).rejects.toThrow(
      `${join(SK, 'digits.csv.gz')}: column "1" has the same value (0) in every training row, so it cannot be standardised`,
    );
  });
});

describe('loadTable on bad tables: one line naming the file, line and column', () => {
  const write = (name: string, text: string) => {
    const f = join(tempDir(), name);
    writeFileSync(f, text);
    return f;
  };
  it('a non-numeric cell', async () => {
    const f = write('t.csv', 'a,b,label\n1,2,x\n3,oops,y\n5,6,x\n');
    await expect(loadTable(f, { labelColumn: 'label', validationFraction: 0 })).rejects.toThrow(
      `${f}: line 3, column "b": "oops" is not a number`,
    );
  });
  it('a ragged row', async () => {
    const f = write('t.csv', 'a,b,label\n1,2,x\n3,4\n');
    await expect(loadTable(f, { labelColumn: 'label' })).rejects.toThrow(
      `${f}: line 3: has 2 fields, expected 3`,
    );
  });
  it('a missing label column', async () => {
    const f = write('t.csv', 'a,b,label\n1,2,x\n');
    await expect(loadTable(f, { labelColumn: 'species' })).rejects.toThrow(
      `${f}: header: no label column "species"; expected one of a, b, label`,
    );
  });
  it('a zero-variance column', async () => {
    const f = write('t.tsv', 'a\tb\tlabel\n1\t7\tx\n2\t7\ty\n3\t7\tx\n4\t7\ty\n');
    await expect(loadTable(f, { labelColumn: 'label', validationFraction: 0 })).rejects.toThrow(
      `${f}: column "b" has the same value (7) in every training row`,
    );
    // TSV by extension; string labels become sorted class names
    const ok = await loadTable(f, { labelColumn: 'label', validationFraction: 0, standardize: false });
    expect(ok.classNames).toEqual(['x', 'y']);
    expect(ok.featureNames).toEqual(['a', 'b']);
  });
});

const PY = '/usr/bin/python3';
function numpySave(dir: string, code: string): void {
  execFileSync(PY, ['-c', `import numpy as np, os\nos.chdir(${JSON.stringify(dir)})\n${code}`]);
}

describe('loadNpy on files written by numpy.save', () => {
  it('reads float32/float64 features of any shape and int64 labels exactly', async () => {
    const dir = tempDir();
    numpySave(
      dir,
      `rng = np.random.default_rng(0)
x = rng.normal(size=(40, 2, 3)).astype(np.float64)
np.save('x.npy', x); np.save('x32.npy', x.astype(np.float32)); np.save('y.npy', np.arange(40) % 4)
np.savetxt('x.txt', x.reshape(40, -1), fmt='%.17g')`,
    );
    const ds = await loadNpy(join(dir, 'x.npy'), join(dir, 'y.npy'), {
      validationFraction: 0,
      standardize: false,
    });
    expect(ds.featureShape).toEqual([2, 3]);
    expect(ds.numClasses).toBe(4);
    const text = readFileSync(join(dir, 'x.txt'), 'utf8');
    const want = Float32Array.from(text.trim().split(/\s+/).map(Number));
    expect(Array.from(ds.train.features)).toEqual(Array.from(want));
    expect(Array.from(ds.train.labels.slice(0, 6))).toEqual([0, 1, 2, 3, 0, 1]);
    const f32 = await loadNpy(join(dir, 'x32.npy'), join(dir, 'y.npy'), {
      validationFraction: 0.2,
      standardize: true,
    });
    expect(f32.train.count).toBe(32);
    expect(f32.standardization!.mean.length).toBe(6);
  });

  it('refuses files of different lengths and unsupported dtypes, naming the file', async () => {
    const dir = tempDir();
    numpySave(
      dir,
      `np.save('x.npy', np.zeros((10, 3), np.float32)); np.save('y9.npy', np.zeros(9, np.int64))
np.save('c.npy', np.zeros((10, 3), np.complex64)); np.save('be.npy', np.zeros((10, 3), '>f4'))
np.save('y.npy', np.zeros(10, np.int32))`,
    );
    await expect(loadNpy(join(dir, 'x.npy'), join(dir, 'y9.npy'))).rejects.toThrow(
      `${join(dir, 'y9.npy')}: holds 9 labels but ${join(dir, 'x.npy')} holds 10 examples`,
    );
    await expect(loadNpy(join(dir, 'c.npy'), join(dir, 'y.npy'))).rejects.toThrow(
      `${join(dir, 'c.npy')}: dtype "<c8" is not supported; use one of <f4, <f8`,
    );
    await expect(loadNpy(join(dir, 'be.npy'), join(dir, 'y.npy'))).rejects.toThrow(
      'dtype ">f4" is not supported',
    );
  });
});
