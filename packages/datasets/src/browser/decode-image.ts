import { InvalidFileError } from '@distilljs/core';
import { type ImageDecodeOptions, type ResolvedImageOptions, resolveImageOptions } from '../image-options.js';

/** Where the source image is drawn: the source rectangle and the destination rectangle. */
interface DrawRects {
  readonly sx: number;
  readonly sy: number;
  readonly sw: number;
  readonly sh: number;
  readonly dx: number;
  readonly dy: number;
  readonly dw: number;
  readonly dh: number;
}

/** The rectangles of each resize mode, placed as sharp places them (centred, sizes rounded). */
export function drawRects(width: number, height: number, o: ResolvedImageOptions): DrawRects {
  const full = { sx: 0, sy: 0, sw: width, sh: height, dx: 0, dy: 0, dw: o.width, dh: o.height };
  if (o.resize === 'stretch') return full;
  if (o.resize === 'centre-crop') {
    // as sharp: resize to cover (sizes rounded), then crop the centre at whole-pixel offsets
    const scale = Math.max(o.width / width, o.height / height);
    const dw = Math.max(o.width, Math.round(width * scale));
    const dh = Math.max(o.height, Math.round(height * scale));
    return { ...full, dx: -Math.floor((dw - o.width) / 2), dy: -Math.floor((dh - o.height) / 2), dw, dh };
  }
  const scale = Math.min(o.width / width, o.height / height);
  const dw = Math.max(1, Math.round(width * scale));
  const dh = Math.max(1, Math.round(height * scale));
  return { ...full, dx: Math.floor((o.width - dw) / 2), dy: Math.floor((o.height - dh) / 2), dw, dh };
}

/**
 * Decodes one image (a File or Blob: PNG, JPEG, WebP, GIF, BMP... whatever the browser reads) into
 * `height * width * channels` bytes, channel-last, with `createImageBitmap` and an `OffscreenCanvas`: the
 * browser counterpart of the Node `decodeImageFile` (sharp), with the same options. Resampling differs
 * from libvips', so pixels agree with the Node decoder within a few levels, not exactly.
 */
export async function decodeImageBlob(
  blob: Blob,
  options: ImageDecodeOptions = {},
  name = 'image',
): Promise<Uint8Array> {
  const o = resolveImageOptions('decodeImageBlob', options);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob);
  } catch (cause) {
    throw new InvalidFileError(`${name}: cannot decode the image (${(cause as Error).message})`, {
      where: name,
      cause,
    });
  }
  const canvas = new OffscreenCanvas(o.width, o.height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true }) as OffscreenCanvasRenderingContext2D;
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, o.width, o.height);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  const r = drawRects(bitmap.width, bitmap.height, o);
  ctx.drawImage(bitmap, r.sx, r.sy, r.sw, r.sh, r.dx, r.dy, r.dw, r.dh);
  bitmap.close();
  const rgba = ctx.getImageData(0, 0, o.width, o.height).data;
  const n = o.width * o.height;
  const out = new Uint8Array(n * o.channels);
  for (let i = 0; i < n; i++) {
    const [red, green, blue] = [rgba[i * 4] as number, rgba[i * 4 + 1] as number, rgba[i * 4 + 2] as number];
    if (o.channels === 3) {
      out[i * 3] = red;
      out[i * 3 + 1] = green;
      out[i * 3 + 2] = blue;
    } else {
      out[i] = Math.round(0.2126 * red + 0.7152 * green + 0.0722 * blue);
    }
  }
  return out;
}
