"""The multi-threaded kernels give the single-threaded results."""
import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
import tinygrad_cnn.kernels.threads as parallel
from tinygrad_cnn import Tensor
from tinygrad_cnn.models import seed_cnn


@pytest.fixture
def threads(monkeypatch):
    """Two workers, splitting even the smallest kernels."""
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 1)
    tc.set_num_threads(2)
    yield
    tc.set_num_threads(1)


def seed_step(batch_norm):
    tc.manual_seed(0)
    model = seed_cnn(batch_norm=batch_norm)
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((6, 1, 28, 28)).astype(np.float32))
    loss = F.cross_entropy(model(x), Tensor(rng.integers(0, 10, 6)))
    loss.backward()
    return loss.item(), {n: p.grad.numpy() for n, p in model.named_parameters()}


@pytest.mark.parametrize("batch_norm", [False, True])
def test_seed_network_step_is_the_same_on_two_threads(batch_norm, monkeypatch):
    loss, grads = seed_step(batch_norm)
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 1)
    tc.set_num_threads(2)
    try:
        assert tc.get_num_threads() == 2
        loss2, grads2 = seed_step(batch_norm)
    finally:
        tc.set_num_threads(1)
    assert loss2 == pytest.approx(loss, rel=1e-6)
    for name in grads:
        np.testing.assert_allclose(grads2[name], grads[name], rtol=1e-4, atol=1e-6, err_msg=name)


def test_gradients_on_two_threads(threads):
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((3, 2, 6, 5)), requires_grad=True)
    w = Tensor(rng.standard_normal((4, 2, 3, 3)), requires_grad=True)
    assert tc.gradcheck(lambda a, b: F.max_pool2d(F.conv2d(a, b, padding=1).relu(), 2), (x, w))
    assert tc.gradgradcheck(lambda a: F.batch_norm(a, None, None, training=True), (x,))


def test_set_num_threads_rejects_nonsense():
    with pytest.raises(ValueError, match="set_num_threads: expected a positive int"):
        tc.set_num_threads(0)


def test_an_error_in_a_worker_reaches_the_caller_and_the_pool_goes_on(threads):
    def kernel(part):
        if part.start > 0:
            raise ValueError(f"bad slice {part}")
        return part.stop - part.start

    with pytest.raises(ValueError, match="bad slice"):
        parallel.for_each_slice(kernel, 10, 10)
    assert parallel.for_each_slice(lambda part: part.stop - part.start, 10, 10) == [5, 5]


def test_kernels_called_from_two_threads_at_once_give_every_slice(threads):
    import threading

    results = []

    def call():
        results.append(sum(parallel.for_each_slice(lambda part: sum(range(part.start, part.stop)), 1000, 1000)))

    callers = [threading.Thread(target=call) for _ in range(8)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert results == [sum(range(1000))] * 8
