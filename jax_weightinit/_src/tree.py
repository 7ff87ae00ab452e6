"""Whole-model initialization: path rules, the leaves' shardings, then keys and generation by group."""

import re
import warnings
from collections.abc import Callable, Sequence
from typing import Any, Literal

import jax
import numpy as np
from jax.sharding import PartitionSpec

from . import generation, placement
from .keys import leaf_keys, path_string
from .typing import Array

Pattern = str | Callable[[str, Any], bool]
Rules = Sequence[tuple[Pattern, Callable]]


def _matches(pattern: Pattern, path: str, leaf: Any) -> bool:
    return bool(re.search(pattern, path)) if isinstance(pattern, str) else bool(pattern(path, leaf))


def _check_rules(rules: Rules) -> list[tuple[Pattern, Callable]]:
    if isinstance(rules, dict | str) or not isinstance(rules, Sequence):
        raise TypeError(f"`rules` must be a sequence of (pattern, initializer) pairs; got {type(rules).__name__}.")
    checked = []
    for i, rule in enumerate(rules):
        if not (isinstance(rule, tuple | list) and len(rule) == 2):
            raise TypeError(f"`rules[{i}]` must be a (pattern, initializer) pair; got {rule!r}.")
        pattern, init = rule
        if isinstance(pattern, str):
            try:
                re.compile(pattern)
            except re.error as e:
                raise ValueError(f"`rules[{i}]` pattern {pattern!r} is not a valid regular expression: {e}.") from None
        elif not callable(pattern):
            raise TypeError(
                f"`rules[{i}]` pattern must be a regex string or a predicate (path, leaf) -> bool; got {pattern!r}."
            )
        if not callable(init):
            raise TypeError(f"`rules[{i}]` initializer must be callable as init(key, shape, dtype); got {init!r}.")
        checked.append((pattern, init))
    return checked


def _is_array(leaf: Any) -> bool:
    return hasattr(leaf, "shape") and hasattr(leaf, "dtype")


def init_tree(
    key: Array,
    target: Any,
    rules: Rules,
    *,
    out_shardings: Any = None,
    on_unused_rule: Literal["ignore", "warn", "raise"] = "ignore",
) -> Any:
    """Initializes every leaf of a pytree by the first rule whose pattern matches its path.

    The leaf at path `p` (see `path_string`) gets `init(key_for(key, p), leaf.shape,
    leaf.dtype)` exactly, for the first `(pattern, init)` in `rules` with
    `re.search(pattern, p)` (or `pattern(p, leaf)` for a predicate). Leaves with the
    same (initializer, shape, dtype, sharding) share one compiled generator, so
    compile time grows with the number of distinct layer kinds, not of layers, and no
    leaf is ever stacked or copied. Called under an outer `jit`, the whole init
    becomes part of that program.

    Args:
      key: the root PRNG key.
      target: a pytree of arrays and/or `jax.ShapeDtypeStruct`s (Flax params or
        `nnx.State`, Haiku params, an `eqx.partition`ed Equinox module, ...).
      rules: ordered `(pattern, initializer)` pairs; the first match wins.
      out_shardings: a pytree of shardings (or None) matching `target`, or a function
        `(path, leaf) -> sharding or None`. Sharded leaves are generated shard by shard.
      on_unused_rule: what to do about rules that matched no leaf.

    Returns:
      A pytree like `target`: matched leaves initialized, unmatched concrete leaves unchanged.

    Raises:
      ValueError: for an unmatched abstract leaf, two leaves with one path, a leaf the
        initializer cannot produce (e.g. an int32 step counter given a float law), or
        an unused rule with `on_unused_rule="raise"`.

    Example:
      >>> import jax, jax.numpy as jnp, jax_weightinit as wi
      >>> params = {"dense": {"kernel": jax.ShapeDtypeStruct((4, 8), jnp.float32),
      ...                     "bias": jax.ShapeDtypeStruct((8,), jnp.float32)}}
      >>> out = wi.init_tree(jax.random.key(0), params, [("kernel$", wi.he_normal()), ("bias$", wi.zeros)])
      >>> out["dense"]["kernel"].shape, float(out["dense"]["bias"].sum())
      ((4, 8), 0.0)
    """
    if on_unused_rule not in ("ignore", "warn", "raise"):
        raise ValueError(f"`on_unused_rule` must be one of 'ignore', 'warn', 'raise'; got {on_unused_rule!r}.")
    rules = _check_rules(rules)
    flat, treedef = jax.tree_util.tree_flatten_with_path(target)
    names = [path_string(p) for p, _ in flat]
    given = _given_shardings(out_shardings, flat, names)

    used = [False] * len(rules)
    seen: dict[str, int] = {}
    groups: dict[generation.Group, list[int]] = {}
    result = [leaf for _, leaf in flat]
    for i, ((_, leaf), name) in enumerate(zip(flat, names, strict=True)):
        if name in seen:
            raise ValueError(f"two leaves share the path {name!r}; rename one so their keys differ.")
        seen[name] = i
        match = next((j for j, (pattern, _) in enumerate(rules) if _matches(pattern, name, leaf)), None)
        if match is None:
            if isinstance(leaf, jax.ShapeDtypeStruct):
                raise ValueError(f"the abstract leaf {name!r} {leaf.shape} matches no rule; add a rule for it.")
            continue
        if not _is_array(leaf):
            raise TypeError(f"the leaf {name!r} matched rule {match} but is a {type(leaf).__name__}, not an array.")
        used[match] = True
        shape = tuple(leaf.shape)
        sharding = given[i] if given[i] is not None else _own_sharding(leaf)
        sharding = placement.resolve(sharding, shape, f"`out_shardings` for {name!r}")
        group = generation.Group(rules[match][1], shape, np.dtype(leaf.dtype), sharding)
        if group not in groups:
            _check_leaf(name, group, key)
        groups.setdefault(group, []).append(i)

    unused = [j for j, flag in enumerate(used) if not flag]
    if unused and on_unused_rule != "ignore":
        message = f"rules matched no leaf: {', '.join(repr(rules[j][0]) for j in unused)}."
        if on_unused_rule == "raise":
            raise ValueError(message)
        warnings.warn(message, stacklevel=2)

    if groups:
        order = [i for members in groups.values() for i in members]
        spans, start = {}, 0
        for group, members in groups.items():
            spans[group] = (start, start + len(members))
            start += len(members)
        drawn = generation.generate(spans, leaf_keys(key, [names[i] for i in order]))
        for i, leaf in zip(order, drawn, strict=True):
            result[i] = leaf
    return jax.tree_util.tree_unflatten(treedef, result)


def _is_sharding(value: Any) -> bool:
    return value is None or isinstance(value, jax.sharding.Sharding | PartitionSpec)


def _given_shardings(out_shardings: Any, flat: list, names: list[str]) -> list[Any]:
    """The sharding `out_shardings` gives each leaf (None where it gives none), or a ValueError naming the path."""
    if _is_sharding(out_shardings):
        return [out_shardings] * len(flat)
    if callable(out_shardings):
        return [out_shardings(name, leaf) for name, (_, leaf) in zip(names, flat, strict=True)]
    # A prefix of `target`, as `jit` reads `out_shardings`: an entry covers every leaf below it.
    entries = jax.tree_util.tree_flatten_with_path(out_shardings, is_leaf=_is_sharding)[0]
    by_path = {_parts(path): value for path, value in entries}
    for path, value in entries:
        if not _is_sharding(value):
            raise TypeError(
                f"`out_shardings` at {path_string(path)!r} must be a Sharding, a PartitionSpec or None; got {value!r}."
            )
    given, covered = [], set()
    for (path, _), name in zip(flat, names, strict=True):
        parts = _parts(path)
        prefix = next((parts[:n] for n in range(len(parts) + 1) if parts[:n] in by_path), None)
        if prefix is None:
            raise ValueError(f"`out_shardings` has no entry for the leaf {name!r}; give a prefix of `target`.")
        covered.add(prefix)
        given.append(by_path[prefix])
    extra = [p for p in by_path if p not in covered]
    if extra:
        raise ValueError(f"`out_shardings` has an entry at {'/'.join(extra[0])!r} that matches no leaf of `target`.")
    return given


def _parts(path: Sequence[Any]) -> tuple[str, ...]:
    return tuple(path_string([entry]) for entry in path)


def _own_sharding(leaf: Any) -> jax.sharding.Sharding | None:
    """The NamedSharding a leaf carries: a ShapeDtypeStruct's, a placed array's, or an Explicit-mode tracer's type."""
    if isinstance(leaf, jax.core.Tracer):
        sharding = getattr(jax.typeof(leaf), "sharding", None)
        shards = isinstance(sharding, jax.sharding.NamedSharding) and any(e is not None for e in sharding.spec)
        return sharding if shards else None
    sharding = getattr(leaf, "sharding", None)
    return sharding if isinstance(sharding, jax.sharding.NamedSharding) else None


def _check_leaf(name: str, group: generation.Group, key: Array) -> None:
    """Traces one call so that a dtype or shape the leaf cannot have names the leaf."""
    try:
        out = jax.eval_shape(lambda k: group.init(k, group.shape, group.dtype), key)
    except (TypeError, ValueError) as e:
        raise type(e)(f"cannot initialize {name!r} {group.shape} {group.dtype.name}: {e}") from None
    if out.shape != group.shape or out.dtype != group.dtype:
        raise ValueError(
            f"the initializer for {name!r} returned {out.shape} {out.dtype}, not {group.shape} {group.dtype}."
        )
