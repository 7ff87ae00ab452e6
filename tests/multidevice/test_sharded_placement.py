"""Where a sharded draw lands: every device only its shard on a mixed mesh's combined entry, and the memory kind
asked for (host offloading)."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import AxisType, NamedSharding
from jax.sharding import PartitionSpec as P

import jax_weightinit as wi

LEAF = jax.ShapeDtypeStruct((128,), jnp.float32)


def _draws(sharding):
    """(name, a function of the key that draws a (128,) array on `sharding`), eagerly."""
    return [
        ("normal", lambda k: wi.normal()(k, (128,), out_sharding=sharding)),
        ("zeros", lambda k: wi.zeros(k, (128,), out_sharding=sharding)),
        ("init_tree", lambda k: wi.init_tree(k, {"w": LEAF}, [("w", wi.normal())], out_shardings=sharding)["w"]),
    ]


def test_a_combined_explicit_and_auto_entry_gives_each_device_its_shard(key):
    mesh = jax.make_mesh((2, 4), ("a", "b"), axis_types=(AxisType.Explicit, AxisType.Auto))
    sharding = NamedSharding(mesh, P(("a", "b")))
    with jax.set_mesh(mesh):
        for name, draw in _draws(sharding):
            out = draw(key)
            assert out.sharding.is_equivalent_to(sharding, 1), name
            assert {shard.data.shape for shard in out.addressable_shards} == {(16,)}, name
            np.testing.assert_array_equal(np.asarray(out), np.asarray(draw(key)))


@pytest.mark.parametrize("kind", ["pinned_host", "unpinned_host"])
def test_a_host_memory_kind_is_kept_eager_and_as_jax_keeps_it_under_jit(key, kind):
    mesh = jax.make_mesh((8,), ("a",), axis_types=(AxisType.Auto,))
    sharding = NamedSharding(mesh, P("a"), memory_kind=kind)
    on_device = NamedSharding(mesh, P("a"))
    for name, draw in [
        *_draws(sharding),
        ("orthogonal", lambda k: wi.orthogonal()(k, (128, 8), out_sharding=sharding)),
    ]:
        assert draw(key).sharding.memory_kind == kind, name
    # Under a jit the memory kind goes as JAX's own device_put inside a jit takes it there: pinned_host from
    # jax 0.10 on; unpinned_host, and pinned_host on jax 0.9, stay on the device (jit's out_shardings moves them).
    theirs = jax.jit(lambda k: jax.device_put(jax.random.normal(k, (128,)), sharding))(key).sharding.memory_kind
    jitted = jax.jit(lambda k: wi.normal()(k, (128,), out_sharding=sharding))(key)
    assert jitted.sharding.memory_kind == theirs
    np.testing.assert_array_equal(np.asarray(jitted), np.asarray(wi.normal()(key, (128,), out_sharding=on_device)))


@pytest.mark.parametrize("kind", [AxisType.Explicit, AxisType.Auto])
def test_vmap_over_keys_sharded_on_a_mesh_draws_each_keys_call(key, kind):
    """Keys sharded over devices (one layer per device, as a pipeline stacks them): no loop over the batch, which a
    mesh cannot split, and each row is its key's direct call."""
    mesh = jax.make_mesh((8,), ("d",), axis_types=(kind,))
    keys = jax.random.split(key, 8)
    with jax.set_mesh(mesh):
        sharded = jax.device_put(keys, NamedSharding(mesh, P("d")))
        try:
            jax.jit(jax.vmap(lambda k: jax.random.bits(k, (32, 32))))(sharded)
        except ValueError as e:  # jax 0.9 cannot vmap its own bits over Explicit-sharded keys; neither can we then
            with pytest.raises(ValueError, match=re.escape(str(e).split(".")[0])):
                jax.jit(jax.vmap(lambda k: wi.he_normal()(k, (32, 32))))(sharded)
            return
        rows = np.asarray(jax.jit(jax.vmap(lambda k: wi.he_normal()(k, (32, 32))))(sharded))
    for i in range(8):
        np.testing.assert_array_equal(rows[i], np.asarray(wi.he_normal()(keys[i], (32, 32))))
