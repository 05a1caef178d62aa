import { InvalidFileError } from '@distilljs/core';

/**
 * Checks every label is in `0..numClasses-1`; the error names the file, the example and its byte offset
 * (`headerBytes + i * stride`).
 */
export function checkLabels(
  labels: Uint8Array,
  numClasses: number,
  file: string,
  headerBytes: number,
  stride: number,
): void {
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i] as number;
    if (y >= numClasses) {
      const offset = headerBytes + i * stride;
      throw new InvalidFileError(
        `${file}: label ${y} of example ${i} at byte offset ${offset} is outside 0..${numClasses - 1}`,
        { where: `${file}@${offset}` },
      );
    }
  }
}
