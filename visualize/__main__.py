"""Render a model's training graph: ``python -m visualize [options]``.

Without ``--model`` it draws the seed CNN (forward, cross-entropy loss and backward on a
small random batch, so gradient norms show). ``--model package.module:factory`` draws your
own: the factory is called with no arguments and must return an ``nn.Module``. ``--html PAGE``
writes the interactive explorer of the same step instead (``visualize.to_html``).
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, nn
from tinygrad_cnn.models import seed_cnn

from .explorer import to_html
from .graph import draw_graph
from .output import FORMATS, GraphvizNotFoundError, save
from .recording import record


def load_factory(spec: str) -> nn.Module:
    """``module:callable`` -> the Module the callable returns."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise SystemExit(f"--model must look like package.module:callable, got {spec!r}")
    sys.path.insert(0, str(Path.cwd()))
    factory = getattr(importlib.import_module(module_name), attribute)
    model = factory()
    if not isinstance(model, nn.Module):
        raise SystemExit(f"--model {spec} returned a {type(model).__name__}, not an nn.Module")
    return model


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m visualize", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="package.module:callable returning an nn.Module (default: the seed CNN)")
    parser.add_argument("--batch-norm", action="store_true", help="the seed CNN with BatchNorm2d")
    parser.add_argument("--input-shape", default="2,1,28,28", help="comma-separated input shape")
    parser.add_argument("--classes", type=int, default=10, help="number of classes for the loss")
    parser.add_argument("--out", type=Path, default=Path("seed_cnn.svg"), help=f"output file ({', '.join(FORMATS)})")
    parser.add_argument("--collapse", action="store_true", help="one node per top-level module")
    parser.add_argument("--depth", type=int, default=None,
                        help="draw each module nested DEPTH levels down as one node (1: the model's children)")
    parser.add_argument("--no-clusters", action="store_true", help="do not box nodes by module")
    parser.add_argument("--no-backward", action="store_true", help="draw the forward graph only")
    parser.add_argument("--saved", action="store_true", help="show what each operation saves for backward")
    parser.add_argument("--tensors", action="store_true", help="draw intermediate tensors as nodes (shape, dtype)")
    parser.add_argument("--rankdir", choices=("TB", "LR"), default="TB")
    parser.add_argument("--html", type=Path, default=None, metavar="PAGE",
                        help="write the interactive explorer of the step (values and gradients recorded) to PAGE "
                             "instead of a picture")
    args = parser.parse_args(argv)

    tc.manual_seed(0)
    model = load_factory(args.model) if args.model else seed_cnn(batch_norm=args.batch_norm)
    shape = tuple(int(n) for n in args.input_shape.split(","))
    x = Tensor(np.random.default_rng(0).standard_normal(shape).astype(np.float32))
    name = args.model or f"seed CNN{' with BatchNorm' if args.batch_norm else ''}"
    with record() if args.html else contextlib.nullcontext() as recording:
        logits = model(x)
        output = logits
        if logits.ndim == 2:
            target = Tensor(np.arange(shape[0]) % args.classes)
            output = F.cross_entropy(logits, target)
            if not args.no_backward:
                output.backward(retain_graph=True)
    title = f"{name}: training graph for input {'×'.join(map(str, shape))}"
    try:
        if args.html is not None:
            path = to_html(output, args.html, recording=recording, rankdir=args.rankdir, title=title)
        else:
            path = save(draw_graph(output, cluster_modules=not args.no_clusters, collapse_modules=args.collapse,
                                   depth=args.depth, show_saved=args.saved, tensor_nodes=args.tensors,
                                   rankdir=args.rankdir, title=title), args.out)
    except GraphvizNotFoundError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
