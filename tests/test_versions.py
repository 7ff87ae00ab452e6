"""The same key gives the same bits on every JAX the project supports (jax 0.9.1 through 0.12, float32, CPU).

The digests were computed on jax 0.10.2 and checked on 0.9.1 (the floors leg of `.ci/run`), 0.12.0.1 and 0.12.1
(the newest Python's leg); each covers the direct calls and the `init_tree` leaves of one law at shapes whose
trailing dim sets how XLA:CPU emits the draw, where a version that contracts a multiply-add otherwise would show,
and at awkward shapes: rows that are not whole vectors (a last dim of 9, 14, 1 or 33) and a 72-wide axis.
"""

import hashlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jax_weightinit as wi

SHAPES = [(16, 16, 3), (256, 3), (3, 256), (1000, 100)]
AWKWARD = [(256, 9), (24, 14), (8, 72), (7, 1), (5, 3, 33)]

# (law, the SHA-256 of its draws, first 32 hex digits).
DIGESTS = [
    ("normal", wi.normal(0.3), "37bf07c8e73955693a622875cae29365"),
    ("he_normal", wi.he_normal(), "f7689efb8f532eb706d0964cc607e33f"),
    ("truncated_normal", wi.truncated_normal(0.3), "3bbb33302c08eb6cc8e1516ae18d32b5"),
    ("far_tail", wi.truncated_normal(1.0, lower=5.0, upper=6.0), "2f8966a2d433a77432d133c33ec6c5ca"),
    ("uniform", wi.uniform(0.3), "73c2706c333d35f18e450f1b4a575c6b"),
    ("glorot_uniform", wi.glorot_uniform(), "acad3ddddd91beb20b3d49f40fa3e281"),
    ("scaled_normal", wi.scaled(wi.normal(0.02), 0.25), "b9d2db68dfdc023fa6ce88b93e694470"),
]


# The same laws at the awkward shapes (jax 0.9.1, 0.10.2 and 0.12.1 alike).
AWKWARD_DIGESTS = {
    "normal": "5a4a3ec3afce734f9844ebc0feffb76e",
    "he_normal": "bda264b2d69563b89ea222c1180afc15",
    "truncated_normal": "64e51f3e7b68e1ada27d489ca12789b6",
    "far_tail": "fc726d8c5a09a99b2df13ffdab2ed903",
    "uniform": "355c40eded81f2fbf5659bfa911d87d8",
    "glorot_uniform": "55270f1ab9e1fe51dd7759c7783c922e",
    "scaled_normal": "4a1a9f0b052b1be07a0494100e4b9477",
}


def digest(init, shapes=SHAPES) -> str:
    key = jax.random.key(2026)
    h = hashlib.sha256()
    for shape in shapes:
        h.update(np.asarray(init(key, shape)).tobytes())
    target = {f"l{i}": jax.ShapeDtypeStruct(shape, jnp.float32) for i, shape in enumerate(shapes)}
    out = wi.init_tree(key, target, [("", init)], stacked=[("", 0)])  # every leaf one layer, (16, 16, 3) too
    for path in sorted(target):
        h.update(np.asarray(out[path]).tobytes())
    return h.hexdigest()[:32]


@pytest.mark.parametrize("name, init, expected", DIGESTS, ids=[d[0] for d in DIGESTS])
def test_the_same_key_gives_the_same_bits_on_this_jax(name, init, expected):
    assert digest(init) == expected, f"{name} on jax {jax.__version__}"


@pytest.mark.parametrize("name, init, _", DIGESTS, ids=[d[0] for d in DIGESTS])
def test_awkward_shapes_give_the_same_bits_on_this_jax(name, init, _):
    assert digest(init, AWKWARD) == AWKWARD_DIGESTS[name], f"{name} on jax {jax.__version__}"


def test_twin_a_one_ulp_change_changes_the_digest():
    """Twin: a law 1 ulp wider in its std gives another digest, so the pin sees a 1-ulp drift."""
    std = float(np.nextafter(np.float32(0.3), np.float32(1)))
    assert digest(wi.normal(std)) != DIGESTS[0][2]
