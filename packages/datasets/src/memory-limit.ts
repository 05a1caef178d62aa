import { InvalidArgumentError } from '@distilljs/core';

/** Default most bytes a loader may hold in memory: 4 GiB (override with the `maxBytes` option). */
export const DEFAULT_MAX_DATASET_BYTES = 4 * 1024 ** 3;

function gib(bytes: number): string {
  return bytes >= 1024 ** 3
    ? `${(bytes / 1024 ** 3).toFixed(2)} GiB`
    : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

/**
 * Fails before loading when a dataset would need more than `maxBytes` of memory, naming its size; data
 * larger than memory is not supported (take a subset, a smaller image size, or one channel).
 */
export function checkDatasetBytes(what: string, bytes: number, maxBytes = DEFAULT_MAX_DATASET_BYTES): void {
  if (bytes > maxBytes) {
    throw new InvalidArgumentError(
      `${what} needs ${gib(bytes)} of memory, more than the ${gib(maxBytes)} limit (maxBytes); use fewer examples, a smaller image size or one channel, or raise maxBytes if the machine has the memory`,
      { where: what },
    );
  }
}
