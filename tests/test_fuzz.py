"""The differential fuzzer in CI: random programs over the op table against PyTorch.

``FUZZ_EXAMPLES`` sets the number of programs (CI's count by default: about a minute).
Every difference from PyTorch fails the test, except the groups in ``OPEN``: known, named,
counted and printed, each with the issue that owns it. An entry leaves the list when its
cause is fixed.
"""
import os
import re

import fuzz

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", fuzz.CI_EXAMPLES))

# (kind, operation pattern) -> why it is still open. Kinds: see fuzz.compare.
OPEN: dict[tuple[str, str], str] = {}  # none left: every group found so far is fixed


def is_open(signature: tuple[str, str]) -> bool:
    kind, op = signature
    return any(kind == k and re.fullmatch(pattern, op) for k, pattern in OPEN)


def test_pytorch_against_itself_agrees_whole(torch):
    """The harness compared with itself: any difference here is the harness's bug."""
    report = fuzz.fuzz(max(200, EXAMPLES // 4), self_check=True)
    assert not report.first, report.summary()


def test_programs_agree_with_pytorch(torch):
    report = fuzz.fuzz(EXAMPLES)
    print(report.summary())
    unexpected = [s for s in report.signatures() if not is_open(s)]
    assert len(report.ops_drawn) >= min(300, len(fuzz.OPS)) or EXAMPLES < fuzz.CI_EXAMPLES, (
        f"only {len(report.ops_drawn)} op variants were drawn")
    assert not unexpected, "differences from PyTorch:\n" + "\n".join(
        f"  [{k}] {op}: {report.first[(k, op)][0].detail}\n      {report.first[(k, op)][1].describe()}"
        for k, op in unexpected)


def test_the_op_table_is_one_registry_of_unique_variants():
    """Issue 17 publishes this table; the fuzzer draws from it (no PyTorch needed here)."""
    from tinygrad_cnn.testing.table import op_db

    names = [info.name for info in op_db]
    assert len(names) == len(set(names)) >= 300
    import tinygrad_cnn as tc
    import tinygrad_cnn.functional as F

    shape = (2, 3, 4, 5)  # every variant that takes this shape runs here on its own inputs
    ran = 0
    for info in op_db:
        extras = info.inputs_for(shape)
        if extras is None or info.inplace or any(e.kind != "float" for e in extras):
            continue
        x = tc.randn(*shape, dtype=tc.float64)
        others = [tc.rand(*e.shape, dtype=tc.float64) + 0.5 for e in extras]
        try:
            info.fn(tc, F, x.abs() + 0.5 if info.domain in ("positive", "nonzero") else
                    x.sigmoid() if info.domain == "unit" else x, *others)
        except (ValueError, RuntimeError) as error:  # a refusal that names the operation (some, as PyTorch's)
            assert str(error).split(":")[0].isidentifier(), error
            continue
        ran += 1
    assert ran > 150, ran


def test_float32_rounding_is_judged_by_the_noise_of_the_whole_array():
    """A cancellation PyTorch happened to round to exactly 0 is not a difference; a wrong value
    at the scale of the results is."""
    import numpy as np

    exact = np.array([1e-13, -5e-15, 3e-14, 0.4])
    theirs = np.array([4.2e-5, -6.5e-7, 0.0, 0.4], dtype=np.float32)
    noisy = np.array([-7.6e-5, 3.8e-6, 2e-5, 0.4], dtype=np.float32)
    assert fuzz.within_rounding(theirs, noisy, exact)
    assert not fuzz.within_rounding(theirs, np.array([4.2e-5, -6.5e-7, 0.0, 0.404], dtype=np.float32), exact)
    summed = np.array([0.0, 1.0], dtype=np.float32)  # a sum of terms of about 2000 that cancel
    assert not fuzz.within_rounding(summed, np.array([2.5e-4, 1.0], dtype=np.float32), np.zeros(2) + [0, 1])
    assert fuzz.within_rounding(summed, np.array([2.5e-4, 1.0], dtype=np.float32), np.zeros(2) + [0, 1],
                                scale=2020.0)
