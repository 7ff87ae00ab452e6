"""Strict JAX settings for every test: no silent promotion, no hidden warnings."""

import jax
import pytest

jax.config.update("jax_numpy_rank_promotion", "raise")
jax.config.update("jax_numpy_dtype_promotion", "strict")


@pytest.fixture
def key():
    return jax.random.key(20261129)


# Run in its own process by test_sharding.py, with 8 CPU devices; not a test module.
collect_ignore = ["sharded_check.py"]
