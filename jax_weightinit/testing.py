"""Statistical assertions for initializers: `import jax_weightinit.testing`."""

from ._src.follows import assert_follows as assert_follows
from ._src.testing import ALPHA as ALPHA
from ._src.testing import SAMPLES as SAMPLES
from ._src.testing import assert_bounds as assert_bounds
from ._src.testing import assert_ks as assert_ks
from ._src.testing import assert_moments as assert_moments
from ._src.testing import assert_orthogonal as assert_orthogonal
from ._src.testing import assert_same_distribution as assert_same_distribution
from ._src.testing import ks_threshold as ks_threshold

__all__ = [
    "ALPHA",
    "SAMPLES",
    "assert_bounds",
    "assert_follows",
    "assert_ks",
    "assert_moments",
    "assert_orthogonal",
    "assert_same_distribution",
    "ks_threshold",
]
