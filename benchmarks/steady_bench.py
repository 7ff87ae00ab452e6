"""Warm (steady-state) `init_tree` time on `model_bench.py`'s tree, for the checkout at ROOT: one JSON line.

    python benchmarks/steady_bench.py ROOT DEPTH MODE      # MODE: eager or jit

Run it in alternating fresh processes for two checkouts (say a `git worktree` of the previous
commit and this one) to compare them under the same machine load: two warm-up calls, then the
median of seven.
"""

import json
import sys

root, depth, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
sys.path[:0] = [root, f"{root}/benchmarks"]

import jax  # noqa: E402
import model_bench  # noqa: E402

import jax_weightinit as wi  # noqa: E402

assert wi.__file__.startswith(root), f"imported {wi.__file__}, not the checkout at {root}"
target, key = model_bench.abstract_tree(depth), jax.random.key(0)


def draw(k):
    return wi.init_tree(k, target, model_bench.RULES)


fn = draw if mode == "eager" else jax.jit(draw)
for _ in range(2):
    jax.block_until_ready(fn(key))
print(json.dumps({"root": root, "depth": depth, "mode": mode, "median_s": model_bench.steady(fn, key, repeats=7)}))
