"""Slow, obvious implementations written from the definitions (loops as in the seed document),
on NumPy arrays: the op table's references for the windowed operations, and a user's own.

They exist only to check the fast primitives; nothing here is vectorised on purpose.
"""
import math

import numpy as np


def pad2d(x, padding, value=0.0):
    ph, pw = padding
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def conv2d(x, w, b, stride, padding, dilation, groups):
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    (sh, sw), (dh, dw) = stride, dilation
    xp = pad2d(x, padding)
    oh = (xp.shape[2] - dh * (kh - 1) - 1) // sh + 1
    ow = (xp.shape[3] - dw * (kw - 1) - 1) // sw + 1
    og = o // groups
    out = np.zeros((n, o, oh, ow))
    for b_ in range(n):
        for oc in range(o):
            g = oc // og
            for i in range(oh):
                for j in range(ow):
                    total = 0.0
                    for ci in range(cg):
                        for p in range(kh):
                            for q in range(kw):
                                total += xp[b_, g * cg + ci, i * sh + p * dh, j * sw + q * dw] * w[oc, ci, p, q]
                    out[b_, oc, i, j] = total + (b[oc] if b is not None else 0.0)
    return out


def conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation):
    """Every input pixel scatters its weighted kernel into the output."""
    n, c_in, h, wd = x.shape
    _, cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    oh = (h - 1) * sh - 2 * ph + dh * (kh - 1) + output_padding[0] + 1
    ow = (wd - 1) * sw - 2 * pw + dw * (kw - 1) + output_padding[1] + 1
    out = np.zeros((n, cg * groups, oh, ow))
    in_group = c_in // groups
    for b_ in range(n):
        for ci in range(c_in):
            g = ci // in_group
            for i in range(h):
                for j in range(wd):
                    for co in range(cg):
                        for p in range(kh):
                            for q in range(kw):
                                y, z = i * sh - ph + p * dh, j * sw - pw + q * dw
                                if 0 <= y < oh and 0 <= z < ow:
                                    out[b_, g * cg + co, y, z] += x[b_, ci, i, j] * w[ci, co, p, q]
    if b is not None:
        out += b[None, :, None, None]
    return out


def _pool_windows(x, kernel, stride, padding, value):
    xp = pad2d(x, padding, value)
    (kh, kw), (sh, sw) = kernel, stride
    oh = (xp.shape[2] - kh) // sh + 1
    ow = (xp.shape[3] - kw) // sw + 1
    for i in range(oh):
        for j in range(ow):
            yield i, j, xp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw], (oh, ow)


def max_pool2d(x, kernel, stride, padding):
    out = None
    for i, j, window, (oh, ow) in _pool_windows(x, kernel, stride, padding, -np.inf):
        out = np.zeros(x.shape[:2] + (oh, ow)) if out is None else out
        out[:, :, i, j] = window.max(axis=(2, 3))
    return out


def max_pool2d_grad(x, grad, kernel, stride, padding):
    """Each output's gradient goes to the first maximum (row-major) of its window."""
    (ph, pw), (sh, sw) = padding, stride
    gp = np.zeros(pad2d(x, padding).shape)
    for i, j, window, _ in _pool_windows(x, kernel, stride, padding, -np.inf):
        for b_ in range(x.shape[0]):
            for c in range(x.shape[1]):
                p, q = np.unravel_index(np.argmax(window[b_, c]), window.shape[2:])
                gp[b_, c, i * sh + p, j * sw + q] += grad[b_, c, i, j]
    return gp[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]]


def avg_pool2d(x, kernel, stride, padding, count_include_pad=True):
    ones = np.ones((1, 1) + x.shape[2:])
    counts = {(i, j): window.sum() for i, j, window, _ in _pool_windows(ones, kernel, stride, padding, 0.0)}
    out = None
    for i, j, window, (oh, ow) in _pool_windows(x, kernel, stride, padding, 0.0):
        out = np.zeros(x.shape[:2] + (oh, ow)) if out is None else out
        divisor = kernel[0] * kernel[1] if count_include_pad else counts[(i, j)]
        out[:, :, i, j] = window.sum(axis=(2, 3)) / divisor
    return out


def batch_norm_train(x, gamma, beta, eps):
    """The seed document's formula, per channel of (N, C, *) input."""
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean = np.mean(x, axis=axes)
    variance = np.var(x, axis=axes)
    normalized = (x - mean.reshape(shape)) / np.sqrt(variance.reshape(shape) + eps)
    return gamma.reshape(shape) * normalized + beta.reshape(shape), mean, variance


def cross_entropy(logits, target, reduction, label_smoothing, ignore_index=-100):
    losses, count = [], 0
    classes = logits.shape[1]
    for row, t in zip(logits, target):
        if t == ignore_index:
            losses.append(0.0)
            continue
        count += 1
        top = max(row)
        log_z = top + math.log(sum(math.exp(v - top) for v in row))
        log_p = [v - log_z for v in row]
        smooth = -sum(log_p) / classes
        losses.append((1 - label_smoothing) * -log_p[t] + label_smoothing * smooth)
    losses = np.array(losses)
    if reduction == "none":
        return losses
    return losses.sum() / count if reduction == "mean" else losses.sum()
