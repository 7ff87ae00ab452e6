"""Benchmarks of large batched inits, side by side with the alternatives and the hardware limit.

    python benchmarks/run.py [--quick] [--out DIR]
    python benchmarks/run.py --device      # on a lent GPU or TPU: benchmarks/device_bench.py

Every case is timed for each implementation in the same run: `jax_weightinit`, `jax.nn.initializers`
(the same law), `raw_bits` (`jax.random.bits` for the same key and count: the generator's limit),
`fill` (a constant array of the same size: memory bandwidth), and, when installed, `torch`
(`torch.nn.init`) and `numpy` (the tutorial's way). Ratios in `run.md` compare like with like.
"""

import argparse
import json
import pathlib
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
from common import (
    INITS,
    beside_jax_nn,
    bfloat16_cost,
    machine,
    model_tables,
    record,
    table,
    timeit,
    timeit_interleaved,
    xla_env,
)

import jax_weightinit as wi

try:
    import torch
except ImportError:  # torch is optional
    torch = None


# Initializers that take `batch_axis`: (ours, jax.nn's) factories.
STACKABLE = {
    "glorot_uniform": (wi.glorot_uniform, jax.nn.initializers.glorot_uniform),
    "he_normal": (wi.he_normal, jax.nn.initializers.he_normal),
    "lecun_normal": (wi.lecun_normal, jax.nn.initializers.lecun_normal),
}


# Key implementations JAX users pick; each case is timed with each, against its own raw bits.
KEY_IMPLS = ("threefry2x32", "rbg", "unsafe_rbg")


# --quick: one initializer with jax.nn's twin and `batch_axis`, one without either (each code path, a third of the
# compiles).
QUICK_INITS = ("glorot_uniform", "he (tutorial, untruncated)")


def bench_elementwise(records, shapes, dtypes, repeats, modes, key_impls=KEY_IMPLS, names=tuple(INITS)):
    for (name, (ours, theirs, torch_init, numpy_init)), key_impl in (
        ((name, INITS[name]), impl) for impl in key_impls for name in names
    ):
        key = jax.random.key(0, impl=key_impl)
        suffix = "" if key_impl == "threefry2x32" else f" [{key_impl}]"
        for label, shape, vmapped in shapes:
            if key_impl != "threefry2x32" and shapes.index((label, shape, vmapped)) > 0 and len(key_impls) < 3:
                continue  # --quick: other key implementations on the first shape only
            mine, jaxs = ours, theirs
            if vmapped == "batch_axis":  # one call on the stacked shape, fans from the other axes
                if name not in STACKABLE:
                    continue
                mine, jaxs = (factory(batch_axis=0) for factory in STACKABLE[name])
            for mode in modes:

                def make(init, dtype):
                    if vmapped is True:  # a batch of layers: vmap over keys
                        f = lambda k: jax.vmap(lambda kk: init(kk, shape[1:], dtype))(jax.random.split(k, shape[0]))
                    else:
                        f = lambda k: init(k, shape, dtype)
                    return jax.jit(f) if mode == "jit" else f

                # Every dtype in the same rounds, so that bfloat16's cost against float32's is measured pairwise.
                fns = {}
                for dtype in dtypes:
                    fns["jax_weightinit", dtype] = make(mine, dtype)
                    if jaxs is not None:
                        fns["jax.nn", dtype] = make(jaxs, dtype)
                    fns["fill", dtype] = jax.jit(lambda k, dtype=dtype: jnp.full(shape, 0.5, dtype))
                # 32 random bits per element: what a full-resolution sampler of any float dtype consumes.
                fns["raw_bits", None] = (jax.jit if mode == "jit" else (lambda f: f))(
                    lambda k: jax.random.bits(k, shape, jnp.uint32)
                )
                results = timeit_interleaved({cell: (lambda fn=fn: fn(key)) for cell, fn in fns.items()}, repeats)
                case = f"{name} {label}{suffix}"
                for dtype in dtypes:
                    for (impl, of), (times, first) in results.items():
                        if of is None or of == dtype:  # the raw bits, timed once, stand beside each dtype
                            dtype_name = jnp.dtype(dtype).name
                            record(records, case, impl, shape, dtype_name, times, first, mode=mode, key_impl=key_impl)
                if mode != "jit" or jnp.float32 not in dtypes or key_impl != "threefry2x32":
                    continue
                if torch is not None and torch_init is not None:
                    tensor = torch.empty(shape)
                    times, first = timeit(lambda: torch_init(tensor), repeats)
                    record(records, f"{name} {label}", "torch", shape, "float32", times, first, mode="eager")
                if numpy_init is not None:
                    rng = np.random.default_rng(0)
                    times, first = timeit(lambda: numpy_init(rng, shape), repeats)
                    record(records, f"{name} {label}", "numpy", shape, "float32", times, first, mode="eager")


def bench_orthogonal(records, sizes, batch, repeats):
    key = jax.random.key(0)
    cases = [(f"orthogonal {n}x{n}", (n, n), None) for n in sizes] + [
        (f"orthogonal batch {batch[0]}x{batch[1]}²", (batch[1], batch[1]), batch[0])
    ]
    for name, shape, count in cases:
        fns = {}
        for impl, init in (("jax_weightinit", wi.orthogonal()), ("jax.nn", jax.nn.initializers.orthogonal())):
            if count is None:
                fn = jax.jit(lambda k, init=init: init(k, shape))
            else:
                fn = jax.jit(lambda k, init=init: jax.vmap(lambda kk: init(kk, shape))(jax.random.split(k, count)))
            fns[impl] = lambda fn=fn: fn(key)
        full = shape if count is None else (count, *shape)
        for impl, (times, first) in timeit_interleaved(fns, repeats).items():
            record(records, name, impl, full, "float32", times, first, mode="jit")
        if torch is not None and count is None:
            tensor = torch.empty(shape)
            times, first = timeit(lambda: torch.nn.init.orthogonal_(tensor), repeats)
            record(records, name, "torch", shape, "float32", times, first, mode="eager")


def run_model_case(case) -> list[dict]:
    """Runs one `model_bench.py` case in a fresh process on 8 CPU devices; returns its records."""
    name, *args = case
    flags = ["--xla_force_host_platform_device_count=8"]
    if args and args[-1] == "sequential":
        args = args[:-1]
        flags.append("--xla_cpu_enable_concurrency_optimized_scheduler=false")
    env = xla_env(*flags)
    script = pathlib.Path(__file__).with_name("model_bench.py")
    done = subprocess.run(
        [sys.executable, str(script), name, *map(str, args)], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"model case {case} failed:\n{done.stderr[-3000:]}")
    records = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    for r in records:
        print(
            f"  {name} {args} {r['impl']:28s} {r.get('mode', '')} "
            f"cold/compile {r.get('cold_s', r.get('compile_s')):.2f} s"
        )
    return records


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    parser.add_argument("--out", default="benchmarks/results-local", help="output folder")
    parser.add_argument(
        "--only", default="", help="comma-separated groups: elementwise,orthogonal,model,sharded,cold (not in --quick)"
    )
    parser.add_argument("--shapes", default="", help="only elementwise shapes whose label contains this text")
    parser.add_argument("--modes", default="", help="comma-separated elementwise modes: jit,eager (default: both)")
    parser.add_argument("--device", action="store_true", help="the accelerator run (device_bench.py), under 8 minutes")
    args = parser.parse_args(argv)
    if args.device:
        import device_bench

        return device_bench.main()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    groups = set(args.only.split(",")) if args.only else {"elementwise", "orthogonal", "model", "sharded", "cold"}
    if args.quick and not args.only:
        groups.discard("cold")  # small models cold, three rounds of 46 fresh processes: about 4 minutes
    records = []
    if args.quick:
        shapes = [
            ("512x512", (512, 512), False),
            ("batch 4x128x128", (4, 128, 128), True),
            ("stacked 4x128x128 batch_axis=0", (4, 128, 128), "batch_axis"),
        ]
        dtypes, repeats, modes = [jnp.float32, jnp.bfloat16], 2, ["jit"]
        key_impls, names = ("threefry2x32", "rbg"), QUICK_INITS
        ortho, ortho_batch = [128, 256], (4, 64)
        model_cases = [("tree", 2), ("llama7b", 2, 256, 688, 1000), ("big", 2048, 4096)]
    else:
        shapes = [
            ("4096x4096", (4096, 4096), False),
            ("batch 64x1024x1024", (64, 1024, 1024), True),
            ("stacked 64x1024x1024 batch_axis=0", (64, 1024, 1024), "batch_axis"),
        ]
        dtypes, repeats, modes = [jnp.float32, jnp.bfloat16], 9, ["jit", "eager"]
        key_impls, names = KEY_IMPLS, tuple(INITS)
        ortho, ortho_batch = [512, 1024, 2048, 4096], (64, 256)
        model_cases = [
            ("tree", 8),
            ("tree", 32),
            ("tree", 128),
            ("tree", 32, 0, "sequential"),
            ("llama7b", 32, 4096, 11008, 32000),
            ("big", 32768, 262144),
        ]
    if "elementwise" in groups:
        print("elementwise initializers", flush=True)
        modes = args.modes.split(",") if args.modes else modes
        bench_elementwise(records, [s for s in shapes if args.shapes in s[0]], dtypes, repeats, modes, key_impls, names)
    if "orthogonal" in groups:
        print("orthogonal", flush=True)
        bench_orthogonal(records, ortho, ortho_batch, repeats)
    model = []
    if "model" in groups:
        print("whole-model init (each case in a fresh process, 8 CPU devices)", flush=True)
        for case in model_cases:
            model.extend(run_model_case(case))
    if "sharded" in groups:
        print("sharded init on 8 CPU devices", flush=True)
        env = xla_env("--xla_force_host_platform_device_count=8")
        script = pathlib.Path(__file__).with_name("sharded_bench.py")
        size = 512 if args.quick else 8192
        done = subprocess.run([sys.executable, str(script), str(size)], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return 1
        for line in done.stdout.splitlines():
            if line.startswith("{"):
                records.append(json.loads(line))
                r = records[-1]
                print(
                    f"  {r['name']:32s} {r['impl']:16s} {str(r['shape']):22s} per-device {r['per_device_bytes']} B",
                    flush=True,
                )
    cold = []
    if "cold" in groups:
        import cold_bench

        print("small models started cold (each figure a fresh process)", flush=True)
        cold = cold_bench.measure(3, ["nnx", "equinox"], [2, 6, 12], list(cold_bench.IMPLS), ["eager", "jit"])
    info = machine()
    (out / "run.json").write_text(
        json.dumps({"machine": info, "records": records, "model": model, "cold": cold}, indent=1)
    )
    header = "\n".join(f"- {k}: {v}" for k, v in info.items())
    cold_table = f"## Small models started cold\n\n{cold_bench.table(cold)}\n" if cold else ""
    keyed = (
        f"## Ours beside jax.nn\n\n{beside_jax_nn(records)}\n\n"
        f"## bfloat16's cost against float32's, round by round\n\n{bfloat16_cost(records)}\n\n"
        if any("key_impl" in r for r in records)
        else ""
    )
    (out / "run.md").write_text(
        f"# Benchmark results\n\n{header}\n\n{keyed}## Every implementation\n\n{table(records)}\n\n"
        f"{model_tables(model)}\n\n{cold_table}"
    )
    print(f"wrote {out / 'run.json'} and {out / 'run.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
