"""Sharded init on 8 CPU devices; run by run.py with XLA_FLAGS set. Prints one JSON record per case."""

import json
import statistics
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

import jax_weightinit as wi

size = int(sys.argv[1])
mesh = Mesh(np.array(jax.devices()).reshape(4, 2), ("data", "model"))
sharding = NamedSharding(mesh, PartitionSpec("data", "model"))
key = jax.random.key(0)
shape = (size, size)
CASES = {
    # jit's out_shardings alone: XLA's partitioner gives each device its shard.
    "jax_weightinit": lambda k: wi.he_normal()(k, shape, jnp.float32),
    "jax.nn": lambda k: jax.nn.initializers.he_normal()(k, shape, jnp.float32),
    # The initializer's own out_sharding: each device draws its shard in blocks.
    "jax_weightinit out_sharding=": lambda k: wi.he_normal()(k, shape, jnp.float32, out_sharding=sharding),
}
for impl, init in CASES.items():
    fn = jax.jit(init, out_shardings=sharding)
    compiled = fn.lower(key).compile()
    memory = compiled.memory_analysis()
    jax.block_until_ready(fn(key))
    times = []
    for _ in range(3):
        start = time.perf_counter()
        jax.block_until_ready(fn(key))
        times.append(time.perf_counter() - start)
    w = fn(key)
    per_device = max(s.data.nbytes for s in w.addressable_shards)
    print(
        json.dumps(
            {
                "name": f"he_normal sharded {size}x{size} on 8 devices",
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
