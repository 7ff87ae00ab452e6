"""Equinox: the fans each layer uses for its own parameters, and layer-aware re-initialization."""

import dataclasses
import math
import sys
from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp

from . import layers, stacks, tree
from . import plan as plan_lib
from .keys import path_string
from .typing import Array

M = TypeVar("M", bound=eqx.Module)

def _width(features: int | str) -> int:
    return 1 if features == "scalar" else int(features)


@dataclasses.dataclass(frozen=True)
class _Kind:
    """What the library reads of one Equinox layer type: the fans it computes for its default init of `weight` and
    `bias` (None for a norm), and the shape of each of its parameters (a layer stacked by `eqx.filter_vmap` has
    more axes, its stack's)."""

    fans: Callable[[Any], tuple[int, int]] | None
    shapes: Callable[[Any], dict[str, tuple[int, ...]]]


def _linear_shapes(m: eqx.nn.Linear) -> dict[str, tuple[int, ...]]:
    out = _width(m.out_features)
    return {"weight": (out, _width(m.in_features)), "bias": (out,)}


def _conv_fans(m: eqx.nn.Conv | eqx.nn.ConvTranspose) -> tuple[int, int]:
    # Both keep the weight as (out, in // groups, *kernel) and bound it by 1/sqrt(in // groups · prod(kernel)).
    receptive = math.prod(m.kernel_size)
    return m.in_channels // m.groups * receptive, m.out_channels * receptive


def _conv_shapes(m: eqx.nn.Conv | eqx.nn.ConvTranspose) -> dict[str, tuple[int, ...]]:
    weight = (m.out_channels, m.in_channels // m.groups, *m.kernel_size)
    return {"weight": weight, "bias": (m.out_channels, *(1,) * m.num_spatial_dims)}


def _norm_shapes(m: eqx.nn.LayerNorm | eqx.nn.RMSNorm) -> dict[str, tuple[int, ...]]:
    shape = (m.shape,) if isinstance(m.shape, int) else tuple(m.shape)
    return {"weight": shape, "bias": shape}


def _group_norm_shapes(m: eqx.nn.GroupNorm) -> dict[str, tuple[int, ...]]:
    return {} if m.channels is None else {"weight": (m.channels,), "bias": (m.channels,)}  # None: no parameters


#: One row per layer type, checked in order. An Embedding (num_embeddings, embedding_size) has fan_in =
#: embedding_size, as torch and Flax read a table.
_KINDS: tuple[tuple[type | tuple[type, ...], _Kind], ...] = (
    (eqx.nn.Linear, _Kind(lambda m: (_width(m.in_features), _width(m.out_features)), _linear_shapes)),
    ((eqx.nn.Conv, eqx.nn.ConvTranspose), _Kind(_conv_fans, _conv_shapes)),
    (
        eqx.nn.Embedding,
        _Kind(
            lambda m: (m.embedding_size, m.num_embeddings),
            lambda m: {"weight": (m.num_embeddings, m.embedding_size)},
        ),
    ),
    ((eqx.nn.LayerNorm, eqx.nn.RMSNorm), _Kind(None, _norm_shapes)),
    (eqx.nn.GroupNorm, _Kind(None, _group_norm_shapes)),
)
_KNOWN = tuple(t for types, _ in _KINDS for t in (types if isinstance(types, tuple) else (types,)))


def _kind(module: Any) -> _Kind | None:
    return next((kind for types, kind in _KINDS if isinstance(module, types)), None)


def _known_layers(module: Any) -> list[tuple[str, Any, _Kind]]:
    """(path, layer, its kind) for every known layer in `module`."""
    found = jax.tree_util.tree_flatten_with_path(module, is_leaf=lambda x: isinstance(x, _KNOWN))[0]
    return [(path_string(path), node, kind) for path, node in found if (kind := _kind(node)) is not None]


def layer_fans(module: Any) -> dict[str, tuple[tuple[int, int], str]]:
    """Maps each parameter path of a known layer in `module` to (its layer's fans, the layer's type name)."""
    owners = {}
    for prefix, node, kind in _known_layers(module):
        if kind.fans is not None:
            for name in ("weight", "bias"):
                owners[layers.join(prefix, name)] = (kind.fans(node), f"eqx.nn.{type(node).__name__}")
    return owners


def _layout(module: Any, stacked: plan_lib.StackedArg, stack_names: Sequence[str]) -> plan_lib.Layout:
    """What `module` records of its layers: each known layer's fans and parameter shapes."""
    shapes = {
        layers.join(prefix, name): shape
        for prefix, node, kind in _known_layers(module)
        for name, shape in kind.shapes(node).items()
    }
    return plan_lib.Layout(stacked, stack_names, layers.adapter(layer_fans(module)), shapes)


def _is_param(x: Any) -> bool:
    return (isinstance(x, jax.Array | jax.ShapeDtypeStruct)) and jnp.issubdtype(x.dtype, jnp.inexact)


def reinit(
    module: M,
    key: Array,
    rules: plan_lib.RulesArg,
    *,
    out_shardings: Any = None,
    on_unused_rule: Literal["ignore", "warn", "raise"] = "warn",
    stacked: plan_lib.StackedArg = (),
    stack_names: Sequence[str] = stacks.STACK_NAMES,
) -> M:
    """Returns an Equinox module with its floating-point arrays re-initialized by rules, at each layer's own fans.

    Works like `init_tree` on the module's floating-point arrays (paths such as
    `"layers/0/weight"`, the same per-path keys) except that a fan-scaled initializer
    at its factory's default axes (and every `wi.pytorch` one) takes the fans the
    owning layer itself uses for its default init:

    * `eqx.nn.Linear`, weight (out, in): (in_features, out_features), "scalar" counting 1;
    * `eqx.nn.Conv*`, `eqx.nn.ConvTranspose*`, weight (out, in // groups, *kernel):
      (in // groups · prod(kernel), out · prod(kernel));
    * `eqx.nn.Embedding`, weight (num_embeddings, embedding_size): (embedding_size, num_embeddings).

    A layer's bias takes the same fans, so `wi.pytorch.default_weight()` on weight and
    bias reproduces Equinox's own U(±1/sqrt(fan_in)) for both. Layers stacked by
    `eqx.filter_vmap` are found by their arrays' axes beyond one layer's shape (Linear,
    Conv, Embedding, LayerNorm, RMSNorm, GroupNorm): every initializer draws one layer's
    law per layer, as `init_tree` does for stacks. Other leaves, and initializers built
    with explicit axes, keep `init_tree`'s arithmetic. `plan` shows each leaf's fans
    and law first.

    Args:
      module: an Equinox module, concrete or from `eqx.filter_eval_shape`.
      key: the root PRNG key.
      rules: ordered `(pattern, initializer)` pairs; the first match wins.
      out_shardings: as for `init_tree`.
      on_unused_rule: as for `init_tree`.
      stacked: as for `init_tree`; declared stacks take precedence over found ones.
      stack_names: as for `init_tree`.

    Returns:
      A new module; `module` is unchanged (Equinox modules are immutable).

    Raises:
      ValueError, TypeError: as `init_tree` does, before anything is drawn.

    Example:
      >>> import jax, equinox as eqx, jax_weightinit as wi
      >>> mlp = eqx.nn.MLP(64, 10, 256, depth=2, key=jax.random.key(0))
      >>> mlp = wi.equinox.reinit(mlp, jax.random.key(1), [("weight$", wi.he_normal()), ("bias$", wi.zeros)])
      >>> abs(float(mlp.layers[1].weight.std()) - (2 / 256) ** 0.5) < 0.002  # fan_in 256 from (out, in)
      True
    """
    _check_module(module, "reinit")
    params, static = eqx.partition(module, _is_param)
    new = tree.init_tree_as_laid_out(
        key, params, rules, out_shardings, on_unused_rule, _layout(module, stacked, stack_names)
    )
    return eqx.combine(new, static)


def plan(
    module: Any,
    rules: plan_lib.RulesArg,
    *,
    out_shardings: Any = None,
    stacked: plan_lib.StackedArg = (),
    stack_names: Sequence[str] = stacks.STACK_NAMES,
) -> plan_lib.Plan:
    """States, for every floating-point array of `module`, what `reinit(module, key, rules)` will draw.

    Example:
      >>> import jax, equinox as eqx, jax_weightinit as wi
      >>> conv = eqx.nn.Conv2d(16, 32, 3, key=jax.random.key(0))
      >>> row = wi.equinox.plan(conv, [("weight$", wi.he_normal()), ("bias$", wi.zeros)])[0]
      >>> row.path, row.shape, row.fans
      ('weight', (32, 16, 3, 3), (144, 288))
    """
    _check_module(module, "plan")
    params = eqx.filter(module, _is_param)
    layout = _layout(module, stacked, stack_names)
    return plan_lib.plan_rows(params, rules, out_shardings, layout)


def _check_module(module: object, name: str) -> None:
    flax_nnx = sys.modules.get("flax.nnx")  # an nnx module can only exist if its user imported Flax
    nnx_module = None if flax_nnx is None else flax_nnx.Module
    layers.check_module(module, name, eqx.Module, "an Equinox module", (nnx_module, "flax"))
