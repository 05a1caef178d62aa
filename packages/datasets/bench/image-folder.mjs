// Loading all 60,000 Fashion-MNIST training images from a folder of PNG files (one class folder each),
// first with an empty decode cache, then from the cache: wall time and peak RSS of each load, each in a
// fresh process. Run after `pnpm build`:
//   node bench/image-folder.mjs [work dir, default /tmp/distilljs-folder-bench]
// The PNG tree is written once (with sharp) from Debian's dataset-fashion-mnist and kept for reruns.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadFashionMnist, loadImageFolder } from '@distilljs/datasets';
import sharp from 'sharp';

const work = process.argv[2] ?? '/tmp/distilljs-folder-bench';
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
  rmSync(cacheDir, { recursive: true, force: true });
  const self = fileURLToPath(import.meta.url);
  for (const run of ['first (decode)', 'second (cache)']) {
    const out = execFileSync(process.execPath, [self, '--load', root, cacheDir], { encoding: 'utf8' });
    const r = JSON.parse(out);
    console.log(
      `${run}: ${r.images} images, fromCache ${r.fromCache}, ${r.seconds.toFixed(1)} s, peak RSS ${r.peakRssMiB.toFixed(0)} MiB`,
    );
  }
}
