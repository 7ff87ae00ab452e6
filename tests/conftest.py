"""Strict JAX settings for every test (no silent promotion, no hidden warnings), and compiles made cheap."""

import os

# XLA compiles at backend optimization level 1 here instead of its default 3: the same bits (test_compile_level.py
# compares every sampling path with a process at the default level) for about 40% less compile time, which is
# most of the suite's time. Set before JAX starts its CPU client; the processes the suite starts inherit it, but
# for the 8-device suite and the two hosts, which check sharded draws at the default level.
COMPILE_LEVEL = "--xla_backend_optimization_level=1"
if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {COMPILE_LEVEL}".lstrip()

import jax  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_numpy_rank_promotion", "raise")
jax.config.update("jax_numpy_dtype_promotion", "strict")


def pytest_configure(config):
    """Compiled programs persist between runs in .pytest_cache (`pytest --cache-clear` empties it), for this
    process and every one the suite starts: a run after the first compiles only what changed. JAX keys each
    program by its HLO, compile options, flags and jax/jaxlib version, so no stale program is ever reused."""
    if os.environ.get("JAX_COMPILATION_CACHE_DIR") or not hasattr(config, "cache"):
        return
    settings = {
        "jax_compilation_cache_dir": str(config.cache.mkdir("jax-compilation")),
        "jax_persistent_cache_min_compile_time_secs": 0.0,
        "jax_compilation_cache_max_size": 512 * 2**20,  # least recently used programs go first
    }
    for name, value in settings.items():
        jax.config.update(name, value)
        os.environ[name.upper()] = str(value)  # read by every process the suite starts


@pytest.fixture
def key():
    return jax.random.key(20261129)


# tests/multidevice needs 8 CPU devices: test_sharding.py runs it in its own pytest process.
collect_ignore = [] if os.environ.get("JAX_WEIGHTINIT_MULTIDEVICE") else ["multidevice"]


@pytest.fixture
def tunables(monkeypatch):
    """`tunables(field=value, ...)` replaces fields of the library's one `Tunables` for the test.

    Sizes the samplers read when they trace are baked into compiled programs, so JAX's caches
    are cleared around a change of those; `fixed_from_leaves` and `model_bytes` are read on
    every call.
    """
    import dataclasses

    from jax_weightinit._src import tunables as module

    traced = []

    def replace(**changes):
        if set(changes) - {"fixed_from_leaves", "model_bytes"}:
            jax.clear_caches()
            traced.append(True)
        monkeypatch.setattr(module, "TUNABLES", dataclasses.replace(module.TUNABLES, **changes))

    yield replace
    if traced:
        jax.clear_caches()
