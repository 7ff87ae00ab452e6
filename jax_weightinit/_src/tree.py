"""Whole-model initialization: the plan, then every leaf's key in one batch, then generation by group."""

import warnings
from collections.abc import Sequence
from typing import Any, Literal

import jax

from . import generation, placement, stacks, validation
from . import plan as plan_lib
from .typing import Array


def init_tree(
    key: Array,
    target: Any,
    rules: plan_lib.RulesArg,
    *,
    out_shardings: Any = None,
    on_unused_rule: Literal["ignore", "warn", "raise"] = "warn",
    stacked: plan_lib.StackedArg = (),
    stack_names: Sequence[str] = stacks.STACK_NAMES,
) -> Any:
    """Initializes every leaf of a pytree by the first rule whose pattern matches its path.

    The leaf at path `p` (see `path_string`) gets `init(key_for(key, p), leaf.shape,
    leaf.dtype)` exactly, for the first `(pattern, init)` in `rules` with
    `re.search(pattern, p)` (or `pattern(p, leaf)` for a predicate): eager, under the
    caller's `jit`, and sharded. `plan` states, without drawing, what each leaf gets.
    That holds bit for bit for this library's initializers, whose eager and jitted
    calls agree; an initializer from elsewhere is run compiled, so its leaf is exactly
    `jax.jit(init)(key_for(key, p), shape, dtype)`, which XLA may round differently
    from an eager call (jax.nn's `normal` fuses its multiply: 1 ulp apart).
    All leaves' keys are derived in one batched computation; the unsharded leaves of the
    library's elementwise laws are drawn as rows of flat segments, one sampler per
    sampling case and dtype with each leaf's law numbers as data, and constants are
    filled from data, so a model compiles a few programs whatever its depth and its
    per-layer stds (`generation`, `segments`). Other leaves are drawn by group, in
    chunks. Segments and chunks run one after another, so the temporaries stay near one
    segment or chunk, never a copy of the model.

    Stacked layers: a leaf with stack axes `S` and one layer's shape `L` (shape `S + L`;
    stack axes elsewhere are moved there and back) gets one layer's law in every layer.
    The library's laws read their fans from `L` (an initializer's axes count within one
    layer) and draw the leaf in one call, as
    `init(key_for(key, p), S + L)` with the stack axes as batch axes (for a fan-scaled
    law, `variance_scaling(..., batch_axis=S's axes)`). Any other initializer is drawn per
    layer, `vmap(lambda k: init(k, L, dtype))(jax.random.split(key_for(key, p), prod(S)))`
    reshaped to `S + L`, as the frameworks' own stacked inits call it. One layer's shape
    is checked as an unstacked leaf is (a rank-1 stacked norm scale refuses a fan-scaled
    law). `plan` shows the stack and one layer's fans, and notes 3-D and larger leaves
    that were read as one layer.

    Args:
      key: the root PRNG key.
      target: a pytree of arrays and/or `jax.ShapeDtypeStruct`s (Flax params or
        `nnx.State`, Haiku params, an `eqx.partition`ed Equinox module, ...).
      rules: ordered `(pattern, initializer)` pairs; the first match wins.
      out_shardings: None to keep the `NamedSharding` each leaf carries (a
        `ShapeDtypeStruct`'s or a placed array's); else one `Sharding` or
        `PartitionSpec` for every leaf, a prefix pytree of `target` (as `jit` reads
        `out_shardings`; None entries keep the leaf's own), or a function
        `(path, leaf) -> sharding or None`. Each device draws only its shards.
      on_unused_rule: what to do about rules that matched no leaf: 'warn' (default),
        'raise' or 'ignore'.
      stacked: ordered `(pattern, axes)` pairs declaring stacked layers: a leaf whose
        path matches `pattern` (first match wins; a regex or a predicate `(path, leaf)`)
        has `axes` leading stack axes, or given a tuple of positions (negative ones from
        the end), its stack axes there; `axes=0` reads it as one layer whatever its
        framework records. Without a match, a leaf's stack axes are read from what the
        framework records: the positions of `stack_names` in its Flax partitioning names
        (`nn.Partitioned` boxes, nnx metadata), or the scope names of Haiku's `layer_stack`
        and linen's lifted `nn.scan` (`__layer_stack_no_per_layer/...`, `ScanBlock_0/...`);
        see "Stacked layers" below.
      stack_names: the partitioning names of stack axes; ('layers',) as MaxText and
        T5X name the `nn.scan` axis.

    Returns:
      A pytree like `target`: matched leaves initialized, unmatched concrete leaves unchanged.

    Raises:
      ValueError: for unmatched abstract leaves (all named), two leaves with one path,
        a leaf the initializer cannot produce (e.g. an int32 step counter given a
        float law), a sharding that does not fit its leaf or an `out_shardings` tree
        that does not fit `target` (naming the path), or an unused rule with
        `on_unused_rule="raise"`.

    Example:
      >>> import jax, jax.numpy as jnp, jax_weightinit as wi
      >>> params = {"dense": {"kernel": jax.ShapeDtypeStruct((4, 8), jnp.float32),
      ...                     "bias": jax.ShapeDtypeStruct((8,), jnp.float32)}}
      >>> out = wi.init_tree(jax.random.key(0), params, [("kernel$", wi.he_normal()), ("bias$", wi.zeros)])
      >>> out["dense"]["kernel"].shape, float(out["dense"]["bias"].sum())
      ((4, 8), 0.0)
    """
    return init_tree_as_laid_out(
        key, target, rules, out_shardings, on_unused_rule, plan_lib.Layout(stacked, stack_names)
    )


def init_tree_as_laid_out(
    key: Array,
    target: Any,
    rules: plan_lib.RulesArg,
    out_shardings: Any,
    on_unused_rule: Literal["ignore", "warn", "raise"],
    layout: plan_lib.Layout,
) -> Any:
    """`init_tree`, with what `layout` knows of the target's layers, as `plan.build` reads it."""
    if validation.looks_like_key(target) and not validation.looks_like_key(key):
        raise TypeError(
            f"`key` is {validation.brief(key)} and `target` a PRNG key: pass them in the order (key, target, rules)."
        )
    key = validation.key(key)
    rows, leaves, treedef = plan_lib.build(target, rules, out_shardings, key, on_unused_rule, layout)
    for hint in rows.stack_hints:
        warnings.warn(hint, stacklevel=3)
    for sharding in {row.sharding for row in rows if row.init is not None}:
        placement.check_key(key, sharding)
    drawn = [i for i, row in enumerate(rows) if row.init is not None]
    for i, leaf in zip(drawn, generation.generate(key, [rows[i] for i in drawn]), strict=True):
        leaves[i] = placement.settle(leaf, rows[i].sharding)
    return jax.tree_util.tree_unflatten(treedef, leaves)
