"""DataLoader throughput: worker processes against the main process, over a costly per-sample
transform (the case workers exist for), alternating the two settings run by run.

    python benchmarks/loader.py [--workers 2] [--samples 2048] [--runs 5]

Each run reads every batch of an epoch of Fashion-MNIST-sized images (28 x 28 uint8) through
ToTensor, an upscale to 96 x 96 with antialiasing, a random 88 x 88 crop with padding, a
flip and a downscale back to 28 x 28, sample by sample (a Lambda makes the pipeline take
no batches, as a user's own Python transform would). The figure is the median epoch time of
each setting and their ratio.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from tinygrad_cnn.data import ArrayDataset, transforms
from tinygrad_cnn.utils.data import DataLoader

COSTLY = transforms.Compose([
    transforms.ToTensor(),
    transforms.Resize((96, 96)),
    transforms.RandomCrop(88, padding=4),
    transforms.RandomHorizontalFlip(),
    transforms.Resize((28, 28)),
    transforms.Lambda(lambda x: x),  # a Python step of one's own: no batch form
])


def epoch_seconds(dataset: ArrayDataset, workers: int, batch_size: int) -> float:
    start = time.perf_counter()
    for _ in DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=workers):
        pass
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--samples", type=int, default=2048)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (args.samples, 28, 28), dtype=np.uint8)
    dataset = ArrayDataset(images, rng.integers(0, 10, args.samples), transform=COSTLY)
    times: dict[int, list[float]] = {0: [], args.workers: []}
    for run in range(args.runs):
        for workers in ((0, args.workers) if run % 2 == 0 else (args.workers, 0)):
            times[workers].append(epoch_seconds(dataset, workers, args.batch_size))
    single, parallel = statistics.median(times[0]), statistics.median(times[args.workers])
    print(f"{os.cpu_count()} cores, {args.samples} samples, batch {args.batch_size}, {args.runs} alternated runs")
    print(f"  num_workers=0: {single:.2f} s per epoch ({args.samples / single:.0f} samples/s)")
    print(f"  num_workers={args.workers}: {parallel:.2f} s per epoch ({args.samples / parallel:.0f} samples/s)")
    print(f"  speed-up: {single / parallel:.2f}x")


if __name__ == "__main__":
    main()
