"""The main job: real data lowers the loss; checkpoints, resume and Ctrl-C work."""
import json
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
