#!/usr/bin/env node
// Writes the graph-model teacher fixture of @distilljs/models (src/__fixtures__/graph/):
//
//   layers/model.json + layers/weights.bin   a small Keras-style CNN as a tfjs Layers model
//   graph/model.json + graph/group1-shard1of1.bin
//                                            the same network, with the same weights, as a tfjs graph model
//                                            (format 'graph-model': a TensorFlow GraphDef in JSON)
//
// tensorflowjs_converter (Python) is not installable on these machines, so this script writes the GraphDef
// itself, in the form the converter gives a Keras Sequential model: Placeholder input, weights as Const
// nodes whose values are in the weights manifest (an int32 Const for the Reshape too), a Conv2D+BiasAdd+Relu
// fused into `_FusedConv2D` and a Dense+Relu into `_FusedMatMul` (as the converter's Grappler pass does),
// one conv and the last Dense left unfused (Conv2D, BiasAdd, Relu; MatMul, BiasAdd), MaxPool, Reshape, and
// a Softmax head followed by an Identity output node. Weights come from a fixed linear congruential
// generator, so the output is the same on every machine.
//
// Run from packages/models:  node scripts/make-graph-teacher-fixture.mjs
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', '__fixtures__', 'graph');
await tf.setBackend('cpu');

// The network: 28x28x1 -> conv 3x3x4 same relu -> maxpool 2 -> conv 3x3x8 valid relu -> maxpool 2
// -> flatten (6*6*8 = 288) -> dense 16 relu -> dense 10 softmax.
const model = tfl.sequential({
  name: 'graph_fixture',
  layers: [
    tfl.layers.conv2d({
      inputShape: [28, 28, 1],
      filters: 4,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      name: 'conv2d',
    }),
    tfl.layers.maxPooling2d({ poolSize: 2, name: 'max_pooling2d' }),
    tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'valid', activation: 'relu', name: 'conv2d_1' }),
    tfl.layers.maxPooling2d({ poolSize: 2, name: 'max_pooling2d_1' }),
    tfl.layers.flatten({ name: 'flatten' }),
    tfl.layers.dense({ units: 16, activation: 'relu', name: 'dense' }),
    tfl.layers.dense({ units: 10, activation: 'softmax', name: 'dense_1' }),
  ],
});

// Fixed weights: uniform in +-sqrt(6 / (fanIn + fanOut)) for kernels (Glorot's range), +-0.1 for biases.
let state = 12345;
const uniform = () => {
  state = (Math.imul(state, 1103515245) + 12345) >>> 0;
  return state / 2 ** 32;
};
const weights = model.getWeights().map((w) => {
  const fan = w.shape.length > 1 ? w.shape.slice(0, -1).reduce((a, b) => a * b, 1) + w.shape.at(-1) : 0;
  const a = w.shape.length > 1 ? Math.sqrt(6 / fan) : 0.1;
  return tf.tensor(
    Float32Array.from({ length: w.size }, () => (2 * uniform() - 1) * a),
    w.shape,
  );
});
model.setWeights(weights);

const save = async (dir, artifacts, weightsFile) => {
  mkdirSync(dir, { recursive: true });
  const json = { ...artifacts, weightsManifest: [{ paths: [weightsFile], weights: artifacts.weightSpecs }] };
  delete json.weightSpecs;
  delete json.weightData;
  writeFileSync(join(dir, weightsFile), new Uint8Array(artifacts.weightData));
  writeFileSync(join(dir, 'model.json'), `${JSON.stringify(json)}\n`);
};

// The Layers model, as tfjs saves it.
await model.save(
  tf.io.withSaveHandler(async (a) => {
    await save(
      join(out, 'layers'),
      {
        ...a,
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tfl.version_layers}`,
        convertedBy: null,
      },
      'weights.bin',
    );
    return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
  }),
);

// The graph model.
const b64 = (s) => Buffer.from(s).toString('base64');
const ints = (xs) => ({ list: { i: xs.map(String) } });
const shape = (dims) => ({ dim: dims.map((d) => ({ size: String(d) })) });
const float = { type: 'DT_FLOAT' };
const prefix = 'StatefulPartitionedCall/sequential';
const [k1, b1, k2, b2, k3, b3, k4, b4] = weights;
const consts = [
  [`${prefix}/conv2d/Conv2D/ReadVariableOp`, k1],
  [`${prefix}/conv2d/BiasAdd/ReadVariableOp`, b1],
  [`${prefix}/conv2d_1/Conv2D/ReadVariableOp`, k2],
  [`${prefix}/conv2d_1/BiasAdd/ReadVariableOp`, b2],
  [`${prefix}/dense/MatMul/ReadVariableOp`, k3],
  [`${prefix}/dense/BiasAdd/ReadVariableOp`, b3],
  [`${prefix}/dense_1/MatMul/ReadVariableOp`, k4],
  [`${prefix}/dense_1/BiasAdd/ReadVariableOp`, b4],
];
const reshapeShape = tf.tensor1d([-1, 288], 'int32');
const constNode = (name, t) => ({
  name,
  op: 'Const',
  attr: {
    value: { tensor: { dtype: t.dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT', tensorShape: shape(t.shape) } },
    dtype: { type: t.dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT' },
  },
});
const conv = {
  T: float,
  strides: ints([1, 1, 1, 1]),
  dilations: ints([1, 1, 1, 1]),
  data_format: { s: b64('NHWC') },
  explicit_paddings: { list: {} },
  use_cudnn_on_gpu: { b: true },
};
const pool = {
  T: float,
  ksize: ints([1, 2, 2, 1]),
  strides: ints([1, 2, 2, 1]),
  padding: { s: b64('VALID') },
  data_format: { s: b64('NHWC') },
};
const nodes = [
  {
    name: 'conv2d_input',
    op: 'Placeholder',
    attr: { dtype: float, shape: { shape: shape([-1, 28, 28, 1]) } },
  },
  ...consts.map(([n, t]) => constNode(n, t)),
  constNode(`${prefix}/flatten/Const`, reshapeShape),
  {
    name: `${prefix}/conv2d/Relu`,
    op: '_FusedConv2D',
    input: ['conv2d_input', consts[0][0], consts[1][0]],
    device: '/device:CPU:0',
    attr: {
      ...conv,
      padding: { s: b64('SAME') },
      num_args: { i: '1' },
      epsilon: { f: 0 },
      fused_ops: { list: { s: [b64('BiasAdd'), b64('Relu')] } },
    },
  },
  { name: `${prefix}/max_pooling2d/MaxPool`, op: 'MaxPool', input: [`${prefix}/conv2d/Relu`], attr: pool },
  {
    name: `${prefix}/conv2d_1/Conv2D`,
    op: 'Conv2D',
    input: [`${prefix}/max_pooling2d/MaxPool`, consts[2][0]],
    attr: { ...conv, padding: { s: b64('VALID') } },
  },
  {
    name: `${prefix}/conv2d_1/BiasAdd`,
    op: 'BiasAdd',
    input: [`${prefix}/conv2d_1/Conv2D`, consts[3][0]],
    attr: { T: float, data_format: { s: b64('NHWC') } },
  },
  { name: `${prefix}/conv2d_1/Relu`, op: 'Relu', input: [`${prefix}/conv2d_1/BiasAdd`], attr: { T: float } },
  {
    name: `${prefix}/max_pooling2d_1/MaxPool`,
    op: 'MaxPool',
    input: [`${prefix}/conv2d_1/Relu`],
    attr: pool,
  },
  {
    name: `${prefix}/flatten/Reshape`,
    op: 'Reshape',
    input: [`${prefix}/max_pooling2d_1/MaxPool`, `${prefix}/flatten/Const`],
    attr: { T: float, Tshape: { type: 'DT_INT32' } },
  },
  {
    name: `${prefix}/dense/Relu`,
    op: '_FusedMatMul',
    input: [`${prefix}/flatten/Reshape`, consts[4][0], consts[5][0]],
    device: '/device:CPU:0',
    attr: {
      T: float,
      transpose_a: { b: false },
      transpose_b: { b: false },
      num_args: { i: '1' },
      epsilon: { f: 0 },
      fused_ops: { list: { s: [b64('BiasAdd'), b64('Relu')] } },
    },
  },
  {
    name: `${prefix}/dense_1/MatMul`,
    op: 'MatMul',
    input: [`${prefix}/dense/Relu`, consts[6][0]],
    attr: { T: float, transpose_a: { b: false }, transpose_b: { b: false } },
  },
  {
    name: `${prefix}/dense_1/BiasAdd`,
    op: 'BiasAdd',
    input: [`${prefix}/dense_1/MatMul`, consts[7][0]],
    attr: { T: float, data_format: { s: b64('NHWC') } },
  },
  {
    name: `${prefix}/dense_1/Softmax`,
    op: 'Softmax',
    input: [`${prefix}/dense_1/BiasAdd`],
    attr: { T: float },
  },
  { name: 'Identity', op: 'Identity', input: [`${prefix}/dense_1/Softmax`], attr: { T: float } },
];
const named = [...consts, [`${prefix}/flatten/Const`, reshapeShape]];
const weightSpecs = named.map(([name, t]) => ({ name, shape: t.shape, dtype: t.dtype }));
const bytes = Buffer.concat(named.map(([, t]) => Buffer.from(t.dataSync().buffer)));
await save(
  join(out, 'graph'),
  {
    format: 'graph-model',
    generatedBy: '2.15.0',
    convertedBy: 'scripts/make-graph-teacher-fixture.mjs (GraphDef as tensorflowjs_converter 4.22 writes it)',
    signature: {
      inputs: {
        conv2d_input: { name: 'conv2d_input:0', dtype: 'DT_FLOAT', tensorShape: shape([-1, 28, 28, 1]) },
      },
      outputs: { dense_1: { name: 'Identity:0', dtype: 'DT_FLOAT', tensorShape: shape([-1, 10]) } },
    },
    modelTopology: { node: nodes, library: {}, versions: { producer: 1645 } },
    weightSpecs,
    weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
  },
  'group1-shard1of1.bin',
);
console.log(`wrote ${out}/layers and ${out}/graph (${model.countParams()} weights)`);
