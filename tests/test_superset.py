"""A strict superset of jax.nn.initializers: every name, with its defaults and call protocol."""

import inspect

import chex
import jax
import jax.numpy as jnp
import pytest

import jax_weightinit as wi

JAX_NAMES = sorted(n for n in dir(jax.nn.initializers) if not n.startswith("_"))


def test_every_jax_name_exists():
    missing = [n for n in JAX_NAMES if not hasattr(wi, n)]
    assert not missing, missing


FACTORIES = [n for n in JAX_NAMES if n not in ("Initializer", "zeros", "ones")]


@pytest.mark.parametrize("name", FACTORIES)
def test_same_parameters_and_defaults(name):
    theirs = inspect.signature(getattr(jax.nn.initializers, name)).parameters
    ours = inspect.signature(getattr(wi, name)).parameters
    for param, spec in theirs.items():
        assert param in ours, param
        if spec.default is not inspect.Parameter.empty:
            assert ours[param].default == spec.default, (param, ours[param].default, spec.default)
    positional = [p for p, s in theirs.items() if s.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    assert [p for p in ours if p in positional] == positional  # same positional order


@pytest.mark.parametrize("name", [n for n in FACTORIES if n not in ("constant", "variance_scaling")])
def test_same_call_protocol_and_output(name, key):
    shape = (3, 3, 8, 16)
    ours = getattr(wi, name)()(key, shape, jnp.bfloat16, None)
    # jax.nn's orthogonal family runs its QR in the output dtype, which LAPACK lacks for bfloat16 on CPU;
    # ours computes in float32 and rounds once.
    their_dtype = jnp.float32 if "orthogonal" in name else jnp.bfloat16
    theirs = getattr(jax.nn.initializers, name)()(key, shape, their_dtype)
    chex.assert_equal_shape([ours, theirs])
    chex.assert_type(ours, jnp.bfloat16)


@pytest.mark.parametrize("name", ["zeros", "ones"])
def test_zeros_and_ones_are_initializers_themselves(name, key):
    chex.assert_trees_all_equal(getattr(wi, name)(key, (2, 3)), getattr(jax.nn.initializers, name)(key, (2, 3)))
    chex.assert_trees_all_equal(
        getattr(wi, name)(key, (2,), jnp.int32), getattr(jax.nn.initializers, name)(key, (2,), jnp.int32)
    )
