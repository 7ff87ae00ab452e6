"""A law rounded to a dtype: the representable values that carry its mass, their probabilities and moments.

A sampler with a dtype's full resolution draws the law rounded once to that dtype. When
few representable values carry the law's mass — any 8- or 16-bit dtype, or float32 far
from zero relative to the std (N(1e4, 1e-3²)) — the rounded law differs from the real
one in its mean, std and CDF, and a test of a correct sampler must compare with it.
"""

import dataclasses
import functools
import math

import jax.numpy as jnp
import numpy as np

from .laws import Distribution

# The most representable values a rounded law is built on; beyond it the dtype is read as continuous.
MAX_VALUES = 1 << 20
# How far into an unbounded tail the grid reaches, in units of the scale (mass beyond: < 1e-37).
_REACH = 13.0


@dataclasses.dataclass(frozen=True)
class RoundedLaw:
    """The law of `round(X)`: `values` (sorted, float64) with probabilities `probs`."""

    values: np.ndarray
    probs: np.ndarray

    @property
    def mean(self) -> float:
        return float(np.sum(self.values * self.probs))

    @property
    def std(self) -> float:
        return float(np.sqrt(np.sum((self.values - self.mean) ** 2 * self.probs)))

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """P(round(X) <= x), elementwise."""
        cumulative = np.concatenate([[0.0], np.cumsum(self.probs)])
        return np.minimum(cumulative[np.searchsorted(self.values, x, side="right")], 1.0)

    def expected_distinct(self, n: int) -> float:
        """The expected number of distinct values among `n` draws."""
        return float(np.sum(-np.expm1(n * np.log1p(-np.minimum(self.probs, 1.0 - 1e-16)))))


@functools.lru_cache(maxsize=16)
def _all_values(dtype: np.dtype) -> np.ndarray:
    bits = np.arange(1 << (8 * dtype.itemsize), dtype=f"uint{8 * dtype.itemsize}")
    with np.errstate(invalid="ignore"):  # NaN patterns
        values = bits.view(dtype).astype(np.float64)
    return np.unique(values[np.isfinite(values)] + 0.0)  # + 0.0 folds -0.0 into 0.0


def _ordered(x: float, dtype: np.dtype) -> int:
    """The position of float `x` (already representable) in the dtype's ordered values."""
    i = int(np.asarray(x, dtype).view(f"int{8 * dtype.itemsize}"))
    return i if i >= 0 else -(i & ((1 << (8 * dtype.itemsize - 1)) - 1))


def _from_ordered(k: np.ndarray, dtype: np.dtype) -> np.ndarray:
    bits = 8 * dtype.itemsize
    raw = np.where(k >= 0, k, (-k) | (1 << (bits - 1))).astype(f"uint{bits}")
    return raw.view(dtype).astype(np.float64) + 0.0


def rounded(law: Distribution, dtype: np.dtype, limit: int = MAX_VALUES) -> RoundedLaw | None:
    """The law rounded to nearest in `dtype`, or None when more than `limit` values carry its mass.

    The count is taken before any probability is computed, so a caller that only wants
    small grids (the sampler's) pays little for a law that has none.
    """
    dtype = np.dtype(dtype)
    low = law.loc - _REACH * law.scale if law.low is None or math.isinf(law.low) else law.low
    high = law.loc + _REACH * law.scale if law.high is None or math.isinf(law.high) else law.high
    info = jnp.finfo(dtype)
    low, high = max(low, float(info.min)), min(high, float(info.max))
    if dtype.itemsize <= 2:
        grid = _all_values(dtype)
        first = max(int(np.searchsorted(grid, low, side="right")) - 2, 0)
        last = min(int(np.searchsorted(grid, high, side="left")) + 2, grid.size)
        values = grid[first:last]
        if values.size > limit + 4:  # the slice holds two spare values at each end
            return None
    else:
        with np.errstate(over="ignore"):
            lo = _ordered(float(np.nextafter(np.asarray(low, dtype), -np.inf)), dtype)
            hi = _ordered(float(np.nextafter(np.asarray(high, dtype), np.inf)), dtype)
        if hi - lo + 1 > limit:
            return None
        values = np.unique(_from_ordered(np.arange(lo, hi + 1, dtype=np.int64), dtype))
        values = values[np.isfinite(values)]
    edges = np.concatenate([[-math.inf], 0.5 * (values[:-1] + values[1:]), [math.inf]])
    probs = np.diff(np.asarray(law.cdf(edges), np.float64))
    keep = probs > 0
    return RoundedLaw(values[keep], probs[keep])
