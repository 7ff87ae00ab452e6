"""Multi-host init on JAX's multi-controller runtime: 2 processes × 4 CPU devices on this machine.

Each process runs tests/multihost_worker.py, which checks its addressable shards against
the unsharded draw; this test starts both, waits with a timeout, and shows their output
if either fails.
"""

import pathlib
import socket
import subprocess
import sys

import pytest
import xla_flags

pytestmark = pytest.mark.slow  # two JAX processes with 4 CPU devices each: 25–40 s

WORKER = pathlib.Path(__file__).with_name("multihost_worker.py")
TIMEOUT_S = 600


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def _run(processes: int = 2) -> list[tuple[int | None, str]]:
    port = _free_port()
    # Each process sets its own 4 devices; at XLA's default compile level, as users' hosts compile.
    env = xla_flags.environ(drop=("xla_force_host_platform_device_count", "xla_backend_optimization_level"))
    env.pop("JAX_NUM_CPU_DEVICES", None)
    env["JAX_PLATFORMS"] = "cpu"
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), str(port), str(i)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(processes)
    ]
    results = []
    try:
        for proc in procs:
            out, _ = proc.communicate(timeout=TIMEOUT_S)
            results.append((proc.returncode, out))
    except subprocess.TimeoutExpired:
        for proc in procs:
            proc.kill()
        results = [(None, proc.communicate()[0]) for proc in procs]
    return results


def test_two_processes_draw_their_own_shards_with_the_unsharded_values():
    results = _run()
    report = "\n".join(f"--- process {i} (exit {code}) ---\n{out[-4000:]}" for i, (code, out) in enumerate(results))
    assert all(code == 0 for code, _ in results), report
    for _, out in results:
        lines = out.splitlines()
        assert lines[-1] == "done", report
        # 3 initializers × (eager, jit) + init_tree's 8 leaves × (eager, jit) + the committed key, on 2 meshes.
        assert sum(line.startswith("ok ") for line in lines) == 2 * (6 + 16 + 1), report
