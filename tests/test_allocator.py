"""keep_freed_memory: the allocator setting the main job uses."""
import resource
import sys

import numpy as np
import pytest

import tinygrad_cnn as tc


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc tuning is Linux-only")
def test_large_arrays_are_reused_without_page_faults():
    assert tc.keep_freed_memory()
    for _ in range(3):  # warm the heap up to the working size
        np.ones(4_000_000, dtype=np.float32).sum()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):
        np.ones(4_000_000, dtype=np.float32).sum()  # 16 MB each, freed at once
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    assert faults < 20 * 4000 / 4  # fresh pages for every array would fault ~3,900 times each
