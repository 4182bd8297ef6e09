"""The main job: train the seed CNN (or ``--model lenet5`` / ``resnet20``) on Fashion-MNIST.

    python -m tinygrad_cnn.train                 # defaults reach > 91% test accuracy
    python -m tinygrad_cnn.train --resume        # carry on from runs/fashion-mnist/checkpoint.npz
    python -m tinygrad_cnn.train --graph-html    # also runs/fashion-mnist/graph.html: the first step, explorable

Shows a progress bar (loss, accuracy, samples/s), evaluates on the test set after every
epoch, appends metrics to metrics.jsonl, keeps checkpoint.npz (model, optimiser, scheduler,
position in the epoch and random state, so a resumed run continues exactly) and best.npz
(the model with the best test accuracy), and plots metrics.png when matplotlib is
installed. Ctrl-C at any moment leaves a valid checkpoint and exits with status 130;
``--resume`` continues from it (re-running an evaluation that Ctrl-C cut short) and refuses
settings that differ from the run's own, except ``--epochs``: a longer run re-plans the
learning-rate schedule for the new total.
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import models, nn, optim
from tinygrad_cnn.data import FashionMNIST, transforms
from tinygrad_cnn.random import generator, get_rng_state, set_rng_state
from tinygrad_cnn.serialization import to_python, write_atomically
from tinygrad_cnn.utils.data import DataLoader

CHECKPOINT, BEST, METRICS, PLOT, ONNX = "checkpoint.npz", "best.npz", "metrics.jsonl", "metrics.png", "model.onnx"
GRAPH_HTML = "graph.html"
TENSORBOARD = "tensorboard"


# The settings that define a run: a resumed run must keep them (--epochs may grow).
RUN_SETTINGS = ("model", "batch_size", "lr", "optimizer", "momentum", "weight_decay", "schedule", "batch_norm",
                "seed", "limit_batches")
DATA = "Fashion-MNIST"
# the loaders draw their workers' base seed from a generator of their own: each new iterator
# would otherwise take a draw from the shared one, and a resumed run would diverge from an
# uninterrupted one
LOADER_SEEDS = tc.Generator()
MODELS = {  # the models that suit 28x28 grey images; --batch-norm applies to the seed CNN
    "seed_cnn": lambda batch_norm: models.seed_cnn(batch_norm=batch_norm),
    "lenet5": lambda batch_norm: models.lenet5(in_channels=1, num_classes=10),
    "resnet20": lambda batch_norm: models.resnet20(in_channels=1, num_classes=10),
}


def _number(kind: type, low: float, inclusive: bool = True):  # noqa: ANN202  (an argparse type)
    """An argparse type: a ``kind`` number at least ``low`` (or above it)."""
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, "
                                             f"got {text!r}") from None
        if not (value >= low if inclusive else value > low) or value != value:
            raise argparse.ArgumentTypeError(f"must be {'at least' if inclusive else 'above'} {low}, got {text}")
        return value
    return parse


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tinygrad_cnn.train", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--epochs", type=_number(int, 1), default=10)
    parser.add_argument("--batch-size", type=_number(int, 1), default=128)
    parser.add_argument("--lr", type=_number(float, 0, inclusive=False), default=0.05, help="initial learning rate")
    parser.add_argument("--optimizer", choices=("sgd", "adam", "adamw"), default="sgd")
    parser.add_argument("--momentum", type=_number(float, 0), default=0.9, help="SGD momentum")
    parser.add_argument("--weight-decay", type=_number(float, 0), default=5e-4)
    parser.add_argument("--schedule", choices=("cosine", "step", "constant"), default="cosine",
                        help="learning-rate schedule over the epochs")
    parser.add_argument("--model", choices=sorted(MODELS), default="seed_cnn",
                        help="the network: the seed CNN, LeNet-5 or the CIFAR-style ResNet-20")
    parser.add_argument("--batch-norm", action=argparse.BooleanOptionalAction, default=False,
                        help="BatchNorm2d after each convolution of the seed CNN")
    parser.add_argument("--seed", type=_number(int, 0), default=0)
    parser.add_argument("--threads", type=_number(int, 1), default=tc.get_num_threads(),
                        help="cores to compute on (default: the cores available, or OMP_NUM_THREADS)")
    parser.add_argument("--tensorboard", action="store_true",
                        help=f"log losses, accuracies, the lr, weight histograms and the graph to OUT/{TENSORBOARD} "
                             "(needs the tensorboard extra)")
    parser.add_argument("--graph-html", nargs="?", const="", default=None, metavar="PATH",
                        help=f"write the explorer of the first training step (its graph, values and gradients) "
                             f"to PATH (default OUT/{GRAPH_HTML}): open it in a browser")
    parser.add_argument("--workers", type=_number(int, 0), default=0,
                        help="DataLoader worker processes (0: read batches in the training process)")
    parser.add_argument("--data-root", default=None, help="directory with the Fashion-MNIST IDX files")
    parser.add_argument("--download", action="store_true", help="download the data if it is not found")
    parser.add_argument("--out", type=Path, default=Path("runs/fashion-mnist"), help="output directory")
    parser.add_argument("--resume", action="store_true", help=f"continue from OUT/{CHECKPOINT}")
    parser.add_argument("--export-onnx", action="store_true",
                        help=f"at the end, write OUT/{ONNX} from OUT/{BEST} (needs the onnx extra)")
    parser.add_argument("--limit-batches", type=_number(int, 1), default=None,
                        help="train on at most this many batches per epoch (quick checks)")
    return parser.parse_args(argv)


def run_settings(args: argparse.Namespace) -> dict[str, Any]:
    """What defines this run, as stored in its checkpoint."""
    return {"data": DATA, **{name: getattr(args, name) for name in RUN_SETTINGS}}


def build_optimizer(args: argparse.Namespace, model: nn.Module) -> tuple[optim.Optimizer, Any]:
    params = list(model.parameters())
    if args.optimizer == "sgd":
        optimizer = optim.SGD(params, args.lr, momentum=args.momentum, weight_decay=args.weight_decay)
    elif args.optimizer == "adam":
        optimizer = optim.Adam(params, args.lr, weight_decay=args.weight_decay)
    else:
        optimizer = optim.AdamW(params, args.lr, weight_decay=args.weight_decay)
    schedulers = {
        "cosine": lambda: optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs),
        "step": lambda: optim.lr_scheduler.StepLR(optimizer, step_size=max(args.epochs // 3, 1)),
        "constant": lambda: None,
    }
    return optimizer, schedulers[args.schedule]()


@dataclass
class Progress:
    """Where training stands: enough to resume mid-epoch exactly."""

    epoch: int = 0          # epochs completed
    batch: int = 0          # batches completed in the current epoch
    order: np.ndarray | None = None  # the current epoch's example order
    loss_sum: float = 0.0
    correct: int = 0
    seen: int = 0
    train_seconds: float = 0.0
    best_accuracy: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Progress:
        values = to_python(values)
        return cls(**{k: v for k, v in values.items() if k in cls.__dataclass_fields__})


def save_checkpoint(path: Path, model: nn.Module, optimizer: optim.Optimizer, scheduler: Any,
                    progress: Progress, args: argparse.Namespace) -> None:
    state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
             "progress": progress.as_dict(), "rng": json.dumps(get_rng_state()),
             "settings": json.dumps(run_settings(args)), "epochs": args.epochs}
    if scheduler is not None:
        state["scheduler"] = scheduler.state_dict()
    tc.save(state, path)


class CheckpointError(ValueError):
    """A checkpoint that cannot be resumed: damaged, incomplete, or from a different run."""


def load_checkpoint(path: Path, model: nn.Module, optimizer: optim.Optimizer, scheduler: Any,
                    args: argparse.Namespace) -> Progress:
    """Restore a run from ``path``; ``CheckpointError`` says what is wrong and what to do."""
    try:
        state = tc.load(path)
    except ValueError as error:
        raise CheckpointError(f"{error}. It cannot be resumed: delete it to start the run over "
                              "(best.npz still holds the best model so far)") from None
    missing = [key for key in ("model", "optimizer", "progress", "rng", "settings") if key not in state]
    if missing:
        raise CheckpointError(f"{path} lacks {', '.join(missing)}: it was not written by this job (or by an "
                              "older version); delete it to start over")
    saved = json.loads(str(state["settings"]))
    differences = [f"--{name.replace('_', '-')}: the checkpoint has {saved.get(name)!r}, this run {value!r}"
                   for name, value in run_settings(args).items() if saved.get(name) != value]
    if differences:
        raise CheckpointError(f"{path} belongs to a run with other settings; resume with the same settings "
                              f"(only --epochs may change) or use another --out:\n  " + "\n  ".join(differences))
    try:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        progress = Progress.from_dict(state["progress"])
        set_rng_state(json.loads(str(state["rng"])))
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(f"{path} is inconsistent ({error}); delete it to start over") from None
    if scheduler is not None and "scheduler" in state:
        continue_schedule(scheduler, int(to_python(state["scheduler"])["last_epoch"]), progress.batch == 0)
    return progress


def continue_schedule(scheduler: Any, last_epoch: int, at_epoch_start: bool) -> None:
    """Put ``scheduler`` (built for this run's --epochs) at ``last_epoch``. At an epoch boundary
    the coming epoch takes the schedule's lr; mid-epoch the epoch keeps the lr it started with
    (restored with the optimiser). Either way every later epoch gets the lr a fresh run with
    this many epochs would use, so extending a finished run re-plans its schedule."""
    scheduler.last_epoch = last_epoch
    if at_epoch_start:
        for group, base in zip(scheduler.optimizer.param_groups, scheduler.base_lrs):
            group["lr"] = scheduler.lr_at(base, last_epoch)


@tc.no_grad()
def evaluate(model: nn.Module, loader: DataLoader, stop: StopRequest | None = None) -> tuple[float, float] | None:
    """Mean loss and accuracy over a whole data set, in evaluation mode; None when Ctrl-C
    stopped it (it is read-only, so it simply runs again on resume)."""
    model.eval()
    loss_sum, correct, seen = 0.0, 0, 0
    try:
        for images, labels in loader:
            logits = model(images)
            loss_sum += F.cross_entropy(logits, labels, reduction="sum").item()
            correct += int((logits.argmax(1).numpy() == labels.numpy()).sum())
            seen += len(labels)
            if stop is not None and stop.requested:
                return None
    finally:
        model.train()
    return loss_sum / seen, correct / seen


def read_metrics(path: Path, up_to_epoch: int) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [row for row in rows if row["epoch"] <= up_to_epoch]


def write_metrics(path: Path, rows: list[dict[str, Any]]) -> None:
    text = "".join(json.dumps(row) + "\n" for row in rows)
    write_atomically(path, lambda file: file.write(text.encode()))


def plot_metrics(rows: list[dict[str, Any]], path: Path) -> bool:
    """Loss and accuracy curves as a PNG; False when matplotlib is not installed."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    epochs = [row["epoch"] for row in rows]
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(epochs, [r["train_loss"] for r in rows], "o-", label="train")
    left.plot(epochs, [r["test_loss"] for r in rows], "o-", label="test")
    left.set(xlabel="epoch", ylabel="cross-entropy loss", title="Loss")
    right.plot(epochs, [100 * r["train_accuracy"] for r in rows], "o-", label="train")
    right.plot(epochs, [100 * r["test_accuracy"] for r in rows], "o-", label="test")
    right.set(xlabel="epoch", ylabel="accuracy (%)", title="Accuracy")
    for axes in (left, right):
        axes.grid(alpha=0.3)
        axes.legend()
    figure.tight_layout()
    write_atomically(path, lambda file: figure.savefig(file, format="png", dpi=100))
    plt.close(figure)
    return True


class StopRequest:
    """Ctrl-C sets a flag that the loop reads between steps, so a checkpoint is never taken
    in the middle of an update; a second Ctrl-C interrupts at once."""

    def __init__(self) -> None:
        self.requested = False
        self.pressed = False  # read once, after the epoch's files are written

    def __enter__(self) -> StopRequest:
        self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        signal.signal(signal.SIGINT, self._previous)

    def _handle(self, signum: int, frame: Any) -> None:
        if self.pressed:
            raise KeyboardInterrupt
        self.requested = self.pressed = True


def open_board(directory: Path, model: nn.Module, test_set: FashionMNIST) -> Any:
    """A SummaryWriter for ``--tensorboard``, holding the model's graph."""
    from tinygrad_cnn.utils.tensorboard import SummaryWriter

    board = SummaryWriter(str(directory))
    images, _ = next(iter(DataLoader(test_set, batch_size=2)))
    board.add_graph(model, images)
    return board


def log_epoch(board: Any, model: nn.Module, row: dict[str, Any]) -> None:
    """An epoch's losses, accuracies and learning rate, and every parameter's histogram."""
    step = row["epoch"]
    for split in ("train", "test"):
        board.add_scalar(f"loss/{split}", row[f"{split}_loss"], step)
        board.add_scalar(f"accuracy/{split}", row[f"{split}_accuracy"], step)
    board.add_scalar("learning_rate", row["lr"], step)
    for name, parameter in model.named_parameters():
        board.add_histogram(f"weights/{name}", parameter, step)
        if parameter.grad is not None:
            board.add_histogram(f"gradients/{name}", parameter.grad, step)
    board.flush()


def epoch_loader(train_set: FashionMNIST, progress: Progress, batch_size: int, workers: int) -> DataLoader:
    """The rest of the epoch's batches: its order from ``progress.batch`` on, so a resumed run
    reads exactly the batches the interrupted one had not."""
    remaining = progress.order[progress.batch * batch_size:].tolist()
    return DataLoader(train_set, batch_size, sampler=remaining, num_workers=workers, generator=LOADER_SEEDS)


def explored_step(model: nn.Module, optimizer: optim.Optimizer, images: tc.Tensor, labels: tc.Tensor,
                  path: Path) -> tuple[tc.Tensor, tc.Tensor]:
    """Forward and backward of one step, recorded, with its explorer written to ``path`` (``--graph-html``)."""
    import visualize

    with visualize.record() as recording:
        logits = model(images)
        loss = F.cross_entropy(logits, labels)
        optimizer.zero_grad()
        loss.backward()
    visualize.to_html(loss, path, recording=recording, params=dict(model.named_parameters()),
                      title=f"{type(model).__name__}: one training step")
    tqdm.write(f"wrote the explorer of this training step to {path}")
    return logits, loss


def train_epoch(model: nn.Module, optimizer: optim.Optimizer, loader: DataLoader, progress: Progress,
                batches: int, epochs: int, limit: int | None, stop: StopRequest, explore: Path | None = None) -> bool:
    """Train from ``progress.batch`` to the end of the epoch (``batches`` long), updating
    ``progress`` as it goes; with ``explore``, the first step's explorer is written there.
    Returns False when stopped early by Ctrl-C."""
    total = batches if limit is None else min(limit, batches)
    bar = tqdm(total=total, initial=progress.batch, desc=f"epoch {progress.epoch + 1}/{epochs}",
               unit="batch", dynamic_ncols=True, file=sys.stdout, disable=None)
    start = time.perf_counter()
    seen_at_start = progress.seen
    try:
        for images, labels in loader:
            if progress.batch >= total:
                break
            if explore is not None:
                logits, loss = explored_step(model, optimizer, images, labels, explore)
                explore = None
            else:
                logits = model(images)
                loss = F.cross_entropy(logits, labels)
                optimizer.zero_grad()
                loss.backward()
            optimizer.step()
            progress.batch += 1
            progress.loss_sum += loss.item() * len(labels)
            progress.correct += int((logits._data.argmax(1) == labels._data).sum())
            progress.seen += len(labels)
            elapsed = time.perf_counter() - start
            bar.set_postfix(loss=f"{progress.loss_sum / progress.seen:.4f}",
                            acc=f"{100 * progress.correct / progress.seen:.2f}%",
                            samples_per_s=f"{(progress.seen - seen_at_start) / elapsed:.0f}", refresh=False)
            bar.update()
            if stop.requested:
                return False
        return True
    finally:
        progress.train_seconds += time.perf_counter() - start
        bar.close()


def export_onnx(model: nn.Module, out: Path) -> int:
    """Write the best model (best.npz) as OUT/model.onnx, for onnxruntime and other engines."""
    try:
        from tinygrad_cnn.onnx import export
    except ImportError as error:
        print(f"--export-onnx: {error}", file=sys.stderr)
        return 2
    if not (out / BEST).exists():
        print(f"--export-onnx: no {out / BEST} to export yet", file=sys.stderr)
        return 2
    model.load_state_dict(tc.load(out / BEST))
    export(model, tc.zeros(2, 1, 28, 28), out / ONNX, input_names=["images"], output_names=["logits"])
    print(f"exported {out / BEST} to {out / ONNX} (input 'images' N x 1 x 28 x 28 normalised as in training, "
          "output 'logits')")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except KeyboardInterrupt:  # a second Ctrl-C, or one before training started
        print(f"\ninterrupted: stopped at once; {args.out / CHECKPOINT} holds the last saved state "
              "(if any); continue with --resume", file=sys.stderr)
        return 130


def run(args: argparse.Namespace) -> int:
    tc.keep_freed_memory()  # reuse the memory of one step in the next (see allocator.py)
    tc.set_num_threads(args.threads)
    tc.manual_seed(args.seed)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    normalize = transforms.Compose([transforms.ToTensor(),
                                    transforms.Normalize((FashionMNIST.mean,), (FashionMNIST.std,))])
    try:
        train_set = FashionMNIST(args.data_root, train=True, transform=normalize, download=args.download)
        test_set = FashionMNIST(args.data_root, train=False, transform=normalize, download=args.download)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 2
    batches = -(-len(train_set) // args.batch_size)
    test_loader = DataLoader(test_set, 1000, num_workers=args.workers, generator=LOADER_SEEDS)
    model = MODELS[args.model](args.batch_norm)
    optimizer, scheduler = build_optimizer(args, model)

    progress = Progress()
    if args.resume:
        if not (out / CHECKPOINT).exists():
            print(f"--resume: no checkpoint at {out / CHECKPOINT}", file=sys.stderr)
            return 2
        try:
            progress = load_checkpoint(out / CHECKPOINT, model, optimizer, scheduler, args)
        except CheckpointError as error:
            print(f"--resume: {error}", file=sys.stderr)
            return 2
        print(f"resumed from {out / CHECKPOINT}: epoch {progress.epoch + 1}, batch {progress.batch}")
    metrics = read_metrics(out / METRICS, progress.epoch)
    print(f"data: {train_set.root} ({len(train_set)} train, {len(test_set)} test images)")
    print(f"model: {model.num_parameters():,} parameters; optimiser {args.optimizer} lr={args.lr}; "
          f"{args.epochs} epochs of {batches} batches")

    board = open_board(out / TENSORBOARD, model, test_set) if args.tensorboard else None
    explore = None if args.graph_html is None else Path(args.graph_html) if args.graph_html else out / GRAPH_HTML
    while progress.epoch < args.epochs:
        if progress.order is None:
            progress.order = generator().permutation(len(train_set))
        with StopRequest() as stop:
            loader = epoch_loader(train_set, progress, args.batch_size, args.workers)
            finished = train_epoch(model, optimizer, loader, progress, batches, args.epochs, args.limit_batches, stop,
                                   explore)
            explore = None
            evaluation_start = time.perf_counter()
            result = evaluate(model, test_loader, stop) if finished else None
            if result is None:  # Ctrl-C: in training, or in the evaluation that --resume re-runs
                save_checkpoint(out / CHECKPOINT, model, optimizer, scheduler, progress, args)
                print(f"interrupted: checkpoint saved to {out / CHECKPOINT} "
                      f"(epoch {progress.epoch + 1}, batch {progress.batch}); continue with --resume")
                return 130
            test_loss, test_accuracy = result
            row = {"epoch": progress.epoch + 1, "train_loss": progress.loss_sum / progress.seen,
                   "train_accuracy": progress.correct / progress.seen, "test_loss": test_loss,
                   "test_accuracy": test_accuracy, "lr": optimizer.param_groups[0]["lr"],
                   "train_seconds": progress.train_seconds,
                   "test_seconds": time.perf_counter() - evaluation_start,
                   "samples_per_second": progress.seen / progress.train_seconds}
            print(f"epoch {row['epoch']}: train loss {row['train_loss']:.4f} acc "
                  f"{100 * row['train_accuracy']:.2f}% | test loss {test_loss:.4f} acc {100 * test_accuracy:.2f}% | "
                  f"{progress.train_seconds:.1f} s train + {row['test_seconds']:.1f} s test")
            if board is not None:
                log_epoch(board, model, row)
            if test_accuracy > progress.best_accuracy:
                progress.best_accuracy = test_accuracy
                tc.save(model.state_dict(), out / BEST)
            if scheduler is not None:
                scheduler.step()
            progress = Progress(epoch=progress.epoch + 1, best_accuracy=progress.best_accuracy)
            save_checkpoint(out / CHECKPOINT, model, optimizer, scheduler, progress, args)
            metrics.append(row)
            write_metrics(out / METRICS, metrics)
            plot_metrics(metrics, out / PLOT)
            if stop.pressed and progress.epoch < args.epochs:  # Ctrl-C while the epoch was being saved
                print(f"interrupted: checkpoint saved to {out / CHECKPOINT} after epoch {progress.epoch}; "
                      "continue with --resume")
                return 130

    if board is not None:
        board.close()
    if metrics:
        final = metrics[-1]
        total = sum(r["train_seconds"] for r in metrics)
        print(f"done: test accuracy {100 * final['test_accuracy']:.2f}% after {final['epoch']} epochs "
              f"(best {100 * progress.best_accuracy:.2f}%), {total:.0f} s of training; outputs in {out}")
    return export_onnx(model, out) if args.export_onnx else 0


if __name__ == "__main__":
    sys.exit(main())
