"""Layer-aware re-initialization of Flax nnx modules: each fan-scaled law at its layer's own fans.

Importing this module imports Flax; `import jax_weightinit` alone does not.
"""

try:
    from ._src.flax_layers import layer_fans as layer_fans
    from ._src.flax_layers import plan as plan
    from ._src.flax_layers import reinit as reinit
except ModuleNotFoundError as error:  # the framework itself; a missing module of ours is a bug to see
    if error.name is None or not error.name.startswith("flax"):
        raise
    from . import _framework_missing

    raise _framework_missing("flax", error) from None

__all__ = ["layer_fans", "plan", "reinit"]
