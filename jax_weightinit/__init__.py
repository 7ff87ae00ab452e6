"""jax_weightinit: weight initializers for JAX that sample exactly the law they state.

A strict superset of `jax.nn.initializers`: every name there works here with the
same defaults and call protocol, `init(key, shape, dtype=None, out_sharding=None)`.
"""

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from . import presets as presets
from . import pytorch as pytorch
from . import testing as testing
from ._src.constant import constant as constant
from ._src.constant import ones as ones
from ._src.constant import ones_init as ones_init
from ._src.constant import zeros as zeros
from ._src.constant import zeros_init as zeros_init
from ._src.core import Initializer as Initializer
from ._src.core import RandomInitializer as RandomInitializer
from ._src.core import normal as normal
from ._src.core import truncated_normal as truncated_normal
from ._src.core import uniform as uniform
from ._src.fans import compute_fans as compute_fans
from ._src.frameworks import to_haiku as to_haiku
from ._src.gain import calculate_gain as calculate_gain
from ._src.heuristics import he as he
from ._src.heuristics import normalized_xavier as normalized_xavier
from ._src.heuristics import xavier as xavier
from ._src.keys import key_for as key_for
from ._src.keys import path_string as path_string
from ._src.laws import Distribution as Distribution
from ._src.lsuv import lsuv as lsuv
from ._src.optional import optional as optional
from ._src.orthogonal import delta_orthogonal as delta_orthogonal
from ._src.orthogonal import orthogonal as orthogonal
from ._src.plan import Pattern as Pattern
from ._src.plan import Plan as Plan
from ._src.plan import PlanRow as PlanRow
from ._src.plan import Rules as Rules
from ._src.plan import plan as plan
from ._src.propagate import activation_std as activation_std
from ._src.scaling import scaled as scaled
from ._src.structured import dirac as dirac
from ._src.structured import identity as identity
from ._src.structured import sparse as sparse
from ._src.structured import zero_hadamard as zero_hadamard
from ._src.tree import init_tree as init_tree
from ._src.variance_scaling import glorot_normal as glorot_normal
from ._src.variance_scaling import glorot_uniform as glorot_uniform
from ._src.variance_scaling import he_normal as he_normal
from ._src.variance_scaling import he_uniform as he_uniform
from ._src.variance_scaling import kaiming_normal as kaiming_normal
from ._src.variance_scaling import kaiming_uniform as kaiming_uniform
from ._src.variance_scaling import lecun_normal as lecun_normal
from ._src.variance_scaling import lecun_uniform as lecun_uniform
from ._src.variance_scaling import variance_scaling as variance_scaling
from ._src.variance_scaling import xavier_normal as xavier_normal
from ._src.variance_scaling import xavier_uniform as xavier_uniform

if TYPE_CHECKING:  # at run time these import their framework when first used, through __getattr__
    from . import equinox as equinox
    from . import flax as flax

_LAZY = ("flax", "equinox")  # submodules that import their framework, so only when used


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    if name == "Row":
        import warnings

        warnings.warn("wi.Row is renamed wi.PlanRow; wi.Row will be removed.", DeprecationWarning, stacklevel=2)
        return PlanRow
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _framework_missing(namespace: str, error: ModuleNotFoundError) -> ImportError:
    """The error `wi.flax` or `wi.equinox` raises without its framework: one sentence naming the extra."""
    return ImportError(
        f"wi.{namespace} needs {error.name}, which is not installed; install it with "
        f'pip install "jax_weightinit[{namespace}]".'
    )


try:
    __version__ = version("jax_weightinit")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "activation_std",
    "calculate_gain",
    "compute_fans",
    "constant",
    "delta_orthogonal",
    "dirac",
    "Distribution",
    "glorot_normal",
    "glorot_uniform",
    "he",
    "he_normal",
    "he_uniform",
    "identity",
    "init_tree",
    "Initializer",
    "kaiming_normal",
    "kaiming_uniform",
    "key_for",
    "lecun_normal",
    "lecun_uniform",
    "lsuv",
    "normal",
    "normalized_xavier",
    "ones",
    "ones_init",
    "optional",
    "orthogonal",
    "path_string",
    "plan",
    "Pattern",
    "Plan",
    "PlanRow",
    "presets",
    "pytorch",
    "RandomInitializer",
    "Rules",
    "scaled",
    "sparse",
    "testing",
    "to_haiku",
    "truncated_normal",
    "uniform",
    "variance_scaling",
    "xavier",
    "xavier_normal",
    "xavier_uniform",
    "zero_hadamard",
    "zeros",
    "zeros_init",
]
