"""Flax nnx: the fans each layer uses for its own parameters, and layer-aware re-initialization."""

import dataclasses
import math
import sys
from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeVar

import jax
from flax import nnx
from jax.sharding import NamedSharding, PartitionSpec

from . import layers, stacks, tree
from . import plan as plan_lib
from .fans import compute_fans
from .typing import Array

M = TypeVar("M", bound=nnx.Module)


@dataclasses.dataclass(frozen=True)
class _Kind:
    """What the library reads of one nnx layer type: the fans it computes for its default init (None for a norm)
    and the parameters they cover, and the shape of each of its parameters (a layer stacked by `nnx.vmap` has more
    axes, its stack's)."""

    fans: Callable[[Any], tuple[int, int]] | None
    fanned: tuple[str, ...]
    shapes: Callable[[Any], dict[str, tuple[int, ...]]]


def _linear_shapes(m: nnx.Linear) -> dict[str, tuple[int, ...]]:
    return {"kernel": (m.in_features, m.out_features), "bias": (m.out_features,)}


def _general_fans(m: nnx.LinearGeneral) -> tuple[int, int]:
    # LinearGeneral hands its initializer the kernel flattened to (batch · in, out).
    return math.prod(m.batch_axis.values()) * math.prod(m.in_features), math.prod(m.out_features)


def _general_shapes(m: nnx.LinearGeneral) -> dict[str, tuple[int, ...]]:
    batch, out = tuple(m.batch_axis.values()), tuple(m.out_features)
    return {"kernel": (*batch, *m.in_features, *out), "bias": (*batch, *out)}


def _conv_shapes(m: nnx.Conv | nnx.ConvTranspose) -> dict[str, tuple[int, ...]]:
    return {"kernel": tuple(m.kernel_shape), "bias": (m.out_features,)}


def _einsum_shapes(m: nnx.Einsum) -> dict[str, tuple[int, ...]]:
    return {"kernel": tuple(m.kernel_shape), **({} if m.bias_shape is None else {"bias": tuple(m.bias_shape)})}


def _norm_shapes(features: int) -> dict[str, tuple[int, ...]]:
    return {"scale": (features,), "bias": (features,)}


_WEIGHTS = ("kernel", "bias")
#: One row per layer type, checked in order. Flax's Embed default, variance_scaling(1, 'fan_in', 'normal',
#: out_axis=0), reads fan_in = features.
_KINDS: tuple[tuple[type | tuple[type, ...], _Kind], ...] = (
    (nnx.Linear, _Kind(lambda m: (m.in_features, m.out_features), _WEIGHTS, _linear_shapes)),
    (nnx.LinearGeneral, _Kind(_general_fans, _WEIGHTS, _general_shapes)),
    ((nnx.Conv, nnx.ConvTranspose), _Kind(lambda m: compute_fans(m.kernel_shape), _WEIGHTS, _conv_shapes)),
    (
        nnx.Embed,
        _Kind(
            lambda m: (m.features, m.num_embeddings),
            ("embedding",),
            lambda m: {"embedding": (m.num_embeddings, m.features)},
        ),
    ),
    (nnx.Einsum, _Kind(lambda m: layers.einsum_fans(m.einsum_str, m.kernel_shape), _WEIGHTS, _einsum_shapes)),
    (nnx.GroupNorm, _Kind(None, (), lambda m: _norm_shapes(m.num_groups * m.group_size))),
    ((nnx.LayerNorm, nnx.RMSNorm, nnx.BatchNorm), _Kind(None, (), lambda m: _norm_shapes(m.num_features))),
)


def _kind(module: nnx.Module) -> _Kind | None:
    return next((kind for types, kind in _KINDS if isinstance(module, types)), None)


def _fans(module: nnx.Module) -> tuple[tuple[int, int], tuple[str, ...]] | None:
    """(fan_in, fan_out) as `module` computes them for its default init, and the parameters they cover."""
    kind = _kind(module)
    return None if kind is None or kind.fans is None else (kind.fans(module), kind.fanned)


def _shapes(module: nnx.Module) -> dict[str, tuple[int, ...]]:
    """The shape each parameter of one `module` has; a layer stacked by `nnx.vmap` has more axes, its stack's."""
    kind = _kind(module)
    return {} if kind is None else kind.shapes(module)


def layer_fans(module: nnx.Module) -> dict[str, tuple[tuple[int, int], str]]:
    """Maps each parameter path of a known layer in `module` to (its layer's fans, the layer's type name)."""
    return _Survey.of(module).owners


@dataclasses.dataclass
class _Survey:
    """What `reinit` and `plan` read of a module, in one walk of its graph: each known layer's fans (`layer_fans`)
    and parameter shapes, each Param's partitioning names, and the sharding each Param is annotated with."""

    owners: dict[str, tuple[tuple[int, int], str]]
    shapes: dict[str, tuple[int, ...]]
    names: dict[str, tuple]
    annotated: dict[str, Any]

    @classmethod
    def of(cls, module: nnx.Module) -> "_Survey":
        survey = cls({}, {}, {}, {})
        current = jax.sharding.get_abstract_mesh()
        for path, node in nnx.iter_graph(module):
            where = "/".join(str(p) for p in path)
            if isinstance(node, nnx.Module):
                found = _fans(node)
                if found is not None:
                    fans, names = found
                    for name in names:
                        survey.owners[layers.join(where, name)] = (fans, f"nnx.{type(node).__name__}")
                survey.shapes.update({layers.join(where, name): shape for name, shape in _shapes(node).items()})
            elif isinstance(node, nnx.Param):
                survey._read_param(where, node.get_metadata(), current)
        return survey

    def _read_param(self, where: str, meta: dict, current: Any) -> None:
        given = next((meta[k] for k in ("sharding_names", "out_sharding", "sharding") if meta.get(k)), None)
        if given is not None:
            self.names[where] = tuple(given)
        # The annotation (`nnx.with_partitioning`, `out_sharding=`): a traced Param on an Auto mesh carries its
        # sharding only there, not in its type. The spec comes with the annotation's mesh, else is read under the
        # current `jax.set_mesh`.
        names = next((meta[k] for k in ("out_sharding", "sharding_names", "sharding") if meta.get(k)), None)
        if names is None:
            return
        spec = names if isinstance(names, PartitionSpec) else PartitionSpec(*names)
        if meta.get("mesh") is not None:
            self.annotated[where] = NamedSharding(meta["mesh"], spec)
        elif not current.empty:
            self.annotated[where] = spec

    def layout(self, stacked: plan_lib.StackedArg, stack_names: Sequence[str]) -> plan_lib.Layout:
        """The layout `plan.build` reads: stacks, each known layer's fans and parameter shapes, each Param's names."""
        return plan_lib.Layout(stacked, stack_names, layers.adapter(self.owners), self.shapes, self.names)

    def shardings(self, out_shardings: Any) -> Any:
        """`out_shardings` when given, else each Param's annotated sharding."""
        if out_shardings is not None:
            return out_shardings
        annotated = self.annotated
        return (lambda path, leaf: annotated.get(path)) if annotated else None


def reinit(
    module: M,
    key: Array | nnx.Rngs,
    rules: plan_lib.RulesArg,
    *,
    out_shardings: Any = None,
    on_unused_rule: Literal["ignore", "warn", "raise"] = "warn",
    stacked: plan_lib.StackedArg = (),
    stack_names: Sequence[str] = stacks.STACK_NAMES,
) -> M:
    """Re-initializes a Flax nnx module's `nnx.Param`s by rules, each fan-scaled law at its layer's own fans.

    Works like `init_tree` on `nnx.state(module, nnx.Param)` — same paths, same per-path
    keys, first match wins, shardings kept or given by `out_shardings` — except that a
    fan-scaled initializer at its factory's default axes (and every `wi.pytorch` one)
    takes the fans the owning layer itself uses for its default init:

    * `nnx.Linear`: (in_features, out_features);
    * `nnx.LinearGeneral`, so `nnx.MultiHeadAttention`'s query/key/value/out: the kernel
      flattened as Flax does, (batch · prod(in_features), prod(out_features));
    * `nnx.Conv`, `nnx.ConvTranspose`: `compute_fans(kernel_shape)`, receptive field × in, × out;
    * `nnx.Embed`: (features, num_embeddings), so fan_in = features as in Flax's default;
    * `nnx.Einsum`: from `einsum_str`, summed kernel axes are inputs, output-only axes outputs.

    A layer's bias takes the same fans. Layers stacked by `nnx.vmap` (run by `nnx.scan`)
    are found by their parameters' axes beyond one layer's shape, wherever `out_axes` put them (and by
    a `'layers'` partitioning name): every initializer draws one layer's law per layer, as `init_tree`
    does for stacks — the library's laws at one layer's fans, others once per layer. Other leaves, and
    initializers built with explicit axes, keep `init_tree`'s arithmetic. `plan` shows
    each leaf's fans and law first.

    The module is updated in place (as `nnx.update` does) and returned; under `nnx.jit`
    the update reaches the caller's module. Call it on a module made by
    `nnx.eval_shape` to materialize it. With `out_shardings=None` each Param lands on
    the sharding it is annotated with (`nnx.with_partitioning`, read under the current
    `jax.set_mesh` unless the annotation names its mesh), else on the one its value
    carries; each device draws only its shards.

    Args:
      module: a Flax nnx module, concrete or abstract.
      key: the root PRNG key, or an `nnx.Rngs`, whose `params` stream (else its
        default) gives it.
      rules: ordered `(pattern, initializer)` pairs matched against paths such as
        `"layers/0/attn/query/kernel"`; the first match wins.
      out_shardings: as for `init_tree`.
      on_unused_rule: as for `init_tree`.
      stacked: as for `init_tree`; declared stacks take precedence over found ones.
      stack_names: as for `init_tree`.

    Returns:
      `module`, re-initialized.

    Raises:
      ValueError, TypeError: as `init_tree` does, before anything is drawn.

    Example:
      >>> import jax, jax_weightinit as wi
      >>> from flax import nnx
      >>> attn = nnx.MultiHeadAttention(4, 256, decode=False, rngs=nnx.Rngs(0))
      >>> _ = wi.flax.reinit(attn, jax.random.key(1), [("kernel$", wi.he_normal()), ("bias$", wi.zeros)])
      >>> abs(float(attn.query.kernel[...].std()) - (2 / 256) ** 0.5) < 0.002  # Flax's fans: 256 in
      True
    """
    _check_module(module, "reinit")
    root = key.params() if isinstance(key, nnx.Rngs) else key
    state = nnx.state(module, nnx.Param)
    survey = _Survey.of(module)
    new = tree.init_tree_as_laid_out(
        root, state, rules, survey.shardings(out_shardings), on_unused_rule, survey.layout(stacked, stack_names)
    )
    nnx.update(module, new)
    return module


def plan(
    module: nnx.Module,
    rules: plan_lib.RulesArg,
    *,
    out_shardings: Any = None,
    stacked: plan_lib.StackedArg = (),
    stack_names: Sequence[str] = stacks.STACK_NAMES,
) -> plan_lib.Plan:
    """States, for every `nnx.Param` of `module`, what `reinit(module, key, rules)` will draw; draws nothing.

    Example:
      >>> import jax_weightinit as wi
      >>> from flax import nnx
      >>> layer = nnx.LinearGeneral(256, (4, 64), rngs=nnx.Rngs(0))
      >>> row = wi.flax.plan(layer, [("kernel$", wi.he_normal()), ("bias$", wi.zeros)])[1]
      >>> row.path, row.shape, row.fans
      ('kernel', (256, 4, 64), (256, 256))
    """
    _check_module(module, "plan")
    state = nnx.state(module, nnx.Param)
    survey = _Survey.of(module)
    layout = survey.layout(stacked, stack_names)
    return plan_lib.plan_rows(state, rules, survey.shardings(out_shardings), layout)


def _check_module(module: object, name: str) -> None:
    equinox = sys.modules.get("equinox")  # an Equinox module can only exist if its user imported Equinox
    eqx_module = None if equinox is None else equinox.Module
    layers.check_module(module, name, nnx.Module, "a Flax nnx module", (eqx_module, "equinox"))
