/** A file of a published dataset: its name and the sha256 of the official file. */
export interface PinnedFile {
  readonly file: string;
  readonly sha256: string;
}

/** The four IDX files of an MNIST-style dataset. */
export interface IdxFileSet {
  readonly trainImages: PinnedFile;
  readonly trainLabels: PinnedFile;
  readonly testImages: PinnedFile;
  readonly testLabels: PinnedFile;
}

/** Default download location of MNIST (the mirror torchvision uses; the original site often refuses). */
export const MNIST_BASE_URL = 'https://ossci-datasets.s3.amazonaws.com/mnist/';

/** The official MNIST IDX gzip files and their sha256 (same bytes on every mirror). */
export const MNIST_FILES: IdxFileSet = {
  trainImages: {
    file: 'train-images-idx3-ubyte.gz',
    sha256: '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609',
  },
  trainLabels: {
    file: 'train-labels-idx1-ubyte.gz',
    sha256: '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c',
  },
  testImages: {
    file: 't10k-images-idx3-ubyte.gz',
    sha256: '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6',
  },
  testLabels: {
    file: 't10k-labels-idx1-ubyte.gz',
    sha256: 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6',
  },
};

/** Default download location of Fashion-MNIST over https (the files in Zalando's repository). */
export const FASHION_MNIST_BASE_URL =
  'https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/';

/** The official Fashion-MNIST IDX gzip files and their sha256. */
export const FASHION_MNIST_FILES: IdxFileSet = {
  trainImages: {
    file: 'train-images-idx3-ubyte.gz',
    sha256: '3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84',
  },
  trainLabels: {
    file: 'train-labels-idx1-ubyte.gz',
    sha256: 'a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845',
  },
  testImages: {
    file: 't10k-images-idx3-ubyte.gz',
    sha256: '346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073',
  },
  testLabels: {
    file: 't10k-labels-idx1-ubyte.gz',
    sha256: '67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5',
  },
};

/** The official CIFAR-10 binary archive (170,052,171 bytes) and its sha256. */
export const CIFAR10_ARCHIVE = {
  url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
  file: 'cifar-10-binary.tar.gz',
  sha256: 'c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd',
} as const;

/** File names of the CIFAR-10 binary batches inside `cifar-10-batches-bin/`. */
export const CIFAR10_BATCH_FILES = {
  train: ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'],
  test: ['test_batch.bin'],
} as const;
