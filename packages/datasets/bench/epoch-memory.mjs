// Memory of one Fashion-MNIST epoch in batches of 128, in a fresh process (run after `pnpm build`):
//   node --expose-gc bench/epoch-memory.mjs
import '@tensorflow/tfjs-backend-cpu';
import { createBatchStream, loadFashionMnist, randomShift } from '@distilljs/datasets';
import * as tf from '@tensorflow/tfjs-core';

const mib = (b) => `${(b / 2 ** 20).toFixed(0)} MiB`;
await tf.setBackend('cpu');
globalThis.gc?.();
const rss0 = process.memoryUsage().rss;
const ds = await loadFashionMnist();
globalThis.gc?.();
const rssLoaded = process.memoryUsage().rss;
for (const augment of [undefined, randomShift(2)]) {
  const stream = createBatchStream(ds, {
    batchSize: 128,
    shuffle: true,
    seed: 0,
    ...(augment ? { augment } : {}),
  });
  const tensors = tf.memory().numTensors;
  let peak = process.memoryUsage().rss;
  const t0 = performance.now();
  for (const batch of stream.epoch(0)) {
    batch.xs.dispose();
    peak = Math.max(peak, process.memoryUsage().rss);
  }
  const ms = performance.now() - t0;
  console.log(
    `${augment ? 'randomShift(2)' : 'no augmentation'}: ${stream.batchesPerEpoch} batches in ${(ms / 1000).toFixed(2)} s, ` +
      `numTensors ${tensors} -> ${tf.memory().numTensors}, peak RSS ${mib(peak)}`,
  );
}
console.log(
  `RSS: ${mib(rss0)} before loading, ${mib(rssLoaded)} with Fashion-MNIST loaded (${mib(ds.train.images.length + ds.test.images.length)} of pixels)`,
);
