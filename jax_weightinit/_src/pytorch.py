"""Functional mirrors of `torch.nn.init` for weights in torch's `(out, in, *kernel)` layout."""

import dataclasses
import math

import jax.numpy as jnp
import numpy as np

from . import calls, validation
from .constant import Constant
from .core import FixedLaw, Initializer, RandomInitializer, truncated_normal
from .formulas import fan_formula
from .gain import calculate_gain
from .laws import Distribution
from .orthogonal import haar
from .structured import Dirac, Identity, Sparse, Structured, at_least_2d, check_sparsity
from .typing import DTypeLike

# torch reads dim 1 as the inputs and dim 0 as the outputs; the rest is the kernel.
TORCH_AXES = {"in_axis": 1, "out_axis": 0}


@calls.rebuilt_as("pytorch.uniform")
def uniform(a: float = 0.0, b: float = 1.0, dtype: DTypeLike | None = None) -> RandomInitializer:
    """`torch.nn.init.uniform_`: U[a, b]."""
    return FixedLaw(
        Distribution.uniform(validation.traceable("a", a), validation.traceable("b", b)),
        validation.optional_dtype(dtype, allow_complex=False),
    )


@calls.rebuilt_as("pytorch.normal")
def normal(mean: float = 0.0, std: float = 1.0, dtype: DTypeLike | None = None) -> RandomInitializer:
    """`torch.nn.init.normal_`: N(mean, std²)."""
    law = Distribution.normal(validation.traceable("mean", mean), validation.traceable("std", std, "positive"))
    return FixedLaw(law, validation.optional_dtype(dtype, allow_complex=False))


@calls.rebuilt_as("pytorch.trunc_normal")
def trunc_normal(
    mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0, dtype: DTypeLike | None = None
) -> RandomInitializer:
    """`torch.nn.init.trunc_normal_`: N(mean, std²) truncated to the absolute interval [a, b].

    As in torch, `a` and `b` are values, not multiples of `std`: with std = 0.02 the
    defaults truncate at ±100 std, i.e. hardly at all.

    Example:
      >>> from jax_weightinit import pytorch
      >>> law = pytorch.trunc_normal(std=0.5).distribution((4, 4))
      >>> law.low, law.high, round(law.std, 4)
      (-2.0, 2.0, 0.4997)
    """
    return truncated_normal(std, dtype, a, b, mean=mean, absolute_bounds=True)


@calls.rebuilt_as("pytorch.constant")
def constant(val: float, dtype: DTypeLike | None = None) -> Initializer:
    """`torch.nn.init.constant_`."""
    return Constant(validation.real("val", val), validation.optional_dtype(dtype))


@calls.rebuilt_as("pytorch.ones")
def ones(dtype: DTypeLike | None = None) -> Initializer:
    """`torch.nn.init.ones_`."""
    return Constant(1, validation.optional_dtype(dtype))


@calls.rebuilt_as("pytorch.zeros")
def zeros(dtype: DTypeLike | None = None) -> Initializer:
    """`torch.nn.init.zeros_`."""
    return Constant(0, validation.optional_dtype(dtype))


@dataclasses.dataclass(frozen=True, repr=False)
class _Eye(Identity):
    factory = "pytorch.eye"

    def default_call(self) -> str:
        return calls.call(self.factory, **({} if self.dtype is None else {"dtype": self.dtype}))

    def _check(self, shape):
        if len(shape) != 2:
            raise ValueError(f"`shape` must be 2-D for eye; got {shape!r}.")


@calls.rebuilt_as("pytorch.eye")
def eye(dtype: DTypeLike | None = None) -> Initializer:
    """`torch.nn.init.eye_`: the (possibly rectangular) identity of a 2-D weight."""
    return _Eye(1.0, validation.optional_dtype(dtype))


@dataclasses.dataclass(frozen=True, repr=False)
class _TorchDirac(Dirac):
    """Dirac in torch's (out, in // groups, *kernel) layout."""

    factory = "pytorch.dirac"

    def _check(self, shape):
        try:
            super()._check(_to_hwio(shape))
        except ValueError:  # the same rule, said in torch's layout
            if len(shape) not in (3, 4, 5):
                raise ValueError(
                    f"`shape` must be (out, in // groups, *kernel) with 1-3 kernel dims; got {shape!r}."
                ) from None
            raise ValueError(
                f"`groups` {self.groups} must divide the {shape[0]} output channels of {shape!r}."
            ) from None

    def _build(self, key, shape, dtype):
        w = super()._build(key, _to_hwio(shape), dtype)
        n = len(shape)
        return jnp.transpose(w, (n - 1, n - 2, *range(n - 2)))


def _to_hwio(shape: tuple[int, ...]) -> tuple[int, ...]:
    return (*shape[2:], shape[1], shape[0]) if len(shape) >= 2 else shape


@calls.rebuilt_as("pytorch.dirac")
def dirac(groups: int = 1, dtype: DTypeLike | None = None) -> Initializer:
    """`torch.nn.init.dirac_`: a conv kernel (out, in // groups, *k) whose conv is the identity.

    Example:
      >>> import jax
      >>> from jax_weightinit import pytorch
      >>> pytorch.dirac()(jax.random.key(0), (2, 2, 3))[:, :, 1].tolist()
      [[1.0, 0.0], [0.0, 1.0]]
    """
    groups = validation.integer("groups", groups, low=1)
    return _TorchDirac(groups, validation.optional_dtype(dtype, allow_complex=False))


@calls.rebuilt_as("pytorch.xavier_uniform")
def xavier_uniform(gain: float = 1.0, dtype: DTypeLike | None = None) -> RandomInitializer:
    """`torch.nn.init.xavier_uniform_`: U(±gain·sqrt(6 / (fan_in + fan_out))), torch fans."""
    gain = validation.traceable("gain", gain, "positive")
    return fan_formula("torch_xavier_uniform", gain, dtype=dtype, **TORCH_AXES)


@calls.rebuilt_as("pytorch.xavier_normal")
def xavier_normal(gain: float = 1.0, dtype: DTypeLike | None = None) -> RandomInitializer:
    """`torch.nn.init.xavier_normal_`: N(0, gain²·2 / (fan_in + fan_out)), untruncated, torch fans."""
    gain = validation.traceable("gain", gain, "positive")
    return fan_formula("torch_xavier_normal", gain, dtype=dtype, **TORCH_AXES)


def _kaiming(rule: str, a: float, mode: str, nonlinearity: str, dtype) -> RandomInitializer:
    mode = validation.choice("mode", mode, ("fan_in", "fan_out"))
    slope = validation.traceable("a", a)
    gain = calculate_gain(nonlinearity, slope)
    return fan_formula(rule, gain, mode, dtype=dtype, **TORCH_AXES)


@calls.rebuilt_as("pytorch.kaiming_uniform")
def kaiming_uniform(
    a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", dtype: DTypeLike | None = None
) -> RandomInitializer:
    """`torch.nn.init.kaiming_uniform_`: U(±gain·sqrt(3 / fan)), gain = calculate_gain(nonlinearity, a).

    Example:
      >>> import math
      >>> from jax_weightinit import pytorch
      >>> pytorch.kaiming_uniform().distribution((128, 64)).high == math.sqrt(3.0) * (math.sqrt(2.0) / math.sqrt(64))
      True
    """
    return _kaiming("torch_kaiming_uniform", a, mode, nonlinearity, dtype)


@calls.rebuilt_as("pytorch.kaiming_normal")
def kaiming_normal(
    a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", dtype: DTypeLike | None = None
) -> RandomInitializer:
    """`torch.nn.init.kaiming_normal_`: N(0, gain² / fan), untruncated, torch fans."""
    return _kaiming("torch_kaiming_normal", a, mode, nonlinearity, dtype)


@dataclasses.dataclass(frozen=True, repr=False)
class _TorchOrthogonal(Structured):
    factory = "pytorch.orthogonal"
    gain: float = 1.0
    dtype: np.dtype | None = None
    data_fields = ("gain",)

    def _check(self, shape):
        at_least_2d(shape, "orthogonal")

    def _reach(self, compute):
        return "gain", self.gain

    def _build(self, key, shape, dtype):
        rows = shape[0]
        return haar(key, rows, math.prod(shape) // rows, self.gain, dtype).reshape(shape)


@calls.rebuilt_as("pytorch.orthogonal")
def orthogonal(gain: float = 1.0, dtype: DTypeLike | None = None) -> Initializer:
    """`torch.nn.init.orthogonal_`: the weight viewed as (shape[0], rest) has orthonormal rows
    (or columns when taller than wide), times `gain`."""
    gain = validation.traceable("gain", gain, "positive")
    return _TorchOrthogonal(gain, validation.optional_dtype(dtype, allow_complex=False))


@calls.rebuilt_as("pytorch.sparse")
def sparse(sparsity: float, std: float = 0.01, dtype: DTypeLike | None = None) -> Initializer:
    """`torch.nn.init.sparse_`: ceil(sparsity·rows) zeros per column, others N(0, std²)."""
    std = validation.traceable("std", std, "positive")
    return Sparse(check_sparsity(sparsity), std, validation.optional_dtype(dtype, allow_complex=False))


@calls.rebuilt_as("pytorch.default_weight")
def default_weight(dtype: DTypeLike | None = None) -> RandomInitializer:
    """What `nn.Linear` and `nn.Conv*` do to their weight: kaiming_uniform(a=√5) = U(±1/sqrt(fan_in)).

    For `nn.ConvTranspose*`, whose weight is (in, out // groups, *k), torch applies
    the same call, so its "fan_in" is (out // groups)·prod(k); pass that layout
    unchanged and this reproduces torch.

    Example:
      >>> from jax_weightinit import pytorch
      >>> round(pytorch.default_weight().distribution((128, 64)).high * 8, 12)
      1.0
    """
    return kaiming_uniform(a=math.sqrt(5), dtype=dtype)


@calls.rebuilt_as("pytorch.default_bias")
def default_bias(fan_in: int, dtype: DTypeLike | None = None) -> Initializer:
    """What `nn.Linear` and `nn.Conv*` do to their bias: U(±1/sqrt(fan_in)) (zeros if fan_in is 0).

    Args:
      fan_in: the weight's fan-in, e.g. `compute_fans(w.shape, in_axis=1, out_axis=0)[0]`.
      dtype: the default dtype.
    """
    fan_in = validation.integer("fan_in", fan_in, low=0)
    if fan_in == 0:
        return Constant(0, validation.optional_dtype(dtype))
    bound = 1 / math.sqrt(fan_in)
    return FixedLaw(Distribution.uniform(-bound, bound), validation.optional_dtype(dtype, allow_complex=False))
