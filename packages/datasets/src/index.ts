// Node entry point of @distilljs/datasets: the shared parsers and pipelines plus loaders that read the
// file system and download with checksums. Browsers get ./browser.ts through the `browser` condition.
export type { Augmentation } from './augment.js';
export { horizontalFlip, randomCropWithPadding, randomShift } from './augment.js';
export type { BatchStreamOptions, DatasetBatchStream, Normalization } from './batch-stream.js';
export { createBatchStream } from './batch-stream.js';
export { CIFAR10_RECORD_BYTES, concatSplits, encodeCifarBatch, parseCifarBatch } from './cifar.js';
export { CIFAR10_CLASS_NAMES, FASHION_MNIST_CLASS_NAMES, MNIST_CLASS_NAMES } from './class-names.js';
export type {
  DatasetView,
  SplitName,
  SubsetOptions,
  TransferSetOptions,
  ViewSource,
} from './dataset-view.js';
export {
  datasetView,
  isDatasetView,
  isFeatureSplit,
  materializeView,
  subset,
  transferSet,
} from './dataset-view.js';
export type { DownloadProgress, FetchLike, ProgressCallback } from './download-types.js';
export type { MnistDigitFile } from './embedded-mnist.js';
export { EMBEDDED_MNIST_TRAIN_FRACTION, embeddedMnistFromDigits } from './embedded-mnist.js';
export type { FeatureRows, FeatureRowsOptions } from './feature-rows.js';
export { parseFeatureRows } from './feature-rows.js';
export type { FeatureInput, FromArraysOptions, LabelInput } from './from-arrays.js';
export { datasetFromArrays, standardizeDataset } from './from-arrays.js';
export type { Gunzip } from './gzip.js';
export { isGzip, maybeGunzip, webGunzip } from './gzip.js';
export type { IdxArray } from './idx.js';
export { encodeIdx, parseIdx } from './idx.js';
export type { IdxPair, IdxSplit } from './idx-split.js';
export { decodeIdxPair } from './idx-split.js';
export type { ImageDecodeOptions, ResizeMode, ResolvedImageOptions } from './image-options.js';
export {
  DEFAULT_IMAGE_SIZE,
  IMAGE_EXTENSIONS,
  isImageFileName,
  resolveImageOptions,
} from './image-options.js';
export { checkDatasetBytes, DEFAULT_MAX_DATASET_BYTES } from './memory-limit.js';
export { resolveCacheDir } from './node/cache-dir.js';
export { decodeImageFile } from './node/decode-image.js';
export type { DownloadFileOptions, DownloadResult } from './node/download.js';
export { downloadFile } from './node/download.js';
export type { NodeDownloadOptions } from './node/download-options.js';
export { extractTarGz } from './node/extract-tar-gz.js';
export type { LoadCifar10Options } from './node/load-cifar10.js';
export { loadCifar10 } from './node/load-cifar10.js';
export type { LoadFashionMnistOptions } from './node/load-fashion-mnist.js';
export { DEBIAN_FASHION_MNIST_DIR, loadFashionMnist } from './node/load-fashion-mnist.js';
export type { ImageFolderDataset, LoadImageFolderOptions } from './node/load-image-folder.js';
export { loadImageFolder } from './node/load-image-folder.js';
export type { LoadMnistOptions } from './node/load-mnist.js';
export { loadMnist } from './node/load-mnist.js';
export type { FeatureLoadOptions, LoadNpyOptions, LoadTableOptions } from './node/load-table.js';
export { loadNpy, loadTable } from './node/load-table.js';
export { nodeGunzip } from './node/node-gunzip.js';
export type { ImageFileEntry, ImageFolderListing } from './node/scan-image-folder.js';
export { scanImageFolder } from './node/scan-image-folder.js';
export type { NpyArray } from './npy.js';
export { NPY_DTYPES, parseNpy } from './npy.js';
export type { IdxFileSet, PinnedFile } from './sources.js';
export {
  CIFAR10_ARCHIVE,
  CIFAR10_BATCH_FILES,
  FASHION_MNIST_BASE_URL,
  FASHION_MNIST_FILES,
  MNIST_BASE_URL,
  MNIST_FILES,
} from './sources.js';
export { applyStandardization, fitStandardization } from './standardization.js';
export type { HoldOutOptions, SplitPositions } from './stratified-split.js';
export { holdOut, stratifiedSplit } from './stratified-split.js';
export type { SyntheticDatasetOptions } from './synthetic.js';
export { syntheticDataset } from './synthetic.js';
export type { TableOptions } from './table.js';
export { parseTable } from './table.js';
export type { ValidationSplit, ValidationSplitInfo } from './validation-split.js';
export { carveValidation } from './validation-split.js';
