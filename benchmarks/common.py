"""What the benchmarks share: the initializers compared, timing, records, tables and the environment of the
processes they start. Imported by `run.py`, `device_bench.py` and the other benchmarks; imports none of them."""

import math
import os
import platform
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

import jax_weightinit as wi

try:
    import torch
except ImportError:  # torch is optional
    torch = None

# name: (ours, jax.nn's, torch.nn.init's on a (in, out) tensor, numpy's (rng, shape) -> array)
INITS = {
    "glorot_uniform": (
        wi.glorot_uniform(),
        jax.nn.initializers.glorot_uniform(),
        lambda t: torch.nn.init.xavier_uniform_(t),
        lambda rng, s: (rng.random(s, np.float32) * 2 - 1) * np.float32(math.sqrt(6 / (s[-2] + s[-1]))),
    ),
    "he_normal": (
        wi.he_normal(),
        jax.nn.initializers.he_normal(),
        lambda t: torch.nn.init.trunc_normal_(
            t,
            0,
            math.sqrt(2 / t.shape[-2]) / 0.8796,
            -2 * math.sqrt(2 / t.shape[-2]) / 0.8796,
            2 * math.sqrt(2 / t.shape[-2]) / 0.8796,
        ),
        None,
    ),
    "lecun_normal": (wi.lecun_normal(), jax.nn.initializers.lecun_normal(), None, None),
    "normal": (
        wi.normal(0.02),
        jax.nn.initializers.normal(0.02),
        lambda t: torch.nn.init.normal_(t, 0, 0.02),
        lambda rng, s: rng.standard_normal(s, np.float32) * np.float32(0.02),
    ),
    "uniform": (
        wi.uniform(0.02),
        jax.nn.initializers.uniform(0.02),
        lambda t: torch.nn.init.uniform_(t, 0, 0.02),
        lambda rng, s: rng.random(s, np.float32) * np.float32(0.02),
    ),
    "he (tutorial, untruncated)": (
        wi.he(),
        None,
        lambda t: torch.nn.init.kaiming_normal_(t.transpose(-1, -2)).transpose(-1, -2),
        lambda rng, s: rng.standard_normal(s, np.float32) * np.float32(math.sqrt(2 / s[-2])),
    ),
}


def timeit(fn, repeats: int) -> tuple[list[float], float]:
    """(timings in s after a warm-up call, warm-up time: compile plus first run)."""
    start = time.perf_counter()
    jax.block_until_ready(fn())
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return times, first


def timeit_interleaved(fns: dict, repeats: int) -> dict:
    """Times several implementations in alternating rounds, so that machine drift hits all of them alike."""
    first = {}
    for impl, fn in fns.items():
        start = time.perf_counter()
        jax.block_until_ready(fn())
        first[impl] = time.perf_counter() - start
    times = {impl: [] for impl in fns}
    for _ in range(repeats):
        for impl, fn in fns.items():
            start = time.perf_counter()
            jax.block_until_ready(fn())
            times[impl].append(time.perf_counter() - start)
    return {impl: (times[impl], first[impl]) for impl in fns}


def record(records, name, impl, shape, dtype, times, first, **extra):
    n = math.prod(shape)
    itemsize = jnp.dtype(dtype).itemsize if dtype != "n/a" else 4
    entry = {
        "name": name,
        "impl": impl,
        "shape": list(shape),
        "dtype": str(dtype),
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "first_call_s": first,
        "times_s": list(times),
        "elements": n,
        "elements_per_s": n / statistics.median(times),
        "gb_per_s": n * itemsize / statistics.median(times) / 1e9,
        **extra,
    }
    records.append(entry)
    print(
        f"  {name:32s} {impl:16s} {str(shape):22s} {str(dtype):9s} median {entry['median_s'] * 1e3:9.2f} ms", flush=True
    )


def table(records) -> str:
    by_case = {}
    for r in records:
        by_case.setdefault((r["name"], r["dtype"], r["mode"], tuple(r["shape"])), {})[r["impl"]] = r
    for r in records:  # torch and numpy are timed once per case, against float32 jit
        if r["impl"] in ("torch", "numpy"):
            by_case.get((r["name"], "float32", "jit", tuple(r["shape"])), {})[r["impl"]] = r
    lines = [
        "| case | dtype | mode | impl | median ms | first call ms | Melem/s | GB/s | ÷ jax.nn | ÷ raw bits | ÷ torch "
        "| ÷ fill |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (name, dtype, mode, _), impls in by_case.items():
        if mode == "eager" and all(i in ("torch", "numpy") for i in impls):
            continue
        for impl, r in impls.items():

            def ratio(other):
                return f"{r['median_s'] / impls[other]['median_s']:.2f}" if other in impls and other != impl else ""

            lines.append(
                f"| {name} | {dtype} | {mode} | {impl} | {r['median_s'] * 1e3:.1f} | {r['first_call_s'] * 1e3:.0f} | "
                f"{r['elements_per_s'] / 1e6:.0f} | "
                f"{r['gb_per_s']:.2f} | {ratio('jax.nn')} | {ratio('raw_bits')} | {ratio('torch')} | {ratio('fill')} |"
            )
    return "\n".join(lines)


def _by_key(records) -> dict:
    """The elementwise records as {(case, key implementation, dtype, mode): {impl: record}}."""
    cells: dict = {}
    for r in records:
        if "key_impl" in r:
            case = r["name"].removesuffix(f" [{r['key_impl']}]")
            cells.setdefault((case, r["key_impl"], r["dtype"], r["mode"]), {})[r["impl"]] = r
    return cells


def paired(a: dict, b: dict) -> float:
    """a's time ÷ b's: the median of the ratios round by round when both were timed in the same rounds (drift
    between rounds cancels), else the ratio of the medians."""
    ta, tb = a.get("times_s"), b.get("times_s")
    if ta and tb and len(ta) == len(tb):
        return statistics.median(x / y for x, y in zip(ta, tb, strict=True))
    return a["median_s"] / b["median_s"]


def beside_jax_nn(records) -> str:
    """Ours beside jax.nn's, for each case, key implementation, dtype and mode that has both: each median, and
    their ratio and each ÷ the same key's raw bits, round by round (`paired`)."""
    lines = [
        "| case | key | dtype | mode | ours ms | jax.nn ms | ours ÷ jax.nn | ours ÷ raw bits | jax.nn ÷ raw bits |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (case, key, dtype, mode), impls in _by_key(records).items():
        if "jax.nn" not in impls:
            continue
        ours, theirs, bits = (impls[i] for i in ("jax_weightinit", "jax.nn", "raw_bits"))
        lines.append(
            f"| {case} | {key} | {dtype} | {mode} | {ours['median_s'] * 1e3:.1f} | {theirs['median_s'] * 1e3:.1f} | "
            f"{paired(ours, theirs):.2f} | {paired(ours, bits):.2f} | {paired(theirs, bits):.2f} |"
        )
    return "\n".join(lines)


def bfloat16_cost(records) -> str:
    """bfloat16's time ÷ float32's, ours and jax.nn's, for each case, key implementation and mode, round by round
    (`paired`: both dtypes are timed in the same rounds, with the same raw bits, so this is also each ÷ its bits)."""
    cells = _by_key(records)
    lines = [
        "| case | key | mode | ours f32 ms | ours bf16 ms | ours bf16 ÷ f32 | jax.nn bf16 ÷ f32 |",
        "|---|---|---|---|---|---|---|",
    ]
    for (case, key, dtype, mode), f32 in cells.items():
        bf16 = cells.get((case, key, "bfloat16", mode))
        if dtype != "float32" or bf16 is None:
            continue
        theirs = f"{paired(bf16['jax.nn'], f32['jax.nn']):.2f}" if "jax.nn" in f32 else ""
        ours = (f32["jax_weightinit"], bf16["jax_weightinit"])
        lines.append(
            f"| {case} | {key} | {mode} | {ours[0]['median_s'] * 1e3:.1f} | {ours[1]['median_s'] * 1e3:.1f} | "
            f"{paired(ours[1], ours[0]):.2f} | {theirs} |"
        )
    return "\n".join(lines)


def xla_env(*flags: str) -> dict[str, str]:
    """This process's environment with `flags` in `XLA_FLAGS`, in place of any device count already there."""
    kept = [f for f in os.environ.get("XLA_FLAGS", "").split() if "xla_force_host_platform_device_count" not in f]
    return dict(os.environ, XLA_FLAGS=" ".join([*kept, *flags]))


def _seconds(value) -> str:
    return "" if value is None else f"{value:.2f}"


def model_tables(model) -> str:
    """The whole-model tables: the tree under an outer jit, the Llama-7B-shaped tree, the jax#19893 array; nothing,
    not even the heading, for a run without model records (`--only elementwise`)."""
    if not model:
        return ""
    mb = 2**20
    lines = ["## Whole-model init", ""]
    trees = [r for r in model if r["case"] == "tree"]
    if trees:
        lines += [
            "| layers | leaves | XLA CPU scheduler | impl | mode | cold s | compile s | steady ms | temp ÷ output"
            " | threefry loops | cold ÷ jax.nn per leaf (jit) |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in trees:
            base = next(
                (
                    b["cold_s"]
                    for b in trees
                    if b["depth"] == r["depth"] and b["impl"] == "jax.nn per leaf" and b["scheduler"] == r["scheduler"]
                ),
                None,
            )
            temp = f"{r['temp_bytes'] / r['output_bytes']:.2f}" if "temp_bytes" in r else ""
            lines.append(
                f"| {r['depth']} | {r['leaves']} | {r['scheduler']} | {r['impl']} | {r['mode']} | {r['cold_s']:.2f} | "
                f"{_seconds(r.get('compile_s'))} | {r['steady_s'] * 1e3:.1f} | {temp} | {r.get('loops', '')} | "
                f"{r['cold_s'] / base:.3f} |"
                if base
                else f"| {r['depth']} | {r['leaves']} | {r['scheduler']} | {r['impl']} | {r['mode']} | "
                f"{r['cold_s']:.2f} | | {r['steady_s'] * 1e3:.1f} | {temp} | | |"
            )
        lines.append("")
    llama = [r for r in model if r["case"] == "llama7b"]
    if llama:
        r0 = llama[0]
        lines += [
            f"Llama-7B-shaped tree: {r0['layers']} layers, d {r0['dim']}, {r0['params'] / 1e9:.2f} B parameters in"
            " bfloat16 on a 2x4 (fsdp, tp) mesh; compiled, not run. Per device: share"
            f" {r0['device_share_bytes'] / mb:.0f} MiB, largest shard {r0['largest_shard_bytes'] / mb:.0f} MiB.",
            "",
            "| impl | compile s | argument MiB | output MiB | temp MiB | temp ÷ largest shard | threefry loops |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in llama:
            lines.append(
                f"| {r['impl']} | {r['compile_s']:.1f} | {r['argument_bytes'] / mb:.2f} | "
                f"{r['output_bytes'] / mb:.0f} | {r['temp_bytes'] / mb:.0f} | "
                f"{r['temp_bytes'] / r['largest_shard_bytes']:.2f} | {r['loops']} |"
            )
        lines.append("")
    big = [r for r in model if r["case"] == "big"]
    if big:
        lines += [
            f"One {big[0]['shape'][0]}x{big[0]['shape'][1]} float32 lecun_normal array sharded 8 ways (jax#19893);"
            " compiled, not run.",
            "",
            "| impl | compile s | share MiB | output MiB | temp MiB | temp ÷ share |",
            "|---|---|---|---|---|---|",
        ]
        for r in big:
            lines.append(
                f"| {r['impl']} | {r['compile_s']:.1f} | {r['device_share_bytes'] / mb:.0f} | "
                f"{r['output_bytes'] / mb:.0f} | {r['temp_bytes'] / mb:.0f} | "
                f"{r['temp_bytes'] / r['device_share_bytes']:.2f} |"
            )
    return "\n".join(lines)


def machine() -> dict:
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
        "torch": getattr(torch, "__version__", None),
        "numpy": np.__version__,
    }
