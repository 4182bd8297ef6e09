"""Shared test setup."""
import pytest

import tinygrad_cnn as tc


@pytest.fixture(autouse=True)
def single_threaded_after_each_test():
    """Tests that run the main job (or set threads themselves) must not leak the setting."""
    yield
    if tc.get_num_threads() != 1:
        tc.set_num_threads(1)
