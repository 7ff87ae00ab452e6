"""The standard normal quantile Φ⁻¹, vectorized and accurate to float32 resolution.

Wichura's algorithm AS 241 (PPND16, Applied Statistics 37, 1988): a rational function
of r = 0.180625 − q² for |q| = |p − ½| ≤ 0.425, and of t = √(−log min(p, 1 − p))
beyond, with a second tail piece for t > 5 (p < 1.4·10⁻¹¹). Its coefficients give
Φ⁻¹ to 1e-15 relative in exact arithmetic; evaluated as written in float32 the
rounding costs 5 ulp. Here each piece is written as its value at the piece's start
plus a correction, z = q·√(2π) + q·(N − √(2π)·D)/D in the centre and
z = c₀ + (C − c₀·D′)/D′ in the near tail, so the correction's rounding is scaled
down with it. Over the 2²³ float32 uniform midpoints, against float64
(`tests/test_quantile.py`, `benchmarks/normal_transforms.py`):

| transform | max error | correctly rounded | farthest toward its quantile cell's edge |
|---|---|---|---|
| this one | 2.72 ulp (tail), 1.15 ulp (within ±1.4395) | 84% | 0.59 |
| AS 241 as printed | 4.7 ulp | 43% | 1.17 |
| √2·erf_inv(2u − 1) (XLA to jax 0.12.0) | 91 ulp (2.2·10⁻⁵ at z = −3.76) | 34% | 1.04 |

Below 1 in the last column, every sample lies in the quantile cell of its uniform (the
z whose exact CDF is within 2⁻²⁴ of it), so the CDF of the output is exact at every
multiple of 2⁻²³. Only arithmetic and `sqrt` (the log is written out, `log`): XLA:CPU fused `erf_inv` into the
generator's unvectorized loop, and these vectorize (the speeds are in `benchmarks/results-cpu-keys/`).
"""

import math

import jax
import jax.numpy as jnp
import numpy as np

from .typing import Array

_SPLIT, _CENTRAL, _NEAR, _FAR = 0.425, 0.180625, 1.6, 5.0

# PPND16, ascending powers.
_A = (
    3.3871328727963666080e0,
    1.3314166789178437745e2,
    1.9715909503065514427e3,
    1.3731693765509461125e4,
    4.5921953931549871457e4,
    6.7265770927008700853e4,
    3.3430575583588128105e4,
    2.5090809287301226727e3,
)
_B = (
    1.0,
    4.2313330701600911252e1,
    6.8718700749205790830e2,
    5.3941960214247511077e3,
    2.1213794301586595867e4,
    3.9307895800092710610e4,
    2.8729085735721942674e4,
    5.2264952788528545610e3,
)
_C = (
    1.42343711074968357734e0,
    4.63033784615654529590e0,
    5.76949722146069140550e0,
    3.64784832476320460504e0,
    1.27045825245236838258e0,
    2.41780725177450611770e-1,
    2.27238449892691845833e-2,
    7.74545014278341407640e-4,
)
_D = (
    1.0,
    2.05319162663775882187e0,
    1.67638483018380384940e0,
    6.89767334985100004550e-1,
    1.48103976427480074590e-1,
    1.51986665636164571966e-2,
    5.47593808499534494600e-4,
    1.05075007164441684324e-9,
)
_E = (
    6.65790464350110377720e0,
    5.46378491116411436990e0,
    1.78482653991729133580e0,
    2.96560571828504891230e-1,
    2.65321895265761230930e-2,
    1.24266094738807843860e-3,
    2.71155556874348757815e-5,
    2.01033439929228813265e-7,
)
_F = (
    1.0,
    5.99832206555887937690e-1,
    1.36929880922735805310e-1,
    1.48753612908506148525e-2,
    7.86869131145613259100e-4,
    1.84631831751005468180e-5,
    1.42151175831644588870e-7,
    2.04426310338993978564e-15,
)

_SQRT_2PI = math.sqrt(2.0 * math.pi)  # Φ⁻¹(½ + q) / q at q = 0
# The corrections' numerators: N − √(2π)·D vanishes at q = 0, C − c₀·D′ at t = 1.6.
_A_CORRECTION = tuple(a - _SQRT_2PI * b for a, b in zip(_A, _B, strict=True))
_C_CORRECTION = tuple(c - _C[0] * d for c, d in zip(_C, _D, strict=True))

# Below this tail probability t exceeds 5 and the far piece is needed (with a margin for rounding).
FAR_TAIL = 2.0 * math.exp(-(_FAR**2))


def _horner(coefficients: tuple[float, ...], x: Array) -> Array:
    acc = coefficients[-1] * x + coefficients[-2]
    for c in reversed(coefficients[:-2]):
        acc = acc * x + c
    return acc


# Cephes' logf as XLA:CPU emitted float32 `log` up to jax 0.12.0 (Eigen's `plog_float`): degree-8 polynomial
# coefficients in ascending order of their step, then ln 2 in two parts.
_LOG_P = (
    7.0376836292e-2,
    -1.1514610310e-1,
    1.1676998740e-1,
    -1.2420140846e-1,
    1.4249322787e-1,
    -1.6668057665e-1,
    2.0000714765e-1,
    -2.4999993993e-1,
    3.3333331174e-1,
)
_LOG_Q1, _LOG_Q2 = -2.12194440e-4, 0.693359375


def log(x: Array) -> Array:
    """The natural log, float32 by Cephes' logf in plain arithmetic: the same bits on jax 0.9.1 through 0.12.1.

    `jnp.log` is whatever XLA:CPU's math library emits, and it changed in jax 0.12.1 (1-2 ulp
    on 0.3% of normal draws, all in the tails). Written out here, in the operations and order
    of XLA's own earlier expansion, a float32 normal draw has the bits it had on jax 0.9-0.12.0.
    Float64 (only under x64) stays `jnp.log`.
    """
    if x.dtype != np.float32:
        return jnp.log(x)
    p0, p1, p2, p3, p4, p5, p6, p7, p8 = _LOG_P
    tiny = np.float32(np.finfo(np.float32).tiny)  # subnormals count as the smallest normal
    bits = jax.lax.bitcast_convert_type(jnp.where(tiny >= x, tiny, x), jnp.int32)
    # x = m·2^e with m in [½, 1), and m in [√½, 1) once below √½ it is doubled (e lowered by 1).
    mantissa = jax.lax.bitcast_convert_type((bits & np.int32(0x007FFFFF)) | np.int32(0x3F000000), jnp.float32)
    e = 1.0 + (jax.lax.shift_right_logical(bits, np.int32(23)) - np.int32(127)).astype(jnp.float32)
    low = mantissa < np.float32(0.70710677)
    m = (mantissa - 1.0) + jnp.where(low, mantissa, np.float32(0.0))
    e = e - jnp.where(low, np.float32(1.0), np.float32(0.0))
    m2 = m * m
    m3 = m2 * m
    y, y1, y2 = m * p0 + p1, m * p3 + p4, m * p6 + p7
    y, y1, y2 = y * m + p2, y1 * m + p5, y2 * m + p8
    y = y1 + y * m3
    y = y2 + y * m3
    y = y * m3
    y = y + _LOG_Q1 * e
    out = (m - 0.5 * m2) + y
    out = out + _LOG_Q2 * e
    edge = jnp.where(x == 0, -np.inf, np.nan).astype(jnp.float32)
    return jnp.where(x > 0, jnp.where(x == np.inf, x, out), edge)


def _split(value: float, dtype) -> tuple[float, float]:
    """`value` as a sum hi + lo with hi exact in `dtype`."""
    hi = float(np.asarray(value, dtype))
    return hi, value - hi


def normal_quantile(centred: Array, below: Array, above: Array, far: bool) -> Array:
    """Φ⁻¹(p) from p − ½, p and 1 − p, each given to full relative precision where it is small.

    All three are needed because none can be computed from another without losing the
    small one (1 − (1 − 10⁻⁹) is 0 in float32, and p − ½ near p = ½ keeps only the
    digits of ½). The result is exactly odd: negating `centred` and swapping `below`
    and `above` negates it.

    Args:
      centred: p − ½, float32 or float64.
      below: p, in (0, 1), the same shape and dtype.
      above: 1 − p.
      far: whether some tail probability min(p, 1 − p) may fall below `FAR_TAIL`; when
        False the piece for t > 5 is left out of the program.

    Returns:
      Φ⁻¹(p), in the dtype of `below`.
    """
    hi, lo = _split(_SQRT_2PI, below.dtype)
    q = centred
    left = q < 0
    tail = jnp.where(left, below, above)
    r = _CENTRAL - q * q
    central = q * hi + q * (lo + _horner(_A_CORRECTION, r) / _horner(_B, r))
    t = jnp.sqrt(-log(tail))
    near = t - _NEAR
    z = _C[0] + _horner(_C_CORRECTION, near) / _horner(_D, near)
    if far:
        beyond = t - _FAR
        z = jnp.where(t <= _FAR, z, _horner(_E, beyond) / _horner(_F, beyond))
    return jnp.where(jnp.abs(q) <= _SPLIT, central, jnp.where(left, -z, z))


def of_uniform(u: Array) -> Array:
    """Φ⁻¹(u) for the sampler's uniform midpoints u, for which u − ½, u and 1 − u are exact."""
    return normal_quantile(u - 0.5, u, 1.0 - u, far=u.dtype == np.float64)
