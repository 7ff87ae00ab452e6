"""Fans that follow the layer: a fan-scaled initializer evaluated at the fans of the layer that owns the leaf.

A framework adapter (`flax_layers`, `equinox_layers`) maps each parameter's path to
its layer's `(fan_in, fan_out)` as that layer computes them; `adapter` turns that map
into the hook `plan.build` applies to each matched initializer.
"""

import dataclasses
import math
from collections.abc import Callable, Mapping
from typing import TypeGuard

import numpy as np

from . import validation
from .core import RandomInitializer
from .formulas import FanFormula
from .laws import Distribution
from .scaling import Scaled
from .typing import Shape
from .variance_scaling import FanScaled

# What `plan.build` applies to each (path, matched initializer).
Adapt = Callable[[str, Callable], Callable]
_DEFAULT_AXES = ((-2,), (-1,), ())
_TORCH_AXES = ((1,), (0,), ())  # `wi.pytorch`'s factories: (out, in, ...)


@dataclasses.dataclass(frozen=True, repr=False)
class LayerFans(RandomInitializer):
    """`init`'s law at the fans of the layer `layer` that owns the leaf, whatever the leaf's shape."""

    init: FanScaled
    fans: tuple[int, int]
    layer: str
    dtype: np.dtype | None = None

    @property
    def complex_family(self) -> str | None:  # type: ignore[override]
        return self.init.complex_family

    def default_call(self) -> str:
        return repr(self.init)  # the plan's fans column names the layer whose fans it reads

    def distribution(self, shape: Shape) -> Distribution:
        validation.shape(shape)
        if min(self.fans) <= 0:
            raise ValueError(f"the {self.layer} layer has fans {self.fans}, so a fan-scaled law is undefined.")
        return self.init.law(*self.fans)


def takes_layer_fans(init: Callable) -> TypeGuard[FanScaled]:
    """Whether `init` reads the layer's fans: a fan-scaled initializer at its factory's default axes.

    `wi.pytorch`'s factories take no axes (they read torch's layout), so they always do;
    an initializer built with explicit axes keeps them.
    """
    if isinstance(init, FanFormula) and init.formula.startswith("torch_"):
        return (init.in_axis, init.out_axis, init.batch_axis) == _TORCH_AXES
    return isinstance(init, FanScaled) and (init.in_axis, init.out_axis, init.batch_axis) == _DEFAULT_AXES


def follow(init: Callable, fans: tuple[int, int], layer: str) -> Callable:
    """`init` evaluated at the layer's `fans` where it takes them (also inside `scaled`), else `init`."""
    if isinstance(init, Scaled):
        inner = follow(init.init, fans, layer)
        return init if inner is init.init else Scaled(inner, init.factor, init.dtype)  # type: ignore[arg-type]
    if takes_layer_fans(init):
        return LayerFans(init, fans, layer, init.dtype)
    return init


def adapter(owners: Mapping[str, tuple[tuple[int, int], str]]) -> Adapt:
    """The hook for `plan.build`: each leaf owned by a known layer gets that layer's fans."""

    def adapt(path: str, init: Callable) -> Callable:
        owner = owners.get(path)
        return init if owner is None else follow(init, *owner)

    return adapt


def join(prefix: str, name: str) -> str:
    """The path of attribute `name` of the layer at `prefix`, as `path_string` writes it."""
    return f"{prefix}/{name}" if prefix else name


def einsum_fans(einsum_str: str, kernel_shape: Shape) -> tuple[int, int]:
    """(fan_in, fan_out) of the kernel of `einsum(einsum_str, inputs, kernel)`.

    Kernel axes summed over (absent from the output) are inputs, kernel axes that
    appear only in the output are outputs, and axes shared by all three are batch.

    Example:
      >>> einsum_fans("btd,dhk->bthk", (512, 8, 64))
      (512, 512)
    """
    spec = einsum_str.replace(" ", "").replace("...", "")
    operands, out = spec.split("->")
    inputs, kernel = operands.split(",")
    if len(kernel) != len(kernel_shape):
        raise ValueError(f"`einsum_str` {einsum_str!r} names {len(kernel)} kernel axes; the kernel is {kernel_shape}.")
    fan_in = math.prod(d for label, d in zip(kernel, kernel_shape, strict=True) if label not in out)
    fan_out = math.prod(
        d for label, d in zip(kernel, kernel_shape, strict=True) if label in out and label not in inputs
    )
    return fan_in, fan_out


def check_module(module: object, name: str, expected: type, framework: str, other: tuple[type | None, str]) -> None:
    """Refuses a module that is not `framework`'s, naming the function that takes it.

    Args:
      module: what the user passed.
      name: the function called, 'reinit' or 'plan'.
      expected: `framework`'s module class.
      framework: its name as users say it ("a Flax nnx module").
      other: (the other framework's module class, if imported, and its namespace in `wi`).
    """
    if isinstance(module, expected):
        return
    other_type, other_namespace = other
    if other_type is not None and isinstance(module, other_type):
        hint = f"use wi.{other_namespace}.{name}"
    else:
        hint = f"for a params tree (linen, Haiku) use wi.{'init_tree' if name == 'reinit' else 'plan'}"
    raise TypeError(f"`module` must be {framework}; got {validation.brief(module)}; {hint}.")
