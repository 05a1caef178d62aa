// Plain (unprofiled) cifar-vgg-small training steps on wasm, one thread, CPU time of the process per step:
// batch 128, tf.train.adam, softmax cross entropy; 3 warm-up steps then 10 timed; prints min and median.

import { selectBackend } from '@distilljs/backends';
import { createModel } from '@distilljs/models';
import * as tf from '@tensorflow/tfjs-core';

await selectBackend('wasm', { threads: 1 });
const model = createModel('cifar-vgg-small', { seed: 1 });
const opt = tf.train.adam(1e-3);
const x = tf.randomNormal([128, 32, 32, 3], 0, 1, 'float32', 3);
const y = tf.oneHot(
  tf.tensor1d(
    Array.from({ length: 128 }, (_, i) => i % 10),
    'int32',
  ),
  10,
);
const step = () =>
  tf.tidy(() => {
    opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true })));
  });
for (let i = 0; i < 3; i++) step();
const t = [];
for (let i = 0; i < 10; i++) {
  const c0 = process.cpuUsage();
  step();
  await tf.ready();
  const c = process.cpuUsage(c0);
  t.push((c.user + c.system) / 1000);
}
t.sort((a, b) => a - b);
console.log(`min ${t[0].toFixed(1)} median ${((t[4] + t[5]) / 2).toFixed(1)} ms/step (cpu)`);
