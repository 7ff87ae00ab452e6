"""A few programs per small model: leaves drawn as segments of one flat draw, constants filled from data.

XLA compiles a sampler (threefry, then the law's transform) in 0.1-0.4 s on a CPU core,
and a program holds one copy per call site, so a model drawn leaf by leaf, or group by
group, compiles for seconds before it draws for milliseconds. Here every unsharded leaf
of a small model (`MODEL_BYTES`) whose law the library samples elementwise is laid out as
whole rows of `ROW` elements in a segment, one segment per sampling case and dtype;
each segment is filled by one sampler whose element takes its row's key and law numbers
(gathered per row, as data) and its counter within its own leaf. With a threefry key and
`jax_threefry_partitionable` the bits of element n of a leaf are threefry2x32(key, (0, n))
xored (see `blocks`), so each leaf is its slice of its segment, bit for bit the array
`init(key, shape, dtype)` returns. Constants (`zeros`, `ones`, `constant(x)` with a number)
are filled from their values, passed as data.

The program's structure (`Layout`: each segment's case, dtype and leaf shapes, each
constant's shape and dtype) is all it is compiled for: layers with different stds, or two
models with the same layout, share it. Eager calls on larger small models use programs of
fixed shapes instead (`eager_segment`, `extract`), which serve every model.
"""

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend.random import threefry2x32_p

from . import blocks, keys, sampling
from .typing import Array

# Elements per row: a leaf takes whole rows (its last row padded), so every row belongs to one leaf and its key,
# counter base and law numbers are per-row data, gathered once per row rather than once per element.
ROW = 128
# Bits (4 bytes per element) per segment. A segment's buffer is a temporary beside the output, and each segment
# is one more sampler to compile (about 0.4 s on a CPU core): under a trace, leaves of one kind with at most
# `ONE_SEGMENT_BYTES` of bits are one segment, more are split into segments of at most `SEGMENT_BYTES` (the
# size of an eager segment's buffer).
ONE_SEGMENT_BYTES = 64 * 2**20
# A model with more bits than this in such leaves is drawn by group (`generation`): its compile is amortized, and
# XLA keeps every segment's buffer alive until the end of a program (a jitted 100 MiB model held 112 MiB of
# temporaries in segments, 16 MiB by group, and drew no faster).
MODEL_BYTES = 64 * 2**20
SEGMENT_BYTES = 32 * 2**20
#: The most elements of a leaf drawn in a segment; a larger leaf is drawn alone by its sampler, whose compile it
#: amortizes (and its counters fit threefry's low word, as a segment's do).
MAX_ELEMENTS = SEGMENT_BYTES // 4
#: Rows of an eager segment's buffer (`SEGMENT_BYTES` of bits), and the most leaves a segment holds.
SEGMENT_ROWS = SEGMENT_BYTES // (4 * ROW)
CAPACITY = 1024


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


@dataclasses.dataclass(frozen=True)
class Layout:
    """What one model program is compiled for.

    Attributes:
      impl: the key implementation's name (how leaf keys are derived).
      segments: the flat draws, in order; leaf keys are taken in this order, one per leaf.
      constants: (shape, dtype) of each constant leaf, whose value comes as data.
    """

    impl: str
    segments: tuple[Segment, ...]
    constants: tuple[tuple[tuple[int, ...], np.dtype], ...]


def layout_segments(
    leaves: list[tuple[str, np.dtype, tuple[int, ...]]], fixed: bool
) -> list[tuple[Segment, list[int]]]:
    """Packs leaves `(case, dtype, shape)`, each at most `SEGMENT_BYTES` of bits, into segments (see
    `SEGMENT_BYTES`; at most `CAPACITY` leaves), in order within each (case, dtype); returns each segment with
    the indices of its leaves. For the fixed-shape programs, segments are at most `SEGMENT_BYTES`."""
    by_kind: dict[tuple[str, np.dtype], list[int]] = {}
    for i, (case, dtype, _) in enumerate(leaves):
        by_kind.setdefault((case, dtype), []).append(i)
    out = []
    for (case, dtype), members in by_kind.items():
        need = [-(-math.prod(leaves[i][2]) // ROW) for i in members]
        one = not fixed and sum(need) * ROW * 4 <= ONE_SEGMENT_BYTES
        most = ONE_SEGMENT_BYTES if one else SEGMENT_BYTES
        current: list[int] = []
        rows = 0
        for i, count in zip(members, need, strict=True):
            if current and ((rows + count) * ROW * 4 > most or len(current) == CAPACITY):
                out.append((Segment(case, dtype, tuple(leaves[j][2] for j in current)), current))
                current, rows = [], 0
            current.append(i)
            rows += count
        out.append((Segment(case, dtype, tuple(leaves[j][2] for j in current)), current))
    return out


@functools.partial(jax.jit, static_argnums=0)
def run(layout: Layout, key: Array, words: Array, params: tuple[Array, ...], values: tuple[Array, ...]):
    """(the segments' leaves in order, the constants, the keys of the other leaves).

    `words` holds the path digests of every random leaf, the segments' first, in order;
    `params[j]` the law numbers of segment j's leaves (`sampling.prepare`), one row each;
    `values[i]` constant i's value.
    """
    leaf_keys = keys.fold_words(key, words, layout.impl)
    drawn, used, previous = [], 0, None
    for segment, table in zip(layout.segments, params, strict=True):
        batch = leaf_keys[used : used + len(segment.shapes)]
        used += len(segment.shapes)
        if previous is not None:  # one segment after another: its keys wait for the last one's output
            batch = keys.after(batch, previous, None)
        leaves = _draw(segment, jax.random.key_data(batch), table)
        drawn.extend(leaves)
        previous = leaves[-1]
    constants = [jnp.full(shape, value, dtype) for (shape, dtype), value in zip(layout.constants, values, strict=True)]
    return drawn, constants, leaf_keys[used:]


def _draw(segment: Segment, key_data: Array, table: Array) -> list[Array]:
    """The leaves of `segment`, from their keys' data and law numbers (one row each per leaf)."""
    starts = segment.row_starts
    first_rows = jnp.asarray(np.asarray(starts[:-1], np.int32))
    flat = fill(segment.case, segment.dtype, key_data, table, first_rows, starts[-1], starts[-1]).reshape(-1)
    # Each leaf is cut out of the drawn segment, not recomputed: XLA 0.12 would otherwise fuse the draw into each
    # leaf's slice, emitted at the leaf's shape, and contract its multiply-adds otherwise than the segment does.
    flat = jax.lax.optimization_barrier(flat)
    return [
        flat[start * ROW : start * ROW + math.prod(shape)].reshape(shape)
        for start, shape in zip(starts, segment.shapes, strict=False)
    ]


def fill(
    case: str,
    dtype: np.dtype,
    key_data: Array,
    table: Array,
    first_rows: Array,
    rows: int,
    filled: Array | int,
    into: Array | None = None,
) -> Array:
    """A segment's buffer of `rows` rows, its first `filled` drawn (the rest zero or drawn): row r belongs to the
    last leaf whose first row is at most r, and draws that leaf's elements r·ROW … r·ROW + ROW - 1 counted from
    its own first row, with that leaf's key data and law numbers. On CPU the rows are written into `into` when
    given (else zeros), so that a donated buffer is reused rather than a new one allocated and cleared."""
    compute = sampling.compute_dtype(dtype)

    def values(start: Array, count: int) -> Array:
        row = start + jnp.arange(count, dtype=jnp.int32)
        leaf = jnp.searchsorted(first_rows, row, side="right", method="scan_unrolled") - 1
        base = ((row - first_rows[leaf]).astype(jnp.uint32) * np.uint32(ROW))[:, None]
        counter = base + jnp.arange(ROW, dtype=jnp.uint32)[None, :]
        words = key_data[leaf]
        # Keys stay one per row: broadcast to every element, XLA:CPU's threefry loop would stream them through
        # memory with the counters and run about 3x slower.
        b1, b2 = threefry2x32_p.bind(words[:, :1], words[:, 1:], jnp.zeros_like(counter), counter)
        numbers = table[leaf].T[:, :, None]  # each law number per row, broadcast along the row
        return sampling.draw(sampling.from_bits(b1 ^ b2, compute), numbers, case, dtype)

    step = min(rows, max(1, blocks.BLOCK_BYTES // (4 * ROW)))

    def in_blocks(key_data, table):
        # Blocks of `step` rows; the last one ends at the last filled row and may overlap the one before, which
        # rewrites those rows with the same values: one copy of the sampler in the program, not two.
        def block(i, out):
            start = jnp.maximum(jnp.minimum(i * step, filled - step), 0)
            return jax.lax.dynamic_update_slice_in_dim(out, values(start, step), start, 0)

        count = (filled + step - 1) // step
        start = jnp.zeros((rows, ROW), dtype) if into is None else into
        return jax.lax.fori_loop(0, count, block, start)

    def whole(key_data, table):
        return values(jnp.int32(0), rows)

    # In cache-sized blocks on CPU (see `blocks`); whole on GPU and TPU, where a segment is far below the
    # size at which `blocks` starts blocking there.
    cpu = in_blocks if rows * ROW * 4 > blocks.BLOCK_BYTES else whole
    return jax.lax.platform_dependent(key_data, table, cpu=cpu, default=whole)


# Eager calls: fixed shapes, so that the same few programs serve every model.


def bucket(n: int, least: int) -> int:
    """The power of two at least `n` and `least`: the padded size of a variable-length table."""
    return max(least, 1 << max(0, n - 1).bit_length())


@functools.partial(jax.jit, static_argnums=(0, 1), donate_argnums=7)
def eager_segment(
    case: str,
    dtype: np.dtype,
    all_keys: Array,
    indices: Array,
    table: Array,
    first_rows: Array,
    filled: Array,
    buffer: Array,
) -> Array:
    """An eager segment's buffer of `SEGMENT_ROWS` rows: leaf j takes the key `all_keys[indices[j]]`, the law
    numbers `table[j]` and the rows from `first_rows[j]` (tables padded to `CAPACITY` leaves); the first
    `filled` rows are drawn into `buffer`, which is donated (the previous segment's, once its leaves are cut out).
    One program per sampling case and dtype serves every model."""
    key_data = jax.random.key_data(all_keys)[indices]
    return fill(case, dtype, key_data, table, first_rows, SEGMENT_ROWS, filled, buffer)


@functools.partial(jax.jit, static_argnums=2)
def extract(buffer: Array, start: Array, shape: tuple[int, ...]) -> Array:
    """The leaf of `shape` whose rows start at row `start` of `buffer`; one program per shape and buffer."""
    size = math.prod(shape)
    rows = jax.lax.dynamic_slice_in_dim(buffer, start, -(-size // ROW))
    return rows.reshape(-1)[:size].reshape(shape)
