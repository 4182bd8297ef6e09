"""The convolution planner: which backend runs a convolution kernel call, and why.

``plan(problem)`` walks the backends of the kernel the problem names in order and returns
the first that can run it and wants to, as a ``Plan`` that names it, says why, and holds the
options it runs with. The rules look only at shapes, the input's memory layout and what is
needed later (the forward keeps x's im2col for the weight gradient only when that gradient is
wanted). Each rule cites the idea in BENCHMARKS.md's log whose measurements justify it.
``plan(problem, backend=...)`` forces a backend that can run the problem: the tests hold every
backend to the reference that way, and ``explain`` prints the plans a program makes.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .. import layout
from ..explain import describe
from .live_window import live_window

Pair = tuple[int, int]

NARROW = 16  # channels in and out up to which two output pixels per im2col row pay (idea 65)


@dataclass
class Problem:
    """One kernel call as the rules see it (a plain dataclass, not a frozen one, which took four
    times as long to build: idea 71).

    ``computes`` is ``"conv2d"``, ``"conv2d_weight"`` (the weight gradient of a conv2d whose
    input is x) or ``"conv_transpose2d"``. ``weight_shape`` is conv2d's (O, C/g, kH, kW),
    or conv_transpose2d's own (C_in, C_out/g, kH, kW); ``out_hw`` is the output's size.
    """

    computes: str
    x_shape: tuple[int, ...]
    weight_shape: tuple[int, ...]
    out_hw: Pair
    stride: Pair
    padding: Pair
    dilation: Pair
    groups: int
    channels_last: bool   # x's channels are innermost in memory
    pixel_rows: bool      # x's pixels are the rows of one block of memory (contiguous channels-last)
    bias: bool = False
    keep_columns: bool = False   # conv2d: keep x's im2col for the weight gradient
    columns_given: bool = False  # conv2d_weight: conv2d's forward kept them
    live: tuple[Pair, Pair] | None = None  # the kernel offsets that touch the input, when some only see padding

    @classmethod
    def of(cls, computes: str, x: np.ndarray, weight_shape: tuple[int, ...], out_hw: Pair, stride: Pair,
           padding: Pair, dilation: Pair, groups: int, bias: bool = False, keep_columns: bool = False,
           columns_given: bool = False) -> Problem:
        out_hw, stride, padding, dilation = tuple(out_hw), tuple(stride), tuple(padding), tuple(dilation)
        if computes == "conv_transpose2d":  # as the adjoint of a convolution of its output, into x's size
            live = live_window((*x.shape[:2], *out_hw), weight_shape[2:], stride, padding, dilation, x.shape[2:])
        else:
            live = live_window(x.shape, weight_shape[2:], stride, padding, dilation, out_hw)
        return cls(computes, x.shape, tuple(weight_shape), out_hw, stride, padding, dilation, groups,
                   layout.is_channels_last(x), x.transpose(0, 2, 3, 1).flags.c_contiguous, bias, keep_columns,
                   columns_given, live)

    @property
    def kernel(self) -> Pair:
        return self.weight_shape[2:]

    @property
    def pixels(self) -> int:
        """Output pixels over the batch: the rows of conv2d's im2col matrix."""
        return self.x_shape[0] * self.out_hw[0] * self.out_hw[1]

    def __str__(self) -> str:
        """x's shape and layout, the weight's shape, and the settings that are not the default."""
        memory = "channels-last" if self.channels_last else "NCHW"
        settings = [f"{name} {a if a == b else (a, b)}" for name, (a, b), default in (
            ("stride", self.stride, 1), ("padding", self.padding, 0), ("dilation", self.dilation, 1))
            if (a, b) != (default, default)]
        settings += [f"groups {self.groups}"] * (self.groups > 1)
        settings += [f"output {self.out_hw}"] * (self.computes == "conv_transpose2d")
        return ", ".join([f"x {self.x_shape} {memory}", f"weight {self.weight_shape}", *settings])


@dataclass
class Plan:
    """The backend chosen for a problem, the reason, and the options it runs with."""

    problem: Problem
    backend: str
    why: str
    options: dict[str, object] = field(default_factory=dict)

    @property
    def computes(self) -> str:
        return self.problem.computes

    def __str__(self) -> str:
        options = "".join(f"; {name}={value}" for name, value in self.options.items())
        return describe(f"{self.problem.computes} {self.problem}", self.backend, self.why + options)


class PlanError(ValueError):
    """A backend was asked for a problem it cannot run."""


# --------------------------------------------------------------------------- the rules

def weight_outweighs(m: int, weight_rows: int) -> bool:
    """A layer's weight (``weight_rows`` x K per group) is larger than its im2col matrix
    (M x K): the columns are then copied in the weight's own order so the weight enters the
    product as a view (idea 32: late ResNet and VGG layers at small batch)."""
    return m < weight_rows


def is_depthwise(channels: int, weight_shape: tuple[int, ...], groups: int) -> bool:
    """One input and one output channel per group (MobileNet's 3x3 layers)."""
    return groups == channels == weight_shape[0] and weight_shape[1] == 1 and groups > 1


def is_its_own_im2col(p: Problem) -> bool:
    """A 1x1 convolution with stride 1 and no padding over pixel rows: x's memory already is
    its im2col matrix (idea 30)."""
    return p.kernel == (1, 1) and p.stride == (1, 1) and p.padding == (0, 0) and p.pixel_rows


def _weight_order(p: Problem) -> bool:
    return weight_outweighs(p.pixels, p.weight_shape[0] // p.groups)


def _im2col_options(p: Problem) -> dict[str, object]:
    """How im2col copies x (idea 7: along its memory), in which order, and whether the bias
    rides in the product (idea 16: a ones entry, one group and the (kH, kW, C) order only)."""
    weight_order, own = _weight_order(p), is_its_own_im2col(p)
    fold_bias = p.bias and p.groups == 1 and not weight_order and not own
    copy = "none" if own and not fold_bias else "rows" if p.channels_last else "columns"
    return {"copy": copy, "weight_order": weight_order, "fold_bias": fold_bias}


def _blocked_chosen(p: Problem) -> bool:
    return p.channels_last and not _weight_order(p) and not is_its_own_im2col(p)


def _transposed_as_convolution(p: Problem) -> bool:
    """Stride 1, one group, a padding no larger than full correlation's, and the output the
    size the full correlation gives: the transposed convolution is then a convolution."""
    (h, w), full = p.x_shape[2:], _full_padding(p)
    return (p.stride == (1, 1) and p.groups == 1 and min(full) >= 0
            and p.out_hw == (h + full[0] - p.padding[0], w + full[1] - p.padding[1]))


def _full_padding(p: Problem) -> Pair:
    return tuple(p.dilation[a] * (p.kernel[a] - 1) - p.padding[a] for a in range(2))


def _always(p: Problem) -> bool:
    return True


def _never(p: Problem) -> bool:
    return False


def _no_options(p: Problem) -> dict[str, object]:
    return {}


@dataclass(frozen=True)
class Backend:
    """A way to run one kind of kernel call. ``runs`` says whether it can run a problem
    (``needs`` says what it needs, for the error where it is forced and cannot); ``wants``
    whether the planner takes it there, for the reason ``why``."""

    name: str
    runs: Callable[[Problem], bool]
    needs: str
    wants: Callable[[Problem], bool]
    why: str
    options: Callable[[Problem], dict[str, object]] = _no_options


def _narrow_wants(p: Problem) -> bool:
    return (p.weight_shape[0] <= NARROW and p.x_shape[1] <= NARROW and p.kernel[1] > 1 and p.pixel_rows
            and not p.keep_columns and _blocked_chosen(p))


def _transposed_wants_convolution(p: Problem) -> bool:
    c_in, c_out = p.x_shape[1], p.weight_shape[1]
    return c_in < c_out or (c_in == c_out and p.x_shape[0] * p.out_hw[0] * p.out_hw[1] >= 16 * c_out)


_LIVE = Backend("live window", lambda p: p.live is not None, "some kernel offsets that only see padding", _always,
                "some kernel offsets only ever multiply padding: run with the offsets that touch the input, as "
                "a padding-0 problem (idea 39)", lambda p: {"offsets": p.live})
_REFERENCE = Backend("reference", _always, "", _never, "")
_ONE_PER_GROUP = "one input and one output channel per group"

BACKENDS: dict[str, tuple[Backend, ...]] = {  # in the planner's order; the last but one always wants
    "conv2d": (
        _LIVE,
        Backend("depthwise", lambda p: is_depthwise(p.x_shape[1], p.weight_shape, p.groups), _ONE_PER_GROUP,
                _always, "one channel in and out per group: per-offset multiply-adds over whole images in x's "
                         "layout (ideas 24, 41)"),
        Backend("narrow", lambda p: (p.groups == 1 and p.stride[1] == 1 and p.dilation[1] == 1
                                     and p.out_hw[1] % 2 == 0 and p.pixels > 0),
                "one group, stride and dilation 1 along rows and an even output width", _narrow_wants,
                f"at most {NARROW} channels in and out and no rows kept for a weight gradient: two neighbouring "
                "output pixels per im2col row make the product twice as wide (idea 65)",
                lambda p: {"fold_bias": p.bias}),
        Backend("im2col blocked", lambda p: p.groups == 1 and p.pixels > 0, "one group", _blocked_chosen,
                "one group over channels-last memory: im2col rows copied a few samples at a time and multiplied "
                "while in cache (ideas 52, 53)", lambda p: {"fold_bias": p.bias, "keep_columns": p.keep_columns}),
        Backend("im2col", _always, "", _always, "x's windows copied into one matrix along x's memory, then one "
                                                "product per group (ideas 7, 30, 32)", _im2col_options),
        _REFERENCE,
    ),
    "conv2d_weight": (
        _LIVE,
        Backend("saved im2col", lambda p: p.columns_given, "the forward's im2col matrix", _always,
                "the forward kept x's im2col: one product with the output gradient (ideas 7, 11, 27)"),
        Backend("depthwise", lambda p: is_depthwise(p.x_shape[1], p.weight_shape, p.groups), _ONE_PER_GROUP,
                _always, "one channel in and out per group: a dot product per kernel offset and channel (idea 24)"),
        Backend("im2col", _always, "", _always, "x's im2col built again, then one product per group (ideas 7, 11, "
                                                "32)", lambda p: {k: v for k, v in _im2col_options(p).items()
                                                                  if k != "fold_bias"}),
        _REFERENCE,
    ),
    "conv_transpose2d": (
        _LIVE,
        Backend("depthwise", lambda p: p.groups == p.x_shape[1] > 1 and p.weight_shape[1] == 1, _ONE_PER_GROUP,
                _always, "one channel in and out per group: per-offset multiply-adds along channels-last rows "
                         "(idea 42)"),
        Backend("as convolution", _transposed_as_convolution,
                "stride 1, one group and at most full-correlation padding", _transposed_wants_convolution,
                "stride 1 with fewer channels in than out, or as many and 16+ pixels per channel: the "
                "convolution of x padded to full correlation with the flipped kernel (ideas 44, 52)",
                lambda p: {"padding": _full_padding(p)}),
        Backend("1x1 products", lambda p: (p.kernel == (1, 1) and p.stride == (1, 1) and p.padding == (0, 0)
                                           and p.out_hw == p.x_shape[2:]),
                "a 1x1 kernel, stride 1 and no padding", _always,
                "a 1x1 kernel: one product per group, nothing to scatter (idea 30)"),
        Backend("scatter", _always, "", _always, "per kernel offset, x times that offset's weights added into its "
                                                 "view of the output (ideas 7, 32, 48)"),
        _REFERENCE,
    ),
}


_PLANS: dict[tuple, Plan] = {}  # the plans made so far, by what they were made from
PLANS_KEPT = 4096


def plan_call(computes: str, x: np.ndarray, weight_shape: tuple[int, ...], out_hw: Pair, stride: Pair,
              padding: Pair, dilation: Pair, groups: int, bias: bool = False, keep_columns: bool = False,
              columns_given: bool = False, backend: str | None = None) -> Plan:
    """``plan(Problem.of(...), backend)``, remembered by the call's shapes, x's strides and
    settings: a training loop asks the same few questions every step (idea 72)."""
    key = (computes, x.shape, x.strides, tuple(weight_shape), out_hw, stride, padding, dilation, groups, bias,
           keep_columns, columns_given, backend)
    known = _PLANS.get(key)
    if known is None:
        if len(_PLANS) >= PLANS_KEPT:
            _PLANS.clear()
        known = _PLANS[key] = plan(Problem.of(computes, x, weight_shape, out_hw, stride, padding, dilation, groups,
                                              bias, keep_columns, columns_given), backend)
    return known


def plan(problem: Problem, backend: str | None = None) -> Plan:
    """The first backend, in ``BACKENDS``' order, that can run ``problem`` and wants to; or the
    one named ``backend``, which must be able to run it."""
    candidates = BACKENDS[problem.computes]
    if backend is not None:
        chosen = next((b for b in candidates if b.name == backend), None)
        if chosen is None:
            raise PlanError(f"{problem.computes}: no backend named {backend!r}; "
                            f"the backends are {[b.name for b in candidates]}")
        if not chosen.runs(problem):
            raise PlanError(f"{problem.computes}: backend {backend!r} cannot run {problem}: it needs {chosen.needs}")
        return Plan(problem, backend, "asked for", chosen.options(problem))
    for candidate in candidates:
        if candidate.runs(problem) and candidate.wants(problem):
            return Plan(problem, candidate.name, candidate.why, candidate.options(problem))
    raise AssertionError(f"{problem.computes}: no backend took {problem}")  # the general one always does
