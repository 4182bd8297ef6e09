"""The examples run as scripts and do what they say."""
import runpy
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_custom_function_example(capsys):
    runpy.run_path(str(EXAMPLES / "custom_function.py"), run_name="__main__")
    assert "gradcheck and gradgradcheck passed" in capsys.readouterr().out
