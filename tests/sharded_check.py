"""Run by test_sharding.py in a fresh process with 8 CPU devices (XLA_FLAGS set by the caller)."""

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

import jax_weightinit as wi

assert jax.device_count() == 8, jax.devices()
mesh = Mesh(np.array(jax.devices()).reshape(4, 2), ("data", "model"))
sharding = NamedSharding(mesh, PartitionSpec("data", "model"))
key = jax.random.key(0)
shape = (1024, 512)

for init in (wi.he_normal(), wi.glorot_uniform(), wi.he(), wi.truncated_normal(1.0, lower=5.0, upper=6.0)):
    for dtype in (jnp.float32, jnp.bfloat16):
        full = init(key, shape, dtype)
        eager = init(key, shape, dtype, out_sharding=sharding)
        jitted = jax.jit(lambda k, init=init, dtype=dtype: init(k, shape, dtype), out_shardings=sharding)(key)
        for w in (eager, jitted):
            assert w.sharding.is_equivalent_to(sharding, 2), w.sharding
            assert {s.data.shape for s in w.addressable_shards} == {(256, 256)}
            np.testing.assert_array_equal(np.asarray(w.astype(jnp.float32)), np.asarray(full.astype(jnp.float32)))

        # Only local shards are generated: per-device temporaries stay below one full-size
        # float32 array (the sampler's compute dtype); measured: about 3-4 local shards.
        compiled = (
            jax.jit(lambda k, init=init, dtype=dtype: init(k, shape, dtype, out_sharding=sharding)).lower(key).compile()
        )
        memory = compiled.memory_analysis()
        per_device_out = full.size * full.dtype.itemsize // 8
        assert memory.output_size_in_bytes <= per_device_out, (memory.output_size_in_bytes, per_device_out)
        assert memory.temp_size_in_bytes < full.size * 4, (memory.temp_size_in_bytes, full.size * 4)

# vmap over keys under a mesh: each row equals the call with its key.
keys = jax.random.split(key, 8)
rows = jax.jit(
    jax.vmap(lambda k: wi.he_normal()(k, (64, 64))), out_shardings=NamedSharding(mesh, PartitionSpec(("data", "model")))
)(keys)
for i in range(8):
    np.testing.assert_array_equal(np.asarray(rows[i]), np.asarray(wi.he_normal()(keys[i], (64, 64))))
# init_tree places each leaf on its sharding, with the values of the unsharded init.
target = {
    "layers": [
        {"kernel": jax.ShapeDtypeStruct((512, 256), jnp.float32), "bias": jax.ShapeDtypeStruct((256,), jnp.float32)}
    ]
    * 3
}
rules = [("kernel$", wi.he_normal()), ("bias$", wi.zeros)]
column = NamedSharding(mesh, PartitionSpec("model"))
placed = wi.init_tree(
    key, target, rules, out_shardings=lambda path, leaf: sharding if path.endswith("kernel") else column
)
plain = wi.init_tree(key, target, rules)
for got, want in zip(jax.tree_util.tree_leaves(placed), jax.tree_util.tree_leaves(plain), strict=True):
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
assert placed["layers"][2]["kernel"].sharding.is_equivalent_to(sharding, 2)
assert {s.data.shape for s in placed["layers"][0]["kernel"].addressable_shards} == {(128, 128)}
assert placed["layers"][1]["bias"].sharding.is_equivalent_to(column, 1)
try:
    wi.init_tree(key, target, rules, out_shardings=lambda path, leaf: sharding)
except ValueError as e:
    assert "'layers/0/bias'" in str(e), e
else:
    raise AssertionError("a rank-2 sharding on a bias was accepted")
# Structured initializers are one compiled program, constrained to the sharding inside it.
for init in (wi.identity(), wi.orthogonal()):
    w = init(key, (1024, 512), out_sharding=sharding)
    assert w.sharding.is_equivalent_to(sharding, 2), w.sharding
    np.testing.assert_array_equal(np.asarray(w), np.asarray(init(key, (1024, 512))))
print("sharded init ok")
