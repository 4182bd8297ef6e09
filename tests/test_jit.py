"""tc.jit as eager PyTorch sees torch.jit: marks are identity decorators, script/trace return
what runs the same code (with a warning), TorchScript archives are refused with a way out."""
import warnings

import pytest

import tinygrad_cnn as torch  # model code as torchvision writes it
from tinygrad_cnn import nn


class Inception(nn.Module):
    """The TorchScript idioms of torchvision's GoogLeNet and DenseNet."""

    def __init__(self):
        super().__init__()
        self.branch = nn.Linear(4, 2)
        self.aux: torch.jit.Final[bool] = True

    @torch.jit.unused
    def call_checkpoint_bottleneck(self, x):
        return self.branch(x)

    @torch.jit._overload_method  # noqa: F811
    def forward(self, x):  # type: (torch.Tensor) -> torch.Tensor
        pass

    @torch.jit.ignore(drop=True)
    def debug(self, x):
        return x

    def forward(self, x):  # noqa: F811
        if torch.jit.is_scripting():
            raise AssertionError("never scripting here")
        out = torch.jit.annotate(list, [])
        out.append(self.call_checkpoint_bottleneck(x))
        return torch.jit.export(lambda y: y)(out[0])


def test_torchscript_marks_leave_eager_code_as_it_is():
    model = Inception()
    assert model(torch.ones(3, 4)).shape == (3, 2)
    assert torch.jit.is_scripting() is False and torch.jit.is_tracing() is False
    assert torch.jit.ignore(len) is len and model.debug(5) == 5


@pytest.mark.parametrize("how", ["script", "trace"])
def test_script_and_trace_run_the_same_code_and_warn(how):
    model = Inception()
    expected = model(torch.ones(2, 4)).tolist()
    with pytest.warns(UserWarning, match=f"tc.jit.{how}: nothing is compiled"):
        compiled = torch.jit.script(model) if how == "script" else torch.jit.trace(model, torch.ones(2, 4))
    assert isinstance(compiled, torch.jit.ScriptModule) and isinstance(compiled, Inception)
    assert compiled(torch.ones(2, 4)).tolist() == expected
    assert list(compiled.state_dict()) == ["branch.weight", "branch.bias"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert torch.jit.script(len) is len


def test_torchscript_archives_are_refused_with_the_ways_out(tmp_path):
    with pytest.warns(UserWarning):
        scripted = torch.jit.script(nn.Linear(2, 2))
    for call in (lambda: scripted.save(tmp_path / "m.pt"), lambda: torch.jit.save(scripted, tmp_path / "m.pt"),
                 lambda: torch.jit.load(tmp_path / "m.pt")):
        with pytest.raises(NotImplementedError, match=r"tc.onnx.export.*tc.save"):
            call()


def test_is_tracing_is_true_while_exporting(tmp_path):
    pytest.importorskip("onnx")
    seen = []

    class Probe(nn.Module):
        def forward(self, x):
            seen.append(torch.jit.is_tracing())
            return x * 2

    torch.onnx.export(Probe(), (torch.ones(1, 2),), tmp_path / "probe.onnx")
    assert seen == [True]
