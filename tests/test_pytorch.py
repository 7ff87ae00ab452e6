"""`jax_weightinit.pytorch` and `presets`: each law against its documented formula, with KS tests."""

import math

import chex
import jax
import jax.numpy as jnp
import pytest

from jax_weightinit import presets, pytorch, testing

CONV = (32, 16, 3, 3)  # torch layout (out, in, kh, kw): fan_in 144, fan_out 288
FAN_IN, FAN_OUT = 144, 288

# (id, initializer, family, expected std, expected bounds or None)
LAWS = [
    ("uniform(-0.5, 2)", pytorch.uniform(-0.5, 2.0), "uniform", 2.5 / math.sqrt(12), (-0.5, 2.0)),
    ("uniform() defaults", pytorch.uniform(), "uniform", 1 / math.sqrt(12), (0.0, 1.0)),
    ("normal(1, 0.3)", pytorch.normal(1.0, 0.3), "normal", 0.3, None),
    ("trunc_normal(0, 1, -2, 2)", pytorch.trunc_normal(), "truncated_normal", 0.87962566103423978, (-2.0, 2.0)),
    ("trunc_normal(std=0.02) barely truncated", pytorch.trunc_normal(std=0.02), "truncated_normal", 0.02, (-2.0, 2.0)),
    (
        "xavier_uniform(gain=2)",
        pytorch.xavier_uniform(2.0),
        "uniform",
        2 * math.sqrt(2 / (FAN_IN + FAN_OUT)),
        (-2 * math.sqrt(6 / (FAN_IN + FAN_OUT)), 2 * math.sqrt(6 / (FAN_IN + FAN_OUT))),
    ),
    ("xavier_normal()", pytorch.xavier_normal(), "normal", math.sqrt(2 / (FAN_IN + FAN_OUT)), None),
    (
        "kaiming_uniform() defaults",
        pytorch.kaiming_uniform(),
        "uniform",
        math.sqrt(2 / FAN_IN),
        (-math.sqrt(6 / FAN_IN), math.sqrt(6 / FAN_IN)),
    ),
    (
        "kaiming_normal(mode=fan_out, relu)",
        pytorch.kaiming_normal(mode="fan_out", nonlinearity="relu"),
        "normal",
        math.sqrt(2 / FAN_OUT),
        None,
    ),
    ("kaiming_normal(a=0.2)", pytorch.kaiming_normal(0.2), "normal", math.sqrt(2 / (1 + 0.04) / FAN_IN), None),
    (
        "default_weight (nn.Linear / nn.Conv)",
        pytorch.default_weight(),
        "uniform",
        1 / math.sqrt(3 * FAN_IN),
        (-1 / math.sqrt(FAN_IN), 1 / math.sqrt(FAN_IN)),
    ),
    (
        "default_bias(144)",
        pytorch.default_bias(FAN_IN),
        "uniform",
        1 / math.sqrt(3 * FAN_IN),
        (-1 / math.sqrt(FAN_IN), 1 / math.sqrt(FAN_IN)),
    ),
    ("presets.haiku_linear", presets.haiku_linear(), "truncated_normal", 0.87962566103423978 / math.sqrt(16 * 9), None),
    ("presets.flax_embed", presets.flax_embed(), "normal", None, None),
]


@pytest.mark.parametrize(("case", "init", "family", "std", "bounds"), LAWS, ids=[row[0] for row in LAWS])
def test_laws_match_formulas_and_samples(case, init, family, std, bounds, key):
    shape = (16, 3, 3, 32) if "haiku" in case else CONV
    law = init.distribution(shape)
    assert law.family == family
    if std is not None:
        assert law.std == pytest.approx(std, rel=1e-9)
    if bounds is not None:
        assert (law.low, law.high) == pytest.approx(bounds, rel=1e-12)
    testing.assert_follows(init, key, shape, jnp.float32)
    testing.assert_follows(init, key, shape, jnp.bfloat16)


def test_laws_twin_a_wrong_gain_is_caught(key):
    """The KS/moment checks above would see a torch-vs-jax fan mix-up (gain off by sqrt(2))."""
    wrong = pytorch.kaiming_uniform(nonlinearity="linear")
    with pytest.raises(AssertionError):
        testing.assert_follows(wrong, key, CONV, law=pytorch.kaiming_uniform().distribution(CONV))


def test_default_weight_bound_is_one_over_sqrt_fan_in():
    assert pytorch.default_weight().distribution((10, 64)).high == pytest.approx(1 / 8, rel=1e-15)


def test_flax_embed_uses_the_feature_dim():
    assert presets.flax_embed().distribution((50_000, 256)).std == pytest.approx(1 / 16, rel=1e-15)


def test_presets_are_the_named_defaults():
    import jax_weightinit as wi

    assert presets.flax_dense_kernel() == wi.lecun_normal() == presets.flax_conv_kernel()
    assert presets.keras_dense() == wi.glorot_uniform()
    assert presets.torch_linear() == pytorch.default_weight()


def test_eye_dirac_constant(key):
    chex.assert_trees_all_equal(pytorch.eye()(key, (2, 3)), jnp.eye(2, 3))
    w = pytorch.dirac(groups=2)(key, (4, 1, 3))
    assert w[:, 0, 1].tolist() == [1.0, 0.0, 1.0, 0.0]
    chex.assert_trees_all_equal(pytorch.constant(0.3)(key, (2,)), jnp.full((2,), 0.3))
    chex.assert_trees_all_equal(pytorch.ones()(key, (2,)) + pytorch.zeros()(key, (2,)), jnp.ones(2))


def test_orthogonal_torch_view(key):
    w = pytorch.orthogonal(gain=2.0)(key, (8, 4, 3))  # rows = 8, columns = 12
    testing.assert_orthogonal(w.reshape(8, 12), 2.0)


BAD = [
    ("kaiming mode fan_avg", lambda: pytorch.kaiming_uniform(mode="fan_avg"), ValueError, "`mode` must be one of"),
    ("unknown nonlinearity", lambda: pytorch.kaiming_normal(nonlinearity="swish"), ValueError, "`nonlinearity`"),
    ("sparsity 2", lambda: pytorch.sparse(2.0), ValueError, "`sparsity` must be in \\[0, 1\\]"),
    ("negative fan_in", lambda: pytorch.default_bias(-1), ValueError, "`fan_in` must be a non-negative int"),
    ("uniform a >= b", lambda: pytorch.uniform(1.0, 0.0), ValueError, "low < high"),
    ("eye on 3-D", lambda: pytorch.eye()(jax.random.key(0), (2, 2, 2)), ValueError, "must be 2-D"),
    ("dirac groups", lambda: pytorch.dirac(3)(jax.random.key(0), (4, 1, 3)), ValueError, "must divide"),
]


@pytest.mark.parametrize(("case", "call", "error", "match"), BAD, ids=[row[0] for row in BAD])
def test_bad_input(case, call, error, match):
    with pytest.raises(error, match=match):
        call()
