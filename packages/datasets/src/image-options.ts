import { invalidArgument } from '@distilljs/core';

/** How an image is brought to the target size. */
export type ResizeMode = 'stretch' | 'centre-crop' | 'pad';

/** Extensions of the image files a folder loader reads (as Keras' image_dataset_from_directory). */
export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg', '.webp', '.gif', '.bmp'];

/** How to decode one image into the dataset's pixels. */
export interface ImageDecodeOptions {
  /** Target size: one number for a square, or `[height, width]` (default {@link DEFAULT_IMAGE_SIZE}). */
  readonly imageSize?: number | readonly [number, number];
  /** 1 (greyscale) or 3 (RGB); default 3. */
  readonly channels?: 1 | 3;
  /**
   * `stretch` (default: resize to the size, ignoring the aspect ratio, as Keras), `centre-crop` (fill the size,
   * cropping the longer side around the centre) or `pad` (fit inside, pad with black).
   */
  readonly resize?: ResizeMode;
}

/** The decode options with every default filled in. */
export interface ResolvedImageOptions {
  readonly height: number;
  readonly width: number;
  readonly channels: 1 | 3;
  readonly resize: ResizeMode;
}

/** Default image side when `imageSize` is not given (Keras' image_dataset_from_directory uses 256; 64 keeps memory small). */
export const DEFAULT_IMAGE_SIZE = 64;

/** Checks and completes {@link ImageDecodeOptions}; errors name the option and the valid values. */
export function resolveImageOptions(fn: string, options: ImageDecodeOptions = {}): ResolvedImageOptions {
  const size = options.imageSize ?? DEFAULT_IMAGE_SIZE;
  const [height, width] = typeof size === 'number' ? [size, size] : [size[0], size[1]];
  const ok = (d: unknown) => Number.isInteger(d) && (d as number) > 0 && (d as number) <= 4096;
  if (!ok(height) || !ok(width))
    invalidArgument(fn, 'imageSize', 'an integer 1..4096 or [height, width]', size);
  const channels = options.channels ?? 3;
  if (channels !== 1 && channels !== 3) invalidArgument(fn, 'channels', '1 or 3', channels);
  const resize = options.resize ?? 'stretch';
  if (!['stretch', 'centre-crop', 'pad'].includes(resize))
    invalidArgument(fn, 'resize', "'stretch', 'centre-crop' or 'pad'", resize);
  return { height: height as number, width: width as number, channels, resize };
}

/** True when a file name has one of {@link IMAGE_EXTENSIONS}. */
export function isImageFileName(name: string): boolean {
  const dot = name.lastIndexOf('.');
  return dot > 0 && IMAGE_EXTENSIONS.includes(name.slice(dot).toLowerCase());
}
