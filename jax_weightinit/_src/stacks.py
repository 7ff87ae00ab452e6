"""Stacked layers: leaves some of whose axes index layers (linen `nn.scan`, `nnx.vmap`, `hk.layer_stack`,
`eqx.filter_vmap`), each layer drawn by one layer's law.

A leaf's stack axes are positions, leading as the frameworks lay them out by default or
anywhere (`nnx.vmap(..., out_axes=1)`, `nn.scan(variable_axes={'params': 1})`). They are
declared by the user (`stacked=[(pattern, axes)]`, a count of leading axes or the positions)
or read from what the framework records: the positions of stack names (`'layers'`) in a
leaf's Flax partitioning names; for a layer the adapter knows (`wi.flax`, `wi.equinox`),
the axes its parameter has beyond one layer's shape; or the module names Haiku's
`layer_stack` and linen's `nn.scan` / `nn.vmap` give when the user names none (one leading
axis each, the frameworks' default).

The law of each layer is then one layer's: a fan-scaled law reads its fans from one
layer's shape (the leaf's shape without its stack axes; the law's axes counted within
the layer), and the leaf is drawn in one call with the stack axes as batch axes,
`init(key_for(key, path), shape)`; any other initializer is drawn once per layer, as
`vmap` over `jax.random.split(key_for(key, path), layers)` with the stack axes moved to
their positions — the way the frameworks' own stacked inits call it.
"""

import dataclasses
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from . import calls, placement, validation
from .constant import Constant
from .core import RandomInitializer
from .fans import compute_fans
from .keys import path_string
from .layers import LayerFans
from .scaling import Scaled
from .typing import Array, DTypeLike, Shape, Sharding
from .variance_scaling import FanScaled

#: Partitioning names that mark a stack axis when they lead a leaf's names: Flax's `nn.scan` /
#: `nnx.vmap` `PARTITION_NAME` as MaxText and T5X set it.
STACK_NAMES = ("layers",)
# The module names Haiku's `hk.layer_stack` gives its scope when the user names none, and linen's lifted
# `nn.scan(Block, ...)` and `nn.vmap(Block, ...)` give theirs (`ScanBlock_0`, `VmapBlock_0`); one stack axis each.
_FRAMEWORK_STACK = re.compile(r"^(__layer_stack_(no|with)_per_layer(_\d+)?|(Scan|Vmap)[A-Z_]\w*_\d+)$")


#: A leaf's stack axes: their positions, ascending.
Axes = tuple[int, ...]


def split(shape: tuple[int, ...], axes: Axes) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(the stack's sizes, one layer's shape) of a leaf of `shape` whose stack axes are at `axes`."""
    return tuple(shape[i] for i in axes), tuple(d for i, d in enumerate(shape) if i not in axes)


@dataclasses.dataclass(frozen=True)
class PerLayer:
    """`init` drawn once per layer of a stack whose axes are at positions `axes`: `vmap` over split keys.

    The leaf is `vmap(lambda k: init(k, layer, dtype))(split(key, prod(stack)))`, reshaped
    to `stack + layer` and its stack axes moved to their positions: layer `i` (in row-major
    order over the stack axes) is drawn with `jax.random.split(key, prod(stack))[i]`.
    """

    init: Callable
    axes: Axes

    def __repr__(self) -> str:
        return f"{calls.label(self.init)} per layer"

    def __call__(
        self, key: Array, shape: Shape, dtype: DTypeLike | None = None, out_sharding: Sharding = None
    ) -> Array:
        shape = validation.shape(shape)
        stack, layer = split(shape, self.axes)
        sharding = placement.resolve(out_sharding, shape)

        def draw(key: Array) -> Array:
            keys = jax.random.split(key, math.prod(stack))
            leading = jax.vmap(lambda k: self.init(k, layer, dtype))(keys).reshape(stack + layer)
            return jnp.moveaxis(leading, range(len(stack)), self.axes)

        if sharding is None:
            return draw(key)
        with placement.entered(sharding):
            return jax.jit(lambda k: placement.place(draw, sharding, k))(key)


def check(stacked: object) -> list[tuple[Any, int | Axes]]:
    """The `stacked` argument as (pattern, axes) pairs, `axes` a count of leading axes or the positions (negative
    ones counted from the end), or the one-sentence error for it."""
    if isinstance(stacked, dict | str) or not isinstance(stacked, Sequence):
        raise TypeError(f"`stacked` must be a sequence of (pattern, axes) pairs; got {type(stacked).__name__}.")
    pairs: list[tuple[Any, int | Axes]] = []
    for i, pair in enumerate(stacked):
        if not (isinstance(pair, tuple | list) and len(pair) == 2):
            raise TypeError(f"`stacked[{i}]` must be a (pattern, axes) pair; got {pair!r}.")
        pattern, axes = pair
        validation.pattern(f"`stacked[{i}]`", pattern)
        if isinstance(axes, tuple | list) and all(_is_int(a) for a in axes) and len(set(axes)) == len(axes):
            pairs.append((pattern, tuple(int(a) for a in axes)))
        elif _is_int(axes) and axes >= 0:
            pairs.append((pattern, int(axes)))
        else:
            raise ValueError(
                f"`stacked[{i}]` axes must be a non-negative int (how many leading axes stack layers) or a tuple of "
                f"distinct axis positions; got {axes!r}."
            )
    return pairs


def _is_int(x: object) -> bool:
    return isinstance(x, int | np.integer) and not isinstance(x, bool)


def declared_axes(axes: int | Axes, shape: tuple[int, ...]) -> Axes:
    """The positions a `stacked=` entry gives a leaf of `shape`, or the one-sentence error where they do not fit."""
    rank = len(shape)
    if isinstance(axes, int):
        if axes > rank:
            raise ValueError(
                f"{axes} stack axes, more than its {rank} dims; declare at most {rank - 1}, its leading layer axes"
            )
        return tuple(range(axes))
    if not all(-rank <= a < rank for a in axes):
        raise ValueError(f"stack axes at {axes}, not all among its {rank} dims; give positions in [{-rank}, {rank})")
    positions = tuple(sorted(a % rank for a in axes))
    if len(set(positions)) < len(positions):
        raise ValueError(f"stack axes at {axes}, which name one axis twice; give each axis once")
    return positions


def check_names(stack_names: object) -> tuple[str, ...]:
    if isinstance(stack_names, str) or not isinstance(stack_names, Sequence):
        raise TypeError(f"`stack_names` must be a sequence of partitioning names; got {stack_names!r}.")
    if not all(isinstance(name, str) for name in stack_names):
        raise TypeError(f"`stack_names` must hold strings only; got {stack_names!r}.")
    return tuple(stack_names)


def boxed_names(target: Any) -> dict[str, tuple]:
    """The partitioning names of each leaf boxed by Flax (`nn.Partitioned`, `nn.LogicallyPartitioned`)."""
    def is_box(x: Any) -> bool:
        return type(x).__module__.startswith("flax.") and isinstance(getattr(x, "names", None), tuple)

    names: dict[str, tuple] = {}
    for path, node in jax.tree_util.tree_flatten_with_path(target, is_leaf=is_box)[0]:
        if is_box(node):
            for inner, _ in jax.tree_util.tree_flatten_with_path(node)[0]:
                names[path_string((*path, *inner))] = node.names
    return names


def find(
    name: str,
    leaf: Any,
    declared: list[tuple[Any, int | Axes]],
    stack_names: tuple[str, ...],
    layer_shapes: Mapping[str, tuple[int, ...]],
    axis_names: Mapping[str, tuple],
    lifted: Mapping[str, Axes],
) -> Axes | None:
    """The stack axes of the leaf at `name`: declared, else recorded by its framework (a layer's known shape, its
    partitioning names, its lifted scopes as `in_lifted_scopes` reads them); None where nothing says (the leaf is
    then read as one layer).

    Raises:
      ValueError: where the declared axes do not fit the leaf (the reason, to be completed by the caller).
    """
    shape = tuple(leaf.shape)
    for pattern, axes in declared:
        if validation.matches(pattern, name, leaf):
            return declared_axes(axes, shape)
    if name in layer_shapes and len(shape) > len(layer_shapes[name]):
        return beyond(shape, layer_shapes[name])
    named = tuple(i for i, n in enumerate(axis_names.get(name) or ()) if n in stack_names)
    if named:
        return named
    return lifted.get(name)


def in_lifted_scopes(names: Sequence[str], shapes: Sequence[tuple[int, ...]]) -> dict[str, Axes]:
    """The stack axes of each leaf under scopes the frameworks name when the user names none (Haiku's
    `layer_stack`, linen's `nn.scan` / `nn.vmap`), one axis per such scope on its path.

    A transform puts its layer axis at the same position in every parameter of its scope
    (`variable_axes={'params': 1}` puts it second), so a leaf under one such scope takes the
    first position where every leaf of the scope has one size: the leading axis, the
    frameworks' default, wherever it fits. Under nested scopes the leading axes.
    """
    scopes: dict[str, list[tuple[int, ...]]] = {}
    found: dict[str, list[str]] = {}
    for name, shape in zip(names, shapes, strict=True):
        parts = name.split("/")
        lifted = ["/".join(parts[: i + 1]) for i, part in enumerate(parts[:-1]) if _FRAMEWORK_STACK.match(part)]
        found[name] = lifted
        if len(lifted) == 1 and shape:
            scopes.setdefault(lifted[0], []).append(shape)
    position = {
        scope: next((p for p in range(min(map(len, ss))) if len({s[p] for s in ss}) == 1), 0)
        for scope, ss in scopes.items()
    }
    return {
        name: (position.get(lifted[0], 0),) if len(lifted) == 1 else tuple(range(len(lifted)))
        for name, lifted in found.items()
        if lifted
    }


def beyond(shape: tuple[int, ...], layer: tuple[int, ...]) -> Axes:
    """The axes of `shape` beyond one layer's `layer`: those left when `layer` is read in order out of `shape`,
    each of its sizes as late as it fits (so where sizes repeat, the stack leads as by default); the leading axes
    where `layer` is not in `shape` in order."""
    kept, at = [], len(shape)
    for size in reversed(layer):
        at -= 1
        while at >= 0 and shape[at] != size:
            at -= 1
        if at < 0:
            return tuple(range(len(shape) - len(layer)))
        kept.append(at)
    return tuple(i for i in range(len(shape)) if i not in kept)


def per_layer(init: Callable, shape: tuple[int, ...], dtype: np.dtype, axes: Axes) -> Callable:
    """`init` as it draws a leaf of `shape` whose axes at `axes` stack layers: one layer's law per layer.

    Raises ValueError or TypeError where one layer's shape cannot take `init`, as an unstacked layer would.
    """
    if not axes:
        return init
    stack, layer = split(shape, axes)
    if isinstance(init, Scaled):
        inner = per_layer(init.init, shape, dtype, axes)
        return init if inner is init.init else Scaled(inner, init.factor, init.dtype)  # type: ignore[arg-type]
    if isinstance(init, LayerFans):  # the framework gave it one layer's fans already
        init.checked(layer, dtype)
        return init
    if isinstance(init, FanScaled):
        fans = compute_fans(layer, init.in_axis, init.out_axis, init.batch_axis)
        return LayerFans(init, fans, f"one of {math.prod(stack)} stacked layers", init.dtype)
    if isinstance(init, RandomInitializer | Constant):  # one law, whatever the shape
        init.checked(layer, dtype)
        return init
    return PerLayer(init, axes)
