import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/** tfjs-core's kernel name for the fused convolution (`tf.fused.conv2d`). */
const FUSED_CONV2D = 'FusedConv2D';

/** The parts of tfjs-layers' `Conv2D` layer that {@link conv2d} uses. */
interface Conv2DLayer {
  rank: number;
  kernel: { read(): tf.Tensor } | null;
  bias: { read(): tf.Tensor } | null;
  strides: number[];
  padding: string;
  dataFormat: string;
  dilationRate: number | number[];
  activation: { getClassName(): string; apply(x: tf.Tensor): tf.Tensor } | null;
  call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[];
}

/**
 * The gradient of a `FusedConv2D` (convolution plus bias, linear or ReLU), one function per input, so the
 * tape computes only the gradients something needs. `tf.fused.conv2d` wraps the same kernel in a custom
 * gradient that computes the input gradient always: for the first convolution of a network (its input is
 * data) that is a whole transposed convolution per step thrown away (about 2% of a CIFAR VGG step on wasm).
 * Through a ReLU, the incoming gradient is first masked where the output is zero, by the gradient
 * registered for `Relu` given the output (positive exactly where the ReLU's input is), so a backend's
 * replacement of that gradient serves here too.
 */
const lazyGradient: tf.GradConfig = {
  kernelName: FUSED_CONV2D,
  inputsToSave: ['x', 'filter'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const incoming = (Array.isArray(dy) ? dy[0] : dy) as tf.Tensor4D;
    const [x, filter, y] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
    const { strides, pad, dimRoundingMode, activation } = attrs as unknown as tf.FusedConv2DAttrs;
    if (activation !== undefined && activation !== 'linear' && activation !== 'relu') {
      // This gradient serves only the linear and ReLU kernels conv2d() records; anything else would be
      // differentiated as if linear.
      throw new Error(
        `FusedConv2D gradient (@distilljs/models): activation '${activation}' is not supported; use 'linear' or 'relu'`,
      );
    }
    const d = activation === 'relu' ? reluGradient(incoming, y) : incoming;
    return {
      x: () =>
        tf.conv2dTranspose(d, filter, x.shape, strides, pad as 'same' | 'valid' | number, dimRoundingMode),
      filter: () =>
        tf
          .engine()
          .runKernel(
            'Conv2DBackpropFilter',
            { x, dy: d },
            { strides, pad, dataFormat: 'NHWC', dimRoundingMode, filterShape: filter.shape },
          ) as tf.Tensor,
      bias: () => tf.sum(d, [0, 1, 2]),
    };
  },
};

/** `dy` masked where the ReLU's output `y` is not positive, by the registered `Relu` gradient. */
function reluGradient(dy: tf.Tensor4D, y: tf.Tensor4D): tf.Tensor4D {
  const relu = tf.getGradient('Relu');
  if (relu === undefined) return tf.mul(dy, tf.step(y));
  return (relu.gradFunc(dy, [y], {}) as { x: () => tf.Tensor }).x() as tf.Tensor4D;
}

/**
 * Registers {@link lazyGradient} for `FusedConv2D` unless a gradient is registered for it already (tfjs
 * itself registers none: its fused ops carry custom gradients). Returns whether ours is in effect.
 */
function useLazyGradient(): boolean {
  const current = tf.getGradient(FUSED_CONV2D);
  if (current === undefined) {
    tf.registerGradient(lazyGradient);
    return true;
  }
  return current === lazyGradient;
}

function pair(v: number | number[]): number[] {
  return Array.isArray(v) ? v : [v, v];
}

/**
 * `tf.layers.conv2d(args)` whose call runs the same `FusedConv2D` kernel as tfjs-layers at inference (the
 * same values, bit for bit) but records it with a gradient per input (see {@link lazyGradient}), so a
 * training step does not compute the input gradient of a convolution applied to data. Applies to 2-D,
 * channels-last, undilated float32 convolutions that are linear (as before batch norm), ReLU, or followed by
 * an activation tfjs-layers does not fuse (tanh, sigmoid, ..., applied after the kernel as there). A ReLU
 * convolution stays one fused kernel while gradients are taped too, where tfjs-layers records a
 * convolution, a bias addition and a ReLU (three passes over the activations; about a tenth of a mnist-cnn
 * step on wasm); training and inference then compute the same values. `elu` and every other configuration
 * run tfjs-layers' code unchanged. The weights and the serialised form (class `Conv2D`) are tfjs-layers'
 * own.
 */
export function conv2d(args: Parameters<typeof tfl.layers.conv2d>[0]): tfl.layers.Layer {
  const layer = tfl.layers.conv2d(args);
  const conv = layer as unknown as Conv2DLayer;
  const original = conv.call.bind(layer);
  conv.call = (inputs, kwargs) => {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const bias = conv.bias?.read() ?? null;
    const activation = conv.activation?.getClassName() ?? 'linear';
    if (
      x === undefined ||
      (Array.isArray(inputs) && inputs.length !== 1) ||
      conv.kernel === null ||
      conv.rank !== 2 ||
      x.rank !== 4 ||
      x.shape[3] !== conv.kernel.read().shape[2] ||
      x.dtype !== 'float32' ||
      conv.dataFormat !== 'channelsLast' ||
      activation === 'elu' ||
      pair(conv.dilationRate).some((d) => d !== 1) ||
      (bias !== null && bias.rank !== 1) ||
      !useLazyGradient()
    ) {
      return original(inputs, kwargs);
    }
    const filter = conv.kernel.read();
    const relu = activation === 'relu';
    return tf.tidy(() => {
      const inputsMap: Record<string, tf.Tensor> = { x, filter };
      if (bias !== null) inputsMap.bias = bias;
      const y = tf.engine().runKernel(FUSED_CONV2D, inputsMap, {
        strides: conv.strides,
        pad: conv.padding === 'same' ? 'same' : 'valid',
        dataFormat: 'NHWC',
        dilations: [1, 1],
        dimRoundingMode: undefined,
        activation: relu ? 'relu' : 'linear',
      } as unknown as tf.NamedAttrMap) as tf.Tensor;
      // Activations tfjs-layers does not fuse (tanh, sigmoid, ...) follow the convolution, as there.
      return relu || activation === 'linear' || conv.activation === null ? y : conv.activation.apply(y);
    });
  };
  return layer;
}
