"""Exact at the edges: truncated moments to 1e-12, narrow truncations, double rounding, tiny gains, laws a dtype
just holds."""

import math

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest

import jax_weightinit as wi
from jax_weightinit import pytorch, testing
from jax_weightinit._src.laws import truncated_moments


def reference_moments(a, b):
    """Mean and std of N(0, 1) on [a, b], at 80 digits."""
    mpmath.mp.dps = 80
    a, b = mpmath.mpf(a), mpmath.mpf(b)
    density = lambda x: mpmath.exp(-x * x / 2)  # noqa: E731
    mass = mpmath.quad(density, [a, b])
    mean = mpmath.quad(lambda x: x * density(x), [a, b]) / mass
    variance = mpmath.quad(lambda x: (x - mean) ** 2 * density(x), [a, b]) / mass
    return float(mean), float(mpmath.sqrt(variance))


# Narrow, far-tail, one-sided and central intervals (in std units); ±60 stands for ±inf in the reference.
INTERVALS = [
    (5.0, 5.00001),
    (-1e-6, 1e-6),
    (3.0, 3.0001),
    (-8.0, -7.9),
    (5.0, 6.0),
    (10.0, 11.0),
    (11.0, math.inf),
    (-math.inf, -4.0),
    (-2.0, 2.0),
    (-3.0, 10.0),
    (0.5, 2.5),
    (-math.inf, 2.0),
]


@pytest.mark.parametrize("a, b", INTERVALS)
def test_truncated_moments_are_exact_to_1e_12_against_80_digits(a, b):
    mean, std = truncated_moments(a, b)
    ref_mean, ref_std = reference_moments(max(a, -60.0), min(b, 60.0))
    assert math.isclose(std, ref_std, rel_tol=1e-12)
    assert math.isclose(mean, ref_mean, rel_tol=1e-12, abs_tol=1e-15)


def test_narrow_truncations_state_their_std_and_can_be_asked_for_one():
    assert math.isclose(wi.truncated_normal(1.0, lower=5, upper=5.00001).distribution((2,)).std, 1e-5 / math.sqrt(12))
    law = wi.truncated_normal(1.0, lower=-1e-6, upper=1e-6, stddev_after_truncation=True).distribution((2,))
    assert math.isclose(law.std, 1.0, rel_tol=1e-12)
    with pytest.raises(ValueError, match="probability below 1e-30"):  # out of reach, said clearly
        wi.truncated_normal(0.01, lower=5, upper=6, absolute_bounds=True, stddev_after_truncation=True)


def test_rounding_twice_never_crosses_the_bound_rounded_once(key):
    """f64 -> f32 -> f16: a bound just below a float16 midpoint must not let samples round past it."""
    upper = 1 + 3 * 2**-11 - 2**-40
    init = wi.truncated_normal(1.0, lower=0.999, upper=upper, absolute_bounds=True)
    x = np.asarray(init(key, (1 << 18,), jnp.float16), np.float64)
    assert x.max() <= init.distribution((1,)).rounded_bounds(np.dtype(np.float16))[1] == 1.0009765625
    testing.assert_follows(init, key, (512, 512), jnp.float16)
    narrower = wi.truncated_normal(1.0, lower=0.9995, upper=upper, absolute_bounds=True).distribution((1,))
    with pytest.raises(AssertionError, match="assert_follows"):  # the twin: half the interval
        testing.assert_follows(init, key, (512, 512), jnp.float16, law=narrower)


def test_a_huge_slope_gives_a_tiny_gain_not_an_overflow():
    assert pytorch.kaiming_uniform(a=1e200).distribution((4, 4)).high == pytest.approx(math.sqrt(3 / 2) * 1e-200)


# Laws jax.nn and torch accept, which the range check used to refuse by their bounds rather than where samples land.
ACCEPTED = [
    ("lower=-inf", wi.truncated_normal(1.0, lower=-math.inf, upper=0.5), jnp.float32),
    ("both bounds infinite", wi.truncated_normal(1.0, lower=-math.inf, upper=math.inf), jnp.bfloat16),
    ("±100 std of 1000 in float16", wi.truncated_normal(1000.0, lower=-100, upper=100), jnp.float16),
    ("torch trunc_normal ±1e5 in float16", pytorch.trunc_normal(0, 1, -1e5, 1e5), jnp.float16),
    # The float32 sampler reaches 5.2947 std (Φ⁻¹(2⁻²⁴)): 8000 · 5.2947 = 42,358 fits float16's 65,504.
    ("normal(8000) in float16", wi.normal(8000.0), jnp.float16),
    ("normal(12370) in float16, just inside", wi.normal(12370.0), jnp.float16),
]


@pytest.mark.parametrize("what, init, dtype", ACCEPTED, ids=[row[0] for row in ACCEPTED])
def test_laws_whose_samples_fit_the_dtype_are_accepted_and_exact(what, init, dtype, key):
    testing.assert_follows(init, key, (512, 512), dtype)
    wider = init.distribution((1,)).scaled(1.05)  # the twin: a 5% std error is caught
    with pytest.raises(AssertionError, match="assert_follows"):
        testing.assert_follows(init, key, (512, 512), dtype, law=wider)


# Intervals narrow against float32's spacing, where the inverse CDF in float32 could not resolve the interval
# (before: 20 of 21 values, 5.0 twice as often as its mass, KS 0.037 against 0.002). Each twin claims an interval
# 10% wider at the top, and must be caught.
NARROW = [
    ("[5, 5.00001] std", lambda top: wi.truncated_normal(1.0, lower=5.0, upper=5.0 + 1e-5 * top)),
    ("[3, 3.0001] std", lambda top: wi.truncated_normal(1.0, lower=3.0, upper=3.0 + 1e-4 * top)),
    ("±1e-6 std around 0.3", lambda top: wi.truncated_normal(1.5, lower=-1e-6, upper=1e-6 * top, mean=0.3)),
]


@pytest.mark.parametrize("what, make", NARROW, ids=[row[0] for row in NARROW])
def test_narrow_intervals_are_the_law_rounded_once_to_float32(what, make):
    for seed in range(3):
        testing.assert_follows(make(1.0), jax.random.key(seed), (512, 512), jnp.float32)
        with pytest.raises(AssertionError, match="assert_follows"):
            testing.assert_follows(
                make(1.0), jax.random.key(seed), (512, 512), jnp.float32, law=make(1.1).distribution((1,))
            )
