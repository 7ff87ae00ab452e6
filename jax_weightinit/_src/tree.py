"""Whole-model initialization: path rules, stable per-path keys, grouped generation, sharding."""

import collections
import dataclasses
import functools
import hashlib
import re
import warnings
from collections.abc import Callable, Sequence
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
from jax.tree_util import DictKey, FlattenedIndexKey, GetAttrKey, SequenceKey

from .typing import Array

Pattern = str | Callable[[str, Any], bool]
Rules = Sequence[tuple[Pattern, Callable]]


def path_string(path: Sequence[Any]) -> str:
    """Joins a pytree key path's dict keys, attribute names and indices with "/".

    The final `value` attribute of a Flax nnx `Variable` is dropped, so that an
    `nnx.State` leaf reads `layers/0/kernel`, as in Flax linen params.

    Example:
      >>> import jax
      >>> from jax_weightinit import path_string
      >>> [path_string(p) for p, _ in jax.tree_util.tree_flatten_with_path({"layers": [{"w": 0}]})[0]]
      ['layers/0/w']
    """
    parts = []
    for entry in path:
        if isinstance(entry, DictKey):
            parts.append(str(entry.key))
        elif isinstance(entry, GetAttrKey):
            parts.append(entry.name)
        elif isinstance(entry, SequenceKey):
            parts.append(str(entry.idx))
        elif isinstance(entry, FlattenedIndexKey):
            parts.append(str(entry.key))
        else:
            parts.append(str(entry).strip(".[]'\""))
    if len(parts) > 1 and isinstance(path[-1], GetAttrKey) and path[-1].name == "value":
        parts.pop()
    return "/".join(parts)


def _words(path: str) -> np.ndarray:
    """The path's SHA-256 digest as 8 uint32 words: a fixed-length, collision-resistant encoding."""
    return np.frombuffer(hashlib.sha256(path.encode("utf-8")).digest(), dtype=">u4").astype(np.uint32)


def _fold(key: Array, words: Array) -> Array:
    for i in range(words.shape[-1]):
        key = jax.random.fold_in(key, words[i])
    return key


def key_for(key: Array, path: str) -> Array:
    """The key `init_tree` gives the leaf at `path`: a function of the root key and the path only.

    The path's UTF-8 bytes are hashed with SHA-256 and the 8 words of the digest are
    folded into `key` in turn, so no two paths share a key in practice (unlike
    concatenated names or creation order), and adding a layer leaves every other
    layer's key unchanged.

    Example:
      >>> import jax
      >>> from jax_weightinit import key_for
      >>> key = jax.random.key(0)
      >>> bool((jax.random.key_data(key_for(key, "a/b")) == jax.random.key_data(key_for(key, "a/b"))).all())
      True
    """
    if not isinstance(path, str):
        raise TypeError(f"`path` must be a string such as 'layers/0/kernel'; got {path!r}.")
    return _fold(key, jnp.asarray(_words(path)))


@dataclasses.dataclass(frozen=True)
class _Group:
    """Leaves that share one compiled generator: one initializer, shape, dtype and sharding."""

    init: Callable
    shape: tuple[int, ...]
    dtype: np.dtype
    sharding: Any


@functools.lru_cache(maxsize=512)
def _generator(group: _Group) -> Callable[[Array, Array], Array]:
    """One compiled function per group: (root key, path digest) -> leaf, placed on the group's sharding.

    Each leaf is one call of its group's function, so compile time grows with the number
    of groups, and no stacked or sliced copy ever exists: peak memory is the leaves.
    """

    def generate(key: Array, words: Array) -> Array:
        return group.init(_fold(key, words), group.shape, group.dtype)

    return jax.jit(generate, out_shardings=group.sharding)


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
    if callable(out_shardings):
        shardings = [out_shardings(path_string(p), leaf) for p, leaf in flat]
    elif out_shardings is None:
        shardings = [None] * len(flat)
    else:
        shardings = treedef.flatten_up_to(out_shardings)

    used = [False] * len(rules)
    seen: dict[str, int] = {}
    plan: dict[_Group, list[tuple[int, str]]] = collections.OrderedDict()
    result = [leaf for _, leaf in flat]
    for i, ((path, leaf), sharding) in enumerate(zip(flat, shardings, strict=True)):
        name = path_string(path)
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
        init = rules[match][1]
        group = _Group(init, tuple(leaf.shape), np.dtype(leaf.dtype), sharding)
        if group not in plan:
            _check_leaf(init, name, group, key)
        plan.setdefault(group, []).append((i, name))

    unused = [j for j, flag in enumerate(used) if not flag]
    if unused and on_unused_rule != "ignore":
        message = f"rules matched no leaf: {', '.join(repr(rules[j][0]) for j in unused)}."
        if on_unused_rule == "raise":
            raise ValueError(message)
        warnings.warn(message, stacklevel=2)

    for group, members in plan.items():
        generate = _generator(group)
        for i, name in members:
            result[i] = generate(key, _words(name))
    return jax.tree_util.tree_unflatten(treedef, result)


def _check_leaf(init: Callable, name: str, group: _Group, key: Array) -> None:
    """Traces one call so that a dtype, shape or sharding the leaf cannot have names the leaf."""
    if isinstance(group.sharding, jax.sharding.Sharding):
        try:
            group.sharding.shard_shape(group.shape)
        except (ValueError, IndexError) as e:
            raise ValueError(f"the sharding {group.sharding} does not fit {name!r} of shape {group.shape}.") from e
    try:
        out = jax.eval_shape(lambda k: init(k, group.shape, group.dtype), key)
    except (TypeError, ValueError) as e:
        raise type(e)(f"cannot initialize {name!r} {group.shape} {group.dtype.name}: {e}") from None
    if out.shape != group.shape or out.dtype != group.dtype:
        raise ValueError(
            f"the initializer for {name!r} returned {out.shape} {out.dtype}, not {group.shape} {group.dtype}."
        )
