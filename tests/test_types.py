"""Types that tell the truth: the package and a script of the README's calls check clean under mypy."""

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).parent.parent


def _mypy(cache, *paths):
    command = [sys.executable, "-m", "mypy", "--cache-dir", str(cache), *map(str, paths)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)


def test_package_and_readme_calls_check_clean_and_a_misuse_does_not(tmp_path):
    result = _mypy(tmp_path / "cache", "jax_weightinit", ROOT / "tests" / "typing" / "readme_calls.py")
    assert result.returncode == 0, result.stdout[-4000:]

    misuse = tmp_path / "misuse.py"
    misuse.write_text("import jax_weightinit as wi\n\nwi.zeros.distribution((4, 4))\nwi.he_normal().distrib((4, 4))\n")
    result = _mypy(tmp_path / "cache", misuse)
    assert result.returncode == 1
    assert 'has no attribute "distribution"' in result.stdout and 'has no attribute "distrib"' in result.stdout
