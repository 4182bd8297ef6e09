"""SummaryWriter: PyTorch's ``torch.utils.tensorboard.SummaryWriter``, writing event files that
TensorBoard reads (through the ``tensorboard`` package's own event-file writer)."""
from __future__ import annotations

import os
import socket
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from tensorboard.compat.proto.event_pb2 import Event, SessionLog
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from . import summary
from .graph import graph_def


class FileWriter:
    """Events into one event file of ``log_dir``."""

    def __init__(self, log_dir: str, max_queue: int = 10, flush_secs: int = 120, filename_suffix: str = "") -> None:
        self.event_writer = EventFileWriter(str(log_dir), max_queue, flush_secs, filename_suffix)

    def get_logdir(self) -> str:
        return self.event_writer.get_logdir()

    def add_event(self, event: Event, step: int | None = None, walltime: float | None = None) -> None:
        event.wall_time = time.time() if walltime is None else walltime
        if step is not None:
            event.step = int(step)
        self.event_writer.add_event(event)

    def add_summary(self, summary_proto: Any, global_step: int | None = None, walltime: float | None = None) -> None:
        self.add_event(Event(summary=summary_proto), global_step, walltime)

    def flush(self) -> None:
        self.event_writer.flush()

    def close(self) -> None:
        self.event_writer.close()


class SummaryWriter:
    """Log scalars, histograms, images, figures, text, hyper-parameters, embeddings, PR curves
    and the model's graph for TensorBoard, under ``log_dir`` (default
    ``runs/<date>_<host><comment>``, as PyTorch)."""

    def __init__(self, log_dir: str | os.PathLike | None = None, comment: str = "", purge_step: int | None = None,
                 max_queue: int = 10, flush_secs: int = 120, filename_suffix: str = "") -> None:
        if log_dir is None:
            log_dir = os.path.join("runs", datetime.now().strftime("%b%d_%H-%M-%S") + "_" + socket.gethostname()
                                   + comment)
        self.log_dir, self.purge_step = str(log_dir), purge_step
        self.max_queue, self.flush_secs, self.filename_suffix = max_queue, flush_secs, filename_suffix
        self.file_writer: FileWriter | None = None
        self.all_writers: dict[str, FileWriter] = {}
        self._get_file_writer()

    def _get_file_writer(self) -> FileWriter:
        if self.file_writer is None:
            self.file_writer = FileWriter(self.log_dir, self.max_queue, self.flush_secs, self.filename_suffix)
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
            if self.purge_step is not None:  # TensorBoard drops what a crashed run logged from this step on
                self.file_writer.add_event(Event(step=self.purge_step, file_version="brain.Event:2"))
                self.file_writer.add_event(Event(step=self.purge_step,
                                                 session_log=SessionLog(status=SessionLog.START)))
                self.purge_step = None
        return self.file_writer

    def get_logdir(self) -> str:
        return self.log_dir

    def add_scalar(self, tag: str, scalar_value: Any, global_step: int | None = None, walltime: float | None = None,
                   new_style: bool = False, double_precision: bool = False) -> None:
        self._get_file_writer().add_summary(summary.scalar(tag, scalar_value, new_style, double_precision),
                                            global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict[str, Any], global_step: int | None = None,
                    walltime: float | None = None) -> None:
        """Several curves on one chart: each in its own run directory ``log_dir/main_tag_tag``."""
        walltime = time.time() if walltime is None else walltime
        for tag, value in tag_scalar_dict.items():
            directory = os.path.join(self._get_file_writer().get_logdir(), f"{main_tag.replace('/', '_')}_{tag}")
            writer = self.all_writers.get(directory)
            if writer is None:
                writer = self.all_writers[directory] = FileWriter(directory, self.max_queue, self.flush_secs,
                                                                  self.filename_suffix)
            writer.add_summary(summary.scalar(main_tag, value), global_step, walltime)

    def add_histogram(self, tag: str, values: Any, global_step: int | None = None, bins: Any = "tensorflow",
                      walltime: float | None = None, max_bins: int | None = None) -> None:
        self._get_file_writer().add_summary(summary.histogram(tag, values, bins, max_bins), global_step, walltime)

    def add_image(self, tag: str, img_tensor: Any, global_step: int | None = None, walltime: float | None = None,
                  dataformats: str = "CHW") -> None:
        self._get_file_writer().add_summary(summary.image(tag, img_tensor, dataformats), global_step, walltime)

    def add_images(self, tag: str, img_tensor: Any, global_step: int | None = None, walltime: float | None = None,
                   dataformats: str = "NCHW") -> None:
        self._get_file_writer().add_summary(summary.image(tag, img_tensor, dataformats), global_step, walltime)

    def add_figure(self, tag: str, figure: Any, global_step: int | None = None, close: bool = True,
                   walltime: float | None = None) -> None:
        """A matplotlib figure (or a list of them), rendered."""
        figures = figure if isinstance(figure, list) else [figure]
        images = np.stack([_rendered(f, close) for f in figures])
        if isinstance(figure, list):
            self.add_images(tag, images, global_step, walltime, dataformats="NCHW")
        else:
            self.add_image(tag, images[0], global_step, walltime, dataformats="CHW")

    def add_text(self, tag: str, text_string: str, global_step: int | None = None,
                 walltime: float | None = None) -> None:
        self._get_file_writer().add_summary(summary.text(tag, text_string), global_step, walltime)

    def add_pr_curve(self, tag: str, labels: Any, predictions: Any, global_step: int | None = None,
                     num_thresholds: int = 127, weights: Any = None, walltime: float | None = None) -> None:
        self._get_file_writer().add_summary(summary.pr_curve(tag, labels, predictions, num_thresholds, weights),
                                            global_step, walltime)

    def add_hparams(self, hparam_dict: dict[str, Any], metric_dict: dict[str, Any],
                    hparam_domain_discrete: dict[str, list[Any]] | None = None, run_name: str | None = None,
                    global_step: int | None = None) -> None:
        """The hyper-parameters and final metrics of a run, as a run of its own (``run_name``,
        default the time) for the HParams tab, as PyTorch does."""
        experiment, start, end = summary.hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        directory = os.path.join(self._get_file_writer().get_logdir(), run_name or str(time.time()))
        with SummaryWriter(log_dir=directory) as writer:
            for proto in (experiment, start, end):
                writer.file_writer.add_summary(proto, global_step)
            for key, value in metric_dict.items():
                writer.add_scalar(key, value, global_step)

    def add_embedding(self, mat: Any, metadata: Sequence[Any] | None = None, label_img: Any = None,
                      global_step: int | None = None, tag: str = "default",
                      metadata_header: Sequence[str] | None = None) -> None:
        """Points for the Projector tab: ``mat`` (N, D), per-point ``metadata`` (labels, or rows
        under ``metadata_header``) and ``label_img`` (N, C, H, W) thumbnails."""
        mat = summary.as_array(mat)
        if mat.ndim != 2:
            raise ValueError(f"add_embedding: mat must be 2-D (N, D), got shape {mat.shape}")
        subdir = f"{str(global_step or 0).zfill(5)}/{tag.replace('/', '_')}"
        directory = Path(self._get_file_writer().get_logdir()) / subdir
        directory.mkdir(parents=True, exist_ok=True)
        np.savetxt(directory / "tensors.tsv", mat, delimiter="\t", fmt="%g")
        lines = [f'embeddings {{\n  tensor_name: "{tag}:{str(global_step or 0).zfill(5)}"\n'
                 f'  tensor_path: "{subdir}/tensors.tsv"\n']
        if metadata is not None:
            rows = [metadata_header] + list(metadata) if metadata_header else metadata
            (directory / "metadata.tsv").write_text("".join(
                ("\t".join(map(str, r)) if metadata_header else str(r)) + "\n" for r in rows))
            lines.append(f'  metadata_path: "{subdir}/metadata.tsv"\n')
        if label_img is not None:
            from PIL import Image
            images = summary.as_array(label_img)
            n, _, h, w = images.shape
            hwc = summary.to_hwc(images, "NCHW")
            pixels = (hwc.astype(np.float32) * (1 if hwc.dtype == np.uint8 else 255)).clip(0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(directory / "sprite.png")
            lines.append(f'  sprite {{\n    image_path: "{subdir}/sprite.png"\n    single_image_dim: {w}\n'
                         f'    single_image_dim: {h}\n  }}\n')
        with open(Path(self._get_file_writer().get_logdir()) / "projector_config.pbtxt", "a") as config:
            config.write("".join(lines) + "}\n")

    def add_graph(self, model: Any, input_to_model: Any = None, verbose: bool = False,
                  use_strict_trace: bool = True) -> None:
        """The operations ``model(input_to_model)`` runs, nested by module for the Graphs tab."""
        inputs = input_to_model if isinstance(input_to_model, (tuple, list)) else (input_to_model,)
        graph = graph_def(model, [t for t in inputs if t is not None])
        self._get_file_writer().add_event(Event(graph_def=graph.SerializeToString()))

    def flush(self) -> None:
        for writer in self.all_writers.values():
            writer.flush()

    def close(self) -> None:
        for writer in self.all_writers.values():
            writer.flush()
            writer.close()
        self.file_writer = None
        self.all_writers = {}

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _rendered(figure: Any, close: bool) -> np.ndarray:
    """A matplotlib figure as a (3, H, W) uint8 array."""
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    width, height = figure.canvas.get_width_height()
    rgba = np.frombuffer(canvas.buffer_rgba(), dtype=np.uint8).reshape(height, width, 4)
    if close:
        plt.close(figure)
    return np.moveaxis(rgba[:, :, :3], 2, 0)
