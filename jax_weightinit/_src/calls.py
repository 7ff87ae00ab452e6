"""How initializers print: as the public call that rebuilds them.

`wi.he()` prints `he()`, `wi.normal(0.02)` prints `normal(0.02)`, `wi.pytorch.dirac(groups=2)`
prints `pytorch.dirac(groups=2)`: the arguments as the user wrote them, each as Python source,
so that `eval(repr(init), namespace) == init` with the package's public names in `namespace`.
A public factory is wrapped by `rebuilt_as`, which records its call on what it returns; an
initializer made inside the library (a copy with other fields) prints its class's
`default_call()`, also a public call.
"""

import copy
import functools
import inspect
import types
from collections.abc import Callable
from typing import Any, TypeVar

import jax
import numpy as np
from jax.nn.initializers import Initializer

F = TypeVar("F", bound=Callable[..., Any])


class Rebuildable(Initializer):
    """Base of the library's initializers: `repr` is the call that built it, else `default_call()`.

    A dataclass subclass is declared with `repr=False`, so that it keeps this `__repr__`.
    """

    def __repr__(self) -> str:
        return self.__dict__.get("_call") or self.default_call()

    def default_call(self) -> str:
        """A public call that rebuilds this initializer, for one not built by a recorded call."""
        raise NotImplementedError


def rebuilt_as(name: str) -> Callable[[F], F]:
    """Wraps the public factory `name` (such as 'he' or 'pytorch.dirac') so that what it builds prints as the call
    that built it."""

    def wrap(factory: F) -> F:
        names = list(inspect.signature(factory).parameters)

        @functools.wraps(factory)
        def build(*args, **kwargs):
            init = factory(*args, **kwargs)  # checks the arguments first
            shown = [source(a, n) for a, n in zip(args, names, strict=False)]
            shown += [f"{k}={source(v, k)}" for k, v in kwargs.items()]
            return recorded(init, f"{name}({', '.join(shown)})")

        return build  # type: ignore[return-value]

    return wrap


def recorded(init: Any, text: str) -> Any:
    """A copy of `init` that prints as `text` (the object itself may be shared, such as `zeros`)."""
    init = copy.copy(init)
    object.__setattr__(init, "_call", text)
    return init


def call(name: str, *args: object, **kwargs: object) -> str:
    """`name(args..., key=value, ...)`, each value as Python source."""
    shown = [source(a) for a in args] + [f"{k}={source(v, k)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(shown)})"


def source(value: object, name: str = "") -> str:
    """`value` as Python source where it has one: a dtype by its name (the factories take names), a NumPy scalar
    as a Python number, a function by its qualified name, an array by its shape."""
    if name == "dtype" and value is not None:
        return repr(np.dtype(value).name)  # type: ignore[call-overload]
    if isinstance(value, np.generic):
        return repr(value.item())
    if isinstance(value, np.ndarray | jax.Array):
        return f"<array of shape {tuple(value.shape)}>"
    if isinstance(value, tuple | list):
        items = [source(v) for v in value]
        return f"({items[0]},)" if isinstance(value, tuple) and len(items) == 1 else _bracket(value, items)
    if isinstance(value, types.FunctionType | types.BuiltinFunctionType | functools.partial):
        from . import foreign  # foreign reads initializers, which import this module

        return foreign.jax_nn_call(value) or qualified_name(value)
    return repr(value)


def _bracket(value: tuple | list, items: list[str]) -> str:
    inner = ", ".join(items)
    return f"({inner})" if isinstance(value, tuple) else f"[{inner}]"


def qualified_name(function: object) -> str:
    """`module.qualname` of a function, such as 'mymodel.init_weights' or 'mymodel.<lambda>'."""
    module = getattr(function, "__module__", None) or type(function).__module__
    name = getattr(function, "__qualname__", None) or type(function).__qualname__
    return f"{module}.{name}"
