"""Samplers: draw a `Distribution` at float32 (or float64) and round once to the output dtype.

Every sampler starts from the same uniform grid: the midpoints (m + 1/2) / 2^23 for
m in [0, 2^23) (2^52 under float64), which are exact in the compute dtype, never 0
or 1, and symmetric about 1/2. Normals are `sqrt(2) * erfinv(2u - 1)`, which spans
±5.3 std in float32 (±8.2 in float64); the mass left out, 1.2e-7, is below what a
float32 uniform can resolve. Truncated normals invert the CDF from the nearer tail,
so an interval such as [5, 6] std keeps its exact law.
"""

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from .laws import Distribution

_SQRT2 = math.sqrt(2.0)
# Std of a complex normal (density ∝ exp(-|z|²)) whose modulus is truncated at 2.
COMPLEX_TRUNCATED_STD = 0.95311164380491208


def compute_dtype(dtype: np.dtype) -> np.dtype:
  """The real dtype a sampler computes in before rounding to `dtype`."""
  real = np.dtype(jnp.finfo(dtype).dtype)
  return np.dtype(np.float64) if real == np.float64 else np.dtype(np.float32)


def unit_uniform(key: jax.Array, shape: tuple[int, ...], dtype: np.dtype) -> jax.Array:
  """Uniform midpoints in (0, 1) with 23 (float32) or 52 (float64) bits."""
  if dtype == np.float64:
    bits = jax.random.bits(key, shape, jnp.uint64)
    return ((bits >> 12).astype(dtype) + 0.5) * 2.0**-52
  bits = jax.random.bits(key, shape, jnp.uint32)
  return ((bits >> 9).astype(dtype) + 0.5) * 2.0**-23


def standard_truncated(u: jax.Array, a: float, b: float) -> jax.Array:
  """Maps uniforms `u` to a standard normal truncated to [a, b]."""
  if a < 0 < b:
    ea, eb = math.erf(a / _SQRT2), math.erf(b / _SQRT2)
    z = _SQRT2 * jax.lax.erf_inv((0.5 * (ea + eb)) + (0.5 * (eb - ea)) * (2.0 * u - 1.0))
  elif a >= 0:
    qa, qb = 0.5 * math.erfc(a / _SQRT2), 0.5 * math.erfc(b / _SQRT2)
    z = -jax.scipy.special.ndtri(qb + (qa - qb) * u)
  else:
    pa, pb = 0.5 * math.erfc(-a / _SQRT2), 0.5 * math.erfc(-b / _SQRT2)
    z = jax.scipy.special.ndtri(pa + (pb - pa) * u)
  return jnp.clip(z, a, b)


def real(u: jax.Array, law: Distribution) -> jax.Array:
  """Maps uniforms `u` to samples of `law`, in the dtype of `u`."""
  if law.family == "uniform":
    x = law.loc + law.scale * (2.0 * u - 1.0)
  elif law.family == "normal":
    x = law.loc + law.scale * (_SQRT2 * jax.lax.erf_inv(2.0 * u - 1.0))
  else:
    x = law.loc + law.scale * standard_truncated(u, *law.standard_bounds)
  if law.low is not None:
    x = jnp.clip(x, law.low, law.high)
  return x


def _finish(x: jax.Array, dtype: np.dtype, sharding) -> jax.Array:
  x = x.astype(dtype)
  return x if sharding is None else jax.lax.with_sharding_constraint(x, sharding)


@functools.partial(jax.jit, static_argnames=("law", "shape", "dtype", "sharding"))
def sample(key, law: Distribution, shape: tuple[int, ...], dtype: np.dtype, sharding=None) -> jax.Array:
  """Draws an array of `shape` whose elements follow `law`, rounded once to `dtype`."""
  u = unit_uniform(key, shape, compute_dtype(dtype))
  return _finish(real(u, law), dtype, sharding)


@functools.partial(jax.jit, static_argnames=("family", "std", "shape", "dtype", "sharding"))
def sample_complex(key, family: str, std: float, shape: tuple[int, ...], dtype: np.dtype, sharding=None) -> jax.Array:
  """Draws complex values with E|z|² = std², as `jax.nn.initializers` defines each family.

  'normal': real and imaginary parts i.i.d. N(0, std²/2). 'uniform': uniform on the
  disk of radius √2·std. 'truncated_normal': a complex normal truncated to modulus
  at most 2 (in units of its pre-truncation std), rescaled to E|z|² = std².
  """
  real_dtype = compute_dtype(dtype)
  u = unit_uniform(key, (2, *shape), real_dtype)
  if family == "normal":
    z = jax.lax.erf_inv(2.0 * u - 1.0)  # each part N(0, 1/2)
    out = std * jax.lax.complex(z[0], z[1])
  else:
    if family == "uniform":
      radius = std * jnp.sqrt(2.0 * u[0])
    else:
      # -log(1 - t) with t uniform on [0, 1 - e^-4]: the squared modulus truncated at 4.
      t = -math.expm1(-4.0) * u[0]
      radius = (std / COMPLEX_TRUNCATED_STD) * jnp.sqrt(-jnp.log1p(-t))
    theta = (2.0 * math.pi) * u[1]
    out = jax.lax.complex(radius * jnp.cos(theta), radius * jnp.sin(theta))
  return _finish(out, dtype, sharding)


@functools.partial(jax.jit, static_argnames=("shape", "dtype", "sharding"))
def full(value, shape: tuple[int, ...], dtype: np.dtype, sharding=None) -> jax.Array:
  """A constant array, placed on `sharding` when given."""
  return _finish(jnp.full(shape, value, dtype), dtype, sharding)
