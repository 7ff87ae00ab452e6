"""What every sampler draws, as one digest per case, to compare XLA compile levels.

`python tests/compile_level_sweep.py [SUBSTRING]` prints the digests of the cases whose name contains
SUBSTRING as one JSON object; tests/test_compile_level.py runs it at XLA's default level and compares.
Each case is drawn eagerly in float32, bfloat16 and float16 and under an outer `jit` (its law's constants
folded into that program); each sampling path also under `vmap`, in float64, in row blocks (an array of more
than 4 MiB of bits, drawn by a loop on CPU), and as a leaf of `init_tree`.
"""

import hashlib
import json
import sys

import jax
import jax.numpy as jnp
import numpy as np
from registry import FAN_SCALED, FIXED

import jax_weightinit as wi
from jax_weightinit import pytorch

SHAPE = (64, 128)
BLOCKED = (1024, 1152)  # 4.5 MiB of bits
# One initializer per sampling path: uniform, normal, central and one-sided truncated normals, orthogonal.
PATHS = {
    "uniform": wi.glorot_uniform(),
    "normal": wi.he_normal(),
    "truncated": wi.truncated_normal(0.2),
    "tail": FIXED["truncated_normal far upper tail [5, 6]"],
    "orthogonal": wi.orthogonal(2.0),
}


def cases():
    """(name, initializer): every elementwise initializer of the test registry, orthogonal and torch's."""
    yield from ((name, factory()) for name, factory in FAN_SCALED.items())
    yield from FIXED.items()
    yield "orthogonal(2)", PATHS["orthogonal"]
    yield "torch kaiming_uniform", pytorch.kaiming_uniform(a=0.1)
    yield "torch trunc_normal", pytorch.trunc_normal(0.0, 1.0, -2.0, 2.0)


def _digest(array) -> str:
    return hashlib.sha256(np.asarray(array).tobytes()).hexdigest()[:16]


def digests(only: str = "") -> dict[str, str]:
    """{case: digest of its bits} for every case whose name contains `only`."""
    key = jax.random.key(20261202)
    out = {}
    for name, init in cases():
        if only not in name:
            continue
        for dtype in (jnp.float32, jnp.bfloat16, jnp.float16):
            out[f"{name} {jnp.dtype(dtype).name}"] = _digest(init(key, SHAPE, dtype))
        out[f"{name} under jit"] = _digest(jax.jit(lambda k, init=init: init(k, SHAPE, jnp.float32))(key))
    keys = jax.random.split(key, 3)
    for name, init in PATHS.items():
        if only not in name:
            continue
        out[f"{name} under vmap"] = _digest(jax.vmap(lambda k, init=init: init(k, SHAPE, jnp.float32))(keys))
        with jax.enable_x64(True):
            out[f"{name} float64"] = _digest(init(key, SHAPE, jnp.float64))
        if name != "orthogonal":
            out[f"{name} in blocks"] = _digest(init(key, BLOCKED, jnp.float32))
    if only in "init_tree":  # its two cases' names start with it
        target = {name: jax.ShapeDtypeStruct(SHAPE, jnp.float32) for name in PATHS}
        rules = [(f"^{name}$", init) for name, init in PATHS.items()]
        for mode, tree in (
            ("eager", wi.init_tree(key, target, rules)),
            ("under jit", jax.jit(lambda k: wi.init_tree(k, target, rules))(key)),
        ):
            out[f"init_tree {mode}"] = _digest(np.concatenate([np.ravel(leaf) for leaf in jax.tree.leaves(tree)]))
    return out


if __name__ == "__main__":
    print(json.dumps(digests(*sys.argv[1:2])))
