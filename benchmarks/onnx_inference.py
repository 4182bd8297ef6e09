"""Seed-CNN inference: ours against onnxruntime running the model we export.

    python benchmarks/onnx_inference.py          # batch 128, 1 and 2 threads, without and with BatchNorm

The model is exported once per setting with ``tinygrad_cnn.onnx.export``; each thread count
runs in its own child process (both libraries read their thread settings at start-up), where
our eval-mode forward pass and ``InferenceSession.run`` alternate as in ``bench.py`` and the
median of the repeats is reported with the ratio ours / onnxruntime (below 1.0: we are faster).
onnxruntime's worker threads busy-wait between calls by default and would steal our cores, so
the alternated session has spinning off; a second session with the default spinning is timed
alone, for its best figure. The child also reports the largest difference of the two logits.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import THREADS, interleaved, keep_freed_memory

BATCH = 128
REPEATS = 15


def child(threads: int, batch_norm: bool, path: str) -> dict:
    """Median seconds of each side at one thread count (run in a fresh process)."""
    keep_freed_memory()
    import numpy as np
    import onnxruntime as ort

    import tinygrad_cnn as tc
    from tinygrad_cnn.models import seed_cnn

    tc.set_num_threads(threads)
    tc.manual_seed(0)
    model = seed_cnn(batch_norm=batch_norm).eval()
    tc.onnx.export(model, tc.randn(2, 1, 28, 28), path, input_names=["images"], output_names=["logits"])

    def session(spinning: bool) -> ort.InferenceSession:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.add_session_config_entry("session.intra_op.allow_spinning", str(int(spinning)))
        return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    images = np.random.default_rng(0).standard_normal((BATCH, 1, 28, 28)).astype(np.float32)
    x = tc.Tensor(images)

    def ours() -> None:
        with tc.no_grad():
            model(x)

    quiet, spinning = session(False), session(True)
    with tc.no_grad():
        difference = float(np.abs(model(x).numpy() - quiet.run(None, {"images": images})[0]).max())
    a, b = interleaved(ours, lambda: quiet.run(None, {"images": images}), REPEATS)
    alone, _ = interleaved(lambda: spinning.run(None, {"images": images}), None, REPEATS)
    return {"threads": threads, "batch_norm": batch_norm, "ours": a, "onnxruntime": b, "spinning_alone": alone,
            "max_difference": difference}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        threads, batch_norm, path = args.child
        print(json.dumps(child(int(threads), batch_norm == "1", path)))
        return 0
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        for batch_norm in (False, True):
            for threads in THREADS:
                env = dict(os.environ, OMP_NUM_THREADS=str(threads))
                command = [sys.executable, __file__, "--child", str(threads), str(int(batch_norm)),
                           str(Path(directory) / "seed.onnx")]
                result = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
                rows.append(json.loads(result.stdout.strip().splitlines()[-1]))
    import onnxruntime

    print(f"Seed-CNN inference at batch {BATCH}, {datetime.date.today()}, {os.cpu_count()} cores "
          f"({platform.processor() or platform.machine()}), onnxruntime {onnxruntime.__version__}; "
          f"median of {REPEATS}\n")
    print("| BatchNorm | threads | ours ms | onnxruntime ms | ours / onnxruntime | onnxruntime spinning, alone ms "
          "| max logit difference |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        ours, theirs = row["ours"], row["onnxruntime"]
        print(f"| {'yes' if row['batch_norm'] else 'no'} | {row['threads']} | {ours * 1000:.1f} | "
              f"{theirs * 1000:.1f} | {ours / theirs:.2f} | "
              f"{row['spinning_alone'] * 1000:.1f} | {row['max_difference']:.1e} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
