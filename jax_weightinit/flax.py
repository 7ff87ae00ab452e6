"""Layer-aware re-initialization of Flax nnx modules: each fan-scaled law at its layer's own fans.

Importing this module imports Flax; `import jax_weightinit` alone does not.
"""

from ._src.flax_layers import layer_fans as layer_fans
from ._src.flax_layers import plan as plan
from ._src.flax_layers import reinit as reinit

__all__ = ["layer_fans", "plan", "reinit"]
