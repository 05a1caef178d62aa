// Decodes an image file for prediction with sharp (PNG, JPEG, WebP, GIF, ...): alpha dropped, resized to
// the model's input size, converted to grey or RGB; HWC bytes, as the image datasets hold them.
import { InvalidFileError } from '@distilljs/core';
import sharp from 'sharp';
import type { ImagePreprocessing } from './preprocessing.js';

const FIT = { stretch: 'fill', 'centre-crop': 'cover', pad: 'contain' } as const;

/** Extensions `distill predict` reads as images. */
export const IMAGE_FILE = /\.(png|jpe?g|webp|gif|bmp|tiff?|avif)$/i;

/** `height * width * channels` bytes of an image file, brought to the model's input as in training. */
export async function decodeImageForModel(path: string, p: ImagePreprocessing): Promise<Uint8Array> {
  const { height, width, channels, resize } = p.image;
  try {
    let img = sharp(path, { failOn: 'error' })
      .removeAlpha()
      .resize(width, height, { fit: FIT[resize], position: 'centre', background: { r: 0, g: 0, b: 0 } });
    img = channels === 1 ? img.toColourspace('b-w') : img.toColourspace('srgb');
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== channels) throw new Error(`decoded to ${info.channels} channels, not ${channels}`);
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  } catch (cause) {
    const why = (cause as Error).message.split('\n')[0];
    throw new InvalidFileError(
      `${path}: cannot decode the image (${why}); give a PNG, JPEG, WebP or GIF file`,
      { where: path, cause },
    );
  }
}
