"""Argument checks shared by every initializer: one sentence per error."""

import inspect
import math
import numbers
import operator
import re
import warnings
from collections.abc import Sequence
from typing import Any

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


def attribute(value: object, name: str) -> object:
    """`value.name` for an instance, None for a class or a value without it.

    On a class such as `np.float32`, `dtype` is a descriptor, not a dtype, so user values
    are read through here rather than with a bare `getattr`.
    """
    return None if isinstance(value, type) else getattr(value, name, None)


def _is_key(value: object) -> bool:
    dt = attribute(value, "dtype")
    try:
        return dt is not None and bool(jnp.issubdtype(dt, jax.dtypes.prng_key))  # type: ignore[arg-type]
    except TypeError:  # a `dtype` attribute that is no dtype
        return False


def looks_like_key(value: object) -> bool:
    """A typed key, or what `jax.random.PRNGKey` returns (uint32[2], or uint32[4] for rbg): for hints only."""
    dt = attribute(value, "dtype")
    raw = isinstance(dt, np.dtype) and dt == np.uint32 and attribute(value, "shape") in ((2,), (4,))
    return raw or _is_key(value)


# A factory used as an initializer (`kernel_init=wi.he_normal`) receives the key as its first argument.
UNCALLED = "; an initializer factory was called with a key: pass `wi.he_normal()` (called), not `wi.he_normal`"


def is_factory(value: object) -> bool:
    """Whether `value` is one of the library's functions rather than an initializer (`wi.he_normal`, not
    `wi.he_normal()`); initializers are objects, never plain functions."""
    return inspect.isfunction(value) and getattr(value, "__module__", "").startswith("jax_weightinit.")


def real(name: str, value: object) -> float:
    """Returns `value` as a finite Python float, or raises."""
    if looks_like_key(value):
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


def traceable(name: str, value: object, kind: str = "real") -> Any:  # a float, or a traced Array
    """A continuous hyperparameter that may be traced (a scale swept by `vmap`, a `jit` argument, a `grad`
    variable): a tracer of one real number is returned as an array of the widest float dtype (float64 under
    jax_enable_x64, else float32), unchecked since its value is unknown; anything else is checked as `kind`
    ('real', 'positive' or 'bound') is and returned as a Python float."""
    if not isinstance(value, jax.core.Tracer):
        return {"real": real, "positive": positive, "bound": bound}[kind](name, value)
    dtype, shape = np.dtype(value.dtype), tuple(value.shape)
    if shape:
        raise TypeError(f"`{name}` must be one real number, not an array of shape {shape}; `vmap` over the values.")
    if dtype == np.bool_ or not (np.issubdtype(dtype, np.floating) or np.issubdtype(dtype, np.integer)):
        raise TypeError(f"`{name}` must be a real number; got a traced value of dtype {dtype.name}.")
    return jnp.asarray(value, jax.dtypes.canonicalize_dtype(np.float64))


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
    """Returns `value` as a tuple of non-negative Python ints, or raises.

    Accepts what `jax.nn.initializers` accepts: a sequence (or 1-D integer array) of
    Python, NumPy or concrete JAX ints; bools and traced dims are refused.
    """
    if isinstance(value, jax.core.Tracer) or any(isinstance(d, jax.core.Tracer) for d in _items(value)):
        raise TypeError(
            f"`shape` must hold concrete ints, not traced values; got {brief(value)}; "
            "mark the argument it comes from static (jax.jit's static_argnums)."
        )
    if isinstance(value, numbers.Integral) or not isinstance(value, Sequence | np.ndarray | jax.Array):
        raise TypeError(f"`shape` must be a sequence of non-negative ints, such as (256, 512); got {brief(value)}.")
    if isinstance(value, jax.Array):
        value = np.asarray(value)  # concrete (tracers are refused above); iterating it under a trace would trace
    if np.ndim(value) != 1:  # type: ignore[arg-type]
        raise TypeError(f"`shape` must be a sequence of non-negative ints, such as (256, 512); got {brief(value)}.")
    dims = tuple(_dim(d, value) for d in value)  # type: ignore[union-attr]
    if any(d < 0 for d in dims):
        raise ValueError(f"`shape` must contain only non-negative dims; got {dims!r}.")
    return dims


def _items(value: object) -> tuple[object, ...]:
    return tuple(value) if isinstance(value, Sequence) and not isinstance(value, str) else ()


def _dim(dim: object, value: object) -> int:
    """One dim as a Python int: a Python or NumPy int, or a 0-d integer array (what `x.shape[0] * 2` gives)."""
    dt = attribute(dim, "dtype")
    is_int_array = isinstance(dim, np.ndarray | jax.Array) and dim.ndim == 0 and jnp.issubdtype(dt, jnp.integer)  # type: ignore[arg-type]
    if isinstance(dim, bool | np.bool_) or not (isinstance(dim, numbers.Integral) or is_int_array):
        shown = repr(tuple(value)) if isinstance(value, Sequence) else brief(value)
        raise TypeError(f"`shape` must contain only ints; got {shown}.")
    return operator.index(dim)  # type: ignore[arg-type]


def axes(name: str, value: Axes) -> tuple[int, ...]:
    """Returns an axis or sequence of axes as a tuple of ints (not yet normalized)."""
    if looks_like_key(value):
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
    return canonical(result)


def canonical(value: np.dtype) -> np.dtype:
    """`value` as JAX will hold it, warning as `jax.random` does when x64 is off and a 64-bit dtype narrows."""
    result = np.dtype(jax.dtypes.canonicalize_dtype(value))
    if result != value:
        warnings.warn(
            f"Explicitly requested dtype {value.name} is not available without jax_enable_x64, and will be "
            f"truncated to dtype {result.name}.",
            UserWarning,
            stacklevel=5,
        )
    return result


def _signed_with_zero(dtype: np.dtype) -> bool:
    """Whether `dtype` holds 0 and -1, as every law here needs (float8_e8m0fnu, a scale type, does not)."""
    with np.errstate(invalid="ignore"):
        return bool(np.asarray([0.0, -1.0]).astype(dtype).astype(np.float64).tolist() == [0.0, -1.0])


def torch_keywords(name: str, keywords: dict[str, object], pytorch_name: str, allowed: str) -> None:
    """Refuses torch.nn.init's keywords on a jax.nn name, pointing to the `wi.pytorch` factory that takes them."""
    if keywords:
        given = ", ".join(sorted(keywords))
        raise TypeError(
            f"`{name}` takes jax.nn's arguments ({allowed}), not {given}; for torch.nn.init's use "
            f"wi.pytorch.{pytorch_name}."
        )


def optional_dtype(value: DTypeLike | None, *, allow_complex: bool = True) -> np.dtype | None:
    """Checks a factory's default `dtype`, keeping None as None."""
    return None if value is None else dtype(value, allow_complex=allow_complex)


def key(value: object) -> Array:
    """Returns `value` if it is a PRNG key (typed or legacy uint32), else raises a TypeError."""
    if isinstance(value, numbers.Number):
        raise TypeError(f"`key` must be a PRNG key such as jax.random.key({value!r}); got the number {value!r}.")
    dt = attribute(value, "dtype")
    if _is_key(value):
        batch = tuple(value.shape)  # type: ignore[attr-defined]
        if batch != ():
            raise ValueError(f"`key` must be a single key; got a key array of shape {batch}; use jax.vmap for a batch.")
        return value  # type: ignore[return-value]
    if isinstance(dt, np.dtype) and dt == np.uint32 and attribute(value, "ndim") == 1:
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
    raise TypeError(f"`key` must be a PRNG key from jax.random.key(seed); got {brief(value)}.")


def brief(value: object) -> str:
    """Names a user value briefly: an array by its dtype and shape, a container by its type and size."""
    dt, shape_value = attribute(value, "dtype"), attribute(value, "shape")
    if dt is not None and shape_value is not None:
        return f"an array of dtype {dt} and shape {tuple(shape_value)}"  # type: ignore[arg-type]
    text = repr(value)
    if len(text) <= 80:
        return text
    size = f" of {len(value)} item{'' if len(value) == 1 else 's'}" if isinstance(value, Sequence | dict) else ""
    package = type(value).__module__.partition(".")[0]
    kind = type(value).__name__ if package == "builtins" else f"{package} {type(value).__name__}"
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}{size}"


def call(
    key_value: object, shape_value: object, dtype_value: DTypeLike | None, default: np.dtype | None, allow_complex: bool
) -> tuple[Array, tuple[int, ...], np.dtype]:
    """Checks the arguments of an initializer call; `dtype_value` None means the factory's `default`."""
    return (
        key(key_value),
        shape(shape_value),
        dtype(default if dtype_value is None else dtype_value, allow_complex=allow_complex),
    )


def pattern(where: str, value: object) -> None:
    """Checks a path pattern of a rule or a stack declaration: a valid regex or a predicate `(path, leaf) -> bool`.

    `where` names the entry, as in "`rules[2]`".
    """
    if isinstance(value, str):
        try:
            re.compile(value)
        except re.error as e:
            raise ValueError(f"{where} pattern {value!r} is not a valid regular expression: {e}.") from None
    elif not callable(value):
        raise TypeError(f"{where} pattern must be a regex string or a predicate (path, leaf) -> bool; got {value!r}.")


def matches(value: object, path: str, leaf: object) -> bool:
    """Whether a checked pattern matches the leaf at `path`: `re.search` for a regex, else the predicate's word."""
    return bool(re.search(value, path)) if isinstance(value, str) else bool(value(path, leaf))  # type: ignore[operator]
