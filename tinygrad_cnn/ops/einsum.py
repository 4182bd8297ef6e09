"""einsum: Einstein summation over any number of operands, as ``torch.einsum``.

The backward of operand i is itself an einsum: the upstream gradient contracted with every
other operand onto operand i's subscripts. Letters only operand i has (summed away in
forward) come back by broadcasting, and dimensions that were broadcast are summed back.
"""
from __future__ import annotations

import string
from typing import Any

import numpy as np

from ..autograd import Primitive
from ..promotion import result_type
from ..tensor import Tensor
from .arguments import ArgumentError, NotImplementedArgumentsError
from .broadcast import sum_to_shape


def parse(equation: str, ndims: list[int]) -> tuple[list[str], str]:
    """Each operand's subscripts and the output's, with ``...`` spelled out as letters and an
    implicit output made explicit (the letters seen once, in order, after the ``...`` ones)."""
    equation = equation.replace(" ", "")
    left, arrow, output = equation.partition("->")
    terms = left.split(",")
    if len(terms) != len(ndims):
        raise ArgumentError(f"einsum: the equation names {len(terms)} operands but {len(ndims)} were given")
    used = set(equation) - set(".,->")
    if not all(c in string.ascii_letters for c in used):
        raise ArgumentError(f"einsum: subscripts must be letters, got {equation!r}")
    spare = iter([c for c in string.ascii_letters if c not in used])
    widest = max((n - len(term.replace("...", "")) for term, n in zip(terms, ndims) if "..." in term), default=0)
    ellipsis = "".join(next(spare) for _ in range(widest))
    spelled = []
    for term, n in zip(terms, ndims):
        count = n - len(term.replace("...", ""))
        if "..." in term:
            term = term.replace("...", ellipsis[widest - count:] if count else "")
        if len(term) != n:
            raise ArgumentError(f"einsum: subscripts {term!r} do not match an operand with {n} dimensions")
        spelled.append(term)
    if arrow:
        output = output.replace("...", ellipsis)
    else:
        letters = "".join(spelled)
        output = ellipsis + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ellipsis))
    return spelled, output


class Einsum(Primitive):
    """``np.einsum`` on explicit subscripts; differentiable to any order."""

    output_layout = "contiguous"

    @staticmethod
    def backward_reads(needs: tuple[bool, ...]) -> list[int]:
        """Each operand is read for the gradients of the others."""
        return [i for i in range(len(needs)) if True in needs[:i] + needs[i + 1:]]

    @staticmethod
    def forward(ctx: Primitive, *operands: np.ndarray, terms: tuple[str, ...], output: str) -> np.ndarray:
        return np.asarray(np.einsum(",".join(terms) + "->" + output, *operands, optimize=True))

    @staticmethod
    def backward(ctx: Primitive, grad: Tensor) -> tuple[Tensor | None, ...]:
        terms, output = ctx.settings["terms"], ctx.settings["output"]
        grads = []
        for i, (x, term) in enumerate(zip(ctx.inputs, terms)):
            if not ctx.needs_input_grad[i]:
                grads.append(None)
                continue
            if len(set(term)) != len(term):
                raise NotImplementedArgumentsError(
                    f"einsum: the gradient for an operand with a repeated subscript ({term!r}) is not implemented")
            others = [(t, s) for j, (t, s) in enumerate(zip(ctx.inputs, terms)) if j != i]
            seen = set(output).union(*[set(s) for _, s in others])
            kept = "".join(c for c in term if c in seen)  # letters only x has come back by broadcasting
            g = Einsum.apply(grad, *[t for t, _ in others], terms=(output, *[s for _, s in others]), output=kept)
            shape = [x.shape[k] if c in seen else 1 for k, c in enumerate(term)]
            g = g.reshape(*[g.shape[kept.index(c)] if c in seen else 1 for c in term])
            grads.append(sum_to_shape(g, tuple(shape)).broadcast_to(x.shape) if g.shape != x.shape else g)
        return tuple(grads)


def einsum(equation: str, *operands: Any) -> Tensor:
    """``einsum("ij,jk->ik", a, b)``; the operands may also come as one list, as in PyTorch."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands or not all(isinstance(t, Tensor) for t in operands):
        raise TypeError("einsum: expected an equation and one or more Tensors")
    terms, output = parse(equation, [t.ndim for t in operands])
    sizes: dict[str, int] = {}
    for t, term in zip(operands, terms):
        for c, n in zip(term, t.shape):
            if sizes.setdefault(c, n) != n and 1 not in (n, sizes[c]):
                raise ArgumentError(f"einsum: subscript {c!r} has size {sizes[c]} in one operand and {n} in "
                                    f"another (equation {equation!r}, shapes {[x.shape for x in operands]})")
            sizes[c] = max(sizes[c], n)
    if len(set(output)) != len(output) or not set(output) <= set("".join(terms)):
        raise ArgumentError(f"einsum: the output subscripts {output!r} must be distinct letters of the inputs")
    dtypes = {t.dtype for t in operands}
    if len(dtypes) > 1:  # PyTorch multiplies what it contracts with a batched product of one dtype;
        # with no contraction over more than one element it multiplies and sums, promoting
        contracted = [c for c, n in sizes.items() if n > 1 and c not in output and sum(c in t for t in terms) > 1]
        if contracted:
            raise ArgumentError(f"einsum: expected operands of one dtype to contract over {contracted}, got "
                                f"{sorted(str(d) for d in dtypes)}")
        dtype = result_type(*operands)
        operands = tuple(t.to(dtype) for t in operands)
    return Einsum.apply(*operands, terms=tuple(terms), output=output)
