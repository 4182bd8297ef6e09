"""Shared test setup."""
import pytest

import tinygrad_cnn as tc

DEFAULT_THREADS = tc.get_num_threads()  # the cores available, as a user gets them


@pytest.fixture(autouse=True)
def default_threads_after_each_test():
    """Tests that run the main job (or set threads themselves) must not leak the setting."""
    yield
    if tc.get_num_threads() != DEFAULT_THREADS:
        tc.set_num_threads(DEFAULT_THREADS)
