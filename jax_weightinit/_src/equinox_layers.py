"""Equinox: the fans each layer uses for its own parameters, and layer-aware re-initialization."""

import math
import sys
from collections.abc import Sequence
from typing import Any, Literal, TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp

from . import layers, stacks, tree
from . import plan as plan_lib
from .keys import path_string
from .typing import Array

M = TypeVar("M", bound=eqx.Module)

_LAYERS = (eqx.nn.Linear, eqx.nn.Conv, eqx.nn.ConvTranspose, eqx.nn.Embedding)


def _width(features: int | str) -> int:
    return 1 if features == "scalar" else int(features)


def _fans(module: Any) -> tuple[int, int]:
    """(fan_in, fan_out) as the layer computes them for its default init."""
    if isinstance(module, eqx.nn.Linear):
        return _width(module.in_features), _width(module.out_features)
    if isinstance(module, eqx.nn.Conv | eqx.nn.ConvTranspose):
        # Both keep the weight as (out, in // groups, *kernel) and bound it by 1/sqrt(in // groups · prod(kernel)).
        receptive = math.prod(module.kernel_size)
        return module.in_channels // module.groups * receptive, module.out_channels * receptive
    # Embedding (num_embeddings, embedding_size): fan_in = embedding_size, as torch and Flax read a table.
    return module.embedding_size, module.num_embeddings


def layer_fans(module: Any) -> dict[str, tuple[tuple[int, int], str]]:
    """Maps each parameter path of a known layer in `module` to (its layer's fans, the layer's type name)."""
    owners = {}
    found = jax.tree_util.tree_flatten_with_path(module, is_leaf=lambda x: isinstance(x, _LAYERS))[0]
    for path, node in found:
        if isinstance(node, _LAYERS):
            prefix = path_string(path)
            for name in ("weight", "bias"):
                owners[layers.join(prefix, name)] = (_fans(node), f"eqx.nn.{type(node).__name__}")
    return owners


def _shapes(module: Any) -> dict[str, tuple[int, ...]]:
    """The shape each parameter of one layer has; a layer stacked by `eqx.filter_vmap` has more axes, its stack's."""
    if isinstance(module, eqx.nn.Linear):
        out = _width(module.out_features)
        return {"weight": (out, _width(module.in_features)), "bias": (out,)}
    if isinstance(module, eqx.nn.Embedding):
        return {"weight": (module.num_embeddings, module.embedding_size)}
    if isinstance(module, eqx.nn.Conv | eqx.nn.ConvTranspose):
        out, spatial = module.out_channels, module.num_spatial_dims
        weight = (out, module.in_channels // module.groups, *module.kernel_size)
        return {"weight": weight, "bias": (out, *(1,) * spatial)}
    if isinstance(module, eqx.nn.LayerNorm | eqx.nn.RMSNorm):
        shape = (module.shape,) if isinstance(module.shape, int) else tuple(module.shape)
        return {"weight": shape, "bias": shape}
    if isinstance(module, eqx.nn.GroupNorm) and module.channels is not None:  # None: no weight or bias
        return {"weight": (module.channels,), "bias": (module.channels,)}
    return {}


_SHAPED = (*_LAYERS, eqx.nn.LayerNorm, eqx.nn.RMSNorm, eqx.nn.GroupNorm)


def _layout(module: Any, stacked: plan_lib.StackedArg, stack_names: Sequence[str]) -> plan_lib.Layout:
    """What `module` records of its layers: each known layer's fans and parameter shapes."""
    shapes: dict[str, tuple[int, ...]] = {}
    for path, node in jax.tree_util.tree_flatten_with_path(module, is_leaf=lambda x: isinstance(x, _SHAPED))[0]:
        if isinstance(node, _SHAPED):
            prefix = path_string(path)
            shapes.update({layers.join(prefix, name): shape for name, shape in _shapes(node).items()})
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
