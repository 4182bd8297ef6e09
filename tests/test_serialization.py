"""save / load: nested dicts, no pickle, atomic writes."""
import os

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor
from tinygrad_cnn.serialization import to_python


def test_nested_round_trip(tmp_path):
    obj = {"model": {"0.weight": np.arange(6.0).reshape(2, 3), "0.bias": Tensor([1.0, 2.0])},
           "epoch": 3, "name": "run", "groups": [{"lr": 0.1}, {"lr": 0.2}]}
    tc.save(obj, tmp_path / "c.npz")
    back = tc.load(tmp_path / "c.npz")
    np.testing.assert_array_equal(back["model"]["0.weight"], obj["model"]["0.weight"])
    assert back["model"]["0.bias"].dtype == np.float32
    assert to_python(back)["epoch"] == 3 and to_python(back)["name"] == "run"
    assert to_python(back["groups"]) == {"0": {"lr": 0.1}, "1": {"lr": 0.2}}


def test_objects_that_need_pickle_are_refused(tmp_path):
    with pytest.raises(TypeError, match="'x' of type object cannot be stored without pickle"):
        tc.save({"x": object()}, tmp_path / "c.npz")
    with pytest.raises(TypeError, match="expected a dict"):
        tc.save([1, 2], tmp_path / "c.npz")
    with pytest.raises(ValueError, match="must not contain '/'"):
        tc.save({"a/b": 1}, tmp_path / "c.npz")


def test_a_crash_while_writing_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "c.npz"
    tc.save({"w": np.ones(3)}, path)

    def crash(file, **arrays):
        file.write(b"half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        tc.save({"w": np.zeros(3)}, path)
    monkeypatch.undo()
    np.testing.assert_array_equal(tc.load(path)["w"], np.ones(3))
    assert os.listdir(tmp_path) == ["c.npz"]  # no temporary file left behind


def test_loading_a_broken_or_missing_file_is_clear(tmp_path):
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="is not a readable .npz checkpoint"):
        tc.load(tmp_path / "bad.npz")
    with pytest.raises(FileNotFoundError, match="load: no file at"):
        tc.load(tmp_path / "none.npz")
