"""The speed layer: the only code that knows about threads, memory layouts, cache blocking
and fused passes.

The primitives in ``tinygrad_cnn.ops`` hold the math and call these kernels where plain
NumPy is too slow. Each kernel ``k`` has a plain-NumPy ``k_reference`` beside it that says
what it computes; ``tests/test_kernels.py`` holds every kernel to its reference on both
memory layouts and on several threads. A kernel never adds a node to the graph: it is how a
primitive's forward or backward runs (or an optimiser's update), not a new primitive.
``threads`` holds the worker pool and the thread count (``tc.set_num_threads``).

Where a kernel chooses among ways to run, one function makes the choice an explicit plan that
names it and says why, each way can be forced by name, and the tests force every one: the
convolutions (``conv/planner.py``, a backend per file), the matrix products' split over the
workers (``linalg.plan_product``), the sums' form (``reduce.plan_sum``) and scale/shift's
(``elementwise.SCALE_SHIFT_FORMS``). ``explain`` prints the plans a call makes. Pooling, batch
norm and the other elementwise kernels take one path each (their cache blocks and thread
splits are sizes, not choices).
"""
from .conv import conv2d, conv2d_weight, conv_transpose2d
from .elementwise import clip, hardtanh_backward, relu, scale_add_into, scale_shift_channels, threshold_backward
from .explain import explain
from .layout import diagonal_view
from .linalg import matmul
from .norm import batch_norm_backward, batch_norm_statistics
from .pool import max_pool2d, max_pool2d_scatter
from .reduce import sum_axes

__all__ = [
    "conv2d", "conv2d_weight", "conv_transpose2d", "explain", "relu", "clip", "threshold_backward", "hardtanh_backward",
    "scale_shift_channels", "scale_add_into", "matmul", "batch_norm_statistics", "batch_norm_backward",
    "max_pool2d", "max_pool2d_scatter", "sum_axes", "diagonal_view",
]
