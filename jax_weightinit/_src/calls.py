"""How initializers print: as the public call that rebuilds them.

`wi.he()` prints `he()`, `wi.normal(0.02)` prints `normal(0.02)`, `wi.pytorch.dirac(groups=2)`
prints `pytorch.dirac(groups=2)`: the arguments as the user wrote them, each as Python source,
so that `eval(repr(init), namespace) == init` with the package's public names in `namespace`.
A public factory is wrapped by `rebuilt_as`, which keeps its call on what it returns (the text
is written only when printed: a factory costs what it did); an initializer made inside the
library (a copy with other fields) prints its class's `default_call()`, also a public call.
"""

import copy
import dataclasses
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

    #: Whether instances are module objects that factories return as they are (`zeros`), so not to be marked.
    shared = False

    def __repr__(self) -> str:
        recorded = self.__dict__.get("_call")
        return call(recorded[0], *recorded[1], **recorded[2]) if recorded else self.default_call()

    def default_call(self) -> str:
        """A public call that rebuilds this initializer, for one not built by a recorded call."""
        raise NotImplementedError


def rebuilt_as(name: str) -> Callable[[F], F]:
    """Wraps the public factory `name` (such as 'he' or 'pytorch.dirac') so that what it builds prints as the call
    that built it. The call is kept as given and written out only when printed."""

    def wrap(factory: F) -> F:
        parameters = list(inspect.signature(factory).parameters)
        dtype_at = parameters.index("dtype") if "dtype" in parameters else -1

        @functools.wraps(factory)
        def build(*args, **kwargs):
            init = factory(*args, **kwargs)  # checks the arguments first
            if 0 <= dtype_at < len(args):  # a positional dtype prints by name, as a keyword one does
                args = (*args[:dtype_at], _Dtype(args[dtype_at]), *args[dtype_at + 1 :])
            if getattr(init, "shared", False):  # `zeros` and `ones` are module objects: the record goes on a copy
                init = copy.copy(init)
            object.__setattr__(init, "_call", (name, args, kwargs))  # the outermost factory's call is the user's
            return init

        return build  # type: ignore[return-value]

    return wrap


class _Dtype:
    """A dtype given positionally, printed as its quoted name."""

    def __init__(self, value: object) -> None:
        self.value = value

    def __repr__(self) -> str:
        return source(self.value, "dtype")


def call(name: str, *args: object, **kwargs: object) -> str:
    """`name(args..., key=value, ...)`, each value as Python source."""
    shown = [a.__repr__() if isinstance(a, _Dtype) else source(a) for a in args]
    shown += [f"{k}={source(v, k)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(shown)})"


def source(value: object, name: str = "") -> str:
    """`value` as Python source where it has one: a dtype by its name (the factories take names), a NumPy scalar
    as a Python number, a function by its qualified name, an array by its shape."""
    if name == "dtype" and value is not None:
        return repr(np.dtype(value).name)  # type: ignore[call-overload]
    if isinstance(value, np.generic):
        return repr(value.item())
    if isinstance(value, jax.core.Tracer):
        return "<traced>"
    if isinstance(value, np.ndarray | jax.Array):
        return f"<array of shape {tuple(value.shape)}>"
    if isinstance(value, tuple | list):
        items = [source(v) for v in value]
        return f"({items[0]},)" if isinstance(value, tuple) and len(items) == 1 else _bracket(value, items)
    if isinstance(value, types.FunctionType | types.BuiltinFunctionType | functools.partial):
        return jax_nn_call(value) or qualified_name(value)
    return repr(value)


def _bracket(value: tuple | list, items: list[str]) -> str:
    inner = ", ".join(items)
    return f"({inner})" if isinstance(value, tuple) else f"[{inner}]"


def qualified_name(function: object) -> str:
    """`module.qualname` of a function, such as 'mymodel.init_weights' or 'mymodel.<lambda>'."""
    module = getattr(function, "__module__", None) or type(function).__module__
    name = getattr(function, "__qualname__", None) or type(function).__qualname__
    return f"{module}.{name}"


_JAX_NN_MODULE = "jax._src.nn.initializers"


def jax_nn_arguments(init: Callable) -> tuple[str, dict[str, Any]] | None:
    """(factory name, its arguments) of a jax.nn initializer closure, or None for anything else."""
    qualname = getattr(init, "__qualname__", "")
    if getattr(init, "__module__", None) != _JAX_NN_MODULE or not qualname.endswith(".<locals>.init"):
        return None
    code, closure = getattr(init, "__code__", None), getattr(init, "__closure__", None) or ()
    if code is None:
        return None
    return qualname.split(".")[0], {n: c.cell_contents for n, c in zip(code.co_freevars, closure, strict=True)}


def jax_nn_call(init: Callable) -> str | None:
    """`jax.nn.initializers.<factory>(<arguments>)` for a jax.nn initializer closure, or None."""
    read = jax_nn_arguments(init)
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


def label(init: Callable) -> str:
    """The plan's text for an initializer: the library's own print as the call that built them, a jax.nn
    initializer as the jax.nn call, any other function by its qualified name."""
    if isinstance(init, Rebuildable) or dataclasses.is_dataclass(init):
        return repr(init)
    return source(init) if callable(init) and hasattr(init, "__code__") else qualified_name(init)
