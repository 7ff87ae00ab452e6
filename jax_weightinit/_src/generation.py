"""Generation: the leaves of a whole model drawn group by group, in chunks, straight into their shards.

A group is the leaves that share one initializer, shape, dtype and sharding. Each
chunk of a group is one compiled function, used eagerly through `jit`'s cache and
inlined as it is under the caller's `jit`, so the program grows with the number of
chunks, not of leaves. For the library's own elementwise laws with threefry keys, a
chunk is the leaves whose bits fit in `CHUNK_BYTES` per device, drawn as one stack by
one vectorized generator (`sampling.sample_many`) and split: bit for bit the per-leaf
result. A leaf too large for a chunk is drawn alone by its sampler, in blocks. Other
initializers, complex dtypes and other key implementations (whose bits differ under
`vmap`) are drawn one leaf at a time.
"""

import dataclasses
import functools
import math
from collections.abc import Callable
from typing import Any, cast

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from . import blocks, placement, sampling
from . import keys as keys_lib
from .core import RandomInitializer
from .typing import Array

# Per-device bytes of random bits (4 per element, whatever the output dtype) one chunk
# draws. A chunk holds a few times this in temporaries, and chunks run one after another.
# The same bound as a block's, so that a leaf too large for a chunk is one its sampler blocks.
CHUNK_BYTES = blocks.BLOCK_BYTES


@dataclasses.dataclass(frozen=True)
class Group:
    """Leaves that share one compiled generator: one initializer, shape, dtype and sharding."""

    init: Callable
    shape: tuple[int, ...]
    dtype: np.dtype
    sharding: Any


def _vectorized(group: Group, keys: Array) -> bool:
    """Whether `group` is drawn by the library's own elementwise sampler, whose bits `vmap` keeps."""
    return (
        isinstance(group.init, RandomInitializer)
        and math.prod(group.shape) > 0
        and not np.issubdtype(group.dtype, np.complexfloating)
        and (group.sharding is None or isinstance(group.sharding, jax.sharding.NamedSharding))
        and keys_lib.impl_name(keys) == "threefry2x32"
    )


def chunk_size(group: Group) -> int:
    """How many leaves of `group` one chunk draws: as many as fit in `CHUNK_BYTES` per device, or 0 if none does.

    A leaf larger than that is drawn on its own, by its sampler, which draws large arrays in blocks.
    """
    local = placement.shard_shape(group.sharding, group.shape)
    return CHUNK_BYTES // max(1, 4 * math.prod(local))


@functools.partial(jax.jit, static_argnums=(0, 3))
def _chunk(group: Group, keys: Array, start: Array, size: int) -> Array:
    """The leaves drawn with `keys[start:start + size]`, stacked along a new leading axis."""
    batch = jax.lax.dynamic_slice_in_dim(keys, start, size)
    law = cast(RandomInitializer, group.init).distribution(group.shape)  # `_vectorized` chose this path
    return sampling.sample_many(batch, law, group.shape, group.dtype, group.sharding)


@functools.partial(jax.jit, static_argnums=0)
def _leaf(group: Group, keys: Array, start: Array) -> Array:
    """The leaf drawn with `keys[start]`; the library's own samplers place (and block) it themselves."""
    key = jax.lax.dynamic_index_in_dim(keys, start, keepdims=False)
    if isinstance(group.init, RandomInitializer):
        return group.init(key, group.shape, group.dtype, out_sharding=group.sharding)
    return placement.place(lambda k: group.init(k, group.shape, group.dtype), group.sharding, key)


def generate(groups: dict[Group, tuple[int, int]], keys: Array) -> list[Array]:
    """Draws every leaf: for a group over `keys[start:stop]`, `group.init(keys[i], group.shape, group.dtype)`.

    Returns the leaves in the order of `keys`. A chunk of a group is drawn as one stack
    of at most `CHUNK_BYTES` per device and then split, so the stack adds at most that
    to peak memory — provided chunks run one after another. Under a trace XLA would
    otherwise run them all at once (and drops `optimization_barrier`s on CPU), so each
    chunk's keys are made to depend on the previous chunk's last leaf (`_after`).
    """
    traced = isinstance(keys, jax.core.Tracer)
    leaves: list[Array] = []
    previous: tuple[Array, Any] | None = None  # the last leaf drawn by our own sampler, and its sharding
    for group, (start, stop) in groups.items():
        ours = _vectorized(group, keys)
        size = chunk_size(group) if ours else 0
        with placement.entered(group.sharding):
            for first in range(start, stop, max(size, 1)):
                batch = _after(keys, *previous) if traced and previous is not None else keys
                if size:
                    drawn = list(jnp.unstack(_chunk(group, batch, first, min(size, stop - first))))
                else:
                    drawn = [_leaf(group, batch, first)]
                leaves.extend(drawn)
                previous = (drawn[-1], group.sharding) if ours else previous
    return leaves


def _after(keys: Array, leaf: Array, sharding: Any) -> Array:
    """`keys`, unchanged, but computed from `leaf`: a data dependency XLA keeps, so `leaf` is drawn first.

    `leaf` comes from one of the library's own samplers, which never produce NaN, so the
    added flag is always zero. On a mesh each device reads only its own shard of `leaf`
    (a `shard_map` whose result is declared replicated, which it is: every device adds
    zero), so the ordering costs no collective: a host never waits on another's init.
    """
    data = jax.random.key_data(keys) if jnp.issubdtype(keys.dtype, jax.dtypes.prng_key) else keys

    def add_flag(data: Array, local: Array) -> Array:
        return data + jnp.isnan(local).any().astype(jnp.uint32)

    if isinstance(sharding, NamedSharding) and sharding.mesh.size > 1:
        spec = P(*sharding.spec)
        data = jax.shard_map(add_flag, mesh=sharding.mesh, in_specs=(P(), spec), out_specs=P(), check_vma=False)(
            data, leaf
        )
    else:
        data = add_flag(data, leaf)
    if jnp.issubdtype(keys.dtype, jax.dtypes.prng_key):
        return jax.random.wrap_key_data(data, impl=jax.random.key_impl(keys))
    return data
