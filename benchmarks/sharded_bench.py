"""Sharded init on 8 CPU devices; run by run.py with XLA_FLAGS set. Prints one JSON record per case."""

import json
import statistics
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec

import jax_weightinit as wi

size = int(sys.argv[1])
key = jax.random.key(0)
shape = (size, size)
spec = PartitionSpec("data", "model")
auto = NamedSharding(Mesh(np.array(jax.devices()).reshape(4, 2), ("data", "model")), spec)
explicit = NamedSharding(jax.make_mesh((4, 2), ("data", "model"), axis_types=(AxisType.Explicit,) * 2), spec)
CASES = [
    # Auto mesh, jit's out_shardings alone: XLA's partitioner gives each device its shard.
    ("Auto", "jax_weightinit", auto, lambda k: wi.he_normal()(k, shape, jnp.float32)),
    ("Auto", "jax.nn", auto, lambda k: jax.nn.initializers.he_normal()(k, shape, jnp.float32)),
    # The initializer's own out_sharding: each device draws its shard in blocks.
    ("Auto", "jax_weightinit out_sharding=", auto, lambda k: wi.he_normal()(k, shape, out_sharding=auto)),
    # Explicit mesh, as jax.make_mesh gives by default: both take a bare spec under set_mesh.
    ("Explicit", "jax_weightinit", explicit, lambda k: wi.he_normal()(k, shape, jnp.float32, out_sharding=spec)),
    (
        "Explicit",
        "jax.nn",
        explicit,
        lambda k: jax.nn.initializers.he_normal()(k, shape, jnp.float32, out_sharding=spec),
    ),
]
for kind, impl, sharding, init in CASES:
    with jax.set_mesh(sharding.mesh):
        fn = jax.jit(init, out_shardings=sharding)
        compiled = fn.lower(key).compile()
        jax.block_until_ready(fn(key))
        times = []
        for _ in range(3):
            start = time.perf_counter()
            jax.block_until_ready(fn(key))
            times.append(time.perf_counter() - start)
        w = fn(key)
    memory = compiled.memory_analysis()
    per_device = max(s.data.nbytes for s in w.addressable_shards)
    print(
        json.dumps(
            {
                "name": f"he_normal sharded {size}x{size} on 8 devices, {kind} mesh",
                "impl": impl,
                "shape": list(shape),
                "dtype": "float32",
                "median_s": statistics.median(times),
                "min_s": min(times),
                "max_s": max(times),
                "first_call_s": 0.0,
                "elements": size * size,
                "elements_per_s": size * size / statistics.median(times),
                "gb_per_s": size * size * 4 / statistics.median(times) / 1e9,
                "mode": "jit",
                "per_device_bytes": per_device,
                "temp_bytes_per_device": memory.temp_size_in_bytes,
                "full_array_bytes": size * size * 4,
            }
        )
    )
