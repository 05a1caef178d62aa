// Browser entry point of @distilljs/datasets: the shared parsers and pipelines plus loaders that fetch
// files by URL (fetch + DecompressionStream). Imports nothing from node:*.
export type { Augmentation } from './augment.js';
export { horizontalFlip, randomCropWithPadding, randomShift } from './augment.js';
export type { BatchStreamOptions, DatasetBatchStream, Normalization } from './batch-stream.js';
export { createBatchStream } from './batch-stream.js';
export { decodeImageBlob } from './browser/decode-image.js';
export type { FetchBytesOptions } from './browser/fetch-bytes.js';
export { fetchBytes } from './browser/fetch-bytes.js';
export type { BrowserFetchOptions } from './browser/fetch-idx.js';
export type { LoadCifar10Options } from './browser/load-cifar10.js';
export { loadCifar10 } from './browser/load-cifar10.js';
export type { LoadFashionMnistOptions } from './browser/load-fashion-mnist.js';
export { loadFashionMnist } from './browser/load-fashion-mnist.js';
export type { ImageFilesOptions, PickedImageFile } from './browser/load-image-files.js';
export { imageFolderFromFiles } from './browser/load-image-files.js';
export type { LoadMnistOptions } from './browser/load-mnist.js';
export { loadMnist } from './browser/load-mnist.js';
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
export type { ValidationSplit, ValidationSplitInfo } from './validation-split.js';
export { carveValidation } from './validation-split.js';
