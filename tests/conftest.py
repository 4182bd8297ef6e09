"""Shared test setup."""
import importlib
import os

import pytest

import tinygrad_cnn as tc

from test_data import write_split

DEFAULT_THREADS = tc.get_num_threads()  # the cores available, as a user gets them


@pytest.fixture(autouse=True)
def default_threads_after_each_test():
    """Tests that run the main job (or set threads themselves) must not leak the setting."""
    yield
    if tc.get_num_threads() != DEFAULT_THREADS:
        tc.set_num_threads(DEFAULT_THREADS)


@pytest.fixture
def small_data(tmp_path):
    """A tiny Fashion-MNIST in IDX files: 96 training and 40 test images."""
    write_split(tmp_path / "data", True, 96, seed=1)
    write_split(tmp_path / "data", False, 40, seed=2)
    return tmp_path / "data"


@pytest.fixture(scope="session")
def torch():
    """PyTorch as the oracle (the `oracle` extra). Absent, its tests skip, except under CI,
    where a missing oracle is a failure: CI must run every differential test."""
    try:
        return importlib.import_module("torch")
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("CI needs PyTorch for the differential tests: pip install -e '.[oracle]'")
        pytest.skip("PyTorch is not installed (pip install -e '.[oracle]')")


@pytest.fixture(scope="session")
def tensorboard():
    """TensorBoard's package (the `tensorboard` extra), for SummaryWriter's tests: absent, they
    skip, except under CI, which installs it."""
    try:
        return importlib.import_module("tensorboard")
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("CI needs tensorboard for the SummaryWriter tests: pip install -e '.[tensorboard]'")
        pytest.skip("tensorboard is not installed (pip install -e '.[tensorboard]')")
