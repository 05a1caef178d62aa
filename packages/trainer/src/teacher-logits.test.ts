import '@tensorflow/tfjs-backend-cpu';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ImageDataset, Rng } from '@distilljs/core';
import { createBatchStream, syntheticDataset } from '@distilljs/datasets';
import { createModel, layersTeacher } from '@distilljs/models';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sameBits, weightBytes } from './__fixtures__/toy.js';
import { distill } from './distill.js';
import { encodeNpy } from './npy.js';
import { reconstructTopK, topKRows } from './teacher-logits.js';
import { loadTeacherLogits, writeTeacherLogits } from './teacher-logits-files.js';

let work = '';
let ds: ImageDataset;

beforeAll(async () => {
  await tf.setBackend('cpu');
  work = mkdtempSync(join(tmpdir(), 'distill-logits-'));
  ds = syntheticDataset({ seed: 3, numClasses: 10, imageShape: [8, 8, 1], trainCount: 300, testCount: 50 });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const mlp = (seed: number, hidden: number[]) =>
  createModel('mlp', {
    inputShape: [8, 8, 1],
    numClasses: 10,
    hiddenUnits: hidden,
    dropout: 0,
    inputDropout: 0,
    seed,
  });
const stream = (seed = 1, source: ImageDataset = ds, split: 'train' | 'test' = 'train') =>
  createBatchStream(source, { batchSize: 64, seed, shuffle: true, split });
const trainOpts = {
  epochs: 2,
  optimizer: { name: 'adam' as const, lr: 0.01 },
  seed: 5,
  temperature: 4,
  alpha: 0.9,
};

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir)) out[f] = readFileSync(join(dir, f)).toString('base64');
  return out;
}

describe('teacher logits files', () => {
  it('shard 0/2 + 1/2 into one directory, then distilling from it gives bit-identical students', async () => {
    const teacher = mlp(11, [32]);
    const dir = join(work, 'sharded');
    const t = layersTeacher(teacher);
    // The shards see the split through different streams and orders, as on two machines.
    await writeTeacherLogits({ teacher: t, data: stream(7), dir, shard: { index: 1, count: 2 } });
    const m = await writeTeacherLogits({
      teacher: t,
      data: createBatchStream(ds, { batchSize: 50 }),
      dir,
      shard: { index: 0, count: 2 },
    });
    expect(m.shards.map((s) => [s.start, s.end])).toEqual([
      [0, 150],
      [150, 300],
    ]);
    expect(m.dataset).toMatchObject({ name: 'synthetic', split: 'train', count: 300 });

    const direct = mlp(21, [16]);
    await distill({ teacher, student: direct, data: stream(), ...trainOpts });
    const fromFiles = mlp(21, [16]);
    const h = await distill({
      teacher: await loadTeacherLogits(dir),
      student: fromFiles,
      data: stream(),
      ...trainOpts,
    });
    expect(sameBits(weightBytes(direct), weightBytes(fromFiles))).toBe(true);
    expect(h.notes.join(' ')).toMatch(/precomputed logits of 300 examples of synthetic\/train/);
  });

  it('float16 storage rounds each logit to half precision', async () => {
    const teacher = mlp(11, [32]);
    const dir = join(work, 'half');
    await writeTeacherLogits({ teacher: layersTeacher(teacher), data: stream(), dir, dtype: 'float16' });
    const t = await loadTeacherLogits(dir);
    const batch = createBatchStream(ds, { batchSize: 300 }).epoch(0)[Symbol.iterator]().next().value!;
    const got = await t.logits(batch);
    const want = teacher.predict(batch.xs) as tf.Tensor;
    const rel = tf.max(tf.div(tf.abs(tf.sub(got, want)), tf.add(tf.abs(want), 1e-3))).dataSync()[0]!;
    expect(rel).toBeLessThan(2 ** -10);
    expect(rel).toBeGreaterThan(0);
    tf.dispose([got, want, batch.xs]);
  });

  it('top-k (k = 5 of 10): at each stored temperature the 5 probabilities are exact and KL <= m_T ln(C - k)', async () => {
    // Stated in docs/teacher-logits.md: rebuilt with the fill of T, softmax(z'/T) keeps the top k's
    // probabilities exactly and KL(p_T || p'_T) = m_T * KL(rest_T || uniform) <= m_T * ln(C - k), where m_T is
    // the teacher's probability outside the top k at temperature T.
    const rows = new Float32Array(2000 * 10);
    const rng = new Rng(12345);
    for (let i = 0; i < rows.length; i++) rows[i] = (rng.next() - 0.5) * (i % 3 === 0 ? 12 : 4);
    const temps = [1, 4, 20];
    const { values, indices } = topKRows(rows, 10, 5, temps);
    const at = (z: Float32Array, t: number) => softmax(z.map((v) => v / t));
    temps.forEach((t, fill) => {
      const rec = reconstructTopK(values, indices, 10, 5, fill, temps.length);
      let worst = 0;
      let klMax = 0;
      for (let r = 0; r < 2000; r++) {
        const p = at(rows.subarray(r * 10, r * 10 + 10), t);
        const q = at(rec.subarray(r * 10, r * 10 + 10), t);
        const top = Array.from(indices.subarray(r * 5, r * 5 + 5));
        for (const j of top) worst = Math.max(worst, Math.abs(p[j]! - q[j]!));
        const m = 1 - top.reduce((a, j) => a + p[j]!, 0);
        const kl = p.reduce((a, pj, j) => a + (pj > 0 ? pj * Math.log(pj / q[j]!) : 0), 0);
        expect(kl).toBeLessThanOrEqual(m * Math.log(5) + 1e-6);
        klMax = Math.max(klMax, kl);
      }
      expect(worst, `T ${t}`).toBeLessThan(1e-6);
      expect(klMax).toBeGreaterThan(0);
    });
    // The fill of T = 1 read at T = 4 does not keep the 5 probabilities: why one fill per temperature.
    const t1 = reconstructTopK(values, indices, 10, 5, 0, temps.length);
    const p = at(rows.subarray(0, 10), 4);
    const q = at(t1.subarray(0, 10), 4);
    expect(Math.abs(p[indices[0]!]! - q[indices[0]!]!)).toBeGreaterThan(1e-3);
  });

  it('distils from top-k files at a stored temperature, and refuses another', async () => {
    const dir = join(work, 'topk');
    const m = await writeTeacherLogits({
      teacher: layersTeacher(mlp(11, [32])),
      data: stream(),
      dir,
      topK: 5,
      topKTemperatures: [1, 4],
    });
    expect(m.shards[0]!.indices?.file).toBe('topk-indices-00000-of-00001.npy');
    expect(m.topKTemperatures).toEqual([1, 4]);
    const files = await loadTeacherLogits(dir);
    const h = await distill({
      teacher: files,
      student: mlp(21, [16]),
      data: stream(),
      ...trainOpts,
      temperature: 4,
    });
    expect(h.notes.join(' ')).toMatch(/top 5 of 10 classes .* fill logit of T 4/);
    await expect(
      distill({ teacher: files, student: mlp(21, [16]), data: stream(), ...trainOpts, temperature: 3 }),
    ).rejects.toThrow(
      /topk\/manifest\.json: these top-5 logits hold fill logits for T 1, 4, not for T 3; distil at one of those, or write the logits again with distill logits --top-k 5 --temperature 1,4,3/,
    );
  });

  it('reads the format as NumPy writes it (numpy.save, hashlib)', async () => {
    const dir = join(work, 'numpy');
    const labels = Array.from(ds.train.labels);
    writeFileSync(join(work, 'labels.npy'), encodeNpy(labels, [labels.length], 'int32'));
    const sha = sha256(ds.train.images);
    execFileSync('/usr/bin/python3', ['-c', NUMPY_WRITER, join(work, 'labels.npy'), dir, sha]);
    const t = await loadTeacherLogits(dir);
    const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as number[][];
    const batch = createBatchStream(ds, { batchSize: 300 }).epoch(0)[Symbol.iterator]().next().value!;
    const got = (await t.logits(batch)).arraySync() as number[][];
    batch.xs.dispose();
    expect(
      got
        .flat()
        .map((v, i) => Math.abs(v - expected.flat()[i]!))
        .every((d) => d < 1e-6),
    ).toBe(true);
    const student = mlp(21, [16]);
    const h = await distill({ teacher: t, student, data: stream(), ...trainOpts, epochs: 3, alpha: 1 });
    expect(h.epochs.at(-1)!.logs.loss).toBeLessThan(h.epochs[0]!.logs.loss!);
  });

  describe('bad input: one line naming the file, the directory left as it was', () => {
    let dir = '';
    let before: Record<string, string> = {};
    beforeAll(async () => {
      dir = join(work, 'good');
      const t = layersTeacher(mlp(11, [32]));
      await writeTeacherLogits({ teacher: t, data: stream(), dir, shard: { index: 0, count: 2 } });
      await writeTeacherLogits({ teacher: t, data: stream(), dir, shard: { index: 1, count: 2 } });
      before = snapshot(dir);
    });
    const copy = (name: string, edit: (d: string) => void) => {
      const d = join(work, name);
      rmSync(d, { recursive: true, force: true });
      execFileSync('cp', ['-r', dir, d]);
      edit(d);
      return d;
    };
    const manifestOf = (d: string) => JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8'));
    const oneLine = async (p: Promise<unknown>, re: RegExp) => {
      const err = (await p.then(
        () => undefined,
        (e: Error) => e,
      )) as Error;
      expect(err?.message).toMatch(re);
      expect(err.message.split('\n')).toHaveLength(1);
    };

    it('a missing shard file, and a manifest missing a shard', async () => {
      const gone = copy('gone', (d) => rmSync(join(d, 'logits-00001-of-00002.npy')));
      await oneLine(
        loadTeacherLogits(gone),
        /gone\/logits-00001-of-00002\.npy: missing; the manifest lists it/,
      );
      const unlisted = copy('unlisted', (d) => {
        const m = manifestOf(d);
        m.shards.pop();
        writeFileSync(join(d, 'manifest.json'), JSON.stringify(m));
      });
      await oneLine(
        loadTeacherLogits(unlisted),
        /unlisted\/manifest\.json: examples 150\.\.299 are in no shard/,
      );
    });

    it('a shard of the wrong size or sha256', async () => {
      const cut = copy('cut', (d) => {
        const f = join(d, 'logits-00000-of-00002.npy');
        writeFileSync(f, readFileSync(f).subarray(0, 1000));
      });
      await oneLine(
        loadTeacherLogits(cut),
        /cut\/logits-00000-of-00002\.npy: 1000 bytes, but the manifest says \d+/,
      );
      const flipped = copy('flipped', (d) => {
        const f = join(d, 'logits-00000-of-00002.npy');
        const b = readFileSync(f);
        b[500] = b[500]! ^ 1;
        writeFileSync(f, b);
      });
      await oneLine(
        loadTeacherLogits(flipped),
        /flipped\/logits-00000-of-00002\.npy: sha256 [0-9a-f]{64} differs from the manifest's/,
      );
    });

    it('NaN or Inf logits', async () => {
      for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
        const name = Number.isNaN(bad) ? 'nan' : 'inf';
        const d = copy(name, (d) => {
          const values = new Float32Array(150 * 10).fill(0.5);
          values[37 * 10 + 4] = bad;
          const bytes = encodeNpy(values, [150, 10], 'float32');
          writeFileSync(join(d, 'logits-00001-of-00002.npy'), bytes);
          const m = manifestOf(d);
          m.shards[1].logits.bytes = bytes.length;
          m.shards[1].logits.sha256 = sha256(bytes);
          writeFileSync(join(d, 'manifest.json'), JSON.stringify(m));
        });
        await oneLine(
          loadTeacherLogits(d),
          new RegExp(`${name}/logits-00001-of-00002\\.npy: ${bad} at example 187, column 4`),
        );
      }
    });

    it('logits of another dataset or split', async () => {
      const t = await loadTeacherLogits(dir);
      const other = syntheticDataset({
        seed: 4,
        numClasses: 10,
        imageShape: [8, 8, 1],
        trainCount: 300,
        testCount: 50,
      });
      await oneLine(
        distill({ teacher: t, student: mlp(21, [16]), data: stream(1, other), ...trainOpts }),
        /good: the logits are of synthetic\/train, 300 examples, sha256 [0-9a-f]{12}, but the data is synthetic\/train, 300 examples, sha256 [0-9a-f]{12}/,
      );
      await oneLine(
        distill({ teacher: t, student: mlp(21, [16]), data: stream(1, ds, 'test'), ...trainOpts }),
        /but the data is synthetic\/test, 50 examples/,
      );
    });

    it('a shard of another teacher refused before anything is written', async () => {
      await oneLine(
        writeTeacherLogits({
          teacher: layersTeacher(mlp(12, [32])),
          data: stream(),
          dir,
          shard: { index: 1, count: 2 },
        }),
        /good\/manifest\.json: the directory holds shards with teacher [0-9a-f]+, but this shard has [0-9a-f]+/,
      );
      expect(snapshot(dir)).toEqual(before);
    });
  });
});

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function softmax(z: ArrayLike<number>): number[] {
  const max = Math.max(...Array.from(z));
  const e = Array.from(z, (v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/** A Python writer of the format (NumPy + the standard library), as a GPU machine would run it. */
const NUMPY_WRITER = `
import hashlib, json, os, sys
import numpy as np
labels_path, out, sha = sys.argv[1], sys.argv[2], sys.argv[3]
labels = np.load(labels_path)
n, c = len(labels), 10
rng = np.random.default_rng(0)
logits = (4.0 * np.eye(c)[labels] + rng.normal(size=(n, c))).astype(np.float16)
os.makedirs(out)
shards = []
for i, (lo, hi) in enumerate([(0, n // 2), (n // 2, n)]):
    name = 'part-%d.npy' % i
    np.save(os.path.join(out, name), logits[lo:hi])
    data = open(os.path.join(out, name), 'rb').read()
    shards.append({'start': lo, 'end': hi, 'logits': {'file': name, 'bytes': len(data), 'sha256': hashlib.sha256(data).hexdigest()}})
manifest = {'format': 'distilljs-teacher-logits', 'version': 1, 'count': n, 'numClasses': c, 'dtype': 'float16',
            'topK': None, 'dataset': {'name': 'synthetic', 'split': 'train', 'count': n, 'sha256': sha}, 'shards': shards}
json.dump(manifest, open(os.path.join(out, 'manifest.json'), 'w'), indent=2)
json.dump(logits.astype(np.float32).tolist(), open(os.path.join(out, 'expected.json'), 'w'))
`;
