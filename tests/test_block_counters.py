"""The 64-bit counter arithmetic of blocked draws, checked against numpy's uint64 where no test array can reach.

Blocked draws of arrays with more than 2^32 elements (as the 32768 x 262144 arrays of
jax#19893) need carries between the two 32-bit counter words. Arrays that large do not fit
a test machine, so this module checks the private helper directly, over the corners.
"""

import jax.numpy as jnp
import numpy as np
import pytest

from jax_weightinit._src import blocks

ROWS = np.array([0, 1, 2**16 - 1, 2**16, 2**31, 2**32 - 1, 123_456_789, 4_000_000_000], np.uint32)
STRIDES = [1, 3, 2**16 + 1, 262_144, 1_234_567_891, 2**32 - 1]
OFFSETS = [0, 5, 2**31, 2**32 - 1]


@pytest.mark.parametrize("stride", STRIDES)
@pytest.mark.parametrize("offset", OFFSETS)
def test_counters_are_the_exact_64_bit_index(stride, offset):
    high, low = blocks.counters(jnp.asarray(ROWS), jnp.uint32(offset), stride)
    got = (np.asarray(high).astype(np.uint64) << np.uint64(32)) | np.asarray(low).astype(np.uint64)
    np.testing.assert_array_equal(got, ROWS.astype(np.uint64) * np.uint64(stride) + np.uint64(offset))


def test_counters_twin_dropping_the_carry_is_caught():
    high, low = blocks.counters(jnp.asarray(ROWS), jnp.uint32(2**32 - 1), 2**32 - 1)
    without_carry = (ROWS.astype(np.uint64) * np.uint64(2**32 - 1)) >> np.uint64(32)
    assert not np.array_equal(np.asarray(high).astype(np.uint64), without_carry)
