import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { PadShortcut, registerCustomLayers } from './pad-shortcut.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerCustomLayers();
});

// Reference: PyTorch's F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, p, p)) in NHWC, written with loops.
function reference(x: number[][][][], stride: number, out: number): number[][][][] {
  return x.map((img) => {
    const rows: number[][][] = [];
    for (let i = 0; i < img.length; i += stride) {
      const row: number[][] = [];
      for (let j = 0; j < (img[0]?.length ?? 0); j += stride) {
        const c = img[i]?.[j] as number[];
        const extra = out - c.length;
        const before = Math.floor(extra / 2);
        row.push([...Array(before).fill(0), ...c, ...Array(extra - before).fill(0)]);
      }
      rows.push(row);
    }
    return rows;
  });
}

describe('PadShortcut (option-A shortcut)', () => {
  it('subsamples every stride-th pixel and zero-pads the channels evenly', () => {
    for (const [h, w, stride] of [
      [4, 6, 2],
      [5, 3, 2],
      [4, 4, 1],
    ] as const) {
      const x = tf.randomUniform([2, h, w, 4], -1, 1, 'float32', 7);
      const layer = new PadShortcut({ stride, outChannels: 8 });
      const y = layer.apply(x) as tf.Tensor;
      expect(y.arraySync()).toEqual(reference(x.arraySync() as number[][][][], stride, 8));
      expect(layer.computeOutputShape([null, h, w, 4])).toEqual([
        null,
        Math.ceil(h / stride),
        Math.ceil(w / stride),
        8,
      ]);
      tf.dispose([x, y]);
    }
  });

  it('passes gradients to the kept pixels only', () => {
    const layer = new PadShortcut({ stride: 2, outChannels: 4 });
    const g = tf.grad((x: tf.Tensor) => tf.sum(layer.apply(x) as tf.Tensor))(tf.ones([1, 4, 4, 2]));
    const v = g.arraySync() as number[][][][];
    expect(v[0]?.[0]?.[0]).toEqual([1, 1]);
    expect(v[0]?.[0]?.[1]).toEqual([0, 0]);
    expect(v[0]?.[1]?.[0]).toEqual([0, 0]);
    expect(v[0]?.[2]?.[2]).toEqual([1, 1]);
  });

  it('serialises and deserialises through a model topology', async () => {
    const input = tfl.input({ shape: [4, 4, 2] });
    const out = new PadShortcut({ stride: 2, outChannels: 6, name: 'sc' }).apply(input) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: out });
    const json = JSON.parse(JSON.stringify(model.toJSON(null, false)));
    const layer = json.config.layers.find((l: { name: string }) => l.name === 'sc');
    expect(layer.class_name).toBe('DistillPadShortcut');
    expect(layer.config).toMatchObject({ stride: 2, out_channels: 6 });
    const back = await tfl.models.modelFromJSON({ modelTopology: json });
    expect(back.outputs[0]?.shape).toEqual([null, 2, 2, 6]);
  });
});
