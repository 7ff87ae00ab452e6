"""The initializer protocol, its random base class, and the fixed-law random initializers."""

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.nn.initializers import Initializer as Initializer

from . import calls, placement, sampling, validation
from .laws import Distribution, truncated_moments
from .typing import Array, DTypeLike, Shape, Sharding


class RandomInitializer(calls.Rebuildable):
    """Base of every elementwise random initializer.

    A subclass is a frozen dataclass with a `dtype` field and a `distribution(shape)`
    method; calling it samples exactly that law.
    """

    dtype: np.dtype | None
    #: The complex family (see `sampling.sample_complex`), or None for real dtypes only.
    complex_family: str | None = None

    def distribution(self, shape: Shape) -> Distribution:
        """Returns the law of every element of an array of `shape`."""
        raise NotImplementedError

    def __call__(
        self,
        key: Array,
        shape: Shape,
        dtype: DTypeLike | None = None,
        out_sharding: Sharding = None,
    ) -> Array:
        """Draws an array of `shape` and `dtype` (default: the factory's, else the default float).

        `out_sharding` (a `Sharding`, or a `PartitionSpec` under `jax.set_mesh`) places the
        result; each device draws only its shards, with the values of the unsharded draw.
        """
        key, shape, dtype = validation.call(key, shape, dtype, self.dtype, self.complex_family is not None)
        out_sharding = placement.for_call(key, out_sharding, shape)
        law = self._law(shape, dtype)
        if law is None:
            out = sampling.full(0, shape, dtype, out_sharding)
        elif jnp.issubdtype(dtype, jnp.complexfloating) and self.complex_family is not None:
            out = sampling.sample_complex(key, self.complex_family, law.std, shape, dtype, out_sharding)
        else:
            out = sampling.sample(key, law, shape, dtype, out_sharding)
        return placement.settle(out, out_sharding)

    def checked(
        self, shape: Shape, dtype: DTypeLike | None = None
    ) -> tuple[tuple[int, ...], np.dtype, Distribution | None]:
        """(shape, dtype, law) of a call with `shape` and `dtype`, or the error that call raises; the law is None
        for an empty shape, which is drawn empty."""
        shape = validation.shape(shape)
        dtype = validation.dtype(self.dtype if dtype is None else dtype, allow_complex=self.complex_family is not None)
        return shape, dtype, self._law(shape, dtype)

    def _law(self, shape: tuple[int, ...], dtype: np.dtype) -> Distribution | None:
        if math.prod(shape) == 0:
            return None
        law = self.distribution(shape)
        if not law.traced:  # a traced law's range is known only when it runs; `sampling` makes a non-law NaN
            _check_range(law, dtype)  # a complex dtype's parts have its real counterpart's range
        return law


# How far a normal's samples reach, in stds from its mean: Φ⁻¹ of the smallest uniform midpoint of the
# compute dtype (2^-24 in float32, 2^-53 in float64), with room for the transform's few ulps.
REACH_STDS = {np.dtype(np.float32): 5.2948, np.dtype(np.float64): 8.2096}


def _check_range(law: Distribution, dtype: np.dtype) -> None:
    """Refuses a law `dtype` cannot hold: samples beyond its largest value, or a scale so small that the
    compute dtype's flush of subnormals to zero would put an atom at 0."""
    compute = sampling.compute_dtype(dtype)
    reach_stds = REACH_STDS[compute]
    low, high = law.loc - reach_stds * law.scale, law.loc + reach_stds * law.scale
    if law.low is not None and law.high is not None:
        low, high = (law.low, law.high) if law.family == "uniform" else (max(low, law.low), min(high, law.high))
    reach = max(abs(low), abs(high))
    if reach > float(jnp.finfo(dtype).max):
        raise ValueError(
            f"`dtype` {dtype.name} cannot hold samples of {law.family} law with loc={law.loc!r} and "
            f"scale={law.scale!r}; use a wider dtype."
        )
    info = jnp.finfo(compute)
    smallest = float(info.smallest_normal) / float(info.eps)  # below this, over 1e-7 of samples would flush
    if max(law.scale, abs(law.loc)) < smallest:
        raise ValueError(
            f"the {law.family} law's `scale` {law.scale:.3g} is too small to sample in {compute.name}, which flushes "
            f"values below {float(info.smallest_normal):.3g} to zero; use a scale of at least {smallest:.3g}"
            f"{' or float64 with jax_enable_x64' if compute != np.float64 else ''}."
        )


@dataclasses.dataclass(frozen=True, repr=False)
class FixedLaw(RandomInitializer):
    """An initializer whose law does not depend on the shape."""

    law: Distribution
    dtype: np.dtype | None = None
    complex_family: str | None = None

    def distribution(self, shape: Shape) -> Distribution:
        validation.shape(shape)
        return self.law

    def default_call(self) -> str:
        law = self.law
        if law.family == "normal" and self.complex_family is None:  # torch's normal takes no complex dtype
            return f"pytorch.normal({law.loc!r}, {law.scale!r}{dtype_suffix(self.dtype)})"
        if law.family == "normal":
            args = f"{law.scale!r}" + (f", mean={law.loc!r}" if law.loc else "")
            return f"normal({args}{dtype_suffix(self.dtype)})"
        if law.family == "uniform":
            if law.low == 0:
                return f"uniform({law.high!r}{dtype_suffix(self.dtype)})"
            return f"pytorch.uniform({law.low!r}, {law.high!r}{dtype_suffix(self.dtype)})"
        bounds = f"lower={law.low!r}, upper={law.high!r}, mean={law.loc!r}, absolute_bounds=True"
        return f"truncated_normal({law.scale!r}{dtype_suffix(self.dtype)}, {bounds})"


def bitwise(value: object) -> object:
    """`value` as a cache key that tells -0.0 from 0.0: floats and arrays by their bytes, the rest as they are.

    Compiled generators are cached by initializer, so two initializers may share one only
    when they would draw the same bits.
    """
    if isinstance(value, float | complex | np.ndarray | np.generic):
        array = np.asarray(value)
        return (type(value).__name__, array.dtype.str, array.shape, array.tobytes())
    return (type(value).__name__, value)  # True is not 1 here either


def dtype_suffix(dtype: np.dtype | None) -> str:
    """`, dtype='bfloat16'` for a factory's default dtype, '' when it has none."""
    return "" if dtype is None else f", dtype={np.dtype(dtype).name!r}"


@calls.rebuilt_as("uniform")
def uniform(scale: float = 1e-2, dtype: DTypeLike | None = None, **torch_style: object) -> RandomInitializer:
    """Builds an initializer drawing from U[0, scale), as `jax.nn.initializers.uniform` does.

    Args:
      scale: the upper bound; must be positive.
      dtype: the default dtype of the output.

    Returns:
      An initializer with mean `scale / 2` and std `scale / sqrt(12)`.

    Example:
      >>> import jax, jax_weightinit as wi
      >>> init = wi.uniform(10.0)
      >>> init.distribution((2, 3)).std  # 10 / sqrt(12)
      2.886751345948129
    """
    validation.torch_keywords("uniform", torch_style, "uniform", "scale, dtype")
    law = Distribution.uniform(0.0, validation.traceable("scale", scale, "positive"))
    return FixedLaw(law, validation.optional_dtype(dtype, allow_complex=False))


@calls.rebuilt_as("normal")
def normal(
    stddev: float = 1e-2, dtype: DTypeLike | None = None, *, mean: float = 0.0, **torch_style: object
) -> RandomInitializer:
    """Builds an initializer drawing from N(mean, stddev²), as `jax.nn.initializers.normal` does.

    Complex dtypes get real and imaginary parts i.i.d. N(mean, stddev²/2) around 0,
    so that E|z|² = stddev² (as `jax.random.normal` defines them); `mean` must then be 0.

    Args:
      stddev: the standard deviation; must be positive.
      dtype: the default dtype of the output.
      mean: the mean.

    Returns:
      An initializer.

    Example:
      >>> import jax, jax.numpy as jnp, jax_weightinit as wi
      >>> w = wi.normal(5.0)(jax.random.key(0), (256, 256), jnp.bfloat16)
      >>> w.dtype, bool(4.8 < float(w.astype(jnp.float32).std()) < 5.2)
      (dtype(bfloat16), True)
    """
    validation.torch_keywords("normal", torch_style, "normal", "stddev, dtype, mean")
    law = Distribution.normal(validation.traceable("mean", mean), validation.traceable("stddev", stddev, "positive"))
    complex_family = "normal" if not isinstance(mean, jax.Array) and law.loc == 0 else None
    return FixedLaw(law, validation.optional_dtype(dtype), complex_family)


@calls.rebuilt_as("truncated_normal")
def truncated_normal(
    stddev: float = 1e-2,
    dtype: DTypeLike | None = None,
    lower: float = -2.0,
    upper: float = 2.0,
    *,
    mean: float = 0.0,
    absolute_bounds: bool = False,
    stddev_after_truncation: bool = False,
    **torch_style: object,
) -> RandomInitializer:
    """Builds a truncated-normal initializer; by default exactly `jax.nn.initializers.truncated_normal`.

    By default the law is N(mean, stddev²) conditioned on
    `mean + lower·stddev < x < mean + upper·stddev`, and `stddev` is the std
    *before* truncation (so the samples' std is smaller: 0.8796·stddev for ±2).

    Args:
      stddev: the std before truncation, or after it with `stddev_after_truncation`.
      dtype: the default dtype of the output.
      lower: the lower bound, in units of `stddev` around `mean` (absolute with
        `absolute_bounds`); may be -inf, as in jax.nn.
      upper: the upper bound, likewise; may be inf.
      mean: the mean of the normal before truncation.
      absolute_bounds: read `lower` and `upper` as values, as torch's
        `trunc_normal_(a, b)` does, rather than in std units.
      stddev_after_truncation: make `stddev` the std of the samples themselves,
        as `variance_scaling` does.

    Returns:
      An initializer. Far-tail intervals are exact; for [5, 6] std every sample lies
      inside and the mean is 5.1831.

    Raises:
      ValueError: if `stddev` <= 0, `lower` >= `upper`, the interval is too deep in a
        tail to hold probability, or (with `stddev_after_truncation`) no normal
        truncated to absolute bounds has that std.

    Example:
      >>> import jax_weightinit as wi
      >>> law = wi.truncated_normal(1.0, lower=5.0, upper=6.0).distribution((1000,))
      >>> round(law.mean, 4)
      5.1831
      >>> round(wi.truncated_normal(0.1, stddev_after_truncation=True).distribution((4, 4)).std, 12)
      0.1
    """
    validation.torch_keywords(
        "truncated_normal", torch_style, "trunc_normal", "stddev, dtype, lower, upper, mean, absolute_bounds, ..."
    )
    stddev = validation.traceable("stddev", stddev, "positive")
    mean = validation.traceable("mean", mean)
    lower, upper = validation.traceable("lower", lower, "bound"), validation.traceable("upper", upper, "bound")
    traced_bounds = isinstance(lower, jax.Array) or isinstance(upper, jax.Array)
    if not traced_bounds and lower >= upper:
        raise ValueError(f"`lower` must be less than `upper`; got lower={lower!r}, upper={upper!r}.")
    if stddev_after_truncation and (traced_bounds if not absolute_bounds else isinstance(stddev, jax.Array)):
        raise TypeError(
            "`stddev_after_truncation` needs concrete bounds in std units, and with `absolute_bounds` a concrete "
            "`stddev`: the std before truncation is solved for on the host; pass those as Python numbers."
        )
    if not absolute_bounds:
        scale = stddev / truncated_moments(lower, upper)[1] if stddev_after_truncation else stddev  # type: ignore
        law = Distribution.truncated_normal(mean, scale, mean + lower * scale, mean + upper * scale, (lower, upper))
    else:
        scale = _scale_for_std(stddev, mean, lower, upper) if stddev_after_truncation else stddev  # type: ignore
        law = Distribution.truncated_normal(mean, scale, lower, upper)
    return FixedLaw(law, validation.optional_dtype(dtype, allow_complex=False))


def _scale_for_std(target: float, mean: float, lower: float, upper: float) -> float:
    """The pre-truncation std whose truncation to [lower, upper] has std `target`."""

    def std_at(scale: float) -> float:
        return scale * truncated_moments((lower - mean) / scale, (upper - mean) / scale)[1]

    limit = (upper - lower) / math.sqrt(12.0)  # the std as scale -> inf: uniform on the bounds
    if target >= limit:
        raise ValueError(
            f"`stddev` {target!r} is out of reach: a normal truncated to [{lower!r}, {upper!r}] has std "
            f"below {limit!r}."
        )
    low, high = target * 1e-3, target
    while std_at(high) < target:
        high *= 2.0
    for _ in range(200):
        mid = 0.5 * (low + high)
        low, high = (mid, high) if std_at(mid) < target else (low, mid)
    return 0.5 * (low + high)
