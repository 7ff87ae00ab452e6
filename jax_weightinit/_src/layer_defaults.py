"""Default initializers of Flax, Haiku, Keras and PyTorch layers, as one-line calls."""

from . import calls
from .core import RandomInitializer
from .formulas import fan_formula
from .pytorch import default_weight
from .variance_scaling import glorot_uniform, lecun_normal, variance_scaling


@calls.rebuilt_as("presets.flax_dense_kernel")
def flax_dense_kernel() -> RandomInitializer:
    """Flax `nn.Dense` kernel default: `lecun_normal()` on (in, out)."""
    return lecun_normal()


@calls.rebuilt_as("presets.flax_conv_kernel")
def flax_conv_kernel() -> RandomInitializer:
    """Flax `nn.Conv` kernel default: `lecun_normal()` on (*kernel, in // groups, out)."""
    return lecun_normal()


@calls.rebuilt_as("presets.flax_embed")
def flax_embed() -> RandomInitializer:
    """Flax `nn.Embed` default: `variance_scaling(1.0, 'fan_in', 'normal', out_axis=0)`, N(0, 1/features).

    Example:
      >>> from jax_weightinit import presets
      >>> presets.flax_embed().distribution((50_000, 256)).std == (1 / 256) ** 0.5
      True
    """
    return variance_scaling(1.0, "fan_in", "normal", out_axis=0)


@calls.rebuilt_as("presets.haiku_linear")
def haiku_linear() -> RandomInitializer:
    """Haiku `hk.Linear` / `hk.ConvND` default: TruncatedNormal(stddev=1/sqrt(fan_in)).

    Haiku truncates at ±2·stddev without correcting the std, so the samples' std is
    0.8796/sqrt(fan_in), not 1/sqrt(fan_in).

    Example:
      >>> from jax_weightinit import presets
      >>> round(presets.haiku_linear().distribution((256, 128)).std * 16, 6)
      0.879626
    """
    return fan_formula("haiku_truncated_normal")


@calls.rebuilt_as("presets.keras_dense")
def keras_dense() -> RandomInitializer:
    """Keras `Dense` kernel default: `glorot_uniform()`."""
    return glorot_uniform()


@calls.rebuilt_as("presets.torch_linear")
def torch_linear() -> RandomInitializer:
    """PyTorch `nn.Linear` / `nn.Conv*` weight default, in (out, in, *k) layout: U(±1/sqrt(fan_in))."""
    return default_weight()


@calls.rebuilt_as("presets.equinox_linear")
def equinox_linear() -> RandomInitializer:
    """Equinox `eqx.nn.Linear` weight default, in its (out, in) layout: U(±1/sqrt(in_features)).

    The law of `torch_linear`, with the bound written as Equinox writes it, `1 / sqrt(in)`
    (torch's `sqrt(3) · sqrt(1/3) / sqrt(in)` can differ in the last bit). Equinox draws
    its bias from the same bound.
    """
    return fan_formula("xavier", in_axis=1, out_axis=0)
