"""Convolution kernels: im2col + one matrix product, and the transposed convolution's scatter.

im2col copies the input's windows into a matrix whose layout follows the input's memory:
windows as rows (channels innermost) for channels-last memory, as columns (width innermost)
for NCHW memory, so the copy always runs along contiguous memory. Results are NCHW views of
channels-last memory, which the next convolution and the elementwise kernels read without a
copy. For one group the bias rides along in the product: im2col gains a column of ones and
the weight matrix a row holding the bias; rows from channels-last memory are copied a few
samples at a time and multiplied while they are still in cache.
"""
from __future__ import annotations

import math
import weakref
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .. import windows
from ..versions import version_of
from .layout import is_channels_last
from .linalg import grouped_matmul, grouped_matmul_inner
from .reduce import sum_axes
from .threads import MULTIPLY_ADDS_PER_ELEMENT, for_each_slice

Pair = tuple[int, int]


def _weight_matrix(weight: np.ndarray, groups: int, weight_order: bool = False,
                   bias: np.ndarray | None = None) -> np.ndarray:
    """The weight as the (G, K, O/g) right-hand side of a product with im2col rows, K in the
    rows' order; a bias becomes a last row (for rows that end in a ones entry)."""
    o, cg, kh, kw = weight.shape
    grouped = weight.reshape(groups, o // groups, cg, kh, kw)
    if weight_order:  # the weight enters as a view, transposed
        matrix = grouped.reshape(groups, o // groups, -1).transpose(0, 2, 1)
    else:
        matrix = grouped.transpose(0, 3, 4, 2, 1).reshape(groups, kh * kw * cg, o // groups)
    if bias is not None:
        matrix = np.concatenate([matrix, bias.reshape(1, 1, o).astype(matrix.dtype)], axis=1)
    return matrix


@dataclass
class WindowRows:
    """The windows of channels-last x as im2col rows, copied a slice of the batch at a time
    into blocks of shape (G, samples, OH, OW, K), K in (kH, kW, C/g) order (or the weight's
    (C/g, kH, kW) with ``weight_order``) plus a last entry of ones with ``ones``. With
    ``pixels`` > 1 (one group, stride and dilation 1 along W) a row holds the windows of that
    many neighbouring output pixels, K = kH * (kW + pixels - 1) * C, for ``_wide_weight``."""

    view: np.ndarray  # (G, N, OH, OW / pixels, K split into axes): the padded input's windows
    ones: bool

    @classmethod
    def of(cls, x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair, out_hw: Pair,
           groups: int, ones: bool = False, weight_order: bool = False, pixels: int = 1) -> WindowRows:
        n, c = x.shape[:2]
        padded = windows.pad(x, padding)
        if pixels > 1:  # each window row runs on over the next pixels' columns: contiguous memory
            # (N, Hp, Wp, C) in one block of memory; the strides are derived from the sizes, since
            # those NumPy reports for a size-1 axis are arbitrary
            rows = np.ascontiguousarray(padded.transpose(0, 2, 3, 1))
            (kh, kw), (oh, ow), item = kernel, out_hw, rows.itemsize
            s = (rows.shape[1] * rows.shape[2] * c * item, rows.shape[2] * c * item, c * item, item)
            view = as_strided(rows, (1, n, oh, ow // pixels, kh, (kw + pixels - 1) * c),
                              (0, s[0], stride[0] * s[1], pixels * s[2], dilation[0] * s[1], s[3]), writeable=False)
            return cls(view, ones)
        view = windows.sliding(padded, kernel, stride, out_hw, dilation)    # (N, C, OH, OW, kH, kW)
        view = view.reshape(n, groups, c // groups, *out_hw, *kernel, copy=False)
        return cls(view.transpose((1, 0, 3, 4, 2, 5, 6) if weight_order else (1, 0, 3, 4, 5, 6, 2)), ones)

    @property
    def shape(self) -> tuple[int, ...]:
        g, n, oh, ow, *k = self.view.shape
        return g, n, oh, ow, math.prod(k) + self.ones

    def copy(self, batch: slice, block: np.ndarray) -> None:
        """Copy the windows of the samples ``batch`` into ``block`` (G, len(batch), OH, OW, K)."""
        source = self.view[:, batch]
        k = block.shape[-1] - self.ones
        np.copyto(block[..., :k].reshape(source.shape, copy=False), source)
        if self.ones:
            block[..., k] = 1


NARROW = 16  # channels in and out up to which two pixels per im2col row pay


def _pixels_per_window_row(x: np.ndarray, weight_shape: tuple[int, ...], stride: Pair, dilation: Pair, out_w: int,
                    columns_wanted: bool) -> int:
    """2 for narrow layers (at most 16 channels in and out, ResNet-20's first stage): their
    products have 16 columns, which BLAS runs at a third of its speed, and two pixels a row
    make 32 at a third more multiply-adds (0.72-0.93 of the time on such layers, 1.0-1.08 at 32
    channels out). Not where the rows are kept: the weight gradient reads one pixel's."""
    narrow = weight_shape[0] <= NARROW and x.shape[1] <= NARROW and weight_shape[3] > 1
    along_rows = stride[1] == 1 and dilation[1] == 1 and out_w % 2 == 0
    contiguous = x.transpose(0, 2, 3, 1).flags.c_contiguous
    return 2 if narrow and along_rows and contiguous and not columns_wanted else 1


def _wide_weight(weight: np.ndarray, pixels: int, bias: np.ndarray | None = None) -> np.ndarray:
    """The (K, pixels * O) weight for ``WindowRows`` with ``pixels``: output pixel q of a row
    reads columns q .. q + kW - 1 of the row's wider window (zeros elsewhere); a bias becomes a
    last row, repeated for each pixel."""
    o, c, kh, kw = weight.shape
    wide = np.zeros((kh, kw + pixels - 1, c, pixels, o), dtype=weight.dtype)
    taps = weight.transpose(2, 3, 1, 0)                                       # (kH, kW, C, O)
    for q in range(pixels):
        wide[:, q:q + kw, :, q] = taps
    matrix = wide.reshape(-1, pixels * o)
    if bias is not None:
        matrix = np.concatenate([matrix, np.tile(bias, pixels).reshape(1, -1).astype(matrix.dtype)])
    return matrix


@dataclass
class Columns:
    """An input's im2col matrix, per group: ``rows`` (G, M, K) or ``k_major`` (G, K, M), where
    M runs over (N, OH, OW) and K over (kH, kW, C/g), or over (C/g, kH, kW) (the weight's own
    order) with ``weight_order``, which k_major columns always have.

    With ``ones`` (one group only) K gains a last entry of ones, so the product with a
    weight matrix extended by the bias adds the bias for free.
    """

    data: np.ndarray
    k_major: bool
    ones: bool = False
    weight_order: bool = False

    @classmethod
    def of(cls, x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair,
           out_hw: Pair, groups: int, ones: bool = False, weight_order: bool = False) -> Columns:
        """Rows in (kH, kW, C/g) order copy fastest from channels-last memory; ``weight_order``
        asks for (C/g, kH, kW) rows instead, worth it where the weight is the larger operand
        (see ``_weight_outweighs``)."""
        if ones and (groups != 1 or weight_order):
            raise ValueError("Columns: a ones entry needs a single group and the (kH, kW, C) order")
        if not ones and _is_its_own_im2col(x, kernel, stride, padding):  # both orders at once
            n, c, h, w = x.shape
            rows = x.transpose(0, 2, 3, 1).reshape(n * h * w, groups, c // groups)
            return cls(rows.transpose(1, 0, 2), k_major=False, weight_order=True)
        if is_channels_last(x):  # one copy of the window view, as rows
            rows = WindowRows.of(x, kernel, stride, padding, dilation, out_hw, groups, ones, weight_order)
            data = np.empty(rows.shape, dtype=x.dtype)
            for_each_slice(lambda b: rows.copy(b, data[:, b]), x.shape[0], data.size)
            return cls.of_rows(data, ones, weight_order)
        xp = windows.pad(x, padding)
        n, c = x.shape[:2]
        (kh, kw), (oh, ow), cg = kernel, out_hw, c // groups
        k = kh * kw * cg
        view = windows.sliding(xp, kernel, stride, out_hw, dilation)          # (N, C, OH, OW, kH, kW)
        data = np.empty((k * groups + ones, n, oh, ow), dtype=x.dtype)
        body = data[:k * groups].reshape(c, kh, kw, n, oh, ow)

        def copy(batch: slice) -> None:  # one copy per kernel offset, along rows of the image
            for i in range(kh):
                for j in range(kw):
                    body[:, i, j, batch] = view[batch, :, :, :, i, j].transpose(1, 0, 2, 3)

        for_each_slice(copy, n, body.size)
        if ones:
            data[k] = 1
        return cls(data.reshape(groups, k + ones, n * oh * ow), k_major=True, ones=ones, weight_order=True)

    @classmethod
    def of_rows(cls, data: np.ndarray, ones: bool = False, weight_order: bool = False) -> Columns:
        """Columns from ``WindowRows`` blocks filled for the whole batch, (G, N, OH, OW, K)."""
        return cls(data.reshape(data.shape[0], -1, data.shape[-1]), k_major=False, ones=ones,
                   weight_order=weight_order)

    def times_weight(self, weight: np.ndarray, groups: int, bias: np.ndarray | None = None) -> np.ndarray:
        """The convolution as (G, M, O/g) = columns @ weight (+ bias, when built with ones)."""
        matrix = _weight_matrix(weight, groups, self.weight_order, bias if self.ones else None)
        return grouped_matmul(self.data.transpose(0, 2, 1) if self.k_major else self.data, matrix)

    def weight_gradient(self, rows: np.ndarray, kernel: Pair) -> tuple[np.ndarray, np.ndarray | None]:
        """(O, C/g, kH, kW) = output-gradient rows (G, M, O/g) transposed @ columns, and with
        the ones entry the bias gradient (the rows summed over M), which that entry's column
        of the product is (else None)."""
        g, _, og = rows.shape
        kh, kw = kernel
        k = self.data.shape[1 if self.k_major else 2] - self.ones
        if self.k_major and _weight_outweighs(rows.shape[1], og):  # (O/g, M) @ (M, K): the weight's layout
            grad = grouped_matmul_inner(rows.transpose(0, 2, 1), self.data.transpose(0, 2, 1))
            return grad[:, :, :k].reshape(g * og, -1, kh, kw), (grad[0, :, k].copy() if self.ones else None)
        if self.k_major:  # (K, M) @ (M, O/g): BLAS is faster this way round for small K
            grad = grouped_matmul_inner(self.data, rows)
            weight = np.ascontiguousarray(grad[:, :k].transpose(0, 2, 1)).reshape(g * og, -1, kh, kw)
            return weight, (grad[0, k].copy() if self.ones else None)
        grad = grouped_matmul_inner(rows.transpose(0, 2, 1), self.data)
        if self.weight_order:
            return grad.reshape(g * og, -1, kh, kw), None
        weight = np.ascontiguousarray(grad[:, :, :k].reshape(g * og, kh, kw, -1).transpose(0, 3, 1, 2))
        return weight, (grad[0, :, k].copy() if self.ones else None)


CACHE_BLOCK = 1 << 18  # elements of im2col rows copied before they are multiplied (1 MiB of float32: in L2;
# measured over 32K-2M, 256K-512K was fastest or close on most layers)


def _window_product(rows: WindowRows, matrix: np.ndarray, keep: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """im2col rows @ matrix for one group (a row of the result per output pixel, or per group
    of ``pixels`` neighbours), the rows copied a few samples at a time and multiplied while
    they are in cache (seed CNN's conv2 at batch 128, one core:
    3.4-3.5 ms, against 4.0-4.8 for all the rows and then one product). With ``keep`` the rows
    are kept for the weight gradient, (1, N, OH, OW, K); else each worker reuses one block."""
    _, n, oh, ow, k = rows.shape
    per_sample = oh * ow
    step = max(1, CACHE_BLOCK // (per_sample * k))
    dtype = rows.view.dtype
    data = np.empty(rows.shape, dtype=dtype) if keep else None
    out = np.empty((n * per_sample, matrix.shape[1]), dtype=np.result_type(dtype, matrix))

    def part(batch: slice) -> None:
        scratch = None if keep else np.empty((1, min(step, batch.stop - batch.start), oh, ow, k), dtype=dtype)
        for start in range(batch.start, batch.stop, step):
            block = slice(start, min(start + step, batch.stop))
            target = data[:, block] if keep else scratch[:, :block.stop - block.start]
            rows.copy(block, target)
            np.matmul(target.reshape(-1, k), matrix, out=out[block.start * per_sample:block.stop * per_sample])

    for_each_slice(part, n, out.shape[0] * k * (1 + matrix.shape[1] // MULTIPLY_ADDS_PER_ELEMENT))
    return out, data


def _from_group_columns(y: np.ndarray, n: int, h: int, w: int) -> np.ndarray:
    """(G, N*H*W, O/g) -> NCHW view of channels-last (N, H, W, O) memory."""
    g, _, og = y.shape
    if g == 1:
        return y[0].reshape(n, h, w, og).transpose(0, 3, 1, 2)
    return y.reshape(g, n, h, w, og).transpose(1, 2, 3, 0, 4).reshape(n, h, w, g * og).transpose(0, 3, 1, 2)


def _to_group_rows(y: np.ndarray, groups: int) -> np.ndarray:
    """NCHW (N, O, H, W) -> (G, N*H*W, O/g)."""
    n, o, h, w = y.shape
    rows = y.transpose(0, 2, 3, 1).reshape(n * h * w, groups, o // groups)
    return rows[None, :, 0] if groups == 1 else rows.transpose(1, 0, 2)


def _add_bias(out: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """``out += bias`` per channel, in place."""
    if bias is not None:
        column = bias[:, None, None]
        for_each_slice(lambda b: np.add(out[b], column, out=out[b]), out.shape[0], out.size)
    return out


def _live_window(x_shape: tuple[int, ...], kernel: Pair, stride: Pair, padding: Pair, dilation: Pair,
                 out_hw: Pair) -> tuple[Pair, Pair] | None:
    """The (first, last) kernel offsets along each axis that ever touch the input (stride-1
    axes only), or None when every offset does. A ResNet's 3x3 layers on a 1x1 image read
    their input with the centre offset alone: the other eight only multiply padding."""
    spans = tuple(windows.live_taps(x_shape[2 + a], kernel[a], padding[a], dilation[a], out_hw[a])
                  if stride[a] == 1 else (0, kernel[a] - 1) for a in range(2))
    if spans == ((0, kernel[0] - 1), (0, kernel[1] - 1)) or any(first > last for first, last in spans):
        return None  # all live, or none (an output of padding alone: the full computation gives its zeros)
    return spans


def _live_input(x: np.ndarray, live: tuple[Pair, Pair], stride: Pair, padding: Pair, dilation: Pair,
                out_hw: Pair) -> np.ndarray:
    """x padded and cut to what the live offsets read: a padding-0 convolution with the live
    part of the kernel gives the same output."""
    (i0, i1), (j0, j1) = live
    return windows.pad(x, padding)[:, :, i0 * dilation[0]:(out_hw[0] - 1) * stride[0] + i1 * dilation[0] + 1,
                                   j0 * dilation[1]:(out_hw[1] - 1) * stride[1] + j1 * dilation[1] + 1]


_POISONED: dict[int, tuple] = {}  # id(weight) -> (weak reference, version, live window, channels)


def _poisoned_channels(weight: np.ndarray, live: tuple[Pair, Pair]) -> np.ndarray | None:
    """The output channels whose weight is NaN or infinite at an offset outside ``live``
    (offsets that only multiply padding), None when there is none. Reading a whole weight
    every forward costs a deep layer on a 1x1 image as much as its product, so the answer is
    kept per weight array and version: weights change in place, and a change bumps it."""
    version, entry = version_of(weight), _POISONED.get(id(weight))
    if entry is not None and entry[0]() is weight and entry[1:3] == (version, live):
        return entry[3]
    found = None
    if not _all_finite(weight):
        (i0, i1), (j0, j1) = live
        dead = ~np.isfinite(weight)
        dead[:, :, i0:i1 + 1, j0:j1 + 1] = False
        channels = dead.any(axis=(1, 2, 3))
        found = channels if channels.any() else None
    key = id(weight)
    _POISONED[key] = (weakref.ref(weight, lambda _: _POISONED.pop(key, None)), version, live, found)
    return found


def _all_finite(weight: np.ndarray) -> bool:
    """Whether every element of a float weight is finite, from its rows' sums against ones: a
    matrix-vector product runs at BLAS's speed (a quarter of ``isfinite``'s pass and mask), NaN
    and infinity carry into the sums, and a sum that overflows only sends the caller to the
    exact check."""
    if weight.flags.c_contiguous and weight.dtype in (np.float32, np.float64):
        rows = weight.reshape(weight.shape[0], -1)
        with np.errstate(over="ignore", invalid="ignore"):
            return bool(np.isfinite(rows @ np.ones(rows.shape[1], weight.dtype)).all())
    return bool(np.isfinite(weight).all())


def _is_its_own_im2col(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair) -> bool:
    """A 1x1 convolution with stride 1 and no padding over channels-last memory: x's memory
    already is its im2col matrix (pixels as rows, channels innermost), so nothing is copied
    (ResNet's bottlenecks, MobileNet's and DenseNet's 1x1 layers)."""
    return (tuple(kernel) == (1, 1) and tuple(stride) == (1, 1) and tuple(padding) == (0, 0)
            and x.transpose(0, 2, 3, 1).flags.c_contiguous)


def _weight_outweighs(m: int, weight_rows: int) -> bool:
    """True when a layer's weight (``weight_rows`` x K per group) is larger than its columns
    (M x K): then the columns are copied into the weight's own order and the weight enters
    the product as a view. Late ResNet and VGG layers at small batch: permuting a 512x512x3x3
    weight took 4.6 ms, for a 1 ms product."""
    return m < weight_rows


def _is_depthwise(channels: int, weight_shape: tuple[int, ...], groups: int) -> bool:
    """One input channel and one output channel per group (MobileNet's 3x3 layers): per-offset
    multiply-adds over whole images beat one tiny matrix product per channel."""
    return groups == channels == weight_shape[0] and weight_shape[1] == 1 and groups > 1


def _depthwise_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, stride: Pair,
                       padding: Pair, dilation: Pair, out_hw: Pair) -> np.ndarray:
    """out[:, c] = sum over offsets (i, j) of that offset's view of x[:, c] times weight[c, 0, i, j],
    in x's memory layout (channels-last stays channels-last)."""
    n, c = x.shape[:2]
    kh, kw = weight.shape[2:]
    xp = windows.pad(x, padding)
    dtype = np.result_type(x, weight)
    if is_channels_last(x):
        return _depthwise_forward_rows(xp, weight, bias, stride, dilation, out_hw, dtype)
    out = np.empty((n, c, *out_hw), dtype=dtype)
    taps = weight.reshape(c, kh * kw).T[:, :, None, None]                 # (kH*kW, C, 1, 1)

    def part(batch: slice) -> None:
        target = out[batch]
        scratch = np.empty_like(target)
        for k, view in enumerate(windows.offsets(xp[batch], (kh, kw), stride, out_hw, dilation)):
            if k == 0:
                np.multiply(view, taps[0], out=target)
            else:
                target += np.multiply(view, taps[k], out=scratch)
        if bias is not None:
            target += bias[:, None, None]

    for_each_slice(part, n, out.size * kh * kw)
    return out


def _depthwise_forward_rows(xp: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, stride: Pair,
                            dilation: Pair, out_hw: Pair, dtype: np.dtype) -> np.ndarray:
    """``_depthwise_forward`` for channels-last input: each offset's view is (N, OH, OW * C) with
    whole output rows contiguous, against that offset's weights tiled OW times, so NumPy's loops
    run along rows instead of one pixel's C channels. With a column stride s the padded input
    is first split into its s column phases (one copy), each read at stride 1."""
    n, c = xp.shape[:2]
    kh, kw = weight.shape[2:]
    (oh, ow), (dh, dw), (sh, sw) = out_hw, dilation, stride
    out = np.empty((n, oh, ow, c), dtype=dtype)
    rows = out.reshape(n, oh, ow * c)
    taps = np.tile(weight.reshape(c, kh * kw).T, (1, ow))                    # (kH*kW, OW*C)
    pixels = xp.transpose(0, 2, 3, 1)                                      # (N, Hp, Wp, C)

    def part(batch: slice) -> None:
        target = rows[batch]
        scratch = np.empty_like(target)
        phases = [pixels[batch, :, b::sw] if sw == 1 else np.ascontiguousarray(pixels[batch, :, b::sw])
                  for b in range(sw)]
        for k in range(kh * kw):
            i, j = divmod(k, kw)
            phase, start = phases[j * dw % sw], j * dw // sw
            view = phase[:, i * dh:i * dh + (oh - 1) * sh + 1:sh, start:start + ow].reshape(-1, oh, ow * c)
            if k == 0:
                np.multiply(view, taps[0], out=target)
            else:
                target += np.multiply(view, taps[k], out=scratch)
        if bias is not None:
            target += np.tile(bias, ow)

    for_each_slice(part, n, out.size * kh * kw)
    return out.transpose(0, 3, 1, 2)


def _depthwise_transpose(x: np.ndarray, weight: np.ndarray, out_hw: Pair, stride: Pair, padding: Pair,
                         dilation: Pair) -> np.ndarray:
    """The transposed depthwise convolution (a depthwise layer's input gradient): each input
    pixel times its channel's weight at offset (i, j) is added where that offset lands, as
    whole rows of channels-last memory when the column stride is 1 (a grouped product per
    channel would be a thousand 1x1 matrix products)."""
    n, c, h, w = x.shape
    kh, kw = weight.shape[2:]
    (dh, dw), (sh, sw), dtype = dilation, stride, np.result_type(x, weight)
    padded = np.zeros((n, out_hw[0] + 2 * padding[0], out_hw[1] + 2 * padding[1], c), dtype=dtype)
    source = x.transpose(0, 2, 3, 1)                                         # (N, H, W, C)
    taps = weight.reshape(c, kh * kw).T                                     # (kH*kW, C)
    if sw == 1:  # whole rows: (N, H, W*C) against a tap tiled W times
        source, taps = source.reshape(n, h, w * c), np.tile(taps, (1, w))

    def part(batch: slice) -> None:
        scratch = np.empty(source[batch].shape, dtype=dtype)
        for k in range(kh * kw):
            i, j = divmod(k, kw)
            target = padded[batch, i * dh:i * dh + (h - 1) * sh + 1:sh, j * dw:j * dw + (w - 1) * sw + 1:sw]
            if sw == 1:
                target = target.reshape(-1, h, w * c, copy=False)  # a view: written through
            target += np.multiply(source[batch], taps[k], out=scratch)

    for_each_slice(part, n, x.size * kh * kw)  # a multiply-add over x per offset
    return windows.crop(padded.transpose(0, 3, 1, 2), padding, out_hw)


def _depthwise_weight_gradient(x: np.ndarray, grad_out: np.ndarray, kernel: Pair, stride: Pair,
                               padding: Pair, dilation: Pair) -> np.ndarray:
    """grad_w[c, 0, i, j] = sum over (n, oh, ow) of grad_out[:, c] * offset (i, j)'s view of x[:, c]."""
    n, c = x.shape[:2]
    kh, kw = kernel
    xp = windows.pad(x, padding)

    def part(batch: slice) -> np.ndarray:
        views = windows.offsets(xp[batch], kernel, stride, grad_out.shape[2:], dilation)
        g = grad_out[batch]
        return np.stack([np.einsum("nchw,nchw->c", g, view) for view in views], axis=1)   # (C, kH*kW)

    partial = for_each_slice(part, n, grad_out.size * kh * kw)
    return np.sum(partial, axis=0).reshape(c, 1, kh, kw)


# --------------------------------------------------------------------------- kernels

def conv2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, stride: Pair, padding: Pair,
           dilation: Pair, groups: int, columns_wanted: bool = True) -> tuple[np.ndarray, Columns | None]:
    """The convolution, and x's im2col matrix for the weight gradient to reuse (None for a
    depthwise convolution, which needs none, and where ``columns_wanted`` is off: channels-last
    input then goes through one reused block of im2col rows per worker)."""
    n = x.shape[0]
    kernel = weight.shape[2:]
    oh, ow = windows.output_hw(x.shape, kernel, stride, padding, dilation)
    live = _live_window(x.shape, kernel, stride, padding, dilation, (oh, ow))
    if live is not None:  # leave out the offsets that only see padding (they add zeros)
        (i0, i1), (j0, j1) = live
        out, columns = conv2d(_live_input(x, live, stride, padding, dilation, (oh, ow)),
                              weight[:, :, i0:i1 + 1, j0:j1 + 1], bias, stride, (0, 0), dilation, groups,
                              columns_wanted)
        poisoned = _poisoned_channels(weight, live)  # inf * 0 and NaN * 0 are NaN in PyTorch's im2col
        if poisoned is not None:
            out[:, poisoned] = np.nan
        return out, columns
    if _is_depthwise(x.shape[1], weight.shape, groups):
        return _depthwise_forward(x, weight, bias, stride, padding, dilation, (oh, ow)), None
    weight_order = _weight_outweighs(n * oh * ow, weight.shape[0] // groups)
    own_im2col = _is_its_own_im2col(x, kernel, stride, padding)
    fold_bias = bias is not None and groups == 1 and not weight_order and not own_im2col
    if groups == 1 and not weight_order and not own_im2col and is_channels_last(x) and n * oh * ow > 0:
        pixels = _pixels_per_window_row(x, weight.shape, stride, dilation, ow, columns_wanted)
        rows = WindowRows.of(x, kernel, stride, padding, dilation, (oh, ow), 1, ones=fold_bias, pixels=pixels)
        folded = bias if fold_bias else None
        matrix = _wide_weight(weight, pixels, folded) if pixels > 1 else _weight_matrix(weight, 1, bias=folded)[0]
        product, data = _window_product(rows, matrix, keep=columns_wanted)
        out = _from_group_columns(product.reshape(1, -1, weight.shape[0]), n, oh, ow)  # a row per pixel
        columns = None if data is None else Columns.of_rows(data, ones=fold_bias)
    else:
        columns = Columns.of(x, kernel, stride, padding, dilation, (oh, ow), groups, ones=fold_bias,
                             weight_order=weight_order)
        out = _from_group_columns(columns.times_weight(weight, groups, bias if fold_bias else None), n, oh, ow)
    return (out if fold_bias else _add_bias(out, bias)), columns


def conv2d_reference(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, stride: Pair,
                     padding: Pair, dilation: Pair, groups: int) -> tuple[np.ndarray, None]:
    """out[n, o] = sum over the window of x (group of o) * weight[o], one einsum."""
    n, c = x.shape[:2]
    o, cg, kh, kw = weight.shape
    oh, ow = windows.output_hw(x.shape, (kh, kw), stride, padding, dilation)
    view = windows.sliding(windows.pad(x, padding), (kh, kw), stride, (oh, ow), dilation)
    view = view.reshape(n, groups, cg, oh, ow, kh, kw)
    out = np.einsum("ngchwij,gocij->ngohw", view, weight.reshape(groups, o // groups, cg, kh, kw))
    out = out.reshape(n, o, oh, ow)
    return (out if bias is None else out + bias[:, None, None]), None


def conv2d_weight(x: np.ndarray, grad_out: np.ndarray, kernel: Pair, stride: Pair, padding: Pair,
                  dilation: Pair, groups: int, columns: Columns | None = None,
                  with_bias: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """d(conv2d)/d(weight) contracted with ``grad_out``; ``columns`` is x's im2col when known.
    With ``with_bias``, also the bias gradient: free when the columns carry a ones entry."""
    live = _live_window(x.shape, kernel, stride, padding, dilation, grad_out.shape[2:])
    if live is not None:  # offsets that only see padding: zero gradient (as conv2d left them out)
        (i0, i1), (j0, j1) = live
        found = conv2d_weight(_live_input(x, live, stride, padding, dilation, grad_out.shape[2:]), grad_out,
                              (i1 - i0 + 1, j1 - j0 + 1), stride, (0, 0), dilation, groups, columns, with_bias)
        part = found[0] if with_bias else found
        weight = np.zeros((grad_out.shape[1], x.shape[1] // groups, *kernel), dtype=part.dtype)
        weight[~np.isfinite(grad_out).all(axis=(0, 2, 3))] = np.nan  # inf * 0, NaN * 0: as PyTorch's im2col
        weight[:, :, i0:i1 + 1, j0:j1 + 1] = part
        return (weight, found[1]) if with_bias else weight
    bias = None
    if columns is None and _is_depthwise(x.shape[1], (grad_out.shape[1], x.shape[1] // groups), groups):
        weight = _depthwise_weight_gradient(x, grad_out, kernel, stride, padding, dilation)
    else:
        if columns is None:
            m = grad_out.shape[0] * grad_out.shape[2] * grad_out.shape[3]
            columns = Columns.of(x, kernel, stride, padding, dilation, grad_out.shape[2:], groups,
                                 weight_order=_weight_outweighs(m, grad_out.shape[1] // groups))
        weight, bias = columns.weight_gradient(_to_group_rows(grad_out, groups), kernel)
    if not with_bias:
        return weight
    return weight, (sum_axes(grad_out, (0, 2, 3)) if bias is None else bias)


def conv2d_weight_reference(x: np.ndarray, grad_out: np.ndarray, kernel: Pair, stride: Pair,
                            padding: Pair, dilation: Pair, groups: int, columns: Columns | None = None,
                            with_bias: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """grad_w[o, c, i, j] = sum over (n, oh, ow) of grad_out[n, o] * window[n, c, i, j];
    grad_b[o] = sum over (n, oh, ow) of grad_out[n, o]."""
    n, c = x.shape[:2]
    o, (oh, ow), cg = grad_out.shape[1], grad_out.shape[2:], c // groups
    view = windows.sliding(windows.pad(x, padding), kernel, stride, (oh, ow), dilation)
    grad = np.einsum("ngohw,ngchwij->gocij", grad_out.reshape(n, groups, o // groups, oh, ow),
                     view.reshape(n, groups, cg, oh, ow, *kernel))
    weight = grad.reshape(o, cg, *kernel)
    return (weight, grad_out.sum((0, 2, 3))) if with_bias else weight


def conv_transpose2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, out_hw: Pair,
                     stride: Pair, padding: Pair, dilation: Pair, groups: int) -> np.ndarray:
    """Scatter every input pixel's weighted kernel into the output (the adjoint of conv2d):
    per kernel offset, one matrix product added into that offset's view of the output.

    Offsets that only write into the cropped padding are left out; depthwise layers add
    per-offset products along rows; at stride 1 with few channels, or fewer channels in than
    out, it runs as the equivalent convolution; 1x1 layers are one product per group."""
    n, c_in, h, w = x.shape
    _, cg, kh, kw = weight.shape
    live = _live_window((n, c_in, *out_hw), (kh, kw), stride, padding, dilation, (h, w))
    if live is not None:  # offsets whose writes all land in the cropped-off padding
        (i0, i1), (j0, j1) = live
        block_hw = tuple((size - 1) * stride[a] + (last - first) * dilation[a] + 1
                         for a, (size, (first, last)) in enumerate(zip((h, w), live)))
        block = conv_transpose2d(x, weight[:, :, i0:i1 + 1, j0:j1 + 1], None, block_hw, stride, (0, 0),
                                 dilation, groups)
        padded = np.zeros((n, out_hw[0] + 2 * padding[0], out_hw[1] + 2 * padding[1], groups * cg),
                          dtype=block.dtype).transpose(0, 3, 1, 2)
        top, left = i0 * dilation[0], j0 * dilation[1]
        padded[:, :, top:top + block_hw[0], left:left + block_hw[1]] = block
        return _add_bias(windows.crop(padded, padding, out_hw), bias)
    if groups == c_in > 1 and cg == 1:  # depthwise: per-offset multiply-adds, no products
        return _add_bias(_depthwise_transpose(x, weight, out_hw, stride, padding, dilation), bias)
    flipped = weight.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1]  # as a convolution's (C_out, C_in, kH, kW)
    full = tuple(dilation[a] * (weight.shape[2 + a] - 1) - padding[a] for a in range(2))
    if (tuple(stride) == (1, 1) and groups == 1 and min(full) >= 0
            and tuple(out_hw) == (h + full[0] - padding[0], w + full[1] - padding[1])):
        # at stride 1 the transposed convolution is the convolution of x, padded to full
        # correlation, with the flipped kernel: one im2col product with K = kH*kW*C_in instead
        # of kH*kW products with K = C_in added into shifted views. Measured faster with fewer
        # channels in than out (DenseNet's 32 -> 128: 0.4-0.7 of the time), and with as many
        # where the image has at least 16 pixels per channel (0.66-0.88); slower with more in
        # than out (the seed CNN's 64 -> 32: 1.3-1.4) and for large weights on tiny images
        if c_in < cg or (c_in == cg and n * out_hw[0] * out_hw[1] >= 16 * cg):
            return conv2d(x, flipped, bias, stride, full, dilation, groups, columns_wanted=False)[0]
    grouped = weight.reshape(groups, c_in // groups, cg, kh, kw)
    if (kh, kw) == (1, 1) and tuple(stride) == (1, 1) and tuple(padding) == (0, 0) and tuple(out_hw) == (h, w):
        # one product per group: nothing to scatter, no zero-filled image
        out = _from_group_columns(grouped_matmul(_to_group_rows(x, groups), grouped[..., 0, 0]), n, h, w)
        return _add_bias(out, bias)
    (ph, pw), c_out = padding, groups * cg
    padded = np.zeros((n, out_hw[0] + 2 * ph, out_hw[1] + 2 * pw, c_out), dtype=x.dtype).transpose(0, 3, 1, 2)

    def scatter(batch: slice) -> None:  # each worker owns a slice of the batch
        rows = _to_group_rows(x[batch], groups)                          # (G, n*H*W, C_in/g)
        size = batch.stop - batch.start
        targets = windows.offsets(padded[batch], (kh, kw), stride, (h, w), dilation)
        if _weight_outweighs(rows.shape[1], c_in // groups):  # one product with the weight as it lies
            products = np.matmul(rows, grouped.reshape(groups, c_in // groups, -1)).reshape(
                groups, rows.shape[1], cg, kh, kw)
            for k, target in enumerate(targets):
                target += _from_group_columns(products[..., k // kw, k % kw], size, h, w)
            return
        for k, target in enumerate(targets):
            i, j = divmod(k, kw)
            target += _from_group_columns(np.matmul(rows, grouped[:, :, :, i, j]), size, h, w)

    multiply_adds = n * h * w * c_in * cg * kh * kw // groups  # the products' work, more than the adds'
    for_each_slice(scatter, n, padded.size + multiply_adds // MULTIPLY_ADDS_PER_ELEMENT)
    return _add_bias(windows.crop(padded, padding, out_hw), bias)


def conv_transpose2d_reference(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None,
                               out_hw: Pair, stride: Pair, padding: Pair, dilation: Pair,
                               groups: int) -> np.ndarray:
    """Per kernel offset, x times that offset's weights added where the offset lands."""
    n, c_in, h, w = x.shape
    _, cg, kh, kw = weight.shape
    padded = np.zeros((n, groups * cg, out_hw[0] + 2 * padding[0], out_hw[1] + 2 * padding[1]),
                      dtype=np.result_type(x, weight))
    xg = x.reshape(n, groups, c_in // groups, h, w)
    wg = weight.reshape(groups, c_in // groups, cg, kh, kw)
    for k, target in enumerate(windows.offsets(padded, (kh, kw), stride, (h, w), dilation)):
        i, j = divmod(k, kw)
        target += np.einsum("ngchw,gco->ngohw", xg, wg[..., i, j]).reshape(n, groups * cg, h, w)
    out = windows.crop(padded, padding, out_hw)
    return out if bias is None else out + bias[:, None, None]
