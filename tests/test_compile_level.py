"""The suite compiles at XLA's backend optimization level 1 (conftest.py); users at the default. Same bits."""

import json
import pathlib
import subprocess
import sys

import compile_level_sweep
import pytest
import xla_flags

pytestmark = pytest.mark.slow  # the users' bits come from a fresh process at the default level: 15–25 s

SWEEP = pathlib.Path(compile_level_sweep.__file__)


def sweep_at(level: int | None, only: str = "") -> dict[str, str]:
    """The sweep's digests in a fresh process at `level`, or at XLA's default level for None."""
    flag = [] if level is None else [f"--xla_backend_optimization_level={level}"]
    env = xla_flags.environ(*flag, drop=("xla_backend_optimization_level",))
    done = subprocess.run([sys.executable, str(SWEEP), only], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def differing(ours: dict[str, str], users: dict[str, str]) -> list[str]:
    """The cases whose bits differ between the two sweeps (a case missing from one differs)."""
    return sorted(name for name in ours.keys() | users.keys() if ours.get(name) != users.get(name))


@pytest.fixture(scope="module")
def users_bits():
    return sweep_at(None)


def test_the_suites_programs_draw_the_users_bits(users_bits):
    ours = compile_level_sweep.digests()
    assert len(ours) >= 90
    assert differing(ours, users_bits) == []


def test_twin_a_level_that_changes_the_bits_is_caught(users_bits):
    # Level 0 leaves multiply-adds uncontracted: the float32 normal draws change in their last bits.
    level0 = sweep_at(0, only="he_normal")
    users = {name: bits for name, bits in users_bits.items() if name in level0}
    assert "he_normal float32" in differing(level0, users)
