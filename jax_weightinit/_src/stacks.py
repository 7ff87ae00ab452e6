"""Stacked layers: leaves whose leading axes index layers (linen `nn.scan`, `nnx.vmap`, `hk.layer_stack`,
`eqx.filter_vmap`), each layer drawn by one layer's law.

A leaf's stack axes are declared by the user (`stacked=[(pattern, axes)]`) or read from
what the framework records: a leading run of stack names (`'layers'`) in its Flax
partitioning names, the module names Haiku's `layer_stack` and linen's `nn.scan` / `nn.vmap` give
when the user names none, or, for a layer the
adapter knows (`wi.flax`, `wi.equinox`), the axes its parameter has beyond one layer's rank.

The law of each layer is then one layer's: a fan-scaled law reads its fans from one
layer's shape (its axes counted within the layer), and the leaf is drawn in one call
with the stack axes as batch axes, `init(key_for(key, path), shape)`; any other
initializer is drawn once per layer, as `vmap` over `jax.random.split(key_for(key, path),
layers)` — the way the frameworks' own stacked inits call it.
"""

import dataclasses
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import numpy as np

from . import placement, validation
from .constant import Constant
from .core import RandomInitializer
from .fans import compute_fans
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


@dataclasses.dataclass(frozen=True)
class PerLayer:
    """`init` drawn once per layer of a stack with `axes` leading stack axes: `vmap` over split keys.

    The leaf of shape `stack + layer` is `vmap(lambda k: init(k, layer, dtype))(split(key,
    prod(stack)))`, reshaped to `stack + layer`: layer `i` (in row-major order over the
    stack axes) is drawn with `jax.random.split(key, prod(stack))[i]`.
    """

    init: Callable
    axes: int

    def __repr__(self) -> str:
        from .plan import label  # plan imports this module

        return f"{label(self.init)} per layer"

    def __call__(
        self, key: Array, shape: Shape, dtype: DTypeLike | None = None, out_sharding: Sharding = None
    ) -> Array:
        shape = validation.shape(shape)
        stack, layer = shape[: self.axes], shape[self.axes :]
        sharding = placement.resolve(out_sharding, shape)

        def draw(key: Array) -> Array:
            keys = jax.random.split(key, math.prod(stack))
            return jax.vmap(lambda k: self.init(k, layer, dtype))(keys).reshape(stack + layer)

        if sharding is None:
            return draw(key)
        with placement.entered(sharding):
            return jax.jit(lambda k: placement.place(draw, sharding, k))(key)


def check(stacked: object) -> list[tuple[Any, int]]:
    """The `stacked` argument as (pattern, axes) pairs, or the one-sentence error for it."""
    if isinstance(stacked, dict | str) or not isinstance(stacked, Sequence):
        raise TypeError(f"`stacked` must be a sequence of (pattern, axes) pairs; got {type(stacked).__name__}.")
    pairs = []
    for i, pair in enumerate(stacked):
        if not (isinstance(pair, tuple | list) and len(pair) == 2):
            raise TypeError(f"`stacked[{i}]` must be a (pattern, axes) pair; got {pair!r}.")
        pattern, axes = pair
        validation.pattern(f"`stacked[{i}]`", pattern)
        if isinstance(axes, bool) or not isinstance(axes, int | np.integer) or axes < 0:
            raise ValueError(f"`stacked[{i}]` axes must be a non-negative int (leading stack axes); got {axes!r}.")
        pairs.append((pattern, int(axes)))
    return pairs


def check_names(stack_names: object) -> tuple[str, ...]:
    if isinstance(stack_names, str) or not isinstance(stack_names, Sequence):
        raise TypeError(f"`stack_names` must be a sequence of partitioning names; got {stack_names!r}.")
    if not all(isinstance(name, str) for name in stack_names):
        raise TypeError(f"`stack_names` must hold strings only; got {stack_names!r}.")
    return tuple(stack_names)


def boxed_names(target: Any) -> dict[str, tuple]:
    """The partitioning names of each leaf boxed by Flax (`nn.Partitioned`, `nn.LogicallyPartitioned`)."""
    from .keys import path_string

    def is_box(x: Any) -> bool:
        return type(x).__module__.startswith("flax.") and isinstance(getattr(x, "names", None), tuple)

    names: dict[str, tuple] = {}
    for path, node in jax.tree_util.tree_flatten_with_path(target, is_leaf=is_box)[0]:
        if is_box(node):
            for inner, _ in jax.tree_util.tree_flatten_with_path(node)[0]:
                names[path_string((*path, *inner))] = node.names
    return names


def leading(names: Sequence[Any] | None, stack_names: tuple[str, ...]) -> int:
    """How many of `names` lead with a stack name."""
    count = 0
    for name in names or ():
        if name not in stack_names:
            break
        count += 1
    return count


def count(
    name: str,
    leaf: Any,
    declared: list[tuple[Any, int]],
    stack_names: tuple[str, ...],
    layer_ranks: Mapping[str, int],
    axis_names: Mapping[str, tuple],
) -> int | None:
    """The number of leading stack axes of the leaf at `name`: declared, else recorded by its framework;
    None where nothing says (the leaf is then read as one layer)."""
    for pattern, axes in declared:
        if validation.matches(pattern, name, leaf):
            return axes
    rank = len(leaf.shape)
    if name in layer_ranks and rank > layer_ranks[name]:
        return rank - layer_ranks[name]
    named = leading(axis_names.get(name), stack_names)
    if named:
        return named
    lifted = sum(bool(_FRAMEWORK_STACK.match(part)) for part in name.split("/"))
    return lifted or None


def per_layer(init: Callable, shape: tuple[int, ...], dtype: np.dtype, axes: int) -> Callable:
    """`init` as it draws a leaf of `shape` whose first `axes` axes stack layers: one layer's law per layer.

    Raises ValueError or TypeError where one layer's shape cannot take `init`, as an unstacked layer would.
    """
    if axes == 0:
        return init
    if axes > len(shape):
        raise ValueError(f"{axes} stack axes do not fit the shape {shape}; give at most {len(shape)}.")
    stack, layer = shape[:axes], shape[axes:]
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
