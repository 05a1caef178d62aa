#!/usr/bin/python3
"""Exports a ReLU MLP whose weights a distilljs bench wrote (weights.json: the Dense kernels [in, out] and
biases of a tfjs Layers MLP, in order) as ONNX with torch.onnx.export: the same network for ONNX Runtime.
Input [batch, 784] (flat), dynamic batch, logits out. Debian's python3-torch:
    /usr/bin/python3 export-mlp-onnx.py weights.json out.onnx
"""
import json
import sys

import torch
import torch.nn as nn

weights = json.load(open(sys.argv[1]))
layers = []
for i, (kernel, bias) in enumerate(zip(weights['kernels'], weights['biases'])):
    k = torch.tensor(kernel['values'], dtype=torch.float32).reshape(kernel['shape'])
    lin = nn.Linear(k.shape[0], k.shape[1])
    with torch.no_grad():
        lin.weight.copy_(k.t())
        lin.bias.copy_(torch.tensor(bias, dtype=torch.float32))
    layers.append(lin)
    if i < len(weights['kernels']) - 1:
        layers.append(nn.ReLU())
net = nn.Sequential(*layers).eval()
x = torch.zeros(2, layers[0].in_features)
torch.onnx.export(net, x, sys.argv[2], input_names=['input'], output_names=['logits'],
                  dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}}, opset_version=13)
