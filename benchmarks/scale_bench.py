"""A Llama-3-70B-shaped linen decoder initialized under `jit` on 64 simulated CPU devices: per-device memory and
cross-device collectives read from the compiled programs, which are never run.

    python benchmarks/scale_bench.py [--layers N] [--out DIR]

Sets `--xla_force_host_platform_device_count=64` itself (before JAX starts). Writes DIR/scale.json
and DIR/scale.md (default benchmarks/results-local/). The model: `nn.scan` over 80 layers with
`'layers'` partitioning names, d 8192, 64 query and 8 key-value heads of 128, an MLP of 28,672,
vocabulary 128,256, RMSNorms, an untied head (70.55 B parameters); shardings from
`nn.logical_to_mesh_sharding` on an (8, 8) `('data', 'model')` mesh, as MaxText and the Flax
guides get them. Each way of calling is compiled with `jit(..., out_shardings=shardings)`:

- Flax's own `model.init`;
- `init_tree` on the boxed abstract params (`jax.eval_shape(model.init, ...)`), llama rules;
- `init_tree` on the unboxed abstract params with `stacked=`;
- `init_tree(..., out_shardings=shardings)`, the shardings told;
- `init_tree` on `ShapeDtypeStruct`s that carry their shardings;
- `jax.nn.initializers.normal(0.02)` per leaf at `fold_in(key, i)`.

Per device: XLA's temp and output bytes from `memory_analysis()`, and the collectives
(all-reduce, all-gather, reduce-scatter, all-to-all, collective-permute) in the optimized HLO.
"""

import argparse
import json
import os
import pathlib
import re
import sys
import time

if "jax" not in sys.modules:
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count=64".strip()

import flax.linen as nn  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import jax_weightinit as wi  # noqa: E402

D, HEADS, KV_HEADS, HEAD_DIM, MLP, VOCAB = 8192, 64, 8, 128, 28672, 128256
RULES = (("embed", "data"), ("heads", "model"), ("kv", "model"), ("mlp", "model"), ("vocab", "model"))
COLLECTIVES = ("all-reduce", "all-gather", "reduce-scatter", "all-to-all", "collective-permute")


def _dense(features: int, axes: tuple[str, str], name: str) -> nn.Dense:
    init = nn.with_logical_partitioning(nn.initializers.normal(0.02), axes)
    return nn.Dense(features, use_bias=False, kernel_init=init, name=name)


def _norm(name: str) -> nn.RMSNorm:
    return nn.RMSNorm(scale_init=nn.with_logical_partitioning(nn.initializers.ones, ("embed",)), name=name)


class Layer(nn.Module):
    @nn.compact
    def __call__(self, x, _):
        h = _norm("input_layernorm")(x)
        q = _dense(HEADS * HEAD_DIM, ("embed", "heads"), "q_proj")(h)
        k = _dense(KV_HEADS * HEAD_DIM, ("embed", "kv"), "k_proj")(h)
        v = _dense(KV_HEADS * HEAD_DIM, ("embed", "kv"), "v_proj")(h)
        x = x + _dense(D, ("heads", "embed"), "o_proj")(q + jnp.tile(k + v, HEADS // KV_HEADS))
        h = _norm("post_attention_layernorm")(x)
        gate = _dense(MLP, ("embed", "mlp"), "gate_proj")(h)
        up = _dense(MLP, ("embed", "mlp"), "up_proj")(h)
        return x + _dense(D, ("mlp", "embed"), "down_proj")(jax.nn.silu(gate) * up), None


class Decoder(nn.Module):
    layers: int

    @nn.compact
    def __call__(self, tokens):
        embed_init = nn.with_logical_partitioning(nn.initializers.normal(0.02), ("vocab", "embed"))
        x = nn.Embed(VOCAB, D, embedding_init=embed_init, name="embed_tokens")(tokens)
        stack = nn.scan(
            Layer,
            variable_axes={"params": 0},
            split_rngs={"params": True},
            length=self.layers,
            metadata_params={nn.PARTITION_NAME: "layers"},
        )
        x, _ = stack(name="layers")(x, None)
        return _dense(VOCAB, ("embed", "vocab"), "lm_head")(_norm("norm")(x))


def _collectives(hlo: str) -> int:
    return sum(len(re.findall(rf"\b{name}(-start)?\(", hlo)) for name in COLLECTIVES)


def measure(name: str, fn, shardings, *args) -> dict:
    start = time.perf_counter()
    compiled = jax.jit(fn, out_shardings=shardings).lower(*args).compile()
    memory = compiled.memory_analysis()
    record = {
        "way": name,
        "temp_mib": memory.temp_size_in_bytes / 2**20,
        "output_mib": memory.output_size_in_bytes / 2**20,
        "collectives": _collectives(compiled.as_text()),
        "compile_s": time.perf_counter() - start,
    }
    print(json.dumps(record), flush=True)
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layers", type=int, default=80)
    parser.add_argument("--out", default="benchmarks/results-local")
    args = parser.parse_args()
    mesh = jax.make_mesh((8, 8), ("data", "model"), axis_types=(jax.sharding.AxisType.Auto,) * 2)
    model, key, tokens = Decoder(args.layers), jax.random.key(0), jnp.zeros((1, 1), jnp.int32)
    boxed = jax.eval_shape(model.init, key, tokens)
    shardings = nn.logical_to_mesh_sharding(nn.get_partition_spec(boxed), mesh, RULES)
    unboxed = nn.unbox(boxed)
    carried = jax.tree.map(lambda a, s: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=s), unboxed, shardings)
    rules = wi.presets.llama_rules()
    stacked = [("^params/layers/", 1)]
    count = sum(a.size for a in jax.tree.leaves(unboxed))

    def per_leaf(key):
        flat, treedef = jax.tree_util.tree_flatten(unboxed)
        init = jax.nn.initializers.normal(0.02)
        return jax.tree_util.tree_unflatten(
            treedef, [init(jax.random.fold_in(key, i), a.shape, a.dtype) for i, a in enumerate(flat)]
        )

    # The shardings name their mesh (Auto axes): no mesh context is needed, for Flax's init or the library's.
    records = [
        measure("Flax's own model.init", model.init, shardings, key, tokens),
        measure("init_tree, boxed abstract params", lambda k: wi.init_tree(k, boxed, rules), shardings, key),
        measure(
            "init_tree, unboxed, stacked=",
            lambda k: wi.init_tree(k, unboxed, rules, stacked=stacked),
            shardings,
            key,
        ),
        measure(
            "init_tree(out_shardings=) told",
            lambda k: wi.init_tree(k, unboxed, rules, out_shardings=shardings, stacked=stacked),
            shardings,
            key,
        ),
        measure(
            "init_tree on ShapeDtypeStructs with shardings",
            lambda k: wi.init_tree(k, carried, rules, stacked=stacked),
            shardings,
            key,
        ),
        measure("jax.nn normal(0.02) per leaf", per_leaf, shardings, key),
    ]
    flax = records[0]["temp_mib"]
    lines = [
        f"# {count / 1e9:.2f} B parameters ({args.layers} layers) under jit(out_shardings=) on 64 CPU devices",
        "",
        f"jax {jax.__version__}; (8, 8) ('data', 'model') mesh; per device; compiled, never run",
        "",
        "| way | temp (MiB) | output (MiB) | temp ÷ output | temp ÷ Flax's | collectives |",
        "|---|---|---|---|---|---|",
    ]
    for r in records:
        ratio = r["temp_mib"] / r["output_mib"]
        lines.append(
            f"| {r['way']} | {r['temp_mib']:,.0f} | {r['output_mib']:,.0f} | {ratio:.3f} | "
            f"{r['temp_mib'] / flax:.2f} | {r['collectives']} |"
        )
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "scale.json").write_text(json.dumps({"layers": args.layers, "parameters": count, "records": records}))
    (out / "scale.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
