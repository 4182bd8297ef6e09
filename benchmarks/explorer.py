"""The explorer: what recording costs, how long a page takes to write, and to open in Chromium.

    python benchmarks/explorer.py [--runs 5] [--models seed_cnn resnet20 densenet121]

For each model: one training step (batch 2, 32 x 32 colour or 28 x 28 grey) with and without
``visualize.record()``, alternated run by run (the medians and their ratio); the time
``to_html`` takes and the page's size; and the median time from navigation until Chromium
shows the first view (needs the browser extra and Debian's chromium). The goal for
DenseNet-121 (about 1,000 operations forward and backward) is a page that opens in under 2 s.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
import visualize
from tinygrad_cnn import models

MODELS = {
    "seed_cnn": (models.seed_cnn, (2, 1, 28, 28)),
    "resnet20": (models.resnet20, (2, 3, 32, 32)),
    "densenet121": (lambda: models.densenet121(num_classes=10), (2, 3, 32, 32)),
}


def step(model: tc.nn.Module, x: tc.Tensor, y: tc.Tensor) -> tc.Tensor:
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    return loss


def page_load_seconds(page_path: Path, runs: int) -> float | None:
    """Median seconds from navigation until the first view is drawn; None without a browser."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    executable = shutil.which("chromium")
    if executable is None:
        return None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        page = browser.new_page(viewport=dict(width=1280, height=800))
        times = []
        for _ in range(runs + 1):  # the first warms the browser up
            start = time.perf_counter()
            page.goto(page_path.as_uri())
            page.wait_for_selector("#canvas svg")
            times.append(time.perf_counter() - start)
            page.goto("about:blank")
        browser.close()
    return statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=sorted(MODELS))
    args = parser.parse_args()
    print(f"{'model':<12} {'step':>9} {'recorded':>9} {'ratio':>6} {'to_html':>8} {'page':>9} {'opens in':>9}")
    for name in args.models:
        factory, shape = MODELS[name]
        tc.manual_seed(0)
        model = factory()
        x, y = tc.randn(*shape), tc.tensor(np.arange(shape[0]) % 10)
        step(model, x, y)  # warm-up
        plain, recorded = [], []
        for _ in range(args.runs):
            start = time.perf_counter()
            step(model, x, y)
            plain.append(time.perf_counter() - start)
            start = time.perf_counter()
            with visualize.record() as recording:
                loss = step(model, x, y)
            recorded.append(time.perf_counter() - start)
        with tempfile.TemporaryDirectory() as directory:
            start = time.perf_counter()
            path = visualize.to_html(loss, Path(directory) / f"{name}.html", recording=recording)
            writing = time.perf_counter() - start
            size = path.stat().st_size
            opens = page_load_seconds(path, args.runs)
        a, b = statistics.median(plain), statistics.median(recorded)
        opened = "-" if opens is None else f"{opens * 1000:.0f} ms"
        print(f"{name:<12} {a * 1000:7.1f}ms {b * 1000:7.1f}ms {b / a:6.2f} {writing:7.2f}s "
              f"{size / 1e6:6.2f} MB {opened:>9}")


if __name__ == "__main__":
    main()
