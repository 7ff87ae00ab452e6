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


def normal_cdf(x: float) -> float:
    """P(Z <= x) for a standard normal Z, to full relative precision in the lower tail."""
    return 0.5 * math.erfc(-x / _SQRT2)


def normal_sf(x: float) -> float:
    """P(Z > x), to full relative precision in the upper tail."""
    return 0.5 * math.erfc(x / _SQRT2)


def normal_mass(a: float, b: float) -> float:
    """P(a < Z < b) for a standard normal Z, accurate in either tail and for narrow intervals about 0."""
    if a >= 0:
        return normal_sf(a) - normal_sf(b)
    if b <= 0:
        return normal_cdf(b) - normal_cdf(a)
    return 0.5 * (math.erf(b / _SQRT2) - math.erf(a / _SQRT2))


# Gauss–Legendre nodes for `truncated_moments` on one-sided or narrow intervals.
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(64)
# exp(-92) < 1e-40: the density beyond sqrt(a² + 184) adds nothing a float64 can hold.
_TAIL = 184.0


def _quadrature_moments(a: float, b: float) -> tuple[float, float]:
    """Mean and std of N(0, 1) on [a, b], a >= 0 or b - a <= 4, by composite Gauss–Legendre quadrature.

    The density is weighed relative to its largest value on the interval, in pieces short
    enough (|z|·width <= 4) that each is a polynomial to float64 precision, and the
    variance is summed about the mean: no cancellation, however narrow or far out.
    """
    if b <= 0:  # the mirror image of [-b, -a]
        mean, std = _quadrature_moments(-b, -a)
        return -mean, std
    if a >= 0:
        b = min(b, math.sqrt(a * a + _TAIL))
    peak = 0.0 if a < 0 < b else min(abs(a), abs(b))
    reach = max(abs(a), abs(b), 1.0)
    pieces = max(1, math.ceil((b - a) * reach / 4.0))
    # Offsets t from the midpoint c stay small for a narrow interval, so t - mean(t) keeps its digits.
    c, h = 0.5 * (a + b), 0.5 * (b - a)
    edges = np.linspace(-h, h, pieces + 1)
    half = 0.5 * np.diff(edges)
    t = (0.5 * (edges[:-1] + edges[1:]))[:, None] + half[:, None] * _NODES[None, :]
    z = c + t
    w = (half[:, None] * _WEIGHTS[None, :]) * np.exp(-0.5 * (z - peak) * (z + peak))
    total = w.sum()
    shift = float((w * t).sum() / total)
    return c + shift, math.sqrt(float((w * (t - shift) ** 2).sum() / total))


def truncated_moments(a: float, b: float) -> tuple[float, float]:
    """Mean and std of a standard normal truncated to [a, b] (in std units), to ~1e-15 relative.

    Intervals on one side of 0, or narrower than 4, are integrated (the closed form
    loses every digit of a variance of 1e-12 to cancellation); wide central intervals
    use the closed form, whose terms are then of the size of the result.
    """
    if a >= 0 or b <= 0 or b - a <= 4.0:
        return _quadrature_moments(a, b)
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
    #: A truncated law's bounds in units of `scale` around `loc`, kept where its numbers are traced and these are
    #: not (a traced std with bounds in std units), so that its standardized law stays exact.
    units: tuple[float, float] | None = dataclasses.field(default=None, compare=False, repr=False)

    @property
    def traced(self) -> bool:
        """Whether a number of the law is traced (a hyperparameter under `jit`, `vmap` or `grad`)."""
        return any(isinstance(v, jax.core.Tracer) for v in (self.loc, self.scale, self.low, self.high))

    @classmethod
    def uniform(cls, low: float, high: float) -> "Distribution":
        """U[low, high]."""
        if _traced(low, high):
            return cls("uniform", 0.5 * (low + high), 0.5 * (high - low), low, high)
        if not low < high:
            raise ValueError(f"uniform bounds must satisfy low < high; got low={low!r}, high={high!r}.")
        return cls("uniform", 0.5 * (low + high), 0.5 * (high - low), low, high)

    @classmethod
    def normal(cls, mean: float, std: float) -> "Distribution":
        """N(mean, std²)."""
        return cls("normal", mean, std)

    @classmethod
    def truncated_normal(
        cls, loc: float, scale: float, low: float, high: float, units: tuple[float, float] | None = None
    ) -> "Distribution":
        """N(loc, scale²) conditioned on low < x < high (absolute bounds); `units`, the bounds in units of `scale`
        around `loc`, where the numbers are traced and these are known."""
        if _traced(loc, scale, low, high):
            return cls("truncated_normal", loc, scale, low, high, None if _traced(*units or ()) else units)
        if not low < high:
            raise ValueError(f"truncation bounds must satisfy lower < upper; got lower={low!r}, upper={high!r}.")
        a, b = (low - loc) / scale, (high - loc) / scale
        if normal_mass(a, b) < 1e-30:
            raise ValueError(
                f"the truncation bounds `lower`, `upper` = [{a!r}, {b!r}] (in std units) hold a probability "
                "below 1e-30; "
                "keep the nearer bound within about 11 std of the mean."
            )
        return cls("truncated_normal", loc, scale, low, high)

    def scaled(self, factor: float) -> "Distribution":
        """The law of `factor · X` for a positive `factor`."""
        low = None if self.low is None else self.low * factor
        high = None if self.high is None else self.high * factor
        units = self.units
        if units is None and self.family == "truncated_normal" and _traced(factor):  # the standard law stays known
            units = self.standard_bounds
        return Distribution(self.family, self.loc * factor, self.scale * factor, low, high, units)

    @property
    def standard_bounds(self) -> tuple[float, float]:
        """The truncation bounds in units of `scale` around `loc` (±inf when unbounded)."""
        if self.units is not None:
            return self.units
        low = -math.inf if self.low is None else (self.low - self.loc) / self.scale
        high = math.inf if self.high is None else (self.high - self.loc) / self.scale
        return low, high

    @property
    def mean(self) -> float:
        """The mean of the law."""
        if self.family != "truncated_normal":
            return self.loc
        return self.loc + self.scale * self._standard_moments()[0]

    @property
    def std(self) -> float:
        """The standard deviation of the law."""
        if self.family == "uniform":
            return self.scale / math.sqrt(3.0)
        if self.family == "normal":
            return self.scale
        return self.scale * self._standard_moments()[1]

    def _standard_moments(self) -> tuple[float, float]:
        a, b = self.standard_bounds
        if _traced(a, b):
            raise TypeError(
                "the mean and std of a normal truncated to traced bounds are not computed inside a trace; give the "
                "bounds in std units (`truncated_normal(stddev, lower=..., upper=...)`) or read the law outside it."
            )
        return truncated_moments(a, b)

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
            inside = (normal_sf(a) - ndtr(-xp.maximum(z, a))) / normal_mass(a, b)
        else:
            inside = (ndtr(xp.maximum(z, a)) - normal_cdf(a)) / normal_mass(a, b)
        return xp.clip(inside, 0.0, 1.0)

    def rounded_bounds(self, dtype) -> tuple[float | None, float | None]:
        """The support's bounds after rounding to `dtype`, as sampled values are rounded."""

        largest = float(jnp.finfo(dtype).max)

        def round_to(v):
            if v is None or abs(v) > largest:  # beyond the dtype's range: no bound there (±inf, or NaN in float8)
                return None if v is None else math.copysign(math.inf, v)
            return float(np.asarray(v, np.float64).astype(dtype))

        return round_to(self.low), round_to(self.high)


def _traced(*values: object) -> bool:
    return any(isinstance(v, jax.core.Tracer) for v in values)


_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def _ndtr_numpy(z: np.ndarray) -> np.ndarray:
    return 0.5 * _erfc(-z / _SQRT2)
