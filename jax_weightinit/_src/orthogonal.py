"""Orthogonal initializers: Haar-random orthogonal matrices and delta-orthogonal conv kernels."""

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from . import calls, sampling, validation
from .core import Initializer
from .structured import Structured, at_least_2d, centre
from .typing import Array, DTypeLike


@functools.partial(jax.jit, static_argnames=("rows", "cols", "dtype"))
def haar(key: Array, rows: int, cols: int, scale: float | Array, dtype: np.dtype) -> Array:
    """`scale` times a Haar-random (rows, cols) matrix with orthonormal rows or columns.

    QR of a Gaussian matrix with the signs (phases) of R's diagonal moved into Q,
    computed in float32 (or float64, or complex) and rounded once to `dtype`.
    """
    compute = sampling.compute_dtype(dtype)
    n, m = max(rows, cols), min(rows, cols)
    factor = jnp.asarray(scale, compute)
    if jnp.issubdtype(dtype, jnp.complexfloating):
        parts = jax.random.normal(key, (2, n, m), compute)
        z = jax.lax.complex(parts[0], parts[1])
    else:
        z = jax.random.normal(key, (n, m), compute)
    q, r = jnp.linalg.qr(z)
    d = jnp.diagonal(r)
    phase = jnp.where(d == 0, jnp.ones_like(d), d / jnp.abs(d).astype(d.dtype))
    q = jnp.asarray(factor, q.dtype) * (q * phase[None, :])
    return (q if rows >= cols else q.T).astype(dtype)


@dataclasses.dataclass(frozen=True, repr=False)
class Orthogonal(Structured):
    factory = "orthogonal"
    scale: float = 1.0
    column_axis: int = -1
    dtype: np.dtype | None = None
    allow_complex = True
    data_fields = ("scale",)

    def _check(self, shape):
        at_least_2d(shape, "an orthogonal initializer")
        validation.resolve_axes("column_axis", (self.column_axis,), len(shape))

    def _reach(self, compute):
        return "scale", self.scale

    def _build(self, key, shape, dtype):
        cols = shape[self.column_axis]
        q = haar(key, math.prod(shape) // cols, cols, self.scale, dtype)
        rest = tuple(np.delete(np.array(shape), self.column_axis))
        return jnp.moveaxis(q.reshape(*rest, cols), -1, self.column_axis)


@calls.rebuilt_as("orthogonal")
def orthogonal(
    scale: float = 1.0, column_axis: int = -1, dtype: DTypeLike | None = None, **torch_style: object
) -> Initializer:
    """Builds a Haar-random orthogonal initializer, as `jax.nn.initializers.orthogonal`.

    The array is viewed as a matrix whose columns run along `column_axis` and whose
    rows are all other axes. Rows are orthonormal (times `scale`) when there are no
    more rows than columns, columns otherwise; complex dtypes get unitary matrices.
    bfloat16 and float16 outputs are computed in float32 and rounded once. For a
    stack of independent matrices, `jax.vmap` over keys.

    Args:
      scale: the norm of each orthogonal row (or column); must be positive.
      column_axis: the axis of the columns.
      dtype: the default dtype of the output.

    Returns:
      An initializer.

    Raises:
      ValueError: for a non-positive `scale`, when built; for a shape of rank < 2, when called.

    Example:
      >>> import jax, jax.numpy as jnp, jax_weightinit as wi
      >>> w = wi.orthogonal()(jax.random.key(0), (3, 5))
      >>> bool(jnp.allclose(w @ w.T, jnp.eye(3), atol=1e-6))
      True
    """
    validation.torch_keywords("orthogonal", torch_style, "orthogonal", "scale, column_axis, dtype")
    column_axis = validation.integer("column_axis", column_axis)
    return Orthogonal(validation.traceable("scale", scale, "positive"), column_axis, validation.optional_dtype(dtype))


@dataclasses.dataclass(frozen=True, repr=False)
class DeltaOrthogonal(Structured):
    factory = "delta_orthogonal"
    scale: float = 1.0
    column_axis: int = -1
    dtype: np.dtype | None = None
    allow_complex = True
    data_fields = ("scale",)

    def _check(self, shape):
        if len(shape) not in (3, 4, 5):
            raise ValueError(f"`shape` must have 3, 4 or 5 dims (a 1-D, 2-D or 3-D conv kernel); got {shape!r}.")
        if shape[-1] < shape[-2]:
            raise ValueError(
                f"`shape` {shape!r} has fewer output channels than input channels; delta orthogonal needs in <= out."
            )
        validation.resolve_axes("column_axis", (self.column_axis,), 2)  # an axis of the (in, out) centre

    def _reach(self, compute):
        return "scale", self.scale

    def _build(self, key, shape, dtype):
        matrix = Orthogonal(self.scale, self.column_axis)._build(key, shape[-2:], dtype)
        return jnp.zeros(shape, dtype).at[centre(shape, len(shape) - 2, "jax")].set(matrix)


@calls.rebuilt_as("delta_orthogonal")
def delta_orthogonal(scale: float = 1.0, column_axis: int = -1, dtype: DTypeLike | None = None) -> Initializer:
    """Builds a delta-orthogonal conv initializer (Xiao et al., 2018), as `jax.nn.initializers`.

    The kernel (spatial..., in, out) is zero except at the spatial centre, where it
    holds an orthogonal (in, out) matrix times `scale`. The centre is index
    (k - 1) // 2 on each spatial axis, as `jax.nn`; torch's `dirac_` uses k // 2, so
    the two differ by one for even kernel sizes.

    Args:
      scale: the norm of the orthogonal rows; must be positive.
      column_axis: the axis of the columns of the centre matrix.
      dtype: the default dtype of the output.

    Returns:
      An initializer for 3-D, 4-D or 5-D shapes with in <= out.

    Example:
      >>> import jax, jax_weightinit as wi
      >>> w = wi.delta_orthogonal()(jax.random.key(0), (3, 3, 4, 4))
      >>> float(abs(w[0]).sum()), w[1, 1].shape
      (0.0, (4, 4))
    """
    column_axis = validation.integer("column_axis", column_axis)
    scale = validation.traceable("scale", scale, "positive")
    return DeltaOrthogonal(scale, column_axis, validation.optional_dtype(dtype))
