"""Stacked layers: `vmap` over per-layer keys, one stacked draw and jax.nn; eager nnx stacks; scanned linen models;
`init_tree`.

    python benchmarks/stacked_bench.py [--quick] [--out DIR] [--only vmap,nnx,models,tree]

Writes DIR/stacked.json and DIR/stacked.md (default benchmarks/results-local/). Every ratio is
taken against an alternative timed in the same process, in alternating rounds; the first
call of each is timed after `jax.clear_caches()`, so that it includes its compile.
"""

import argparse
import json
import pathlib
import platform
import statistics
import subprocess
import sys
import time

import jax
import jax.numpy as jnp

import jax_weightinit as wi

ROUNDS = 5


def _interleaved(fns: dict, *args, first_rounds: int, warm_rounds: int) -> dict[str, tuple[float, float]]:
    """Each function's (first call's seconds, compile included, after `jax.clear_caches()`; warm seconds), medians
    over the rounds, the functions taking turns in each round: where calls are a few milliseconds long, a shared
    machine's noise would otherwise outweigh the difference."""
    first: dict[str, list[float]] = {name: [] for name in fns}
    warm: dict[str, list[float]] = {name: [] for name in fns}
    for times, rounds, clear in ((first, first_rounds, True), (warm, warm_rounds, False)):
        for _ in range(rounds):
            for name, fn in fns.items():
                if clear:
                    jax.clear_caches()
                start = time.perf_counter()
                jax.block_until_ready(fn(*args))
                times[name].append(time.perf_counter() - start)
    return {name: (statistics.median(first[name]), statistics.median(warm[name])) for name in fns}


def _time(fn, *args) -> tuple[float, float]:
    """(the first call's seconds, compile included; the median of ROUNDS warm calls)."""
    return _interleaved({"": fn}, *args, first_rounds=1, warm_rounds=ROUNDS)[""]


def _against(case: str, timed: dict[str, tuple[float, float]], base) -> list[dict]:
    """One record per implementation of `case`, its first and warm times also as ratios to `base(impl)`'s."""
    records = []
    for impl, (first, warm) in timed.items():
        base_first, base_warm = timed[base(impl)]
        records.append(
            {
                "case": case,
                "impl": impl,
                "first_s": first,
                "warm_s": warm,
                "first_vs_jax_nn": first / base_first,
                "warm_vs_jax_nn": warm / base_warm,
            }
        )
    return records


def vmap_cases(quick: bool) -> list[dict]:
    """`jit(vmap(init))(keys)` against jax.nn's and against one call on the stacked shape; an eager `vmap` against
    jax.nn's eager `vmap`."""
    sizes = [(8, (256, 256))] if quick else [(64, (1024, 1024)), (16, (4096, 4096))]
    laws = [("normal", wi.normal(0.02), jax.nn.initializers.normal(0.02))]
    if not quick:
        laws += [
            ("he_normal", wi.he_normal(), jax.nn.initializers.he_normal()),
            ("glorot_uniform", wi.glorot_uniform(), jax.nn.initializers.glorot_uniform()),
        ]
    records = []
    for layers, shape in sizes:
        keys = jax.random.split(jax.random.key(0), layers)
        for name, ours, theirs in laws:
            batch = (0,) if name != "normal" else ()
            stacked = wi.variance_scaling(**_args(ours), batch_axis=batch) if batch else ours
            timed = {
                "vmap": _time(jax.jit(jax.vmap(lambda k: ours(k, shape))), keys),
                "jax.nn vmap": _time(jax.jit(jax.vmap(lambda k: theirs(k, shape))), keys),
                "one stacked draw": _time(jax.jit(lambda k: stacked(k, (layers, *shape))), keys[0]),
                "eager vmap": _time(jax.vmap(lambda k: ours(k, shape)), keys),
                "jax.nn eager vmap": _time(jax.vmap(lambda k: theirs(k, shape)), keys),
            }
            # Each against jax.nn called the same way: under `jit`, or eagerly.
            records += _against(
                f"{name} {layers}×{shape}",
                timed,
                lambda impl: "jax.nn eager vmap" if impl.endswith("eager vmap") else "jax.nn vmap",
            )
    return records


def nnx_stack_cases(quick: bool) -> list[dict]:
    """A stack of nnx layers built eagerly by `nnx.vmap` over per-layer keys, as the nnx guides build one, with
    `kernel_init=` ours and jax.nn's, in alternating rounds."""
    from flax import nnx

    sizes = [(4, 64)] if quick else [(12, 256), (12, 1024)]
    records = []
    for layers, width in sizes:
        keys = jax.random.split(jax.random.key(0), layers)

        def build(kernel_init, width=width):
            def layer(key):
                return nnx.Linear(width, width, kernel_init=kernel_init, rngs=nnx.Rngs(key))

            return lambda keys: nnx.state(nnx.vmap(layer)(keys))

        timed = _interleaved(
            {
                "eager nnx.vmap": build(wi.he_normal()),
                "jax.nn eager nnx.vmap": build(jax.nn.initializers.he_normal()),
            },
            keys,
            first_rounds=1 if quick else 3,
            warm_rounds=ROUNDS if quick else 21,
        )
        records += _against(
            f"he_normal nnx.Linear {layers}×({width}, {width})", timed, lambda _: "jax.nn eager nnx.vmap"
        )
    return records


def _args(init) -> dict:
    return {"scale": init.scale, "mode": init.mode, "distribution": init.family}


MODEL = """
import sys, time
start = time.perf_counter()
import flax.linen as nn, jax, jax.numpy as jnp
import jax_weightinit as wi
layers, which = int(sys.argv[1]), sys.argv[2]
kernel = wi.lecun_normal() if which == "wi" else nn.initializers.lecun_normal()
class Block(nn.Module):
    @nn.compact
    def __call__(self, x, _):
        h = nn.Dense(1024, kernel_init=kernel)(x)
        return x + nn.Dense(256, kernel_init=kernel)(nn.relu(h)), None
class Model(nn.Module):
    @nn.compact
    def __call__(self, x):
        blocks = nn.scan(Block, variable_axes={"params": 0}, split_rngs={"params": True}, length=layers)
        return blocks()(x, None)[0]
x = jnp.zeros((1, 256))
init = jax.jit(Model().init)
jax.block_until_ready(init(jax.random.key(0), x))
cold = time.perf_counter() - start
warm = []
for i in range(5):
    t = time.perf_counter(); jax.block_until_ready(init(jax.random.key(i), x)); warm.append(time.perf_counter() - t)
warm.sort()
print(cold, warm[2])
"""


def scanned_models(quick: bool) -> list[dict]:
    """A scanned linen model's `jit(model.init)` with wi initializers and with Flax's, cold in fresh processes."""
    records = []
    for layers in (2,) if quick else (12, 32):
        runs: dict[str, list[tuple[float, float]]] = {"wi": [], "flax": []}
        for _ in range(1 if quick else 3):
            for which in runs:  # alternating fresh processes
                out = subprocess.run(
                    [sys.executable, "-c", MODEL, str(layers), which], capture_output=True, text=True, check=True
                )
                cold, warm = map(float, out.stdout.split())
                runs[which].append((cold, warm))
        for which, values in runs.items():
            records.append(
                {
                    "case": f"linen nn.scan, {layers} layers",
                    "impl": "jax_weightinit" if which == "wi" else "flax defaults",
                    "cold_s": statistics.median(v[0] for v in values),
                    "warm_s": statistics.median(v[1] for v in values),
                }
            )
    return records


def tree_case(quick: bool) -> list[dict]:
    """`init_tree` on a scanned model's stacked params against the model's own `jit(model.init)`."""
    import flax.linen as nn

    layers = 2 if quick else 12

    class Block(nn.Module):
        @nn.compact
        def __call__(self, x, _):
            return x + nn.Dense(256)(nn.relu(nn.Dense(1024)(x))), None

    class Model(nn.Module):
        @nn.compact
        def __call__(self, x):
            return nn.scan(Block, variable_axes={"params": 0}, split_rngs={"params": True}, length=layers)()(x, None)[0]

    x = jnp.zeros((1, 256))
    abstract = jax.eval_shape(Model().init, jax.random.key(0), x)
    rules = [("kernel$", wi.lecun_normal()), ("bias$", wi.zeros)]
    stacked = [("ScanBlock_0/", 1)]
    own = _time(jax.jit(Model().init), jax.random.key(0), x)
    ours = _time(jax.jit(lambda k: wi.init_tree(k, abstract, rules, stacked=stacked)), jax.random.key(0))
    return [
        {"case": f"init_tree on {layers} stacked layers", "impl": impl, "first_s": f, "warm_s": w}
        for impl, (f, w) in (("model.init", own), ("init_tree", ours))
    ]


def markdown(data: dict) -> str:
    lines = ["# Stacked layers", "", f"Machine: {data['machine']}", ""]
    for title, group in (
        ("vmap over per-layer keys", "vmap"),
        ("nnx stacks built eagerly: nnx.vmap over per-layer keys", "nnx"),
    ):
        lines += [
            f"## {title}",
            "",
            "| case | impl | first call s | ÷ jax.nn | warm ms | ÷ jax.nn |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {r['case']} | {r['impl']} | {r['first_s']:.2f} | {r['first_vs_jax_nn']:.2f} | "
            f"{1e3 * r['warm_s']:.1f} | {r['warm_vs_jax_nn']:.2f} |"
            for r in data.get(group, [])
        ]
        lines.append("")
    lines += ["## Scanned linen models: jit(model.init), fresh processes", ""]
    lines += ["| case | impl | cold s (import to first init) | warm ms |", "|---|---|---|---|"]
    for r in data.get("models", []):
        lines.append(f"| {r['case']} | {r['impl']} | {r['cold_s']:.2f} | {1e3 * r['warm_s']:.1f} |")
    lines += ["", "## init_tree on stacked params", "", "| case | impl | first call s | warm ms |", "|---|---|---|---|"]
    for r in data.get("tree", []):
        lines.append(f"| {r['case']} | {r['impl']} | {r['first_s']:.2f} | {1e3 * r['warm_s']:.1f} |")
    return "\n".join(lines) + "\n"


GROUPS = {"vmap": vmap_cases, "nnx": nnx_stack_cases, "models": scanned_models, "tree": tree_case}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small sizes, one round: a smoke run")
    parser.add_argument("--out", default=str(pathlib.Path(__file__).parent / "results-local"))
    parser.add_argument(
        "--only",
        default="",
        help=f"comma-separated sections of {','.join(GROUPS)}; the others kept from --out, if there",
    )
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    only = args.only.split(",") if args.only else list(GROUPS)
    kept = out / "stacked.json"
    data = json.loads(kept.read_text()) if args.only and kept.exists() else {}
    data["machine"] = f"{platform.processor() or platform.machine()}, jax {jax.__version__}, {jax.default_backend()}"
    for group in only:
        data[group] = GROUPS[group](args.quick)
    out.mkdir(parents=True, exist_ok=True)
    (out / "stacked.json").write_text(json.dumps(data, indent=1))
    (out / "stacked.md").write_text(markdown(data))
    print(markdown(data))


if __name__ == "__main__":
    main()
