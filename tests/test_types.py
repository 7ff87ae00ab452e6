"""Types that tell the truth: the package and a script of the README's calls check clean under mypy."""

import pathlib
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # mypy over the package: 13–20 s, 2–4 s from its cache of the last run

ROOT = pathlib.Path(__file__).parent.parent


def _mypy(cache, *paths):
    command = [sys.executable, "-m", "mypy", "--cache-dir", str(cache), *map(str, paths)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)


@pytest.fixture
def cache(pytestconfig, tmp_path):
    """mypy's incremental cache in .pytest_cache, kept between runs (it rechecks what changed), if there is one."""
    return pytestconfig.cache.mkdir("mypy") if hasattr(pytestconfig, "cache") else tmp_path / "cache"


def test_package_and_readme_calls_check_clean_and_a_misuse_does_not(tmp_path, cache):
    typing_dir = ROOT / "tests" / "typing"
    result = _mypy(cache, "jax_weightinit", typing_dir / "readme_calls.py", typing_dir / "rule_lists.py")
    assert result.returncode == 0, result.stdout[-4000:]

    misuse = tmp_path / "misuse.py"
    misuse.write_text("import jax_weightinit as wi\n\nwi.zeros.distribution((4, 4))\nwi.he_normal().distrib((4, 4))\n")
    result = _mypy(cache, misuse)
    assert result.returncode == 1
    assert 'has no attribute "distribution"' in result.stdout and 'has no attribute "distrib"' in result.stdout

    # Twins of rule_lists.py: the types are generic, not Any, so a wrong use still fails.
    wrong = tmp_path / "wrong.py"
    wrong.write_text(
        "import jax\nfrom flax import nnx\nimport jax_weightinit as wi\n\n"
        "layer = nnx.Linear(2, 2, rngs=nnx.Rngs(0))\n"
        "count: int = wi.flax.reinit(layer, jax.random.key(0), [])\n"
        "rules: wi.Rules = [(3, wi.zeros)]\n"
    )
    result = _mypy(cache, wrong)
    assert result.returncode == 1
    assert 'expression has type "Linear", variable has type "int"' in result.stdout, result.stdout
    assert "wrong.py:7: error" in result.stdout, result.stdout
