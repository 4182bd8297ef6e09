"""The examples run as scripts and do what they say."""
import runpy
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_custom_function_example(capsys):
    runpy.run_path(str(EXAMPLES / "custom_function.py"), run_name="__main__")
    assert "gradcheck and gradgradcheck passed" in capsys.readouterr().out


def test_visualize_example(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(EXAMPLES / "visualize_graph.py"), run_name="__main__")
    assert {"graph_forward.svg", "graph_backward.png", "graph_modules.png"} <= {p.name for p in tmp_path.iterdir()}


DEBIAN = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.skipif(not DEBIAN.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_define_your_own_model_example_learns(capsys):
    runpy.run_path(str(EXAMPLES / "define_your_own_model.py"), run_name="__main__")
    out = capsys.readouterr().out
    accuracy = float(out.strip().splitlines()[-1].rsplit(" ", 1)[1].rstrip("%"))
    assert accuracy > 70.0  # ten classes: chance is 10%


def test_train_script_shows_its_options(capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["train_fashion_mnist.py", "--help"])
    with pytest.raises(SystemExit) as info:
        runpy.run_path(str(EXAMPLES / "train_fashion_mnist.py"), run_name="__main__")
    assert info.value.code == 0 and "--batch-norm" in capsys.readouterr().out


def test_a_pytorch_model_file_runs_with_only_its_imports_changed(capsys):
    source = (EXAMPLES / "port_a_pytorch_model.py").read_text()
    imports = [line for line in source.splitlines() if line.startswith("import ")]
    assert imports == ["import numpy as np", "import tinygrad_cnn as torch", "import tinygrad_cnn.functional as F",
                       "import tinygrad_cnn.nn as nn"]
    runpy.run_path(str(EXAMPLES / "port_a_pytorch_model.py"), run_name="__main__")
    accuracy = float(capsys.readouterr().out.strip().splitlines()[-1].rsplit(" ", 1)[1].rstrip("%"))
    assert accuracy > 30.0  # ten classes: chance is 10%


def test_a_state_dict_carries_over_to_pytorch(capsys):
    pytest.importorskip("torch")  # the hand-off can only be checked where PyTorch is installed
    namespace = runpy.run_path(str(EXAMPLES / "to_pytorch.py"))
    assert namespace["main"]() < 1e-4


@pytest.mark.skipif(not DEBIAN.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_quickstart_example_learns(capsys):
    namespace = runpy.run_path(str(EXAMPLES / "quickstart.py"))
    assert namespace["main"](epochs=1, train_samples=6000) > 0.6
    assert "Shape of X [N, C, H, W]: (64, 1, 28, 28)" in capsys.readouterr().out


def test_wgan_example_moves_the_samples_onto_the_ring():
    namespace = runpy.run_path(str(EXAMPLES / "wgan.py"))
    assert namespace["main"](iterations=400) < 0.2  # they start 0.73 away


def test_hooks_example_reports_every_layer():
    report = runpy.run_path(str(EXAMPLES / "hooks.py"))["main"]()
    assert set(report) == {"0", "1", "2", "3", "4"} and 0.2 < report["1"]["zeros"] < 0.8
    assert all(row["grad_out_norm"] > 0 for row in report.values())


def test_lbfgs_example_converges():
    loss, accuracy = runpy.run_path(str(EXAMPLES / "lbfgs.py"))["main"]()
    assert loss < 0.1 and accuracy > 0.95


def test_run_pytorch_program_rewrites_only_the_imports(tmp_path, capsys):
    runner = runpy.run_path(str(EXAMPLES / "run_pytorch_program.py"))
    source = "\n".join([
        "import torch", "import torch.nn as nn", "import torch.utils.data", "from torch import optim",
        "from torch.nn import functional as F", "from torchvision import datasets, transforms",
        "from torchvision.utils import save_image", "import numpy as np, torch", "    import torch.nn.functional as F",
        "x = torch.ones(2)  # torch stays torch below the imports"])
    assert runner["rewritten"](source).splitlines() == [
        "import tinygrad_cnn as torch", "import tinygrad_cnn.nn as nn",
        "import tinygrad_cnn.utils.data, tinygrad_cnn as torch", "from tinygrad_cnn import optim",
        "from tinygrad_cnn.nn import functional as F", "from tinygrad_cnn.data import datasets, transforms",
        "from tinygrad_cnn.data.utils import save_image", "import numpy as np, tinygrad_cnn as torch",
        "    import tinygrad_cnn.nn.functional as F", "x = torch.ones(2)  # torch stays torch below the imports"]
    program = tmp_path / "program.py"
    program.write_text("import sys\nimport torch\nprint(torch.__name__, sys.argv[1:], (torch.ones(3) * 2).sum().item())\n")
    import sys
    saved = sys.argv, sys.path[:]
    try:
        sys.argv = ["run_pytorch_program.py", str(program), "--flag"]
        runner["main"]()
    finally:
        sys.argv, sys.path[:] = saved[0], saved[1]
    assert capsys.readouterr().out.strip() == "tinygrad_cnn ['--flag'] 6.0"
    assert [p.name for p in tmp_path.iterdir()] == ["program.py"]  # the rewritten copy is gone
