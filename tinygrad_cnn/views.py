"""Views in the graph, and in-place changes replayed through them (PyTorch's CopySlices).

A view (the output of reshape, permute, expand or basic indexing that shares its input's
memory) remembers its base: the tensor that first held that memory in the graph. Two rules
then keep every gradient right when either is changed in place:

- Changing a view changes its base: the base's history gets a node that writes the view's
  new value into the base's old value (``SetItem`` at the view's positions), and the view's
  own history becomes "those positions of the new base". Gradients reach whatever the new
  value came from, even where the base needed no gradient before (a zero buffer filled
  through ``buffer[0].copy_(x)``).
- Changing a base (directly or through another view) makes the histories of its other views
  stale; a stale view is given "those positions of the base as it is now" the next time it
  is used. Nodes that consumed the view before the change keep their edges, and the version
  counters guard the values they saved.

A view's positions in its base come from the memory addresses of both arrays, so they are
right whatever the layouts, and views of views need no chain of view functions.
"""
from __future__ import annotations

import weakref

from .kernels.layout import view_positions
from .tensor import Tensor
from .versions import storage_of


def mark(source: Tensor, outputs: tuple[Tensor, ...]) -> None:
    """Record that ``outputs`` of a view primitive applied to ``source`` share its memory."""
    root = source if source._base is None else source._base[0]
    storage = storage_of(source._data)
    for t in outputs:
        if storage_of(t._data) is storage:  # (a view of one of several views is one of them too)
            t._base = (root, root._rewrites) + (() if source._base is None else source._base[2:])


def mark_one_of_many(outputs: tuple[Tensor, ...]) -> None:
    """Record that ``outputs`` are views made by one call (split, chunk): as in PyTorch, none
    of them may be changed in place while gradients are recorded (a third entry in ``_base``)."""
    for t in outputs:
        if t._base is not None:
            t._base = t._base[:2] + (True,)


def is_one_of_many(t: Tensor) -> bool:
    return t._base is not None and len(t._base) > 2


def is_stale(t: Tensor) -> bool:
    """True when t is a view whose base's history was rewritten since t's was set."""
    return t._base is not None and t._base[0]._rewrites != t._base[1]


def regenerate(view: Tensor) -> None:
    """Give ``view`` the history "its positions in its base, as the base is now"."""
    from .autograd import enable_grad

    base = view._base[0]
    index = view_positions(base._data, view._data)
    with enable_grad():  # recorded even when first used under no_grad: the history is the view's for good
        fresh = base.reshape(-1)[index]
    _take_node(view, fresh)
    view._base = (base, base._rewrites) + view._base[2:]


def replay(base: Tensor, view: Tensor, result: Tensor) -> None:
    """``view`` (of ``base``) now holds ``result``'s value in memory: give the base a history
    in which that value is written at the view's positions, and the view its positions in
    that new base."""
    from .autograd import rebase_history, value_before_change

    index = view_positions(base._data, view._data).reshape(-1)
    old = value_before_change(base, copy=False)  # (while an export traces, a changed input stays its input)
    written = old.reshape(-1).scatter(0, Tensor(index), result.reshape(-1))
    rebase_history(base, old, written.reshape(base.shape))
    regenerate(view)


def _take_node(target: Tensor, source: Tensor) -> None:
    """Make ``target`` the output of ``source``'s node, in ``source``'s place."""
    node = source._ctx
    target._ctx, target._output_index, target._requires_grad = node, source._output_index, source._requires_grad
    if node is not None:
        node._outputs = tuple([weakref.ref(target) if i == source._output_index else r
                               for i, r in enumerate(node._outputs)])
