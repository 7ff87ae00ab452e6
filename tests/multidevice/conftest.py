"""Tests on 8 CPU devices, run in their own pytest process by tests/test_sharding.py (XLA_FLAGS set there).

The strict settings and the `key` fixture come from tests/conftest.py.
"""

import jax
import pytest


def pytest_configure(config):
    if jax.device_count() != 8:
        raise pytest.UsageError(f"these tests need 8 devices; got {jax.devices()}; run them through test_sharding.py.")
