"""The laws that random initializers sample: uniform, normal and truncated normal.

A `Distribution` is a small immutable value with exact float64 parameters. The
samplers in `sampling.py` read the same object, so what `init.distribution(shape)`
reports is, by construction, what `init(key, shape)` draws.
"""

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

from .typing import ArrayLike, Family

_SQRT2 = math.sqrt(2.0)
_SQRT2PI = math.sqrt(2.0 * math.pi)


def _pdf(x: float) -> float:
    return 0.0 if math.isinf(x) else math.exp(-0.5 * x * x) / _SQRT2PI


def _cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / _SQRT2)


def _sf(x: float) -> float:
    return 0.5 * math.erfc(x / _SQRT2)


def normal_mass(a: float, b: float) -> float:
    """P(a < Z < b) for a standard normal Z, accurate in either tail."""
    if a >= 0:
        return _sf(a) - _sf(b)
    if b <= 0:
        return _cdf(b) - _cdf(a)
    return 1.0 - _cdf(a) - _sf(b)


def truncated_moments(a: float, b: float) -> tuple[float, float]:
    """Mean and std of a standard normal truncated to [a, b] (in std units)."""
    mass = normal_mass(a, b)
    pa, pb = _pdf(a), _pdf(b)
    apa = 0.0 if math.isinf(a) else a * pa
    bpb = 0.0 if math.isinf(b) else b * pb
    mean = (pa - pb) / mass
    variance = 1.0 + (apa - bpb) / mass - mean * mean
    return mean, math.sqrt(max(variance, 0.0))


@dataclasses.dataclass(frozen=True)
class Distribution:
    """The exact law of each element an initializer draws for one shape.

    Attributes:
      family: 'uniform', 'normal' or 'truncated_normal'.
      loc: the mean of the normal before truncation; the midpoint for uniform.
      scale: the std of the normal before truncation; the half-width for uniform.
      low: the lower bound of the support, or None when unbounded.
      high: the upper bound of the support, or None when unbounded.

    Example:
      >>> import jax_weightinit as wi
      >>> law = wi.he_normal().distribution((3, 3, 64, 128))
      >>> law.family, round(law.std, 6), round(law.high / law.scale, 6)
      ('truncated_normal', 0.058926, 2.0)
    """

    family: Family
    loc: float
    scale: float
    low: float | None = None
    high: float | None = None

    @classmethod
    def uniform(cls, low: float, high: float) -> "Distribution":
        """U[low, high]."""
        if not low < high:
            raise ValueError(f"uniform bounds must satisfy low < high; got low={low!r}, high={high!r}.")
        return cls("uniform", 0.5 * (low + high), 0.5 * (high - low), low, high)

    @classmethod
    def normal(cls, mean: float, std: float) -> "Distribution":
        """N(mean, std²)."""
        return cls("normal", mean, std)

    @classmethod
    def truncated_normal(cls, loc: float, scale: float, low: float, high: float) -> "Distribution":
        """N(loc, scale²) conditioned on low < x < high (absolute bounds)."""
        if not low < high:
            raise ValueError(f"truncation bounds must satisfy lower < upper; got lower={low!r}, upper={high!r}.")
        a, b = (low - loc) / scale, (high - loc) / scale
        if normal_mass(a, b) < 1e-30:
            raise ValueError(
                f"truncation bounds [{a!r}, {b!r}] (in std units) hold a probability below 1e-30; "
                "keep the nearer bound within about 11 std of the mean."
            )
        return cls("truncated_normal", loc, scale, low, high)

    def scaled(self, factor: float) -> "Distribution":
        """The law of `factor · X` for a positive `factor`."""
        low = None if self.low is None else self.low * factor
        high = None if self.high is None else self.high * factor
        return Distribution(self.family, self.loc * factor, self.scale * factor, low, high)

    @property
    def standard_bounds(self) -> tuple[float, float]:
        """The truncation bounds in units of `scale` around `loc` (±inf when unbounded)."""
        low = -math.inf if self.low is None else (self.low - self.loc) / self.scale
        high = math.inf if self.high is None else (self.high - self.loc) / self.scale
        return low, high

    @property
    def mean(self) -> float:
        """The mean of the law."""
        if self.family != "truncated_normal":
            return self.loc
        return self.loc + self.scale * truncated_moments(*self.standard_bounds)[0]

    @property
    def std(self) -> float:
        """The standard deviation of the law."""
        if self.family == "uniform":
            return self.scale / math.sqrt(3.0)
        if self.family == "normal":
            return self.scale
        return self.scale * truncated_moments(*self.standard_bounds)[1]

    def cdf(self, x: ArrayLike) -> ArrayLike:
        """P(X <= x), elementwise; numpy in, float64 numpy out; jax in, jax out (jittable)."""
        if isinstance(x, jax.Array):
            return self._cdf(jnp, jnp.asarray(x), jax.scipy.special.ndtr)
        return self._cdf(np, np.asarray(x, np.float64), _ndtr_numpy)

    def _cdf(self, xp, x, ndtr):
        if self.family == "uniform":
            return xp.clip((x - self.low) / (self.high - self.low), 0.0, 1.0)
        z = (x - self.loc) / self.scale
        if self.family == "normal":
            return ndtr(z)
        a, b = self.standard_bounds
        # Measured from the nearer tail so that far-tail intervals keep their precision.
        if a >= 0:
            inside = (_sf(a) - ndtr(-xp.maximum(z, a))) / normal_mass(a, b)
        else:
            inside = (ndtr(xp.maximum(z, a)) - _cdf(a)) / normal_mass(a, b)
        return xp.clip(inside, 0.0, 1.0)

    def rounded_bounds(self, dtype) -> tuple[float | None, float | None]:
        """The support's bounds after rounding to `dtype`, as sampled values are rounded."""

        def round_to(v):
            return None if v is None else float(np.asarray(v, np.float64).astype(dtype))

        return round_to(self.low), round_to(self.high)


_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def _ndtr_numpy(z: np.ndarray) -> np.ndarray:
    return 0.5 * _erfc(-z / _SQRT2)
