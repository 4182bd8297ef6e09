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


def run_epoch(model, optimizer, cross_entropy, to_tensor, no_grad, data) -> tuple[float, float, float]:  # noqa: ANN001
    """Train one epoch and evaluate, with either framework's objects: seconds of training,
    seconds of evaluation, test accuracy."""
    x, y, x_test, y_test, order = data
    start = time.perf_counter()
    for b in range(0, len(order), 128):
        index = order[b:b + 128]
        loss = cross_entropy(model(to_tensor(x[index])), to_tensor(y[index]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    train = time.perf_counter() - start
    model.eval()
    start = time.perf_counter()
    with no_grad():
        correct = sum(int((model(to_tensor(x_test[b:b + 1000])).argmax(1).numpy() == y_test[b:b + 1000]).sum())
                      for b in range(0, len(x_test), 1000))
    return train, time.perf_counter() - start, correct / len(x_test)


def ours(data, batch_norm: bool) -> tuple[float, float, float]:  # noqa: ANN001
    tc.manual_seed(0)
    model = seed_cnn(batch_norm=batch_norm)
    return run_epoch(model, optim.SGD(model.parameters(), lr=0.05, momentum=0.9), F.cross_entropy, Tensor,
                     tc.no_grad, data)


def theirs(data, batch_norm: bool) -> tuple[float, float, float]:  # noqa: ANN001
    import torch
    from bench import torch_seed_cnn

    torch.manual_seed(0)
    model = torch_seed_cnn(batch_norm)
    return run_epoch(model, torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9),
                     torch.nn.functional.cross_entropy, torch.from_numpy, torch.no_grad, data)


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
    data = (x, y, x_test, y_test, order)
    results = {"ours": ours(data, args.batch_norm)}
    try:
        import torch
        torch.set_num_threads(args.threads)
        results["PyTorch"] = theirs(data, args.batch_norm)
    except ImportError:
        pass
    print(f"one epoch of the seed CNN{' with BatchNorm' if args.batch_norm else ''}, {args.threads} threads:")
    for name, (train, test, accuracy) in results.items():
        print(f"  {name:8s} train {train:6.1f} s + test {test:4.1f} s = {train + test:6.1f} s "
              f"(test accuracy after one epoch {accuracy:.2%})")
    if "PyTorch" in results:
        total = {k: v[0] + v[1] for k, v in results.items()}
        print(f"  ratio ours / PyTorch: {total['ours'] / total['PyTorch']:.2f}")


if __name__ == "__main__":
    main()
