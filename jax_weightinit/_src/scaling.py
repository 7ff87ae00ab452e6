"""`scaled`: any initializer times a positive factor, with its law scaled exactly."""

import dataclasses
from collections.abc import Callable
from typing import overload

import jax.numpy as jnp
import numpy as np

from . import calls, validation
from .constant import Constant
from .core import Initializer, RandomInitializer
from .laws import Distribution
from .typing import Array, DTypeLike, Shape, Sharding


@dataclasses.dataclass(frozen=True, repr=False)
class Scaled(RandomInitializer):
    """A random initializer whose law is `init`'s scaled by `factor`: sampled as that law, not multiplied."""

    init: RandomInitializer
    factor: float
    dtype: np.dtype | None = None

    @property
    def complex_family(self) -> str | None:  # type: ignore[override]
        return self.init.complex_family

    def distribution(self, shape: Shape) -> Distribution:
        return self.init.distribution(shape).scaled(self.factor)

    def default_call(self) -> str:
        return calls.call("scaled", self.init, self.factor)


@dataclasses.dataclass(frozen=True, repr=False)
class ScaledOutput(calls.Rebuildable):
    """Any other initializer times `factor`: drawn in at least float32, multiplied, then cast once."""

    init: Callable
    factor: float

    def default_call(self) -> str:
        return calls.call("scaled", self.init, self.factor)

    def __call__(self, key: Array, shape: Shape, dtype: DTypeLike | None = None, out_sharding: Sharding = None):
        wanted = None if dtype is None else jnp.dtype(dtype)
        wide = wanted if wanted is None or wanted.itemsize >= 4 else jnp.dtype(jnp.float32)
        out = self.init(key, shape, wide, out_sharding=out_sharding) if out_sharding else self.init(key, shape, wide)
        return (out * jnp.asarray(self.factor, out.dtype)).astype(wanted or out.dtype)


@overload
def scaled(init: RandomInitializer, factor: float) -> RandomInitializer: ...


@overload
def scaled(init: Callable, factor: float) -> Initializer: ...


@calls.rebuilt_as("scaled")
def scaled(init: Callable, factor: float) -> Initializer:
    """Builds an initializer that draws `factor · X` for `X` drawn by `init`.

    For the library's random initializers the result samples the scaled law itself
    (bounds, std and mean times `factor`, rounded once to the dtype), and
    `.distribution(shape)` states it; the fans, and the layer-aware fans of
    `wi.flax.reinit` / `wi.equinox.reinit`, are `init`'s. A constant becomes the
    scaled constant; any other initializer (orthogonal, a foreign callable) is drawn
    in at least float32, multiplied and cast once.

    Args:
      init: an initializer, `init(key, shape, dtype)`.
      factor: the positive, finite multiplier.

    Returns:
      An initializer with `init`'s call protocol.

    Raises:
      TypeError: if `init` is not callable (e.g. a factory passed without `()`).
      ValueError: if `factor` is not positive and finite.

    Example:
      >>> import math, jax_weightinit as wi
      >>> out_proj = wi.scaled(wi.normal(0.02), 1 / math.sqrt(2 * 12))  # GPT-2's residual projections
      >>> round(out_proj.distribution((768, 768)).std, 6)
      0.004082
    """
    factor = validation.traceable("factor", factor, "positive")
    if isinstance(init, type) or not callable(init):
        raise TypeError(f"`init` must be an initializer such as wi.he_normal(); got {validation.brief(init)}.")
    if validation.is_factory(init):
        raise TypeError(f"`init` is the factory {init.__name__}; pass an initializer: {init.__name__}() (called).")
    if isinstance(init, RandomInitializer):
        inner = init.init if isinstance(init, Scaled) else init
        total = factor * init.factor if isinstance(init, Scaled) else factor
        return Scaled(inner, total, init.dtype)
    if isinstance(init, Constant):
        return Constant(init.value * factor, init.dtype)  # type: ignore[arg-type]
    return ScaledOutput(init, factor)
