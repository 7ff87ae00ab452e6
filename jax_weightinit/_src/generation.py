"""Generation: a plan's rows drawn by as few compiled programs as they allow.

`schedule` decides from the rows alone, and from how the call is made, how each leaf is
drawn; `generate` runs that schedule. Three ways, each bit for bit the leaf's direct call
`row.init(key_for(key, row.path), row.shape, row.dtype)`:

* segments (`segments`): unsharded leaves of the library's elementwise laws in float32 with
  threefry keys, laid out as rows of a few flat draws, one per sampling case and dtype. Any
  model under a trace, or a small eager one, compiles one program for its layout
  (its constants filled in it too); a larger eager call uses one program of fixed shapes per
  case and dtype that serves every model, and derives its keys, fills its constants and cuts
  out its leaves on the host.
* filled: constants with a number, and random leaves with no elements.
* groups: everything else (sharded leaves, other initializers, float64 and complex leaves,
  other key implementations, large models), by leaves that share one sampler, shape, dtype
  and sharding. A group of the library's float32 laws with threefry keys is drawn in chunks
  of `block_bytes` per device, each one stack by one vectorized sampler with each leaf's law
  numbers as data; other groups leaf by leaf.

Under a trace each part's keys are made to depend on the part before (`_after`), so the
temporaries stay near one segment or chunk whatever the model's size.
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
from jax.sharding import PartitionSpec as P

from . import blocks, keys, placement, sampling, segments, stacks, tunables
from .constant import Constant
from .core import RandomInitializer, bitwise
from .plan import PlanRow
from .typing import Array


@dataclasses.dataclass(frozen=True)
class Group:
    """Leaves that share one compiled generator: the library's sampler for `case` (with each leaf's law numbers
    as data), or else the initializer `init`; one shape, dtype and sharding."""

    case: str | None
    init: Callable | None
    shape: tuple[int, ...]
    dtype: np.dtype
    sharding: Any
    #: Whether the leaves stack layers and are drawn one layer at a time (`blocks.draw_by_layer`): set by
    #: `_draw_group` where the caller's `jit` may shard them unseen.
    by_layer: bool = False


@dataclasses.dataclass(frozen=True)
class Schedule:
    """How one call draws a plan's rows, as indices into them.

    Attributes:
      segments: each segment with its rows, in the order they are drawn.
      filled: the rows filled with a value rather than drawn: constants, and random leaves with no elements.
      groups: each group with its rows, drawn after the segments, in order.
      fixed: whether the segments are drawn by the eager fixed-shape programs and the constants filled on the
        host, rather than both by one program compiled for the model's layout.
    """

    segments: tuple[tuple[segments.Segment, tuple[int, ...]], ...]
    filled: tuple[int, ...]
    groups: tuple[tuple[Group, tuple[int, ...]], ...]
    fixed: bool

    @property
    def keyed(self) -> tuple[int, ...]:
        """The rows that take a key, in the order their keys are derived: the segments' rows, then the groups'."""
        return tuple(i for _, rows in self.segments + self.groups for i in rows)


def schedule(rows: Sequence[PlanRow], flat: bool, eager: bool) -> Schedule:
    """How `generate` draws `rows`; `flat` when segments may be drawn (see `_flat_draws`), `eager` when the key
    is concrete."""
    cases = [_segment_case(row, flat) for row in rows]
    in_segments = [i for i, case in enumerate(cases) if case is not None]
    if sum(4 * math.prod(rows[i].shape) for i in in_segments) > tunables.TUNABLES.model_bytes:
        # A large model: its compile is amortized, and by group it keeps its temporaries to one chunk.
        in_segments = []
    filled = [i for i, row in enumerate(rows) if _filled(row)]
    fixed = eager and len(in_segments) + len(filled) > tunables.TUNABLES.fixed_from_leaves
    packed = segments.pack([(cases[i], rows[i].dtype, rows[i].shape) for i in in_segments], fixed)  # type: ignore[misc]
    groups: dict[Group, list[int]] = {}
    not_grouped = set(in_segments) | set(filled)
    for i, row in enumerate(rows):
        if i not in not_grouped:
            groups.setdefault(_group(row), []).append(i)
    return Schedule(
        tuple((segment, tuple(in_segments[j] for j in members)) for segment, members in packed),
        tuple(filled),
        tuple((group, tuple(members)) for group, members in groups.items()),
        fixed,
    )


def generate(key: Array, rows: Sequence[PlanRow]) -> list[Array]:
    """Draws every row of a plan (each with an initializer): `row.init(key_for(key, row.path), row.shape,
    row.dtype)` on `row.sharding`, in order."""
    numbers = [_numbers(row) for row in rows]
    # Law numbers traced (hyperparameters as data) make the call a trace whatever the key; such leaves are drawn by
    # group, not in segments, whose rows would look their numbers up per element (under a `vmap` over values,
    # twice the time of drawing each leaf by its own sampler).
    traced = any(isinstance(n, jax.core.Tracer) for n in numbers)
    eager = not isinstance(key, jax.core.Tracer) and not traced
    work = schedule(rows, _flat_draws(key) and not traced, eager)
    impl = keys.impl_name(key)
    paths = [rows[i].path for i in work.keyed]
    segment_numbers = [_stacked([numbers[i] for i in members]) for _, members in work.segments]
    if work.fixed:
        key_data, leaf_keys = keys.eager_leaf_keys(key, keys.digests(paths), typed=bool(work.groups))
        # Cut out and filled on the host, these leaves (all unsharded) are placed where the key is, as a direct
        # call's are: a committed key's device, or replicated over its mesh.
        home = placement.following(key)
        on_host = [np.asarray(table) for table in segment_numbers]  # eager: none is traced
        drawn = _eager_segments([segment for segment, _ in work.segments], key_data, on_host, home)
        filled = [sampling.full_on_host(_value(rows[i]), rows[i].shape, rows[i].dtype, home) for i in work.filled]
    else:
        # The keys are derived in the layout's program, so that a small model compiles one program, not two.
        spec = _LayoutSpec(
            impl,
            tuple(segment for segment, _ in work.segments),
            tuple((rows[i].shape, rows[i].dtype) for i in work.filled),
        )
        values = tuple(_value(rows[i]) for i in work.filled)
        drawn, filled, leaf_keys = _layout_program(spec, key, keys.digests(paths), tuple(segment_numbers), values)
    out: list[Any] = [None] * len(rows)
    in_segments = [i for _, members in work.segments for i in members]
    for i, leaf in zip(in_segments + list(work.filled), drawn + filled, strict=True):
        out[i] = leaf
    previous = (drawn[-1], None) if drawn else None
    start = len(in_segments)  # where the groups' keys begin
    for group, members in work.groups:
        assert leaf_keys is not None  # derived as keys whenever there are groups
        stop = start + len(members)
        table = _stacked([numbers[i] for i in members])
        group_leaves, previous = _draw_group(group, leaf_keys, table, start, stop, previous)
        for i, leaf in zip(members, group_leaves, strict=True):
            out[i] = leaf
        start = stop
    return out


@dataclasses.dataclass(frozen=True)
class _LayoutSpec:
    """What the program of a model's layout is compiled for: the key implementation, its segments (each case,
    dtype and leaf shapes, in key order), and each constant's shape and dtype (whose value comes as data)."""

    impl: str
    segments: tuple[segments.Segment, ...]
    constants: tuple[tuple[tuple[int, ...], np.dtype], ...]


@functools.partial(jax.jit, static_argnums=0)
def _layout_program(
    spec: _LayoutSpec, key: Array, words: Array, numbers: tuple[Array, ...], values: tuple[Array, ...]
) -> tuple[list[Array], list[Array], Array]:
    """(every segment's leaves, in order; the constants; every leaf's key): the keys are `key` with each row of
    `words` folded in (`keys.fold_words`), segment j's leaves take the next ones and the law numbers `numbers[j]`
    (one row each), and constant i is filled with `values[i]`."""
    leaf_keys = keys.fold_words(key, words, spec.impl)
    drawn, used, previous = [], 0, None
    for segment, table in zip(spec.segments, numbers, strict=True):
        batch = leaf_keys[used : used + len(segment.shapes)]
        used += len(segment.shapes)
        if previous is not None:  # one segment after another: its keys wait for the last one's output
            batch = _after(batch, previous, None)
        leaves = segments.draw(segment, jax.random.key_data(batch), table)
        drawn.extend(leaves)
        previous = leaves[-1]
    shapes = spec.constants
    constants = [jnp.full(shape, value, dtype) for (shape, dtype), value in zip(shapes, values, strict=True)]
    return drawn, constants, leaf_keys


def _empty(dtype: np.dtype) -> Array:
    """A new eager segment buffer (later segments of the call reuse the last one's)."""
    return jnp.zeros((segments.buffer_rows(), segments.ROW), dtype)


def _eager_segments(
    packed: list[segments.Segment],
    key_data: np.ndarray | None,
    numbers: list[np.ndarray],
    where: jax.sharding.Sharding | None,
) -> list[Array]:
    """The leaves of every segment, drawn eagerly: one program per sampling case and dtype, whatever the model,
    and the leaves cut out of its buffer (on the host on CPU, else by one small program per leaf shape) and placed
    on `where` (a sharding; None for the default device)."""
    drawn: list[Array] = []
    used = 0
    buffers: dict[np.dtype, Array] = {}  # per dtype, the last segment's buffer, reused once its leaves are cut out
    capacity = tunables.TUNABLES.segment_capacity
    for segment, table in zip(packed, numbers, strict=True):
        assert key_data is not None  # segments are drawn with threefry keys only
        count = len(segment.shapes)
        starts = segment.row_starts
        big = np.iinfo(np.int32).max  # padding leaves start past every row, so no row belongs to them
        buffer = segments.eager_segment(
            segment.case,
            segment.dtype,
            keys.padded(key_data[used : used + count], capacity),
            keys.padded(table, capacity),
            keys.padded(np.asarray(starts[:-1], np.int32), capacity, big),
            segments.leaf_of_rows(starts),
            np.int32(starts[-1]),
            buffers.pop(segment.dtype) if segment.dtype in buffers else _empty(segment.dtype),
        )
        leaves = segments.cut_out(buffer, starts, segment.shapes, where)
        # One segment at a time: dispatched at once, segments and cuts contend for the cores and caches.
        jax.block_until_ready(leaves)
        drawn.extend(leaves)
        buffers[segment.dtype] = buffer
        used += count
    return drawn


def _flat_draws(key: Array) -> bool:
    """Whether leaves may be drawn as segments: bits by counter (see `blocks`), and a known layout.

    Under a trace on several devices the caller's `jit` may shard an unsharded leaf through
    its `out_shardings`; a segment's rows would then be drawn whole on every device, so
    such leaves are drawn by group, where the partitioner gives each device its shard.
    """
    return keys.bits_by_counter(key) and not (isinstance(key, jax.core.Tracer) and jax.device_count() > 1)


def _filled(row: PlanRow) -> bool:
    """Whether `row` is filled with a value: an unsharded constant with a number `jit` takes as an argument, or an
    unsharded random leaf with no elements (drawn empty, as a direct call does)."""
    if row.sharding is not None:
        return False
    if isinstance(row.init, Constant):
        return sampling.fits_jit(row.init.value)
    return isinstance(row.init, RandomInitializer) and math.prod(row.shape) == 0


def _segment_case(row: PlanRow, flat: bool) -> str | None:
    """The sampling case of a leaf drawn in a segment, or None for a leaf drawn otherwise."""
    if not flat or row.sharding is not None or not _sampled(row):
        return None
    if not 0 < math.prod(row.shape) <= segments.max_elements():
        return None
    case, params = sampling.prepare(row.law, row.dtype)  # type: ignore[arg-type]
    return None if case == "grid" or params.dtype != np.float32 else case


def _value(row: PlanRow) -> bool | int | float | complex:
    """A constant leaf's value, passed to the program as a Python number, as `Constant` passes it to `jit`."""
    return row.init.value if isinstance(row.init, Constant) else 0  # type: ignore[return-value]


def _group(row: PlanRow) -> Group:
    """The group that draws `row`: the library's sampler for its law's case when it has one, else its initializer."""
    if _sampled(row):
        case, _ = sampling.prepare(row.law, row.dtype)  # type: ignore[arg-type]
        return Group(case, None, row.shape, row.dtype, row.sharding, by_layer=bool(row.stack))
    assert row.init is not None  # only drawn rows are grouped
    return Group(None, _by_program(row.init), row.shape, row.dtype, row.sharding)


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
    try:
        hash(init)
    except TypeError:  # a traced hyperparameter (`orthogonal(scale)` under `vmap`): a group of its own
        return _Traced(init)
    return init


@dataclasses.dataclass(frozen=True, eq=False)
class _Traced:
    """An initializer holding a traced hyperparameter, so never a static key of a cached program (the cache would
    keep the trace alive): its group is drawn in the caller's trace (`_draw_group`)."""

    init: Callable

    def __call__(self, *args, **kwargs):
        return self.init(*args, **kwargs)


def _sampled(row: PlanRow) -> bool:
    """Whether `row` is drawn by `sampling.sample` from its law (a random initializer, not empty, not complex)."""
    return (
        isinstance(row.init, RandomInitializer)
        and row.law is not None
        and not np.issubdtype(row.dtype, np.complexfloating)
    )


def _numbers(row: PlanRow) -> np.ndarray:
    """The law numbers `sampling.prepare` gives for a sampled leaf; none for the others."""
    if not _sampled(row):
        return np.zeros(0, np.float32)
    return sampling.prepare(row.law, row.dtype)[1]  # type: ignore[arg-type]


def _stacked(numbers: list) -> np.ndarray | Array:
    """Leaves' law numbers as one table: on the host, or in the trace where some are traced."""
    traced = any(isinstance(n, jax.core.Tracer) for n in numbers)
    return jnp.stack(numbers) if traced else np.stack(numbers)


def _vectorized(group: Group, leaf_keys: Array) -> bool:
    """Whether `group` is drawn by the library's own elementwise sampler, whose bits `vmap` keeps: in float32.

    In float64 XLA:CPU fuses a stack's law numbers into the arithmetic otherwise than one leaf's and contracts
    some multiply-adds differently (1-2 ulp), so float64 leaves are drawn one by one, by their direct call's
    program.
    """
    return (
        _orders(group)
        and (group.sharding is None or isinstance(group.sharding, NamedSharding))
        and keys.impl_name(leaf_keys) == "threefry2x32"
    )


def _orders(group: Group) -> bool:
    """Whether the next part's keys are made to depend on this group's last leaf (`_after`): the library's
    laws in float32.

    Not float64: the dependency reads the leaf, and XLA then recomputes a float64 leaf's transform for
    that read and splits its fusion elsewhere than the direct call's, contracting multiply-adds differently
    (1-2 ulp). Float64 leaves, CPU-only and rare, are drawn in the order XLA picks.
    """
    return group.case is not None and sampling.compute_dtype(group.dtype) == np.float32


def chunk_size(group: Group) -> int:
    """How many leaves of `group` one chunk draws: as many as fit in `block_bytes` per device, or 0 if none does.

    A leaf larger than that is one its sampler draws in blocks, on its own.
    """
    local = placement.shard_shape(group.sharding, group.shape)
    return tunables.TUNABLES.block_bytes // max(1, 4 * math.prod(local))


@functools.partial(jax.jit, static_argnums=(0, 5))
def _chunk(group: Group, leaf_keys: Array, numbers: Array, key_start: Array, start: Array, size: int) -> Array:
    """The leaves drawn with `leaf_keys[key_start:key_start + size]` and the law numbers `numbers[start:start +
    size]`, stacked along a new leading axis."""
    batch = jax.lax.dynamic_slice_in_dim(leaf_keys, key_start, size)
    rows = jax.lax.dynamic_slice_in_dim(numbers, start, size)
    assert group.case is not None  # `_vectorized` chose this path
    return sampling.sample_many(batch, group.case, rows, group.shape, group.dtype, group.sharding)


@functools.partial(jax.jit, static_argnums=0)
def _draw_leaf(group: Group, leaf_keys: Array, numbers: Array, key_start: Array, start: Array) -> Array:
    """The leaf drawn with `leaf_keys[key_start]` and the law numbers `numbers[start]`; the library's own samplers
    place (and block) it themselves."""
    key = jax.lax.dynamic_index_in_dim(leaf_keys, key_start, keepdims=False)
    if group.case is not None:
        row = jax.lax.dynamic_index_in_dim(numbers, start, keepdims=False)
        if group.by_layer:
            case = group.case

            def values(bits: Array) -> Array:
                return sampling.transform_bits(bits, row, case, group.dtype)

            return blocks.draw_by_layer(key, group.shape, values)
        return sampling.sample_prepared(key, group.case, row, group.shape, group.dtype, group.sharding)
    init = group.init
    assert init is not None
    if isinstance(init, RandomInitializer):
        return init(key, group.shape, group.dtype, out_sharding=group.sharding)
    return placement.place(lambda k: init(k, group.shape, group.dtype), group.sharding, key)


def _draw_group(
    group: Group,
    leaf_keys: Array,
    numbers: np.ndarray | Array,
    start: int,
    stop: int,
    previous: tuple[Array, Any] | None,
) -> tuple[list[Array], tuple[Array, Any] | None]:
    """The leaves of `group`, drawn with `leaf_keys[start:stop]` and one row of law `numbers` each, and the new
    `previous`.

    A chunk is drawn as one stack of at most `block_bytes` per device and then split, so
    the stack adds at most that to peak memory — provided chunks run one after another.
    Under a trace XLA would otherwise run them all at once (and drops
    `optimization_barrier`s on CPU), so each chunk's keys are made to depend on the
    previous part's last leaf (`_after`).

    Under a trace on several devices with no sharding given, the caller's `jit` may shard the
    leaves through its `out_shardings`, and the library cannot see how: each leaf is then drawn
    at its own shape, so that XLA's partitioner splits its draw from the output back, and it
    neither waits on nor is waited on by another leaf, since reading a leaf whose layout is
    unknown would take a reduction across devices. Stacked leaves are drawn one layer at a time,
    each step split as the output is, except under an Explicit mesh: there the types say every
    intermediate is replicated, a step cannot be split, and an older XLA (jax 0.9) gathers the
    sharded buffer into each step.
    """
    traced = isinstance(leaf_keys, jax.core.Tracer)
    unseen = traced and group.sharding is None and jax.device_count() > 1
    size = chunk_size(group) if _vectorized(group, leaf_keys) and not unseen else 0
    by_layer = unseen and group.by_layer and keys.bits_by_counter(leaf_keys) and len(group.shape) > 1
    by_layer = by_layer and not placement.explicit_context()  # an Explicit mesh's types replicate every step
    group = dataclasses.replace(group, by_layer=by_layer)
    out: list[Array] = []
    if isinstance(group.init, Constant) and not sampling.fits_jit(group.init.value):
        # A traced or array value is an argument of the constant's program, not a static key of a cached program
        # that would keep it (and a tracer's whole trace) alive.
        constant = group.init
        return [constant(leaf_keys[0], group.shape, group.dtype, group.sharding) for _ in range(start, stop)], previous
    # A traced initializer is drawn by `_draw_leaf`'s function in the caller's trace, not through its compiled cache.
    draw = _draw_leaf.__wrapped__ if isinstance(group.init, _Traced) else _draw_leaf  # type: ignore[attr-defined]
    with placement.entered(group.sharding):
        for first in range(start, stop, max(size, 1)):
            batch = _after(leaf_keys, *previous) if traced and previous is not None and not unseen else leaf_keys
            if size:
                count = min(size, stop - first)
                out.extend(jnp.unstack(_chunk(group, batch, numbers, first, first - start, count)))
            else:
                out.append(draw(group, batch, numbers, first, first - start))
            previous = (out[-1], group.sharding) if _orders(group) and not unseen else previous
    return out, previous


def _after(leaf_keys: Array, leaf: Array, sharding: Any) -> Array:
    """`leaf_keys`, unchanged, but computed from `leaf`: a data dependency XLA keeps, so `leaf` is drawn first.

    `leaf` comes from one of the library's own samplers, which never produce NaN, so the
    added flag is always zero. On a mesh each device reads only its own shard of `leaf`
    (a `shard_map` whose result is declared replicated, which it is: every device adds
    zero), so the ordering costs no collective: a host never waits on another's init.
    """
    typed = jnp.issubdtype(leaf_keys.dtype, jax.dtypes.prng_key)
    data = jax.random.key_data(leaf_keys) if typed else leaf_keys
    leaf = jax.lax.stop_gradient(leaf)  # read for its order only: `grad` through a swept scale never enters the flag
    if isinstance(sharding, NamedSharding) and sharding.mesh.size > 1:
        spec = P(*sharding.spec)
        data = jax.shard_map(add_flag, mesh=sharding.mesh, in_specs=(P(), spec), out_specs=P(), check_vma=False)(
            data, leaf
        )
    else:
        data = add_flag(data, leaf)
    return jax.random.wrap_key_data(data, impl=jax.random.key_impl(leaf_keys)) if typed else data


def _flagged(data: Array, local: Array) -> Array:
    """`data` plus 1 where `local` holds a NaN (never, for the library's samplers): `local` computed first."""
    return data + jnp.isnan(local).any().astype(jnp.uint32)


add_flag = jax.custom_batching.custom_vmap(_flagged)


@add_flag.def_vmap
def _add_flag_batched(axis_size: int, in_batched: list, data: Array, local: Array) -> tuple[Array, bool]:
    # A `vmap` over hyperparameters batches the leaves but not the keys: the flag then reads the whole batch, so
    # the keys stay one and the bits are drawn once for every value swept, not once per value.
    data_batched, local_batched = in_batched
    if not data_batched:
        return add_flag(data, local), False
    return jax.vmap(_flagged, in_axes=(0, 0 if local_batched else None))(data, local), True
