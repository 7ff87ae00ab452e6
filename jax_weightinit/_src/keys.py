"""Per-leaf keys: each leaf's key is a function of the root key and its path only."""

import hashlib
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.tree_util import DictKey, FlattenedIndexKey, GetAttrKey, SequenceKey

from . import validation
from .typing import Array

# Key implementations whose `fold_in` gives the same key under `vmap` as one call at a
# time (checked in tests/test_tree.py); for the others keys are derived one by one.
_BATCHED_FOLD = ("threefry2x32", "rbg")


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


def digest(path: str) -> np.ndarray:
    """The path's SHA-256 digest as 8 uint32 words: a fixed-length, collision-resistant encoding."""
    return np.frombuffer(hashlib.sha256(path.encode("utf-8")).digest(), dtype=">u4").astype(np.uint32)


def _fold(key: Array, words: Array | np.ndarray) -> Array:
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
    return _fold(validation.key(key), digest(path))


def impl_name(key: Array) -> str:
    """The name of `key`'s PRNG implementation, such as 'threefry2x32'."""
    return str(jax.random.key_impl(key))


def bits_by_counter(key: Array) -> bool:
    """Whether `jax.random.bits(key, shape)` gives element n the bits of threefry2x32(key, n) whatever the shape:
    a threefry key with `jax_threefry_partitionable` (JAX's default), so that any part of an array, a block or a
    segment's slice, can be drawn alone with exactly its values in the whole draw."""
    return impl_name(key) == "threefry2x32" and bool(jax.config.jax_threefry_partitionable)  # type: ignore[attr-defined]


def digests(paths: Sequence[str]) -> np.ndarray:
    """The digests of `paths`, one row of 8 words each."""
    return np.stack([digest(p) for p in paths]) if paths else np.zeros((0, 8), np.uint32)


def fold_words(key: Array, words: Array | np.ndarray, impl: str) -> Array:
    """`key` with each row of `words` folded in, as `key_for` folds a path's digest: one key per row.

    Call it inside a traced function; `impl` is `key`'s implementation name.
    """
    if impl in _BATCHED_FOLD:
        return jax.vmap(_fold_looped, in_axes=(None, 0))(key, words)
    # One leaf at a time, as `key_for` does, but in one compiled loop rather than op by op.
    return jax.lax.map(lambda w: _fold_looped(key, w), words)


def _fold_looped(key: Array, words: Array | np.ndarray) -> Array:
    """`_fold`, as a loop over the words: one copy of the PRNG's hash in the program rather than eight."""
    return jax.lax.fori_loop(0, words.shape[-1], lambda i, k: jax.random.fold_in(k, words[i]), key)


#: `fold_words`, compiled once per number of rows and implementation.
folded = jax.jit(fold_words, static_argnums=2)


def eager_leaf_keys(key: Array, words: np.ndarray, typed: bool) -> tuple[np.ndarray | None, Array | None]:
    """Every leaf's key, eagerly, each row of `words` folded into `key`: (the data of threefry keys, computed on the
    host by `threefry_fold_on_host`, else None; the keys as a key array when `typed`, padded to a power of two so
    that the programs that draw them serve models of most sizes).

    A traced call derives them inside its own program with `fold_words` instead; all three agree bit for bit.
    """
    rows = max(256, 1 << max(0, len(words) - 1).bit_length())
    impl = impl_name(key)
    if impl != "threefry2x32":  # segments draw threefry bits only; other keys are derived by one compiled program
        return None, folded(key, padded(words, rows), impl)
    data = threefry_fold_on_host(np.asarray(jax.random.key_data(key)), words)
    typed_keys = (
        jax.random.wrap_key_data(jnp.asarray(padded(data, rows)), impl=jax.random.key_impl(key)) if typed else None
    )
    return data, typed_keys


def padded(table: np.ndarray, rows: int, fill: float = 0) -> np.ndarray:
    """`table` with rows of `fill` appended up to `rows` rows (key words here, and segments' tables in `generation`)."""
    pad = np.full((rows - table.shape[0], *table.shape[1:]), fill, table.dtype)
    return np.concatenate([table, pad])


def threefry_fold_on_host(key_data: np.ndarray, words: np.ndarray) -> np.ndarray:
    """`fold_words` for a threefry key, computed by NumPy: the data, one (2,) row per row of `words`.

    `jax.random.fold_in(key, w)` is threefry2x32(key, (0, w)) for a threefry key, so an eager
    call derives its leaves' keys with no compiled program (compiling threefry's loop would be
    a large part of a small model's first call; `docs/design.md` has the figures).
    `tests/test_segments.py` checks it against `fold_words` bit for bit.
    """
    k0 = np.full(words.shape[0], key_data[0], np.uint32)
    k1 = np.full(words.shape[0], key_data[1], np.uint32)
    for column in words.astype(np.uint32).T:
        k0, k1 = _threefry2x32(k0, k1, np.zeros_like(column), column)
    return np.stack([k0, k1], axis=-1)


# Threefry-2x32's rotations, alternating every four rounds, and the constant of its third key word.
_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = np.uint32(0x1BD11BDA)


def _threefry2x32(k0: np.ndarray, k1: np.ndarray, x0: np.ndarray, x1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Threefry-2x32 with 20 rounds, as `jax.extend.random.threefry2x32_p` computes it, on uint32 arrays."""
    ks = (k0, k1, k0 ^ k1 ^ _PARITY)
    x0, x1 = x0 + ks[0], x1 + ks[1]
    for i in range(5):
        for r in _ROTATIONS[i % 2]:
            x0 = x0 + x1
            x1 = ((x1 << np.uint32(r)) | (x1 >> np.uint32(32 - r))) ^ x0
        x0 = x0 + ks[(i + 1) % 3]
        x1 = x1 + ks[(i + 2) % 3] + np.uint32(i + 1)
    return x0, x1
