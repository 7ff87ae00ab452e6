"""Tests on 8 CPU devices, run in their own pytest process by tests/test_sharding.py (XLA_FLAGS set there)."""

import jax
import pytest

jax.config.update("jax_numpy_rank_promotion", "raise")
jax.config.update("jax_numpy_dtype_promotion", "strict")


def pytest_configure(config):
    if jax.device_count() != 8:
        raise pytest.UsageError(f"these tests need 8 devices; got {jax.devices()}; run them through test_sharding.py.")


@pytest.fixture
def key():
    return jax.random.key(20261129)
