"""Initialize a Flax nnx model straight into its shards, under your own jit, on Explicit and Auto meshes.

Runs anywhere: unless `XLA_FLAGS` already sets a device count, it asks XLA for 8 CPU devices before JAX
starts, keeping any other flags there.
"""

import os

if "xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count=8".lstrip()

import jax  # noqa: E402
import numpy as np  # noqa: E402
from flax import nnx  # noqa: E402
from jax.sharding import AxisType, NamedSharding  # noqa: E402
from jax.sharding import PartitionSpec as P  # noqa: E402

import jax_weightinit as wi  # noqa: E402


class MLP(nnx.Module):
    def __init__(self, rngs: nnx.Rngs):
        init = nnx.initializers.lecun_normal()  # replaced below: only the partitioning matters here
        self.up = nnx.Linear(512, 2048, kernel_init=nnx.with_partitioning(init, ("data", "model")), rngs=rngs)
        self.down = nnx.Linear(2048, 512, kernel_init=nnx.with_partitioning(init, ("model", "data")), rngs=rngs)


rules = [("kernel$", wi.he_normal()), ("bias$", wi.zeros)]
key = jax.random.key(0)

# Explicit axes (jax.make_mesh's default): the abstract state's leaves carry their shardings, and
# init_tree keeps them; nothing is materialized on one device.
mesh = jax.make_mesh((2, 4), ("data", "model"), axis_types=(AxisType.Explicit,) * 2)
with jax.set_mesh(mesh):
    graphdef, abstract = nnx.split(nnx.eval_shape(lambda: MLP(nnx.Rngs(0))))
    params = jax.jit(lambda k: wi.init_tree(k, abstract, rules))(key)
    model = nnx.merge(graphdef, params)
    w = wi.he_normal()(key, (4096, 1024), out_sharding=P("data", "model"))  # one array: a bare spec
kernel = model.up.kernel[...]
print("up/kernel", kernel.shape, kernel.sharding.spec, "per-device shard", kernel.addressable_shards[0].data.shape)

# Auto axes: the same, eager here; out_shardings= (one sharding, a prefix tree or a function of the
# path) overrides what the leaves carry.
auto = jax.make_mesh((2, 4), ("data", "model"), axis_types=(AxisType.Auto,) * 2)
with jax.set_mesh(auto):
    _, abstract_auto = nnx.split(nnx.eval_shape(lambda: MLP(nnx.Rngs(0))))
    placed = wi.init_tree(key, abstract_auto, rules)
columns = wi.init_tree(
    key,
    abstract_auto,
    rules,
    out_shardings=lambda path, leaf: NamedSharding(auto, P(None, "model") if leaf.ndim == 2 else P()),
)
print(
    "down/kernel on the Auto mesh:",
    placed["down"]["kernel"][...].sharding.spec,
    "or",
    columns["down"]["kernel"][...].sharding.spec,
)

# Same values however they were placed: the leaf at a path is init(key_for(key, path), ...).
unsharded = wi.init_tree(key, jax.tree.map(lambda s: jax.ShapeDtypeStruct(s.shape, s.dtype), abstract), rules)
for tree in (params, placed, columns):
    np.testing.assert_array_equal(np.asarray(tree["up"]["kernel"][...]), np.asarray(unsharded["up"]["kernel"][...]))
np.testing.assert_array_equal(np.asarray(w), np.asarray(wi.he_normal()(key, (4096, 1024))))
print("sharded values equal the unsharded ones")
