"""Padding layers (``ZeroPad2d``, ``ReflectionPad1d``, ...): ``F.pad`` as modules, PyTorch's names."""
from __future__ import annotations

from collections.abc import Sequence

from .. import functional as F
from ..ops.arguments import integer
from ..tensor import Tensor
from .module import Module


class _PadNd(Module):
    """Pads the last ``dims`` dimensions: an int pads every side, or (left, right, top, bottom,
    front, back) as far as there are dimensions."""

    mode = "constant"
    dims = 2

    def __init__(self, padding: int | Sequence[int], value: float = 0.0) -> None:
        super().__init__()
        name = type(self).__name__
        sides = 2 * self.dims
        if isinstance(padding, int):
            padding = (integer(name, "padding", padding),) * sides
        if len(tuple(padding)) != sides:
            raise ValueError(f"{name}: padding must be an int or a {sides}-tuple, got {padding!r}")
        self.padding, self.value = tuple(int(p) for p in padding), value

    def forward(self, x: Tensor) -> Tensor:
        if self.mode == "constant":
            return F.pad(x, self.padding, "constant", self.value)
        return F.pad(x, self.padding, self.mode)

    def extra_repr(self) -> str:
        if type(self).__name__.startswith("ConstantPad"):
            return f"padding={self.padding}, value={self.value}"
        return f"{self.padding}"


def _layer(name: str, mode: str, dims: int, doc: str, constant_value: bool = False) -> type[_PadNd]:
    if constant_value:
        def init(self: _PadNd, padding: int | Sequence[int], value: float) -> None:
            _PadNd.__init__(self, padding, value)
    else:
        def init(self: _PadNd, padding: int | Sequence[int]) -> None:
            _PadNd.__init__(self, padding)
    return type(name, (_PadNd,), {"mode": mode, "dims": dims, "__init__": init, "__doc__": doc,
                                  "__module__": __name__})


ConstantPad1d = _layer("ConstantPad1d", "constant", 1, "Pad the last dimension with ``value``.", True)
ConstantPad2d = _layer("ConstantPad2d", "constant", 2, "Pad the last two dimensions with ``value``.", True)
ConstantPad3d = _layer("ConstantPad3d", "constant", 3, "Pad the last three dimensions with ``value``.", True)
ZeroPad1d = _layer("ZeroPad1d", "constant", 1, "Pad the last dimension with zeros.")
ZeroPad2d = _layer("ZeroPad2d", "constant", 2, "Pad the last two dimensions with zeros.")
ZeroPad3d = _layer("ZeroPad3d", "constant", 3, "Pad the last three dimensions with zeros.")
ReflectionPad1d = _layer("ReflectionPad1d", "reflect", 1, "Pad the last dimension with its reflection.")
ReflectionPad2d = _layer("ReflectionPad2d", "reflect", 2, "Pad the last two dimensions with their reflection.")
ReflectionPad3d = _layer("ReflectionPad3d", "reflect", 3, "Pad the last three dimensions with their reflection.")
ReplicationPad1d = _layer("ReplicationPad1d", "replicate", 1, "Pad the last dimension with its edge values.")
ReplicationPad2d = _layer("ReplicationPad2d", "replicate", 2, "Pad the last two dimensions with their edges.")
ReplicationPad3d = _layer("ReplicationPad3d", "replicate", 3, "Pad the last three dimensions with their edges.")
CircularPad1d = _layer("CircularPad1d", "circular", 1, "Pad the last dimension by wrapping around.")
CircularPad2d = _layer("CircularPad2d", "circular", 2, "Pad the last two dimensions by wrapping around.")
CircularPad3d = _layer("CircularPad3d", "circular", 3, "Pad the last three dimensions by wrapping around.")

__all__ = ["ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
           "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
           "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d"]
