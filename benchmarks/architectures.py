"""Real CNN architectures, ours against PyTorch: training step and inference, batch 32 and 128.

    python benchmarks/architectures.py            # every architecture, batches 32 and 128
    python benchmarks/architectures.py --quick    # batch 32 only, fewer repeats

Each architecture is written once, in ``tinygrad_cnn/models``: our API is PyTorch's, so the
same module source is executed a second time with its imports pointed at ``torch`` and builds
the PyTorch model (weights copied over, so both compute the same function). Inputs are 32x32
(1 channel 28x28 for ResNet-20, as the main job) to keep a full run to a few minutes on 2 cores.
Timing as in ``bench.py``: both frameworks on the same threads, calls alternated, median.
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import types
from collections.abc import Callable
from pathlib import Path

from bench import framework_step, interleaved, keep_freed_memory

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import models, optim

MODELS = Path(models.__file__).parent
# name, source file, factory, input shape of one image, number of classes
ARCHITECTURES = [
    ("ResNet-20", "resnet.py", "resnet20", (1, 28, 28), 10),
    ("ResNet-18", "resnet.py", "resnet18", (3, 32, 32), 10),
    ("MobileNetV2", "mobilenet.py", "mobilenet_v2", (3, 32, 32), 10),
    ("DenseNet-121", "densenet.py", "densenet121", (3, 32, 32), 10),
    ("VGG-11", "vgg.py", "vgg11", (3, 32, 32), 10),
]
TORCH_IMPORTS = {
    "from .. import nn": "from torch import nn",
    "from .. import functional as F": "import torch.nn.functional as F",
    "from ..ops.join import cat": "from torch import cat",
    "from ..tensor import Tensor": "from torch import Tensor",
}


def torch_module(source_file: str) -> types.ModuleType:
    """The model module's own source, executed with its imports pointed at torch."""
    source = (MODELS / source_file).read_text()
    for ours, theirs in TORCH_IMPORTS.items():
        source = source.replace(ours, theirs)
    if "from .." in source:
        raise RuntimeError(f"{source_file}: an import this benchmark does not map to torch")
    module = types.ModuleType(f"torch_{source_file[:-3]}")
    exec(compile(source, str(MODELS / source_file), "exec"), module.__dict__)
    return module


def workloads(factory: str, source_file: str, shape: tuple[int, ...], classes: int, batch: int,
              train: bool) -> tuple[Callable[[], None], Callable[[], None] | None]:
    """One step of each framework on the same weights and batch (PyTorch's is None without torch)."""
    import numpy as np

    tc.manual_seed(0)
    ours = getattr(models, factory)(in_channels=shape[0], num_classes=classes)
    rng = np.random.default_rng(0)
    images = rng.standard_normal((batch, *shape)).astype(np.float32)
    labels = rng.integers(0, classes, batch)
    ours_step = framework_step(ours, tc.Tensor(images), tc.Tensor(labels),
                               optim.SGD(ours.parameters(), lr=0.01, momentum=0.9), F.cross_entropy, tc.no_grad, train)
    try:
        import torch
    except ImportError:
        return ours_step, None
    theirs = getattr(torch_module(source_file), factory)(in_channels=shape[0], num_classes=classes)
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()})
    return ours_step, framework_step(theirs, torch.from_numpy(images), torch.from_numpy(labels),
                                     torch.optim.SGD(theirs.parameters(), lr=0.01, momentum=0.9),
                                     torch.nn.functional.cross_entropy, torch.no_grad, train)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="batch 32 only, 3 repeats")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for both frameworks")
    parser.add_argument("--only", nargs="*", help="architecture names to run (default: all)")
    args = parser.parse_args()
    keep_freed_memory()
    tc.set_num_threads(args.threads)
    try:
        import torch
        torch.set_num_threads(args.threads)
        version = f"PyTorch {torch.__version__}"
    except ImportError:
        version = "PyTorch not installed: our times only"
    repeats = 3 if args.quick else 5
    print(f"Real architectures, {datetime.date.today()}, {os.cpu_count()} cores ({platform.machine()}), "
          f"{args.threads} threads, {version}; median of {repeats}\n")
    print("| architecture | input | batch | step | ours ms | PyTorch ms | ours / PyTorch |")
    print("|---|---|---:|---|---:|---:|---:|")
    ratios = []
    for name, source_file, factory, shape, classes in ARCHITECTURES:
        if args.only and name not in args.only:
            continue
        for batch in (32,) if args.quick else (32, 128):
            for train in (True, False):
                ours, theirs = workloads(factory, source_file, shape, classes, batch, train)
                a, b = interleaved(ours, theirs, repeats, warmup=1)
                ratio = f"{a / b:.2f}" if b else "-"
                if b:
                    ratios.append(a / b)
                print(f"| {name} | {'x'.join(map(str, shape))} | {batch} | {'train' if train else 'infer'} | "
                      f"{a * 1000:.0f} | {'-' if b is None else f'{b * 1000:.0f}'} | {ratio} |", flush=True)
    if ratios:
        ratios.sort()
        print(f"\nmedian ratio {ratios[len(ratios) // 2]:.2f}, largest {ratios[-1]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
