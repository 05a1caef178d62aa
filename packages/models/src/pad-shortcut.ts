import { pad, reshape, serialization, slice, type Tensor, tidy } from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;

/** Arguments of {@link PadShortcut}. */
export interface PadShortcutArgs extends LayerArgs {
  /** Spatial subsampling factor (1 or 2 in the CIFAR ResNets). */
  stride: number;
  /** Channels of the output; the extra channels (output minus input) are zeros, split evenly before and after. */
  outChannels: number;
}

/**
 * The "option A" identity shortcut of He et al.'s CIFAR ResNets: takes every `stride`-th pixel and pads
 * the channels with zeros, so a residual block can change width without parameters.
 *
 * Equivalent to PyTorch's `F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, planes // 4, planes // 4))` in NCHW.
 * Subsampling is a reshape and a slice (both with gradients on every tfjs backend), not a strided slice.
 * Registered with tfjs serialization as `DistillPadShortcut`, so saved models load again.
 */
export class PadShortcut extends tfl.layers.Layer {
  static readonly className = 'DistillPadShortcut';
  readonly stride: number;
  readonly outChannels: number;

  constructor(args: PadShortcutArgs) {
    const { stride, outChannels, ...layerArgs } = args;
    super(layerArgs);
    this.stride = stride;
    this.outChannels = outChannels;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const h = s[1] == null ? null : Math.ceil(s[1] / this.stride);
    const w = s[2] == null ? null : Math.ceil(s[2] / this.stride);
    return [s[0] ?? null, h, w, this.outChannels];
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return tidy(() => {
      let x = Array.isArray(inputs) ? (inputs[0] as Tensor) : inputs;
      const [b, h, w, c] = x.shape as [number, number, number, number];
      const k = this.stride;
      if (k > 1) {
        // Pad H and W up to a multiple of the stride (no-op on CIFAR sizes), then keep pixel 0 of each k x k cell.
        const ph = (k - (h % k)) % k;
        const pw = (k - (w % k)) % k;
        if (ph > 0 || pw > 0)
          x = pad(x, [
            [0, 0],
            [0, ph],
            [0, pw],
            [0, 0],
          ]);
        const hk = (h + ph) / k;
        const wk = (w + pw) / k;
        x = reshape(slice(reshape(x, [b, hk, k, wk, k, c]), [0, 0, 0, 0, 0, 0], [b, hk, 1, wk, 1, c]), [
          b,
          hk,
          wk,
          c,
        ]);
      }
      const extra = this.outChannels - c;
      if (extra > 0) {
        const before = Math.floor(extra / 2);
        x = pad(x, [
          [0, 0],
          [0, 0],
          [0, 0],
          [before, extra - before],
        ]);
      }
      return x;
    });
  }

  override getConfig(): serialization.ConfigDict {
    return { ...super.getConfig(), stride: this.stride, outChannels: this.outChannels };
  }

  override getClassName(): string {
    return PadShortcut.className;
  }
}

let registered = false;

/**
 * Registers distilljs's custom layers with tfjs serialization (idempotent). Called by `createModel` and
 * `loadModel`, so a bundler that drops unused modules cannot leave a saved ResNet unloadable.
 */
export function registerCustomLayers(): void {
  if (registered) return;
  serialization.registerClass(PadShortcut);
  registered = true;
}
