// Documented run (issue 19): does an unlabelled transfer set help? On real Fashion-MNIST images written as
// PNG folders, a teacher is trained on 6,000 labelled images (folder T); students then learn from a small
// labelled set (600 images: the 20% training part of folder L, 60 of them the validation split; the other
// 2,400 images of L are the test split, never used for any choice) either alone, or together with 6,000 unlabelled images
// (folder U, no class folders: soft targets only). Settings are fixed in advance (no tuning on the held-out
// part). Both students take the same number of optimisation steps. Seeds 1, 2, 3.
//   node scripts/unlabelled-transfer.mjs OUT_DIR   (after `pnpm build`)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadFashionMnist } from '@distilljs/datasets';
import sharp from 'sharp';

const out = process.argv[2] ?? '/tmp/distilljs-unlabelled';
const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const data = join(out, 'data');

async function writeFolder(ds, from, to, dir, labelled) {
  const names = ds.classNames.map((n) => n.replace('/', '-'));
  let next = from;
  const worker = async () => {
    for (let i = next++; i < to; i = next++) {
      const sub = labelled ? join(dir, names[ds.train.labels[i]]) : dir;
      mkdirSync(sub, { recursive: true });
      const px = Buffer.from(ds.train.images.subarray(i * 784, (i + 1) * 784));
      await sharp(px, { raw: { width: 28, height: 28, channels: 1 } })
        .png()
        .toFile(join(sub, `${i}.png`));
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

if (!existsSync(join(data, 'U'))) {
  const ds = await loadFashionMnist();
  await writeFolder(ds, 0, 6000, join(data, 'T'), true);
  await writeFolder(ds, 6000, 9000, join(data, 'L'), true);
  await writeFolder(ds, 10000, 16000, join(data, 'U'), false);
}

const common = ['--channels', '1', '--image-size', '28', '--batch-size', '64', '--quiet', '--json'];
const distill = (args) =>
  JSON.parse(
    execFileSync(process.execPath, [cli, ...args, ...common], { encoding: 'utf8', maxBuffer: 1 << 26 }),
  );
const teacherRun = join(out, 'teacher');
if (!existsSync(join(teacherRun, 'run.json'))) {
  distill([
    'train',
    '--dataset',
    join(data, 'T'),
    '--model',
    'mlp:512,512',
    '--epochs',
    '15',
    '--lr',
    '0.001',
    '--seed',
    '1',
    '--out',
    teacherRun,
  ]);
}
const rows = [];
for (const seed of [1, 2, 3]) {
  for (const [name, extra] of [
    // 600 labelled training images, of which 60 are carved as the validation split: 540 train -> 9 steps/epoch
    // (x114 epochs = 1,026 steps); with U, 6,540 -> 103 steps/epoch (x10 = 1,030 steps)
    ['labelled only', ['--epochs', '114']],
    ['labelled + unlabelled', ['--epochs', '10', '--unlabelled', join(data, 'U')]],
  ]) {
    const dir = join(out, `${name.replace(/[^a-z]+/g, '-')}-s${seed}`);
    if (!existsSync(join(dir, 'run.json'))) {
      distill([
        'distill',
        '--dataset',
        join(data, 'L'),
        '--test-fraction',
        '0.8',
        '--teacher',
        teacherRun,
        '--student',
        'mlp:128',
        '--temperature',
        '4',
        '--alpha',
        '0.9',
        '--seed',
        String(seed),
        '--out',
        dir,
        ...extra,
      ]);
    }
    const record = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
    const stage = record.stages[0];
    rows.push({
      name,
      seed,
      steps: stage.steps,
      errors: stage.test.errors,
      count: stage.test.count,
      accuracy: stage.test.accuracy,
    });
  }
}
const teacher = JSON.parse(readFileSync(join(teacherRun, 'run.json'), 'utf8')).stages[0].test;
writeFileSync(join(out, 'summary.json'), `${JSON.stringify({ teacher, rows }, null, 2)}\n`);
console.log(JSON.stringify({ teacher: { errors: teacher.errors, count: teacher.count }, rows }, null, 2));
