"""The assertions pass correct samplers across many keys, catch planted defects, and are calibrated."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jax_weightinit as wi
from jax_weightinit import pytorch, testing
from jax_weightinit._src import follows, sampling

SHAPE = (3, 3, 64, 128)
KEY = jax.random.key(0)
LAW = wi.he_normal().distribution(SHAPE)  # truncated normal, std sqrt(2/576)
NORMAL_LAW = wi.he().distribution(SHAPE)  # the same std, untruncated


class Posing:
    """An initializer that claims `law` but samples with `init`: a planted defect."""

    def __init__(self, init, law):
        self.init, self.law = init, law

    def distribution(self, shape):
        return self.law

    def __call__(self, key, shape, dtype=None):
        return self.init(key, shape, dtype)


DEFECTS = [
    ("normal with 5% too much std", wi.variance_scaling(2.0 * 1.05**2, "fan_in", "normal"), NORMAL_LAW, jnp.float32),
    ("normal with 5% too little std", wi.variance_scaling(2.0 * 0.95**2, "fan_in", "normal"), NORMAL_LAW, jnp.float32),
    (
        "uniform posing as a normal of the same std",
        wi.variance_scaling(2.0, "fan_in", "uniform"),
        NORMAL_LAW,
        jnp.float32,
    ),
    (
        "truncated normal missing the 0.8796 correction",
        wi.truncated_normal(LAW.std, lower=-2.0, upper=2.0),
        LAW,
        jnp.float32,
    ),
    (
        "bfloat16 normal with 128 levels (jax.random.normal)",
        jax.nn.initializers.normal(NORMAL_LAW.std),
        NORMAL_LAW,
        jnp.bfloat16,
    ),
    (
        "bfloat16 truncated normal with 128 levels (jax.nn he_normal)",
        jax.nn.initializers.he_normal(),
        LAW,
        jnp.bfloat16,
    ),
]


@pytest.mark.parametrize(("case", "init", "law", "dtype"), DEFECTS, ids=[row[0] for row in DEFECTS])
def test_assert_follows_catches_planted_defects(case, init, law, dtype):
    for seed in range(3):
        with pytest.raises(AssertionError, match="assert_follows"):
            testing.assert_follows(Posing(init, law), jax.random.key(seed), SHAPE, dtype)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16], ids=["float32", "bfloat16"])
@pytest.mark.parametrize("name", ["he_normal", "glorot_uniform", "he"])
def test_correct_initializers_pass_across_many_keys(name, dtype):
    init = getattr(wi, name)()
    for seed in range(8):
        testing.assert_follows(init, jax.random.key(seed), SHAPE, dtype)


@pytest.mark.parametrize("make_key", [jax.random.key, jax.random.PRNGKey], ids=["typed key", "raw uint32 key"])
def test_a_small_shape_is_drawn_key_by_key_exactly_as_vmapped(make_key):
    """`assert_follows` runs the initializer's own compiled draw once per key rather than compiling a batched one."""
    init, shape, key = wi.he_normal(), (64, 128), make_key(5)
    reps = testing.SAMPLES // 8192
    assert 1 < reps <= follows.LOOPED_KEYS
    looped = follows._draw(init, key, shape, jnp.float32, testing.SAMPLES)
    mapped = jax.vmap(lambda k: init(k, shape, jnp.float32))(jax.random.split(key, reps))
    assert isinstance(looped, np.ndarray) and looped.shape == (reps, *shape)
    assert looped.tobytes() == np.asarray(mapped).tobytes()
    sampling._sample.clear_cache()  # whatever other tests compiled, the next draw's program is new
    follows._draw(wi.he_normal(), key, (8, 32, 32), jnp.float32, testing.SAMPLES)  # 32 keys
    assert sampling._sample._cache_size() == 1  # the plain draw's program; a vmap would add none


def test_many_keys_for_a_tiny_shape_are_vmapped():
    """Past `LOOPED_KEYS` one batched program is cheaper than that many calls."""
    draws = follows._draw(wi.normal(1.0), jax.random.key(5), (2,), jnp.float32, 2 * (follows.LOOPED_KEYS + 1))
    assert isinstance(draws, jax.Array) and draws.shape == (follows.LOOPED_KEYS + 1, 2)


def _rejections(check, samples) -> int:
    count = 0
    for row in samples:
        try:
            check(row)
        except AssertionError:
            count += 1
    return count


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16], ids=["float32", "bfloat16"])
def test_false_alarm_rate_matches_alpha(dtype):
    """At alpha = 0.05 over 400 independent draws, each check rejects about 20 times."""
    init = wi.he()
    law = init.distribution((20, 50))
    draws = jax.vmap(lambda k: init(k, (20, 50), dtype))(jax.random.split(jax.random.key(7), 400))
    draws = np.asarray(draws.astype(jnp.float32)) if dtype == jnp.float32 else np.asarray(draws)
    ks = _rejections(lambda row: testing.assert_ks(row, law.cdf, alpha=0.05), draws)
    moments = _rejections(lambda row: testing.assert_moments(row, mean=0.0, std=law.std, alpha=0.05), draws)
    # Binomial(400, 0.05): mean 20, std 4.4. The KS threshold is slightly conservative.
    assert 6 <= ks <= 36, ks
    assert 6 <= moments <= 36, moments


def test_false_alarm_twin_a_wrong_threshold_is_visible():
    """Twin of the calibration test: a 5% std error drives the rejection count far above alpha."""
    law = wi.he().distribution((20, 50))
    bad = wi.variance_scaling(2.0 * 1.05**2, "fan_in", "normal")
    draws = np.asarray(jax.vmap(lambda k: bad(k, (20, 50)))(jax.random.split(jax.random.key(7), 400)))
    assert _rejections(lambda row: testing.assert_moments(row, mean=0.0, std=law.std, alpha=0.05), draws) > 36


def test_each_assertion_names_statistic_threshold_and_size(key):
    w = wi.uniform(1.0)(key, (1000,))
    with pytest.raises(AssertionError, match=r"KS distance .* exceeds .* \(n=1000, alpha=0.0001\)"):
        testing.assert_ks(w, wi.normal(1.0).distribution((1,)).cdf)
    with pytest.raises(AssertionError, match=r"sample mean .* differs from 0 by more than .* \(n=1000"):
        testing.assert_moments(w, mean=0.0, std=0.3)
    with pytest.raises(AssertionError, match="the maximum .* is above the upper bound 0.5"):
        testing.assert_bounds(w, 0.0, 0.5)
    with pytest.raises(AssertionError, match="not finite"):
        testing.assert_bounds(jnp.array([0.0, jnp.nan]), None, None)


def test_assert_same_distribution(key):
    a = wi.he_normal()(key, (256, 256))
    testing.assert_same_distribution(a, jax.nn.initializers.he_normal()(jax.random.fold_in(key, 1), (256, 256)))
    with pytest.raises(AssertionError, match="two-sample KS distance"):
        testing.assert_same_distribution(a, 1.05 * wi.he_normal()(jax.random.fold_in(key, 2), (256, 256)))


def test_assert_orthogonal(key):
    testing.assert_orthogonal(wi.orthogonal(2.0)(key, (64, 32)), 2.0)
    with pytest.raises(AssertionError, match="max \\|W Wᵀ - scale² I\\|"):
        testing.assert_orthogonal(wi.orthogonal(2.0)(key, (64, 32)) * 1.01, 2.0)


def chexified(body):
    """`body` jitted and chexified, failing when the call returns."""
    return chex.chexify(jax.jit(body), async_check=False)


HE_LAW = wi.he().distribution((512, 512))


def checked_pipeline(init):
    def make(k):
        w = init(k, (512, 512))
        testing.assert_moments(w, mean=0.0, std=HE_LAW.std)
        testing.assert_ks(w, HE_LAW.cdf)
        testing.assert_bounds(w, -1.0, 1.0)
        return w

    return chexified(make)


def test_value_assertions_work_inside_chexify(key):
    chex.assert_shape(checked_pipeline(wi.he())(key), (512, 512))
    with pytest.raises(AssertionError, match="assert_moments.*sample std"):
        checked_pipeline(wi.variance_scaling(2.0 * 1.05**2, "fan_in", "normal"))(key)
    with pytest.raises(AssertionError, match="assert_ks"):
        checked_pipeline(wi.variance_scaling(2.0, "fan_in", "uniform"))(key)


def test_chexify_judges_bfloat16_against_the_rounded_law(key):
    def bf16_ks(init):
        return chexified(lambda k: testing.assert_ks(init(k, (512, 512), jnp.bfloat16), HE_LAW.cdf))

    bf16_ks(wi.he())(key)
    with pytest.raises(AssertionError, match="assert_ks"):
        bf16_ks(jax.nn.initializers.normal(HE_LAW.std))(key)


# Correct samplers whose law, rounded to the dtype, is far from the real one: few representable values carry
# the mass. Each has a twin that plants a 5% std error, which the check must catch.
ROUNDED = [
    ("bfloat16 N(1, 0.01²)", lambda s: wi.normal(0.01 * s, mean=1.0), jnp.bfloat16),
    ("bfloat16 N(100, 0.5²)", lambda s: wi.normal(0.5 * s, mean=100.0), jnp.bfloat16),
    ("float16 U[1000, 1001] (torch)", lambda s: pytorch.uniform(1000.5 - 0.5 * s, 1000.5 + 0.5 * s), jnp.float16),
    ("float32 N(1e4, 1e-3²)", lambda s: wi.normal(1e-3 * s, mean=1e4), jnp.float32),
    ("float8_e4m3fn he_normal", lambda s: wi.scaled(wi.he_normal(), s), jnp.float8_e4m3fn),
]


@pytest.mark.parametrize(("case", "make", "dtype"), ROUNDED, ids=[row[0] for row in ROUNDED])
def test_correct_samplers_pass_against_the_law_rounded_to_their_dtype(case, make, dtype):
    for seed in range(6):
        testing.assert_follows(make(1.0), jax.random.key(seed), SHAPE, dtype)


@pytest.mark.parametrize(("case", "make", "dtype"), ROUNDED, ids=[row[0] for row in ROUNDED])
def test_a_5_percent_std_error_is_caught_against_the_rounded_law(case, make, dtype):
    law = make(1.0).distribution(SHAPE)
    for seed in range(3):
        with pytest.raises(AssertionError, match="assert_follows"):
            testing.assert_follows(make(1.05), jax.random.key(seed), SHAPE, dtype, law=law)


# (planted defect, its sampler, the law it claims, dtype, what the message must say).
MESSAGES = [
    ("std 10% high", wi.scaled(wi.he(), 1.1), NORMAL_LAW, jnp.float32, r"std 1\.1\d*× the law's 0\.0589"),
    ("mean shifted", wi.normal(NORMAL_LAW.std, mean=0.01), NORMAL_LAW, jnp.float32, r"mean off by \+0\.1\d*σ"),
    ("too wide", wi.he(), LAW, jnp.float32, r"samples are outside \[-0\.13\d*, 0\.13\d*\]"),
    ("coarse bfloat16", jax.nn.initializers.normal(NORMAL_LAW.std), NORMAL_LAW, jnp.bfloat16, "coarser than the dtype"),
]


@pytest.mark.parametrize(("case", "init", "law", "dtype", "says"), MESSAGES, ids=[row[0] for row in MESSAGES])
def test_a_failure_says_what_is_off(case, init, law, dtype, says):
    with pytest.raises(AssertionError, match=says) as info:
        testing.assert_follows(Posing(init, law), jax.random.key(0), SHAPE, dtype)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: testing.assert_follows(lambda k, s, d=None: jax.random.normal(k, s), KEY, (8, 8)), TypeError, "law="),
        (lambda: testing.assert_follows(wi.normal(), KEY, (8, 8), jnp.complex64), TypeError, "real and imaginary"),
        (lambda: testing.assert_follows(wi.normal(), KEY, (8, 8), jnp.float64), ValueError, "jax_enable_x64"),
        (lambda: testing.assert_follows(wi.normal(), KEY, (0, 4)), ValueError, "has no elements"),
        (lambda: testing.assert_follows(wi.normal(), KEY, (8, 8), alpha=0.0), ValueError, "`alpha` must be in"),
        (lambda: testing.assert_follows(wi.normal(), KEY, (8, 8), alpha=1.5), ValueError, "`alpha` must be in"),
    ],
)
def test_assert_follows_refuses_what_it_cannot_check(call, error, match):
    with pytest.raises(error, match=match):
        call()


# (an assertion, arguments on which it fails).
FAILING = [
    (
        "assert_follows",
        lambda: testing.assert_follows(
            wi.normal(0.021), jax.random.key(0), (256, 256), law=wi.Distribution.normal(0.0, 0.02)
        ),
    ),
    ("assert_bounds", lambda: testing.assert_bounds(np.array([2.0]), -1.0, 1.0)),
    ("assert_orthogonal", lambda: testing.assert_orthogonal(np.ones((4, 4)))),
]


@pytest.mark.parametrize("name, fails", FAILING, ids=[n for n, _ in FAILING])
def test_assertions_are_switched_off_and_on_with_chex(name, fails):
    """As chex's own: nothing is checked after `chex.disable_asserts()`; the twin, the same call enabled, fails."""
    chex.disable_asserts()
    try:
        fails()
    finally:
        chex.enable_asserts()
    with pytest.raises(AssertionError):
        fails()
