"""Constants: `constant`, `zeros` and `ones`, with jax.nn's broadcasting and refusals where a dtype cannot hold them."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from . import calls, placement, sampling, validation
from .core import Initializer, bitwise, dtype_suffix
from .typing import Array, ArrayLike, DTypeLike, Shape, Sharding

_NO_VALUE: ArrayLike = object()  # type: ignore[assignment]  # `constant()` called with no value


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Constant(calls.Rebuildable):
    """An initializer that fills arrays with one value, or broadcasts one array; the key is ignored.

    Two constants are equal only when their values are bit for bit the same (so -0.0
    is not 0.0), since compiled generators are cached by initializer.
    """

    value: complex | float | int | bool | np.ndarray | jax.core.Tracer
    dtype: np.dtype | None = None

    def _identity(self) -> tuple:
        if isinstance(self.value, jax.core.Tracer):
            return ("traced", id(self.value), self.dtype)
        return (bitwise(self.value), self.dtype)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._identity() == other._identity()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._identity())

    def default_call(self) -> str:
        return f"constant({calls.source(self.value)}{dtype_suffix(self.dtype)})"

    def __call__(
        self,
        key: Array,
        shape: Shape,
        dtype: DTypeLike | None = None,
        out_sharding: Sharding = None,
    ) -> Array:
        """Returns `jnp.full(shape, value, dtype)`."""
        shape, dtype = self.checked(shape, dtype)
        sharding = placement.resolve(out_sharding, shape)
        return placement.settle(sampling.full(self.value, shape, dtype, sharding), sharding)

    def checked(self, shape: Shape, dtype: DTypeLike | None = None) -> tuple[tuple[int, ...], np.dtype]:
        """(shape, dtype) of a call with `shape` and `dtype`, or the error that call raises."""
        shape = validation.shape(shape)
        dtype = self.dtype if dtype is None else dtype
        dtype = validation.dtype(None) if dtype is None else _numeric_dtype(dtype)
        if not isinstance(self.value, jax.core.Tracer) and not _holds(dtype, self.value):
            raise ValueError(f"`dtype` {dtype.name} cannot represent the constant {self.value!r}.")
        if isinstance(self.value, np.ndarray | jax.core.Tracer):
            try:
                fits = np.broadcast_shapes(self.value.shape, shape) == shape
            except ValueError:
                fits = False
            if not fits:
                raise ValueError(
                    f"the constant's value of shape {self.value.shape} does not broadcast to `shape` {shape}."
                )
        return shape, dtype


def _holds(dtype: np.dtype, value: object) -> bool:
    """Whether `dtype` holds `value` up to rounding: no overflow to inf, no NaN for a code it lacks (0 in
    float8_e8m0fnu), no integer saturation, truncation or dropped imaginary part."""
    v = np.asarray(value, np.complex128)
    if jnp.issubdtype(dtype, jnp.inexact):
        with np.errstate(invalid="ignore", over="ignore"):
            cast = np.asarray(np.asarray(value).astype(dtype), np.complex128)
        return not ((np.isfinite(v) & ~np.isfinite(cast)) | (np.isnan(cast) & ~np.isnan(v))).any()
    if jnp.issubdtype(dtype, jnp.integer):
        info = jnp.iinfo(dtype)
        exact = np.isfinite(v) & (v.imag == 0) & (v.real == np.round(v.real))
        return bool((exact & (v.real >= int(info.min)) & (v.real <= int(info.max))).all())
    return True


def _numeric_dtype(dtype: DTypeLike) -> np.dtype:
    try:
        result = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"`dtype` must be a numeric dtype; got {validation.brief(dtype)}.") from None
    if not (jnp.issubdtype(result, jnp.number) or result == np.bool_):
        raise TypeError(f"`dtype` must be a numeric dtype; got {result.name}.")
    return validation.canonical(result)


@calls.rebuilt_as("constant")
def constant(value: ArrayLike = _NO_VALUE, dtype: DTypeLike | None = None, **torch_style: object) -> Initializer:
    """Builds an initializer that fills arrays with `value`, as `jax.nn.initializers.constant` does.

    Args:
      value: a number, or an array-like broadcast to each shape it is called with
        (NumPy broadcasting: trailing dims match or are 1).
      dtype: the default dtype of the output.

    Returns:
      An initializer; its key is ignored.

    Raises:
      TypeError: if `value` is not numeric.
      ValueError: when called, if an array `value` does not broadcast to the shape.

    Example:
      >>> import jax, jax.numpy as jnp, jax_weightinit as wi
      >>> wi.constant(-7)(jax.random.key(0), (2, 3), jnp.float32)
      Array([[-7., -7., -7.],
             [-7., -7., -7.]], dtype=float32)
      >>> wi.constant([1.0, 2.0, 3.0])(jax.random.key(0), (2, 3), jnp.float32)
      Array([[1., 2., 3.],
             [1., 2., 3.]], dtype=float32)
    """
    validation.torch_keywords("constant", torch_style, "constant", "value, dtype")
    if value is _NO_VALUE:
        raise TypeError("`constant` needs the `value` to fill with, as in wi.constant(0.5).")
    default = None if dtype is None else _numeric_dtype(dtype)
    if isinstance(value, jax.core.Tracer):  # a value computed under the caller's jit, as jax.nn allows
        if not (jnp.issubdtype(value.dtype, jnp.number) or value.dtype == jnp.bool_):
            raise TypeError(f"`value` must be a number or an array of numbers; got {value!r}.")
        return Constant(value, default)
    try:
        array = np.asarray(value)
    except TypeError:
        raise TypeError(f"`value` must be a number or an array of numbers; got {value!r}.") from None
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise TypeError(f"`value` must be a number or an array of numbers; got {value!r}.")
    if array.ndim == 0:
        return Constant(array.item(), default)
    array = array.copy()
    array.flags.writeable = False
    return Constant(array, default)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class _Named(Constant):
    """`zeros` and `ones`: initializers themselves, as in jax.nn, that say so when called like factories."""

    name: str = ""
    shared = True

    def default_call(self) -> str:
        return self.name

    def __call__(
        self,
        key: Array = None,  # type: ignore[assignment]  # the key is ignored, as jax.nn's is
        shape: Shape = None,  # type: ignore[assignment]
        dtype: DTypeLike | None = None,
        out_sharding: Sharding = None,
    ) -> Array:
        if shape is None:
            raise TypeError(
                f"`{self.name}` is already an initializer, called as {self.name}(key, shape, dtype): pass "
                f"wi.{self.name}, not wi.{self.name}()."
            )
        return super().__call__(key, shape, dtype, out_sharding)


#: An initializer of zeros, as `jax.nn.initializers.zeros`, called as `zeros(key, shape, dtype)`; the key is ignored.
zeros = _Named(0, name="zeros")
#: An initializer of ones, as `jax.nn.initializers.ones`, called as `ones(key, shape, dtype)`; the key is ignored.
ones = _Named(1, name="ones")


@calls.rebuilt_as("zeros_init")
def zeros_init() -> Initializer:
    """Builds `zeros`, as Flax's `nn.initializers.zeros_init()` does."""
    return zeros


@calls.rebuilt_as("ones_init")
def ones_init() -> Initializer:
    """Builds `ones`, as Flax's `nn.initializers.ones_init()` does."""
    return ones
