import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { type Browser, chromium } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResizeMode } from '../image-options.js';
import { decodeImageFile } from '../node/decode-image.js';

// Debian's python3-sklearn ships two real JPEG photos (china.jpg 640x427, flower.jpg 640x427).
const PHOTOS = '/usr/lib/python3/dist-packages/sklearn/datasets/images';
const CHROMIUM = '/usr/bin/chromium';
const here = dirname(fileURLToPath(import.meta.url));

/** sharp's own pipeline, written out here: what decodeImageFile must give, byte for byte. */
async function sharpReference(file: string, w: number, h: number, resize: ResizeMode, channels: 1 | 3) {
  const fit = { stretch: 'fill', 'centre-crop': 'cover', pad: 'contain' } as const;
  let img = sharp(file)
    .removeAlpha()
    .resize(w, h, { fit: fit[resize], position: 'centre', background: '#000' });
  img = channels === 1 ? img.toColourspace('b-w') : img.toColourspace('srgb');
  return new Uint8Array(await img.raw().toBuffer());
}

const CASES: { file: string; resize: ResizeMode; size: [number, number] }[] = [
  { file: 'china.jpg', resize: 'stretch', size: [64, 96] },
  { file: 'china.jpg', resize: 'centre-crop', size: [64, 64] },
  { file: 'flower.jpg', resize: 'pad', size: [64, 64] },
  { file: 'flower.jpg', resize: 'stretch', size: [48, 48] },
];

describe("decoding sklearn's real JPEG photos", () => {
  it('decodeImageFile gives exactly sharp’s own output, in every resize mode, RGB and grey', async () => {
    expect(existsSync(PHOTOS), 'apt-get install python3-sklearn').toBe(true);
    for (const c of CASES) {
      for (const channels of [3, 1] as const) {
        const [h, w] = c.size;
        const got = await decodeImageFile(join(PHOTOS, c.file), {
          imageSize: c.size,
          resize: c.resize,
          channels,
        });
        const want = await sharpReference(join(PHOTOS, c.file), w, h, c.resize, channels);
        expect(got.length).toBe(h * w * channels);
        expect(Buffer.from(got).equals(Buffer.from(want)), `${c.file} ${c.resize} ${channels}`).toBe(true);
      }
    }
    // pad: the 640x427 photo fits as 64x43 in the middle, black above and below
    const padded = await decodeImageFile(join(PHOTOS, 'flower.jpg'), { imageSize: 64, resize: 'pad' });
    expect(padded.subarray(0, 64 * 3 * 10).every((v) => v === 0)).toBe(true);
    expect(padded.subarray(64 * 3 * 32, 64 * 3 * 33).some((v) => v > 0)).toBe(true);
  });

  describe('in Chromium (createImageBitmap + OffscreenCanvas)', () => {
    let browser: Browser | undefined;
    let bundle = '';
    beforeAll(async () => {
      expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`).toBe(
        true,
      );
      const out = await build({
        entryPoints: [join(here, 'decode-image.ts')],
        bundle: true,
        format: 'iife',
        globalName: 'distillDecode',
        write: false,
        conditions: ['@distilljs/source'],
        logLevel: 'silent',
      });
      bundle = out.outputFiles[0]!.text;
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    });
    afterAll(async () => {
      await browser?.close();
    });

    // Chromium's JPEG decoder and resampling are not libvips': the test allows a mean absolute difference
    // of at most 8 levels (of 255) and at most 5% of the values more than 32 levels apart (measured:
    // means 3.0-6.9, 0.1-3.3% far). The other photo at the same size is ~50 levels away on average, so the
    // tolerance does tell a right image from a wrong one (checked below).
    it('agrees with sharp within the stated tolerance (mean |diff| <= 8, <= 5% of values off by > 32)', async () => {
      const page = await browser!.newPage();
      await page.addScriptTag({ content: bundle });
      for (const c of CASES) {
        const bytes = readFileSync(join(PHOTOS, c.file)).toString('base64');
        const got = await page.evaluate(
          async ({ bytes, size, resize }) => {
            const bin = Uint8Array.from(atob(bytes), (ch) => ch.charCodeAt(0));
            const d = (globalThis as unknown as { distillDecode: typeof import('./decode-image.js') })
              .distillDecode;
            const px = await d.decodeImageBlob(new Blob([bin], { type: 'image/jpeg' }), {
              imageSize: size,
              resize,
              channels: 3,
            });
            return Array.from(px);
          },
          { bytes, size: c.size, resize: c.resize },
        );
        const want = await decodeImageFile(join(PHOTOS, c.file), {
          imageSize: c.size,
          resize: c.resize,
          channels: 3,
        });
        expect(got.length).toBe(want.length);
        let sum = 0;
        let far = 0;
        for (let i = 0; i < want.length; i++) {
          const d = Math.abs(got[i]! - want[i]!);
          sum += d;
          if (d > 32) far++;
        }
        const mean = sum / want.length;
        console.log(
          `${c.file} ${c.resize} ${c.size.join('x')}: mean |diff| ${mean.toFixed(2)}, ${((100 * far) / want.length).toFixed(2)}% > 32`,
        );
        expect(mean, `${c.file} ${c.resize}`).toBeLessThanOrEqual(8);
        expect(far / want.length, `${c.file} ${c.resize}`).toBeLessThanOrEqual(0.05);
      }
      // negative control: china in the browser against flower from sharp
      const china = readFileSync(join(PHOTOS, 'china.jpg')).toString('base64');
      const wrong = await page.evaluate(async (bytes) => {
        const bin = Uint8Array.from(atob(bytes), (ch) => ch.charCodeAt(0));
        const d = (globalThis as unknown as { distillDecode: typeof import('./decode-image.js') })
          .distillDecode;
        return Array.from(await d.decodeImageBlob(new Blob([bin]), { imageSize: 48 }));
      }, china);
      const flower = await decodeImageFile(join(PHOTOS, 'flower.jpg'), { imageSize: 48 });
      const wrongMean = wrong.reduce((s, v, i) => s + Math.abs(v - flower[i]!), 0) / flower.length;
      expect(wrongMean).toBeGreaterThan(30);
      await page.close();
    });
  });
});
