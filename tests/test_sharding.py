"""Sharded init on 8 CPU devices, in a separate process so the device count can be set."""

import os
import pathlib
import subprocess
import sys


def test_sharded_init_matches_unsharded_and_stays_local():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8", JAX_PLATFORMS="cpu")
    script = pathlib.Path(__file__).with_name("sharded_check.py")
    result = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "sharded init ok" in result.stdout
