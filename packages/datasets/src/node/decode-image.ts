import { InvalidFileError, NotInstalledError } from '@distilljs/core';
import type { Sharp, SharpOptions } from 'sharp';
import { type ImageDecodeOptions, type ResolvedImageOptions, resolveImageOptions } from '../image-options.js';

type SharpFactory = (input?: string | Uint8Array, options?: SharpOptions) => Sharp;
let sharpModule: Promise<SharpFactory> | undefined;

/** Loads sharp (an optional peer dependency) once, or says how to install it. */
export function loadSharp(): Promise<SharpFactory> {
  sharpModule ??= import('sharp').then(
    (m) => (m as { default?: SharpFactory }).default ?? (m as unknown as SharpFactory),
    (cause) => {
      sharpModule = undefined;
      throw new NotInstalledError(
        'Decoding image files in Node needs the optional package sharp, which is not installed.',
        'npm install sharp',
        { cause },
      );
    },
  );
  return sharpModule;
}

const FIT = { stretch: 'fill', 'centre-crop': 'cover', pad: 'contain' } as const;

/** @internal Decodes with resolved options: `height * width * channels` bytes, channel-last. */
export async function decodeResolved(
  sharp: SharpFactory,
  input: string | Uint8Array,
  o: ResolvedImageOptions,
  name: string,
): Promise<Uint8Array> {
  try {
    let img = sharp(input, { failOn: 'error' }).removeAlpha();
    img = img.resize(o.width, o.height, {
      fit: FIT[o.resize],
      position: 'centre',
      background: { r: 0, g: 0, b: 0 },
    });
    img = o.channels === 1 ? img.toColourspace('b-w') : img.toColourspace('srgb');
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== o.channels || info.width !== o.width || info.height !== o.height) {
      throw new Error(`decoded to ${info.width}x${info.height}x${info.channels}`);
    }
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  } catch (cause) {
    const why = (cause as Error).message.split('\n')[0];
    throw new InvalidFileError(
      `${name}: cannot decode the image (${why}); give a PNG, JPEG, WebP or GIF file`,
      {
        where: name,
        cause,
      },
    );
  }
}

/**
 * Decodes one image file (PNG, JPEG, WebP, GIF's first frame, BMP... whatever sharp reads) into
 * `height * width * channels` bytes, channel-last, exactly as an image-folder dataset with the same
 * options does: alpha dropped, resized (stretch / centre-crop / pad with black), converted to RGB or grey.
 * Use it to prepare an image for prediction with a model trained on such a dataset.
 */
export async function decodeImageFile(
  input: string | Uint8Array,
  options: ImageDecodeOptions = {},
): Promise<Uint8Array> {
  const o = resolveImageOptions('decodeImageFile', options);
  return decodeResolved(await loadSharp(), input, o, typeof input === 'string' ? input : 'image bytes');
}
