"""The findings of the careful-and-careless-user probes: each reproduced, each now handled."""
import json
import os
import stat
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, nn, optim, train
from tinygrad_cnn.data import read_idx

from test_train import CtrlCAfter, run_main


class CtrlCAt(CtrlCAfter):
    """Ctrl-C on the loop's 7th question: 6 train an epoch of 96 images in batches of 16, the
    7th comes from the evaluation."""

    after = 6


# --------------------------------------------------------------------------- the main job

def test_3_ctrl_c_during_evaluation_keeps_the_epoch(tmp_path, small_data, monkeypatch):
    assert run_main(tmp_path / "straight", small_data, "--epochs", "2") == 0
    with monkeypatch.context() as patch:
        patch.setattr(train, "StopRequest", CtrlCAt)
        assert run_main(tmp_path / "cut", small_data, "--epochs", "2") == 130
    saved = tc.load(tmp_path / "cut" / "checkpoint.npz")
    assert int(saved["progress"]["batch"]) == 6 and int(saved["progress"]["epoch"]) == 0  # trained, not evaluated
    assert not (tmp_path / "cut" / "metrics.jsonl").exists()
    assert run_main(tmp_path / "cut", small_data, "--epochs", "2", "--resume") == 0
    rows = [json.loads(line) for line in (tmp_path / "cut" / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2]  # the interrupted evaluation ran on resume
    straight = tc.load(tmp_path / "straight" / "checkpoint.npz")["model"]
    resumed = tc.load(tmp_path / "cut" / "checkpoint.npz")["model"]
    for name in straight:
        np.testing.assert_array_equal(resumed[name], straight[name], err_msg=name)


def test_3_a_second_ctrl_c_exits_130_without_a_traceback(tmp_path, small_data, monkeypatch, capsys):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train, "train_epoch", interrupt)
    assert run_main(tmp_path / "run", small_data, "--epochs", "1") == 130
    assert "continue with --resume" in capsys.readouterr().err


@pytest.mark.parametrize("damage", ["truncate", "flip", "npy"])
def test_4_a_damaged_checkpoint_is_named_with_what_to_do(tmp_path, small_data, capsys, damage):
    out = tmp_path / "run"
    assert run_main(out, small_data, "--epochs", "1") == 0
    path = out / "checkpoint.npz"
    raw = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "flip":
        flipped = bytearray(raw)
        flipped[len(raw) // 3] ^= 0xFF
        path.write_bytes(bytes(flipped))
    else:
        np.save(open(path, "wb"), np.ones(3))
    capsys.readouterr()
    assert run_main(out, small_data, "--epochs", "2", "--resume") == 2
    error = capsys.readouterr().err
    assert str(path) in error and "delete it" in error
    with pytest.raises(ValueError, match=str(path)):
        tc.load(path)


def test_4_load_of_a_npy_file_says_so(tmp_path):
    np.save(tmp_path / "a.npy", np.ones(3))
    with pytest.raises(ValueError, match=r"holds a single array \(a .npy file\), not a dict written by tc.save"):
        tc.load(tmp_path / "a.npy")


def test_5_extending_a_finished_run_replans_the_schedule(tmp_path, small_data):
    assert run_main(tmp_path / "short", small_data, "--epochs", "1") == 0
    assert run_main(tmp_path / "short", small_data, "--epochs", "3", "--resume") == 0
    assert run_main(tmp_path / "fresh", small_data, "--epochs", "3") == 0
    extended = [json.loads(r)["lr"] for r in (tmp_path / "short" / "metrics.jsonl").read_text().splitlines()]
    fresh = [json.loads(r)["lr"] for r in (tmp_path / "fresh" / "metrics.jsonl").read_text().splitlines()]
    assert extended[0] == pytest.approx(0.05) and extended[1:] == pytest.approx(fresh[1:])
    assert fresh[1:] == pytest.approx([0.05 * (1 + np.cos(np.pi * e / 3)) / 2 for e in (1, 2)])


def test_6_changed_settings_are_refused_on_resume(tmp_path, small_data, capsys):
    out = tmp_path / "run"
    assert run_main(out, small_data, "--epochs", "1") == 0
    capsys.readouterr()
    assert run_main(out, small_data, "--epochs", "2", "--resume", "--optimizer", "adam", "--lr", "0.01") == 2
    error = capsys.readouterr().err
    assert "--optimizer: the checkpoint has 'sgd', this run 'adam'" in error
    assert "--lr: the checkpoint has 0.05, this run 0.01" in error
    assert run_main(out, small_data, "--epochs", "2", "--resume", "--threads", "1",
                    "--out", str(out)) == 0  # threads and paths do not define a run


@pytest.mark.parametrize("flag,value", [("--limit-batches", "0"), ("--limit-batches", "-1"), ("--epochs", "0"),
                                        ("--lr", "-0.1"), ("--lr", "nan"), ("--batch-size", "2.5")])
def test_7_argument_ranges_are_checked(flag, value, capsys):
    with pytest.raises(SystemExit) as exit_:
        train.parse_args([flag, value])
    assert exit_.value.code == 2
    assert f"argument {flag}" in capsys.readouterr().err


def test_8_files_honour_the_umask_and_stale_temporaries_are_removed(tmp_path, small_data):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    out = tmp_path / "run"
    out.mkdir()
    stale = out / f".checkpoint.npz.{dead}.abc123.tmp"
    stale.write_bytes(b"half a checkpoint")
    old = os.umask(0o027)
    try:
        assert run_main(out, small_data, "--epochs", "1") == 0
    finally:
        os.umask(old)
    assert not stale.exists()
    assert stat.S_IMODE((out / "checkpoint.npz").stat().st_mode) == 0o640
    assert stat.S_IMODE((out / "metrics.jsonl").stat().st_mode) == 0o640


# --------------------------------------------------------------------------- the library

def test_9_numpy_integers_are_accepted_and_floats_refused():
    x = tc.randn(1, 2, 7, 7)
    w = tc.randn(2, 2, 3, 3)
    assert F.conv2d(x, w, stride=np.int64(2)).shape == F.conv2d(x, w, stride=2).shape
    assert nn.Conv2d(2, 2, np.int64(3))(x).shape == (1, 2, 5, 5)
    assert F.max_pool2d(x, np.int32(2)).shape == (1, 2, 3, 3)
    assert x.reshape(np.int64(98)).shape == (98,) and tc.zeros(np.int64(2), 3).shape == (2, 3)
    assert x.sum(dim=np.int64(1)).shape == (1, 7, 7)
    with pytest.raises(TypeError, match=r"conv2d: stride must be an int or a pair of ints, got 1.5"):
        F.conv2d(x, w, stride=1.5)
    with pytest.raises(TypeError, match="conv2d: groups must be an int, got 1.0"):
        F.conv2d(x, w, groups=1.0)
    with pytest.raises(TypeError, match="Conv2d: in_channels must be an int, got True"):
        nn.Conv2d(True, 2, 3)
    with pytest.raises(TypeError, match="max_pool2d: kernel_size must be an int or a pair of ints"):
        F.max_pool2d(x, 2.0)


def test_10_dtype_mismatches_are_refused():
    with pytest.raises(TypeError, match="cross_entropy: expected floating point logits, got dtype int64"):
        F.cross_entropy(Tensor(np.zeros((2, 3), np.int64)), Tensor([0, 1]))
    with pytest.raises(TypeError, match="linear: input must be floating point, got dtype int64"):
        nn.Linear(3, 2)(Tensor(np.ones((2, 3), np.int64)))
    with pytest.raises(TypeError, match="conv2d: expected one dtype, got input float64, weight float32, "
                                        "bias float32"):
        nn.Conv2d(1, 2, 3)(Tensor(np.ones((1, 1, 5, 5))))
    with pytest.raises(TypeError, match="batch_norm: expected one dtype, got input float64, weight float32"):
        nn.BatchNorm2d(2)(Tensor(np.ones((2, 2, 3, 3))))
    with pytest.raises(TypeError, match="matmul: expected both operands to have the same dtype, got float32 and "
                                        "float64"):
        Tensor(np.ones((2, 3), np.float32)) @ Tensor(np.ones(3))


def test_11_optimiser_settings_and_states_are_validated():
    p = [nn.Parameter(Tensor(np.ones(2, np.float32)))]
    with pytest.raises(ValueError, match="Adam: lr, eps and weight_decay must be non-negative, got lr=nan"):
        optim.Adam(p, lr=float("nan"))
    with pytest.raises(TypeError, match="SGD: lr, momentum and weight_decay must be numbers"):
        optim.SGD(p, lr="0.1")
    opt = optim.SGD(p, lr=0.1, momentum=0.9)
    for bad, message in [({"state": {}}, "expected a dict with 'state' and 'param_groups'"),
                         ({"state": {5: {"momentum_buffer": np.ones(2)}}, "param_groups": opt.state_dict()["param_groups"]},
                          "state entry 5 does not belong to one of the 1 parameters"),
                         ({"state": {0: {"momentum_buffer": np.ones(3)}}, "param_groups": opt.state_dict()["param_groups"]},
                          r"state 'momentum_buffer' of parameter 0 has shape \(3,\), the parameter \(2,\)"),
                         ({"state": {}, "param_groups": [{"lr": 0.1}]}, "every parameter group must be a dict with")]:
        with pytest.raises(ValueError, match=message):
            opt.load_state_dict(bad)
    scheduler = optim.lr_scheduler.StepLR(opt, step_size=2)
    with pytest.raises(ValueError, match="StepLR.load_state_dict: the state does not fit a StepLR"):
        scheduler.load_state_dict({"T_max": 3})


def test_12_idx_headers_are_checked_before_allocating(tmp_path):
    huge = tmp_path / "huge.idx"
    huge.write_bytes(bytes([0, 0, 8, 2]) + np.array([4_000_000_000, 4_000_000_000], ">u4").tobytes() + b"xx")
    with pytest.raises(ValueError, match="needs 16000000000000000000 bytes of data, the file has 2"):
        read_idx(huge)
    many = tmp_path / "many.idx"
    many.write_bytes(bytes([0, 0, 8, 255]) + np.ones(255, ">u4").tobytes() + b"x")
    with pytest.raises(ValueError, match="declares 255 dimensions; an array has at most 64"):
        read_idx(many)
