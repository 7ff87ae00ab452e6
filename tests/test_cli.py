"""The main job prints the tutorial's examples with its exact bounds."""

import subprocess
import sys

import pytest

from jax_weightinit._src import cli


def test_tour_prints_the_tutorial_numbers(capsys):
  assert cli.main(["tour", "--seed", "3"]) == 0
  out = capsys.readouterr().out
  assert "bounds  -0.31622776601683794 0.31622776601683794" in out
  assert "bounds  -0.44721359549995787 0.44721359549995787" in out
  assert "std     0.4472135954999579" in out
  assert "sqrt(6)/sqrt(n + n)" in out  # the tutorial's typo, called out


def test_seed_changes_samples_not_laws(capsys):
  cli.main(["--seed", "1"])
  first = capsys.readouterr().out
  cli.main(["--seed", "2"])
  second = capsys.readouterr().out
  assert first != second
  assert first.count("0.44721359549995787") == second.count("0.44721359549995787") == 2


def test_bad_option_is_a_usage_error(capsys):
  with pytest.raises(SystemExit) as info:
    cli.main(["--seed", "many"])
  assert info.value.code == 2
  assert "invalid int value" in capsys.readouterr().err


def test_python_dash_m_runs():
  result = subprocess.run([sys.executable, "-m", "jax_weightinit"], capture_output=True, text=True, timeout=120)
  assert result.returncode == 0, result.stderr
  assert "normalized xavier" in result.stdout
