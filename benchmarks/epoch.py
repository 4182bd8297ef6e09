"""One full Fashion-MNIST epoch of the seed CNN plus test evaluation: ours, then PyTorch's.

    python benchmarks/epoch.py [--batch-norm] [--threads N]

Both read the same normalised arrays in the same shuffled order, batch 128, SGD with
momentum; the figure is wall time for the 469 training steps and for evaluating the
10,000 test images (batches of 1,000).
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, optim
from tinygrad_cnn.data import FashionMNIST, Normalize
from tinygrad_cnn.models import seed_cnn


def ours(x, y, x_test, y_test, order, batch_norm: bool) -> tuple[float, float]:  # noqa: ANN001
    tc.manual_seed(0)
    model = seed_cnn(batch_norm=batch_norm)
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    start = time.perf_counter()
    for b in range(0, len(order), 128):
        index = order[b:b + 128]
        loss = F.cross_entropy(model(Tensor(x[index])), Tensor(y[index]))
        opt.zero_grad()
        loss.backward()
        opt.step()
    train = time.perf_counter() - start
    model.eval()
    start = time.perf_counter()
    with tc.no_grad():
        correct = sum(int((model(Tensor(x_test[b:b + 1000])).argmax(1).numpy() == y_test[b:b + 1000]).sum())
                      for b in range(0, len(x_test), 1000))
    print(f"  ours: test accuracy after one epoch {correct / len(x_test):.2%}")
    return train, time.perf_counter() - start


def theirs(x, y, x_test, y_test, order, batch_norm: bool) -> tuple[float, float]:  # noqa: ANN001
    import torch
    from torch import nn

    torch.manual_seed(0)

    def block(c_in: int, c_out: int) -> list[nn.Module]:
        return [nn.Conv2d(c_in, c_out, 3), *([nn.BatchNorm2d(c_out)] if batch_norm else []), nn.ReLU(), nn.MaxPool2d(2)]

    model = nn.Sequential(*block(1, 32), *block(32, 64), nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(),
                          nn.Linear(128, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    start = time.perf_counter()
    for b in range(0, len(order), 128):
        index = order[b:b + 128]
        loss = nn.functional.cross_entropy(model(torch.from_numpy(x[index])), torch.from_numpy(y[index]))
        opt.zero_grad()
        loss.backward()
        opt.step()
    train = time.perf_counter() - start
    model.eval()
    start = time.perf_counter()
    with torch.no_grad():
        correct = sum(int((model(torch.from_numpy(x_test[b:b + 1000])).argmax(1).numpy() == y_test[b:b + 1000]).sum())
                      for b in range(0, len(x_test), 1000))
    print(f"  PyTorch: test accuracy after one epoch {correct / len(x_test):.2%}")
    return train, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-norm", action="store_true")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    tc.keep_freed_memory()
    tc.set_num_threads(args.threads)
    normalize = Normalize(FashionMNIST.mean, FashionMNIST.std)
    train_set, test_set = FashionMNIST(train=True), FashionMNIST(train=False)
    x, y = normalize(train_set.data), train_set.targets
    x_test, y_test = normalize(test_set.data), test_set.targets
    order = np.random.default_rng(0).permutation(len(x))
    results = {"ours": ours(x, y, x_test, y_test, order, args.batch_norm)}
    try:
        import torch
        torch.set_num_threads(args.threads)
        results["PyTorch"] = theirs(x, y, x_test, y_test, order, args.batch_norm)
    except ImportError:
        pass
    print(f"one epoch of the seed CNN{' with BatchNorm' if args.batch_norm else ''}, {args.threads} threads:")
    for name, (train, test) in results.items():
        print(f"  {name:8s} train {train:6.1f} s + test {test:4.1f} s = {train + test:6.1f} s")
    if "PyTorch" in results:
        total = {k: sum(v) for k, v in results.items()}
        print(f"  ratio ours / PyTorch: {total['ours'] / total['PyTorch']:.2f}")


if __name__ == "__main__":
    main()
