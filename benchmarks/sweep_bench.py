"""An init-scale sweep: 16 scales of a 12-layer model as one `jit(vmap)` program, against 16 concrete inits.

    python benchmarks/sweep_bench.py [--quick] [--out DIR]

Writes DIR/sweep.json and DIR/sweep.md (default benchmarks/results-local/). The model is
GPT-like (d 256, 4 attention projections and a 4·d MLP per layer, biases; 9.5 M parameters),
re-initialized by `init_tree` with `variance_scaling(s, 'fan_in', 'truncated_normal')`
kernels and N(0, (s/10)²) biases. Each way is timed in the same process:

- `jit(vmap)` over the 16 scales: one program, the scales as data;
- 16 concrete `init_tree` calls, one per scale as a Python float (eager, as a sweep loop is
  written without hyperparameters as data);
- jax.nn's `variance_scaling` / `normal` per leaf at `fold_in(key, i)`, in `jit(vmap)` too.

The first call of each is timed after `jax.clear_caches()`, compile included; then the median
of warm calls, the ways taking turns in each round. Compiles are counted by JAX's compile events.
"""

import argparse
import json
import pathlib
import platform
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

import jax_weightinit as wi

ROUNDS = 9
D, LAYERS, VALUES = 256, 12, 16


def model(d: int, layers: int) -> dict:
    def dense(n_in: int, n_out: int) -> dict:
        return {
            "kernel": jax.ShapeDtypeStruct((n_in, n_out), jnp.float32),
            "bias": jax.ShapeDtypeStruct((n_out,), jnp.float32),
        }

    block = {name: dense(d, d) for name in ("query", "key", "value", "out")}
    return {f"layer{i}": {**block, "up": dense(d, 4 * d), "down": dense(4 * d, d)} for i in range(layers)}


def rules(s) -> list:
    return [("kernel$", wi.variance_scaling(s, "fan_in", "truncated_normal")), ("bias$", wi.normal(0.1 * s))]


def jax_nn_tree(key, params, s):
    """The same laws by jax.nn, each leaf at `fold_in(key, i)`."""
    inits = jax.nn.initializers
    flat, treedef = jax.tree_util.tree_flatten_with_path(params)
    out = []
    for i, (path, leaf) in enumerate(flat):
        kernel = wi.path_string(path).endswith("kernel")
        init = inits.variance_scaling(s, "fan_in", "truncated_normal") if kernel else inits.normal(0.1 * s)
        out.append(init(jax.random.fold_in(key, i), leaf.shape, leaf.dtype))
    return jax.tree_util.tree_unflatten(treedef, out)


class Compiles:
    """Counts XLA compiles (JAX's `/jax/core/compile/backend_compile_duration` events) while entered."""

    def __init__(self) -> None:
        self.count = 0
        jax.monitoring.register_event_duration_secs_listener(self._heard)

    def _heard(self, event: str, *_args, **_kwargs) -> None:
        if event == "/jax/core/compile/backend_compile_duration":
            self.count += 1


def first_call(fn, compiles: Compiles) -> dict:
    """The first call's seconds after `jax.clear_caches()`, compiles included, and how many compiles it made."""
    jax.clear_caches()
    before = compiles.count
    start = time.perf_counter()
    jax.block_until_ready(fn())
    return {"first_s": time.perf_counter() - start, "compiles": compiles.count - before}


def warm_calls(cases: dict) -> None:
    """Each case's median warm time over ROUNDS rounds, the cases taking turns within each round."""
    times: dict = {name: [] for name in cases}
    for fn, _ in cases.values():
        jax.block_until_ready(fn())  # compiled again after the other cases' `clear_caches`
    for _ in range(ROUNDS):
        for name, (fn, _) in cases.items():
            start = time.perf_counter()
            jax.block_until_ready(fn())
            times[name].append(time.perf_counter() - start)
    for name, (_, record) in cases.items():
        record["warm_s"] = statistics.median(times[name])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="4 layers of d 128, 4 values")
    parser.add_argument("--out", default="benchmarks/results-local")
    args = parser.parse_args()
    d, layers, values = (128, 4, 4) if args.quick else (D, LAYERS, VALUES)
    params, key = model(d, layers), jax.random.key(0)
    scales = jnp.asarray(np.geomspace(0.25, 4.0, values), jnp.float32)
    compiles = Compiles()
    swept = jax.jit(jax.vmap(lambda s: wi.init_tree(key, params, rules(s))))
    by_jax_nn = jax.jit(jax.vmap(lambda s: jax_nn_tree(key, params, s)))
    ways = {
        "jax_weightinit jit(vmap) over the scales": lambda: swept(scales),
        f"jax_weightinit, {values} concrete calls": lambda: [
            wi.init_tree(key, params, rules(float(s))) for s in scales
        ],
        "jax.nn jit(vmap) over the scales": lambda: by_jax_nn(scales),
    }
    timed = {name: (fn, first_call(fn, compiles)) for name, fn in ways.items()}
    warm_calls(timed)
    cases = {name: record for name, (_, record) in timed.items()}
    base = cases["jax_weightinit jit(vmap) over the scales"]
    count = sum(leaf.size for leaf in jax.tree.leaves(params))
    lines = [
        f"# Init-scale sweep: {values} scales of a {layers}-layer model (d {d}, {count / 1e6:.1f} M parameters)",
        "",
        f"{platform.processor() or platform.machine()}, {jax.devices()[0].platform}, jax {jax.__version__}",
        "",
        "| way | compiles | first call (s) | warm (s) | warm ÷ jit(vmap) |",
        "|---|---|---|---|---|",
    ]
    for name, case in cases.items():
        ratio = case["warm_s"] / base["warm_s"]
        lines.append(f"| {name} | {case['compiles']} | {case['first_s']:.2f} | {case['warm_s']:.3f} | {ratio:.2f} |")
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "sweep.json").write_text(json.dumps({"values": values, "layers": layers, "d": d, "cases": cases}, indent=1))
    (out / "sweep.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
