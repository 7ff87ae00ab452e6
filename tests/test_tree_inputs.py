"""Whole-model draws under adversarial inputs: constants on every path, traced and rebuilt initializers, shardings
that say nothing."""

import gc

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import PartitionSpec as P

import jax_weightinit as wi
from jax_weightinit._src import generation, tunables

# A model past the eager fixed-shape path's threshold (constants filled on the host), and a small one.
MANY = {f"layer{i}": jax.ShapeDtypeStruct((3,), jnp.float32) for i in range(tunables.TUNABLES.fixed_from_leaves + 2)}

# (value, dtype): values NumPy and XLA convert differently (double rounding of an int into bfloat16, subnormals,
# a subnormal into bool), and plain ones.
CONSTANTS = [
    (2**24 + 2**16 + 1, jnp.bfloat16),
    (1e-45, jnp.float32),
    (1e-45, jnp.bool_),
    (1e-40, jnp.float32),
    (0.1, jnp.bfloat16),
    (-0.0, jnp.float32),
    (7, jnp.int8),
    (2.5, jnp.float16),
]


@pytest.mark.parametrize("value, dtype", CONSTANTS, ids=[f"{v!r} into {np.dtype(d).name}" for v, d in CONSTANTS])
def test_a_constant_leaf_is_its_direct_call_whatever_the_models_size(key, value, dtype):
    rules = [("^c$", wi.constant(value)), ("", wi.normal(0.1))]
    direct = np.asarray(wi.constant(value)(key, (4,), dtype))
    for target in ({**MANY, "c": jax.ShapeDtypeStruct((4,), dtype)}, {"c": jax.ShapeDtypeStruct((4,), dtype)}):
        leaf = np.asarray(wi.init_tree(key, target, rules, on_unused_rule="ignore")["c"])
        assert leaf.tobytes() == direct.tobytes(), (len(target), leaf, direct)


def test_a_python_int_outside_int32_fills_a_dtype_that_holds_it(key):
    """`jit` holds a Python int as int32 without x64; 2**32 - 1 still fills uint32, directly and through init_tree."""
    expected = jnp.full((2,), 2**32 - 1, jnp.uint32)
    np.testing.assert_array_equal(wi.constant(2**32 - 1)(key, (2,), jnp.uint32), expected)
    out = wi.init_tree(key, {"u": jax.ShapeDtypeStruct((2,), jnp.uint32)}, [("u", wi.constant(2**32 - 1))])
    np.testing.assert_array_equal(out["u"], expected)


def test_a_traced_constant_does_not_leak_through_init_tree(key):
    @jax.jit
    def init(x):
        return wi.init_tree(key, {"c": jax.ShapeDtypeStruct((3,), jnp.float32)}, [("c", wi.constant(x * 2))])["c"]

    with jax.checking_leaks():
        np.testing.assert_array_equal(init(jnp.float32(1.5)), np.full(3, 3.0, np.float32))
        np.testing.assert_array_equal(init(jnp.float32(2.0)), np.full(3, 4.0, np.float32))


def test_rules_rebuilt_on_every_call_reuse_one_program(key):
    """Linen-style code builds `nn.initializers.*()` in its init: each call's new closure draws by the same program."""
    target = {"kernel": jax.ShapeDtypeStruct((64, 64), jnp.float32), "emb": jax.ShapeDtypeStruct((8, 64), jnp.float32)}
    scale = 0.5

    def rules():
        return [
            ("kernel", jax.nn.initializers.normal(0.02)),
            ("emb", lambda k, s, d: scale * jax.random.normal(k, s, d)),
        ]

    first = wi.init_tree(key, target, rules())
    gc.collect()
    before = generation._draw_leaf._cache_size()
    for _ in range(3):
        again = wi.init_tree(key, target, rules())
    assert generation._draw_leaf._cache_size() == before
    for path in target:
        np.testing.assert_array_equal(again[path], first[path])


def test_closures_over_different_values_are_different_programs(key):
    """The twin: two closures with one code but different values must not share a program."""
    target = {"kernel": jax.ShapeDtypeStruct((64, 64), jnp.float32)}
    a = wi.init_tree(key, target, [("kernel", jax.nn.initializers.normal(0.02))])["kernel"]
    b = wi.init_tree(key, target, [("kernel", jax.nn.initializers.normal(0.04))])["kernel"]
    np.testing.assert_allclose(np.asarray(b), 2 * np.asarray(a), rtol=1e-6)


def test_an_unconstrained_output_sharding_is_refused_in_one_sentence(key):
    mesh = jax.make_mesh((1,), ("a",), axis_types=(jax.sharding.AxisType.Auto,))
    sharding = jax.sharding.NamedSharding(mesh, P(P.UNCONSTRAINED))
    with pytest.raises(ValueError, match=r"`out_sharding` .*UNCONSTRAINED.*; name a mesh axis or None for each dim\."):
        wi.normal()(key, (8,), out_sharding=sharding)
    with pytest.raises(ValueError, match=r"`out_shardings` for 'w' .*UNCONSTRAINED"):
        wi.init_tree(key, {"w": jax.ShapeDtypeStruct((8,), jnp.float32)}, [("w", wi.normal())], out_shardings=sharding)


F64_LAWS = [wi.normal(0.3), wi.he_normal(), wi.truncated_normal(0.3), wi.uniform(0.3)]


@pytest.mark.parametrize("init", F64_LAWS, ids=repr)
@pytest.mark.parametrize("shape", [(2, 3), (63, 65)])
def test_float64_leaves_are_their_direct_calls_eager_and_under_jit(key, init, shape):
    """Eight float64 leaves of one group, drawn one by one and in XLA's order, each its direct call bit for bit."""
    with jax.enable_x64(True):
        target = {f"layer{i}": jax.ShapeDtypeStruct(shape, jnp.float64) for i in range(8)}
        eager = wi.init_tree(key, target, [("", init)])
        jitted = jax.jit(lambda k: wi.init_tree(k, target, [("", init)]))(key)
        for path in target:
            direct = np.asarray(init(wi.key_for(key, path), shape, jnp.float64))
            assert np.asarray(eager[path]).tobytes() == direct.tobytes()
            assert np.asarray(jitted[path]).tobytes() == direct.tobytes()


@pytest.mark.parametrize("init", F64_LAWS[:3], ids=repr)
def test_vmap_rows_of_float64_arrays_from_three_elements_are_direct_calls(key, init):
    """The documented exception stops at two elements: from three up every row of `vmap(init)(keys)` is exact."""
    keys = jax.random.split(key, 64)
    with jax.enable_x64(True):
        for shape in ((1, 3), (3, 4), (16, 16)):
            rows = jax.vmap(lambda k, shape=shape: init(k, shape, jnp.float64))(keys)
            for i in range(64):
                assert np.asarray(rows[i]).tobytes() == np.asarray(init(keys[i], shape, jnp.float64)).tobytes()
