"""Where a draw's values could depend on its shape, the elements that do, as JSON.

`python tests/shape_sweep.py WIDTHS [--sharded] [--twin]` draws every elementwise sampling path at
(ROWS, n) for each last dim n in WIDTHS (comma-separated, or FIRST-LAST) and prints {case: number of
elements that differ} for the cases that differ (an empty object when none does):

- "flat": the (ROWS, n) draw against the first ROWS·n elements of one flat draw at the same key (a
  threefry key's element k is the same word whatever the shape, `blocks`);
- "sliced" (n <= 17, a tail of one to all lanes of 8 and 16): the columns [:n] of a (ROWS, 256) draw under a
  caller's `jit` that slices it, against the same columns of the eager draw;
- "leaf": an `init_tree` leaf of shape (ROWS, n) against its direct call, in a model with leaves of every width;
- with --sharded (8 CPU devices): the (8, 8n) draw sharded 8, 4 and 2 ways along its last dim (shards of
  n, 2n and 4n columns) against the unsharded one.

`tests/test_shapes.py` runs it at XLA's default compile level, where LLVM's code for a vector's tail shows
(the suite's level 1 emits the tail otherwise). --twin draws without `sampling.in_whole_vectors`, as the
library did before it; --nudged plants a defect every XLA shows: the last column of a row that is not whole
vectors of 8, one ulp up.
"""

import json
import sys

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

import jax_weightinit as wi
from jax_weightinit._src import sampling

ROWS = 24
# One law per elementwise sampling case and transform: the quantile's pieces, a far tail, uniforms with and
# without an offset; each in float32, and the normal also rounded to bfloat16.
LAWS = {
    "normal": wi.normal(0.3),
    "truncated_normal": wi.truncated_normal(0.3),
    "far_tail": wi.truncated_normal(1.0, lower=5.0, upper=6.0),
    "uniform": wi.uniform(0.3),
    "uniform_offset": wi.pytorch.uniform(-0.1, 0.3),
}
CASES = [(law, "float32") for law in LAWS] + [("normal", "bfloat16")]


def widths(text: str) -> list[int]:
    if "-" in text:
        first, last = map(int, text.split("-"))
        return list(range(first, last + 1))
    return [int(w) for w in text.split(",")]


def count(a, b) -> int:
    a, b = np.asarray(a), np.asarray(b)
    return int(np.sum(a.view(f"u{a.itemsize}") != b.view(f"u{b.itemsize}")))


def unsharded(ns: list[int]) -> dict[str, int]:
    key = jax.random.key(2026)
    out = {}
    for law, dtype_name in CASES:
        init, dtype = LAWS[law], jnp.dtype(dtype_name)
        flat = np.asarray(init(key, (ROWS * max(ns),), dtype))
        wide = np.asarray(init(key, (ROWS, 256), dtype))
        for n in ns:
            case = f"{law} {dtype_name} {n}"
            out[f"flat {case}"] = count(init(key, (ROWS, n), dtype).reshape(-1), flat[: ROWS * n])
            if n <= 17:
                sliced = jax.jit(lambda k: init(k, (ROWS, 256), dtype)[:, :n])(key)  # noqa: B023
                out[f"sliced {case}"] = count(sliced, wide[:, :n])
        tree = wi.init_tree(key, {f"w{n}": jax.ShapeDtypeStruct((ROWS, n), dtype) for n in ns}, [("", init)])
        for n in ns:
            direct = init(wi.key_for(key, f"w{n}"), (ROWS, n), dtype)
            out[f"leaf {law} {dtype_name} {n}"] = count(tree[f"w{n}"], direct)
    return out


def sharded(ns: list[int]) -> dict[str, int]:
    key = jax.random.key(2026)
    devices = np.array(jax.devices()[:8])
    out = {}
    for law, init in LAWS.items():
        for n in ns:
            whole = init(key, (8, 8 * n))
            for ways in (8, 4, 2):
                mesh = jax.sharding.Mesh(devices.reshape(ways, 8 // ways), ("cols", "rest"))
                drawn = init(key, (8, 8 * n), out_sharding=NamedSharding(mesh, P(None, "cols")))
                out[f"sharded {law} {ways} ways {n}"] = count(drawn, whole)
    return out


def plain(f, x, made=None):
    """`f(x)` (of `made(x)`) as the library computed it before `sampling.in_whole_vectors`."""
    return f(made(x) if made else x)


def nudged(f, x, made=None):
    """`f(x)` (of `made(x)`), its last column one ulp up when rows are not whole vectors of 8."""
    x = made(x) if made else x
    y = f(x)
    if x.ndim and x.shape[-1] % 8:
        y = y.at[..., -1].set(jnp.nextafter(y[..., -1], jnp.asarray(jnp.inf, y.dtype)))
    return y


def main(argv: list[str]) -> None:
    if "--twin" in argv:
        sampling.in_whole_vectors = plain
    if "--nudged" in argv:
        sampling.in_whole_vectors = nudged
    ns = widths(argv[0])
    counts = sharded(ns) if "--sharded" in argv else unsharded(ns)
    print(json.dumps({case: n for case, n in counts.items() if n}))


if __name__ == "__main__":
    main(sys.argv[1:])
