"""`jax.nn.initializers` as the plan reads them: the law, where the library can state it (`calls.jax_nn_call` prints
the call that built one).

A jax.nn initializer is a closure; its factory's arguments are in the closure's cells. The
library draws it as it is (by calling it), but states, for
`variance_scaling` and its presets, `normal` and `uniform`, the fans and law it samples —
the same laws the library's own factories of those names state.
"""

from collections.abc import Callable

from .calls import jax_nn_arguments
from .core import RandomInitializer, normal, uniform
from .variance_scaling import variance_scaling


def equivalent(init: Callable) -> RandomInitializer | None:
    """The library's initializer that states the law a jax.nn initializer samples, or None where it has none."""
    read = jax_nn_arguments(init)
    if read is None:
        return None
    factory, args = read
    try:
        if factory == "variance_scaling":
            return variance_scaling(
                args["scale"], args["mode"], args["distribution"], args["in_axis"], args["out_axis"], args["batch_axis"]
            )
        if factory == "normal":
            return normal(args["stddev"])
        if factory == "uniform":
            return uniform(args["scale"])
    except (KeyError, TypeError, ValueError):  # a jax.nn version whose closure reads otherwise
        return None
    return None
