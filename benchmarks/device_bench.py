"""The benchmark for a lent accelerator, as one command: `python benchmarks/run.py --device`.

Runs on the default backend (a GPU or TPU; refuses CPU, which `run.py` itself covers) in
under 8 minutes: the elementwise initializers at 4096² and 8192² and a vmapped batch of
64 1024² layers, float32 and bfloat16, under `jit`, with jax.nn and raw bits side by side
in the same run; whole-model init of 6- and 32-layer trees in fresh processes; and the
compiled temporaries of the jax#19893 array (32768×262144 float32 `lecun_normal`, split
over every device), compiled only. Writes `benchmarks/results-<platform>/` with the
device named. CI never runs it.
"""

import json
import pathlib
import subprocess
import sys

import common  # the same timing, records and tables as run.py
import jax
import jax.numpy as jnp

SHAPES = [
    ("4096x4096", (4096, 4096), False),
    ("8192x8192", (8192, 8192), False),
    ("batch 64x1024x1024", (64, 1024, 1024), True),
]
NAMES = ("glorot_uniform", "he_normal", "lecun_normal", "normal", "uniform")


MODEL_CASES = (("tree", 6), ("tree", 32), ("big", 32768, 262144))


def elementwise(records, repeats: int, shapes=SHAPES) -> None:
    key = jax.random.key(0)
    for name in NAMES:
        ours, theirs, _, _ = common.INITS[name]
        for label, shape, batched in shapes:
            for dtype in (jnp.float32, jnp.bfloat16):

                def make(init, shape=shape, dtype=dtype, batched=batched):
                    if batched:
                        return jax.jit(
                            lambda k: jax.vmap(lambda kk: init(kk, shape[1:], dtype))(jax.random.split(k, shape[0]))
                        )
                    return jax.jit(lambda k: init(k, shape, dtype))

                impls = {
                    "jax_weightinit": make(ours),
                    "jax.nn": make(theirs),
                    "raw_bits": jax.jit(lambda k, shape=shape: jax.random.bits(k, shape, jnp.uint32)),
                }
                results = common.timeit_interleaved(
                    {impl: (lambda fn=fn: fn(key)) for impl, fn in impls.items()}, repeats
                )
                for impl, (times, first) in results.items():
                    common.record(
                        records, f"{name} {label}", impl, shape, jnp.dtype(dtype).name, times, first, mode="jit"
                    )


def model_cases(cases=MODEL_CASES) -> list[dict]:
    """Fresh processes on the default backend, so that cold figures include every compile."""
    script = pathlib.Path(__file__).with_name("model_bench.py")
    env = common.xla_env()
    records = []
    for case in cases:
        done = subprocess.run([sys.executable, str(script), *map(str, case)], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"model case {case} failed:\n{done.stderr[-3000:]}", file=sys.stderr, flush=True)
            continue
        records.extend(json.loads(line) for line in done.stdout.splitlines() if line.startswith("{"))
        print(f"  model case {case}: done", flush=True)
    return records


def main(repeats: int = 9, shapes=SHAPES, cases=MODEL_CASES, out: pathlib.Path | None = None) -> int:
    """Writes `benchmarks/results-<platform>/`, or `out`: `shapes`, `cases` and `out` serve the smoke test."""
    platform = jax.default_backend()
    if platform == "cpu" and out is None:
        print("--device runs on a GPU or TPU; this machine's default backend is cpu (use run.py without it).")
        return 2
    out = out or pathlib.Path(__file__).with_name(f"results-{platform}")
    out.mkdir(exist_ok=True)
    records: list[dict] = []
    print(f"elementwise on {jax.devices()[0].device_kind}", flush=True)
    elementwise(records, repeats, shapes)
    model = model_cases(cases)
    info = {**common.machine(), "device_kind": jax.devices()[0].device_kind}
    (out / "device.json").write_text(json.dumps({"machine": info, "records": records, "model": model}, indent=1))
    header = "\n".join(f"- {k}: {v}" for k, v in info.items())
    title = f"# Benchmark results on {info['device_kind']}"
    (out / "device.md").write_text(f"{title}\n\n{header}\n\n{common.table(records)}\n\n{common.model_tables(model)}\n")
    print(f"wrote {out / 'device.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
