"""`calculate_gain`: torch.nn.init's table of recommended gains, value for value."""

import math
import numbers

import jax
import jax.numpy as jnp

LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
NONLINEARITIES = (*LINEAR, "sigmoid", "tanh", "relu", "leaky_relu", "selu")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """Returns the recommended gain for `nonlinearity`, as `torch.nn.init.calculate_gain`.

    linear, conv and sigmoid: 1; tanh: 5/3; relu: sqrt(2); leaky_relu: sqrt(2 / (1 +
    slope²)) with slope `param` (default 0.01); selu: 3/4.

    Raises:
      ValueError: for an unknown `nonlinearity`, or a slope `param` that is not a finite
        real number (torch raises ValueError there too, and accepts nan; this does not).

    Example:
      >>> import jax_weightinit as wi
      >>> wi.calculate_gain("tanh"), wi.calculate_gain("leaky_relu", 0.2)
      (1.6666666666666667, 1.3867504905630728)
    """
    if nonlinearity in LINEAR or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if isinstance(param, jax.Array):  # a traced slope (`validation.traceable`): torch's formula, in the trace
            return jnp.sqrt(2.0 / (1 + param**2))  # type: ignore[return-value]
        if param is None:
            slope = 0.01
        elif isinstance(param, bool) or not isinstance(param, numbers.Real) or not math.isfinite(param):
            raise ValueError(f"`param` must be a finite real number (the negative slope); got {param!r}.")
        else:
            slope = float(param)
        if abs(slope) > 1e150:  # slope² would overflow; torch's formula below is kept for its last bit
            return math.sqrt(2.0) / math.hypot(1.0, slope)
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(
        f"`nonlinearity` must be one of {', '.join(repr(n) for n in NONLINEARITIES)}; got {nonlinearity!r}."
    )
