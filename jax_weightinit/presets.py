"""The default initializers of popular layers, each with its exact law.

| preset | law |
|---|---|
| `flax_dense_kernel`, `flax_conv_kernel` | lecun_normal: truncated normal, std sqrt(1/fan_in) |
| `flax_embed` | variance_scaling(1, 'fan_in', 'normal', out_axis=0): N(0, 1/features) |
| `haiku_linear` | truncated normal of scale 1/sqrt(fan_in) at ±2 scale, uncorrected: std ≈ 0.8796/sqrt(fan_in) |
| `keras_dense` | glorot_uniform: U(±sqrt(6/(fan_in + fan_out))) |
| `torch_linear` | kaiming_uniform(a=√5) in (out, in) layout: U(±1/sqrt(fan_in)) |
| `equinox_linear` | U(±1/sqrt(in_features)) in (out, in) layout |
"""

from ._src.presets import equinox_linear as equinox_linear
from ._src.presets import flax_conv_kernel as flax_conv_kernel
from ._src.presets import flax_dense_kernel as flax_dense_kernel
from ._src.presets import flax_embed as flax_embed
from ._src.presets import haiku_linear as haiku_linear
from ._src.presets import keras_dense as keras_dense
from ._src.presets import torch_linear as torch_linear

__all__ = [
    "equinox_linear",
    "flax_conv_kernel",
    "flax_dense_kernel",
    "flax_embed",
    "haiku_linear",
    "keras_dense",
    "torch_linear",
]
