"""`jax.nn.initializers` as the plan reads them: the call that built one, and its law where the library can state it.

A jax.nn initializer is a closure; its factory's arguments are in the closure's cells. The
library draws it as it is (by calling it), but states what it is and, for
`variance_scaling` and its presets, `normal` and `uniform`, the fans and law it samples —
the same laws the library's own factories of those names state.
"""

from collections.abc import Callable
from typing import Any

from .core import RandomInitializer, normal, uniform
from .variance_scaling import variance_scaling

_MODULE = "jax._src.nn.initializers"


def _arguments(init: Callable) -> tuple[str, dict[str, Any]] | None:
    """(factory name, its arguments) of a jax.nn initializer closure, or None for anything else."""
    qualname = getattr(init, "__qualname__", "")
    if getattr(init, "__module__", None) != _MODULE or not qualname.endswith(".<locals>.init"):
        return None
    code, closure = getattr(init, "__code__", None), getattr(init, "__closure__", None) or ()
    if code is None:
        return None
    return qualname.split(".")[0], {n: c.cell_contents for n, c in zip(code.co_freevars, closure, strict=True)}


def equivalent(init: Callable) -> RandomInitializer | None:
    """The library's initializer that states the law a jax.nn initializer samples, or None where it has none."""
    read = _arguments(init)
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


def jax_nn_call(init: Callable) -> str | None:
    """`jax.nn.initializers.<factory>(<arguments>)` for a jax.nn initializer closure, or None."""
    read = _arguments(init)
    if read is None:
        return None
    factory, args = read
    if factory == "variance_scaling":
        axes = "".join(
            f", {name}={args[name]!r}"
            for name, default in (("in_axis", -2), ("out_axis", -1), ("batch_axis", ()))
            if name in args and args[name] != default
        )
        shown = f"{args.get('scale')!r}, {args.get('mode')!r}, {args.get('distribution')!r}{axes}"
    else:
        shown = ", ".join(f"{value!r}" for name, value in args.items() if name != "dtype")
    return f"jax.nn.initializers.{factory}({shown})"
