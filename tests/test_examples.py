"""The examples run as scripts and do what they say."""
import runpy
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_custom_function_example(capsys):
    runpy.run_path(str(EXAMPLES / "custom_function.py"), run_name="__main__")
    assert "gradcheck and gradgradcheck passed" in capsys.readouterr().out


def test_visualize_example(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(EXAMPLES / "visualize_graph.py"), run_name="__main__")
    assert {"graph_forward.svg", "graph_backward.png", "graph_modules.png"} <= {p.name for p in tmp_path.iterdir()}
