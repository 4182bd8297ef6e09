"""IDX files, dataset discovery and download, transforms and the DataLoader."""

import gzip
import hashlib
import http.server
import threading
from functools import partial
from pathlib import Path

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn.data import MNIST, ArrayDataset, DataLoader, FashionMNIST, read_idx, transforms, write_idx
from tinygrad_cnn.data.datasets import SPLIT_FILES

DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
@pytest.mark.parametrize("array", [
    np.arange(24, dtype=np.uint8).reshape(2, 3, 4),
    np.array([-5, 7], dtype=np.int32),
    np.linspace(-1, 1, 6, dtype=np.float32).reshape(3, 2),
    np.array([1.5, -2.25]),
])
def test_idx_round_trip(tmp_path, name, array):
    write_idx(tmp_path / name, array)
    back = read_idx(tmp_path / name)
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)


def test_idx_gzip_is_detected_from_content_not_name(tmp_path):
    write_idx(tmp_path / "x.gz", np.ones((2, 2), dtype=np.uint8))
    (tmp_path / "x.gz").rename(tmp_path / "renamed")
    assert read_idx(tmp_path / "renamed").shape == (2, 2)


def test_broken_idx_files_are_rejected(tmp_path):
    write_idx(tmp_path / "good", np.ones((4, 5), dtype=np.uint8))
    raw = (tmp_path / "good").read_bytes()
    (tmp_path / "truncated").write_bytes(raw[:-3])
    with pytest.raises(ValueError, match=r"truncated: shape \(4, 5\) of uint8 needs 20 bytes of data, the file has 17"):
        read_idx(tmp_path / "truncated")
    (tmp_path / "long").write_bytes(raw + b"\x00")
    with pytest.raises(ValueError, match="longer than its header says"):
        read_idx(tmp_path / "long")
    (tmp_path / "magic").write_bytes(b"\x01" + raw[1:])
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(tmp_path / "magic")
    (tmp_path / "code").write_bytes(raw[:2] + b"\x42" + raw[3:])
    with pytest.raises(ValueError, match="unknown IDX type code 0x42"):
        read_idx(tmp_path / "code")
    (tmp_path / "header").write_bytes(raw[:6])
    with pytest.raises(ValueError, match="truncated inside its header"):
        read_idx(tmp_path / "header")
    (tmp_path / "damaged.gz").write_bytes(gzip.compress(raw)[:-10])
    with pytest.raises(ValueError, match="damaged gzip"):
        read_idx(tmp_path / "damaged.gz")


def write_split(directory, train, n, seed=0, gz=True):
    rng = np.random.default_rng(seed)
    images_name, labels_name = SPLIT_FILES[train]
    suffix = ".gz" if gz else ""
    directory.mkdir(parents=True, exist_ok=True)
    write_idx(directory / (images_name + suffix), rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
    write_idx(directory / (labels_name + suffix), rng.integers(0, 10, n, dtype=np.uint8))


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No system copy, no environment variable, an empty cache."""
    monkeypatch.setattr(FashionMNIST, "system_dir", tmp_path / "system")
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    monkeypatch.setenv("TINYGRAD_CNN_CACHE", str(tmp_path / "cache"))
    return tmp_path


def test_dataset_reads_root_first_then_the_environment_variable(isolated, monkeypatch):
    write_split(isolated / "root", True, 7, gz=False)
    write_split(isolated / "env", True, 5)
    monkeypatch.setenv("FASHION_MNIST_DIR", str(isolated / "env"))
    assert len(FashionMNIST(isolated / "root")) == 7
    from_env = FashionMNIST()
    assert len(from_env) == 5 and from_env.root == isolated / "env"
    images, labels = next(iter(DataLoader(from_env, batch_size=2)))
    assert images.shape == (2, 28, 28) and images.dtype == np.uint8 and labels.dtype == np.int64


def test_missing_data_error_says_where_it_looked_and_how_to_get_it(isolated):
    with pytest.raises(FileNotFoundError) as info:
        FashionMNIST(isolated / "nowhere", train=False)
    message = str(info.value)
    for expected in ("t10k-images-idx3-ubyte[.gz]", str(isolated / "nowhere"), "$FASHION_MNIST_DIR: (not set)",
                     str(isolated / "system"), "apt-get install dataset-fashion-mnist", "download=True"):
        assert expected in message


@pytest.mark.skipif(not DEBIAN_FASHION_MNIST.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_fashion_mnist_finds_the_debian_copy(monkeypatch):
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    train, test = FashionMNIST(train=True), FashionMNIST(train=False)
    assert train.root == DEBIAN_FASHION_MNIST
    assert train.data.shape == (60000, 28, 28) and train.data.dtype == np.uint8 and len(test) == 10000
    assert set(np.unique(test.targets)) == set(range(10))


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def mirror(tmp_path):
    """An HTTP server on loopback serving a directory, as a dataset mirror."""
    served = tmp_path / "served"
    served.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


def test_download_checks_checksums_and_fills_the_cache(monkeypatch, tmp_path, mirror):
    served, url = mirror
    write_split(served, False, 6)
    md5 = {p.name[:-3]: hashlib.md5(p.read_bytes()).hexdigest() for p in served.iterdir()}
    monkeypatch.setattr(MNIST, "mirrors", ("http://127.0.0.1:9/unreachable/", url))
    monkeypatch.setattr(MNIST, "md5", md5)
    monkeypatch.setattr(MNIST, "system_dir", None)
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.setenv("TINYGRAD_CNN_CACHE", str(tmp_path / "cache"))
    data = MNIST(train=False, download=True)
    assert len(data) == 6 and data.root == tmp_path / "cache" / "MNIST"
    assert len(MNIST(train=False)) == 6  # found in the cache, offline


def test_download_with_a_wrong_checksum_fails_and_keeps_nothing(monkeypatch, tmp_path, mirror):
    served, url = mirror
    write_split(served, False, 6)
    monkeypatch.setattr(MNIST, "mirrors", (url,))
    monkeypatch.setattr(MNIST, "md5", {name: "0" * 32 for name in SPLIT_FILES[False]})
    monkeypatch.setattr(MNIST, "system_dir", None)
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.setenv("TINYGRAD_CNN_CACHE", str(tmp_path / "cache"))
    with pytest.raises(RuntimeError, match="checksum mismatch"):
        MNIST(train=False, download=True)
    assert list((tmp_path / "cache" / "MNIST").iterdir()) == []


def test_data_loader_batches_shuffles_with_the_seed_and_drops_last():
    dataset = ArrayDataset(np.arange(10)[:, None].astype(np.float32), np.arange(10))
    loader = DataLoader(dataset, batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and [len(y) for _, y in batches] == [4, 4, 2]
    assert np.concatenate([y.numpy() for _, y in batches]).tolist() == list(range(10))
    assert len(DataLoader(dataset, 4, drop_last=True)) == 2
    shuffled = DataLoader(dataset, 4, shuffle=True)
    tc.manual_seed(5)
    first = np.concatenate([y.numpy() for _, y in shuffled])
    tc.manual_seed(5)
    again = np.concatenate([y.numpy() for _, y in shuffled])
    assert sorted(first.tolist()) == list(range(10)) and first.tolist() != list(range(10))
    np.testing.assert_array_equal(first, again)


def test_idx_datasets_yield_torchvision_samples_and_fetch_whole_batches_alike(small_data):
    """A sample is a (28, 28) uint8 image and an int, each through its transform; a batch
    fetched whole (transforms that take batches) equals the samples collated one by one."""
    normalize = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.3,), (0.4,))])
    raw = FashionMNIST(small_data, train=False)
    image, label = raw[3]
    assert image.shape == (28, 28) and image.dtype == np.uint8 and isinstance(label, int)
    data = FashionMNIST(small_data, train=False, transform=normalize, target_transform=lambda t: t + 100)
    image, label = data[3]
    np.testing.assert_allclose(image.numpy(), (raw.data[3][None] / 255 - 0.3) / 0.4, rtol=1e-5, atol=1e-6)
    assert label == raw.targets[3] + 100
    whole = FashionMNIST(small_data, train=False, transform=normalize)
    apart = FashionMNIST(small_data, train=False, transform=transforms.Compose([transforms.Compose([
        normalize, transforms.Lambda(lambda x: x)])]))  # Lambda takes no batches: fetched sample by sample
    assert transforms.batchable(whole.transform) and not transforms.batchable(apart.transform)
    for (x1, y1), (x2, y2) in zip(DataLoader(whole, batch_size=16), DataLoader(apart, batch_size=16)):
        assert x1.shape == x2.shape and x1.shape[1:] == (1, 28, 28) and x1.dtype == x2.dtype == np.float32
        np.testing.assert_allclose(x1.numpy(), x2.numpy(), rtol=1e-6)
        assert y1.tolist() == y2.tolist() and y1.dtype == np.int64


def test_data_loader_collates_a_plain_list_of_pairs():
    pairs = [(np.full((2,), i, dtype=np.float32), i) for i in range(5)]
    x, y = next(iter(DataLoader(pairs, batch_size=3)))
    assert x.shape == (3, 2) and y.numpy().tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="batch_size should be a positive integer value"):
        DataLoader(pairs, batch_size=0)


def test_idx_headers_are_checked_before_allocating(tmp_path):
    huge = tmp_path / "huge.idx"
    huge.write_bytes(bytes([0, 0, 8, 2]) + np.array([4_000_000_000, 4_000_000_000], ">u4").tobytes() + b"xx")
    with pytest.raises(ValueError, match="needs 16000000000000000000 bytes of data, the file has 2"):
        read_idx(huge)
    many = tmp_path / "many.idx"
    many.write_bytes(bytes([0, 0, 8, 255]) + np.ones(255, ">u4").tobytes() + b"x")
    with pytest.raises(ValueError, match="declares 255 dimensions; an array has at most 64"):
        read_idx(many)
