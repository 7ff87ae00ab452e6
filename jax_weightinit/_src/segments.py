"""Segments: many small leaves of one sampling case and dtype drawn as rows of one flat array.

XLA compiles a sampler (threefry, then the law's transform) once per call site, so a model
drawn leaf by leaf, or group by group, compiles for far longer than it draws. A segment lays
its leaves out as whole rows of `ROW` elements and is filled by one sampler whose element
takes its row's key and law numbers (gathered per row, as data) and its counter within its
own leaf. With a threefry key and `jax_threefry_partitionable` the bits of element n of a
leaf are threefry2x32(key, (0, n)) xored (see `blocks`), so each leaf is its slice of its
segment, bit for bit the array `init(key, shape, dtype)` returns.

`draw` draws a segment inside a program compiled for a model's layout (`generation`);
`eager_segment` is the program of fixed shapes that serves every model eagerly, and
`cut_out` takes its leaves out of its buffer.
"""

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend.random import threefry2x32_p

from . import blocks, sampling, tunables
from .typing import Array

# Elements per row: a leaf takes whole rows (its last row padded), so every row belongs to one leaf and its key,
# counter base and law numbers are per-row data, gathered once per row rather than once per element.
ROW = 128


def max_elements() -> int:
    """The most elements of a leaf drawn in a segment: one eager segment's buffer. A larger leaf is drawn alone by
    its sampler, whose compile it amortizes (and its counters fit threefry's low word, as a segment's do)."""
    return tunables.TUNABLES.segment_bytes // 4


def buffer_rows() -> int:
    """The rows of an eager segment's buffer."""
    return tunables.TUNABLES.segment_bytes // (4 * ROW)


@dataclasses.dataclass(frozen=True)
class Segment:
    """Leaves of one sampling case and dtype drawn as rows of one array."""

    case: str
    dtype: np.dtype
    shapes: tuple[tuple[int, ...], ...]

    @property
    def row_starts(self) -> tuple[int, ...]:
        """The first row of each leaf, then the number of rows."""
        starts = [0]
        for shape in self.shapes:
            starts.append(starts[-1] + -(-math.prod(shape) // ROW))
        return tuple(starts)


def pack(kinds: list[tuple[str, np.dtype, tuple[int, ...]]], fixed: bool) -> list[tuple[Segment, list[int]]]:
    """Packs leaves of `kinds` (case, dtype, shape) into segments, each segment with the indices of its leaves.

    Leaves of one sampling case and dtype share segments, in order, at most `segment_capacity`
    to a segment. For the fixed-shape programs (`fixed`) a segment also holds at most one
    buffer (`segment_bytes`); in a program compiled for the layout, a kind's leaves are one
    segment (the model's bits are at most `model_bytes`).
    """
    limits = tunables.TUNABLES
    by_kind: dict[tuple[str, np.dtype], list[int]] = {}
    for i, (case, dtype, _) in enumerate(kinds):
        by_kind.setdefault((case, dtype), []).append(i)
    out = []
    for (case, dtype), members in by_kind.items():
        current: list[int] = []
        rows = 0
        for i in members:
            count = -(-math.prod(kinds[i][2]) // ROW)
            full = fixed and (rows + count) * ROW * 4 > limits.segment_bytes
            if current and (full or len(current) == limits.segment_capacity):
                out.append((Segment(case, dtype, tuple(kinds[j][2] for j in current)), current))
                current, rows = [], 0
            current.append(i)
            rows += count
        out.append((Segment(case, dtype, tuple(kinds[j][2] for j in current)), current))
    return out


def draw(segment: Segment, key_data: Array, table: Array) -> list[Array]:
    """The leaves of `segment`, from their keys' data and law numbers (one row each per leaf), under a trace."""
    starts = segment.row_starts
    first_rows = jnp.asarray(np.asarray(starts[:-1], np.int32))
    flat = draw_rows(segment.case, segment.dtype, key_data, table, first_rows, starts[-1], starts[-1]).reshape(-1)
    # Each leaf is cut out of the drawn segment, not recomputed: the draw is computed whole inside its conditional
    # (`sampling.in_whole_vectors`), which no fusion crosses; XLA:CPU expands this barrier before it fuses, so the
    # barrier only keeps JAX's and XLA's early simplifications from moving the slices into the draw.
    flat = jax.lax.optimization_barrier(flat)
    return [
        flat[start * ROW : start * ROW + math.prod(shape)].reshape(shape)
        for start, shape in zip(starts, segment.shapes, strict=False)
    ]


def draw_rows(
    case: str,
    dtype: np.dtype,
    key_data: Array,
    table: Array,
    first_rows: Array,
    rows: int,
    filled: Array | int,
    into: Array | None = None,
    row_leaf: Array | None = None,
) -> Array:
    """A segment's buffer of `rows` rows, its first `filled` drawn (the rest zero or drawn): row r belongs to the
    last leaf whose first row is at most r, and draws that leaf's elements r·ROW … r·ROW + ROW - 1 counted from
    its own first row, with that leaf's key data and law numbers. On CPU the rows are written into `into` when
    given (else zeros), so that a donated buffer is reused rather than a new one allocated and cleared.
    `row_leaf`, when given, is each row's leaf, computed by the caller (`leaf_of_rows`): an eager program then
    reads it rather than searching `first_rows`, a search XLA:CPU is slow to compile (`docs/design.md`)."""
    def values(start: Array, count: int) -> Array:
        row = start + jnp.arange(count, dtype=jnp.int32)
        if row_leaf is None:
            leaf = jnp.searchsorted(first_rows, row, side="right", method="scan_unrolled") - 1
        else:
            leaf = jax.lax.dynamic_slice_in_dim(row_leaf, start, count)
        base = ((row - first_rows[leaf]).astype(jnp.uint32) * np.uint32(ROW))[:, None]
        counter = base + jnp.arange(ROW, dtype=jnp.uint32)[None, :]
        words = key_data[leaf]
        # Keys stay one per row: broadcast to every element, XLA:CPU's threefry loop would stream them through
        # memory with the counters.
        b1, b2 = threefry2x32_p.bind(words[:, :1], words[:, 1:], jnp.zeros_like(counter), counter)
        numbers = table[leaf].T[:, :, None]  # each law number per row, broadcast along the row
        return sampling.transform_bits(b1 ^ b2, numbers, case, dtype)

    block_bytes = tunables.TUNABLES.block_bytes
    step = min(rows, max(1, block_bytes // (4 * ROW)))

    def in_blocks(key_data, table):
        # Blocks of `step` rows; the last one ends at the last filled row and may overlap the one before, which
        # rewrites those rows with the same values: one copy of the sampler in the program, not two.
        def block(i, out):
            start = jnp.maximum(jnp.minimum(i * step, filled - step), 0)
            return jax.lax.dynamic_update_slice_in_dim(out, blocks.stored(values(start, step)), start, 0)

        count = (filled + step - 1) // step
        start = jnp.zeros((rows, ROW), dtype) if into is None else into
        return blocks.loaded(jax.lax.fori_loop(0, count, block, blocks.stored(start)), dtype)

    def whole(key_data, table):
        return values(jnp.int32(0), rows)

    # In cache-sized blocks on CPU (see `blocks`); whole on GPU and TPU, where a segment is far below the
    # size at which `blocks` starts blocking there.
    cpu = in_blocks if rows * ROW * 4 > block_bytes else whole
    return jax.lax.platform_dependent(key_data, table, cpu=cpu, default=whole)


# Eager calls: fixed shapes, so that the same few programs serve every model.


@functools.partial(jax.jit, static_argnums=(0, 1), donate_argnums=7)
def eager_segment(
    case: str,
    dtype: np.dtype,
    key_data: Array,
    table: Array,
    first_rows: Array,
    row_leaf: Array,
    filled: Array,
    buffer: Array,
) -> Array:
    """An eager segment's buffer of `buffer_rows()` rows: leaf j takes the threefry key data `key_data[j]`, the law
    numbers `table[j]` and the rows from `first_rows[j]` (tables padded to `segment_capacity` leaves), and row r
    belongs to leaf `row_leaf[r]`; the first `filled` rows are drawn into `buffer`, which is donated (the previous
    segment's, once its leaves are cut out). One program per sampling case and dtype serves every model."""
    return draw_rows(case, dtype, key_data, table, first_rows, buffer_rows(), filled, buffer, row_leaf)


def leaf_of_rows(starts: tuple[int, ...]) -> np.ndarray:
    """Each row's leaf in an eager segment's buffer, for leaves whose rows start at `starts` (then the number of
    rows): the rows past the last leaf's, never drawn on CPU, count as the last leaf's, as `draw_rows`'s search
    has it."""
    counts = np.diff(np.asarray(starts))
    leaf = np.repeat(np.arange(len(counts), dtype=np.int32), counts)
    return np.concatenate([leaf, np.full(buffer_rows() - len(leaf), len(counts) - 1, np.int32)])


def cut_out(
    buffer: Array,
    starts: tuple[int, ...],
    shapes: tuple[tuple[int, ...], ...],
    where: jax.sharding.Sharding | None = None,
) -> list[Array]:
    """The leaves of `shapes` whose rows start at `starts` in an eager segment's `buffer`, placed on the sharding
    `where` (None: where the buffer is).

    In host memory (CPU) they are copied out by NumPy and placed as new arrays, which compiles
    nothing; elsewhere `extract` cuts each out, one small program per leaf shape.
    """
    if next(iter(buffer.devices())).platform != "cpu":
        leaves = [extract(buffer, np.int32(r), shape) for r, shape in zip(starts, shapes, strict=False)]
        return leaves if where is None else jax.device_put(leaves, where)
    flat = np.asarray(buffer).reshape(-1)
    # Copies: `buffer` is donated to the next segment, so no leaf may share its memory.
    copies = [
        flat[r * ROW : r * ROW + math.prod(shape)].reshape(shape).copy()
        for r, shape in zip(starts, shapes, strict=False)
    ]
    del flat
    return jax.device_put(copies, where)  # one batched transfer


@functools.partial(jax.jit, static_argnums=2)
def extract(buffer: Array, start: Array, shape: tuple[int, ...]) -> Array:
    """The leaf of `shape` whose rows start at row `start` of `buffer`; one program per shape and buffer."""
    size = math.prod(shape)
    rows = jax.lax.dynamic_slice_in_dim(buffer, start, -(-size // ROW))
    return rows.reshape(-1)[:size].reshape(shape)
