// Loading all 60,000 Fashion-MNIST training images from a folder of PNG files (one class folder each),
// first with an empty decode cache, then from the cache: wall time and peak RSS of each load, each in a
// fresh process. Run after `pnpm build`:
//   node bench/image-folder.mjs [work dir, default /tmp/distilljs-folder-bench] [--rounds 3]
// The PNG tree is written once (with sharp) from Debian's dataset-fashion-mnist and kept for reruns.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadFashionMnist, loadImageFolder } from '@distilljs/datasets';
import sharp from 'sharp';

const work =
  process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : '/tmp/distilljs-folder-bench';
const root = join(work, 'fashion-mnist-train');
const cacheDir = join(work, 'cache');

async function writeTree() {
  const ds = await loadFashionMnist();
  const names = ds.classNames.map((n) => n.replace('/', '-'));
  for (const n of names) mkdirSync(join(root, n), { recursive: true });
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < ds.train.count; i = next++) {
      const px = ds.train.images.subarray(i * 784, (i + 1) * 784);
      const file = join(root, names[ds.train.labels[i]], `${String(i).padStart(5, '0')}.png`);
      await sharp(Buffer.from(px), { raw: { width: 28, height: 28, channels: 1 } })
        .png()
        .toFile(file);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

if (process.argv[2] === '--load') {
  // child: one load, then report
  const t0 = performance.now();
  const ds = await loadImageFolder(process.argv[3], {
    imageSize: 28,
    channels: 1,
    validationFraction: 0,
    cacheDir: process.argv[4],
  });
  const seconds = (performance.now() - t0) / 1000;
  const peak = process.resourceUsage().maxRSS / 1024; // KiB -> MiB
  console.log(JSON.stringify({ images: ds.train.count, fromCache: ds.fromCache, seconds, peakRssMiB: peak }));
} else {
  const count = () => readdirSync(root).reduce((n, d) => n + readdirSync(join(root, d)).length, 0);
  if (!existsSync(root) || count() !== 60000) {
    const t = performance.now();
    await writeTree();
    console.log(`wrote 60,000 PNG files in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  // rounds of (empty cache, decode) then (from the cache); medians over rounds
  const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1] ?? 3) || 3;
  const self = fileURLToPath(import.meta.url);
  const runs = { 'first (decode)': [], 'second (cache)': [] };
  for (let r = 0; r < rounds; r++) {
    rmSync(cacheDir, { recursive: true, force: true });
    for (const [run, list] of Object.entries(runs)) {
      const out = execFileSync(process.execPath, [self, '--load', root, cacheDir], { encoding: 'utf8' });
      const x = JSON.parse(out);
      list.push(x);
      console.log(
        `round ${r + 1} ${run}: ${x.images} images, fromCache ${x.fromCache}, ${x.seconds.toFixed(1)} s, peak RSS ${x.peakRssMiB.toFixed(0)} MiB`,
      );
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  for (const [run, list] of Object.entries(runs)) {
    console.log(
      `median of ${rounds}, ${run}: ${median(list.map((x) => x.seconds)).toFixed(1)} s, peak RSS ${median(list.map((x) => x.peakRssMiB)).toFixed(0)} MiB`,
    );
  }
  console.log(
    `load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}, ${cpus()[0]?.model} x${cpus().length}`,
  );
}
