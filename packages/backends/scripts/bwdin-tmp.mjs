import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
const { selectBackend } = await import(new URL('../dist/index.js', import.meta.url).href);
await selectBackend('wasm', { threads: 2 });
for (const [n,h,w,ci,co] of [[128,2,2,128,128],[128,4,4,128,128],[128,8,8,64,128]]) {
  const x = tf.randomNormal([n,h,w,ci]); const f = tf.randomNormal([3,3,ci,co]); const dy = tf.randomNormal([n,h,w,co]);
  const t = (fn) => { const r=[]; for (let i=0;i<15;i++){ const s=performance.now(); const y=fn(); y.dataSync(); r.push(performance.now()-s); y.dispose(); } r.sort((a,b)=>a-b); return r[3].toFixed(2); };
  const sw = tf.transpose(tf.reverse(f,[0,1]),[0,1,3,2]);
  console.log([n,h,w,ci,co].join('x'), 'fwd', t(() => tf.conv2d(x, f, 1, 'same')),
   'fwd-newf', t(() => { const g = tf.add(f, 0); const y = tf.conv2d(x, g, 1, 'same'); g.dispose(); return y; }),
   'flip', t(() => tf.transpose(tf.reverse(f,[0,1]),[0,1,3,2])),
   'conv(dy,sw)', t(() => tf.conv2d(dy, sw, 1, 'same')),
   'kernel-bwd', t(() => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: f }, { inputShape: [n,h,w,ci], strides: [1,1], pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined })));
}
{
const [n,h,w,ci,co] = [128,2,2,128,128];
const f = tf.randomNormal([3,3,ci,co]); const dy = tf.randomNormal([n,h,w,co]);
const t = (fn) => { const r=[]; for (let i=0;i<15;i++){ const s=performance.now(); const y=fn(); y.dataSync(); r.push(performance.now()-s); y.dispose(); } r.sort((a,b)=>a-b); return r[3].toFixed(2); };
console.log('manual', t(() => tf.tidy(() => tf.conv2d(dy, tf.transpose(tf.reverse(f,[0,1]),[0,1,3,2]), 1, [[0,0],[1,1],[1,1],[0,0]]))));
console.log('manual same', t(() => tf.tidy(() => tf.conv2d(dy, tf.transpose(tf.reverse(f,[0,1]),[0,1,3,2]), 1, 'same'))));
const p = await tf.profile(() => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: f }, { inputShape: [n,h,w,ci], strides: [1,1], pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined }));
console.log(p.kernels.map(k => [k.name, k.kernelTimeMs]));
}
