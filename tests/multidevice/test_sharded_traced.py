"""Traced hyperparameters on 8 devices: a sweep drawn into shards has the values of the unsharded draw."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import AxisType, NamedSharding
from jax.sharding import PartitionSpec as P

import jax_weightinit as wi

SCALES = jnp.array([0.5, 1.0, 2.0], jnp.float32)
# (case, the initializer at s, shape): a last dimension of 72 splits 8 ways into 9-wide shards.
CASES = [
    ("normal", lambda s: wi.normal(s), (64, 72)),
    ("variance_scaling", lambda s: wi.variance_scaling(s, "fan_in", "truncated_normal"), (64, 64)),
    ("orthogonal", lambda s: wi.orthogonal(s), (64, 64)),
]


@pytest.mark.parametrize("explicit", [False, True], ids=["auto mesh", "explicit mesh"])
@pytest.mark.parametrize("name, make, shape", CASES, ids=[c[0] for c in CASES])
def test_a_traced_scale_drawn_into_shards_is_the_unsharded_draw(key, name, make, shape, explicit):
    kind = AxisType.Explicit if explicit else AxisType.Auto
    mesh = jax.make_mesh((8,), ("x",), axis_types=(kind,))
    sharding = NamedSharding(mesh, P(None, "x"))
    params = {"w": jax.ShapeDtypeStruct(shape, jnp.float32, sharding=sharding)}
    plain = jax.jit(jax.vmap(lambda s: make(s)(key, shape)))(SCALES)
    with jax.set_mesh(mesh):
        direct = jax.jit(jax.vmap(lambda s: make(s)(key, shape, out_sharding=sharding)))(SCALES)
        tree = jax.jit(jax.vmap(lambda s: wi.init_tree(key, params, [("w", make(s))])["w"]))(SCALES)
    leaf_plain = jax.jit(jax.vmap(lambda s: make(s)(wi.key_for(key, "w"), shape)))(SCALES)
    np.testing.assert_array_equal(direct, plain)
    np.testing.assert_array_equal(tree, leaf_plain)
    assert tree.sharding.spec == P(None, None, "x")
    off = jax.jit(jax.vmap(lambda s: make(s)(key, shape)))(1.05 * SCALES)
    assert not np.array_equal(direct, off)  # the twin: the comparison tells a scale 5% off
