"""`assert_follows`: does an initializer sample the law it states, and if not, what is off, in a user's terms."""

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from . import foreign, stacks, validation
from .laws import Distribution
from .rounded import RoundedLaw, rounded
from .testing import ALPHA, SAMPLES, check_alpha, chex_assertion, ks_distance, ks_threshold, moments
from .typing import Array, DTypeLike, Shape

# Up to this many keys are drawn by one call each, which all run the initializer's compiled draw; a `vmap`
# would compile a batched program, which costs more than that many calls (docs/design.md).
LOOPED_KEYS = 256


def _draw(init: Callable, key: Array, shape: tuple[int, ...], dtype, samples: int) -> Array | np.ndarray:
    """`init(key, shape, dtype)`, or a stack of draws from split keys when one has fewer than `samples` values."""
    size = math.prod(shape)
    reps = max(1, math.ceil(samples / size))
    if reps == 1:
        return init(key, shape, dtype)
    keys = jax.random.split(key, reps)
    if reps > LOOPED_KEYS:
        return jax.vmap(lambda k: init(k, shape, dtype))(keys)
    return np.stack([np.asarray(init(k, shape, dtype)) for k in _unstacked(keys)])


def _unstacked(keys: Array) -> list[Array]:
    """The keys of a stack, one by one, through the host: indexing or unstacking would compile per count."""
    if not jax.dtypes.issubdtype(keys.dtype, jax.dtypes.prng_key):  # raw uint32 keys
        return [jnp.asarray(k) for k in np.asarray(keys)]
    impl = jax.random.key_impl(keys)
    return [jax.random.wrap_key_data(k, impl=impl) for k in np.asarray(jax.random.key_data(keys))]


def _ks(x: np.ndarray, cdf: Callable, grid: RoundedLaw | None) -> float:
    """The KS distance of sorted `x` to the law, or to the rounded law when `grid` is given."""
    n = x.size
    if grid is not None:  # both CDFs are steps at the grid's values
        points = np.union1d(grid.values, x)
        return float(np.max(np.abs(np.searchsorted(x, points, side="right") / n - grid.cdf(points))))
    return float(ks_distance(np, x, cdf))


def _check_args(dtype: np.dtype, alpha: float, samples: int) -> None:
    check_alpha(alpha)
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 2:
        raise ValueError(f"`samples` must be an int of at least 2; got {samples!r}.")
    if jnp.issubdtype(dtype, jnp.complexfloating):
        raise TypeError(
            f"`dtype` {dtype.name} is complex; assert_follows checks real laws: check the real and imaginary "
            "parts, each N(0, std²/2) for a complex normal, with assert_ks."
        )
    if dtype.itemsize == 8 and not jax.config.read("jax_enable_x64"):
        raise ValueError(
            f"`dtype` {dtype.name} needs jax.config.update('jax_enable_x64', True); without it JAX draws 32 bits."
        )


@chex_assertion
def assert_follows(
    init: Callable,
    key: Array,
    shape: Shape,
    dtype: DTypeLike | None = None,
    *,
    samples: int = SAMPLES,
    alpha: float = ALPHA,
    law: Distribution | None = None,
    stack_axes: int = 0,
) -> None:
    """Asserts `init(key, shape, dtype)` samples `init.distribution(shape)` (or `law`), rounded to the dtype.

    With `stack_axes`, `shape` is a stack of layers (its first `stack_axes` axes) and
    `init` is drawn on it as `init_tree` draws a stacked leaf (the library's laws at one
    layer's fans, others once per layer at split keys): every layer must follow one
    layer's law and the layers must differ from one another.

    Draws at least `samples` values (several keys when the shape is small) and checks
    dtype, shape, finiteness, the support (rounded to the dtype), the KS distance, and
    the mean and std, the three statistical checks sharing `alpha`. The reference is
    the law rounded to the dtype wherever few representable values carry its mass —
    every 8- and 16-bit dtype, and float32 far from zero relative to the std — so a
    sampler with the dtype's full resolution passes and a coarser one fails.

    A failure says what is off, in one message: the observed/expected std ratio, the
    mean shift in units of the std, the samples beyond the bounds, the KS distance, and
    for a coarse sampler the number of distinct values against the number expected.

    At the defaults (2^18 samples, alpha = 1e-4) it catches, in the library's tests:
    a 5% error in std, a uniform posing as a normal of the same std, a truncated
    normal missing its 0.8796 std correction, and bfloat16 normals with 128 levels.

    Args:
      init: an initializer.
      key: a PRNG key.
      shape: the shape to draw; it must have elements.
      dtype: a real dtype to draw (default: the initializer's).
      samples: the least number of values to draw.
      alpha: the false-alarm probability of the whole assertion, in (0, 1).
      law: the expected law; required when `init` states none (a plain function other
        than jax.nn's `variance_scaling` family, `normal` and `uniform`, whose laws are known).
      stack_axes: how many leading axes of `shape` index stacked layers.

    Raises:
      AssertionError: if any check fails.
      TypeError, ValueError: for a complex dtype, 64 bits without x64, an empty shape,
        an `alpha` outside (0, 1), or an `init` without a law and no `law=`.

    Example:
      >>> import jax, jax.numpy as jnp, jax_weightinit as wi
      >>> from jax_weightinit import testing
      >>> testing.assert_follows(wi.he_normal(), jax.random.key(0), (3, 3, 64, 128), jnp.bfloat16)
    """
    shape = validation.shape(shape)
    if math.prod(shape) == 0:
        raise ValueError(f"`shape` {shape!r} has no elements to test.")
    if isinstance(stack_axes, bool) or not isinstance(stack_axes, int) or not 0 <= stack_axes < len(shape):
        raise ValueError(f"`stack_axes` must be an int in [0, {len(shape)}) for the shape {shape}; got {stack_axes!r}.")
    if stack_axes:  # drawn as `init_tree` draws a stack
        layer_dtype = validation.dtype(dtype if dtype is not None else getattr(init, "dtype", None))
        init = stacks.per_layer(init, shape, layer_dtype, tuple(range(stack_axes)))
    if law is None:
        inner, at = init, shape
        if isinstance(init, stacks.PerLayer):
            inner, at = init.init, stacks.split(shape, init.axes)[1]
        distribution = getattr(inner, "distribution", None) or getattr(foreign.equivalent(inner), "distribution", None)
        if distribution is None:
            raise TypeError(
                f"`init` {getattr(inner, '__name__', inner)!r} states no law; pass the expected one as "
                "`law=`, e.g. law=wi.Distribution.normal(0.0, 0.02)."
            )
        law = distribution(at)
    wanted = None if dtype is None else np.dtype(dtype)
    _check_args(wanted if wanted is not None else np.dtype(np.float32), alpha, samples)
    draws = _draw(init, key, shape, dtype, samples)
    one = draws if draws.shape == shape else draws[0]
    if one.shape != shape:
        raise AssertionError(f"assert_follows: the initializer returned shape {one.shape}, not {shape}.")
    if wanted is not None and one.dtype != wanted:
        raise AssertionError(f"assert_follows: the initializer returned dtype {one.dtype}, not {wanted.name}.")
    out_dtype = np.dtype(draws.dtype)
    _check_args(out_dtype, alpha, samples)
    if stack_axes:
        layers = np.asarray(one).reshape(math.prod(shape[:stack_axes]), -1)
        distinct = len({row.tobytes() for row in layers})
        if distinct < len(layers):
            raise AssertionError(
                f"assert_follows: only {distinct} of the {len(layers)} stacked layers differ from one another; "
                "each layer needs a key of its own."
            )
    x = np.sort(np.ravel(np.asarray(draws, np.float64)))
    problems = _diagnose(x, law, out_dtype, alpha)
    if problems:
        raise AssertionError(f"assert_follows: the {out_dtype.name} samples do not follow {_name(law)}: {problems}")


def _name(law: Distribution) -> str:
    bounds = "" if law.low is None else f" on [{law.low:.6g}, {law.high:.6g}]"
    return f"{law.family}(mean={law.mean:.6g}, std={law.std:.6g}){bounds}"


def _diagnose(x: np.ndarray, law: Distribution, dtype: np.dtype, alpha: float) -> str:
    """What is off, one clause per failed check (with the context that explains it), or ''."""
    n = x.size
    grid = rounded(law, dtype)
    mean, std = (grid.mean, grid.std) if grid is not None else (law.mean, law.std)
    failed: list[str] = []
    context: list[str] = []

    finite = np.isfinite(x)
    low, high = law.rounded_bounds(dtype)
    outside = int(np.sum(~finite) + (0 if low is None else np.sum(x[finite] < low)))
    outside += 0 if high is None else int(np.sum(x[finite] > high))
    if outside:
        where = "not finite" if low is None and high is None else f"outside [{low:.6g}, {high:.6g}] or not finite"
        failed.append(f"{outside} of {n} samples are {where}")
    x = x[finite]

    threshold = ks_threshold(n, alpha / 3.0)
    distance = _ks(x, law.cdf, grid)
    ks = f"KS distance {distance:.4g} {'exceeds' if distance > threshold else 'within'} {threshold:.4g}"

    m, s, mean_bound, std_bound = (float(v) for v in moments(np, x, 2.0 * alpha / 3.0))
    shift, ratio = (m - mean) / std, s / std
    mean_text = f"mean off by {shift:+.3g}σ from the law's {mean:.6g} (allowed ±{mean_bound:.2g}σ)"
    std_text = f"std {ratio:.4f}× the law's {std:.6g} (allowed {1 - std_bound:.4f}–{1 + std_bound:.4f})"
    for ok, text in ((abs(shift) <= mean_bound, mean_text), (abs(ratio - 1.0) <= std_bound, std_text)):
        (context if ok else failed).append(text)
    (context if distance <= threshold else failed).append(ks)
    if not failed:
        return ""
    if grid is not None:
        distinct, expected = np.unique(x).size, grid.expected_distinct(n)
        coarse = distinct < 0.8 * expected
        context.append(
            f"{distinct} distinct values where a sampler with {dtype.name}'s full resolution gives about "
            f"{expected:.0f}" + (": the sampler is coarser than the dtype" if coarse else "")
        )
    message = "; ".join(failed)
    return f"{message} (n={n}, alpha={alpha:g}). Also: {'; '.join(context)}." if context else f"{message}."
