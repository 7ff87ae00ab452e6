"""Statistical assertions on initializers, calibrated to a false-alarm rate of 1e-4.

Each assertion raises `AssertionError` naming the statistic, its threshold, the
sample size and what was expected. Given concrete arrays they check at once; given
traced values inside `chex.chexify(jax.jit(f))` they record a `checkify` check that
fails when the chexified call returns. Like chex's own assertions they do nothing
after `chex.disable_asserts()`, until `chex.enable_asserts()`.
"""

import functools
import math
import statistics
from collections.abc import Callable
from typing import ParamSpec

import chex
import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import checkify

from . import sampling, validation
from .typing import ArrayLike

#: Default false-alarm probability of each assertion (PyTorch's init tests use 1e-4).
ALPHA = 1e-4
#: Default sample size of `assert_follows`, from its power analysis (see the statistical testing guide).
SAMPLES = 1 << 18


P = ParamSpec("P")


def asserts_enabled() -> bool:
    """Whether chex's assertions run: read through chex's own switch (`chex.disable_asserts()`), by asking one of
    its assertions that always fails whether it ran."""
    try:
        chex.assert_equal(0, 1)
    except AssertionError:
        return True
    return False


def chex_assertion(assertion: Callable[P, None]) -> Callable[P, None]:
    """`assertion`, switched on and off with chex's assertions."""

    @functools.wraps(assertion)
    def checked(*args: P.args, **kwargs: P.kwargs) -> None:
        if asserts_enabled():
            assertion(*args, **kwargs)

    return checked


def ks_threshold(n: int, alpha: float = ALPHA) -> float:
    """Critical KS distance for `n` samples: P(D > threshold) ≈ alpha (Stephens' correction)."""
    root = math.sqrt(n)
    return math.sqrt(-0.5 * math.log(alpha / 2.0)) / (root + 0.12 + 0.11 / root)


def check_alpha(alpha: float) -> None:
    if not (isinstance(alpha, int | float) and 0 < alpha < 1):
        raise ValueError(f"`alpha` must be in (0, 1); got {alpha!r}.")


def _fail(name: str, message: str, ok: ArrayLike, *values: ArrayLike) -> None:
    """Raises `AssertionError` now, or records a checkify check when `ok` is traced."""
    if isinstance(ok, jax.core.Tracer):
        text = message.replace("{", "{{").replace("}", "}}").replace("<<", "{").replace(">>", "}")
        checkify.check(ok, f"[Chex] chexify assertion '{name}' failed: {text}", *values)
    elif not bool(ok):
        filled = message
        for v in values:
            filled = filled.replace("<<>>", f"{float(np.asarray(v)):.6g}", 1)
        raise AssertionError(f"{name}: {filled}")


def ks_distance(xp, x, cdf: Callable):
    """The one-sample KS distance of sorted samples `x` (NumPy or traced) to a continuous `cdf`."""
    n = x.size
    f = cdf(x)
    i = xp.arange(1, n + 1)
    return xp.maximum(xp.max(i / n - f), xp.max(f - (i - 1) / n))


def moments(xp, x, alpha: float):
    """(sample mean, sample std, the mean's bound and the std's bound, each in units of the expected std).

    The bound on the mean is z/√n; on the std it is z·sqrt((κ - 1)/(4n)), with κ the
    sample kurtosis (3 for a normal) and z the two-sided normal quantile for `alpha`
    shared by the two checks.
    """
    n = x.size
    z = -statistics.NormalDist().inv_cdf(alpha / 4.0)  # P(Z > z) = alpha / 4
    m = xp.mean(x)
    squares = (x - m) ** 2  # squared twice for the fourth power: `** 4` is a slow pow in NumPy
    variance = xp.mean(squares)
    s = xp.sqrt(variance)
    kurtosis = xp.mean(squares * squares) / xp.maximum(variance * variance, 1e-300 if xp is np else 1e-30)
    return m, s, z / math.sqrt(n), z * xp.sqrt(xp.maximum(kurtosis - 1.0, 0.0) / (4.0 * n))


def _flat(samples: ArrayLike):
    if isinstance(samples, jax.core.Tracer):
        return jnp.ravel(samples).astype(jnp.float32), jnp
    return np.ravel(np.asarray(samples, dtype=np.float64)), np


@chex_assertion
def assert_ks(samples: ArrayLike, cdf: Callable, *, alpha: float = ALPHA, name: str = "assert_ks") -> None:
    """Asserts that `samples` pass a one-sample Kolmogorov–Smirnov test against `cdf`.

    For bfloat16 and float16 samples the reference is the law rounded to that dtype,
    so a sampler with the dtype's full resolution passes and a coarse one fails.

    Args:
      samples: i.i.d. samples, any shape.
      cdf: the reference CDF, vectorised (e.g. `Distribution.cdf`).
      alpha: the false-alarm probability.
      name: the assertion's name in the message.

    Raises:
      AssertionError: if the KS distance exceeds its critical value.

    Example:
      >>> import jax, jax_weightinit as wi
      >>> from jax_weightinit import testing
      >>> init = wi.he()
      >>> w = init(jax.random.key(0), (512, 512))
      >>> testing.assert_ks(w, init.distribution((512, 512)).cdf)
    """
    check_alpha(alpha)
    given = validation.attribute(samples, "dtype")
    dtype = np.dtype(given) if given is not None else np.dtype(np.float64)  # type: ignore[call-overload]
    traced = isinstance(samples, jax.core.Tracer)
    xp = jnp if traced else np
    if jnp.issubdtype(dtype, jnp.floating) and dtype.itemsize <= 2:
        # The reference is the law rounded to `dtype`: its CDF steps at each representable
        # value v, from F(midpoint below v) to F(midpoint above v).
        v = xp.sort(xp.ravel(samples if traced else np.asarray(samples)))
        wide = jnp.float32 if traced else np.float64
        up = xp.nextafter(v, xp.asarray(np.inf, dtype)).astype(wide)
        down = xp.nextafter(v, xp.asarray(-np.inf, dtype)).astype(wide)
        v = v.astype(wide)
        n = v.size
        upper, lower = cdf(0.5 * (v + up)), cdf(0.5 * (down + v))
        first, last = xp.searchsorted(v, v, side="left"), xp.searchsorted(v, v, side="right")
        distance = xp.maximum(xp.max(last / n - upper), xp.max(lower - first / n))
    else:
        x, xp = _flat(samples)
        n = x.size
        distance = ks_distance(xp, xp.sort(x), cdf)
    threshold = ks_threshold(n, alpha)
    _fail(
        name,
        f"KS distance <<>> exceeds {threshold:.6g} (n={n}, alpha={alpha:g}); "
        "the samples do not follow the expected law.",
        distance <= threshold,
        distance,
    )


@chex_assertion
def assert_moments(
    samples: ArrayLike,
    *,
    std: float,
    mean: float | None = None,
    alpha: float = ALPHA,
    name: str = "assert_moments",
) -> None:
    """Asserts the sample mean and std agree with `mean` and `std` within a (1 - alpha) bound.

    The bound on the mean is z·std/√n; on the std it is z·std·sqrt((κ - 1)/(4n)), with
    κ the sample kurtosis (3 for a normal), z the two-sided normal quantile.

    Args:
      samples: i.i.d. samples.
      std: the expected standard deviation; it also scales the bound on the mean.
      mean: the expected mean, or None to skip that check.
      alpha: the false-alarm probability, shared by the two checks.
      name: the assertion's name in the message.

    Raises:
      AssertionError: if a moment falls outside its bound.

    Example:
      >>> import jax, jax_weightinit as wi
      >>> from jax_weightinit import testing
      >>> w = wi.glorot_uniform()(jax.random.key(0), (512, 512))
      >>> testing.assert_moments(w, mean=0.0, std=(1 / 512) ** 0.5)
    """
    if not (isinstance(std, int | float) and std > 0 and math.isfinite(std)):
        raise ValueError(f"`std` must be a positive finite number; got {std!r}.")
    check_alpha(alpha)
    x, xp = _flat(samples)
    n = x.size
    m, s, mean_bound, std_bound = moments(xp, x, alpha)
    if mean is not None:
        bound = mean_bound * std
        _fail(
            name,
            f"sample mean <<>> differs from {mean:.6g} by more than {bound:.6g} (n={n}, alpha={alpha:g}).",
            xp.abs(m - mean) <= bound,
            m,
        )
    bound = std_bound * std
    _fail(
        name,
        f"sample std <<>> differs from {std:.6g} by more than <<>> (n={n}, alpha={alpha:g}).",
        xp.abs(s - std) <= bound,
        s,
        bound,
    )


@chex_assertion
def assert_bounds(samples: ArrayLike, low: float | None, high: float | None, *, name: str = "assert_bounds") -> None:
    """Asserts every sample is finite and lies in [low, high] (None: unbounded).

    Example:
      >>> import jax, jax_weightinit as wi
      >>> from jax_weightinit import testing
      >>> w = wi.xavier()(jax.random.key(0), (10, 20))
      >>> testing.assert_bounds(w, -(10 ** -0.5), 10 ** -0.5)
    """
    x, xp = _flat(samples)
    _fail(name, f"<<>> of {x.size} samples are not finite.", xp.all(xp.isfinite(x)), xp.sum(~xp.isfinite(x)))
    if low is not None:
        _fail(name, f"the minimum <<>> is below the lower bound {low!r} (n={x.size}).", xp.min(x) >= low, xp.min(x))
    if high is not None:
        _fail(name, f"the maximum <<>> is above the upper bound {high!r} (n={x.size}).", xp.max(x) <= high, xp.max(x))


@chex_assertion
def assert_same_distribution(a: ArrayLike, b: ArrayLike, *, alpha: float = ALPHA) -> None:
    """Asserts two sets of samples pass a two-sample KS test (concrete arrays only).

    Example:
      >>> import jax, jax_weightinit as wi
      >>> from jax_weightinit import testing
      >>> a = wi.he_normal()(jax.random.key(0), (256, 256))
      >>> b = jax.nn.initializers.he_normal()(jax.random.key(1), (256, 256))
      >>> testing.assert_same_distribution(a, b)
    """
    x, y = np.sort(_flat(a)[0]), np.sort(_flat(b)[0])
    n, m = x.size, y.size
    grid = np.concatenate([x, y])
    distance = np.max(np.abs(np.searchsorted(x, grid, "right") / n - np.searchsorted(y, grid, "right") / m))
    threshold = ks_threshold(n * m // (n + m), alpha)
    _fail(
        "assert_same_distribution",
        f"two-sample KS distance <<>> exceeds {threshold:.6g} (n={n}, m={m}, alpha={alpha:g}).",
        distance <= threshold,
        distance,
    )


@chex_assertion
def assert_orthogonal(w: ArrayLike, scale: float = 1.0, column_axis: int = -1, *, atol: float | None = None) -> None:
    """Asserts `w`, as a matrix with `column_axis` last, has orthogonal rows or columns of norm `scale`.

    Rows when there are no more rows than columns, else columns (as `orthogonal` builds).
    The default tolerance is 10·eps·sqrt(n) of the dtype, computed in float32 or better.

    Example:
      >>> import jax, jax_weightinit as wi
      >>> from jax_weightinit import testing
      >>> testing.assert_orthogonal(wi.orthogonal(2.0)(jax.random.key(0), (3, 3, 16, 32)), 2.0)
    """
    w = jnp.asarray(w)
    if not jnp.issubdtype(w.dtype, jnp.inexact):
        raise TypeError(f"`w` must be a floating or complex array; got dtype {w.dtype}.")
    if w.ndim < 2:
        raise ValueError(f"`w` must have at least 2 dims; got shape {w.shape}.")
    compute = sampling.compute_dtype(w.dtype)
    if jnp.issubdtype(w.dtype, jnp.complexfloating):
        compute = jnp.result_type(compute, jnp.complex64)
    matrix = jnp.moveaxis(w, column_axis, -1).reshape(-1, w.shape[column_axis]).astype(compute)
    rows, cols = matrix.shape
    gram = matrix @ matrix.conj().T if rows <= cols else matrix.conj().T @ matrix
    k = min(rows, cols)
    if atol is None:
        atol = 10.0 * float(jnp.finfo(w.dtype).eps) * math.sqrt(max(rows, cols)) * scale**2
    error = jnp.max(jnp.abs(gram - scale**2 * jnp.eye(k, dtype=compute)))
    _fail(
        "assert_orthogonal",
        f"max |W Wᵀ - scale² I| is <<>>, above atol={atol:.3g} (shape {w.shape}).",
        error <= atol,
        error,
    )
