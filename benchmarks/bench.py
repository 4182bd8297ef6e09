"""Benchmark tinygrad_cnn against PyTorch on the CPU, side by side in one process.

    python benchmarks/bench.py                 # full table (a few minutes)
    python benchmarks/bench.py --quick         # fewer repeats and sizes
    python benchmarks/bench.py --markdown FILE # also write the tables as Markdown

Each thread count runs in its own child process (BLAS and PyTorch read their thread
settings at start-up); inside it, our step and PyTorch's alternate in blocks of three
back-to-back calls (as in a training loop), and the median of the calls is reported with the
ratio ours / PyTorch (below 1.0: we are faster); each block follows a pause longer than the
other framework's worker threads spin after their last call. Both run with
``tinygrad_cnn.keep_freed_memory()`` and ours with ``tinygrad_cnn.set_num_threads(threads)``,
as the main job does. Without torch installed only our figures are shown. Peak memory is the
growth of the resident set size over a few training steps, each framework in a fresh process
(Linux: /proc/self/statm).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

BATCHES = (32, 128, 256)
THREADS = (1, 2)


# --------------------------------------------------------------------------- workloads

def framework_step(model, x, y, optimizer, cross_entropy, no_grad, train: bool) -> Callable[[], None]:  # noqa: ANN001
    """One training step (or, with ``train`` off, one evaluation-mode forward pass) of either
    framework, given its model, batch, optimiser, loss and no-grad context."""
    if not train:
        model.eval()

        def infer() -> None:
            with no_grad():
                model(x)
        return infer

    def step() -> None:
        loss = cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return step


def ours_step(batch: int, batch_norm: bool, train: bool) -> Callable[[], None]:
    import numpy as np

    import tinygrad_cnn as tc
    import tinygrad_cnn.functional as F
    from tinygrad_cnn import Tensor, optim
    from tinygrad_cnn.models import seed_cnn

    tc.manual_seed(0)
    model = seed_cnn(batch_norm=batch_norm)
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((batch, 1, 28, 28)).astype(np.float32))
    y = Tensor(rng.integers(0, 10, batch))
    optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return framework_step(model, x, y, optimizer, F.cross_entropy, tc.no_grad, train)


def torch_seed_cnn(batch_norm: bool):  # noqa: ANN201  (a torch.nn.Sequential)
    """The seed CNN in PyTorch, layer for layer as ``tinygrad_cnn.models.seed_cnn``."""
    from torch import nn

    def block(c_in: int, c_out: int) -> list[nn.Module]:
        return [nn.Conv2d(c_in, c_out, 3), *([nn.BatchNorm2d(c_out)] if batch_norm else []), nn.ReLU(), nn.MaxPool2d(2)]

    return nn.Sequential(*block(1, 32), *block(32, 64), nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(),
                         nn.Linear(128, 10))


def _torch_step(batch: int, batch_norm: bool, train: bool) -> Callable[[], None]:
    import torch

    torch.manual_seed(0)
    model = torch_seed_cnn(batch_norm)
    x = torch.randn(batch, 1, 28, 28)
    y = torch.randint(0, 10, (batch,))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return framework_step(model, x, y, optimizer, torch.nn.functional.cross_entropy, torch.no_grad, train)



def _primitive_cases(F, leaf, activation, classes) -> dict[str, Callable[[], None]]:  # noqa: ANN001, N803
    """Forward + backward of each primitive at the seed CNN's shapes, for either framework:
    ``F`` is its functional module, ``leaf``/``activation`` make input tensors, ``classes``
    a batch of integer targets."""
    x1, w1, b1 = leaf(128, 1, 28, 28), leaf(32, 1, 3, 3), leaf(32)
    x2, w2, b2 = activation(128, 32, 13, 13), leaf(64, 32, 3, 3), leaf(64)
    p1, p2 = activation(128, 32, 26, 26), activation(128, 64, 11, 11)
    bn_x, bn_w, bn_b = activation(128, 32, 26, 26), leaf(32), leaf(32)
    logits, target = leaf(128, 10), classes(128)
    cases = {
        "conv2d 1->32 on 28x28": lambda: F.conv2d(x1, w1, b1),
        "conv2d 32->64 on 13x13": lambda: F.conv2d(x2, w2, b2),
        "max_pool2d 32x26x26": lambda: F.max_pool2d(p1, 2),
        "max_pool2d 64x11x11": lambda: F.max_pool2d(p2, 2),
        "batch_norm 32x26x26": lambda: F.batch_norm(bn_x, None, None, bn_w, bn_b, training=True),
        "cross_entropy 128x10": lambda: F.cross_entropy(logits, target),
    }
    return {name: _forward_backward(make) for name, make in cases.items()}


def _ours_primitives() -> dict[str, Callable[[], None]]:
    import numpy as np

    import tinygrad_cnn.functional as F
    from tinygrad_cnn import Tensor

    rng = np.random.default_rng(0)

    def leaf(*shape: int) -> Tensor:
        return Tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)

    def activation(n: int, c: int, h: int, w: int) -> Tensor:
        """An NCHW tensor in channels-last memory, as our convolutions produce them."""
        return Tensor(rng.standard_normal((n, h, w, c)).astype(np.float32).transpose(0, 3, 1, 2),
                      requires_grad=True)

    return _primitive_cases(F, leaf, activation, lambda n: Tensor(rng.integers(0, 10, n)))


def _forward_backward(make: Callable) -> Callable[[], None]:
    def run() -> None:
        out = make()
        out.backward(_ones_like(out))
    return run


def _ones_like(out):  # noqa: ANN001, ANN202  (either framework's tensor)
    if type(out).__module__.startswith("torch"):
        import torch
        return torch.ones_like(out)
    import numpy as np
    return np.ones_like(out._data)  # in the output's memory layout


def _torch_primitives() -> dict[str, Callable[[], None]]:
    import torch
    import torch.nn.functional as F

    torch.manual_seed(0)

    def leaf(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, requires_grad=True)

    def activation(*shape: int) -> torch.Tensor:
        return leaf(*shape)  # PyTorch's own layout: contiguous NCHW

    return _primitive_cases(F, leaf, activation, lambda n: torch.randint(0, 10, (n,)))


def ours_tiny_ops(count: int) -> Callable[[], None]:
    import numpy as np

    from tinygrad_cnn import Tensor

    x = Tensor(np.ones(4, dtype=np.float32), requires_grad=True)

    def run() -> None:
        y = x
        for _ in range(count // 2):
            y = y * 1.0001 + 0.5
        y.sum().backward()
    return run


def _torch_tiny_ops(count: int) -> Callable[[], None]:
    import torch

    x = torch.ones(4, requires_grad=True)

    def run() -> None:
        y = x
        for _ in range(count // 2):
            y = y * 1.0001 + 0.5
        y.sum().backward()
    return run


# --------------------------------------------------------------------------- timing

SETTLE_SECONDS = 0.05
BLOCK = 3


def _timed_block(run: Callable[[], None], calls: int) -> list[float]:
    """Seconds of each of ``calls`` back-to-back calls, as in a training loop, after a pause
    longer than the other framework's spinning: PyTorch's OpenMP workers busy-wait about 10 ms
    of CPU after each call (GOMP's default spin count; measured on this machine), and would
    steal a core from whatever runs next."""
    time.sleep(SETTLE_SECONDS)
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return times


def interleaved(ours: Callable[[], None], theirs: Callable[[], None] | None, repeats: int,
                warmup: int = 2, block: int = BLOCK) -> tuple[float, float | None]:
    """Median seconds per call of each over ``repeats`` calls, in alternating blocks of
    ``block`` back-to-back calls so both see the same machine state."""
    for _ in range(warmup):
        ours()
        if theirs:
            theirs()
    a: list[float] = []
    b: list[float] = []
    while len(a) < repeats:
        calls = min(block, repeats - len(a))
        a += _timed_block(ours, calls)
        if theirs:
            b += _timed_block(theirs, calls)
    median = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    return median(a), (median(b) if b else None)


def keep_freed_memory() -> None:
    """The main job's allocator setting, for the whole process (so for PyTorch too, whose CPU
    tensors also come from malloc)."""
    import tinygrad_cnn
    tinygrad_cnn.keep_freed_memory()


def _torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def child(threads: int, quick: bool) -> dict:
    """All timings at one thread count (run in a fresh process)."""
    keep_freed_memory()
    import tinygrad_cnn
    tinygrad_cnn.set_num_threads(threads)
    has_torch = _torch_available()
    if has_torch:
        import torch
        torch.set_num_threads(threads)
    repeats = 5 if quick else 15
    batches = (128,) if quick else BATCHES
    rows: dict[str, list] = {"train": [], "infer": [], "primitives": [], "overhead": []}
    for batch_norm in (False, True):
        for batch in batches:
            for kind, train in (("train", True), ("infer", False)):
                ours = ours_step(batch, batch_norm, train)
                theirs = _torch_step(batch, batch_norm, train) if has_torch else None
                a, b = interleaved(ours, theirs, repeats)
                rows[kind].append({"batch_norm": batch_norm, "batch": batch, "ours": a, "torch": b})
    ours_p = _ours_primitives()
    theirs_p = _torch_primitives() if has_torch else {}
    for name, run in ours_p.items():
        a, b = interleaved(run, theirs_p.get(name), repeats)
        rows["primitives"].append({"name": name, "ours": a, "torch": b})
    count = 1000
    theirs = _torch_tiny_ops(count) if has_torch else None
    a, b = interleaved(ours_tiny_ops(count), theirs, 3 * repeats)  # 10 ms calls: the noisiest row
    rows["overhead"].append({"name": f"{count} tiny ops, forward+backward", "ours": a, "torch": b, "ops": count})
    return rows


def _resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def memory_child(framework: str, batch_norm: bool, batch: int) -> dict:
    """Peak growth of the resident set over three training steps of the seed CNN, sampled
    every half millisecond from a second thread (both frameworks release the GIL in their
    kernels)."""
    import threading
    keep_freed_memory()
    if framework == "ours":
        import tinygrad_cnn
        tinygrad_cnn.set_num_threads(2)
    make = ours_step if framework == "ours" else _torch_step
    step = make(batch, batch_norm, True)
    baseline = peak = _resident_bytes()
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _resident_bytes())
            time.sleep(0.0005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    for _ in range(3):
        step()
    done.set()
    sampler.join()
    return {"peak_mib": (max(peak, _resident_bytes()) - baseline) / 2 ** 20}


def _run_child(args: list[str], threads: int) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    result = subprocess.run([sys.executable, __file__, *args], env=env, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- report

def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f}"


def _ratio(ours: float, theirs: float | None) -> str:
    return "-" if theirs is None else f"{ours / theirs:.2f}"


def report(results: dict[int, dict], memory: list[dict], quick: bool) -> str:
    import numpy

    versions = f"numpy {numpy.__version__}"
    if _torch_available():
        import torch
        versions += f", torch {torch.__version__}"
    lines = [f"Date {datetime.date.today()}, {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
             f"Python {platform.python_version()}, {versions}{' (quick run)' if quick else ''}", ""]
    for kind, title in (("train", "Training step (forward + backward + SGD), seed CNN"),
                        ("infer", "Inference (forward only, eval mode), seed CNN")):
        lines += [f"### {title}", "", "| BatchNorm | batch | threads | ours ms | PyTorch ms | ours / PyTorch |",
                  "|---|---:|---:|---:|---:|---:|"]
        for threads, rows in results.items():
            for r in rows[kind]:
                lines.append(f"| {'yes' if r['batch_norm'] else 'no'} | {r['batch']} | {threads} | {_ms(r['ours'])} | "
                             f"{_ms(r['torch'])} | {_ratio(r['ours'], r['torch'])} |")
        lines.append("")
    lines += ["### Primitives, forward + backward, seed shapes (batch 128)", "",
              "| primitive | threads | ours ms | PyTorch ms | ours / PyTorch |", "|---|---:|---:|---:|---:|"]
    for threads, rows in results.items():
        for r in rows["primitives"]:
            lines.append(f"| {r['name']} | {threads} | {_ms(r['ours'])} | {_ms(r['torch'])} | "
                         f"{_ratio(r['ours'], r['torch'])} |")
    lines += ["", "### Framework overhead", "",
              "| graph | threads | ours ms | PyTorch ms | ours µs/op | ours / PyTorch |",
              "|---|---:|---:|---:|---:|---:|"]
    for threads, rows in results.items():
        for r in rows["overhead"]:
            lines.append(f"| {r['name']} | {threads} | {_ms(r['ours'])} | {_ms(r['torch'])} | "
                         f"{r['ours'] / r['ops'] * 1e6:.1f} | {_ratio(r['ours'], r['torch'])} |")
    if memory:
        lines += ["", "### Peak memory of a training step (resident-set growth, batch 128)", "",
                  "| BatchNorm | ours MiB | PyTorch MiB | ours / PyTorch |", "|---|---:|---:|---:|"]
        for m in memory:
            theirs = m.get("torch")
            theirs_text = "-" if theirs is None else f"{theirs:.0f}"
            lines.append(f"| {'yes' if m['batch_norm'] else 'no'} | {m['ours']:.0f} | {theirs_text} | "
                         f"{_ratio(m['ours'], theirs)} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="batch 128 only, fewer repeats")
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--memory", nargs=3, metavar=("FRAMEWORK", "BATCH_NORM", "BATCH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.quick)))
        return 0
    if args.memory is not None:
        framework, batch_norm, batch = args.memory
        print(json.dumps(memory_child(framework, batch_norm == "1", int(batch))))
        return 0
    results = {t: _run_child(["--child", str(t)] + (["--quick"] if args.quick else []), t) for t in THREADS}
    memory = []
    for batch_norm in (False, True):
        row = {"batch_norm": batch_norm,
               "ours": _run_child(["--memory", "ours", str(int(batch_norm)), "128"], 2)["peak_mib"]}
        if _torch_available():
            row["torch"] = _run_child(["--memory", "torch", str(int(batch_norm)), "128"], 2)["peak_mib"]
        memory.append(row)
    text = report(results, memory, args.quick)
    print(text)
    if args.markdown:
        args.markdown.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
