"""Compare the seed CNN's step times between two commits of this repository, alternating.

    python benchmarks/compare.py --base fc64588              # the working tree against a commit
    python benchmarks/compare.py --base HEAD~1 --runs 40
    python benchmarks/compare.py --base fc64588 --threads default --busy-core

Each side runs in its own worker process, importing tinygrad_cnn from its own tree (the
base commit is unpacked with ``git archive``). The controller asks the two workers for one
timed call at a time, alternating which goes first in each round and pausing 10 ms before
each call so neither side's threads are still spinning. For every case it reports both
medians, the median of the per-round ratios new / base and a distribution-free one-sided
95% upper bound on that median (an order statistic of the ratios: the sign test), so
"no slower beyond noise" means the bound is close to 1.

``--threads N`` calls ``tc.set_num_threads(N)`` on both sides; ``--threads default`` leaves
each commit's own default. ``--busy-core`` keeps one core busy with a spinning process, as
another job on the machine would. ``--separately`` times all of one side, then all of the
other, for settings where one side's idle threads would slow the other (BLAS workers that
busy-wait between calls).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = ("train", "train+BN", "eval+BN", "tiny-ops")  # tiny-ops: 1000 tiny operations, forward + backward

WORKER = r"""
import json, sys, time
sys.path[:0] = [sys.argv[1], sys.argv[4]]  # this side's tinygrad_cnn, then the benchmark helpers
import tinygrad_cnn as tc
from bench import ours_step, ours_tiny_ops

if sys.argv[2] != "default":
    tc.set_num_threads(int(sys.argv[2]))
tc.keep_freed_memory()
batch = int(sys.argv[3])
cases = {"train": ours_step(batch, False, True), "train+BN": ours_step(batch, True, True),
         "eval+BN": ours_step(batch, True, False), "tiny-ops": ours_tiny_ops(1000)}
print(json.dumps({"file": tc.__file__, "threads": tc.get_num_threads()}), flush=True)
for line in sys.stdin:
    run = cases[line.strip()]
    start = time.perf_counter()
    run()
    print(time.perf_counter() - start, flush=True)
"""


def unpack(commit: str, into: Path) -> Path:
    """The tree of ``commit`` as files under ``into``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], check=True, capture_output=True).stdout
    with tempfile.TemporaryFile() as file:
        file.write(archive)
        file.seek(0)
        with tarfile.open(fileobj=file) as tar:
            tar.extractall(into, filter="data")
    return into


class Worker:
    """A process that times one case of one tree per request."""

    def __init__(self, tree: Path, threads: str, batch: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(tree), threads, str(batch), str(ROOT / "benchmarks")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=tree)
        self.info = json.loads(self.process.stdout.readline())

    def time(self, case: str) -> float:
        time.sleep(0.01)
        self.process.stdin.write(case + "\n")
        self.process.stdin.flush()
        return float(self.process.stdout.readline())

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


def upper_bound_of_median(ratios: list[float], confidence: float = 0.95) -> float:
    """The smallest order statistic r_(k) with P(median <= r_(k)) >= confidence, for any
    continuous distribution: the number of ratios below the median is Binomial(n, 1/2)."""
    ordered, n = sorted(ratios), len(ratios)
    cumulative = 0.0
    for k in range(n):
        cumulative += math.comb(n, k) / 2 ** n
        if cumulative >= confidence:
            return ordered[k]
    return ordered[-1]


def time_cases(workers: dict[str, Worker], cases: list[str], runs: int, warmup: int) -> dict[str, dict[str, list]]:
    """{case: {side: seconds of each run}}; with two sides they alternate, taking turns to go first."""
    sides = list(workers)
    times = {case: {side: [] for side in sides} for case in cases}
    for case in cases:
        for worker in workers.values():
            for _ in range(warmup):
                worker.time(case)
        for r in range(runs):
            for side in sides if r % 2 == 0 else sides[::-1]:
                times[case][side].append(workers[side].time(case))
    return times


def spin() -> subprocess.Popen:
    """A process that keeps one core busy until killed."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="the commit to compare against")
    parser.add_argument("--new", default=None, help="the commit to compare (default: the working tree)")
    parser.add_argument("--runs", type=int, default=40, help="timed calls of each case on each side")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", default="2", help="an int, or 'default' for each commit's own default")
    parser.add_argument("--busy-core", action="store_true", help="keep one core busy meanwhile")
    parser.add_argument("--separately", action="store_true", help="time one side after the other")
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, from {', '.join(CASES)}")
    args = parser.parse_args()
    cases = args.cases.split(",")

    with tempfile.TemporaryDirectory() as scratch:
        base_tree = unpack(args.base, Path(scratch) / "base")
        new_tree = unpack(args.new, Path(scratch) / "new") if args.new else ROOT
        busy = spin() if args.busy_core else None
        trees = {"base": base_tree, "new": new_tree}
        groups = [[side] for side in trees] if args.separately else [list(trees)]
        times = {case: {} for case in cases}
        try:
            for group in groups:
                workers = {side: Worker(trees[side], args.threads, args.batch) for side in group}
                try:
                    for side, worker in workers.items():
                        print(f"{side}: {worker.info['file']} ({worker.info['threads']} threads)")
                    for case, by_side in time_cases(workers, cases, args.runs, args.warmup).items():
                        times[case].update(by_side)
                finally:
                    for worker in workers.values():
                        worker.close()
        finally:
            if busy is not None:
                busy.kill()

    print(f"\n{os.cpu_count()} cores, batch {args.batch}, threads {args.threads}"
          f"{', one core kept busy' if args.busy_core else ''}, {args.runs} "
          f"{'runs per side, one side after the other' if args.separately else 'alternated runs per side'}\n")
    print("| case | base ms (median) | new ms (median) | new / base (median of ratios) | 95% upper bound |")
    print("|---|---:|---:|---:|---:|")
    for case in cases:
        base, new = times[case]["base"], times[case]["new"]
        ratios = [n / b for b, n in zip(base, new)]
        print(f"| {case} | {1e3 * statistics.median(base):.1f} | {1e3 * statistics.median(new):.1f} | "
              f"{statistics.median(ratios):.3f} | {upper_bound_of_median(ratios):.3f} |")


if __name__ == "__main__":
    main()
