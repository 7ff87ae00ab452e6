"""A small GPT-like model initialized cold, as most users start: one fresh process per figure.

    python benchmarks/cold_bench.py FRAMEWORK LAYERS IMPL MODE    # one figure, one JSON line
    python benchmarks/cold_bench.py --rounds 3 --layers 2,6,12     # the table, rounds interleaved
    python benchmarks/cold_bench.py --rounds 3 --stds              # 24 layers, per-layer stds vs one law

FRAMEWORK is `nnx` or `equinox`; the model is d=256, 4 heads, an MLP of 4·d, LayerNorms, token
and position embeddings and a head (6 layers: 101 parameters in nnx). IMPL is

- `own`: the framework's own init, `GPT(layers, nnx.Rngs(0))` / `GPT(layers, key)`;
- `jax_weightinit`: the abstract model (`nnx.eval_shape` / `eqx.filter_eval_shape`), then
  `wi.flax.reinit` / `wi.equinox.reinit` with `presets.gpt2_rules(layers, ...)`;
- `jax.nn per leaf`: the same abstract model, each parameter drawn by the matching
  `jax.nn.initializers` call at `fold_in(key, i)` (the usual hand-written init);
- `abstract only`: `nnx.eval_shape` / `eqx.filter_eval_shape` alone, the floor of both of the above;

and MODE is `eager` or `jit` (`nnx.jit` / `eqx.filter_jit` around the whole init). The figure
is the wall time from after the imports to the last parameter ready: every trace and compile
counted, the imports not (they are the same for every impl).
"""

import argparse
import json
import re
import statistics
import subprocess
import sys
import time

import jax
import jax.numpy as jnp

import jax_weightinit as wi

D, HEADS, VOCAB, CONTEXT = 256, 4, 1024, 128
IMPLS = ("own", "jax_weightinit", "jax.nn per leaf", "abstract only")


def nnx_case(layers: int, impl: str, mode: str):
    from flax import nnx

    class Block(nnx.Module):
        def __init__(self, rngs):
            self.ln1 = nnx.LayerNorm(D, rngs=rngs)
            self.attn = nnx.MultiHeadAttention(HEADS, D, decode=False, rngs=rngs)
            self.ln2 = nnx.LayerNorm(D, rngs=rngs)
            self.fc = nnx.Linear(D, 4 * D, rngs=rngs)
            self.proj = nnx.Linear(4 * D, D, rngs=rngs)

    class GPT(nnx.Module):
        def __init__(self, rngs):
            self.wte = nnx.Embed(VOCAB, D, rngs=rngs)
            self.wpe = nnx.Embed(CONTEXT, D, rngs=rngs)
            self.blocks = nnx.List([Block(rngs) for _ in range(layers)])
            self.ln_f = nnx.LayerNorm(D, rngs=rngs)
            self.head = nnx.Linear(D, VOCAB, use_bias=False, rngs=rngs)

    rules = wi.presets.gpt2_rules(layers, residual=r"(attn/out|proj)/kernel$")

    def make(key):
        if impl == "own":
            return GPT(nnx.Rngs(key))
        model = nnx.eval_shape(lambda: GPT(nnx.Rngs(0)))
        if impl == "abstract only":
            return model
        if impl == "jax_weightinit":
            return wi.flax.reinit(model, key, rules)
        state = nnx.state(model, nnx.Param)
        nnx.update(model, per_leaf(key, state, rules))
        return model

    start = time.perf_counter()
    key = jax.random.key(0)
    model = make(key) if mode == "eager" else nnx.jit(make)(key)
    jax.block_until_ready(nnx.state(model))
    return time.perf_counter() - start, len(jax.tree.leaves(nnx.state(model, nnx.Param)))


def equinox_case(layers: int, impl: str, mode: str):
    import equinox as eqx

    class Block(eqx.Module):
        ln1: eqx.nn.LayerNorm
        attn: eqx.nn.MultiheadAttention
        ln2: eqx.nn.LayerNorm
        fc: eqx.nn.Linear
        proj: eqx.nn.Linear

        def __init__(self, key):
            k1, k2, k3 = jax.random.split(key, 3)
            self.ln1, self.ln2 = eqx.nn.LayerNorm(D), eqx.nn.LayerNorm(D)
            self.attn = eqx.nn.MultiheadAttention(
                HEADS, D, use_query_bias=True, use_key_bias=True, use_value_bias=True, use_output_bias=True, key=k1
            )
            self.fc = eqx.nn.Linear(D, 4 * D, key=k2)
            self.proj = eqx.nn.Linear(4 * D, D, key=k3)

    class GPT(eqx.Module):
        wte: eqx.nn.Embedding
        wpe: eqx.nn.Embedding
        blocks: list
        ln_f: eqx.nn.LayerNorm
        head: eqx.nn.Linear

        def __init__(self, key):
            keys = jax.random.split(key, layers + 3)
            self.wte = eqx.nn.Embedding(VOCAB, D, key=keys[0])
            self.wpe = eqx.nn.Embedding(CONTEXT, D, key=keys[1])
            self.blocks = [Block(k) for k in keys[3:]]
            self.ln_f = eqx.nn.LayerNorm(D)
            self.head = eqx.nn.Linear(D, VOCAB, use_bias=False, key=keys[2])

    rules = wi.presets.gpt2_rules(
        layers, residual=r"(output_proj|proj)/weight$", weights=r"weight$", norms=r"ln\w*/weight$"
    )

    def make(key):
        if impl == "own":
            return GPT(key)
        model = eqx.filter_eval_shape(GPT, key)
        if impl == "abstract only":
            return model
        if impl == "jax_weightinit":
            return wi.equinox.reinit(model, key, rules)
        params, static = eqx.partition(model, lambda x: isinstance(x, jax.ShapeDtypeStruct))
        return eqx.combine(per_leaf(key, params, rules), static)

    start = time.perf_counter()
    key = jax.random.key(0)
    model = make(key) if mode == "eager" else eqx.filter_jit(make)(key)
    leaves = jax.tree.leaves(eqx.filter(model, lambda x: isinstance(x, jax.Array | jax.ShapeDtypeStruct)))
    jax.block_until_ready(leaves)
    return time.perf_counter() - start, len(leaves)


def stds_case(layers: int, impl: str, mode: str):
    """`init_tree` on `layers` same-shape (256, 256) kernels: `distinct` gives layer i N(0, (0.02 / sqrt(i + 1))²)
    (depth-scaled stds, as GPT-2's residual scaling, DeepNet or Fixup recipes give), `shared` one N(0, 0.02²)."""
    target = {"layers": [{"kernel": jax.ShapeDtypeStruct((D, D), jnp.float32)} for _ in range(layers)]}
    stds = [0.02 / (i + 1) ** 0.5 if impl == "distinct" else 0.02 for i in range(layers)]
    rules = [(rf"layers/{i}/kernel$", wi.normal(std)) for i, std in enumerate(stds)]
    start = time.perf_counter()
    key = jax.random.key(0)
    run = (
        (lambda k: wi.init_tree(k, target, rules))
        if mode == "eager"
        else jax.jit(lambda k: wi.init_tree(k, target, rules))
    )
    jax.block_until_ready(run(key))
    return time.perf_counter() - start, layers


def per_leaf(key, params, rules):
    """Each leaf drawn by the jax.nn initializer its GPT-2 rule stands for, at `fold_in(key, i)`."""
    inits = jax.nn.initializers
    by_rule = []
    for pattern, init in rules:
        law = init.distribution((1, 1)) if hasattr(init, "distribution") else None
        by_rule.append((pattern, inits.normal(law.std) if law else inits.ones if init is wi.ones else inits.zeros))
    flat, treedef = jax.tree_util.tree_flatten_with_path(params)
    out = []
    for i, (path, leaf) in enumerate(flat):
        name = wi.path_string(path)
        init = next(init for pattern, init in by_rule if _matches(pattern, name, leaf))
        out.append(init(jax.random.fold_in(key, i), leaf.shape, leaf.dtype))
    return jax.tree_util.tree_unflatten(treedef, out)


def _matches(pattern, name: str, leaf) -> bool:
    """As a rule's pattern matches: a regex searched in the path, or a predicate (`wi.optional`'s) of (path, leaf)."""
    return pattern(name, leaf) if callable(pattern) else re.search(pattern, name) is not None


def one(framework: str, layers: int, impl: str, mode: str) -> dict:
    seconds, params = {"nnx": nnx_case, "equinox": equinox_case, "stds": stds_case}[framework](layers, impl, mode)
    return {"framework": framework, "layers": layers, "params": params, "impl": impl, "mode": mode, "cold_s": seconds}


def table(records: list[dict]) -> str:
    """Medians per cell, and each impl's ratio to the framework's own init in the same mode."""
    cells: dict[tuple, list[float]] = {}
    for r in records:
        cells.setdefault((r["framework"], r["layers"], r["params"], r["mode"], r["impl"]), []).append(r["cold_s"])
    median = {k: statistics.median(v) for k, v in cells.items()}
    lines = [
        "| framework | layers | params | mode | own init s | jax_weightinit s | jax.nn per leaf s | abstract only s"
        " | jax_weightinit ÷ own |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for framework, layers, params, mode in sorted({k[:4] for k in median}):
        got = {impl: median.get((framework, layers, params, mode, impl)) for impl in IMPLS}
        ratio = f"{got['jax_weightinit'] / got['own']:.2f}" if got["own"] and got["jax_weightinit"] else ""
        figures = " | ".join("" if got[i] is None else f"{got[i]:.2f}" for i in IMPLS)
        lines.append(f"| {framework} | {layers} | {params} | {mode} | {figures} | {ratio} |")
    return "\n".join(lines)


def stds_table(records: list[dict]) -> str:
    lines = ["| mode | per-layer stds s | one shared law s | ratio |", "|---|---|---|---|"]
    for mode in sorted({r["mode"] for r in records}):
        got = {
            impl: statistics.median(r["cold_s"] for r in records if r["mode"] == mode and r["impl"] == impl)
            for impl in ("distinct", "shared")
        }
        lines.append(
            f"| {mode} | {got['distinct']:.2f} | {got['shared']:.2f} | {got['distinct'] / got['shared']:.2f} |"
        )
    return "\n".join(lines)


def measure(rounds: int, frameworks: list, layer_counts: list, impls: list, modes: list) -> list[dict]:
    """Every cell once per round, each in a fresh process; rounds interleaved, so every cell sees the same load."""
    records = []
    for round_ in range(rounds):
        for framework in frameworks:
            for layers in layer_counts:
                for mode in modes:
                    for impl in impls:
                        if impl == "abstract only" and mode != "eager":
                            continue  # the abstract model is the same under either
                        done = subprocess.run(
                            [sys.executable, __file__, framework, str(layers), impl, mode],
                            capture_output=True,
                            text=True,
                            check=False,
                        )
                        if done.returncode != 0:
                            raise RuntimeError(f"cold case {framework} {layers} {impl} {mode}:\n{done.stderr[-3000:]}")
                        records.append(json.loads(done.stdout.splitlines()[-1]))
                        r = records[-1]
                        print(
                            f"  round {round_} {framework} {layers} {mode:5s} {impl:16s} {r['cold_s']:.2f} s",
                            flush=True,
                        )
    return records


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", nargs="*", help="FRAMEWORK LAYERS IMPL MODE: one figure in this process")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--layers", default="2,6,12")
    parser.add_argument("--frameworks", default="nnx,equinox")
    parser.add_argument("--impls", default=",".join(IMPLS))
    parser.add_argument("--modes", default="eager,jit")
    parser.add_argument(
        "--stds", action="store_true", help="24 same-shape layers, per-layer stds against one shared law"
    )
    args = parser.parse_args(argv)
    if args.case:
        framework, layers, impl, mode = args.case
        print(json.dumps(one(framework, int(layers), impl, mode)), flush=True)
        return 0
    frameworks, layer_counts, impls = args.frameworks.split(","), args.layers.split(","), args.impls.split(",")
    if args.stds:
        frameworks, layer_counts, impls = ["stds"], ["24"], ["distinct", "shared"]
    records = measure(args.rounds, frameworks, [int(n) for n in layer_counts], impls, args.modes.split(","))
    print(stds_table(records) if args.stds else table(records))
    print(json.dumps(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
