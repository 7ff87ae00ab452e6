"""Bad input gets one clear ValueError or TypeError, at build time where it can be known then."""

import math

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jax_weightinit as wi
from jax_weightinit import pytorch, testing

BUILD = [
    (
        "mode typo",
        lambda: wi.variance_scaling(1.0, "fan_inn", "normal"),
        ValueError,
        "`mode` must be one of 'fan_in', 'fan_out', 'fan_avg', 'fan_geo_avg'; got 'fan_inn'",
    ),
    (
        "distribution typo",
        lambda: wi.variance_scaling(1.0, "fan_in", "gaussian"),
        ValueError,
        "`distribution` must be one of 'truncated_normal', 'normal', 'uniform'; got 'gaussian'",
    ),
    (
        "zero scale",
        lambda: wi.variance_scaling(0.0, "fan_in", "normal"),
        ValueError,
        "`scale` must be positive; got 0.0",
    ),
    ("negative scale", lambda: wi.variance_scaling(-2, "fan_in", "normal"), ValueError, "`scale` must be positive"),
    ("nan scale", lambda: wi.variance_scaling(float("nan"), "fan_in", "normal"), ValueError, "`scale` must be finite"),
    ("string scale", lambda: wi.variance_scaling("2", "fan_in", "normal"), TypeError, "`scale` must be a real number"),
    ("negative stddev", lambda: wi.normal(-1.0), ValueError, "`stddev` must be positive"),
    ("zero uniform scale", lambda: wi.uniform(0.0), ValueError, "`scale` must be positive"),
    (
        "lower >= upper",
        lambda: wi.truncated_normal(1.0, lower=2.0, upper=2.0),
        ValueError,
        "`lower` must be less than `upper`",
    ),
    (
        "interval beyond the tail",
        lambda: wi.truncated_normal(1.0, lower=40.0, upper=41.0),
        ValueError,
        "probability below 1e-30",
    ),
    (
        "unreachable std",
        lambda: wi.truncated_normal(1.0, lower=-1.0, upper=1.0, absolute_bounds=True, stddev_after_truncation=True),
        ValueError,
        "out of reach",
    ),
    ("float axis", lambda: wi.he_normal(in_axis=1.5), TypeError, "`in_axis` must be an int or a sequence of ints"),
    (
        "int dtype",
        lambda: wi.he_normal(dtype=jnp.int32),
        TypeError,
        "`dtype` must be a floating or complex dtype; got int32",
    ),
    ("complex uniform", lambda: wi.uniform(dtype=jnp.complex64), TypeError, "`dtype` must be a floating dtype"),
    ("sparsity above 1", lambda: wi.sparse(1.5), ValueError, "`sparsity` must be in \\[0, 1\\]; got 1.5"),
    ("sparsity negative", lambda: wi.sparse(-0.1), ValueError, "`sparsity` must be in \\[0, 1\\]"),
    ("zero groups", lambda: wi.dirac(groups=0), ValueError, "`groups` must be a positive int; got 0"),
    ("unknown gain", lambda: wi.calculate_gain("gelu"), ValueError, "`nonlinearity` must be one of 'linear'"),
    # torch raises ValueError for a slope that is not a number; nan and inf are refused here too.
    ("string gain param", lambda: wi.calculate_gain("leaky_relu", "0.2"), ValueError, "`param` must be a finite real"),
    ("bool gain param", lambda: wi.calculate_gain("leaky_relu", True), ValueError, "`param` must be a finite real"),
    ("list gain param", lambda: wi.calculate_gain("leaky_relu", [1]), ValueError, "`param` must be a finite real"),
    ("dict gain param", lambda: wi.calculate_gain("leaky_relu", {"a": "b"}), ValueError, "`param` must be a finite"),
    ("nan gain param", lambda: wi.calculate_gain("leaky_relu", float("nan")), ValueError, "`param` must be a finite"),
    ("constant of a string", lambda: wi.constant("0.5"), TypeError, "`value` must be a number or an array of numbers"),
    (
        "torch keywords on a jax.nn name",
        lambda: wi.kaiming_normal(mode="fan_out", nonlinearity="relu"),
        TypeError,
        "`kaiming_normal` takes jax.nn's arguments .* not mode, nonlinearity; .* wi.pytorch.kaiming_normal",
    ),
    (
        "torch gain on glorot",
        lambda: wi.glorot_uniform(gain=2.0),
        TypeError,
        "not gain; for torch.nn.init's use wi.pytorch.xavier_uniform",
    ),
    ("torch std on normal", lambda: wi.normal(std=0.1), TypeError, "`normal` takes jax.nn's .* wi.pytorch.normal"),
    ("torch a, b on uniform", lambda: wi.uniform(a=-1, b=1), TypeError, "not a, b; .* wi.pytorch.uniform"),
    ("torch gain on orthogonal", lambda: wi.orthogonal(gain=2), TypeError, "not gain; .* wi.pytorch.orthogonal"),
    (
        "torch keywords on truncated_normal",
        lambda: wi.truncated_normal(std=1.0, a=-2.0, b=2.0),
        TypeError,
        "not a, b, std; .* wi.pytorch.trunc_normal",
    ),
    ("torch val on constant", lambda: wi.constant(val=0.5), TypeError, "not val; .* wi.pytorch.constant"),
    ("constant with no value", lambda: wi.constant(), TypeError, "`constant` needs the `value`"),
    (
        "scaled of an uncalled factory",
        lambda: wi.scaled(wi.he_normal, 0.5),
        TypeError,
        r"`init` is the factory he_normal; pass an initializer: he_normal\(\) \(called\)",
    ),
    (
        "an uncalled factory in a rule",
        lambda: wi.plan({"w": jax.ShapeDtypeStruct((4, 4), jnp.float32)}, [("w", wi.he_normal)]),
        TypeError,
        r"`rules\[0\]` initializer is the factory he_normal; pass he_normal\(\) \(called\)",
    ),
]


@pytest.mark.parametrize(("case", "build", "error", "match"), BUILD, ids=[row[0] for row in BUILD])
def test_bad_arguments_fail_when_built(case, build, error, match):
    with pytest.raises(error, match=match):
        build()


KEY = jax.random.key(0)
TARGET = {"a": jax.ShapeDtypeStruct((2, 2), jnp.float32)}
CALL = [
    (
        "int seed as key",
        lambda: wi.he_normal()(0, (3, 3)),
        TypeError,
        "`key` must be a PRNG key such as jax.random.key\\(0\\)",
    ),
    ("float array as key", lambda: wi.he_normal()(jnp.zeros(2), (3, 3)), TypeError, "`key` must be a PRNG key"),
    ("batch of keys", lambda: wi.he_normal()(jax.random.split(KEY, 2), (3, 3)), ValueError, "use jax.vmap"),
    ("negative dim", lambda: wi.he_normal()(KEY, (3, -1)), ValueError, "non-negative dims; got \\(3, -1\\)"),
    ("float dim", lambda: wi.he_normal()(KEY, (3, 2.5)), TypeError, "only ints"),
    ("int shape", lambda: wi.he_normal()(KEY, 3), TypeError, "`shape` must be a sequence"),
    ("rank 1 for fans", lambda: wi.he_normal()(KEY, (3,)), ValueError, "has rank 1"),
    (
        "axis out of range",
        lambda: wi.he_normal(in_axis=3)(KEY, (3, 3)),
        ValueError,
        "out of range for a shape of rank 2",
    ),
    ("batch axis overlapping", lambda: wi.he_normal(batch_axis=-1)(KEY, (3, 3)), ValueError, "must not share axes"),
    ("int32 dtype", lambda: wi.he_normal()(KEY, (3, 3), jnp.int32), TypeError, "got int32"),
    ("bool dtype", lambda: wi.normal()(KEY, (3, 3), bool), TypeError, "got bool"),
    ("float16 overflow", lambda: wi.normal(1e5)(KEY, (3, 3), jnp.float16), ValueError, "cannot hold samples"),
    ("orthogonal rank 1", lambda: wi.orthogonal()(KEY, (3,)), ValueError, "at least 2 dims"),
    ("dirac rank 2", lambda: wi.dirac()(KEY, (3, 3)), ValueError, "3, 4 or 5 dims"),
    ("dirac groups", lambda: wi.dirac(groups=3)(KEY, (3, 3, 2, 4)), ValueError, "`groups` 3 must divide the 4"),
    ("delta orthogonal in > out", lambda: wi.delta_orthogonal()(KEY, (3, 3, 8, 4)), ValueError, "in <= out"),
    ("sparse rank 3", lambda: wi.sparse(0.1)(KEY, (3, 3, 3)), ValueError, "must be 2-D"),
    ("constant not broadcastable", lambda: wi.constant([1.0, 2.0])(KEY, (2, 3)), ValueError, "does not broadcast"),
    # The mistakes a first hour makes, each answered with its fix:
    (
        "factory used without ()",
        lambda: wi.he_normal(KEY, (3, 3), jnp.float32),
        TypeError,
        r"`in_axis` got a PRNG key; .* pass `wi.he_normal\(\)` \(called\), not `wi.he_normal`",
    ),
    ("normal used without ()", lambda: wi.normal(KEY, (3, 3)), TypeError, r"`stddev` got a PRNG key; .* \(called\)"),
    (
        "factory used without () and a raw PRNGKey",
        lambda: wi.he_normal(jax.random.PRNGKey(0), (3, 4), jnp.float32),
        TypeError,
        r"`in_axis` got a PRNG key; .* \(called\)",
    ),
    (
        "zeros called like a factory",
        lambda: wi.zeros(),
        TypeError,
        r"`zeros` is already an initializer, .* not wi.zeros\(\)",
    ),
    ("ones called like a factory", lambda: wi.ones(), TypeError, r"pass wi.ones, not wi.ones\(\)"),
    (
        "traced dim",
        lambda: jax.jit(lambda n: wi.he_normal()(KEY, (n, 2)))(3),
        TypeError,
        "`shape` must hold concrete ints",
    ),
    ("bool dim", lambda: wi.he_normal()(KEY, (True, 2)), TypeError, "`shape` must contain only ints"),
    # The compute dtype flushes subnormals: a scale whose samples would be zeroed is refused, not drawn as zeros.
    (
        "subnormal std",
        lambda: wi.normal(1e-39)(KEY, (3, 3)),
        ValueError,
        "`scale` 1e-39 is too small to sample in float32",
    ),
    ("subnormal uniform", lambda: wi.uniform(1e-39)(KEY, (3, 3)), ValueError, "too small to sample in float32"),
    ("std whose samples flush", lambda: wi.normal(1e-36)(KEY, (3, 3)), ValueError, "at least 9.86e-32"),
    (
        "init_tree with key and target swapped",
        lambda: wi.init_tree({f"l{i}": {"w": jnp.zeros((4, 4))} for i in range(20)}, KEY, [("w", wi.he_normal())]),
        TypeError,
        r"^`key` is a dict of 20 items and `target` a PRNG key: pass them in the order \(key, target, rules\).$",
    ),
    (
        "Haiku-style call",
        lambda: wi.he_normal()([32, 64], jnp.float32),
        TypeError,
        r"Haiku calls initializers as init\(shape, dtype\): wrap it with wi.to_haiku\(init\)",
    ),
]


@pytest.mark.parametrize(("case", "call", "error", "match"), CALL, ids=[row[0] for row in CALL])
def test_bad_calls_fail_clearly(case, call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_no_law_for_an_empty_shape():
    with pytest.raises(ValueError, match="has no elements"):
        wi.he_normal().distribution((0, 4))


def test_errors_are_one_sentence():
    for _, build, error, _ in BUILD + CALL:
        with pytest.raises(error) as info:
            build()
        message = str(info.value)
        assert message.endswith(".") and "\n" not in message, message


def test_float64_without_x64_warns_as_jax_random_does():
    with pytest.warns(
        UserWarning, match="float64 is not available without jax_enable_x64, .* truncated to dtype float32"
    ):
        out = wi.he_normal()(KEY, (3, 3), jnp.float64)
    assert out.dtype == jnp.float32


# (what, call, error, message): each refused clearly, naming the parameter; before, each gave inf, NaN or a raw error.
REFUSED = [
    ("sparse std beyond float16", lambda: wi.sparse(0.1, 2e4)(KEY, (4, 4), jnp.float16), ValueError, "`stddev`"),
    ("orthogonal scale beyond float16", lambda: wi.orthogonal(1e5)(KEY, (4, 4), jnp.float16), ValueError, "`scale`"),
    ("identity scale beyond float16", lambda: wi.identity(1e6)(KEY, (4, 4), jnp.float16), ValueError, "`scale`"),
    ("orthogonal scale beyond float32", lambda: wi.orthogonal(1e308)(KEY, (4, 4)), ValueError, "too large for float32"),
    ("torch orthogonal gain", lambda: pytorch.orthogonal(1e5)(KEY, (4, 4), jnp.float16), ValueError, "`gain`"),
    ("kaiming slope nan", lambda: pytorch.kaiming_normal(a=math.nan), ValueError, "`a` must be finite"),
    ("xavier normal negative gain", lambda: pytorch.xavier_normal(gain=-1), ValueError, "`gain` must be positive"),
    ("xavier uniform negative gain", lambda: pytorch.xavier_uniform(gain=-1), ValueError, "`gain` must be positive"),
    ("delta orthogonal axis", lambda: wi.delta_orthogonal(column_axis=5)(KEY, (3, 3, 4, 4)), ValueError, "column_axis"),
    ("delta orthogonal axis type", lambda: wi.delta_orthogonal(column_axis="a"), TypeError, "`column_axis` must be"),
    ("e8m0 law", lambda: wi.he_normal()(KEY, (4, 4), jnp.float8_e8m0fnu), TypeError, "cannot represent 0 or negative"),
    ("e8m0 zeros", lambda: wi.zeros(KEY, (4,), jnp.float8_e8m0fnu), ValueError, "cannot represent the constant 0"),
    ("constant overflow", lambda: wi.constant(1e6)(KEY, (2,), jnp.float16), ValueError, "cannot represent"),
    ("constant unknown dtype", lambda: wi.constant(1, dtype="foo"), TypeError, "must be a numeric dtype"),
    ("constant object dtype", lambda: wi.constant(1, dtype=object), TypeError, "must be a numeric dtype"),
    ("normal(12380) in float16, just past", lambda: wi.normal(12380.0)(KEY, (4,), jnp.float16), ValueError, "float16"),
    (
        "sparse(0.1, 12380) in float16",
        lambda: wi.sparse(0.1, 12380.0)(KEY, (4, 4), jnp.float16),
        ValueError,
        "`stddev`",
    ),
]


def test_zeros_ones_and_constant_warn_for_float64_without_x64_as_jax_nn_does(key):
    for init in (wi.zeros, wi.ones, wi.constant(0.5)):
        with pytest.warns(UserWarning, match="float64 is not available without jax_enable_x64"):
            out = init(key, (2,), jnp.float64)
        chex.assert_type(out, jnp.float32)
    with pytest.warns(UserWarning, match="float64 is not available"):
        wi.constant(0.5, dtype=np.float64)


@pytest.mark.parametrize("what, call, error, match", REFUSED, ids=[row[0] for row in REFUSED])
def test_what_cannot_be_drawn_is_refused_naming_the_parameter(what, call, error, match):
    with pytest.raises(error, match=match):
        call()


# (what, call, error, message): NumPy values are read as Python ones, and every misuse names what is wrong.
VALIDATION = [
    ("array as a number", lambda: wi.normal(np.array([0.1, 0.2])), TypeError, "not an array of shape \\(2,\\)"),
    ("string array as a number", lambda: wi.normal(np.array("0.5")), TypeError, "`stddev` must be a real number"),
    ("bool array as a number", lambda: wi.normal(np.array(True)), TypeError, "`stddev` must be a real number"),
    ("0-d array as a shape", lambda: wi.he_normal()(KEY, np.array(3)), TypeError, "`shape` must be a sequence"),
    ("int seed to key_for", lambda: wi.key_for(0, "a"), TypeError, "`key` must be a PRNG key"),
    ("int seed to init_tree", lambda: wi.init_tree(0, TARGET, [("a", wi.zeros)]), TypeError, "`key` must be a PRNG"),
    (
        "raw rbg key under threefry",
        lambda: wi.he_normal()(jnp.zeros(4, jnp.uint32), (2, 2)),
        TypeError,
        "uint32\\[4\\]",
    ),
    (
        "out_shardings function returning junk",
        lambda: wi.init_tree(KEY, TARGET, [("a", wi.zeros)], out_shardings=lambda path, leaf: "x"),
        TypeError,
        "`out_shardings` returned 'x' for 'a'",
    ),
    (
        "partial fixing dtype",
        lambda: wi.init_tree(KEY, TARGET, [("a", __import__("functools").partial(wi.he_normal(), dtype=jnp.float32))]),
        TypeError,
        "give the dtype to the factory instead",
    ),
    ("torch dirac in torch's layout", lambda: pytorch.dirac(groups=3)(KEY, (4, 2, 3, 3)), ValueError, "the 4 output"),
]


@pytest.mark.parametrize("what, call, error, match", VALIDATION, ids=[row[0] for row in VALIDATION])
def test_misuse_is_refused_with_a_message_that_names_it(what, call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: testing.assert_moments(np.ones(10), std=-1.0), ValueError, "`std` must be a positive"),
        (lambda: testing.assert_ks(np.ones(10), lambda x: x, alpha=2.0), ValueError, "`alpha` must be in"),
        (lambda: testing.assert_orthogonal(np.eye(3, dtype=np.int32)), TypeError, "floating or complex array"),
        (lambda: wi.truncated_normal(1.0, lower=math.nan), ValueError, "`lower` must be finite"),
    ],
)
def test_assertions_and_bounds_refuse_what_they_cannot_judge(call, error, match):
    with pytest.raises(error, match=match):
        call()


_KEY = jax.random.key(0)
_DENSE = {
    "dense": {"kernel": jax.ShapeDtypeStruct((16, 32), jnp.float32), "bias": jax.ShapeDtypeStruct((32,), jnp.float32)}
}

# Whole-model mistakes: each names the leaf, its stack where it has one, the rule, and the fix.
MODEL_MISTAKES = [
    (
        "more stack axes than the leaf has",
        lambda: wi.init_tree(
            _KEY, {"k": jax.ShapeDtypeStruct((6, 16, 32), jnp.float32)}, [("k", wi.he_normal())], stacked=[("k", 5)]
        ),
        ValueError,
        r"`stacked` gives 'k' \(6, 16, 32\) 5 stack axes, more than its 3 dims; declare at most 2",
    ),
    (
        "orthogonal on one-axis layers of a stack",
        lambda: wi.init_tree(
            _KEY, {"layers": {"w": jax.ShapeDtypeStruct((6, 32), jnp.float32)}}, [("w", wi.orthogonal())],
            stacked=[("layers/", 1)],
        ),
        ValueError,
        r"'layers/w' \(6, 32\) float32 \(one layer of its \(6,\) stack is \(32,\)\) with rules\[0\]'s orthogonal\(\)",
    ),
    (
        "a bias caught by a kernel's rule",
        lambda: wi.init_tree(_KEY, _DENSE, [("dense/", wi.he_normal())]),
        ValueError,
        r"'dense/bias' \(32,\) float32 with rules\[0\]'s he_normal\(\).*put a rule for it before rules\[0\] 'dense/'",
    ),
    (
        "a bias caught by jax.nn's kernel init",
        lambda: wi.init_tree(_KEY, _DENSE, [("dense/", jax.nn.initializers.lecun_normal())]),
        ValueError,
        r"'dense/bias' \(32,\).*a one-axis leaf is a bias or a norm's scale",
    ),
    (
        "a misspelt rule, made an error",
        lambda: wi.init_tree(_KEY, _DENSE, [("kernal$", wi.he_normal()), ("", wi.zeros)], on_unused_rule="raise"),
        ValueError,
        r"rules\[0\] 'kernal\$' matched no leaf \(the closest path is 'dense/kernel'\)\.",
    ),
]


@pytest.mark.parametrize("case, call, error, match", MODEL_MISTAKES, ids=[row[0] for row in MODEL_MISTAKES])
def test_whole_model_mistakes_name_the_leaf_and_the_fix_in_one_sentence(case, call, error, match):
    with pytest.raises(error, match=match) as info:
        call()
    message = str(info.value)
    assert message.endswith(".") and "\n" not in message, message


def test_a_misspelt_rule_warns_naming_the_closest_path_and_how_to_make_it_an_error():
    with pytest.warns(UserWarning, match=r"'kernal\$' matched no leaf \(the closest path is 'dense/kernel'\).*'raise'"):
        wi.init_tree(_KEY, _DENSE, [("kernal$", wi.he_normal()), ("", wi.zeros)])


def test_twin_a_rule_like_no_path_names_none():
    with pytest.warns(UserWarning, match=r"rules\[0\] 'attention' matched no leaf\. Pass"):
        wi.init_tree(_KEY, _DENSE, [("attention", wi.he_normal()), ("", wi.zeros)])
