"""Fan-scaled initializers: their base class, `variance_scaling` and its named presets (`he_normal`, ...)."""

import dataclasses
import math
from typing import Protocol

import jax
import jax.numpy as jnp
import numpy as np

from . import calls, validation
from .core import RandomInitializer, dtype_suffix
from .fans import compute_fans
from .laws import Distribution
from .typing import Axes, DTypeLike, Family, Mode, Shape

MODES = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")
FAMILIES = ("truncated_normal", "normal", "uniform")
# Std of a standard normal truncated to (-2, 2).
TRUNCATED_STD = 0.87962566103423978


@dataclasses.dataclass(frozen=True, repr=False)
class FanScaled(RandomInitializer):
    """Base of initializers whose law is a function of `(fan_in, fan_out)`."""

    in_axis: tuple[int, ...]
    out_axis: tuple[int, ...]
    batch_axis: tuple[int, ...]
    dtype: np.dtype | None

    def distribution(self, shape: Shape) -> Distribution:
        shape = validation.shape(shape)
        if math.prod(shape) == 0:
            raise ValueError(f"`shape` {shape!r} has no elements, so it has no fans and no law.")
        return self.law(*compute_fans(shape, self.in_axis, self.out_axis, self.batch_axis))

    def law(self, fan_in: int, fan_out: int) -> Distribution:
        raise NotImplementedError

    def axes_suffix(self) -> str:
        """The axes and dtype that differ from the defaults, as keyword arguments."""
        given = [
            f"{name}={value[0] if len(value) == 1 else value}"
            for name, value, default in (
                ("in_axis", self.in_axis, (-2,)),
                ("out_axis", self.out_axis, (-1,)),
                ("batch_axis", self.batch_axis, ()),
            )
            if value != default
        ]
        return "".join(f", {g}" for g in given) + dtype_suffix(self.dtype)

    @classmethod
    def build(
        cls, in_axis: Axes, out_axis: Axes, batch_axis: Axes, dtype: DTypeLike | None, allow_complex: bool, **fields
    ) -> "FanScaled":
        """Checks the axes and default dtype shared by every fan-scaled factory, then builds."""
        return cls(
            in_axis=validation.axes("in_axis", in_axis),
            out_axis=validation.axes("out_axis", out_axis),
            batch_axis=validation.axes("batch_axis", batch_axis),
            dtype=validation.optional_dtype(dtype, allow_complex=allow_complex),
            **fields,
        )


@dataclasses.dataclass(frozen=True, repr=False)
class VarianceScaling(FanScaled):
    """Zero-mean law with variance `scale / n`; see `variance_scaling`."""

    scale: float = 1.0
    mode: Mode = "fan_in"
    family: Family = "truncated_normal"

    @property
    def complex_family(self) -> str:  # type: ignore[override]
        return self.family

    def default_call(self) -> str:
        return f"variance_scaling({self.scale!r}, {self.mode!r}, {self.family!r}{self.axes_suffix()})"

    def law(self, fan_in: int, fan_out: int) -> Distribution:
        n = {
            "fan_in": fan_in,
            "fan_out": fan_out,
            "fan_avg": (fan_in + fan_out) / 2,
            "fan_geo_avg": math.sqrt(fan_in * fan_out),
        }[self.mode]
        std = jnp.sqrt(self.scale / n) if isinstance(self.scale, jax.Array) else math.sqrt(self.scale / n)
        if self.family == "uniform":
            limit = math.sqrt(3.0) * std
            return Distribution.uniform(-limit, limit)
        if self.family == "normal":
            return Distribution.normal(0.0, std)
        untruncated = std / TRUNCATED_STD
        return Distribution.truncated_normal(0.0, untruncated, -2.0 * untruncated, 2.0 * untruncated, (-2.0, 2.0))


@calls.rebuilt_as("variance_scaling")
def variance_scaling(
    scale: float,
    mode: Mode,
    distribution: Family,
    in_axis: Axes = -2,
    out_axis: Axes = -1,
    batch_axis: Axes = (),
    dtype: DTypeLike | None = None,
) -> RandomInitializer:
    """Builds an initializer whose samples have mean 0 and variance `scale / n`.

    `n` is, by `mode`: 'fan_in', 'fan_out', their mean 'fan_avg', or their geometric
    mean 'fan_geo_avg' (see `compute_fans`). By `distribution`:

    * 'truncated_normal': N(0, σ²) truncated to ±2σ with σ = sqrt(scale / n) / 0.87962566,
      so the samples' std is exactly sqrt(scale / n);
    * 'normal': N(0, scale / n);
    * 'uniform': U[-limit, limit] with limit = sqrt(3 · scale / n).

    Complex dtypes follow `jax.nn.initializers`: a complex normal (parts of variance
    scale / 2n), a uniform disk, or a complex normal with modulus truncated at 2,
    each with E|z|² = scale / n.

    Args:
      scale: the variance multiplier; must be positive.
      mode: one of 'fan_in', 'fan_out', 'fan_avg', 'fan_geo_avg'.
      distribution: one of 'truncated_normal', 'normal', 'uniform'.
      in_axis: the input axis or axes of the weight.
      out_axis: the output axis or axes.
      batch_axis: axes of stacked independent layers, counted in neither fan.
      dtype: the default dtype of the output.

    Returns:
      An initializer; `init.distribution(shape)` gives its exact law for a shape.

    Raises:
      ValueError: for a bad `scale`, `mode` or `distribution`, when built.

    Example:
      >>> import jax_weightinit as wi
      >>> init = wi.variance_scaling(2.0, "fan_in", "normal")
      >>> init.distribution((3, 3, 64, 128)).std == (2.0 / 576) ** 0.5
      True
    """
    return VarianceScaling.build(
        in_axis,
        out_axis,
        batch_axis,
        dtype,
        allow_complex=True,
        scale=validation.traceable("scale", scale, "positive"),
        mode=validation.choice("mode", mode, MODES),
        family=validation.choice("distribution", distribution, FAMILIES),
    )


class FanScaledFactory(Protocol):
    """The signature of `he_normal`, `glorot_uniform` and the other named `variance_scaling` presets."""

    def __call__(
        self, in_axis: Axes = -2, out_axis: Axes = -1, batch_axis: Axes = (), dtype: DTypeLike | None = None
    ) -> RandomInitializer: ...


_TORCH_NAMES = {"he": "kaiming", "kaiming": "kaiming", "glorot": "xavier", "xavier": "xavier", "lecun": "kaiming"}


def _preset(scale: float, mode: Mode, family: Family, name: str, doc: str) -> FanScaledFactory:
    def factory(
        in_axis: Axes = -2,
        out_axis: Axes = -1,
        batch_axis: Axes = (),
        dtype: DTypeLike | None = None,
        **torch_style: object,
    ) -> RandomInitializer:
        prefix, kind = name.split("_")
        pytorch_name = f"{_TORCH_NAMES[prefix]}_{kind}"
        validation.torch_keywords(name, torch_style, pytorch_name, "in_axis, out_axis, batch_axis, dtype")
        return variance_scaling(scale, mode, family, in_axis, out_axis, batch_axis, dtype)

    factory.__name__ = factory.__qualname__ = name
    factory = calls.rebuilt_as(name)(factory)
    factory.__doc__ = f"""{doc}

  `variance_scaling({scale}, {mode!r}, {family!r})`: {_LAW[family].format(scale=scale, mode=mode)}

  Args:
    in_axis: the input axis or axes of the weight.
    out_axis: the output axis or axes.
    batch_axis: axes of stacked independent layers, counted in neither fan.
    dtype: the default dtype of the output.

  Returns:
    An initializer; `init.distribution(shape)` gives its exact law for a shape.

  Raises:
    TypeError: for torch.nn.init's keywords (`mode`, `nonlinearity`, `a`), naming the
      `wi.pytorch` factory that takes them.
  """
    return factory


_LAW = {
    "uniform": "U[-limit, limit] with limit = sqrt(3 · {scale} / {mode}).",
    "truncated_normal": "a normal truncated to ±2σ whose std is exactly sqrt({scale} / {mode}).",
    "normal": "N(0, {scale} / {mode}).",
}

glorot_uniform = _preset(1.0, "fan_avg", "uniform", "glorot_uniform", "Builds a Glorot (Xavier) uniform initializer.")
glorot_normal = _preset(
    1.0, "fan_avg", "truncated_normal", "glorot_normal", "Builds a Glorot (Xavier) normal initializer."
)
lecun_uniform = _preset(1.0, "fan_in", "uniform", "lecun_uniform", "Builds a LeCun uniform initializer.")
lecun_normal = _preset(1.0, "fan_in", "truncated_normal", "lecun_normal", "Builds a LeCun normal initializer.")
he_uniform = _preset(2.0, "fan_in", "uniform", "he_uniform", "Builds a He (Kaiming) uniform initializer.")
he_normal = _preset(2.0, "fan_in", "truncated_normal", "he_normal", "Builds a He (Kaiming) normal initializer.")
# jax.nn's aliases, built under their own names so that their errors use the name the user wrote.
xavier_uniform = _preset(1.0, "fan_avg", "uniform", "xavier_uniform", "Builds a Xavier (Glorot) uniform initializer.")
xavier_normal = _preset(
    1.0, "fan_avg", "truncated_normal", "xavier_normal", "Builds a Xavier (Glorot) normal initializer."
)
kaiming_uniform = _preset(2.0, "fan_in", "uniform", "kaiming_uniform", "Builds a Kaiming (He) uniform initializer.")
kaiming_normal = _preset(
    2.0, "fan_in", "truncated_normal", "kaiming_normal", "Builds a Kaiming (He) normal initializer."
)
