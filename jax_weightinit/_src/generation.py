"""Generation: the initialized leaves of a whole model, drawn by as few compiled programs as it allows.

Unsharded leaves of the library's elementwise laws and scalar constants are drawn by one
program per model layout (`segments`), whatever their laws' numbers. The rest — sharded
leaves, other initializers, complex and float64 leaves, other key implementations — go
by group: leaves that share one sampler (a law's sampling case, or an initializer), shape,
dtype and sharding, each group drawn by one compiled function, used eagerly through
`jit`'s cache and inlined as it is under the caller's `jit`. For the library's laws with
threefry keys, a group's chunk is the leaves whose bits fit in `CHUNK_BYTES` per device,
drawn as one stack by one vectorized generator with each leaf's law numbers as data, and
split: bit for bit the per-leaf result. A leaf too large for a chunk is drawn alone by its
sampler, in blocks. Other initializers and other key implementations (whose bits differ
under `vmap`) are drawn one leaf at a time.
"""

import dataclasses
import functools
import math
import types
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding

from . import blocks, keys, placement, sampling, segments, stacks
from .constant import Constant
from .core import RandomInitializer, bitwise
from .plan import Row
from .typing import Array

# An eager call with more leaves in segments and constants than this draws them with programs of fixed shapes,
# which serve every model (one per sampling case and dtype, and one small one per leaf shape to cut a leaf out;
# constants are filled on the host);
# a smaller model compiles one program for its own layout, which cuts its leaves out inside at about 7 ms of
# compile per leaf, and is the quicker of the two up to about this size (`benchmarks/cold_bench.py`).
FIXED_FROM_LEAVES = 128

# Per-device bytes of random bits (4 per element, whatever the output dtype) one chunk
# draws. A chunk holds a few times this in temporaries, and chunks run one after another.
# The same bound as a block's, so that a leaf too large for a chunk is one its sampler blocks.
CHUNK_BYTES = blocks.BLOCK_BYTES


@dataclasses.dataclass(frozen=True)
class Group:
    """Leaves that share one compiled generator: the library's sampler for `case` (with each leaf's law numbers
    as data), or else the initializer `init`; one shape, dtype and sharding."""

    case: str | None
    init: Callable | None
    shape: tuple[int, ...]
    dtype: np.dtype
    sharding: Any


def generate(key: Array, leaves: Sequence[Row]) -> list[Array]:
    """Draws every row of a plan (each with an initializer): `row.init(key_for(key, row.path), row.shape, row.dtype)`
    on `row.sharding`, in order.

    Under a trace the parts run one after another (see `keys.after`), so the temporaries
    stay near one segment or chunk whatever the model's size.
    """
    flat = _flat_draws(key)
    routes = [_route(leaf, flat) for leaf in leaves]
    if sum(4 * math.prod(route[2]) for route in routes if isinstance(route, tuple)) > segments.MODEL_BYTES:
        # A large model: its compile is amortized, and by group it keeps its temporaries to one chunk.
        routes = ["other" if isinstance(route, tuple) else route for route in routes]
    fixed = not isinstance(key, jax.core.Tracer) and sum(route != "other" for route in routes) > FIXED_FROM_LEAVES
    in_segments = [i for i, route in enumerate(routes) if isinstance(route, tuple)]
    packed = segments.layout_segments([routes[i] for i in in_segments], fixed)  # type: ignore[misc]
    members = [[in_segments[j] for j in indices] for _, indices in packed]
    order = [i for indices in members for i in indices]
    constant = [i for i, route in enumerate(routes) if route == "constant"]
    groups: dict[Group, list[int]] = {}
    for i, route in enumerate(routes):
        if route == "other":
            groups.setdefault(_group(leaves[i]), []).append(i)
    others = [i for indices in groups.values() for i in indices]
    params = [np.stack([_numbers(leaves[i]) for i in indices]) for indices in members]
    words = keys.digests([leaves[i].path for i in order + others])

    out: list[Any] = [None] * len(leaves)
    if fixed:
        all_keys = keys.folded(key, _padded(words, segments.bucket(len(words), 256)), keys.impl_name(key))
        drawn = _eager_segments([segment for segment, _ in packed], all_keys, params)
        filled = [_constant(leaves[i]) for i in constant]
    else:
        layout = segments.Layout(
            keys.impl_name(key),
            tuple(segment for segment, _ in packed),
            tuple((leaves[i].shape, leaves[i].dtype) for i in constant),
        )
        values = tuple(_value(leaves[i]) for i in constant)
        drawn, filled, all_keys = segments.run(layout, key, words, tuple(params), values)
    for i, leaf in zip(order + constant, drawn + filled, strict=True):
        out[i] = leaf
    previous = (drawn[-1], None) if drawn else None
    start = len(order) if fixed else 0  # where the other leaves' keys begin
    for group, indices in groups.items():
        stop = start + len(indices)
        numbers = np.stack([_numbers(leaves[i]) for i in indices])
        group_leaves, previous = _draw_group(group, all_keys, numbers, start, stop, previous)
        for i, leaf in zip(indices, group_leaves, strict=True):
            out[i] = leaf
        start = stop
    return out


def _padded(table: np.ndarray, rows: int, fill: float = 0) -> np.ndarray:
    """`table` with rows of `fill` appended up to `rows` rows."""
    pad = np.full((rows - table.shape[0], *table.shape[1:]), fill, table.dtype)
    return np.concatenate([table, pad])


def _empty(dtype: np.dtype) -> Array:
    """A new eager segment buffer (later segments of the call reuse the last one's)."""
    return jnp.zeros((segments.SEGMENT_ROWS, segments.ROW), dtype)


def _eager_segments(packed: list[segments.Segment], all_keys: Array, params: list[np.ndarray]) -> list[Array]:
    """The leaves of every segment, drawn eagerly: one program per sampling case and dtype, whatever the model,
    and one small program per leaf shape to cut the leaf out of its segment's buffer."""
    drawn: list[Array] = []
    used = 0
    buffers: dict[np.dtype, Array] = {}  # per dtype, the last segment's buffer, reused once its leaves are cut out
    for segment, table in zip(packed, params, strict=True):
        count = len(segment.shapes)
        starts = segment.row_starts
        big = np.iinfo(np.int32).max  # padding leaves start past every row, so no row belongs to them
        buffer = segments.eager_segment(
            segment.case,
            segment.dtype,
            all_keys,
            _padded(np.arange(used, used + count, dtype=np.int32), segments.CAPACITY),
            _padded(table, segments.CAPACITY),
            _padded(np.asarray(starts[:-1], np.int32), segments.CAPACITY, big),
            np.int32(starts[-1]),
            buffers.pop(segment.dtype) if segment.dtype in buffers else _empty(segment.dtype),
        )
        leaves = [
            segments.extract(buffer, np.int32(r), shape) for r, shape in zip(starts, segment.shapes, strict=False)
        ]
        # One segment at a time: dispatched at once, segments and cuts contend for the cores and caches (a
        # quarter slower on a 2-core CPU).
        jax.block_until_ready(leaves)
        drawn.extend(leaves)
        buffers[segment.dtype] = buffer
        used += count
    return drawn


def _constant(leaf: Row) -> Array:
    """A constant leaf, eagerly: filled on the host and transferred, so no shape costs a compile.

    The value is first held as `jit` would hold the Python number, then converted, as `jnp.full`
    converts it (both round to nearest even). A complex value for a real dtype, whose conversion
    warns, is filled by the cached fill program instead.
    """
    value = np.asarray(_value(leaf), _value_dtype(_value(leaf)))
    if not _same_on_host(value, leaf.dtype):
        return sampling.full(_value(leaf), leaf.shape, leaf.dtype)
    return jax.device_put(np.full(leaf.shape, value.astype(leaf.dtype), leaf.dtype))


def _same_on_host(value: np.ndarray, dtype: np.dtype) -> bool:
    """Whether NumPy converts `value` to `dtype` as XLA does: exactly, with no subnormal on either side (XLA
    flushes them to zero) and no bool from another type (a flushed float is False there). A value that has to be
    rounded is left to XLA, whose rounding of an int into a narrow float can differ from NumPy's."""
    if (value.dtype == np.bool_) != (dtype == np.bool_):
        return False
    if np.iscomplexobj(value) and not np.issubdtype(dtype, np.complexfloating):
        return False
    with np.errstate(all="ignore"):
        cast = value.astype(dtype)
        if not bool(cast.astype(value.dtype) == value):
            return False
    for array in (value, cast):
        if np.issubdtype(array.dtype, np.inexact):
            magnitude = np.abs(array)
            if 0 < magnitude < np.finfo(array.dtype).smallest_normal:
                return False
    return True


def _value_dtype(value: bool | int | float | complex) -> np.dtype:
    """The dtype `jit` gives a Python number passed to it."""
    return np.dtype(jax.dtypes.canonicalize_dtype(np.dtype(type(value))))


def _flat_draws(key: Array) -> bool:
    """Whether leaves may be drawn as segments: threefry bits by counter (see `blocks`), and a known layout.

    Under a trace on several devices the caller's `jit` may shard an unsharded leaf through
    its `out_shardings`; a segment's rows would then be drawn whole on every device, so
    such leaves are drawn by group, where the partitioner gives each device its shard.
    """
    return (
        keys.impl_name(key) == "threefry2x32"
        and bool(jax.config.jax_threefry_partitionable)  # type: ignore[attr-defined]
        and not (isinstance(key, jax.core.Tracer) and jax.device_count() > 1)
    )


def _route(leaf: Row, flat: bool) -> tuple[str, np.dtype, tuple[int, ...]] | str:
    """(case, dtype, shape) for a leaf drawn in a segment; else 'constant' or 'other'."""
    if leaf.sharding is not None:
        return "other"
    if isinstance(leaf.init, Constant) and _fits(leaf.init.value):
        return "constant"
    if not isinstance(leaf.init, RandomInitializer):
        return "other"
    if math.prod(leaf.shape) == 0:
        return "constant"  # drawn empty, as a direct call does
    if not (flat and _sampled(leaf) and math.prod(leaf.shape) <= segments.MAX_ELEMENTS):
        return "other"
    case, params = sampling.prepare(leaf.law, leaf.dtype)  # type: ignore[arg-type]
    if case == "grid" or params.dtype != np.float32:
        return "other"
    return case, leaf.dtype, leaf.shape


def _fits(value: object) -> bool:
    """Whether `value` is a Python number that `jit` takes as an argument (an int within its integer dtype)."""
    if isinstance(value, bool | float | complex):
        return True
    if not isinstance(value, int):
        return False
    info = np.iinfo(_value_dtype(value))
    return int(info.min) <= value <= int(info.max)


def _value(leaf: Row) -> bool | int | float | complex:
    """A constant leaf's value, passed to the program as a Python number, as `Constant` passes it to `jit`."""
    return leaf.init.value if isinstance(leaf.init, Constant) else 0  # type: ignore[return-value]


def _group(leaf: Row) -> Group:
    """The group that draws `leaf`: the library's sampler for its law's case when it has one, else its initializer."""
    if _sampled(leaf):
        case, _ = sampling.prepare(leaf.law, leaf.dtype)  # type: ignore[arg-type]
        return Group(case, None, leaf.shape, leaf.dtype, leaf.sharding)
    assert leaf.init is not None  # only drawn rows are grouped
    return Group(None, _by_program(leaf.init), leaf.shape, leaf.dtype, leaf.sharding)


@dataclasses.dataclass(frozen=True, eq=False)
class _Function:
    """A function as the compiled programs' cache keys it: by its code and the values it closes over, so that an
    initializer rebuilt on every call (`jax.nn.initializers.normal(0.02)` inside a model's init) reuses one program
    rather than compiling, and keeping, a new one each time. The key is read once, when the group is formed."""

    function: Callable
    key: tuple = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", _program_key(self.function))

    def __call__(self, *args, **kwargs):
        return self.function(*args, **kwargs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Function) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)


def _program_key(function: Callable) -> tuple:
    """(code, closure values, defaults) of a plain function, or its identity where one of them is unhashable."""
    try:
        key = (
            function.__code__,  # type: ignore[attr-defined]
            tuple(bitwise(c.cell_contents) for c in function.__closure__ or ()),  # type: ignore[attr-defined]
            tuple(bitwise(d) for d in function.__defaults__ or ()),  # type: ignore[attr-defined]
            tuple(sorted((function.__kwdefaults__ or {}).items())),  # type: ignore[attr-defined]
        )
        hash(key)
    except TypeError:  # a closure over something unhashable (an array, a list): the function itself
        return (id(function),)
    return key


def _by_program(init: Callable) -> Callable:
    """`init` as a cache key that two initializers share exactly when they draw the same program."""
    if isinstance(init, stacks.PerLayer):
        return stacks.PerLayer(_by_program(init.init), init.axes)
    if isinstance(init, types.FunctionType):
        return _Function(init)
    return init


def _sampled(leaf: Row) -> bool:
    """Whether `leaf` is drawn by `sampling.sample` from its law (a random initializer, not empty, not complex)."""
    return (
        isinstance(leaf.init, RandomInitializer)
        and leaf.law is not None
        and not np.issubdtype(leaf.dtype, np.complexfloating)
    )


def _numbers(leaf: Row) -> np.ndarray:
    """The law numbers `sampling.prepare` gives for a sampled leaf; none for the others."""
    if not _sampled(leaf):
        return np.zeros(0, np.float32)
    return sampling.prepare(leaf.law, leaf.dtype)[1]  # type: ignore[arg-type]


def _vectorized(group: Group, keys_: Array) -> bool:
    """Whether `group` is drawn by the library's own elementwise sampler, whose bits `vmap` keeps: in float32.

    In float64 XLA:CPU fuses a stack's law numbers into the arithmetic otherwise than one leaf's and contracts
    some multiply-adds differently (1-2 ulp), so float64 leaves are drawn one by one, by their direct call's
    program.
    """
    return (
        _orders(group)
        and (group.sharding is None or isinstance(group.sharding, NamedSharding))
        and keys.impl_name(keys_) == "threefry2x32"
    )


def _orders(group: Group) -> bool:
    """Whether the next part's keys are made to depend on this group's last leaf (`keys.after`): the library's
    laws in float32.

    Not float64: the dependency reads the leaf, and XLA then recomputes a float64 leaf's transform for
    that read and splits its fusion elsewhere than the direct call's, contracting multiply-adds differently
    (1-2 ulp). Float64 leaves, CPU-only and rare, are drawn in the order XLA picks.
    """
    return group.case is not None and sampling.compute_dtype(group.dtype) == np.float32


def chunk_size(group: Group) -> int:
    """How many leaves of `group` one chunk draws: as many as fit in `CHUNK_BYTES` per device, or 0 if none does.

    A leaf larger than that is drawn on its own, by its sampler, which draws large arrays in blocks.
    """
    local = placement.shard_shape(group.sharding, group.shape)
    return CHUNK_BYTES // max(1, 4 * math.prod(local))


@functools.partial(jax.jit, static_argnums=(0, 5))
def _chunk(group: Group, keys_: Array, params: Array, key_start: Array, start: Array, size: int) -> Array:
    """The leaves drawn with `keys_[key_start:key_start + size]` and `params[start:start + size]`, stacked along a
    new leading axis."""
    batch = jax.lax.dynamic_slice_in_dim(keys_, key_start, size)
    numbers = jax.lax.dynamic_slice_in_dim(params, start, size)
    assert group.case is not None  # `_vectorized` chose this path
    return sampling.sample_many(batch, group.case, numbers, group.shape, group.dtype, group.sharding)


@functools.partial(jax.jit, static_argnums=0)
def _leaf(group: Group, keys_: Array, params: Array, key_start: Array, start: Array) -> Array:
    """The leaf drawn with `keys_[key_start]`; the library's own samplers place (and block) it themselves."""
    key = jax.lax.dynamic_index_in_dim(keys_, key_start, keepdims=False)
    if group.case is not None:
        numbers = jax.lax.dynamic_index_in_dim(params, start, keepdims=False)
        return sampling.sample_prepared(key, group.case, numbers, group.shape, group.dtype, group.sharding)
    init = group.init
    assert init is not None
    if isinstance(init, RandomInitializer):
        return init(key, group.shape, group.dtype, out_sharding=group.sharding)
    return placement.place(lambda k: init(k, group.shape, group.dtype), group.sharding, key)


def _draw_group(
    group: Group, keys_: Array, params: np.ndarray, start: int, stop: int, previous: tuple[Array, Any] | None
) -> tuple[list[Array], tuple[Array, Any] | None]:
    """The leaves of `group`, drawn with `keys_[start:stop]` and one row of `params` each, and the new `previous`.

    A chunk is drawn as one stack of at most `CHUNK_BYTES` per device and then split, so
    the stack adds at most that to peak memory — provided chunks run one after another.
    Under a trace XLA would otherwise run them all at once (and drops
    `optimization_barrier`s on CPU), so each chunk's keys are made to depend on the
    previous part's last leaf (`keys.after`).
    """
    traced = isinstance(keys_, jax.core.Tracer)
    size = chunk_size(group) if _vectorized(group, keys_) else 0
    out: list[Array] = []
    if isinstance(group.init, Constant) and not _fits(group.init.value):
        # A traced or array value is an argument of the fill, not a static key of a cached program that would
        # keep it (and a tracer's whole trace) alive.
        fill = group.init
        return [fill(keys_[0], group.shape, group.dtype, group.sharding) for _ in range(start, stop)], previous
    with placement.entered(group.sharding):
        for first in range(start, stop, max(size, 1)):
            batch = keys.after(keys_, *previous) if traced and previous is not None else keys_
            if size:
                count = min(size, stop - first)
                out.extend(jnp.unstack(_chunk(group, batch, params, first, first - start, count)))
            else:
                out.append(_leaf(group, batch, params, first, first - start))
            previous = (out[-1], group.sharding) if _orders(group) else previous
    return out, previous
