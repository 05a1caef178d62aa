// The entry of the single-file build (tsup.bundle.config.ts -> bundle/distill.mjs): hands the command line
// the files it carries inside itself, then runs it as src/cli.ts does.

import chartJs from 'bundled:chart-js';
import digitsGz from 'bundled:mnist-digits';
import { gunzipSync } from 'node:zlib';
import { provideBundledAssets } from './bundled-assets.js';
import { decodeMnistDigits } from './mnist-digits-pack.js';

provideBundledAssets({ chartJs, mnistDigits: () => decodeMnistDigits(gunzipSync(digitsGz)) });
await import('./cli.js');
