"""tc.utils.data as PyTorch's torch.utils.data: datasets, samplers, collation and the DataLoader,
in the main process and with worker processes (order, seeding, failures, shutdown)."""
import gc
import multiprocessing
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections import namedtuple

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn.utils.data import (
    BatchSampler,
    ChainDataset,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    StackDataset,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    default_convert,
    get_worker_info,
    random_split,
)
from tinygrad_cnn.utils.data.worker import generate_state

Point = namedtuple("Point", "x y")


class Squares(Dataset):
    """Sample i: (i as a float32 array of shape (2,), i * i)."""

    def __init__(self, n=20):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.full(2, i, dtype=np.float32), i * i


class WhoAmI(Dataset):
    """Each sample says which worker (and process) read it and that worker's first draws."""

    def __len__(self):
        return 12

    def __getitem__(self, i):
        info = get_worker_info()
        return {"index": i, "worker": info.id, "seed": info.seed, "pid": os.getpid(),
                "random": random.random(), "numpy": float(np.random.random()), "tc": float(tc.rand(()).item())}


class FailsAt(Dataset):
    def __init__(self, bad):
        self.bad = bad

    def __len__(self):
        return 10

    def __getitem__(self, i):
        if i == self.bad:
            raise ValueError(f"sample {i} is corrupt")
        return i


class Slow(Dataset):
    def __len__(self):
        return 1000

    def __getitem__(self, i):
        time.sleep(0.05)
        return i


class Stream(IterableDataset):
    """0..n-1, each worker taking its share (as PyTorch's documentation splits a stream)."""

    def __init__(self, n=10, split=True):
        self.n, self.split = n, split

    def __iter__(self):
        info = get_worker_info()
        if info is None or not self.split:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))

    def __len__(self):
        return self.n


def children_gone(before, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if {p.pid for p in multiprocessing.active_children()} <= before:
            return True
        time.sleep(0.05)
    return False


# --------------------------------------------------------------------------- datasets

def test_tensor_dataset_subset_concat_and_stack():
    x, y = tc.arange(12.0).reshape(6, 2), tc.arange(6)
    ds = TensorDataset(x, y)
    assert len(ds) == 6 and ds[2][0].tolist() == [4.0, 5.0] and ds[2][1].item() == 2
    with pytest.raises(AssertionError, match="size mismatch"):
        TensorDataset(x, tc.arange(5))
    sub = Subset(ds, [5, 0])
    assert len(sub) == 2 and sub[0][1].item() == 5 and [s[1].item() for s in sub.__getitems__([1, 0])] == [0, 5]
    both = ds + Subset(ds, [1])
    assert isinstance(both, ConcatDataset) and len(both) == 7 and both[6][1].item() == 1 and both[-1][1].item() == 1
    with pytest.raises(ValueError, match="absolute value of index"):
        both[-8]
    with pytest.raises(IndexError):
        both[7]
    with pytest.raises(AssertionError, match="empty"):
        ConcatDataset([])
    with pytest.raises(AssertionError, match="IterableDataset"):
        ConcatDataset([Stream()])
    assert StackDataset(ds, Squares(6))[1][1][1] == 1
    assert StackDataset(a=ds, b=Squares(6))[3]["b"][1] == 9
    assert list(ChainDataset([Stream(2), Stream(3)])) == [0, 1, 0, 1, 2] and len(Stream(2) + Stream(3)) == 5


def test_random_split_by_lengths_and_fractions_with_a_generator():
    parts = random_split(range(10), [3, 7], generator=tc.Generator().manual_seed(1))
    again = random_split(range(10), [3, 7], generator=tc.Generator().manual_seed(1))
    assert [list(p) for p in parts] == [list(p) for p in again]
    assert sorted(list(parts[0]) + list(parts[1])) == list(range(10)) and len(parts[0]) == 3
    assert [len(p) for p in random_split(range(10), [0.34, 0.33, 0.33])] == [4, 3, 3]
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(range(2), [1.0, 0.0])
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(range(10), [3, 3])


# --------------------------------------------------------------------------- samplers

def test_samplers_order_lengths_and_reproducibility():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    tc.manual_seed(3)
    first = list(RandomSampler(range(8)))
    tc.manual_seed(3)
    assert list(RandomSampler(range(8))) == first and sorted(first) == list(range(8))
    g = tc.Generator().manual_seed(5)
    drawn = list(RandomSampler(range(4), replacement=True, num_samples=50, generator=g))
    assert len(drawn) == 50 and set(drawn) <= {0, 1, 2, 3}
    over = list(RandomSampler(range(3), num_samples=7))
    assert len(over) == 7 and sorted(over[:6]) == [0, 0, 1, 1, 2, 2]
    assert sorted(SubsetRandomSampler([10, 20, 30])) == [10, 20, 30]
    batches = list(BatchSampler(range(7), 3, drop_last=False))
    assert batches == [[0, 1, 2], [3, 4, 5], [6]] and len(BatchSampler(range(7), 3, True)) == 2


def test_weighted_sampler_follows_its_weights():
    g = tc.Generator().manual_seed(0)
    counts = np.bincount(list(WeightedRandomSampler([1.0, 0.0, 3.0], 4000, generator=g)), minlength=3)
    assert counts[1] == 0 and 2.6 < counts[2] / counts[0] < 3.4
    unique = list(WeightedRandomSampler([1, 1, 1, 1], 4, replacement=False))
    assert sorted(unique) == [0, 1, 2, 3]


@pytest.mark.parametrize("make", [
    lambda m: m.RandomSampler(range(3), replacement=1),
    lambda m: m.RandomSampler(range(3), num_samples=0),
    lambda m: m.RandomSampler([]),
    lambda m: m.BatchSampler(range(3), 0, False),
    lambda m: m.BatchSampler(range(3), 2, 1),
    lambda m: m.WeightedRandomSampler([1, 2], 0),
    lambda m: m.WeightedRandomSampler([[1, 2]], 2),
], ids=["replacement", "num_samples", "empty", "batch_size", "drop_last", "weighted_num_samples", "weights_2d"])
def test_sampler_arguments_are_refused_as_pytorch_refuses_them(torch, make):
    import torch.utils.data as theirs

    import tinygrad_cnn.utils.data as ours
    with pytest.raises(Exception) as expected:
        make(theirs)
    with pytest.raises(type(expected.value), match=re.escape(str(expected.value).split(",")[0])):
        make(ours)


# --------------------------------------------------------------------------- collation

SAMPLES = {
    "ints": [1, 2, 3],
    "floats": [1.0, 2.5],
    "bools": [True, False],
    "numpy_scalars": [np.float32(1), np.float32(2)],
    "numpy_int32": [np.int32(4), np.int32(5)],
    "arrays": [np.zeros((2, 3), np.uint8), np.ones((2, 3), np.uint8)],
    "strings": ["a", "b"],
    "tuples": [(np.ones(2), 1, "a"), (np.zeros(2), 2, "b")],
    "lists": [[1, 2.0], [3, 4.0]],
    "dicts": [{"x": np.ones(1), "y": [1, 2]}, {"x": np.zeros(1), "y": [3, 4]}],
    "namedtuples": [Point(1, 2.0), Point(3, 4.0)],
}


def _plain(value, torch):
    """A collated batch as nested Python types with (dtype, values) for tensors."""
    if isinstance(value, (tc.Tensor, torch.Tensor)):
        return ("tensor", str(value.dtype).replace("torch.", ""), value.tolist())
    if isinstance(value, dict):
        return {k: _plain(v, torch) for k, v in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return ("namedtuple", type(value).__name__, [_plain(v, torch) for v in value])
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [_plain(v, torch) for v in value])
    return value


@pytest.mark.parametrize("name", SAMPLES)
def test_default_collate_and_convert_match_pytorch(torch, name):
    from torch.utils.data import default_collate as theirs_collate
    from torch.utils.data import default_convert as theirs_convert
    batch = SAMPLES[name]
    assert _plain(default_collate(batch), torch) == _plain(theirs_collate(batch), torch)
    assert _plain(default_convert(batch[0]), torch) == _plain(theirs_convert(batch[0]), torch)


def test_default_collate_stacks_tensors_and_refuses_what_pytorch_refuses():
    assert default_collate([tc.zeros(2, 3), tc.ones(2, 3)]).shape == (2, 2, 3)
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="found <class 'object'>"):
        default_collate([object()])
    with pytest.raises(TypeError, match="found <U1"):
        default_collate([np.array(["a"])])


# --------------------------------------------------------------------------- DataLoader, main process

def test_loader_batches_in_order_with_default_collate():
    batches = list(DataLoader(Squares(5), batch_size=2))
    assert len(batches) == 3 and isinstance(batches[0], list)
    assert batches[0][0].shape == (2, 2) and batches[0][0].dtype == np.float32
    assert batches[2][1].tolist() == [16] and batches[1][1].dtype == np.int64
    assert len(DataLoader(Squares(5), batch_size=2, drop_last=True)) == 2


def test_loader_without_batching_sampler_batch_sampler_and_collate_fn():
    unbatched = list(DataLoader(Squares(3), batch_size=None))
    assert isinstance(unbatched[0][0], tc.Tensor) and unbatched[0][0].shape == (2,) and unbatched[2][1] == 4
    picked = [b[1].tolist() for b in DataLoader(Squares(6), batch_size=2, sampler=[5, 4, 3, 2])]
    assert picked == [[25, 16], [9, 4]]
    grouped = [b[1].tolist() for b in DataLoader(Squares(6), batch_sampler=[[0, 5], [1]])]
    assert grouped == [[0, 25], [1]]
    assert list(DataLoader(Squares(3), batch_size=3, collate_fn=len)) == [3]


def test_loader_shuffles_by_manual_seed_or_its_generator():
    def order(**kwargs):
        return [b[1].tolist() for b in DataLoader(Squares(8), batch_size=4, shuffle=True, **kwargs)]
    tc.manual_seed(7)
    first = order()
    tc.manual_seed(7)
    assert order() == first and sorted(sum(first, [])) == sorted(i * i for i in range(8))
    a = order(generator=tc.Generator().manual_seed(1))
    tc.manual_seed(99)
    assert order(generator=tc.Generator().manual_seed(1)) == a


@pytest.mark.parametrize("kwargs", [
    {"num_workers": -1}, {"timeout": -1}, {"prefetch_factor": 2}, {"persistent_workers": True},
    {"shuffle": True, "sampler": [0, 1]}, {"batch_sampler": [[0]], "batch_size": 2},
    {"batch_sampler": [[0]], "drop_last": True}, {"batch_size": None, "drop_last": True},
    {"multiprocessing_context": "no-such-method", "num_workers": 1},
], ids=lambda kwargs: ",".join(kwargs))
def test_loader_arguments_are_refused_as_pytorch_refuses_them(torch, kwargs):
    from torch.utils.data import DataLoader as TorchLoader
    with pytest.raises(Exception) as expected:
        TorchLoader(list(range(4)), **kwargs)
    with pytest.raises(type(expected.value), match=re.escape(str(expected.value)[:40])):
        DataLoader(list(range(4)), **kwargs)


def test_loader_over_an_iterable_dataset_refuses_shuffle():
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        DataLoader(Stream(), shuffle=True)
    assert [b.tolist() for b in DataLoader(Stream(5), batch_size=2)] == [[0, 1], [2, 3], [4]]
    assert len(DataLoader(Stream(5), batch_size=2, drop_last=True)) == 2


def test_pin_memory_warns_that_there_is_no_accelerator():
    with pytest.warns(UserWarning, match="no accelerator is found"):
        DataLoader(Squares(2), pin_memory=True)


# --------------------------------------------------------------------------- DataLoader, worker processes

@pytest.mark.parametrize("workers", [1, 2, 3])
def test_workers_keep_the_samplers_order(workers):
    single = [b[1].tolist() for b in DataLoader(Squares(23), batch_size=4)]
    assert [b[1].tolist() for b in DataLoader(Squares(23), batch_size=4, num_workers=workers)] == single
    tc.manual_seed(0)
    shuffled = [b[1].tolist() for b in DataLoader(Squares(23), batch_size=4, shuffle=True)]
    tc.manual_seed(0)
    assert [b[1].tolist() for b in DataLoader(Squares(23), batch_size=4, shuffle=True,
                                              num_workers=workers)] == shuffled


def test_workers_are_seeded_as_pytorch_seeds_them():
    """seed = base seed + worker id for random and our generator; NumPy's global generator
    gets _generate_state(base seed, worker id); the base seed comes from the loader's generator."""
    def run(seed):
        loader = DataLoader(WhoAmI(), batch_size=None, num_workers=3, generator=tc.Generator().manual_seed(seed))
        return list(loader)

    samples = run(11)
    firsts = {s["worker"]: s for s in sorted(samples, key=lambda s: s["index"]) if s["index"] < 3}
    base = firsts[0]["seed"]
    assert [firsts[w]["seed"] for w in range(3)] == [base, base + 1, base + 2]
    for w, s in firsts.items():
        assert s["random"] == random.Random(s["seed"]).random()
        assert s["numpy"] == np.random.RandomState(generate_state(base, w)).random_sample()
        assert s["tc"] == pytest.approx(tc.Generator().manual_seed(s["seed"]).numpy.random(dtype=np.float32))
    assert [s["random"] for s in run(11)] == [s["random"] for s in samples]
    assert run(12)[0]["seed"] != base
    assert len({s["pid"] for s in samples}) == 3 and os.getpid() not in {s["pid"] for s in samples}


def test_a_raising_worker_raises_in_the_main_process_with_its_traceback_and_indices():
    before = {p.pid for p in multiprocessing.active_children()}
    with pytest.raises(ValueError) as caught:
        list(DataLoader(FailsAt(5), batch_size=2, num_workers=2))
    message = str(caught.value)
    assert "Caught ValueError in DataLoader worker process 0 while fetching indices [4, 5]" in message
    assert "sample 5 is corrupt" in message and 'raise ValueError(f"sample {i} is corrupt")' in message
    assert children_gone(before)


def test_break_mid_epoch_and_garbage_collection_leave_no_worker_behind():
    before = {p.pid for p in multiprocessing.active_children()}
    for i, _ in enumerate(DataLoader(Slow(), batch_size=2, num_workers=2)):
        if i == 1:
            break
    gc.collect()
    assert children_gone(before)
    iterator = iter(DataLoader(Slow(), batch_size=2, num_workers=2))
    next(iterator)
    assert len(multiprocessing.active_children()) >= 2
    del iterator
    gc.collect()
    assert children_gone(before)


def test_persistent_workers_serve_every_epoch():
    before = {p.pid for p in multiprocessing.active_children()}
    gc.disable()
    loader = DataLoader(WhoAmI(), batch_size=4, num_workers=2, persistent_workers=True)
    epochs = [list(loader) for _ in range(3)]
    pids = [{int(p) for b in epoch for p in b["pid"].tolist()} for epoch in epochs]
    assert pids[0] == pids[1] == pids[2] and len(pids[0]) == 2
    assert all([b["index"].tolist() for b in e] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]] for e in epochs)
    streams = DataLoader(Stream(7), batch_size=2, num_workers=2, persistent_workers=True)
    for _ in range(2):
        assert sorted(sum((b.tolist() for b in streams), [])) == list(range(7))
    del loader, epochs, streams  # no reference cycle: the workers end without the garbage collector
    try:
        assert children_gone(before)
    finally:
        gc.enable()


def test_iterable_dataset_with_workers_splits_by_worker_info_or_repeats():
    split = sorted(sum((b.tolist() for b in DataLoader(Stream(9), batch_size=2, num_workers=3)), []))
    assert split == list(range(9))
    repeated = sum((b.tolist() for b in DataLoader(Stream(4, split=False), batch_size=2, num_workers=2)), [])
    assert sorted(repeated) == [0, 0, 1, 1, 2, 2, 3, 3]  # each worker streams it all, as in PyTorch


def test_worker_init_fn_timeout_in_order_and_spawn():
    seen = DataLoader(WhoAmI(), batch_size=None, num_workers=2, worker_init_fn=lambda i: np.random.seed(100 + i))
    numpy_draws = {s["worker"]: s["numpy"] for s in seen if s["index"] < 2}
    assert numpy_draws == {w: np.random.RandomState(100 + w).random_sample() for w in range(2)}
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.01 seconds"):
        next(iter(DataLoader(Slow(), batch_size=8, num_workers=1, timeout=0.01)))
    unordered = DataLoader(Squares(10), batch_size=3, num_workers=2, in_order=False)
    assert sorted(sum((b[1].tolist() for b in unordered), [])) == [i * i for i in range(10)]
    ds = TensorDataset(tc.arange(6.0), tc.arange(6))
    spawned = DataLoader(ds, batch_size=4, num_workers=2, multiprocessing_context="spawn")
    assert [b[1].tolist() for b in spawned] == [[0, 1, 2, 3], [4, 5]]


SCRIPT = textwrap.dedent("""
    import sys, time
    import tinygrad_cnn as tc
    from tinygrad_cnn.utils.data import DataLoader, Dataset

    class Slow(Dataset):
        def __len__(self):
            return 10 ** 6
        def __getitem__(self, i):
            time.sleep(0.01)
            return i

    iterator = iter(DataLoader(Slow(), batch_size=4, num_workers=2))
    next(iterator)
    print(" ".join(str(w.pid) for w in iterator.workers), flush=True)
    if sys.argv[1] == "interrupt":
        for batch in iterator:
            pass
""")


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie has exited
        return stat.read().split()[2] != "Z"


@pytest.mark.parametrize("how", ["exit", "interrupt"])
def test_workers_end_at_interpreter_exit_and_on_ctrl_c(how):
    process = subprocess.Popen([sys.executable, "-c", SCRIPT, how], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    pids = [int(p) for p in process.stdout.readline().split()]
    assert len(pids) == 2
    if how == "interrupt":
        time.sleep(0.3)
        process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    if how == "interrupt":
        assert "KeyboardInterrupt" in err
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(p) for p in pids)


@pytest.mark.parametrize("name", ["DataLoader", "TensorDataset", "Subset", "ConcatDataset", "StackDataset",
                                  "random_split", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
                                  "BatchSampler", "SequentialSampler"])
def test_signatures_are_pytorchs(torch, name):
    import inspect

    import torch.utils.data as theirs

    import tinygrad_cnn.utils.data as ours

    def described(obj):
        function = obj.__init__ if isinstance(obj, type) else obj
        return [(p.name, p.kind) + (() if p.name == "generator" else (p.default,))
                for p in inspect.signature(function).parameters.values()]

    assert described(getattr(ours, name)) == described(getattr(theirs, name))


def test_worker_numpy_seeds_are_pytorchs_generate_state(torch):
    from torch.utils.data._utils.worker import _generate_state
    rng = random.Random(0)
    for _ in range(200):
        base, worker = rng.getrandbits(63), rng.randrange(64)
        assert generate_state(base, worker) == _generate_state(base, worker)
