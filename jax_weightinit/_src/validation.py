"""Argument checks shared by every initializer: one sentence per error."""

import math
import numbers
import operator
import warnings
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from .typing import Array, Axes, DTypeLike


def choice(name: str, value: object, allowed: Sequence[str]) -> str:
    """Returns `value` if it is one of `allowed`, else raises a ValueError."""
    if not isinstance(value, str) or value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"`{name}` must be one of {options}; got {value!r}.")
    return value


def _is_key(value: object) -> bool:
    dt = getattr(value, "dtype", None)
    return dt is not None and jnp.issubdtype(dt, jax.dtypes.prng_key)


# A factory used as an initializer (`kernel_init=wi.he_normal`) receives the key as its first argument.
UNCALLED = "; an initializer factory was called with a key: pass `wi.he_normal()` (called), not `wi.he_normal`"


def real(name: str, value: object) -> float:
    """Returns `value` as a finite Python float, or raises."""
    if _is_key(value):
        raise TypeError(f"`{name}` got a PRNG key{UNCALLED}.")
    if isinstance(value, bool) or not isinstance(value, numbers.Real | np.ndarray | jax.Array | np.generic):
        raise TypeError(f"`{name}` must be a real number; got {value!r}.")
    if isinstance(value, jax.core.Tracer):
        raise TypeError(f"`{name}` must be a concrete real number, not a traced value; got {value!r}.")
    array = np.asarray(value)
    if array.ndim != 0:
        raise TypeError(f"`{name}` must be a real number, not an array of shape {array.shape}.")
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise TypeError(f"`{name}` must be a real number; got {value!r} of dtype {array.dtype}.")
    result = float(array)
    if not math.isfinite(result):
        raise ValueError(f"`{name}` must be finite; got {result!r}.")
    return result


def bound(name: str, value: object) -> float:
    """Returns `value` as a Python float that may be ±inf (a truncation bound), but not NaN, or raises."""
    if isinstance(value, float | np.floating) and math.isinf(value):
        return float(value)
    return real(name, value)


def positive(name: str, value: object) -> float:
    """Returns `value` as a float if it is finite and > 0, else raises."""
    result = real(name, value)
    if result <= 0:
        raise ValueError(f"`{name}` must be positive; got {result!r}.")
    return result


def integer(name: str, value: object, low: int | None = None) -> int:
    """Returns `value` (a Python or NumPy int, not a bool) as an int, at least `low` when given, or raises."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an int; got {value!r}.")
    result = operator.index(value)
    if low is not None and result < low:
        wanted = {0: "a non-negative int", 1: "a positive int"}.get(low, f"an int of at least {low}")
        raise ValueError(f"`{name}` must be {wanted}; got {result!r}.")
    return result


def shape(value: object) -> tuple[int, ...]:
    """Returns `value` as a tuple of non-negative Python ints, or raises."""
    if isinstance(value, numbers.Integral) or not isinstance(value, Sequence | np.ndarray) or np.ndim(value) != 1:
        raise TypeError(f"`shape` must be a sequence of non-negative ints, such as (256, 512); got {value!r}.")
    dims = []
    for dim in value:
        if isinstance(dim, bool) or not isinstance(dim, numbers.Integral | np.integer):
            raise TypeError(f"`shape` must contain only ints; got {tuple(value)!r}.")
        if dim < 0:
            raise ValueError(f"`shape` must contain only non-negative dims; got {tuple(value)!r}.")
        dims.append(operator.index(dim))
    return tuple(dims)


def axes(name: str, value: Axes) -> tuple[int, ...]:
    """Returns an axis or sequence of axes as a tuple of ints (not yet normalized)."""
    if _is_key(value):
        raise TypeError(f"`{name}` got a PRNG key{UNCALLED}.")
    items = (value,) if isinstance(value, numbers.Integral) else value
    if not isinstance(items, Sequence) or any(
        isinstance(a, bool) or not isinstance(a, numbers.Integral) for a in items
    ):
        raise TypeError(f"`{name}` must be an int or a sequence of ints; got {value!r}.")
    return tuple(operator.index(a) for a in items)


def resolve_axes(name: str, value: tuple[int, ...], rank: int) -> tuple[int, ...]:
    """Maps possibly negative axes to positions in an array of `rank` dims."""
    for a in value:
        if not -rank <= a < rank:
            raise ValueError(f"`{name}` {value!r} is out of range for a shape of rank {rank}.")
    resolved = tuple(a % rank for a in value)
    if len(set(resolved)) != len(resolved):
        raise ValueError(f"`{name}` {value!r} names the same axis twice.")
    return resolved


def dtype(value: DTypeLike | None, *, allow_complex: bool = True) -> np.dtype:
    """Returns the canonical floating (or complex) dtype to produce, or raises.

    A 64-bit dtype without `jax_enable_x64` gives its 32-bit counterpart with a
    warning, as `jax.random` does.
    """
    if value is None:
        return np.dtype(jax.dtypes.canonicalize_dtype(jnp.float64))
    if _is_key(value):
        raise TypeError(f"`dtype` got a PRNG key{UNCALLED}.")
    try:
        result = np.dtype(value)
    except TypeError:
        raise TypeError(f"`dtype` must be a floating dtype; got {value!r}.") from None
    allowed = "a floating or complex dtype" if allow_complex else "a floating dtype"
    if jnp.issubdtype(result, jnp.complexfloating):
        if not allow_complex:
            raise TypeError(f"`dtype` must be {allowed}; got {result.name}.")
    elif not jnp.issubdtype(result, jnp.floating):
        raise TypeError(f"`dtype` must be {allowed}; got {result.name}.")
    elif not _signed_with_zero(result):
        raise TypeError(f"`dtype` {result.name} cannot represent 0 or negative values; use a signed float dtype.")
    canonical = np.dtype(jax.dtypes.canonicalize_dtype(result))
    if canonical != result:
        warnings.warn(
            f"Explicitly requested dtype {result.name} is not available without jax_enable_x64, and will be "
            f"truncated to dtype {canonical.name}.",
            UserWarning,
            stacklevel=4,
        )
    return canonical


def _signed_with_zero(dtype: np.dtype) -> bool:
    """Whether `dtype` holds 0 and -1, as every law here needs (float8_e8m0fnu, a scale type, does not)."""
    with np.errstate(invalid="ignore"):
        return bool(np.asarray([0.0, -1.0]).astype(dtype).astype(np.float64).tolist() == [0.0, -1.0])


def optional_dtype(value: DTypeLike | None, *, allow_complex: bool = True) -> np.dtype | None:
    """Checks a factory's default `dtype`, keeping None as None."""
    return None if value is None else dtype(value, allow_complex=allow_complex)


def key(value: object) -> Array:
    """Returns `value` if it is a PRNG key (typed or legacy uint32), else raises a TypeError."""
    if isinstance(value, numbers.Number):
        raise TypeError(f"`key` must be a PRNG key such as jax.random.key({value!r}); got the number {value!r}.")
    dt = getattr(value, "dtype", None)
    if dt is not None and jnp.issubdtype(dt, jax.dtypes.prng_key):
        batch = tuple(value.shape)  # type: ignore[attr-defined]
        if batch != ():
            raise ValueError(f"`key` must be a single key; got a key array of shape {batch}; use jax.vmap for a batch.")
        return value  # type: ignore[return-value]
    if dt == np.uint32 and getattr(value, "ndim", None) == 1:
        # A legacy raw key has the default implementation's shape: 2 words for threefry, 4 for rbg.
        words = 2 if jax.config.jax_default_prng_impl == "threefry2x32" else 4  # type: ignore[attr-defined]
        if value.shape[0] == words:  # type: ignore[attr-defined]
            return value  # type: ignore[return-value]
        raise TypeError(
            f"`key` is a raw uint32[{value.shape[0]}] key, but the default PRNG implementation takes "  # type: ignore[attr-defined]
            f"uint32[{words}]; use a typed key such as jax.random.key(0, impl=...)."
        )
    if isinstance(value, Sequence) and all(isinstance(d, numbers.Integral) for d in value):
        raise TypeError(
            f"`key` must be a PRNG key, but got the shape-like {value!r}; Haiku calls initializers as "
            "init(shape, dtype): wrap it with wi.to_haiku(init)."
        )
    raise TypeError(f"`key` must be a PRNG key from jax.random.key(seed); got {_describe(value)}.")


def _describe(value: object) -> str:
    if hasattr(value, "dtype") and hasattr(value, "shape"):
        return f"an array of dtype {value.dtype} and shape {tuple(value.shape)}"  # type: ignore[attr-defined]
    return repr(value)


def call(
    key_value: object, shape_value: object, dtype_value: DTypeLike | None, default: np.dtype | None, allow_complex: bool
) -> tuple[Array, tuple[int, ...], np.dtype]:
    """Checks the arguments of an initializer call; `dtype_value` None means the factory's `default`."""
    return (
        key(key_value),
        shape(shape_value),
        dtype(default if dtype_value is None else dtype_value, allow_complex=allow_complex),
    )
