"""Every uniform-to-normal transform tried for the normal sampler: its accuracy over the float32 grid, its speed.

    python benchmarks/normal_transforms.py [--quick] [--out DIR]

Accuracy: each transform maps all 2²³ uniform midpoints (m + ½)/2²³; against float64
(scipy) we report the largest error in float32 ulps (counted at |z| ≥ 2⁻²⁴), how far the
worst sample strays toward the edge of its quantile cell (below 1: the output's CDF is
exact at every multiple of 2⁻²³), and whether the map is monotone and odd.

Speed: a 4096×4096 float32 draw of loc + scale·z under `jit`, loc and scale arguments
as the sampler's law numbers are, each figure divided by the raw bits of the same key
implementation in the same run: fused (bits and transform in one program, as
`jax.random.normal` does) with threefry, rbg and unsafe_rbg keys, and for rbg also
"stored" (bits drawn whole, then mapped in row blocks of 4 MiB by a loop, which keeps
XLA:CPU from fusing the transform into the generator's loop). The last row is the
library's own sampler for N(0, 1). Whether XLA:CPU vectorizes a transform fused into the
rbg generator's loop depends on the whole expression: the same Φ⁻¹ is fused into the
generator's loop as a bare function of u, and gets a vectorized fusion of its own inside
the sampler, so only the sampler's row speaks for the library.
"""

import argparse
import json
import math
import pathlib
import statistics
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
from run import KEY_IMPLS  # benchmarks/run.py: the key implementations every benchmark times
from scipy import special

import jax_weightinit as wi
from jax_weightinit._src import quantile, sampling

STANDARD = wi.Distribution.normal(0.0, 1.0)

_PPND7 = (
    (3.3871327179, 50.434271938, 159.29113202, 59.109374720),
    (1.0, 17.895169469, 78.757757664, 67.187563600),
    (1.4234372777, 2.7568153900, 1.3067284816, 0.17023821103),
    (1.0, 0.73700164250, 0.12021132975),
)


def _uniform(bits):
    return ((bits >> 9).astype(jnp.float32) + 0.5) * 2.0**-23


def _rational(numerator, denominator, x):
    return jnp.polyval(jnp.asarray(numerator[::-1], x.dtype), x) / jnp.polyval(
        jnp.asarray(denominator[::-1], x.dtype), x
    )


def _as241(u, pieces):
    """Wichura's AS 241 as printed: q·A(r)/B(r) in the centre, C(t − 1.6)/D(t − 1.6) in the tail (t ≤ 5)."""
    a, b, c, d = pieces
    q = u - 0.5
    central = q * _rational(a, b, 0.180625 - q * q)
    t = jnp.sqrt(-jnp.log(jnp.minimum(u, 1.0 - u)))
    tail = _rational(c, d, t - 1.6)
    return jnp.where(jnp.abs(q) <= 0.425, central, jnp.where(q < 0, -tail, tail))


def _box_muller(u):
    pairs = u.reshape(2, -1)
    radius, angle = jnp.sqrt(-2.0 * jnp.log(pairs[0])), (2.0 * math.pi) * pairs[1]
    return jnp.concatenate([radius * jnp.cos(angle), radius * jnp.sin(angle)]).reshape(u.shape)


# name: uniforms -> N(0, 1), float32. Box–Muller maps pairs, not one uniform to its quantile: speed only.
TRANSFORMS = {
    "AS 241, value plus correction (this library)": quantile.of_uniform,
    "√2·erf_inv(2u − 1), XLA (the previous sampler)": lambda u: math.sqrt(2.0) * jax.lax.erf_inv(2.0 * u - 1.0),
    "jax.scipy.special.ndtri": jax.scipy.special.ndtri,
    "AS 241 PPND16 as printed": lambda u: _as241(u, (quantile._A, quantile._B, quantile._C, quantile._D)),
    "AS 241 PPND7 (single precision)": lambda u: _as241(u, _PPND7),
    "Box–Muller pairs": _box_muller,
}


def accuracy(transform) -> dict:
    m = np.arange(2**23, dtype=np.uint32)
    u = (m + 0.5) * 2.0**-23
    z = np.asarray(jax.jit(lambda b: transform(_uniform(b)))(jnp.asarray(m << 9)), np.float64)
    exact = special.ndtri(u)
    ulps = np.abs(z - exact) / np.spacing(np.maximum(np.abs(exact), 2.0**-24).astype(np.float32)).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        low, high = special.ndtri(u - 2.0**-24), special.ndtri(u + 2.0**-24)
        cell = np.maximum(np.maximum(z - exact, 0) / (high - exact), np.maximum(exact - z, 0) / (exact - low))
    return {
        "max_ulps": float(ulps.max()),
        "correctly_rounded": float(np.mean(z == exact.astype(np.float32))),
        "max_half_cell": float(np.nanmax(cell)),
        "monotone": bool(np.all(np.diff(z) >= 0)),
        "odd": bool(np.array_equal(z[::-1], -z)),
    }


def _time(fn, arg, repeats: int) -> float:
    jax.block_until_ready(fn(arg))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(arg))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _stored(transform, shape):
    """Bits drawn whole, then mapped in row blocks of 4 MiB by a loop XLA does not fuse into the generator."""
    rows = max(1, 2**20 // shape[1])

    def run(key):
        bits = jax.random.bits(key, shape, jnp.uint32)

        def block(i, out):
            chunk = jax.lax.dynamic_slice_in_dim(bits, i * rows, rows)
            return jax.lax.dynamic_update_slice_in_dim(out, transform(_uniform(chunk)), i * rows, 0)

        return jax.lax.fori_loop(0, shape[0] // rows, block, jnp.zeros(shape, jnp.float32))

    return run


def _affine(transform):
    def run(u, numbers):
        loc, scale = jax.lax.optimization_barrier(numbers)
        return loc + scale * transform(u)

    return run


def speed(transform, shape, repeats: int, impls=KEY_IMPLS) -> dict:
    out, numbers = {}, jnp.asarray([0.0, 1.0], jnp.float32)
    for impl in impls:
        key = jax.random.key(0, impl=impl)
        bits = _time(jax.jit(lambda k: jax.random.bits(k, shape, jnp.uint32)), key, repeats)
        fused = jax.jit(lambda k: transform(_uniform(jax.random.bits(k, shape, jnp.uint32)), numbers))
        out[f"fused ÷ bits [{impl}]"] = _time(fused, key, repeats) / bits
        if impl == "rbg":
            stored = _stored(lambda u: transform(u, numbers), shape)
            out["stored ÷ bits [rbg]"] = _time(jax.jit(stored), key, repeats) / bits
    return out


def _sampler(u, numbers):
    del numbers  # the sampler takes its own law numbers
    case, params = sampling.prepare(STANDARD, np.dtype(np.float32))
    return sampling.transform(u, jnp.asarray(params), case, np.dtype(np.float32))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1024×1024, 3 repeats, rbg keys only")
    parser.add_argument("--out", default="benchmarks/results-local", help="output folder")
    args = parser.parse_args(argv)
    shape, repeats = ((1024, 1024), 3) if args.quick else ((4096, 4096), 9)
    impls = ("rbg",) if args.quick else KEY_IMPLS
    rows = [
        {
            "transform": name,
            **(accuracy(fn) if fn is not _box_muller else {}),
            **speed(_affine(fn), shape, repeats, impls),
        }
        for name, fn in TRANSFORMS.items()
    ]
    sampler = {"transform": "the library's sampler for N(0, 1) (sampling.transform)"}
    rows.append({**sampler, **accuracy(lambda u: _sampler(u, None)), **speed(_sampler, shape, repeats, impls)})
    columns = [k for k in rows[0] if k != "transform"]
    lines = [f"# Normal transforms: accuracy over the float32 grid, speed at {shape[0]}×{shape[1]} float32 (jit)", ""]
    lines += [f"- jax {jax.__version__}, backend {jax.default_backend()}, {len(jax.devices())} device(s)", ""]
    lines += ["| transform | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for row in rows:
        cells = [f"{row[c]:.2f}" if isinstance(row.get(c), float) else str(row.get(c, "–")) for c in columns]
        lines.append(f"| {row['transform']} | " + " | ".join(cells) + " |")
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "normal_transforms.md").write_text("\n".join(lines) + "\n")
    (out / "normal_transforms.json").write_text(json.dumps(rows, indent=1))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
