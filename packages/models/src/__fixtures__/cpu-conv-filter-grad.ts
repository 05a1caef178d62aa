import * as tf from '@tensorflow/tfjs-core';

// The cpu backend of tfjs 4.22 computes Conv2DBackpropFilter about 100x slower than the forward convolution
// (measured here: a 3x3 64->64 convolution on 2x32x32 images, forward 0.8 s, filter gradient 67 s on a
// loaded 2-core machine), so one training step of the CIFAR CNNs takes minutes. This test fixture replaces
// the cpu kernel by the same sum computed as one forward convolution of transposed tensors:
//   dW[kh, kw, ci, co] = sum_{b, i, j} xpad[b, i*s + kh, j*s + kw, ci] * dy[b, i, j, co]
//                      = conv2d(transpose(xpad) as [ci, Hp, Wp, b], transpose(dy) as [oh, ow, b, co],
//                               stride 1, dilation s, 'valid')[ci, kh, kw, co].
// cpu-conv-filter-grad.test.ts checks it against the stock kernel.

type Info = tf.TensorInfo;

function run(
  name: string,
  inputs: Record<string, Info>,
  backend: tf.KernelBackend,
  attrs: Record<string, unknown>,
): Info {
  const k = tf.getKernel(name, 'cpu');
  if (!k) throw new Error(`cpu backend has no ${name} kernel`);
  return k.kernelFunc({ inputs, backend, attrs: attrs as tf.NamedAttrMap }) as Info;
}

const fastFilterGrad: tf.KernelFunc = ({ inputs, backend: anyBackend, attrs }) => {
  const backend = anyBackend as tf.KernelBackend;
  const { x, dy } = inputs as { x: Info; dy: Info };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } =
    attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (dataFormat === 'NCHW') throw new Error('fast cpu Conv2DBackpropFilter fixture: NHWC only');
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const { top, bottom, left, right } = info.padInfo;
  const free: Info[] = [];
  const keep = (t: Info): Info => {
    free.push(t);
    return t;
  };
  const xp = keep(
    run('PadV2', { x }, backend, {
      paddings: [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ],
      constantValue: 0,
    }),
  );
  const xt = keep(run('Transpose', { x: xp }, backend, { perm: [3, 1, 2, 0] }));
  const dyt = keep(run('Transpose', { x: dy }, backend, { perm: [1, 2, 0, 3] }));
  const g = keep(
    run('Conv2D', { x: xt, filter: dyt }, backend, {
      strides: 1,
      pad: 'valid',
      dataFormat: 'NHWC',
      dilations: [info.strideHeight, info.strideWidth],
    }),
  );
  const [kh, kw, ci, co] = filterShape;
  const sliced = keep(run('Slice', { x: g }, backend, { begin: [0, 0, 0, 0], size: [ci, kh, kw, co] }));
  const out = run('Transpose', { x: sliced }, backend, { perm: [1, 2, 0, 3] });
  for (const t of free)
    (backend as unknown as { disposeIntermediateTensorInfo(t: Info): void }).disposeIntermediateTensorInfo(t);
  return out;
};

/** Swaps in the fast cpu Conv2DBackpropFilter; returns a function that restores the stock kernel. */
export function useFastCpuConv2DBackpropFilter(): () => void {
  const stock = tf.getKernel('Conv2DBackpropFilter', 'cpu');
  if (!stock)
    throw new Error(
      'cpu backend has no Conv2DBackpropFilter kernel (import @tensorflow/tfjs-backend-cpu first)',
    );
  tf.unregisterKernel('Conv2DBackpropFilter', 'cpu');
  tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'cpu', kernelFunc: fastFilterGrad });
  return () => {
    tf.unregisterKernel('Conv2DBackpropFilter', 'cpu');
    tf.registerKernel(stock);
  };
}
