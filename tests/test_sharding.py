"""Runs tests/multidevice on 8 CPU devices, in its own pytest process so that the device count can be set."""

import pathlib
import re
import subprocess
import sys

import pytest
import xla_flags


# 215 tests in one process of 8 CPU devices (a device count is fixed at start): 90–180 s.
@pytest.mark.slow
def test_multidevice_suite_passes_on_eight_devices():
    # At XLA's default compile level (3), not the suite's 1: sharded draws equal unsharded ones in the programs
    # users compile. Named, not dropped: that process loads tests/conftest.py, which sets 1 when none is named.
    env = xla_flags.environ("--xla_force_host_platform_device_count=8", "--xla_backend_optimization_level=3")
    env.update(JAX_PLATFORMS="cpu", JAX_WEIGHTINIT_MULTIDEVICE="1")
    suite = pathlib.Path(__file__).with_name("multidevice")
    command = [sys.executable, "-m", "pytest", str(suite), "-q", "-p", "no:xdist", "-p", "no:randomly"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    passed = re.search(r"(\d+) passed", summary)
    assert passed and int(passed.group(1)) >= 100 and "failed" not in summary and "skipped" not in summary, summary
