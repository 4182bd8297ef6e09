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


def _extra(module: str, extra: str, purpose: str):
    """An optional package the tests need: absent, they skip, except under CI, which installs
    every extra: there a missing package is a failure, so no test skips in CI."""
    try:
        return importlib.import_module(module)
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs {module} for {purpose}: pip install -e '.[{extra}]'")
        pytest.skip(f"{module} is not installed (pip install -e '.[{extra}]')")


@pytest.fixture(scope="session")
def torch():
    """PyTorch as the oracle (the `oracle` extra), for the differential tests."""
    return _extra("torch", "oracle", "the differential tests")


@pytest.fixture(scope="session")
def tensorboard():
    """TensorBoard's package (the `tensorboard` extra), for SummaryWriter's tests."""
    return _extra("tensorboard", "tensorboard", "the SummaryWriter tests")


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (the `browser` extra), for the explorer's page."""
    import shutil

    _extra("playwright.sync_api", "browser", "the explorer's browser tests")
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        message = "Chromium is not installed (Debian: apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"CI needs it for the explorer's browser tests: {message}")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()
