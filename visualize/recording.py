"""Recording a step for the explorer: what each operation's values and gradients looked like.

The graph keeps neither its intermediate outputs (nodes hold them weakly) nor its saved arrays
after backward, nor the gradients of intermediate results. Inside ``record()`` every new
node's outputs are summarised as forward produces them, and a gradient hook on each output
summarises the gradient that arrives in backward, in the order backward runs the nodes. Only
the summaries are kept (a handful of numbers per tensor), never the arrays; outside the block
the engine does nothing more than before (it reads one switch it already read).
"""
from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_cnn.autograd import Primitive
from tinygrad_cnn.debug import observe_operations
from tinygrad_cnn.hooks import RemovableHandle
from tinygrad_cnn.tensor import Tensor


def summary(array: np.ndarray) -> dict[str, float] | None:
    """min, mean, max, std, the fraction of zeros and the L2 norm of a numeric array (None if empty)."""
    if array.size == 0 or array.dtype.kind not in "biuf":
        return None
    values = np.asarray(array, dtype=np.float64)
    finite = np.isfinite(values)
    stats = dict(min=float(values.min()), mean=float(values.mean()), max=float(values.max()),
                 std=float(values.std()), zeros=float(np.count_nonzero(values == 0) / values.size),
                 norm=float(np.linalg.norm(values.ravel())))
    if not finite.all():
        stats["nonfinite"] = float(np.count_nonzero(~finite) / values.size)
    return stats


def saved_bytes(node: Primitive) -> int | None:
    """Bytes of what ``node`` keeps for backward: the inputs it reads and the arrays it saved
    (None once backward has freed them)."""
    arrays = node.saved_arrays
    return None if arrays is None else sum(a.nbytes for a in arrays if isinstance(a, np.ndarray))


@dataclass
class NodeRecord:
    """What one operation did during the recorded step."""

    values: list[dict[str, float] | None]                 # per output, as forward produced it
    gradients: list[dict[str, float] | None] = field(default_factory=list)  # per output, as it arrived
    saved_bytes: int | None = None
    backward_step: int | None = None                      # its place in backward's order (0: first)


class _GradientWatch:
    """The gradient hook on output ``index`` of a recorded node."""

    def __init__(self, recording: Recording, node: Primitive, index: int) -> None:
        self.recording, self.node, self.index = recording, weakref.ref(node), index

    def __call__(self, gradient: Tensor) -> None:
        node = self.node()
        if node is not None:
            self.recording._gradient_arrived(node, self.index, gradient)


class Recording:
    """The summaries of one recorded step, by node (``recording[node]`` is a ``NodeRecord``).

    Nodes are held weakly: dropping the graph drops its records. ``backward_order`` lists the
    nodes in the order backward ran them.
    """

    def __init__(self) -> None:
        self._records: weakref.WeakKeyDictionary[Primitive, NodeRecord] = weakref.WeakKeyDictionary()
        self._order: list[weakref.ref] = []
        self._handles: list[RemovableHandle] = []

    def __contains__(self, node: object) -> bool:
        return node in self._records

    def __getitem__(self, node: Primitive) -> NodeRecord:
        return self._records[node]

    def __len__(self) -> int:
        return len(self._records)

    @property
    def backward_order(self) -> list[Primitive]:
        return [node for node in (ref() for ref in self._order) if node is not None]

    def _observe(self, node: Primitive, outputs: Sequence[Tensor]) -> None:
        """A node was recorded: summarise its outputs and watch their gradients."""
        self._records[node] = NodeRecord(values=[summary(t._data) for t in outputs],
                                         gradients=[None] * len(outputs), saved_bytes=saved_bytes(node))
        for index, t in enumerate(outputs):
            if t.requires_grad:
                self._handles.append(RemovableHandle(node.hooks_of_output(index), _GradientWatch(self, node, index)))

    def _gradient_arrived(self, node: Primitive, index: int, gradient: Tensor) -> None:
        record = self._records.get(node)
        if record is None:
            return
        record.gradients[index] = summary(gradient._data)
        if record.backward_step is None:
            record.backward_step = len(self._order)
            self._order.append(weakref.ref(node))

    def _stop(self) -> None:
        """Stop watching gradients: a later backward is not part of this step."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()


class record:
    """Record a forward and backward step for ``visualize.to_html``::

        with visualize.record() as rec:
            loss = F.cross_entropy(model(x), y)
            loss.backward()
        visualize.to_html(loss, "step.html", recording=rec)

    Each operation created inside the block gets a ``NodeRecord``: the statistics of its
    outputs, of the gradients that arrive at them in backward, the bytes it saved and its place
    in backward's order; creation sites are recorded too. Recording costs a pass over every
    output and gradient while it is on, nothing when it is off.
    """

    def __init__(self) -> None:
        self.recording = Recording()
        self._observing = observe_operations(self.recording._observe)

    def __enter__(self) -> Recording:
        self._observing.__enter__()
        return self.recording

    def __exit__(self, *exc: object) -> None:
        self._observing.__exit__(*exc)
        self.recording._stop()


def record_step(model: Any, inputs: Any, target: Any = None, loss_fn: Any = None) -> tuple[Tensor, Recording]:
    """Run ``model(inputs)`` (and, given a ``target``, ``loss_fn(output, target)`` and backward,
    cross-entropy by default) inside ``record()``; return what to draw and the recording."""
    with record() as recording:
        output = model(*inputs) if isinstance(inputs, (tuple, list)) else model(inputs)
        if target is not None:
            if loss_fn is None:
                from tinygrad_cnn.functional import cross_entropy as loss_fn
            output = loss_fn(output, target)
            output.backward()
    return output, recording
