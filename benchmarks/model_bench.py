"""Whole-model init the way users run it: under their own `jit`, into shards. Prints one JSON record per line.

    XLA_FLAGS=--xla_force_host_platform_device_count=8 python benchmarks/model_bench.py CASE [ARGS]

Run by `run.py` in a fresh process per case, so that every "cold" figure includes every
compile. Cases:

- `tree DEPTH [WITH_FLAX]`: a transformer-like stack (per layer q/k/v/o 256x256 and up/down 256x1024
  kernels, float32, `lecun_normal`). `init_tree` eager, `init_tree` under an outer `jit`,
  per-leaf `jax.nn` under one `jit` (the usual hand-written init: `fold_in(key, i)` per leaf),
  Flax nnx's and linen's own jitted init of the same model, and `init_tree` on that nnx model's
  abstract `nnx.State`, when Flax is installed.
- `llama7b LAYERS DIM HIDDEN VOCAB`: a Llama-7B-shaped abstract tree in bfloat16 on a 2x4
  (fsdp, tp) mesh, lowered and compiled only: per-device bytes from `memory_analysis()`.
- `big ROWS COLS`: one float32 `lecun_normal` array split over every device (jax#19893: 8 ways on
  8 CPU devices; whole on one GPU), compiled only.
"""

import json
import os
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

import jax_weightinit as wi

WIDTH = 256
RULES = [("kernel$", wi.lecun_normal())]


def emit(**fields):
    print(json.dumps(fields), flush=True)


def layer_shapes(width=WIDTH):
    return {"q": (width, width), "k": (width, width), "v": (width, width), "o": (width, width)}, {
        "up": (width, 4 * width),
        "down": (4 * width, width),
    }


def abstract_tree(depth):
    attn, mlp = layer_shapes()
    layer = {
        "attn": {n: {"kernel": jax.ShapeDtypeStruct(s, jnp.float32)} for n, s in attn.items()},
        "mlp": {n: {"kernel": jax.ShapeDtypeStruct(s, jnp.float32)} for n, s in mlp.items()},
    }
    return {"layers": [layer] * depth}


def per_leaf_jax_nn(key, target):
    """The usual hand-written init: one `fold_in` and one jax.nn call per leaf."""
    init = jax.nn.initializers.lecun_normal()
    leaves, treedef = jax.tree_util.tree_flatten(target)
    drawn = [init(jax.random.fold_in(key, i), x.shape, x.dtype) for i, x in enumerate(leaves)]
    return jax.tree_util.tree_unflatten(treedef, drawn)


def steady(fn, key, repeats=3):
    """Median time of `repeats` calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(key))
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def compile_stats(jitted, key):
    """(seconds to trace and compile, the compiled program's memory stats, its threefry loops, the executable)."""
    start = time.perf_counter()
    compiled = jitted.lower(key).compile()
    seconds = time.perf_counter() - start
    return seconds, compiled.memory_analysis(), compiled.as_text().count(" while("), compiled


def scheduler():
    flags = os.environ.get("XLA_FLAGS", "")
    return "sequential" if "concurrency_optimized_scheduler=false" in flags else "default"


def tree_case(depth, with_flax=1):
    key = jax.random.key(0)
    target = abstract_tree(depth)
    out_bytes = sum(x.size * x.dtype.itemsize for x in jax.tree.leaves(target))
    leaves = len(jax.tree.leaves(target))
    common = {"case": "tree", "depth": depth, "leaves": leaves, "output_bytes": out_bytes, "scheduler": scheduler()}

    start = time.perf_counter()
    jax.block_until_ready(wi.init_tree(key, target, RULES))
    first = time.perf_counter() - start
    emit(
        **common,
        impl="jax_weightinit",
        mode="eager",
        cold_s=first,
        steady_s=steady(lambda k: wi.init_tree(k, target, RULES), key),
    )

    fns = {
        "jax_weightinit": lambda k: wi.init_tree(k, target, RULES),
        "jax.nn per leaf": lambda k: per_leaf_jax_nn(k, target),
        **(flax_inits(depth) if with_flax else {}),
    }
    for impl, fn in fns.items():
        seconds, memory, loops, compiled = compile_stats(jax.jit(fn), key)
        start = time.perf_counter()
        jax.block_until_ready(compiled(key))
        first_run = time.perf_counter() - start
        emit(
            **common,
            impl=impl,
            mode="outer jit",
            compile_s=seconds,
            cold_s=seconds + first_run,
            steady_s=steady(compiled, key),
            temp_bytes=memory.temp_size_in_bytes,
            loops=loops,
        )


def flax_inits(depth):
    """Flax's own init of the same model, each to be jitted whole, when Flax is installed."""
    try:
        from flax import linen, nnx
    except ImportError:
        return {}
    attn, mlp = layer_shapes()

    class Layer(nnx.Module):
        def __init__(self, rngs):
            init = nnx.initializers.lecun_normal()
            for name, shape in {**attn, **mlp}.items():
                setattr(self, name, nnx.Linear(*shape, use_bias=False, kernel_init=init, rngs=rngs))

    class Model(nnx.Module):
        def __init__(self, rngs):
            self.layers = nnx.List([Layer(rngs) for _ in range(depth)])

    class LinenModel(linen.Module):
        @linen.compact
        def __call__(self, x):
            def dense(features):
                return linen.Dense(features, use_bias=False, kernel_init=linen.initializers.lecun_normal())

            for _ in range(depth):
                mixed = dense(WIDTH)(x) + dense(WIDTH)(x) + dense(WIDTH)(x)
                x = x + dense(WIDTH)(mixed)
                x = x + dense(WIDTH)(dense(4 * WIDTH)(x))
            return x

    abstract = nnx.state(nnx.eval_shape(lambda: Model(nnx.Rngs(0))))  # the same leaves, as nnx.State
    return {
        "flax nnx": lambda key: nnx.state(Model(nnx.Rngs(key))),
        "flax linen model.init": lambda key: LinenModel().init(key, jnp.zeros((1, WIDTH))),
        "jax_weightinit on nnx.State": lambda key: wi.init_tree(key, abstract, RULES),
    }


def llama_tree(layers, dim, hidden, vocab, mesh):
    """Llama-7B's parameter shapes in bfloat16, with fsdp x tp shardings as MaxText lays them out."""

    def leaf(shape, spec):
        return jax.ShapeDtypeStruct(shape, jnp.bfloat16, sharding=NamedSharding(mesh, spec))

    layer = {
        "attention": {
            **{n: {"kernel": leaf((dim, dim), P("fsdp", "tp"))} for n in ("query", "key", "value")},
            "out": {"kernel": leaf((dim, dim), P("tp", "fsdp"))},
        },
        "mlp": {
            "gate": {"kernel": leaf((dim, hidden), P("fsdp", "tp"))},
            "up": {"kernel": leaf((dim, hidden), P("fsdp", "tp"))},
            "down": {"kernel": leaf((hidden, dim), P("tp", "fsdp"))},
        },
        "attention_norm": {"scale": leaf((dim,), P())},
        "mlp_norm": {"scale": leaf((dim,), P())},
    }
    return {
        "embed": {"embedding": leaf((vocab, dim), P("tp", "fsdp"))},
        "layers": [layer] * layers,
        "head": {"kernel": leaf((dim, vocab), P("fsdp", "tp"))},
    }


def llama_case(layers, dim, hidden, vocab):
    key = jax.random.key(0)
    mesh = jax.make_mesh((2, 4), ("fsdp", "tp"))  # Explicit axes: jax.make_mesh's default
    target = llama_tree(layers, dim, hidden, vocab, mesh)
    leaves = jax.tree.leaves(target)
    local = [int(np.prod(x.sharding.shard_shape(x.shape))) * x.dtype.itemsize for x in leaves]
    common = {
        "case": "llama7b",
        "layers": layers,
        "dim": dim,
        "params": int(sum(x.size for x in leaves)),
        "device_share_bytes": sum(local),
        "largest_shard_bytes": max(local),
    }
    rules = [("kernel$|embedding$", wi.lecun_normal()), ("scale$", wi.ones)]
    fns = {
        "jax_weightinit": jax.jit(lambda k: wi.init_tree(k, target, rules)),
        "jax.nn per leaf": jax.jit(lambda k: llama_jax_nn(k, target)),
    }
    for impl, jitted in fns.items():
        with jax.set_mesh(mesh):
            seconds, memory, loops, _ = compile_stats(jitted, key)
        emit(
            **common,
            scheduler=scheduler(),
            impl=impl,
            compile_s=seconds,
            argument_bytes=memory.argument_size_in_bytes,
            output_bytes=memory.output_size_in_bytes,
            temp_bytes=memory.temp_size_in_bytes,
            loops=loops,
        )


def llama_jax_nn(key, target):
    leaves, treedef = jax.tree_util.tree_flatten(target)
    kernel, ones = jax.nn.initializers.lecun_normal(), jax.nn.initializers.ones
    drawn = [
        (ones if x.ndim == 1 else kernel)(jax.random.fold_in(key, i), x.shape, x.dtype, out_sharding=x.sharding)
        for i, x in enumerate(leaves)
    ]
    return jax.tree_util.tree_unflatten(treedef, drawn)


def big_case(rows, cols):
    key = jax.random.key(0)
    ways = jax.device_count()
    mesh = jax.make_mesh((ways,), ("x",))
    sharding = NamedSharding(mesh, P(None, "x"))
    shape = (rows, cols)
    share = rows * cols * 4 // ways
    fns = {
        "jax_weightinit": jax.jit(lambda k: wi.lecun_normal()(k, shape, jnp.float32, out_sharding=sharding)),
        "jax.nn": jax.jit(lambda k: jax.nn.initializers.lecun_normal()(k, shape, jnp.float32, out_sharding=sharding)),
    }
    for impl, jitted in fns.items():
        with jax.set_mesh(mesh):
            seconds, memory, _, _ = compile_stats(jitted, key)
        emit(
            case="big",
            scheduler=scheduler(),
            shape=list(shape),
            impl=impl,
            compile_s=seconds,
            device_share_bytes=share,
            output_bytes=memory.output_size_in_bytes,
            temp_bytes=memory.temp_size_in_bytes,
        )


if __name__ == "__main__":
    case, *args = sys.argv[1:]
    {"tree": tree_case, "llama7b": llama_case, "big": big_case}[case](*map(int, args))
