"""Laws written as formulas of the fans, evaluated exactly as their sources write them.

Each formula maps `(fan_in, fan_out, *params)` to a `Distribution`. Writing the
formula as its source does (the tutorial, torch.nn.init, Haiku) keeps every bound
and std equal to that source's to the last bit.
"""

import dataclasses
import math
from collections.abc import Callable
from math import sqrt

from .core import RandomInitializer, dtype_suffix
from .laws import Distribution
from .typing import Axes, DTypeLike
from .variance_scaling import FanScaled


def _symmetric_uniform(bound: float) -> Distribution:
    return Distribution.uniform(-bound, bound)


def _torch_fan(fan_in: int, fan_out: int, mode: str) -> int:
    return fan_in if mode == "fan_in" else fan_out


FORMULAS: dict[str, tuple[Callable[..., Distribution], str]] = {
    # name: (law of (fan_in, fan_out, *params), complex family or "")
    "xavier": (lambda n, m: Distribution.uniform(-(1.0 / sqrt(n)), 1.0 / sqrt(n)), "uniform"),
    "normalized_xavier": (
        lambda n, m: Distribution.uniform(-(sqrt(6.0) / sqrt(n + m)), sqrt(6.0) / sqrt(n + m)),
        "uniform",
    ),
    "he": (lambda n, m: Distribution.normal(0.0, sqrt(2.0 / n)), "normal"),
    # torch.nn.init: std = gain * sqrt(2 / (fan_in + fan_out)); bound = sqrt(3) * std.
    "torch_xavier_uniform": (
        lambda n, m, gain: _symmetric_uniform(math.sqrt(3.0) * (gain * math.sqrt(2.0 / float(n + m)))),
        "",
    ),
    "torch_xavier_normal": (lambda n, m, gain: Distribution.normal(0.0, gain * math.sqrt(2.0 / float(n + m))), ""),
    # torch.nn.init: std = gain / sqrt(fan); bound = sqrt(3) * std.
    "torch_kaiming_uniform": (
        lambda n, m, gain, mode: _symmetric_uniform(math.sqrt(3.0) * (gain / math.sqrt(_torch_fan(n, m, mode)))),
        "",
    ),
    "torch_kaiming_normal": (
        lambda n, m, gain, mode: Distribution.normal(0.0, gain / math.sqrt(_torch_fan(n, m, mode))),
        "",
    ),
    # μP (Tensor Programs V, Table 3), output weights: variance sigma² / fan_in².
    "mup_readout": (lambda n, m, sigma: Distribution.normal(0.0, sigma / n), ""),
    # The spectral condition (Yang, Simon & Bernstein 2023, Parametrization 1).
    "spectral": (lambda n, m, scale: Distribution.normal(0.0, scale / sqrt(n) * min(1.0, sqrt(m / n))), ""),
    # Haiku: TruncatedNormal(stddev=1 / sqrt(fan_in)), truncated at ±2 stddev, no std correction.
    "haiku_truncated_normal": (
        lambda n, m: Distribution.truncated_normal(0.0, 1.0 / sqrt(n), -2.0 / sqrt(n), 2.0 / sqrt(n)),
        "",
    ),
}


# The formulas with a public factory in `presets`, by the factory's name.
_PRESETS = {"mup_readout": "mup_readout", "spectral": "spectral_normal"}


@dataclasses.dataclass(frozen=True, repr=False)
class FanFormula(FanScaled):
    """An initializer whose law is `FORMULAS[formula]` applied to the fans."""

    formula: str = "xavier"
    params: tuple = ()

    @property
    def complex_family(self) -> str | None:  # type: ignore[override]
        return FORMULAS[self.formula][1] or None

    def law(self, fan_in: int, fan_out: int) -> Distribution:
        return FORMULAS[self.formula][0](fan_in, fan_out, *self.params)

    def default_call(self) -> str:
        params = ", ".join(repr(p) for p in self.params)
        if self.formula in ("xavier", "normalized_xavier", "he"):
            return f"{self.formula}({self.axes_suffix().removeprefix(', ')})"
        if self.formula in _PRESETS:
            return f"presets.{_PRESETS[self.formula]}({params}{self.axes_suffix()})"
        if self.formula == "haiku_truncated_normal" and not self.axes_suffix():
            return "presets.haiku_linear()"
        if self.formula.startswith("torch_xavier"):
            return f"pytorch.{self.formula.removeprefix('torch_')}({params}{dtype_suffix(self.dtype)})"
        # torch's kaiming keeps the gain, not the `a` and nonlinearity it came from: built only by recorded calls.
        return f"fan_formula({self.formula!r}, {params}{self.axes_suffix()})"


def fan_formula(
    formula: str,
    *params,
    in_axis: Axes = -2,
    out_axis: Axes = -1,
    batch_axis: Axes = (),
    dtype: DTypeLike | None = None,
) -> RandomInitializer:
    """Builds a `FanFormula`, checking its axes and dtype."""
    return FanFormula.build(
        in_axis,
        out_axis,
        batch_axis,
        dtype,
        allow_complex=bool(FORMULAS[formula][1]),
        formula=formula,
        params=tuple(params),
    )
