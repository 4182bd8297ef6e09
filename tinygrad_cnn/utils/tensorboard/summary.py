"""Summary protocol buffers, as TensorBoard's plugins read them (the ``tensorboard`` package's
protos; PyTorch's ``torch.utils.tensorboard.summary`` builds the same ones)."""
from __future__ import annotations

import io
from typing import Any

import numpy as np

from ...data.utils import make_grid
from ...tensor import Tensor

try:
    from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary, SummaryMetadata
    from tensorboard.compat.proto.tensor_pb2 import TensorProto
    from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
except ImportError:  # pragma: no cover - the message is the point
    raise ImportError("tinygrad_cnn.utils.tensorboard needs the tensorboard package: "
                      "pip install 'tinygrad_cnn[tensorboard]'") from None


def as_array(value: Any) -> np.ndarray:
    """A Tensor, array, number or list as a NumPy array (detached)."""
    if isinstance(value, Tensor):
        return value.detach().numpy()
    return np.asarray(value)


def scalar(tag: str, value: Any, new_style: bool = False, double_precision: bool = False) -> Summary:
    array = as_array(value).squeeze()
    if array.ndim != 0:
        raise ValueError(f"add_scalar: {tag!r} must hold one element, got shape {as_array(value).shape}")
    number = float(array)
    if not new_style:
        return Summary(value=[Summary.Value(tag=tag, simple_value=number)])
    proto = (TensorProto(double_val=[number], dtype="DT_DOUBLE") if double_precision
             else TensorProto(float_val=[number], dtype="DT_FLOAT"))
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
    return Summary(value=[Summary.Value(tag=tag, tensor=proto, metadata=metadata)])


def histogram(tag: str, values: Any, bins: Any = "tensorflow", max_bins: int | None = None) -> Summary:
    """Counts of ``values`` per bin; TensorBoard keeps right bin edges, so an empty bin is kept
    left of the first one that counts (PyTorch's layout)."""
    values = as_array(values).astype(np.float64).reshape(-1)
    if values.size == 0:
        raise ValueError(f"add_histogram: {tag!r} has no element")
    if isinstance(bins, str) and bins == "tensorflow":
        bins = _tensorflow_bins()
    counts, limits = np.histogram(values, bins=bins)
    if max_bins is not None and len(counts) > max_bins:
        step = len(counts) // max_bins
        counts = np.pad(counts, (0, -len(counts) % step)).reshape(-1, step).sum(axis=1)
        limits = np.append(limits[:-1:step], limits[-1])
    used = np.flatnonzero(counts)
    start, end = int(used[0]), int(used[-1]) + 1
    counts = counts[start - 1:end] if start > 0 else np.concatenate([[0], counts[:end]])
    limits = limits[start:end + 1]
    proto = HistogramProto(min=values.min(), max=values.max(), num=len(values), sum=values.sum(),
                           sum_squares=values @ values, bucket_limit=limits.tolist(), bucket=counts.tolist())
    return Summary(value=[Summary.Value(tag=tag, histo=proto)])


def _tensorflow_bins() -> list[float]:
    """TensorFlow's default edges (PyTorch's ``default_bins``): 0 and powers of 1.1 from 1e-12
    to 1e20, both signs."""
    edges, v = [], 1e-12
    while v < 1e20:
        edges.append(v)
        v *= 1.1
    return [-e for e in reversed(edges)] + [0.0] + edges


def to_hwc(images: np.ndarray, dataformats: str) -> np.ndarray:
    """An image (or a grid of images) as (H, W, C) with C 1, 3 or 4, from ``dataformats``
    (any order of N, C, H, W; N images are laid out on a grid)."""
    dataformats = dataformats.upper()
    if len(set(dataformats)) != len(dataformats) or images.ndim != len(dataformats) or \
            not set(dataformats) <= set("NCHW"):
        raise ValueError(f"image: dataformats {dataformats!r} does not describe an array of shape {images.shape}")
    if "N" in dataformats:
        order = [dataformats.index(c) for c in ("N", "C", "H", "W") if c in dataformats]
        batch = images.transpose(order)
        if "C" not in dataformats:
            batch = batch[:, None]
        return to_hwc(make_grid(Tensor(batch), nrow=8, padding=0).numpy(), "CHW")  # (as PyTorch's writer)
    if dataformats == "HW":
        return images[:, :, None]
    order = [dataformats.index(c) for c in "HWC"]
    hwc = images.transpose(order)
    return np.concatenate([hwc] * 3, axis=2) if hwc.shape[2] == 2 else hwc


def image(tag: str, images: Any, dataformats: str = "CHW") -> Summary:
    """A PNG of ``images``: floats are taken as [0, 1] and uint8 as [0, 255]."""
    from PIL import Image

    hwc = to_hwc(as_array(images), dataformats)
    scale = 1 if hwc.dtype == np.uint8 else 255
    pixels = (hwc.astype(np.float32) * scale).clip(0, 255).astype(np.uint8)
    height, width, channels = pixels.shape
    buffer = io.BytesIO()
    Image.fromarray(pixels[:, :, 0] if channels == 1 else pixels).save(buffer, format="PNG")
    encoded = Summary.Image(height=height, width=width, colorspace=channels, encoded_image_string=buffer.getvalue())
    return Summary(value=[Summary.Value(tag=tag, image=encoded)])


def text(tag: str, text_string: str) -> Summary:
    from tensorboard.plugins.text.plugin_data_pb2 import TextPluginData

    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
        plugin_name="text", content=TextPluginData(version=0).SerializeToString()))
    proto = TensorProto(dtype="DT_STRING", string_val=[text_string.encode("utf_8")],
                        tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=1)]))
    return Summary(value=[Summary.Value(tag=tag + "/text_summary", metadata=metadata, tensor=proto)])


def pr_curve(tag: str, labels: Any, predictions: Any, num_thresholds: int = 127, weights: Any = None) -> Summary:
    """True/false positives and negatives, precision and recall at ``num_thresholds`` thresholds."""
    from tensorboard.plugins.pr_curve.plugin_data_pb2 import PrCurvePluginData

    num_thresholds = min(num_thresholds, 127)  # (more breaks the protobuf, as PyTorch notes)
    labels, predictions = as_array(labels).astype(np.float64), as_array(predictions)
    weights = 1.0 if weights is None else as_array(weights)
    buckets = np.int32(np.floor(predictions * (num_thresholds - 1)))
    span = (0, num_thresholds - 1)
    tp_buckets = np.histogram(buckets, bins=num_thresholds, range=span, weights=labels * weights)[0]
    fp_buckets = np.histogram(buckets, bins=num_thresholds, range=span, weights=(1.0 - labels) * weights)[0]
    tp, fp = np.cumsum(tp_buckets[::-1])[::-1], np.cumsum(fp_buckets[::-1])[::-1]
    tn, fn = fp[0] - fp, tp[0] - tp
    precision, recall = tp / np.maximum(1e-7, tp + fp), tp / np.maximum(1e-7, tp + fn)
    data = np.stack((tp, fp, tn, fn, precision, recall))
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
        plugin_name="pr_curves", content=PrCurvePluginData(version=0, num_thresholds=num_thresholds)
        .SerializeToString()))
    proto = TensorProto(dtype="DT_FLOAT", float_val=data.reshape(-1).tolist(), tensor_shape=TensorShapeProto(
        dim=[TensorShapeProto.Dim(size=data.shape[0]), TensorShapeProto.Dim(size=data.shape[1])]))
    return Summary(value=[Summary.Value(tag=tag, metadata=metadata, tensor=proto)])


def hparams(hparam_dict: dict[str, Any], metric_dict: dict[str, Any],
            hparam_domain_discrete: dict[str, list[Any]] | None = None) -> tuple[Summary, Summary, Summary]:
    """The hparams plugin's experiment, session-start and session-end summaries."""
    from google.protobuf import struct_pb2
    from tensorboard.plugins.hparams.api_pb2 import DataType, Experiment, HParamInfo, MetricInfo, MetricName, Status
    from tensorboard.plugins.hparams.metadata import (
        EXPERIMENT_TAG,
        PLUGIN_DATA_VERSION,
        PLUGIN_NAME,
        SESSION_END_INFO_TAG,
        SESSION_START_INFO_TAG,
    )
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData, SessionEndInfo, SessionStartInfo

    if not isinstance(hparam_dict, dict) or not isinstance(metric_dict, dict):
        raise TypeError("add_hparams: hparam_dict and metric_dict should be dictionaries, nothing logged.")
    discrete = hparam_domain_discrete or {}
    for key, values in discrete.items():
        if key not in hparam_dict or not isinstance(values, list) or \
                not all(isinstance(v, type(hparam_dict[key])) for v in values):
            raise TypeError(f"parameter: hparam_domain_discrete[{key}] should be a list of same type as "
                            f"hparam_dict[{key}].")
    start, infos = SessionStartInfo(), []
    for key, value in hparam_dict.items():
        if value is None:
            continue
        if isinstance(value, Tensor):
            value = float(value.reshape(-1)[0].item())
        if isinstance(value, bool):
            field, kind, wrap = "bool_value", "DATA_TYPE_BOOL", lambda d: struct_pb2.Value(bool_value=d)
        elif isinstance(value, (int, float)):
            field, kind, wrap = "number_value", "DATA_TYPE_FLOAT64", lambda d: struct_pb2.Value(number_value=d)
        elif isinstance(value, str):
            field, kind, wrap = "string_value", "DATA_TYPE_STRING", lambda d: struct_pb2.Value(string_value=d)
        else:
            raise ValueError("value should be one of int, float, str, bool, or torch.Tensor")
        setattr(start.hparams[key], field, value)
        domain = struct_pb2.ListValue(values=[wrap(d) for d in discrete[key]]) if key in discrete else None
        infos.append(HParamInfo(name=key, type=DataType.Value(kind), domain_discrete=domain))

    def plugin_summary(tag: str, **content: Any) -> Summary:
        data = HParamsPluginData(version=PLUGIN_DATA_VERSION, **content).SerializeToString()
        metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name=PLUGIN_NAME, content=data))
        return Summary(value=[Summary.Value(tag=tag, metadata=metadata)])

    experiment = Experiment(hparam_infos=infos, metric_infos=[MetricInfo(name=MetricName(tag=k)) for k in metric_dict])
    return (plugin_summary(EXPERIMENT_TAG, experiment=experiment),
            plugin_summary(SESSION_START_INFO_TAG, session_start_info=start),
            plugin_summary(SESSION_END_INFO_TAG,
                           session_end_info=SessionEndInfo(status=Status.Value("STATUS_SUCCESS"))))
