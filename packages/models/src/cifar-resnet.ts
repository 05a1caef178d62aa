import * as tfl from '@tensorflow/tfjs-layers';
import { batchNormalization, batchNormRelu } from './batch-norm.js';
import { conv2d } from './conv2d.js';
import type { LayerSeeds } from './layer-seeds.js';
import { PadShortcut } from './pad-shortcut.js';
import type { BuildContext, BuiltModel } from './zoo-types.js';

/** How a residual block matches shapes when it changes width or resolution. */
export type ShortcutKind = 'pad' | 'projection';

/** The shape of a CIFAR ResNet. */
export interface CifarResNetSpec {
  /** Depth 6n+2: `n` basic blocks per stage. */
  readonly depth: number;
  /** Width of the stem convolution. */
  readonly stemWidth: number;
  /** Widths of the three stages. */
  readonly stageWidths: readonly [number, number, number];
  /** `pad`: He et al.'s option A (subsample + zero channels); `projection`: conv1x1 + batch norm. */
  readonly shortcut: ShortcutKind;
}

type T = tfl.SymbolicTensor;

function conv(
  seeds: LayerSeeds,
  filters: number,
  kernelSize: number,
  strides: number,
  name: string,
  padding: 'same' | 'valid' = 'same',
): tfl.layers.Layer {
  return conv2d({
    filters,
    kernelSize,
    strides,
    padding,
    useBias: false,
    kernelInitializer: seeds.heNormal(),
    name,
  });
}

function bn(name: string): tfl.layers.Layer {
  return batchNormalization({ momentum: 0.9, epsilon: 1e-5, name });
}

function relu(name: string): tfl.layers.Layer {
  return tfl.layers.activation({ activation: 'relu', name });
}

/** A batch norm and the ReLU after it, one op in training (see {@link batchNormRelu}). */
function bnRelu(x: T, bnName: string, reluName: string): T {
  const { batchNorm, relu } = batchNormRelu(
    { momentum: 0.9, epsilon: 1e-5, name: bnName },
    { name: reluName },
  );
  return relu.apply(batchNorm.apply(x)) as T;
}

/**
 * He et al.'s CIFAR ResNets (arXiv 1512.03385, section 4.2) and the wide variants of the CIFAR-100 KD
 * benchmarks (RepDistiller's `resnet8x4`/`resnet32x4`): a conv3x3-BN-ReLU stem, three stages of `n` basic
 * blocks (conv3x3-BN-ReLU-conv3x3-BN, add the shortcut, ReLU; the first block of stages 2 and 3 has
 * stride 2), global average pooling and a dense layer. Convolutions have no bias (batch norm follows).
 * Layer names: `stage{s}_block{b}_{pad1,conv1,bn1,relu1,conv2,bn2,shortcut,shortcut_bn,add,out}`; the feature taps are each
 * stage's last `..._out` (after the ReLU).
 */
export function buildCifarResNet(ctx: BuildContext, spec: CifarResNetSpec): BuiltModel {
  const { seeds } = ctx;
  const n = (spec.depth - 2) / 6;
  const input = tfl.input({ shape: [...ctx.inputShape], name: 'input' });
  let x = conv(seeds, spec.stemWidth, 3, 1, 'stem_conv').apply(input) as T;
  x = bnRelu(x, 'stem_bn', 'stem_relu');
  let channels = spec.stemWidth;
  const taps: string[] = [];
  spec.stageWidths.forEach((width, s) => {
    for (let b = 0; b < n; b++) {
      const p = `stage${s + 1}_block${b + 1}`;
      const stride = s > 0 && b === 0 ? 2 : 1;
      // A stride-2 conv pads 1 pixel on every side first (as PyTorch's padding=1), so its windows are centred
      // on the pixels the shortcut keeps; tfjs's 'same' would pad only bottom/right and shift them by one.
      let y = x;
      if (stride > 1) y = tfl.layers.zeroPadding2d({ padding: 1, name: `${p}_pad1` }).apply(y) as T;
      y = conv(seeds, width, 3, stride, `${p}_conv1`, stride > 1 ? 'valid' : 'same').apply(y) as T;
      y = bnRelu(y, `${p}_bn1`, `${p}_relu1`);
      y = conv(seeds, width, 3, 1, `${p}_conv2`).apply(y) as T;
      y = bn(`${p}_bn2`).apply(y) as T;
      let shortcut = x;
      if (stride !== 1 || channels !== width) {
        if (spec.shortcut === 'pad') {
          shortcut = new PadShortcut({ stride, outChannels: width, name: `${p}_shortcut` }).apply(x) as T;
        } else {
          shortcut = conv(seeds, width, 1, stride, `${p}_shortcut`).apply(x) as T;
          shortcut = bn(`${p}_shortcut_bn`).apply(shortcut) as T;
        }
      }
      x = tfl.layers.add({ name: `${p}_add` }).apply([y, shortcut]) as T;
      x = relu(`${p}_out`).apply(x) as T;
      channels = width;
    }
    taps.push(`stage${s + 1}_block${n}_out`);
  });
  x = tfl.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as T;
  const logits = tfl.layers
    .dense({ units: ctx.numClasses, kernelInitializer: seeds.glorotUniform(), name: 'logits' })
    .apply(x) as T;
  return { model: tfl.model({ inputs: input, outputs: logits, name: ctx.name }), featureTaps: taps };
}
