"""How each primitive becomes ONNX nodes: ``CONVERTERS[node.name](builder, node) -> output names``.

A converter reads the node through the public node API (``inputs``, ``settings``,
``output_specs``) and the traced input shapes; only sizes that do not depend on the batch are
written as constants (the batch dimension stays symbolic).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import windows
from ..autograd import Primitive
from ..ops.pool import averaging_matrix
from ..ops.shape import IndexArray
from ..tensor import Tensor
from .graph import GraphBuilder, UnsupportedOperatorError, onnx_dtype

Converter = Callable[[GraphBuilder, Primitive], list[str]]
CONVERTERS: dict[str, Converter] = {}
INT64_MAX = np.iinfo(np.int64).max


def converts(*names: str) -> Callable[[Converter], Converter]:
    def register(function: Converter) -> Converter:
        for name in names:
            CONVERTERS[name] = function
        return function
    return register


def _refuse(node: Primitive, why: str) -> UnsupportedOperatorError:
    return UnsupportedOperatorError(f"onnx.export: {node.name}{node.module_description} cannot be exported: {why}")


def _inputs(b: GraphBuilder, node: Primitive) -> list[str]:
    """The names of the node's inputs (an absent optional one, such as a missing bias, left out)."""
    return [b.input_name(node, i) for i, value in enumerate(node.inputs) if value is not None]


def _pairs(top_left: tuple[int, int], bottom_right: tuple[int, int]) -> list[int]:
    """ONNX's pads order: all begins, then all ends."""
    return [top_left[0], top_left[1], bottom_right[0], bottom_right[1]]


# --------------------------------------------------------------------------- elementwise

SAME_NAME = {"Neg": "Neg", "Exp": "Exp", "Log": "Log", "Sqrt": "Sqrt", "Abs": "Abs", "Relu": "Relu",
             "Sigmoid": "Sigmoid", "Tanh": "Tanh", "Erf": "Erf", "Sign": "Sign", "Hardswish": "HardSwish",
             "Clone": "Identity", "Add": "Add", "Sub": "Sub", "Mul": "Mul", "Div": "Div", "Pow": "Pow",
             "MatMul": "MatMul", "Sin": "Sin", "Cos": "Cos", "Tan": "Tan", "Asin": "Asin", "Acos": "Acos",
             "Atan": "Atan", "Sinh": "Sinh", "Cosh": "Cosh", "Reciprocal": "Reciprocal"}


@converts(*SAME_NAME)
def _same_name(b: GraphBuilder, node: Primitive) -> list[str]:
    return b.emit(node, SAME_NAME[node.name], _inputs(b, node))


@converts("Rounding")
def _rounding(b: GraphBuilder, node: Primitive) -> list[str]:
    """Floor, Ceil, Round (half to even in both); trunc as sign(x) * floor(|x|); integers unchanged."""
    (x,) = _inputs(b, node)
    how = node.settings["how"]
    if node.inputs[0].dtype.kind in "iub":
        return b.emit(node, "Identity", [x])
    if how == "trunc":
        return b.emit(node, "Mul", [b.emit(node, "Sign", [x])[0], b.emit(node, "Floor", b.emit(node, "Abs", [x]))[0]])
    return b.emit(node, how.capitalize(), [x])


@converts("Log1p")
def _log1p(b: GraphBuilder, node: Primitive) -> list[str]:
    (x,) = _inputs(b, node)
    one = b.constant(1.0, node.output_specs[0].dtype)
    return b.emit(node, "Log", b.emit(node, "Add", [x, one]))


@converts("Rsqrt")
def _rsqrt(b: GraphBuilder, node: Primitive) -> list[str]:
    return b.emit(node, "Reciprocal", b.emit(node, "Sqrt", _inputs(b, node)))


@converts("Exp2")
def _exp2(b: GraphBuilder, node: Primitive) -> list[str]:
    return b.emit(node, "Pow", [b.constant(2.0, node.output_specs[0].dtype), *_inputs(b, node)])


@converts("Log2", "Log10")
def _log_base(b: GraphBuilder, node: Primitive) -> list[str]:
    """Log(x) / Log(base)."""
    base = 2.0 if node.name == "Log2" else 10.0
    return b.emit(node, "Div", [b.emit(node, "Log", _inputs(b, node))[0],
                                b.constant(np.log(base), node.output_specs[0].dtype)])


@converts("Expm1")
def _expm1(b: GraphBuilder, node: Primitive) -> list[str]:
    """Exp(x) - 1 (ONNX has no expm1: near 0 it keeps fewer digits than the original)."""
    return b.emit(node, "Sub", [b.emit(node, "Exp", _inputs(b, node))[0], b.constant(1.0, node.output_specs[0].dtype)])


@converts("LogSigmoid")
def _logsigmoid(b: GraphBuilder, node: Primitive) -> list[str]:
    (x,) = _inputs(b, node)
    return b.emit(node, "Neg", b.emit(node, "Softplus", b.emit(node, "Neg", [x])))


@converts("LeakyRelu", "LeakyReluOfResult")
def _leaky_relu(b: GraphBuilder, node: Primitive) -> list[str]:
    return b.emit(node, "LeakyRelu", _inputs(b, node), alpha=float(node.settings["negative_slope"]))


@converts("Elu", "EluOfResult")
def _elu(b: GraphBuilder, node: Primitive) -> list[str]:
    """scale * Elu(alpha) (SELU's constants included); the input scale is always 1 here."""
    (x,) = _inputs(b, node)
    s = node.settings
    if s["input_scale"] != 1:
        raise _refuse(node, "an input scale other than 1 has no ONNX form")
    out = b.emit(node, "Elu", [x], alpha=float(s["alpha"]))
    return out if s["scale"] == 1 else b.emit(node, "Mul", [out[0], b.constant(s["scale"], node.output_specs[0].dtype)])


@converts("Softplus")
def _softplus(b: GraphBuilder, node: Primitive) -> list[str]:
    """Where(beta * x > threshold, x, Softplus(beta * x) / beta)."""
    (x,) = _inputs(b, node)
    beta, threshold, dtype = node.settings["beta"], node.settings["threshold"], node.output_specs[0].dtype
    scaled = b.emit(node, "Mul", [x, b.constant(beta, dtype)])[0]
    smooth = b.emit(node, "Div", [b.emit(node, "Softplus", [scaled])[0], b.constant(beta, dtype)])[0]
    return b.emit(node, "Where", [b.emit(node, "Greater", [scaled, b.constant(threshold, dtype)])[0], x, smooth])


@converts("Lerp")
def _lerp(b: GraphBuilder, node: Primitive) -> list[str]:
    """Where(|w| < 0.5, x + w * (end - x), end - (end - x) * (1 - w)): both of PyTorch's sides."""
    x, end = b.input_name(node, 0), b.input_name(node, 1)
    dtype = node.output_specs[0].dtype
    weight = b.input_name(node, 2, dtype)
    if isinstance(node.inputs[2], Tensor) and node.inputs[2].dtype != dtype:  # a 0-d weight of another dtype
        weight = b.emit(node, "Cast", [weight], to=onnx_dtype(dtype))[0]
    difference = b.emit(node, "Sub", [end, x])[0]
    near_x = b.emit(node, "Add", [x, b.emit(node, "Mul", [weight, difference])[0]])[0]
    rest = b.emit(node, "Sub", [b.constant(1, dtype), weight])[0]
    near_end = b.emit(node, "Sub", [end, b.emit(node, "Mul", [difference, rest])[0]])[0]
    small = b.emit(node, "Less", [b.emit(node, "Abs", [weight])[0], b.constant(0.5, dtype)])[0]
    return b.emit(node, "Where", [small, near_x, near_end])


@converts("HuberLoss")
def _huber_loss(b: GraphBuilder, node: Primitive) -> list[str]:
    """Where(|d| < delta, 0.5 * (slope / delta) * d², slope * (|d| - delta / 2)), d = x - t."""
    x, t = _inputs(b, node)
    delta, slope, dtype = node.settings["delta"], node.settings["slope"], node.output_specs[0].dtype
    size = b.emit(node, "Abs", b.emit(node, "Sub", [x, t]))[0]
    square = b.emit(node, "Mul", [b.emit(node, "Mul", [size, size])[0], b.constant(0.5 * slope / delta, dtype)])[0]
    beyond = b.emit(node, "Sub", [size, b.constant(0.5 * delta, dtype)])[0]
    line = b.emit(node, "Mul", [beyond, b.constant(slope, dtype)])[0]
    return b.emit(node, "Where", [b.emit(node, "Less", [size, b.constant(delta, dtype)])[0], square, line])


@converts("BinaryCrossEntropyWithLogits")
def _bce_with_logits(b: GraphBuilder, node: Primitive) -> list[str]:
    """(1 - t) * x - (1 + (pos_weight - 1) * t) * LogSigmoid(x), in the target's dtype."""
    dtype = node.output_specs[0].dtype
    t, x, pos_weight = (None if value is None else b.input_name(node, i) for i, value in enumerate(node.inputs))
    if node.inputs[1].dtype != dtype:
        x = b.emit(node, "Cast", [x], to=onnx_dtype(dtype))[0]
    one = b.constant(1.0, dtype)
    log_sigmoid = b.emit(node, "Neg", b.emit(node, "Softplus", b.emit(node, "Neg", [x])))[0]
    if pos_weight is not None:
        if node.inputs[2].dtype != dtype:
            pos_weight = b.emit(node, "Cast", [pos_weight], to=onnx_dtype(dtype))[0]
        scale = b.emit(node, "Add", [b.emit(node, "Mul", [b.emit(node, "Sub", [pos_weight, one])[0], t])[0], one])[0]
        log_sigmoid = b.emit(node, "Mul", [log_sigmoid, scale])[0]
    negative = b.emit(node, "Mul", [b.emit(node, "Sub", [one, t])[0], x])[0]
    return b.emit(node, "Sub", [negative, log_sigmoid])


@converts("Clamp", "Hardtanh")
def _clip(b: GraphBuilder, node: Primitive) -> list[str]:
    (x,) = _inputs(b, node)
    low, high = (node.settings["min"], node.settings["max"]) if node.name == "Clamp" else \
        (node.settings["min_val"], node.settings["max_val"])
    dtype = node.output_specs[0].dtype
    bounds = ["" if v is None else b.constant(v, dtype) for v in (low, high)]
    while bounds and bounds[-1] == "":
        bounds.pop()
    return b.emit(node, "Clip", [x, *bounds])


COMPARISONS = {"lt": "Less", "le": "LessOrEqual", "gt": "Greater", "ge": "GreaterOrEqual", "eq": "Equal"}


@converts("Compare")
def _compare(b: GraphBuilder, node: Primitive) -> list[str]:
    op = node.settings["op"]
    dtype = next((t.dtype for t in node.inputs if isinstance(t, Tensor)), np.dtype(np.float32))
    inputs = [b.input_name(node, i, dtype) for i in range(2)]
    if op == "ne":
        return b.emit(node, "Not", b.emit(node, "Equal", inputs))
    return b.emit(node, COMPARISONS[op], inputs)


@converts("Where")
def _where(b: GraphBuilder, node: Primitive) -> list[str]:
    return b.emit(node, "Where", _inputs(b, node))


@converts("GatherAlong")
def _gather_along(b: GraphBuilder, node: Primitive) -> list[str]:
    x, index = _inputs(b, node)
    if node.inputs[1].dtype != np.int64:
        index = b.emit(node, "Cast", [index], to=onnx_dtype(np.dtype(np.int64)))[0]
    return b.emit(node, "GatherElements", [x, index], axis=int(node.settings["dim"]))


@converts("EmbeddingLookup")
def _embedding(b: GraphBuilder, node: Primitive) -> list[str]:
    """Rows of the table: Gather along axis 0 (padding_idx and the frequency scaling only
    concern the gradient)."""
    weight, indices = _inputs(b, node)
    if node.inputs[1].dtype != np.int64:
        indices = b.emit(node, "Cast", [indices], to=onnx_dtype(np.dtype(np.int64)))[0]
    return b.emit(node, "Gather", [weight, indices], axis=0)


@converts("Cast")
def _cast(b: GraphBuilder, node: Primitive) -> list[str]:
    return b.emit(node, "Cast", _inputs(b, node), to=onnx_dtype(node.settings["dtype"]))


# --------------------------------------------------------------------------- reductions, softmax

def _reduce(b: GraphBuilder, node: Primitive, op_type: str, x: str, axes: list[int], keepdim: bool) -> list[str]:
    """A reduction over ``axes``: ReduceSum takes them as an input from opset 13, the others
    from opset 18 (an attribute before). Over no axes (a 0-d input) it is the input itself."""
    if not axes:
        return b.emit(node, "Identity", [x])
    if op_type == "ReduceSum" or b.opset >= 18:
        return b.emit(node, op_type, [x, b.constant(np.array(axes, dtype=np.int64))], keepdims=int(keepdim))
    return b.emit(node, op_type, [x], axes=list(axes), keepdims=int(keepdim))


REDUCTIONS = {"Sum": "ReduceSum", "Mean": "ReduceMean", "AMax": "ReduceMax", "AMin": "ReduceMin"}


@converts(*REDUCTIONS)
def _reduction(b: GraphBuilder, node: Primitive) -> list[str]:
    (x,) = _inputs(b, node)
    op_type = REDUCTIONS[node.name]
    return _reduce(b, node, op_type, x, list(node.settings["dims"]), node.settings["keepdim"])


@converts("LogSumExp")
def _logsumexp(b: GraphBuilder, node: Primitive) -> list[str]:
    (x,) = _inputs(b, node)
    return _reduce(b, node, "ReduceLogSumExp", x, list(node.settings["dims"]), node.settings["keepdim"])


@converts("CumSum")
def _cumsum(b: GraphBuilder, node: Primitive) -> list[str]:
    (x,) = _inputs(b, node)
    return b.emit(node, "CumSum", [x, b.constant(np.array(node.settings["dim"], dtype=np.int64))])


@converts("MaxDim")
def _max_dim(b: GraphBuilder, node: Primitive) -> list[str]:
    """``x.max(dim)``: the values and the index of the first maximum, as NumPy and PyTorch pick."""
    (x,) = _inputs(b, node)
    dim, keep = node.settings["dim"], node.settings["keepdim"]
    return (_reduce(b, node, "ReduceMax", x, [dim], keep)
            + b.emit(node, "ArgMax", [x], axis=dim, keepdims=int(keep), select_last_index=0))


@converts("NllLoss")
def _nll_loss(b: GraphBuilder, node: Primitive) -> list[str]:
    """Per-row losses from NegativeLogLikelihoodLoss (ignored rows give 0); label smoothing adds
    ``smoothing * -mean(log-probabilities)`` on the rows kept, and "mean" divides by their count."""
    log_probabilities, target = _inputs(b, node)
    s = node.settings
    smoothing, dtype = s["label_smoothing"], node.inputs[0].dtype
    if node.inputs[1].dtype != np.int64:
        target = b.emit(node, "Cast", [target], to=onnx_dtype(np.dtype(np.int64)))[0]
    losses = b.emit(node, "NegativeLogLikelihoodLoss", [log_probabilities, target],
                    reduction="none", ignore_index=int(s["ignore_index"]))[0]
    ignored = b.emit(node, "Equal", [target, b.constant(np.array(s["ignore_index"], dtype=np.int64))])
    kept = b.emit(node, "Cast", b.emit(node, "Not", ignored), to=onnx_dtype(dtype))
    if smoothing:
        mean_log_probability = _reduce(b, node, "ReduceMean", log_probabilities, [1], False)
        smoothed = b.emit(node, "Mul", [b.emit(node, "Neg", mean_log_probability)[0], kept[0]])
        losses = b.emit(node, "Add", [b.emit(node, "Mul", [losses, b.constant(np.array(1 - smoothing, dtype))])[0],
                                      b.emit(node, "Mul", [smoothed[0], b.constant(np.array(smoothing, dtype))])[0]])[0]
    if s["reduction"] == "none":
        return [losses]
    total = b.emit(node, "ReduceSum", [losses], keepdims=0)
    if s["reduction"] == "sum":
        return total
    return b.emit(node, "Div", [total[0], b.emit(node, "ReduceSum", kept, keepdims=0)[0]])


@converts("Softmax", "LogSoftmax")
def _softmax(b: GraphBuilder, node: Primitive) -> list[str]:
    return b.emit(node, node.name, _inputs(b, node), axis=node.settings["dim"])


# --------------------------------------------------------------------------- shape

def _batch_safe_shape(b: GraphBuilder, source: tuple[int, ...], target: tuple[int, ...]) -> list[int]:
    """A Reshape target that still holds at another batch size. A leading dimension that is kept
    (the batch, or the batch merged with others) is written 0, "copy from the input"; one where
    the batch is merged with the dimensions after it (``(N, d, C) -> (N * d, C)``) or split out
    again (``(N * d,) -> (N, d)``) is written -1, the other dimensions being fixed."""
    shape, batch = list(target), b.batch_size
    if not (b.batch_dynamic and source and shape and batch > 1):
        return shape
    if shape[0] == source[0] != 1:  # kept, whatever it holds: copying it is right at any batch
        shape[0] = 0
    elif source[0] % batch == 0 and shape[0] % batch == 0 and batch in (source[0], shape[0]):
        shape[0] = -1
    return shape


@converts("Reshape")
def _reshape(b: GraphBuilder, node: Primitive) -> list[str]:
    (x,) = _inputs(b, node)
    shape = _batch_safe_shape(b, node.inputs[0].shape, node.settings["shape"])
    return b.emit(node, "Reshape", [x, b.constant(np.array(shape, dtype=np.int64))])


@converts("Unsqueeze")
def _unsqueeze(b: GraphBuilder, node: Primitive) -> list[str]:
    """Unsqueeze, its axes an input (opset 13 on, the lowest exported)."""
    (x,) = _inputs(b, node)
    return b.emit(node, "Unsqueeze", [x, b.constant(np.array([node.settings["dim"]], dtype=np.int64))])


@converts("Scatter", "ScatterAdd")
def _scatter(b: GraphBuilder, node: Primitive) -> list[str]:
    """ScatterElements along ``dim`` (with reduction "add" for scatter_add, from opset 16); src
    cropped to the index's shape, or a filled constant."""
    dim, dtype, index = node.settings["dim"], node.output_specs[0].dtype, node.inputs[2]
    if b.batch_dynamic:  # (the traced shapes hold for the traced batch only)
        raise _refuse(node, "its positions are constants of the traced batch; export with a fixed batch "
                            "(dynamic_axes={}) to write through views or scatter")
    src = node.inputs[1]
    if isinstance(src, Tensor):
        updates = b.input_name(node, 1)
        if src.shape != index.shape:
            updates = b.emit(node, "Slice", [updates, b.constant(np.zeros(index.ndim, np.int64)),
                                             b.constant(np.array(index.shape, np.int64)),
                                             b.constant(np.arange(index.ndim, dtype=np.int64))])[0]
    else:
        updates = b.constant(np.full(index.shape, src, dtype=dtype))
    attributes: dict = {"axis": dim}
    if node.add:
        if b.opset < 16:
            raise _refuse(node, "scatter_add needs opset 16 or later (ScatterElements with a reduction)")
        attributes["reduction"] = "add"
    positions = b.input_name(node, 2)
    if index.dtype != np.int64:
        positions = b.emit(node, "Cast", [positions], to=onnx_dtype(np.dtype(np.int64)))[0]
    return b.emit(node, "ScatterElements", [b.input_name(node, 0), positions, updates], **attributes)


@converts("Permute")
def _permute(b: GraphBuilder, node: Primitive) -> list[str]:
    return b.emit(node, "Transpose", _inputs(b, node), perm=list(node.settings["dims"]))


@converts("BroadcastTo")
def _expand(b: GraphBuilder, node: Primitive) -> list[str]:
    (x,) = _inputs(b, node)
    source, target = node.inputs[0].shape, node.settings["shape"]
    lead = len(target) - len(source)
    shape = [1 if i >= lead and source[i - lead] == n else n for i, n in enumerate(target)]  # 1 keeps the input's
    return b.emit(node, "Expand", [x, b.constant(np.array(shape, dtype=np.int64))])


@converts("SetItem")
def _set_item(b: GraphBuilder, node: Primitive) -> list[str]:
    """A tensor written into a constant filled one (F.pad's constant mode) is a Pad."""
    filled, value = node.inputs
    index = node.settings["index"]
    constant = isinstance(filled, Tensor) and node.next_functions[0] is None and filled._data.size and \
        (filled._data == filled._data.flat[0]).all()
    plain = all(isinstance(p, slice) and p.step in (None, 1) for p in index) and isinstance(value, Tensor)
    if not (constant and plain and len(index) == filled.ndim):
        raise _refuse(node, "writing into a tensor is exported only as constant padding (F.pad)")
    before = [p.indices(n)[0] for p, n in zip(index, filled.shape)]
    after = [n - p.indices(n)[1] for p, n in zip(index, filled.shape)]
    if b.batch_dynamic and (before[0] or after[0]):
        raise _refuse(node, "padding the batch dimension")
    pads = b.constant(np.array(before + after, dtype=np.int64))
    fill = b.constant(filled._data.flat[0], filled.dtype)
    return b.emit(node, "Pad", [b.input_name(node, 1), pads, fill], mode="constant")


@converts("Cat")
def _cat(b: GraphBuilder, node: Primitive) -> list[str]:
    return b.emit(node, "Concat", _inputs(b, node), axis=node.settings["dim"])


@converts("Flip")
def _flip(b: GraphBuilder, node: Primitive) -> list[str]:
    """Slices with step -1 along the flipped axes, from the last element to before the first."""
    (x,) = _inputs(b, node)
    dims = list(node.settings["dims"])
    if not dims:
        return b.emit(node, "Identity", [x])
    bounds = ([-1] * len(dims), [-INT64_MAX] * len(dims), dims, [-1] * len(dims))
    return b.emit(node, "Slice", [x] + [b.constant(np.array(v, dtype=np.int64)) for v in bounds])


@converts("GetItem")
def _getitem(b: GraphBuilder, node: Primitive) -> list[str]:
    """Basic indexing (ints, slices, ...) as Slice then Gather; one 1-D integer index array
    (an input of the node) as Gather."""
    x = b.input_name(node, 0)
    shape = node.inputs[0].shape
    index = list(node.settings["index"])
    if any(p is Ellipsis for p in index):
        at = next(i for i, p in enumerate(index) if p is Ellipsis)
        index[at:at + 1] = [slice(None)] * (len(shape) - (len(index) - 1))
    arrays = [p for p in index if isinstance(p, IndexArray)]
    if any(p is None for p in index) or len(arrays) > 1 or (arrays and len(arrays[0].shape) > 1):
        raise _refuse(node, "only ints, slices and one 1-D index array are exported")
    if arrays and node.inputs[1 + arrays[0].which].dtype == np.bool_:
        raise _refuse(node, "a boolean mask's result has a size that depends on the data")
    starts, ends, axes, steps = [], [], [], []
    for axis, part in enumerate(index):
        if isinstance(part, slice) and part != slice(None):
            start, stop, step = part.indices(shape[axis])
            full_stop = part.stop is None or (step > 0 and stop >= shape[axis])
            starts.append(start)
            ends.append((INT64_MAX if step > 0 else -INT64_MAX) if full_stop or (step < 0 and stop < 0) else stop)
            axes.append(axis)
            steps.append(step)
    out = x
    if axes:
        out = b.emit(node, "Slice", [out] + [b.constant(np.array(v, dtype=np.int64))
                                             for v in (starts, ends, axes, steps)])[0]
    for axis in reversed(range(len(index))):  # from the last, so earlier axes keep their numbers
        part = index[axis]
        if isinstance(part, int):
            out = b.emit(node, "Gather", [out, b.constant(np.array(part, dtype=np.int64))], axis=axis)[0]
        elif isinstance(part, IndexArray):
            indices = b.input_name(node, 1 + part.which)
            if node.inputs[1 + part.which].dtype != np.int64:
                indices = b.emit(node, "Cast", [indices], to=onnx_dtype(np.dtype(np.int64)))[0]
            out = b.emit(node, "Gather", [out, indices], axis=axis)[0]
    return [out]


# --------------------------------------------------------------------------- convolution and pooling

@converts("Conv2d")
def _conv(b: GraphBuilder, node: Primitive) -> list[str]:
    s, weight = node.settings, node.inputs[1]
    return b.emit(node, "Conv", _inputs(b, node), kernel_shape=list(weight.shape[2:]), strides=list(s["stride"]),
                  pads=_pairs(s["padding"], s["padding"]), dilations=list(s["dilation"]), group=s["groups"])


@converts("ConvTranspose2d")
def _conv_transpose(b: GraphBuilder, node: Primitive) -> list[str]:
    s, weight = node.settings, node.inputs[1]
    return b.emit(node, "ConvTranspose", _inputs(b, node), kernel_shape=list(weight.shape[2:]),
                  strides=list(s["stride"]), pads=_pairs(s["padding"], s["padding"]),
                  dilations=list(s["dilation"]), group=s["groups"], output_padding=list(s["output_padding"]))


def _global(node: Primitive, kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int]) -> bool:
    """True when the one window is the whole image."""
    return tuple(kernel) == node.inputs[0].shape[2:] and padding == (0, 0)


@converts("MaxPool2d")
def _max_pool(b: GraphBuilder, node: Primitive) -> list[str]:
    (x,) = _inputs(b, node)
    s = node.settings
    if _global(node, s["kernel_size"], s["stride"], s["padding"]) and s["dilation"] == (1, 1):
        return b.emit(node, "GlobalMaxPool", [x])
    out_hw = node.output_specs[0].shape[2:]
    end = windows.end_padding(node.inputs[0].shape, s["kernel_size"], s["stride"], s["padding"], s["dilation"],
                              out_hw)  # ceil_mode as explicit end padding: onnx agrees with itself
    bottom_right = (s["padding"][0] + end[0], s["padding"][1] + end[1])
    return b.emit(node, "MaxPool", [x], kernel_shape=list(s["kernel_size"]), strides=list(s["stride"]),
                  pads=_pairs(s["padding"], bottom_right), dilations=list(s["dilation"]))


@converts("AvgPool2d")
def _avg_pool(b: GraphBuilder, node: Primitive) -> list[str]:
    (x,) = _inputs(b, node)
    s = node.settings
    kernel, stride, padding = s["kernel_size"], s["stride"], s["padding"]
    if _global(node, kernel, stride, padding) and s["divisor_override"] is None:
        return b.emit(node, "GlobalAveragePool", [x])
    end = windows.end_padding(node.inputs[0].shape, kernel, stride, padding, (1, 1), node.output_specs[0].shape[2:])
    attributes = dict(kernel_shape=list(kernel), strides=list(stride))
    if s["divisor_override"] is not None:
        if end != (0, 0):
            raise _refuse(node, "divisor_override with a partial ceil_mode window")
        out = b.emit(node, "AveragePool", [x], pads=_pairs(padding, padding), count_include_pad=1, **attributes)
        scale = b.constant(kernel[0] * kernel[1] / s["divisor_override"], node.output_specs[0].dtype)
        return b.emit(node, "Mul", [out[0], scale])
    if s["count_include_pad"] and end == (0, 0):
        return b.emit(node, "AveragePool", [x], pads=_pairs(padding, padding), count_include_pad=1, **attributes)
    if s["count_include_pad"] and padding != (0, 0):
        # PyTorch counts the zero padding but not the ceil_mode margin: pad explicitly, then count
        # only what is inside the padded image
        pads = b.constant(np.array([0, 0, padding[0], padding[1], 0, 0, padding[0], padding[1]], dtype=np.int64))
        x = b.emit(node, "Pad", [x, pads], mode="constant")[0]
        padding = (0, 0)
    return b.emit(node, "AveragePool", [x], pads=_pairs(padding, (padding[0] + end[0], padding[1] + end[1])),
                  count_include_pad=0, **attributes)


@converts("AdaptiveAvgPool2d")
def _adaptive(b: GraphBuilder, node: Primitive) -> list[str]:
    """Windows of different sizes (the sizes do not divide): the primitive's own form, rows @ x @
    columns.T with constant averaging matrices, exact since every size is fixed at trace time."""
    (x,) = _inputs(b, node)
    (height, width), (out_h, out_w) = node.inputs[0].shape[2:], node.settings["output_size"]
    dtype = node.output_specs[0].dtype
    rows = b.constant(averaging_matrix(height, out_h, dtype))
    columns = b.constant(averaging_matrix(width, out_w, dtype).T)
    return b.emit(node, "MatMul", [b.emit(node, "MatMul", [rows, x])[0], columns])


@converts("BatchNorm")
def _batch_norm(b: GraphBuilder, node: Primitive) -> list[str]:
    s = node.settings
    if s["training"]:
        raise _refuse(node, "training-mode batch norm; export the model in eval mode")
    x, weight, bias, running_mean, running_var = node.inputs
    dtype = node.output_specs[0].dtype
    channels = x.shape[1]
    names = [b.input_name(node, 0),
             b.input_name(node, 1) if weight is not None else b.constant(np.ones(channels), dtype),
             b.input_name(node, 2) if bias is not None else b.constant(np.zeros(channels), dtype),
             b.array_name(running_mean._data, dtype), b.array_name(running_var._data, dtype)]
    return b.emit(node, "BatchNormalization", names, epsilon=float(s["eps"]))
