"""The main job: real data lowers the loss; checkpoints, resume and Ctrl-C work."""
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import optim, train
from tinygrad_cnn.data import DataLoader, FashionMNIST, transforms
from tinygrad_cnn.models import seed_cnn

from test_data import write_split

DEBIAN = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.skipif(not DEBIAN.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
@pytest.mark.parametrize("batch_norm", [False, True])
def test_two_batches_of_real_data_lower_the_loss(batch_norm):
    tc.manual_seed(0)
    normalize = transforms.Compose([transforms.ToTensor(),
                                    transforms.Normalize((FashionMNIST.mean,), (FashionMNIST.std,))])
    data = FashionMNIST(train=True, transform=normalize)
    images, labels = next(iter(DataLoader(data, batch_size=256, shuffle=True)))
    model = seed_cnn(batch_norm=batch_norm)
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

    def loss_on_batch():
        with tc.no_grad():
            return F.cross_entropy(model.eval()(images), labels).item()

    before = loss_on_batch()
    model.train()
    for half in (slice(0, 128), slice(128, 256)):
        loss = F.cross_entropy(model(images[half]), labels[half])
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss_on_batch() < before


def run_main(out, data, *extra):
    return train.main(["--data-root", str(data), "--out", str(out), "--batch-size", "16", "--seed", "3", *extra])


def test_main_job_writes_metrics_checkpoints_and_resumes(tmp_path, small_data):
    out = tmp_path / "run"
    assert run_main(out, small_data, "--epochs", "1") == 0
    assert {"checkpoint.npz", "best.npz", "metrics.jsonl"} <= {p.name for p in out.iterdir()}
    assert run_main(out, small_data, "--epochs", "2", "--resume") == 0
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2]
    assert rows[-1]["samples_per_second"] > 0
    model = seed_cnn()
    model.load_state_dict(tc.load(out / "best.npz"))
    # the recorded accuracy and loss are the best model's on the 40 test images, recomputed here
    normalize = transforms.Compose([transforms.ToTensor(),
                                    transforms.Normalize((FashionMNIST.mean,), (FashionMNIST.std,))])
    images, labels = next(iter(DataLoader(FashionMNIST(small_data, train=False, transform=normalize), 40)))
    with tc.no_grad():
        logits = model.eval()(images)
    best = max(rows, key=lambda r: r["test_accuracy"])
    assert best["test_accuracy"] == (logits.argmax(1).numpy() == labels.numpy()).mean()
    if best is rows[-1]:
        assert best["test_loss"] == pytest.approx(F.cross_entropy(logits, labels).item(), rel=1e-5)


def test_graph_html_writes_the_explorer_of_the_first_step(tmp_path, small_data):
    """--graph-html: the page of the first training step, with its values and gradients recorded,
    and the training that follows is the same as without it."""
    import json as json_module
    import re

    out = tmp_path / "run"
    assert run_main(out, small_data, "--epochs", "1", "--limit-batches", "2", "--graph-html") == 0
    page = (out / "graph.html").read_text()
    data = json_module.loads(re.search(r'id="scene">(.*?)</script>', page, re.S).group(1).replace("<\\/", "</"))
    assert data["recorded"] and len(data["order"]) == 16 and set(data["views"]) >= {"", "0", "9"}
    conv = next(i["details"] for v in data["views"].values() for i in v["items"].values()
                if i["kind"] == "op" and i["details"]["primitive"] == "Conv2d")
    assert conv["outputs"][0]["shape"] == "16×32×26×26" and conv["outputs"][0]["gradient"]["norm"] > 0
    plain = tmp_path / "plain"
    assert run_main(plain, small_data, "--epochs", "1", "--limit-batches", "2") == 0
    assert tc.load(out / "best.npz").keys() == tc.load(plain / "best.npz").keys()
    for key, value in tc.load(out / "best.npz").items():
        np.testing.assert_array_equal(value.numpy(), tc.load(plain / "best.npz")[key].numpy())
    elsewhere = tmp_path / "pages" / "step.html"
    assert run_main(tmp_path / "other", small_data, "--epochs", "1", "--limit-batches", "1",
                    "--graph-html", str(elsewhere)) == 0
    assert elsewhere.stat().st_size > 10_000


def test_plot_is_written_when_matplotlib_is_installed(tmp_path, small_data):
    pytest.importorskip("matplotlib")
    assert run_main(tmp_path / "run", small_data, "--epochs", "1") == 0
    assert (tmp_path / "run" / "metrics.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


class CtrlCAfter(train.StopRequest):
    """Behaves as if the user pressed Ctrl-C once the loop has asked ``after`` times."""

    after = 2

    def __init__(self):
        super().__init__()
        self.asked = 0

    @property
    def requested(self):
        self.asked += 1
        return self.asked > self.after

    @requested.setter
    def requested(self, value):
        pass


@pytest.mark.parametrize("batch_norm", [False, True])
def test_ctrl_c_leaves_a_checkpoint_and_resuming_is_exact(tmp_path, small_data, monkeypatch, batch_norm):
    flags = ["--epochs", "2"] + (["--batch-norm"] if batch_norm else [])
    assert run_main(tmp_path / "straight", small_data, *flags) == 0
    with monkeypatch.context() as patch:
        patch.setattr(train, "StopRequest", CtrlCAfter)
        assert run_main(tmp_path / "interrupted", small_data, *flags) == 130
    saved = tc.load(tmp_path / "interrupted" / "checkpoint.npz")
    assert int(saved["progress"]["batch"]) == 3 and int(saved["progress"]["epoch"]) == 0
    assert run_main(tmp_path / "interrupted", small_data, *flags, "--resume") == 0
    straight = tc.load(tmp_path / "straight" / "checkpoint.npz")["model"]
    resumed = tc.load(tmp_path / "interrupted" / "checkpoint.npz")["model"]
    for name in straight:
        np.testing.assert_array_equal(resumed[name], straight[name], err_msg=name)


def test_missing_data_and_missing_checkpoint_exit_with_a_message(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(FashionMNIST, "system_dir", tmp_path / "none")
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    monkeypatch.setenv("TINYGRAD_CNN_CACHE", str(tmp_path / "cache"))
    assert train.main(["--data-root", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "could not find" in capsys.readouterr().err
    write_split(tmp_path / "d", True, 8)
    write_split(tmp_path / "d", False, 8)
    assert run_main(tmp_path / "o", tmp_path / "d", "--resume") == 2
    assert "no checkpoint" in capsys.readouterr().err


class CtrlCAt(CtrlCAfter):
    """Ctrl-C on the loop's 7th question: 6 train an epoch of 96 images in batches of 16, the
    7th comes from the evaluation."""

    after = 6


def test_ctrl_c_during_evaluation_keeps_the_epoch(tmp_path, small_data, monkeypatch):
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


def test_a_second_ctrl_c_exits_130_without_a_traceback(tmp_path, small_data, monkeypatch, capsys):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train, "train_epoch", interrupt)
    assert run_main(tmp_path / "run", small_data, "--epochs", "1") == 130
    assert "continue with --resume" in capsys.readouterr().err


@pytest.mark.parametrize("damage", ["truncate", "flip", "npy"])
def test_a_damaged_checkpoint_is_named_with_what_to_do(tmp_path, small_data, capsys, damage):
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


def test_load_of_a_npy_file_says_so(tmp_path):
    np.save(tmp_path / "a.npy", np.ones(3))
    with pytest.raises(ValueError, match=r"holds a single array \(a .npy file\), not a dict written by tc.save"):
        tc.load(tmp_path / "a.npy")


def test_extending_a_finished_run_replans_the_schedule(tmp_path, small_data):
    assert run_main(tmp_path / "short", small_data, "--epochs", "1") == 0
    assert run_main(tmp_path / "short", small_data, "--epochs", "3", "--resume") == 0
    assert run_main(tmp_path / "fresh", small_data, "--epochs", "3") == 0
    extended = [json.loads(r)["lr"] for r in (tmp_path / "short" / "metrics.jsonl").read_text().splitlines()]
    fresh = [json.loads(r)["lr"] for r in (tmp_path / "fresh" / "metrics.jsonl").read_text().splitlines()]
    assert extended[0] == pytest.approx(0.05) and extended[1:] == pytest.approx(fresh[1:])
    assert fresh[1:] == pytest.approx([0.05 * (1 + np.cos(np.pi * e / 3)) / 2 for e in (1, 2)])


def test_changed_settings_are_refused_on_resume(tmp_path, small_data, capsys):
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
def test_argument_ranges_are_checked(flag, value, capsys):
    with pytest.raises(SystemExit) as exit_:
        train.parse_args([flag, value])
    assert exit_.value.code == 2
    assert f"argument {flag}" in capsys.readouterr().err


def test_files_honour_the_umask_and_stale_temporaries_are_removed(tmp_path, small_data):
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
