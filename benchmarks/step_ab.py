"""One training step of two commits, each timed in fresh processes taking turns.

    python benchmarks/step_ab.py --base 0f0f9f8                    # seed CNN, batch 128
    python benchmarks/step_ab.py --base 0f0f9f8 --model densenet121 --rounds 3

Each round starts one process per side and one more for the base (the noise floor: the base
against itself), in a rotating order; a process times ``--steps`` training steps after a
warm-up and prints their median. The table gives the median over rounds and its ratio to
the base's. On a machine whose timings drift within a long-lived process (``compare.py``'s
floor ranged 0.90-1.02 on 2026-12-03), this floor stayed within 1 %.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from compare import ROOT, unpack

STEP = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np
import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import models, optim

name, batch, steps = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
tc.keep_freed_memory()
tc.set_num_threads(2)
tc.manual_seed(0)
if name.startswith("seed"):
    model, shape = models.seed_cnn(batch_norm=name == "seed-bn"), (1, 28, 28)
else:
    model = getattr(models, name)(in_channels=1 if name == "resnet20" else 3, num_classes=10)
    shape = (1, 28, 28) if name == "resnet20" else (3, 32, 32)
rng = np.random.default_rng(0)
x = tc.tensor(rng.standard_normal((batch, *shape)).astype(np.float32))
y = tc.tensor(rng.integers(0, 10, batch))
optimizer = optim.SGD(model.parameters(), lr=0.01)
times = []
for i in range(steps + 5):
    start = time.perf_counter()
    optimizer.zero_grad()
    F.cross_entropy(model(x), y).backward()
    optimizer.step()
    if i >= 5:
        times.append(time.perf_counter() - start)
print(np.median(times))
"""


def step_time(tree: Path, args: argparse.Namespace) -> float:
    done = subprocess.run([sys.executable, "-c", STEP, str(tree), args.model, str(args.batch), str(args.steps)],
                          capture_output=True, text=True, check=True, cwd=tree)
    return float(done.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="the commit to compare against")
    parser.add_argument("--new", default=None, help="the commit to compare (default: the working tree)")
    parser.add_argument("--model", default="seed", help="seed, seed-bn, or a factory of tinygrad_cnn.models")
    parser.add_argument("--batch", type=int, default=None, help="default: 128 for the seed CNN, else 32")
    parser.add_argument("--steps", type=int, default=35, help="timed steps in each process")
    parser.add_argument("--rounds", type=int, default=12)
    args = parser.parse_args()
    args.batch = args.batch or (128 if args.model.startswith("seed") else 32)
    with tempfile.TemporaryDirectory() as scratch:
        base = unpack(args.base, Path(scratch) / "base")
        sides = {"base": base, "base again (floor)": base,
                 "new": unpack(args.new, Path(scratch) / "new") if args.new else ROOT}
        times: dict[str, list[float]] = {side: [] for side in sides}
        names = list(sides)
        for r in range(args.rounds):
            for side in names[r % len(names):] + names[:r % len(names)]:
                times[side].append(step_time(sides[side], args))
    reference = statistics.median(times["base"])
    print(f"{args.model}, batch {args.batch}, {args.rounds} rounds of fresh processes, "
          f"median of {args.steps} steps each\n")
    print("| side | ms (median over rounds) | ratio to base |")
    print("|---|---:|---:|")
    for side, values in times.items():
        print(f"| {side} | {1e3 * statistics.median(values):.2f} | {statistics.median(values) / reference:.3f} |")


if __name__ == "__main__":
    main()
