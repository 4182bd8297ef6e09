"""One full Fashion-MNIST epoch of the seed CNN plus test evaluation, ours and PyTorch's taking turns.

    python benchmarks/epoch.py [--batch-norm] [--threads N]

Both read the same normalised arrays in the same shuffled order, batch 128, SGD with
momentum; the figure is wall time for the 469 training steps and for evaluating the
10,000 test images (batches of 1,000). The two epochs run in alternating turns of 20 steps
(or one test batch), each after a pause longer than PyTorch's workers spin, so both see the
same machine: this machine's speed drifts by up to 2x within minutes, which a comparison of
one whole epoch after the other would take for a difference between the frameworks.
"""
from __future__ import annotations

import argparse
import os
import time
from collections.abc import Iterator

import numpy as np
from bench import SETTLE_SECONDS, torch_seed_cnn  # benchmarks/ is on the path when run as a script

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, optim
from tinygrad_cnn.data import FashionMNIST, transforms
from tinygrad_cnn.models import seed_cnn

STEPS_PER_TURN = 20


def run_epoch(model, optimizer, cross_entropy, to_tensor, no_grad, data) -> Iterator[str]:  # noqa: ANN001
    """Train one epoch and evaluate, with either framework's objects, yielding "train" or
    "test" after each turn's work; returns the test accuracy."""
    x, y, x_test, y_test, order = data
    for first in range(0, len(order), 128 * STEPS_PER_TURN):
        for b in range(first, min(first + 128 * STEPS_PER_TURN, len(order)), 128):
            index = order[b:b + 128]
            loss = cross_entropy(model(to_tensor(x[index])), to_tensor(y[index]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        yield "train"
    model.eval()
    correct = 0
    for b in range(0, len(x_test), 1000):
        with no_grad():
            correct += int((model(to_tensor(x_test[b:b + 1000])).argmax(1).numpy() == y_test[b:b + 1000]).sum())
        yield "test"
    return correct / len(x_test)


def take_turns(epochs: dict[str, Iterator[str]]) -> dict[str, tuple[float, float, float]]:
    """Run the epochs turn by turn: per framework, seconds of training, seconds of
    evaluation and the test accuracy."""
    seconds = {name: {"train": 0.0, "test": 0.0} for name in epochs}
    results = {}
    while epochs:
        for name, epoch in list(epochs.items()):
            time.sleep(SETTLE_SECONDS)
            start = time.perf_counter()
            try:
                phase = next(epoch)
            except StopIteration as finished:
                results[name] = (seconds[name]["train"], seconds[name]["test"], finished.value)
                del epochs[name]
                continue
            seconds[name][phase] += time.perf_counter() - start
    return results


def ours(data, batch_norm: bool) -> Iterator[str]:  # noqa: ANN001
    tc.manual_seed(0)
    model = seed_cnn(batch_norm=batch_norm)
    return run_epoch(model, optim.SGD(model.parameters(), lr=0.05, momentum=0.9), F.cross_entropy, Tensor,
                     tc.no_grad, data)


def theirs(data, batch_norm: bool) -> Iterator[str]:  # noqa: ANN001
    import torch

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
    normalize = transforms.Compose([transforms.ToTensor(),
                                    transforms.Normalize((FashionMNIST.mean,), (FashionMNIST.std,))])
    train_set, test_set = FashionMNIST(train=True), FashionMNIST(train=False)
    x, y = normalize.batch(train_set.data), train_set.targets
    x_test, y_test = normalize.batch(test_set.data), test_set.targets
    order = np.random.default_rng(0).permutation(len(x))
    data = (x, y, x_test, y_test, order)
    epochs = {"ours": ours(data, args.batch_norm)}
    try:
        import torch
        torch.set_num_threads(args.threads)
        epochs["PyTorch"] = theirs(data, args.batch_norm)
    except ImportError:
        pass
    results = take_turns(epochs)
    print(f"one epoch of the seed CNN{' with BatchNorm' if args.batch_norm else ''}, {args.threads} threads:")
    for name, (train, test, accuracy) in results.items():
        print(f"  {name:8s} train {train:6.1f} s + test {test:4.1f} s = {train + test:6.1f} s "
              f"(test accuracy after one epoch {accuracy:.2%})")
    if "PyTorch" in results:
        total = {k: v[0] + v[1] for k, v in results.items()}
        print(f"  ratio ours / PyTorch: {total['ours'] / total['PyTorch']:.2f}")


if __name__ == "__main__":
    main()
