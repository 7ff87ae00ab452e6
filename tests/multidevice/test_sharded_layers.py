"""`wi.flax.reinit` on 8 devices: an abstract nnx model materialized straight into its shards, at its layers' fans."""

import math

import chex
import jax
import numpy as np
import pytest
from flax import nnx
from jax.sharding import AxisType, NamedSharding
from jax.sharding import PartitionSpec as P

import jax_weightinit as wi

RULES = [("kernel$", wi.he_normal()), ("bias$", wi.zeros)]


class Attention(nnx.Module):
    def __init__(self, rngs, partitioned=True):
        init = nnx.initializers.lecun_normal()
        init = nnx.with_partitioning(init, ("data", "model", None)) if partitioned else init
        self.attn = nnx.MultiHeadAttention(4, 256, qkv_features=256, decode=False, kernel_init=init, rngs=rngs)


@pytest.mark.parametrize("kind", [AxisType.Auto, AxisType.Explicit], ids=["Auto mesh", "Explicit mesh"])
@pytest.mark.parametrize("traced", [False, True], ids=["eager", "under nnx.jit"])
def test_abstract_attention_lands_sharded_with_the_layers_fans(kind, traced, key):
    mesh = jax.make_mesh((2, 4), ("data", "model"), axis_types=(kind, kind))
    with jax.set_mesh(mesh):
        model = nnx.eval_shape(lambda: Attention(nnx.Rngs(0)))
        plan = wi.flax.plan(model, RULES)
        if traced:
            nnx.jit(lambda m, k: wi.flax.reinit(m, k, RULES))(model, key)
        else:
            wi.flax.reinit(model, key, RULES)
    query = model.attn.query.kernel[...]
    assert query.sharding.is_equivalent_to(NamedSharding(mesh, P("data", "model", None)), 3), query.sharding
    assert next(r for r in plan if r.path == "attn/query/kernel").fans == (256, 256)
    assert math.isclose(float(np.asarray(query).std()), math.sqrt(2 / 256), rel_tol=0.03)

    plain = Attention(nnx.Rngs(0), partitioned=False)
    wi.flax.reinit(plain, key, RULES)
    chex.assert_trees_all_equal(np.asarray(query), np.asarray(plain.attn.query.kernel[...]))
