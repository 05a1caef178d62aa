"""Running statistics of PyTorch's BatchNorm after three training steps on fixed inputs.

Writes batch-norm-torch.json beside this file; packages/models/src/batch-norm.test.ts compares the zoo's
batch-norm layer with it (CI reads the JSON and does not need torch). Run with Debian's python3-torch:

    /usr/bin/python3 packages/models/src/__fixtures__/batch-norm-torch.py

The inputs are a fixed function of the indices (no random generator), channel-last as tfjs stores them;
they are transposed to PyTorch's channel-first layout here. Each step: y = bn(x) in training mode,
loss = mean(y * w), SGD (lr 0.1) on gamma and beta. PyTorch's momentum 0.1 is Keras' momentum 0.9.
"""
import json
import math
import os

import torch

torch.set_default_dtype(torch.float64)


def inputs(step, shape):
    n = 1
    for d in shape:
        n *= d
    vals = [math.sin(0.37 * i + 1.3 * step) * (1.5 + 0.5 * step) + 0.2 * (i % 7) for i in range(n)]
    return torch.tensor(vals).reshape(shape)


def case(shape, eps):
    channels = shape[-1]
    bn = torch.nn.BatchNorm2d(channels, eps=eps, momentum=0.1) if len(shape) == 4 else torch.nn.BatchNorm1d(
        channels, eps=eps, momentum=0.1
    )
    with torch.no_grad():
        bn.weight.copy_(torch.linspace(0.5, 1.5, channels))
        bn.bias.copy_(torch.linspace(-0.2, 0.3, channels))
    opt = torch.optim.SGD(bn.parameters(), lr=0.1)
    bn.train()
    w = inputs(7, shape)
    steps = []
    for step in range(3):
        x = inputs(step, shape)
        xt = x.permute(0, 3, 1, 2) if len(shape) == 4 else x
        wt = w.permute(0, 3, 1, 2) if len(shape) == 4 else w
        opt.zero_grad()
        loss = (bn(xt) * wt).mean()
        loss.backward()
        opt.step()
        steps.append(
            {
                "x": x.flatten().tolist(),
                "runningMean": bn.running_mean.tolist(),
                "runningVar": bn.running_var.tolist(),
                "gamma": bn.weight.detach().tolist(),
                "beta": bn.bias.detach().tolist(),
            }
        )
    return {
        "shape": shape,
        "epsilon": eps,
        "gammaInit": torch.linspace(0.5, 1.5, channels).tolist(),
        "betaInit": torch.linspace(-0.2, 0.3, channels).tolist(),
        "w": w.flatten().tolist(),
        "steps": steps,
    }


out = {
    "generator": f"PyTorch {torch.__version__}, float64, {os.path.basename(__file__)}",
    "what": "BatchNorm running_mean / running_var (unbiased, momentum 0.1) and SGD(lr 0.1) gamma / beta after each of three training steps; loss = mean(bn(x) * w)",
    "cases": [case([4, 3, 3, 2], 1e-3), case([5, 3], 1e-3)],
}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "batch-norm-torch.json"), "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
