import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appDir, ensureBuilt, errorLines, runDistill, snapshotDir } from './testing/built-cli.js';

// End-to-end on the built binary: teacher files that are not ours (ONNX, tfjs graph models, teacher-logits
// directories) through `distill models inspect`, `distill logits` and `distill distill`, and every bad
// input of issue 18 answered with one line naming the file, exit 2, and existing runs left byte-identical.
const fixtures = join(appDir, '..', '..', 'packages', 'models', 'src', '__fixtures__');
const onnx = join(fixtures, 'onnx', 'mnist-bn-cnn.onnx');
const graph = join(fixtures, 'graph', 'graph');
let work = '';
const distill = (args: string[]) => runDistill(args, work);
const data = ['--dataset', 'mnist-embedded', '--train-size', '200', '--test-size', '50', '--backend', 'wasm'];
const student = ['--student', 'hinton-student', '--epochs', '1', '--batch-size', '50', '--quiet'];

beforeAll(() => {
  ensureBuilt();
  work = mkdtempSync(join(tmpdir(), 'distill-teacher-files-'));
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A copy of the logits directory whose shard 1 is changed by `edit`; `fixManifest` re-records its size and sha256. */
function editedLogits(name: string, edit: (bytes: Buffer) => Buffer, fixManifest: boolean): string {
  const dir = join(work, name);
  cpSync(join(work, 'logits'), dir, { recursive: true });
  const file = join(dir, 'logits-00001-of-00002.npy');
  const bytes = edit(readFileSync(file));
  writeFileSync(file, bytes);
  if (fixManifest) {
    const manifestPath = join(dir, 'manifest.json');
    const m = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const entry = m.shards.find(
      (s: { logits: { file: string } }) => s.logits.file === 'logits-00001-of-00002.npy',
    );
    entry.logits.bytes = bytes.length;
    entry.logits.sha256 = createHash('sha256').update(bytes).digest('hex');
    writeFileSync(manifestPath, JSON.stringify(m));
  }
  return dir;
}

describe('teacher files on the command line (built binary)', () => {
  it('graph model and ONNX teachers: logits files from a graph model, a distilled run, and models inspect', async () => {
    for (const shard of ['0/2', '1/2']) {
      const r = await distill([
        'logits',
        '--teacher',
        graph,
        ...data,
        '--out',
        join(work, 'logits'),
        '--shard',
        shard,
      ]);
      expect(r.code, r.stderr).toBe(0);
    }
    const run = await distill([
      'distill',
      '--teacher',
      onnx,
      '--teacher-normalize',
      '0.1307,0.3081',
      ...data,
      ...student,
      '--out',
      join(work, 'existing'),
    ]);
    expect(run.code, run.stderr).toBe(0);

    const shown = await distill(['models', 'inspect', onnx]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('format: onnx (opset 13; IR version 7; producer pytorch)');
    expect(shown.stdout).toContain('input: input [?, 1, 28, 28], layout NCHW');
    expect(shown.stdout).toContain('output: probs [?, 10]');
    expect(shown.stdout).toContain("softmax head: Softmax node '/Softmax'");
    expect(shown.stdout).toContain(
      'operators: Conv x2, Relu x3, MaxPool x2, Flatten x1, Gemm x2, Softmax x1',
    );
    expect(shown.stdout).toContain('weights: 105,866');

    const g = JSON.parse((await distill(['models', 'inspect', graph, '--json'])).stdout);
    expect(g).toMatchObject({
      format: 'graph-model',
      inputs: [{ name: 'conv2d_input', shape: [null, 28, 28, 1], layout: 'NHWC' }],
      outputs: [{ name: 'Identity', shape: [null, 10] }],
      numClasses: 10,
      softmaxHead: "Softmax node 'StatefulPartitionedCall/sequential/dense_1/Softmax'",
      weights: 5130,
    });
    expect(g.ops).toMatchObject({ _FusedConv2D: 1, _FusedMatMul: 1, MaxPool: 2, Softmax: 1 });
    const l = JSON.parse(
      (await distill(['models', 'inspect', join(fixtures, 'graph', 'layers'), '--json'])).stdout,
    );
    expect(l).toMatchObject({ format: 'layers-model', numClasses: 10, weights: 5130 });
    expect(l.softmaxHead).toMatch(/dense_1/);
    const two = await distill(['models', 'inspect', join(fixtures, 'onnx', 'tiny-two-outputs.onnx')]);
    expect(two.stdout).toMatch(
      /output: logits \[\?, 10\]\n {2}output: features \[\?, 32\]\n {2}\(2 outputs: choose/,
    );
    const dir = JSON.parse((await distill(['models', 'inspect', join(work, 'logits'), '--json'])).stdout);
    expect(dir).toMatchObject({ format: 'teacher-logits', numClasses: 10, outputs: [{ shape: [180, 10] }] });
    expect(dir.details.join(' ')).toMatch(
      /180 examples of mnist-embedded\/train .* float32, all classes kept 2 shard\(s\): logits-00000-of-00002\.npy \[0, 90\), logits-00001-of-00002\.npy \[90, 180\)/,
    );
    expect(dir.details.join(' ')).toMatch(/written from graph teacher/);
  });

  it('every bad teacher file: exit 2, one line naming the file and what was expected; existing runs unchanged', async () => {
    const kept = [
      join(work, 'existing'),
      join(work, 'logits'),
      join(fixtures, 'onnx'),
      join(fixtures, 'graph'),
    ];
    const before = kept.map(snapshotDir);
    // bad ONNX files
    writeFileSync(join(work, 'notes.onnx'), 'these are my notes, not a model\n');
    writeFileSync(join(work, 'cut.onnx'), readFileSync(onnx).subarray(0, 200_000));
    const tiny = readFileSync(join(fixtures, 'onnx', 'tiny-fixed-batch.onnx'));
    const rulu = Buffer.from(tiny);
    rulu.write('Rulu', tiny.indexOf('"\x04Relu', 0, 'latin1') + 2, 'latin1');
    writeFileSync(join(work, 'rulu.onnx'), rulu);
    // bad graph models
    const json = JSON.parse(readFileSync(join(graph, 'model.json'), 'utf8'));
    const graphCopy = (name: string, edit: (j: typeof json) => void) => {
      const dir = join(work, name);
      cpSync(graph, dir, { recursive: true });
      const j = structuredClone(json);
      edit(j);
      writeFileSync(join(dir, 'model.json'), JSON.stringify(j));
      return dir;
    };
    const twoOut = graphCopy('graph-two-outputs', (j) => {
      j.signature.outputs.hidden = {
        name: 'StatefulPartitionedCall/sequential/dense/Relu:0',
        dtype: 'DT_FLOAT',
      };
    });
    const ruluGraph = graphCopy('graph-rulu', (j) => {
      j.modelTopology.node.find((n: { op: string }) => n.op === 'Relu').op = 'Rulu';
    });
    // bad logits directories (float32 shards: the last 4 bytes are the last logit)
    const missing = join(work, 'logits-missing');
    cpSync(join(work, 'logits'), missing, { recursive: true });
    rmSync(join(missing, 'logits-00001-of-00002.npy'));
    const flip = (b: Buffer) => {
      const c = Buffer.from(b);
      c[c.length - 2]! ^= 0x01;
      return c;
    };
    const setLast = (v: number) => (b: Buffer) => {
      const c = Buffer.from(b);
      c.writeFloatLE(v, c.length - 4);
      return c;
    };
    const badSha = editedLogits('logits-sha', flip, false);
    const badSize = editedLogits('logits-size', (b) => Buffer.concat([b, Buffer.alloc(8)]), false);
    const nan = editedLogits('logits-nan', setLast(Number.NaN), true);
    const inf = editedLogits('logits-inf', setLast(Number.POSITIVE_INFINITY), true);
    // an experiment whose data (12x12 images, 4 classes) fits neither teacher
    const small = (teacher: string, classes: number, size: number) => {
      const file = join(work, `exp-${classes}-${size}-${readdirSync(work).length}.json`);
      writeFileSync(
        file,
        JSON.stringify({
          dataset: { name: 'synthetic', trainSize: 64, testSize: 16, numClasses: classes, imageSize: size },
          teacher: { path: teacher },
          students: [{ name: 's', model: 'mlp', epochs: 1 }],
        }),
      );
      return file;
    };

    let n = 0;
    const bad = (teacher: string, extra: string[] = []) => [
      'distill',
      '--teacher',
      teacher,
      ...data,
      ...extra,
      ...student,
      '--out',
      join(work, `bad-${n++}`),
    ];
    const cases: [string[], RegExp][] = [
      [
        bad(join(work, 'notes.onnx')),
        /notes\.onnx: not an ONNX model \(wire type \d\); expected a complete \.onnx file/,
      ],
      [bad(join(work, 'cut.onnx')), /cut\.onnx: truncated: it ends inside a record after 200000 bytes/],
      [
        ['run', small(onnx, 10, 12), '--out', join(work, `bad-${n++}`), '--quiet'],
        /mnist-bn-cnn\.onnx: the model takes input \[\?, 1, 28, 28\] but the data gives examples of \[12, 12, 1\]/,
      ],
      [
        ['run', small(onnx, 4, 28), '--out', join(work, `bad-${n++}`), '--quiet'],
        /mnist-bn-cnn\.onnx: the model outputs 10 classes \('probs' \[\?, 10\]\) but the data has 4/,
      ],
      [
        bad(join(fixtures, 'onnx', 'tiny-two-outputs.onnx')),
        /tiny-two-outputs\.onnx: the model has 2 outputs \(logits, features\); choose the logits with --teacher-output NAME/,
      ],
      [
        bad(join(work, 'rulu.onnx')),
        /rulu\.onnx: ONNX Runtime cannot load the model \(node '\/Relu', op Rulu\): .*Rulu/,
      ],
      [
        ['run', small(graph, 10, 12), '--out', join(work, `bad-${n++}`), '--quiet'],
        /graph\/model\.json: the model takes input \[\?, 28, 28, 1\] but the data gives examples of \[12, 12, 1\]/,
      ],
      [
        ['run', small(graph, 4, 28), '--out', join(work, `bad-${n++}`), '--quiet'],
        /graph\/model\.json: the model outputs 10 classes \('Identity' \[\?, 10\]\) but the data has 4/,
      ],
      [
        bad(twoOut),
        /graph-two-outputs\/model\.json: the model has 2 outputs \(Identity, StatefulPartitionedCall\/sequential\/dense\/Relu\); choose the logits with --teacher-output NAME/,
      ],
      [
        bad(ruluGraph),
        /graph-rulu\/model\.json: TensorFlow\.js cannot run the graph model \(node 'StatefulPartitionedCall\/sequential\/conv2d_1\/Relu', op Rulu\): Unknown op 'Rulu'/,
      ],
      [bad(missing), /logits-missing\/logits-00001-of-00002\.npy: missing/],
      [bad(badSha), /logits-sha\/logits-00001-of-00002\.npy: sha256 [0-9a-f]+ differs from the manifest's/],
      [bad(badSize), /logits-size\/logits-00001-of-00002\.npy: \d+ bytes, but the manifest says \d+/],
      [
        bad(nan),
        /logits-nan\/logits-00001-of-00002\.npy: NaN at example 179, column 9; teacher logits must be finite numbers/,
      ],
      [bad(inf), /logits-inf\/logits-00001-of-00002\.npy: Infinity at example 179, column 9/],
      [
        bad(join(work, 'logits'), ['--validation-seed', '5']),
        /logits: the logits are of mnist-embedded\/train, 180 examples, sha256 [0-9a-f]{12}, but the data is mnist-embedded\/train, 180 examples, sha256 [0-9a-f]{12}; write logits for this dataset split/,
      ],
      [
        bad(join(work, 'logits'), ['--train-size', '150']),
        /logits: the logits are of mnist-embedded\/train, 180 examples/,
      ],
      [['models', 'inspect', join(work, 'notes.onnx')], /notes\.onnx: not an ONNX model/],
    ];
    for (const [args, message] of cases) {
      const r = await distill(args);
      expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(2);
      expect(errorLines(r.stderr), r.stderr).toHaveLength(1);
      expect(errorLines(r.stderr)[0]).toMatch(message);
    }
    expect(kept.map(snapshotDir)).toEqual(before);
  });
});
