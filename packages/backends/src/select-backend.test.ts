import '@tensorflow/tfjs-backend-cpu';
import {
  BATCH_NORM_MOMENTS_KERNEL,
  DistillError,
  InvalidArgumentError,
  NotInstalledError,
  Rng,
} from '@distilljs/core';
import { batchNormalization, batchNormRelu, batchNormReluPool } from '@distilljs/models';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it, vi } from 'vitest';
import { composedAdam } from './__fixtures__/composed-adam.js';
import {
  SPLIT_MIN_FLOATS,
  simdHelpers,
  startSimdHelpers,
  stopSimdHelpers,
} from './kernels/simd/simd-helpers.js';
import { simdKernels } from './kernels/simd/simd-kernels.js';
import { listBackends } from './list-backends.js';
import { hasCpuTrainingKernels, unregisterCpuTrainingKernels } from './register-cpu-training-kernels.js';
import { hasWasmTrainingKernels } from './register-wasm-training-kernels.js';
import { installCommand, selectBackend } from './select-backend.js';

const notFound = (pkg: string) => () =>
  Promise.reject(
    Object.assign(new Error(`Cannot find package '${pkg}' imported from /app/x.js`), {
      code: 'ERR_MODULE_NOT_FOUND',
    }),
  );

describe('selectBackend', () => {
  it('rejects a request that is not a backend name, listing the valid ones', async () => {
    await expect(selectBackend('tpu' as never)).rejects.toThrow(InvalidArgumentError);
    await expect(selectBackend('tpu' as never)).rejects.toThrow(
      /selectBackend: argument 'request' must be one of 'auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu', 'webgl', 'webgpu', got "tpu"/,
    );
    await expect(selectBackend('wasm', { threads: 0 })).rejects.toThrow(/options\.threads/);
  });

  it('names the package and the install command when an explicit backend is not installed', async () => {
    const error = await selectBackend('tensorflow-gpu', {
      loaders: { 'tensorflow-gpu': notFound('@tensorflow/tfjs-node-gpu') },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotInstalledError);
    const e = error as NotInstalledError;
    expect(e.installCommand).toBe(`npm install @tensorflow/tfjs-node-gpu@${tf.version_core}`);
    expect(e.message).toContain("backend 'tensorflow-gpu' needs the package @tensorflow/tfjs-node-gpu");
    expect(e.message).toContain(e.installCommand);
  });

  it('agrees with listBackends about tfjs-node in this installation', async () => {
    const listed = (await listBackends()).find((b) => b.backend === 'tensorflow');
    expect(listed?.installCommand).toBe(installCommand('tensorflow'));
    if (listed?.installed === false) {
      await expect(selectBackend('tensorflow')).rejects.toThrow(NotInstalledError);
    } else {
      // Installed: it either starts or fails with a reason, never as "not installed".
      const outcome = await selectBackend('tensorflow').catch((e: unknown) => e);
      expect(outcome).not.toBeInstanceOf(NotInstalledError);
    }
  });

  it('reports a package that is installed but fails to load, with its error', async () => {
    const error = await selectBackend('tensorflow', {
      loaders: {
        tensorflow: () => Promise.reject(new Error('libtensorflow.so.2: cannot open shared object file')),
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DistillError);
    expect((error as DistillError).code).toBe('backend-unavailable');
    expect((error as Error).message).toMatch(
      /backend 'tensorflow' is not available here: @tensorflow\/tfjs-node failed to load: libtensorflow\.so\.2: cannot open/,
    );
  });

  it('webgpu in Node: a dawn.node that does not load fails in one line naming the file', async () => {
    const error = await selectBackend('webgpu', { runtime: 'node', dawnNode: '/nowhere/dawn.node' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DistillError);
    expect((error as Error).message).toMatch(
      /^selectBackend: backend 'webgpu' is not available here: \/nowhere\/dawn\.node failed to load: Cannot find module/,
    );
    expect((error as Error).message).not.toContain('\n');
  });

  it('refuses browser-only backends in Node with a clear reason', async () => {
    await expect(selectBackend('webgl', { runtime: 'node' })).rejects.toThrow(
      /selectBackend: backend 'webgl' is not available here: webgl runs only in a browser/,
    );
  });

  it('auto in Node falls through tfjs-node-gpu and tfjs-node to wasm, with threads and training kernels', async () => {
    const selection = await selectBackend('auto', {
      runtime: 'node',
      threads: 2,
      loaders: {
        'tensorflow-gpu': notFound('@tensorflow/tfjs-node-gpu'),
        tensorflow: notFound('@tensorflow/tfjs-node'),
      },
    });
    expect(selection.backend).toBe('wasm');
    expect(selection.tfjsName).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(selection.attempts.map((a) => [a.backend, a.ok])).toEqual([
      ['tensorflow-gpu', false],
      ['webgpu', false],
      ['tensorflow', false],
      ['wasm', true],
    ]);
    // No hardware WebGPU adapter here: the Vulkan loader or driver is missing, or the adapter is software.
    expect(selection.attempts[1]?.reason).toMatch(
      /^(the Vulkan loader libvulkan\.so\.1 was not found|no Vulkan driver found|the only adapter is .*, software)/,
    );
    expect(selection.reason).toMatch(
      /^auto picked wasm \(SIMD, 2 threads, 1 SIMD helper thread, distilljs training kernels\) after/,
    );
    expect(selection.reason).toContain('@tensorflow/tfjs-node is not installed');
    // The Node threads workaround really gives XNNPACK two threads.
    expect(selection.threads).toBe(2);
    expect(selection.engine).toBe(`tfjs ${tf.version_core} wasm (simd, 2 threads, distilljs kernels)`);
    expect(selection.trainingKernels).toBe(true);
    expect(hasWasmTrainingKernels()).toBe(true);
    // And computes correctly with them: a transposed product of ones.
    const c = tf.tidy(() => tf.matMul(tf.ones([5, 3]), tf.ones([4, 5]), true, true));
    expect(Array.from(await c.data())).toEqual(new Array(12).fill(5));
    c.dispose();
    // The SIMD helper thread shares the filter gradient's output channels with this thread: the same
    // values as the cpu backend (8 blocks of 8 channels, split 4 and 4).
    const wasm = (tf.backend() as unknown as { wasm: unknown }).wasm;
    expect(simdHelpers(wasm)?.count).toBe(1);
    const rng = new Rng(3);
    const xs = Array.from({ length: 4 * 9 * 9 * 16 }, () => rng.normal());
    const dys = Array.from({ length: 4 * 9 * 9 * 64 }, () => rng.normal());
    const filterGrad = () =>
      tf.tidy(() =>
        tf
          .engine()
          .runKernel(
            'Conv2DBackpropFilter',
            { x: tf.tensor4d(xs, [4, 9, 9, 16]), dy: tf.tensor4d(dys, [4, 9, 9, 64]) },
            { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 16, 64] },
          ),
      ) as tf.Tensor;
    const profile = await tf.profile(filterGrad);
    const got = await (profile.result as tf.Tensor).data();
    (profile.result as tf.Tensor).dispose();
    await tf.setBackend('cpu');
    const ref = filterGrad();
    const want = await ref.data();
    ref.dispose();
    await tf.setBackend('wasm');
    let worst = 0;
    for (let i = 0; i < want.length; i++) {
      worst = Math.max(
        worst,
        Math.abs((got[i] as number) - (want[i] as number)) / (1 + Math.abs(want[i] as number)),
      );
    }
    expect(worst).toBeLessThan(1e-4);
    // The threads take chunks of images in whatever order they get to them; the sums are the same bits.
    for (let run = 0; run < 3; run++) {
      const again = filterGrad();
      expect(Array.from(await again.data())).toEqual(Array.from(got));
      again.dispose();
    }
    // The element-wise SIMD kernels share their rows with the helper above SPLIT_MIN_FLOATS floats: the
    // batch-norm forward, the training-mode batch-norm gradient (its sums and dx), the relu gradient and
    // sums over leading axes, against the cpu backend.
    const shape = [8, 16, 16, 32];
    expect(shape.reduce((p, d) => p * d, 1)).toBeGreaterThanOrEqual(SPLIT_MIN_FLOATS);
    const xv = Array.from({ length: 8 * 16 * 16 * 32 }, () => rng.normal() * 2 + 1);
    const wv = Array.from({ length: 8 * 16 * 16 * 32 }, () => rng.normal());
    const gv = Array.from({ length: 32 }, () => 1 + 0.2 * rng.normal());
    const fv = Array.from({ length: 3 * 3 * 32 * 32 }, () => 0.1 * rng.normal());
    const winograd4 = () =>
      tf.conv2d(
        tf.tensor4d(xv, shape as [number, number, number, number]),
        tf.tensor4d(fv, [3, 3, 32, 32]),
        1,
        'same',
      );
    // The batched Winograd tiles of small outputs (4x4 by F(4x4, 3x3) and 2x2 by F(2x2, 3x3), an odd
    // batch): the input and dy transforms by chunks of images, the products by chunks of rows, each shared
    // with the helper.
    const smallConvs: Array<() => tf.Tensor> = [
      () =>
        tf.fused.conv2d({
          x: tf.tensor4d(xv.slice(0, 9 * 4 * 4 * 32), [9, 4, 4, 32]),
          filter: tf.tensor4d(fv, [3, 3, 32, 32]),
          bias: tf.tensor1d(gv),
          strides: 1,
          pad: 'same',
          activation: 'relu',
        }),
      () =>
        tf.conv2d(
          tf.tensor4d(wv.slice(0, 9 * 2 * 2 * 32), [9, 2, 2, 32]),
          tf.tensor4d(fv, [3, 3, 32, 32]),
          1,
          'same',
        ),
      () =>
        tf.engine().runKernel(
          'Conv2DBackpropInput',
          {
            dy: tf.tensor4d(wv.slice(0, 9 * 4 * 4 * 32), [9, 4, 4, 32]),
            filter: tf.tensor4d(fv, [3, 3, 32, 32]),
          },
          { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: [9, 4, 4, 32] },
        ) as tf.Tensor,
      () =>
        tf.engine().runKernel(
          'Conv2DBackpropFilter',
          {
            x: tf.tensor4d(xv.slice(0, 9 * 4 * 4 * 32), [9, 4, 4, 32]),
            dy: tf.tensor4d(wv.slice(0, 9 * 4 * 4 * 64), [9, 4, 4, 64]),
          },
          { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 32, 64] },
        ) as tf.Tensor,
      () =>
        tf.engine().runKernel(
          'Conv2DBackpropFilter',
          {
            x: tf.tensor4d(xv.slice(0, 9 * 2 * 2 * 32), [9, 2, 2, 32]),
            dy: tf.tensor4d(wv.slice(0, 9 * 2 * 2 * 64), [9, 2, 2, 64]),
          },
          { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 32, 64] },
        ) as tf.Tensor,
    ];
    const startSpy = vi.spyOn(simdHelpers(wasm) as NonNullable<ReturnType<typeof simdHelpers>>, 'start');
    const threadedBits = smallConvs.map((op) => tf.tidy(() => Array.from(op().dataSync())));
    const started = new Set(startSpy.mock.calls.map((call) => call[1]));
    startSpy.mockRestore();
    const tileKernels = ['winoTilesInput', 'gemmBatch', 'winoTilesOutput', 'winoTilesDy'] as const;
    for (const name of [...tileKernels, 'winoTiles4Input', 'winoTiles4Output', 'winoTiles4Dy'] as const) {
      expect(started.has(name), name).toBe(true);
    }
    // Against cpu: F(4x4, 3x3) rounds about ten times as much as the direct convolution (5e-4 of the scale).
    await tf.setBackend('cpu');
    const smallWant = smallConvs.map((op) => tf.tidy(() => Array.from(op().dataSync())));
    await tf.setBackend('wasm');
    smallWant.forEach((want, k) => {
      const scale = Math.max(...want.map(Math.abs));
      const err = Math.max(
        ...want.map(
          (e, i) => Math.abs((threadedBits[k]?.[i] as number) - e) / Math.max(Math.abs(e), 1e-2 * scale),
        ),
      );
      expect(err, `small convolution ${k}`).toBeLessThan(5e-4);
    });
    const ops: Array<(fused: boolean) => tf.Tensor> = [
      () =>
        tf.batchNorm(
          tf.tensor(xv, shape),
          tf.fill([32], 0.5),
          tf.fill([32], 2),
          tf.fill([32], 0.1),
          tf.tensor1d(gv),
        ),
      () => tf.grad((z: tf.Tensor) => tf.sum(tf.mul(tf.relu(z), tf.tensor(wv, shape))))(tf.tensor(xv, shape)),
      () => tf.sum(tf.tensor(xv, shape), [0, 1, 2]),
      // 2x2 max pooling and its gradient, whole images shared (odd sizes: a last row and column no window
      // covers).
      () => tf.maxPool(tf.tensor4d(xv.concat(wv).slice(0, 9 * 17 * 15 * 32), [9, 17, 15, 32]), 2, 2, 'valid'),
      () =>
        tf.grad((z: tf.Tensor) =>
          tf.sum(
            tf.mul(
              tf.maxPool(z as tf.Tensor4D, 2, 2, 'valid'),
              tf.tensor(wv.slice(0, 9 * 8 * 7 * 32), [9, 8, 7, 32]),
            ),
          ),
        )(tf.tensor4d(xv.concat(wv).slice(0, 9 * 17 * 15 * 32), [9, 17, 15, 32])),
      // The Winograd convolutions (3x3): chunks of images taken by this thread and the helper, each chunk
      // with its own scratch; F(4x4, 3x3) on 16x16 (its rounding error is about ten times the direct
      // convolution's: checked to 5e-4 below), F(2x2, 3x3) on 14x14.
      winograd4,
      () =>
        tf.conv2d(
          tf.tensor4d(xv.slice(0, 8 * 14 * 14 * 32), [8, 14, 14, 32]),
          tf.tensor4d(fv, [3, 3, 32, 32]),
          1,
          'same',
        ),
      // Its filter gradient for 32 -> 64 channels (where Winograd's transforms pay): partial sums per chunk.
      () =>
        tf
          .engine()
          .runKernel(
            'Conv2DBackpropFilter',
            { x: tf.tensor4d(xv, [8, 16, 16, 32]), dy: tf.tensor4d(wv.concat(xv), [8, 16, 16, 64]) },
            { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 32, 64] },
          ) as tf.Tensor,
      // The direct convolution (odd sizes: not Winograd's), chunks likewise.
      () =>
        tf.conv2d(
          tf.tensor4d(xv.slice(0, 8 * 15 * 15 * 32), [8, 15, 15, 32]),
          tf.tensor4d(fv, [3, 3, 32, 32]),
          1,
          'same',
        ),
      // The few-channel convolution (a first layer: 3 input channels, bias, ReLU): chunks of one image
      // taken by this thread and the helper.
      () =>
        tf.fused.conv2d({
          x: tf.tensor4d(xv.slice(0, 8 * 16 * 16 * 3), [8, 16, 16, 3]),
          filter: tf.tensor4d(fv.slice(0, 3 * 3 * 3 * 32), [3, 3, 3, 32]),
          bias: tf.tensor1d(gv),
          strides: 1,
          pad: 'same',
          activation: 'relu',
        }),
      // Its filter gradient: chunks of one image, each chunk's partial sums added in chunk order.
      () =>
        tf.engine().runKernel(
          'Conv2DBackpropFilter',
          {
            x: tf.tensor4d(xv.slice(0, 8 * 16 * 16 * 3), [8, 16, 16, 3]),
            dy: tf.tensor4d(wv.slice(0, 8 * 16 * 16 * 32), [8, 16, 16, 32]),
          },
          { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 3, 32] },
        ) as tf.Tensor,
      () => tf.mean(tf.tensor(xv, shape), [0, 1]),
      // The SIMD matrix product: chunks of rows taken by this thread and the helper (a dense layer's
      // forward with bias and ReLU, its weight gradient x^T dy and its input gradient dy W^T).
      () =>
        tf.fused.matMul({
          a: tf.tensor2d(xv.slice(0, 130 * 200), [130, 200]),
          b: tf.tensor2d(wv.slice(0, 200 * 90), [200, 90]),
          bias: tf.tensor1d(gv.concat(gv, gv).slice(0, 90)),
          activation: 'relu',
        }),
      () =>
        tf.matMul(
          tf.tensor2d(xv.slice(0, 130 * 200), [130, 200]),
          tf.tensor2d(wv.slice(0, 130 * 90), [130, 90]),
          true,
          false,
        ),
      () =>
        tf.matMul(
          tf.tensor2d(xv.slice(0, 130 * 200), [130, 200]),
          tf.tensor2d(wv.slice(0, 90 * 200), [90, 200]),
          false,
          true,
        ),
      (fused) => {
        const layer = fused
          ? batchNormalization({ momentum: 0.9 })
          : tfl.layers.batchNormalization({ momentum: 0.9 });
        layer.build(shape);
        return tf.grad((z: tf.Tensor) =>
          tf.sum(tf.mul(layer.apply(z, { training: true }) as tf.Tensor, tf.tensor(wv, shape))),
        )(tf.tensor(xv, shape));
      },
      // Batch norm and ReLU in one op (batchNormApplyRelu; batchNormSumsRelu and batchNormTrainDxRelu
      // for the gradient, the ReLU's mask inside them), rows shared: forward and gradient.
      ...[false, true].map((gradient) => (fused: boolean) => {
        const { batchNorm, relu } = fused
          ? batchNormRelu({ momentum: 0.9 })
          : {
              batchNorm: tfl.layers.batchNormalization({ momentum: 0.9 }),
              relu: tfl.layers.activation({ activation: 'relu' }),
            };
        batchNorm.build(shape);
        batchNorm.setWeights([
          tf.tensor1d(gv),
          tf.tensor1d(gv.map((v) => 0.5 * v)),
          tf.zeros([32]),
          tf.ones([32]),
        ]);
        const f = (z: tf.Tensor) =>
          relu.apply(batchNorm.apply(z, { training: true }), { training: true }) as tf.Tensor;
        if (!gradient) return f(tf.tensor(xv, shape));
        return tf.grad((z: tf.Tensor) => tf.sum(tf.mul(f(z), tf.tensor(wv, shape))))(tf.tensor(xv, shape));
      }),
      // Batch norm, ReLU and 2x2 max pool in one op (batchNormApplyReluPool; batchNormSumsReluPool and
      // batchNormTrainDxReluPool for the gradient), pooled rows shared: forward and gradient.
      ...[false, true].map((gradient) => (fused: boolean) => {
        const { batchNorm, relu, pool } = fused
          ? batchNormReluPool({ momentum: 0.9 })
          : {
              batchNorm: tfl.layers.batchNormalization({ momentum: 0.9 }),
              relu: tfl.layers.activation({ activation: 'relu' }),
              pool: tfl.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
            };
        batchNorm.build(shape);
        batchNorm.setWeights([
          tf.tensor1d(gv),
          tf.tensor1d(gv.map((v) => 0.5 * v)),
          tf.zeros([32]),
          tf.ones([32]),
        ]);
        const pooled = [shape[0] as number, 8, 8, 32];
        const f = (z: tf.Tensor) =>
          pool.apply(relu.apply(batchNorm.apply(z, { training: true }), { training: true }), {
            training: true,
          }) as tf.Tensor;
        if (!gradient) return f(tf.tensor(xv, shape));
        return tf.grad((z: tf.Tensor) =>
          tf.sum(tf.mul(f(z), tf.tensor(wv.slice(0, tf.util.sizeFromShape(pooled)), pooled))),
        )(tf.tensor(xv, shape));
      }),
    ];
    // The batch statistics kernel: its variance pass is shared by rows, as `Mean`'s sums are, so it gives
    // the composed ops' bits here too.
    const moments = (fused: boolean) =>
      tf.tidy(() => {
        const z = tf.tensor(xv, shape);
        if (fused) return tf.stack(tf.engine().runKernel(BATCH_NORM_MOMENTS_KERNEL, { x: z }) as tf.Tensor[]);
        const mean = tf.mean(z, [0, 1, 2]);
        return tf.stack([mean, tf.mean(tf.square(tf.sub(z, mean)), [0, 1, 2])]);
      });
    ops.push(moments);
    const [fusedMoments, composedMoments] = [moments(true), moments(false)];
    expect(Array.from(await fusedMoments.data())).toEqual(Array.from(await composedMoments.data()));
    tf.dispose([fusedMoments, composedMoments]);
    for (const op of ops) {
      const onWasm = tf.tidy(() => op(true));
      const gotValues = await onWasm.data();
      onWasm.dispose();
      await tf.setBackend('cpu');
      const onCpu = tf.tidy(() => op(false));
      const wantValues = await onCpu.data();
      onCpu.dispose();
      await tf.setBackend('wasm');
      let scale = 0;
      for (const v of wantValues) scale = Math.max(scale, Math.abs(v));
      let err = 0;
      for (let i = 0; i < wantValues.length; i++) {
        const e = wantValues[i] as number;
        err = Math.max(err, Math.abs((gotValues[i] as number) - e) / Math.max(Math.abs(e), 1e-2 * scale));
      }
      expect(err).toBeLessThan(op === winograd4 ? 5e-4 : 1e-4);
    }
    // The fused Adam update shares its 4-float groups with the helper above SPLIT_MIN_FLOATS floats and
    // still gives the bits of the composed float32 ops (computed on cpu).
    const size = SPLIT_MIN_FLOATS + 4099;
    const adamIn = [1, 0.1, 0.01, 0.001].map((scale) =>
      Array.from({ length: size }, () => scale * rng.normal()),
    );
    adamIn[3] = (adamIn[3] as number[]).map(Math.abs);
    const adam = {
      beta1: 0.9,
      oneMinusBeta1: 0.1,
      beta2: 0.999,
      oneMinusBeta2: 0.001,
      biasCorrection2: 0.003,
    };
    const adamAttrs = { ...adam, epsilon: 1e-8, stepSize: 0.01, decay: 0.998 };
    const fusedAdam = tf.tidy(() => {
      const [p, g, m, v] = adamIn.map((a) => tf.tensor1d(a)) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      const outs = tf.engine().runKernel('DistilljsAdamUpdate', { p, g, m, v }, adamAttrs) as tf.Tensor[];
      return outs.map((t) => Array.from(t.dataSync()));
    });
    await tf.setBackend('cpu');
    const composed = composedAdam(adamIn as [number[], number[], number[], number[]], adamAttrs);
    await tf.setBackend('wasm');
    expect(fusedAdam).toEqual(composed);
    // A helper whose kernel traps reports it to the caller instead of hanging it.
    const helpers = simdHelpers(wasm) as NonNullable<ReturnType<typeof simdHelpers>>;
    helpers.start(
      0,
      'filterTaps',
      // x, dy, out and the chunk counter out of bounds: the first access traps, nothing is written.
      [0x7ffffff0, 0x7ffffff0, 0x7ffffff0, 1, 1, 1, 4, 1, 1, 8, 0, 1, 0x7ffffff0, 1, 0],
    );
    expect(() => helpers.join(0)).toThrow(/SIMD helper thread 0: the kernel failed/);
    // The batched Winograd tiles give the same bits on this thread alone (each element is computed by one
    // thread, in the same order, whatever the split): helpers stopped and XNNPACK's pool reported as one
    // thread (else the SIMD kernels step aside for XNNPACK), then the helper started again.
    expect(await stopSimdHelpers(wasm)).toBe(true);
    const tfjsModule = (wasm as { tfjs: { getThreadsCount(): number } }).tfjs;
    const threadsSpy = vi.spyOn(tfjsModule, 'getThreadsCount').mockReturnValue(1);
    const simd = simdKernels(wasm) as NonNullable<ReturnType<typeof simdKernels>>;
    const aloneSpy = vi.spyOn(simd, 'gemmBatch');
    let aloneBits: number[][];
    try {
      aloneBits = smallConvs.map((op) => tf.tidy(() => Array.from(op().dataSync())));
      expect(aloneSpy).toHaveBeenCalledTimes(smallConvs.length);
    } finally {
      aloneSpy.mockRestore();
      threadsSpy.mockRestore();
      expect(await startSimdHelpers(wasm, 1)).toBeUndefined();
    }
    expect(aloneBits).toEqual(threadedBits);
    // Asking again for the running backend is cheap and keeps it.
    const again = await selectBackend('wasm');
    expect(again.reason).toMatch(/^requested explicitly: wasm/);
    expect(again.threads).toBe(2);
  });

  it('auto in a browser tries webgpu, webgl, then wasm', async () => {
    const selection = await selectBackend('auto', {
      runtime: 'browser',
      loaders: { webgl: () => Promise.reject(new Error('WebGL is not supported on this device')) },
    });
    expect(selection.attempts.map((a) => a.backend)).toEqual(['webgpu', 'webgl', 'wasm']);
    expect(selection.attempts[0]?.reason).toMatch(/no WebGPU/);
    // Node has no document to make a WebGL context in: the renderer probe says so before any loading.
    expect(selection.attempts[1]?.reason).toMatch(/cannot make a WebGL context/);
    expect(selection.backend).toBe('wasm');
  });

  it('selects cpu explicitly, with its training kernels unless asked not to', async () => {
    unregisterCpuTrainingKernels();
    const plain = await selectBackend('cpu', { trainingKernels: false });
    expect(plain).toMatchObject({
      backend: 'cpu',
      trainingKernels: false,
      engine: `tfjs ${tf.version_core} cpu`,
    });
    expect(plain.reason).toMatch(/stock kernels\)$/);
    expect(hasCpuTrainingKernels()).toBe(false);
    const selection = await selectBackend('cpu');
    expect(selection).toMatchObject({
      requested: 'cpu',
      backend: 'cpu',
      tfjsName: 'cpu',
      trainingKernels: true,
      // The engine names only the backend for cpu (runs record it; the reason names the kernels).
      engine: `tfjs ${tf.version_core} cpu`,
    });
    expect(selection.reason).toMatch(/^requested explicitly: cpu \(.*, distilljs training kernels\)$/);
    expect(tf.getBackend()).toBe('cpu');
    expect(hasCpuTrainingKernels()).toBe(true);
    unregisterCpuTrainingKernels();
  });

  // Last in this file: it removes the wasm backend the tests above started, so that auto falls through to cpu.
  it('auto falling back to cpu registers the cpu training kernels', async () => {
    unregisterCpuTrainingKernels();
    if (tf.findBackendFactory('wasm') !== null) tf.removeBackend('wasm');
    const selection = await selectBackend('auto', {
      runtime: 'node',
      loaders: {
        'tensorflow-gpu': notFound('@tensorflow/tfjs-node-gpu'),
        tensorflow: notFound('@tensorflow/tfjs-node'),
        wasm: notFound('@tensorflow/tfjs-backend-wasm'),
      },
    });
    expect(selection.attempts.map((a) => [a.backend, a.ok])).toEqual([
      ['tensorflow-gpu', false],
      ['webgpu', false],
      ['tensorflow', false],
      ['wasm', false],
      ['cpu', true],
    ]);
    expect(selection.trainingKernels).toBe(true);
    expect(hasCpuTrainingKernels()).toBe(true);
    unregisterCpuTrainingKernels();
  });
});

describe('listBackends', () => {
  it('lists every backend with install state, runtime fit and auto order, loading none', async () => {
    const rows = await listBackends({ runtime: 'node' });
    expect(rows.map((r) => r.backend)).toEqual([
      'tensorflow-gpu',
      'tensorflow',
      'webgpu',
      'webgl',
      'wasm',
      'cpu',
    ]);
    const byName = Object.fromEntries(rows.map((r) => [r.backend, r]));
    expect(byName.wasm).toMatchObject({ installed: true, runsHere: true, autoRank: 4 });
    expect(byName.cpu).toMatchObject({ installed: true, runsHere: true, autoRank: 5 });
    // webgpu runs in Node through Dawn: both packages are dev dependencies here.
    expect(byName.webgpu).toMatchObject({ installed: true, runsHere: true, autoRank: 2 });
    expect(byName.webgpu?.installCommand).toBe(
      `npm install @tensorflow/tfjs-backend-webgpu@${tf.version_core} webgpu@0.6.2`,
    );
    expect(byName.webgl).toMatchObject({ runsHere: false, autoRank: undefined });
    expect(byName['tensorflow-gpu']?.autoRank).toBe(1);
  });
});
