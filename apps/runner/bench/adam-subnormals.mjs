// Subnormal Adam moments and wasm step time (docs/RESULTS.md, packages/trainer/src/optimizer.ts).
// Loads a mid-run checkpoint of the lighter-dropout Fashion-MNIST teacher (weights and Adam state), then
// times 30 training steps (median of the last 25) from that state with Adam's update as it was before
// @distilljs/trainer flushed subnormals and with the flush, alternating, three rounds, on wasm.
//   distill run experiments/hinton-fashion-teacher-light.yaml --out runs/fashion-teacher-light   (stop it mid-run)
//   node bench/adam-subnormals.mjs runs/fashion-teacher-light/checkpoints/teacher-s1/ckpt-*.djsckpt
import { readFileSync } from 'node:fs';
import { selectBackend } from '@distilljs/backends';
import { loadFashionMnist } from '@distilljs/datasets';
import { createModel } from '@distilljs/models';
import { decodeCheckpoint } from '@distilljs/trainer';
import * as tf from '@tensorflow/tfjs-core';

await selectBackend('wasm');
const ckpt = decodeCheckpoint(readFileSync(process.argv[2]), process.argv[2]);
const model = createModel('hinton-teacher', { inputDropout: 0, dropout: 0.3, seed: 1 });
const weights = ckpt.meta.weights.map((w, i) => tf.tensor(ckpt.weights[i], w.shape));
const slots0 = ckpt.meta.optimizer.slots.map((s, i) => ({ ...s, t: tf.tensor(ckpt.slots[i], s.shape) }));
const t0Iter = ckpt.meta.optimizer.iterations;
const ds = await loadFashionMnist();
const B = 128,
  nb = 16;
const xs = [],
  ys = [];
for (let b = 0; b < nb; b++) {
  const off = b * B * 784;
  xs.push(
    tf.tensor4d(
      Float32Array.from(ds.train.images.subarray(off, off + B * 784), (v) => v / 255),
      [B, 28, 28, 1],
    ),
  );
  ys.push(
    tf.cast(
      tf.oneHot(tf.tensor1d(Array.from(ds.train.labels.subarray(b * B, (b + 1) * B)), 'int32'), 10),
      'float32',
    ),
  );
}
const C = 2 ** -100;
const TINY = 1.1754943508222875e-38;
/** The fraction of the values of `tensors` that are subnormal float32 numbers. */
function subnormalFraction(tensors) {
  let sub = 0;
  let total = 0;
  for (const t of tensors) {
    for (const x of t.dataSync()) {
      total++;
      if (x !== 0 && Math.abs(x) < TINY) sub++;
    }
  }
  return sub / total;
}
function run(flush, n) {
  model.setWeights(weights);
  const vars = model.trainableWeights.map((w) => w.val);
  const m = slots0.filter((s) => s.slot === 'm').map((s) => tf.variable(tf.clone(s.t)));
  const v = slots0.filter((s) => s.slot === 'v').map((s) => tf.variable(tf.clone(s.t)));
  let t = t0Iter;
  const times = [];

  for (let k = 0; k < n; k++) {
    const start = performance.now();
    t++;
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(ys[k % nb], model.apply(xs[k % nb], { training: true })),
        vars,
      );
      vars.forEach((p, i) => {
        const g = grads[p.name];
        let mn = tf.add(tf.mul(m[i], 0.9), tf.mul(g, 0.1));
        let vn = tf.add(tf.mul(v[i], 0.999), tf.mul(tf.square(g), 0.001));
        if (flush) {
          mn = tf.sub(tf.add(mn, C), C);
          vn = tf.sub(tf.add(vn, C), C);
        }
        m[i].assign(mn);
        v[i].assign(vn);
        const mh = tf.div(mn, 1 - 0.9 ** t);
        const vh = tf.div(vn, 1 - 0.999 ** t);
        p.assign(tf.sub(p, tf.mul(tf.div(mh, tf.add(tf.sqrt(vh), 1e-8)), 1e-4)));
      });
      value.dataSync();
    });
    times.push(performance.now() - start);
  }
  const subnormalM = subnormalFraction(m);
  tf.dispose([m, v]);
  times.sort((a, b) => a - b);
  return { median: times.slice(5)[Math.floor((n - 5) / 2)], subnormalM };
}
const startFrac = subnormalFraction(slots0.filter((s) => s.slot === 'm').map((s) => s.t));
for (let r = 0; r < 3; r++) {
  const a = run(false, 30),
    b = run(true, 30);
  console.log(
    `round ${r}: subnormal m at start ${(100 * startFrac).toFixed(1)}%; as before ${a.median.toFixed(1)} ms/step (subnormal m ${(100 * a.subnormalM).toFixed(1)}%), flushed ${b.median.toFixed(1)} ms/step (subnormal m ${(100 * b.subnormalM).toFixed(1)}%)`,
  );
}
