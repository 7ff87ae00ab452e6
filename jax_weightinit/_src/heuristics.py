"""The three heuristics of the classic weight-initialization tutorial, with its exact formulas.

The formulas are written as the tutorial writes them (e.g. `sqrt(6) / sqrt(n + m)`,
not `sqrt(3 · 2 / (n + m))`), so that the bounds match its printed values to the
last bit: 0.31622776601683794, 0.44721359549995787 and 0.4472135954999579 for
n = 10 inputs and m = 20 outputs.
"""

from . import calls
from .core import RandomInitializer
from .formulas import fan_formula
from .typing import Axes, DTypeLike


@calls.rebuilt_as("xavier")
def xavier(
    in_axis: Axes = -2, out_axis: Axes = -1, batch_axis: Axes = (), dtype: DTypeLike | None = None
) -> RandomInitializer:
    """Builds the tutorial's "xavier" initializer: U[-1/sqrt(n), 1/sqrt(n)], n = fan_in.

    Its variance is 1 / (3n), a third of LeCun's. Glorot & Bengio (2010) call this the
    "commonly used heuristic"; it is not `glorot_uniform`, which uses fan_in + fan_out.

    Args:
      in_axis: the input axis or axes of the weight.
      out_axis: the output axis or axes.
      batch_axis: axes of stacked independent layers.
      dtype: the default dtype of the output.

    Returns:
      An initializer.

    Example:
      >>> import jax_weightinit as wi
      >>> wi.xavier().distribution((10, 20)).high
      0.31622776601683794
    """
    return fan_formula("xavier", in_axis=in_axis, out_axis=out_axis, batch_axis=batch_axis, dtype=dtype)


@calls.rebuilt_as("normalized_xavier")
def normalized_xavier(
    in_axis: Axes = -2, out_axis: Axes = -1, batch_axis: Axes = (), dtype: DTypeLike | None = None
) -> RandomInitializer:
    """Builds "normalized xavier": U[-sqrt(6)/sqrt(n + m), sqrt(6)/sqrt(n + m)].

    n = fan_in and m = fan_out, as in the tutorial's code and in Glorot & Bengio
    (2010), eq. 16. (The tutorial's prose once writes n + n; that is a typo.) The
    variance is 2 / (n + m), as `glorot_uniform`; only the last bit of the bound can
    differ, because the formula is evaluated as written.

    Args:
      in_axis: the input axis or axes of the weight.
      out_axis: the output axis or axes.
      batch_axis: axes of stacked independent layers.
      dtype: the default dtype of the output.

    Returns:
      An initializer.

    Example:
      >>> import jax_weightinit as wi
      >>> wi.normalized_xavier().distribution((10, 20)).high
      0.44721359549995787
    """
    return fan_formula("normalized_xavier", in_axis=in_axis, out_axis=out_axis, batch_axis=batch_axis, dtype=dtype)


@calls.rebuilt_as("he")
def he(
    in_axis: Axes = -2, out_axis: Axes = -1, batch_axis: Axes = (), dtype: DTypeLike | None = None
) -> RandomInitializer:
    """Builds the tutorial's "he" initializer: N(0, sqrt(2/n)²), n = fan_in, untruncated.

    Unlike `he_normal` (a truncated normal, as in `jax.nn`), the normal is not truncated.

    Args:
      in_axis: the input axis or axes of the weight.
      out_axis: the output axis or axes.
      batch_axis: axes of stacked independent layers.
      dtype: the default dtype of the output.

    Returns:
      An initializer.

    Example:
      >>> import jax_weightinit as wi
      >>> wi.he().distribution((10, 20)).std
      0.4472135954999579
    """
    return fan_formula("he", in_axis=in_axis, out_axis=out_axis, batch_axis=batch_axis, dtype=dtype)
