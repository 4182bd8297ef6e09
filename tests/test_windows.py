"""Window geometry against loops written from the definition: output pixel o reads input
position o * stride + i * dilation - padding for kernel offset i."""
import itertools

import numpy as np
import pytest

from tinygrad_cnn import windows


def positions(size, kernel, stride, padding, dilation):
    """Every window start that keeps the whole dilated window inside the padded input."""
    extent = dilation * (kernel - 1) + 1
    return [o for o in range(0, size + 2 * padding) if o % stride == 0 and o + extent <= size + 2 * padding]


SETTINGS = list(itertools.product([1, 4, 7, 10], [1, 2, 3], [1, 2, 3], [0, 1, 2], [1, 2]))


@pytest.mark.parametrize("size,kernel,stride,padding,dilation", SETTINGS)
def test_output_size_counts_the_windows(size, kernel, stride, padding, dilation):
    expected = len(positions(size, kernel, stride, padding, dilation))
    if expected == 0:
        assert windows.output_size(size, kernel, stride, padding, dilation) <= 0
    else:
        assert windows.output_size(size, kernel, stride, padding, dilation) == expected


WITH_WINDOWS = [(size, kernel, padding, dilation)  # the settings where at least one window fits
                for size, kernel, padding, dilation in itertools.product([1, 2, 3, 5], [1, 2, 3, 5], [0, 1, 2, 3], [1, 2])
                if positions(size, kernel, 1, padding, dilation)]


@pytest.mark.parametrize("size,kernel,padding,dilation", WITH_WINDOWS)
def test_live_taps_are_the_offsets_that_touch_the_input(size, kernel, padding, dilation):
    """At stride 1, offset i is live when some window puts it on an input pixel, not padding."""
    starts = positions(size, kernel, 1, padding, dilation)
    live = [i for i in range(kernel) if any(0 <= o + i * dilation - padding < size for o in starts)]
    first, last = windows.live_taps(size, kernel, padding, dilation, len(starts))
    assert list(range(first, last + 1)) == live  # a contiguous run; empty when no offset touches the input


@pytest.mark.parametrize("size,kernel,stride,padding,dilation",
                         [s for s in SETTINGS if positions(*s)])  # a convolution with an output to invert
def test_transposed_output_size_gives_back_every_input_size(size, kernel, stride, padding, dilation):
    out = windows.output_size(size, kernel, stride, padding, dilation)
    assert out > 0
    extra = windows.output_padding_for(size, out, kernel, stride, padding, dilation)
    assert extra >= 0
    assert windows.transposed_output_size(out, kernel, stride, padding, dilation, extra) == size
    assert windows.output_size(windows.transposed_output_size(out, kernel, stride, padding, dilation, 0),
                               kernel, stride, padding, dilation) == out


@pytest.mark.parametrize("kernel,stride,dilation", [((2, 3), (1, 2), (1, 1)), ((3, 2), (2, 1), (2, 3)),
                                                    ((1, 1), (3, 3), (1, 1))])
def test_sliding_and_offsets_show_every_window(kernel, stride, dilation):
    x = np.arange(2 * 3 * 11 * 12, dtype=np.float64).reshape(2, 3, 11, 12)
    padded = windows.pad(x, (1, 2), value=-1.0)
    out_hw = windows.output_hw(x.shape, kernel, stride, (1, 2), dilation)
    view = windows.sliding(padded, kernel, stride, out_hw, dilation)
    assert view.shape == (2, 3) + out_hw + kernel
    for oh, ow, i, j in itertools.product(range(out_hw[0]), range(out_hw[1]), range(kernel[0]), range(kernel[1])):
        expected = padded[:, :, oh * stride[0] + i * dilation[0], ow * stride[1] + j * dilation[1]]
        np.testing.assert_array_equal(view[:, :, oh, ow, i, j], expected)
    for k, offset in enumerate(windows.offsets(padded, kernel, stride, out_hw, dilation)):
        np.testing.assert_array_equal(offset, view[..., k // kernel[1], k % kernel[1]])


def test_pad_keeps_the_layout_and_crop_undoes_it():
    x = np.ascontiguousarray(np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 4, 5, 3)).transpose(0, 3, 1, 2)
    padded = windows.pad(x, (2, 1), value=7.0)
    assert padded.shape == (2, 3, 8, 7) and padded.strides[1] < padded.strides[3]  # still channels-last
    assert (padded[:, :, :2] == 7).all() and (padded[..., -1] == 7).all()
    np.testing.assert_array_equal(windows.crop(padded, (2, 1), (4, 5)), x)
    assert windows.pad(x, (0, 0)) is x


def test_offsets_write_through_to_the_image():
    image = np.zeros((1, 1, 4, 4))
    for offset in windows.offsets(image, (2, 2), (2, 2), (2, 2)):
        offset += 1  # disjoint windows: every pixel once
    np.testing.assert_array_equal(image, np.ones((1, 1, 4, 4)))
