"""Laws written as formulas of the fans, evaluated exactly as their sources write them.

Each rule maps `(fan_in, fan_out, *params)` to a `Distribution`. Writing the
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


RULES: dict[str, tuple[Callable[..., Distribution], str]] = {
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
    # Haiku: TruncatedNormal(stddev=1 / sqrt(fan_in)), truncated at ±2 stddev, no std correction.
    "haiku_truncated_normal": (
        lambda n, m: Distribution.truncated_normal(0.0, 1.0 / sqrt(n), -2.0 / sqrt(n), 2.0 / sqrt(n)),
        "",
    ),
}


@dataclasses.dataclass(frozen=True)
class FanRule(FanScaled):
    """An initializer whose law is the formula `RULES[rule]` applied to the fans."""

    rule: str = "xavier"
    params: tuple = ()
    #: The call that built it, such as "pytorch.kaiming_normal(a=0, ...)", shown by repr; "" for the formula.
    call: str = dataclasses.field(default="", compare=False)

    @property
    def complex_family(self) -> str | None:  # type: ignore[override]
        return RULES[self.rule][1] or None

    def law(self, fan_in: int, fan_out: int) -> Distribution:
        return RULES[self.rule][0](fan_in, fan_out, *self.params)

    def __repr__(self) -> str:
        if self.call:
            return self.call[:-1] + dtype_suffix(self.dtype) + ")"
        params = "".join(f", {p:.6g}" if isinstance(p, float) else f", {p!r}" for p in self.params)
        return f"fan_rule({self.rule!r}{params}{self.axes_suffix()})"


def fan_rule(
    rule: str,
    *params,
    in_axis: Axes = -2,
    out_axis: Axes = -1,
    batch_axis: Axes = (),
    dtype: DTypeLike | None = None,
    call: str = "",
) -> RandomInitializer:
    """Builds a `FanRule`, checking its axes and dtype; `call` is what its repr shows."""
    return FanRule.build(
        in_axis,
        out_axis,
        batch_axis,
        dtype,
        allow_complex=bool(RULES[rule][1]),
        rule=rule,
        params=tuple(params),
        call=call,
    )
