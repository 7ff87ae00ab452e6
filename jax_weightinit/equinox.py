"""Layer-aware re-initialization of Equinox modules: each fan-scaled law at its layer's own fans.

Importing this module imports Equinox; `import jax_weightinit` alone does not.
"""

try:
    from ._src.equinox_layers import layer_fans as layer_fans
    from ._src.equinox_layers import plan as plan
    from ._src.equinox_layers import reinit as reinit
except ModuleNotFoundError as error:  # the framework itself; a missing module of ours is a bug to see
    if error.name is None or not error.name.startswith("equinox"):
        raise
    from . import _framework_missing

    raise _framework_missing("equinox", error) from None

__all__ = ["layer_fans", "plan", "reinit"]
