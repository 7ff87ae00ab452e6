"""Every example runs on its own (the digits example with a few steps and no plot)."""

import pathlib
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # each example in a fresh process: 4–17 s apiece

EXAMPLES = pathlib.Path(__file__).parent.parent / "examples"
CASES = [
    ("flax_nnx.py", [], "flax"),
    ("flax_linen.py", [], "flax"),
    ("haiku_linear.py", [], "haiku"),
    ("equinox_mlp.py", [], "equinox"),
    ("sharded_init.py", [], "flax"),
    ("transformer_presets.py", [], "flax"),
    ("digits_training.py", ["--steps", "3", "--no-plot"], "sklearn"),
]


@pytest.mark.parametrize(("script", "args", "needs"), CASES, ids=[c[0] for c in CASES])
def test_example_runs(script, args, needs):
    pytest.importorskip(needs)
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip()
