"""`torch.nn.init`, functionally: same names (without the trailing underscore), parameters and defaults.

Weights are in torch's layout, `(out, in, *kernel)`; fans follow torch
(fan_in = in·prod(kernel), fan_out = out·prod(kernel)).
"""

from ._src.gain import calculate_gain as calculate_gain
from ._src.pytorch import constant as constant
from ._src.pytorch import default_bias as default_bias
from ._src.pytorch import default_weight as default_weight
from ._src.pytorch import dirac as dirac
from ._src.pytorch import eye as eye
from ._src.pytorch import kaiming_normal as kaiming_normal
from ._src.pytorch import kaiming_uniform as kaiming_uniform
from ._src.pytorch import normal as normal
from ._src.pytorch import ones as ones
from ._src.pytorch import orthogonal as orthogonal
from ._src.pytorch import sparse as sparse
from ._src.pytorch import trunc_normal as trunc_normal
from ._src.pytorch import uniform as uniform
from ._src.pytorch import xavier_normal as xavier_normal
from ._src.pytorch import xavier_uniform as xavier_uniform
from ._src.pytorch import zeros as zeros

__all__ = [
    "calculate_gain",
    "constant",
    "default_bias",
    "default_weight",
    "dirac",
    "eye",
    "kaiming_normal",
    "kaiming_uniform",
    "normal",
    "ones",
    "orthogonal",
    "sparse",
    "trunc_normal",
    "uniform",
    "xavier_normal",
    "xavier_uniform",
    "zeros",
]
