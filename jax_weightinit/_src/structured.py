"""Structured initializers: their shared call path, and identity, Dirac, sparse and ZerO."""

import dataclasses
import functools
import math
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from . import calls, placement, sampling, validation
from .core import REACH_STDS, Initializer, bitwise
from .laws import Distribution
from .typing import Array, DTypeLike, Shape, Sharding


def at_least_2d(shape: tuple[int, ...], what: str) -> None:
    """Raises unless `shape` has two or more dims."""
    if len(shape) < 2:
        raise ValueError(f"`shape` must have at least 2 dims for {what}; got {shape!r}.")


def check_sparsity(sparsity: float) -> float:
    """Returns `sparsity` as a float in [0, 1], or raises."""
    value = validation.real("sparsity", sparsity)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"`sparsity` must be in [0, 1]; got {value!r}.")
    return value


class Structured(calls.Rebuildable):
    """Shared `__call__`: checks the key, shape and dtype, then calls `self._build`.

    A subclass is a frozen dataclass whose fields are its factory's parameters, so that it
    prints as `factory(field=value, ...)` where it was not built by a recorded call.
    """

    #: The public factory that builds this class, as it prints.
    factory: ClassVar[str] = ""

    dtype: np.dtype | None
    allow_complex = False
    #: Fields that are numbers the program reads as data, not constants it is compiled for, so that
    #: `orthogonal(s)` compiles once for every `s`.
    data_fields: tuple[str, ...] = ()

    def __call__(
        self, key: Array, shape: Shape, dtype: DTypeLike | None = None, out_sharding: Sharding = None
    ) -> Array:
        """Builds an array of `shape` and `dtype` (default: the factory's, else the default float)."""
        key, shape, dtype = validation.call(key, shape, dtype, self.dtype, self.allow_complex)
        self._check(shape)
        reach = self._reach(sampling.compute_dtype(dtype))
        if reach is not None and not isinstance(reach[1], jax.Array) and reach[1] > float(jnp.finfo(dtype).max):
            name, value = reach
            raise ValueError(
                f"`{name}` {getattr(self, name)!r} is too large for {dtype.name}: entries reach {value:.3g}, above "
                f"its largest value {float(jnp.finfo(dtype).max):.3g}; use a wider dtype."
            )
        out_sharding = placement.for_call(key, out_sharding, shape)
        if math.prod(shape) == 0:
            return placement.settle(sampling.full(0, shape, dtype, out_sharding), out_sharding)
        with placement.entered(out_sharding):
            compute = sampling.compute_dtype(dtype)
            data = {name: _number(getattr(self, name), compute) for name in self.data_fields}
            shell = dataclasses.replace(self, **dict.fromkeys(self.data_fields, 0.0))  # type: ignore[type-var]
            out = _compiled_build(_Exactly(shell), key, data, shape, dtype, out_sharding)
        return placement.settle(out, out_sharding)

    def default_call(self) -> str:
        fields = dataclasses.fields(self)  # type: ignore[arg-type]
        given = {f.name: getattr(self, f.name) for f in fields if not (f.name == "dtype" and self.dtype is None)}
        return calls.call(self.factory, **given)

    def _check(self, shape: tuple[int, ...]) -> None:
        pass

    def _reach(self, compute: np.dtype) -> tuple[str, float] | None:
        """(the parameter that sets the entries' magnitude, the largest magnitude when computed in `compute`),
        or None when bounded by 1."""
        return None

    def _build(self, key: Array, shape: tuple[int, ...], dtype: np.dtype) -> Array:
        raise NotImplementedError


@dataclasses.dataclass(frozen=True, eq=False)
class _Exactly:
    """An initializer as a cache key: equal only when every field is bit for bit equal (-0.0 is not 0.0)."""

    init: Structured

    def _identity(self) -> tuple:
        fields = (getattr(self.init, f.name) for f in dataclasses.fields(self.init))  # type: ignore[arg-type]
        return (type(self.init), *(bitwise(v) for v in fields))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Exactly) and self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())


@functools.partial(jax.jit, static_argnums=(0, 3, 4, 5))
def _compiled_build(init: _Exactly, key: Array, data: dict, shape: tuple[int, ...], dtype: np.dtype, sharding) -> Array:
    """One compiled program per (initializer but its data fields, shape, dtype, sharding), not op-by-op dispatch."""
    # A constant under the caller's trace would be folded into the arithmetic (see `sampling.transform`).
    numbers = jax.lax.optimization_barrier(data)

    def build(k: Array, numbers: dict) -> Array:  # the numbers as arguments, typed on the mesh `place` enters
        built = dataclasses.replace(init.init, **numbers)  # type: ignore[type-var]
        return built._build(k, shape, dtype).astype(dtype)

    return placement.place(build, sharding, key, numbers)


def centre(shape: tuple[int, ...], spatial: int, even: str) -> tuple[int, ...]:
    """The centre index of each of the first `spatial` axes; of an even size, the lower middle ('jax') or the
    upper ('torch')."""
    return tuple((k - 1) // 2 if even == "jax" else k // 2 for k in shape[:spatial])


@dataclasses.dataclass(frozen=True, repr=False)
class Identity(Structured):
    factory = "identity"
    scale: float = 1.0
    dtype: np.dtype | None = None

    def _check(self, shape):
        at_least_2d(shape, "an identity initializer")

    def _reach(self, compute):
        return "scale", abs(self.scale)

    def _build(self, key, shape, dtype):
        return jnp.broadcast_to(jnp.eye(shape[-2], shape[-1], dtype=dtype) * jnp.asarray(self.scale, dtype), shape)


@calls.rebuilt_as("identity")
def identity(scale: float = 1.0, dtype: DTypeLike | None = None) -> Initializer:
    """Builds `scale` times the (possibly rectangular) identity on the last two axes.

    Leading axes are batch axes: each (rows, cols) slice is `scale * eye(rows, cols)`.

    Example:
      >>> import jax, jax.numpy as jnp, jax_weightinit as wi
      >>> wi.identity(2.0)(jax.random.key(0), (2, 3), jnp.float32)
      Array([[2., 0., 0.],
             [0., 2., 0.]], dtype=float32)
    """
    return Identity(validation.real("scale", scale), validation.optional_dtype(dtype))


@dataclasses.dataclass(frozen=True, repr=False)
class Dirac(Structured):
    factory = "dirac"
    groups: int = 1
    dtype: np.dtype | None = None

    def _check(self, shape):
        if len(shape) not in (3, 4, 5):
            raise ValueError(f"`shape` must have 3, 4 or 5 dims (an HWIO conv kernel) for dirac; got {shape!r}.")
        if shape[-1] % self.groups:
            raise ValueError(f"`groups` {self.groups} must divide the {shape[-1]} output channels of {shape!r}.")

    def _build(self, key, shape, dtype):
        *_, ins, outs = shape
        per_group = outs // self.groups
        d = np.arange(min(per_group, ins))
        g = np.arange(self.groups)[:, None]
        cols = (g * per_group + d).ravel()
        rows = np.broadcast_to(d, (self.groups, d.size)).ravel()
        return jnp.zeros(shape, dtype).at[(*centre(shape, len(shape) - 2, "torch"), rows, cols)].set(1)


@calls.rebuilt_as("dirac")
def dirac(groups: int = 1, dtype: DTypeLike | None = None) -> Initializer:
    """Builds a Dirac-delta conv kernel in HWIO layout: a conv with it is the identity map.

    For each of `groups` groups of out // groups output channels, output channel
    g·(out // groups) + d reads input channel d of its group at the spatial centre
    k // 2, as torch's `dirac_`. With in == out (per group) and 'SAME' padding the
    convolution returns its input.

    Args:
      groups: the conv's feature groups; must divide the output channels.
      dtype: the default dtype of the output.

    Returns:
      An initializer for 3-D, 4-D or 5-D (spatial..., in // groups, out) shapes.

    Example:
      >>> import jax, jax_weightinit as wi
      >>> w = wi.dirac()(jax.random.key(0), (3, 3, 2, 2))
      >>> w[1, 1].tolist()
      [[1.0, 0.0], [0.0, 1.0]]
    """
    groups = validation.integer("groups", groups, low=1)
    return Dirac(groups, validation.optional_dtype(dtype, allow_complex=False))


@dataclasses.dataclass(frozen=True, repr=False)
class Sparse(Structured):
    factory = "sparse"
    sparsity: float = 0.1
    stddev: float = 0.01
    dtype: np.dtype | None = None
    data_fields = ("stddev",)

    def _check(self, shape):
        if len(shape) != 2:
            raise ValueError(f"`shape` must be 2-D (rows, columns) for a sparse initializer; got {shape!r}.")

    def _reach(self, compute):
        return "stddev", REACH_STDS[compute] * self.stddev

    def _build(self, key, shape, dtype):
        rows = shape[0]
        zeros = math.ceil(self.sparsity * rows)
        # N(0, stddev²)'s numbers are N(0, 1)'s with the scale replaced: the stddev stays data.
        case, params = sampling.prepare(Distribution.normal(0.0, 1.0), np.dtype(dtype))
        params = jnp.asarray(params).at[1].set(self.stddev)
        values = sampling.sample_prepared(key, case, params, shape, np.dtype(dtype))
        order = jax.random.uniform(jax.random.fold_in(key, 1), shape)
        rank = jnp.argsort(jnp.argsort(order, axis=0), axis=0)
        return jnp.where(rank < zeros, jnp.zeros((), dtype), values)


@calls.rebuilt_as("sparse")
def sparse(sparsity: float, stddev: float = 0.01, dtype: DTypeLike | None = None) -> Initializer:
    """Builds a sparse 2-D initializer (Martens, 2010), as torch's `sparse_`.

    Each column has exactly ceil(sparsity · rows) zeros at uniformly random rows; the
    other entries are N(0, stddev²).

    Args:
      sparsity: the fraction of zeros per column, in [0, 1].
      stddev: the std of the non-zero entries; must be positive.
      dtype: the default dtype of the output.

    Example:
      >>> import jax, jax_weightinit as wi
      >>> w = wi.sparse(0.25)(jax.random.key(0), (8, 3))
      >>> (w == 0).sum(axis=0).tolist()
      [2, 2, 2]
    """
    return Sparse(
        check_sparsity(sparsity),
        validation.traceable("stddev", stddev, "positive"),
        validation.optional_dtype(dtype, allow_complex=False),
    )


def _number(value: float | Array, dtype: np.dtype) -> np.ndarray | Array:
    """A parameter passed to the compiled build as data: traced where it is traced (`validation.traceable`)."""
    return jnp.asarray(value, dtype) if isinstance(value, jax.Array) else np.asarray(value, dtype)


def zero_matrix(fan_in: int, fan_out: int, dtype: np.dtype) -> Array:
    """The ZerO matrix in (in, out) layout (Zhao et al., 2021, Algorithm 1, transposed), built on the device.

    For out > in it is c · H[:in, :out] with H the 2^m Sylvester Hadamard matrix, whose
    entry (i, j) is (-1)^popcount(i & j): computed from indices, so nothing but the
    output is ever allocated, and nothing at all under `jax.eval_shape`.
    """
    if fan_out <= fan_in:
        return jnp.eye(fan_in, fan_out, dtype=dtype)
    m = math.ceil(math.log2(fan_out))
    c = 2.0 ** (-(m - 1) / 2)
    i = jax.lax.broadcasted_iota(jnp.uint32, (fan_in, fan_out), 0)
    j = jax.lax.broadcasted_iota(jnp.uint32, (fan_in, fan_out), 1)
    odd = (jax.lax.population_count(i & j) & 1).astype(bool)
    return jnp.where(odd, jnp.asarray(-c, dtype), jnp.asarray(c, dtype))


@dataclasses.dataclass(frozen=True, repr=False)
class ZeroHadamard(Structured):
    factory = "zero_hadamard"
    dtype: np.dtype | None = None

    def _check(self, shape):
        if len(shape) not in (2, 3, 4, 5):
            raise ValueError(f"`shape` must be (in, out) or an HWIO kernel with 1-3 spatial dims; got {shape!r}.")

    def _build(self, key, shape, dtype):
        matrix = zero_matrix(shape[-2], shape[-1], dtype)
        if len(shape) == 2:
            return matrix
        return jnp.zeros(shape, dtype).at[centre(shape, len(shape) - 2, "torch")].set(matrix)


@calls.rebuilt_as("zero_hadamard")
def zero_hadamard(dtype: DTypeLike | None = None) -> Initializer:
    """Builds the deterministic ZerO initialization (Zhao et al., 2021).

    For a dense (in, out) weight: the partial identity when out <= in; when out > in,
    c · I(in × 2^k) · H_k · I(2^k × out) with k = ceil(log2 out), H_k the ±1 Sylvester
    Hadamard matrix and c = 2^(-(k-1)/2). Conv kernels (spatial..., in, out) hold that
    matrix at the spatial centre (k // 2) and zeros elsewhere. The key is ignored.

    Example:
      >>> import jax, jax_weightinit as wi
      >>> wi.zero_hadamard()(jax.random.key(0), (2, 2)).tolist()
      [[1.0, 0.0], [0.0, 1.0]]
    """
    return ZeroHadamard(validation.optional_dtype(dtype, allow_complex=False))
