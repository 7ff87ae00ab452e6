"""Strict JAX settings for every test: no silent promotion, no hidden warnings."""

import os

import jax
import pytest

jax.config.update("jax_numpy_rank_promotion", "raise")
jax.config.update("jax_numpy_dtype_promotion", "strict")


@pytest.fixture
def key():
    return jax.random.key(20261129)


# tests/multidevice needs 8 CPU devices: test_sharding.py runs it in its own pytest process.
collect_ignore = [] if os.environ.get("JAX_WEIGHTINIT_MULTIDEVICE") else ["multidevice"]
