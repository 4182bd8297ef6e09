"""What backward saves, held against PyTorch: the in-place changes it refuses are PyTorch's.

For every op-table variant, on every shape of a small set it applies to, each input and the
output in turn is changed in place after the operation (under ``no_grad``, which only bumps its
version counter), for each pattern of inputs that require grad; then backward runs. PyTorch
refuses exactly when its node saved the tensor that changed (its ``derivatives.yaml``, given
``needs_input_grad``). So do we: a refusal PyTorch does not make stops a program that runs
there, and a missed one would compute a gradient from overwritten values.

``ACCEPTED`` names the families where PyTorch saves a tensor that our backward does not read (it
computes the gradient from other saved values, so the change cannot make it wrong): PyTorch
refuses, we run. ``STRICTER`` names where we refuse and PyTorch runs. Each entry says why, and
leaves its list when the difference goes (the test fails on an entry that no longer occurs).
"""
from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from tinygrad_cnn.testing.table import OpInfo, op_db

from fuzz import ArraySpec, Library

SHAPES = [(2, 3, 4, 5), (2, 3, 5), (3, 4), (4,), ()]
GRAD_PATTERNS = ((True, True), (True, False), (False, True))  # (x requires grad, the others do)

# (operation family pattern, what changed: "out" or an input position) -> why PyTorch refuses and
# we run, or (the one stricter entry) why we refuse where PyTorch runs
ACCEPTED: dict[tuple[str, str], str] = {
    ("mse_loss|huber_loss|smooth_l1_loss", "0|1"):
        "PyTorch's loss is one node saving input and target; ours is composed of primitives that read "
        "their difference, not the inputs",
    ("cross_entropy|nll_loss", "0|1|2"):
        "PyTorch's nll_loss saves its input, target and class weights; ours reads them in forward and "
        "keeps the per-row target distribution it needs",
    ("max_pool[12]d|avg_pool[12]d|adaptive_avg_pool[12]d|adaptive_max_pool[12]d|pad", "0"):
        "PyTorch saves the input (for its shape, or beside max pooling's indices); ours reads the saved "
        "indices and the shape only",
    ("batch_norm|layer_norm|group_norm|instance_norm", "0|1|2"):
        "PyTorch saves the input, weight and running statistics; ours saves the normalised input and the "
        "statistics it reads",
    ("gather|masked_select", "0"):
        "PyTorch's gather and masked_select save their input (for its shape); ours keep the shape only. The "
        "index, an input of every indexing primitive, is version-checked as PyTorch's saved index is",
    ("index_add", "1|2"):
        "PyTorch's index_add saves its index and source; ours spreads the index into a new array of positions "
        "(a copy the caller cannot change) and reads no source",
    ("split|chunk", "out|0"):
        "PyTorch refuses a multi-view output once its base changed in place, even outside the graph; "
        "ours refuses that only while gradients are recorded",
    ("mul|pow", "1"):
        "PyTorch saves an integer operand itself; ours reads its float copy made by type promotion",
    ("gelu|softplus", "0"):
        "PyTorch's is one node saving x; ours is composed of primitives that read intermediate results",
}
STRICTER: dict[tuple[str, str], str] = {}  # none left: cross-entropy is log_softmax + nll_loss, as PyTorch's


def _listed(table: dict[tuple[str, str], str], op: str, changed: str) -> bool:
    family = op.split("/")[0]
    return any(re.fullmatch(ops, family) and re.fullmatch(targets, changed) for ops, targets in table)


def _cases(info: OpInfo) -> Iterator[tuple[tuple[int, ...], Any, tuple[bool, bool], str]]:
    for shape in SHAPES:
        extras = info.inputs_for(shape)
        if extras is None:
            continue
        grad_extras = any(e.requires_grad and e.kind == "float" for e in extras)
        for pattern in GRAD_PATTERNS:
            if not pattern[0] and not grad_extras or not pattern[1] and not extras:
                continue
            for changed in ["out"] + [str(i) for i in range(1 + len(extras))]:
                yield shape, extras, pattern, changed


def backward_after_change(lib: Library, info: OpInfo, shape: tuple[int, ...], extras: Any,
                          pattern: tuple[bool, bool], changed: str) -> str:
    """"refused" or "ran" (or why the case does not apply) for one library."""
    specs = [ArraySpec(shape, "float64", domain=info.domain, seed=1)] + [
        ArraySpec(e.shape, e.dtype or "float64", e.kind, e.domain, e.high, seed=2 + i) for i, e in enumerate(extras)]
    leaves, inputs = [], []
    for i, spec in enumerate(specs):
        needs = spec.kind == "float" and (pattern[0] if i == 0 else pattern[1] and extras[i - 1].requires_grad)
        t = lib.tensor(spec.make(), needs)
        if needs:
            leaves.append(t)
            t = t.clone()  # not a leaf: it may change in place
        inputs.append(t)
    if not leaves:
        return "no gradient"
    try:
        y = info.fn(lib.t, lib.F, *inputs)
    except Exception:  # noqa: BLE001 - forward refusals are the fuzzer's to compare
        return "forward refused"
    y = y[0] if isinstance(y, tuple) else y
    if not getattr(y, "requires_grad", False):
        return "no gradient"
    target = y if changed == "out" else inputs[int(changed)]
    try:
        with lib.no_grad():
            target.copy_(target.clone())
    except Exception:  # noqa: BLE001 - (an expanded result cannot be written)
        return "cannot change"
    try:
        lib.grad((y * lib.tensor(np.ones(tuple(y.shape)), False)).sum(), leaves)
    except RuntimeError:
        return "refused"
    return "ran"


def differences(infos: list[OpInfo]) -> list[tuple[str, tuple[int, ...], tuple[bool, bool], str, str, str]]:
    """(op, shape, grad pattern, what changed, PyTorch's outcome, ours) wherever the two differ."""
    theirs, ours = Library("torch"), Library("tinygrad_cnn")
    found = []
    for info in infos:
        for shape, extras, pattern, changed in _cases(info):
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                want = backward_after_change(theirs, info, shape, extras, pattern, changed)
                have = backward_after_change(ours, info, shape, extras, pattern, changed)
            if want != have:
                found.append((info.name, shape, pattern, changed, want, have))
    return found


def test_backward_refuses_the_in_place_changes_pytorch_refuses(torch):
    found = differences(op_db)
    listed = [d for d in found if _listed(ACCEPTED if d[4] == "refused" else STRICTER, d[0], d[3])]
    unexpected = [d for d in found if d not in listed]
    assert not unexpected, "\n".join(
        f"{op} x{shape} requires_grad={pattern} changed={changed}: PyTorch {want}, ours {have}"
        for op, shape, pattern, changed, want, have in unexpected)
    for table in (ACCEPTED, STRICTER):
        stale = [key for key in table if not any(_listed({key: ""}, d[0], d[3]) for d in listed)]
        assert not stale, f"entries that no longer occur (remove them): {stale}"
