"""Large arrays drawn in row blocks, so that bits, floats and output never coexist whole.

With a threefry key and `jax_threefry_partitionable` (JAX's default), `jax.random.bits(key,
shape)` gives the element at row-major flat index n the word b1 ^ b2, where (b1, b2) =
threefry2x32(key, (n >> 32, n mod 2^32)). `bits_at` computes those words for any block of
any shard from its global indices, so each device fills its own shard one block at a
time, in place, with exactly the values the whole-array draw has there. A plain draw
holds about three shard-sized uint32 arrays at once (counters and threefry state); a
blocked one holds that for one block only.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend.random import threefry2x32_p
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from . import keys, placement, tunables
from .typing import Array

# The policy per platform is chosen when the program is lowered (`jax.lax.platform_dependent`),
# so that a program exported for several platforms, or traced on a CPU host for a TPU, is
# right on each. XLA:CPU's threefry is a rolled loop that streams whole arrays through
# memory: there blocks that stay in cache beat one draw. On GPU and TPU jax.random's draw
# is one fused elementwise program, and a loop would only add launches: a shard is drawn
# whole unless it is large against device memory (the sizes are in `tunables`).


def shard_bytes(shape: tuple[int, ...], sharding) -> int:
    """The bytes of random bits (4 per element) one device draws for its shard."""
    return 4 * math.prod(placement.shard_shape(sharding, shape))


def applies(key: Array, shape: tuple[int, ...], compute: np.dtype, sharding) -> bool:
    """Whether an array may be drawn in blocks on some platform: it is larger than a CPU block, `bits_at`
    reproduces its bits exactly, and its layout is known.

    The layout is known when a sharding is given, when the call is eager, or when there is
    one device. Under a trace with no sharding on several devices the caller's `jit` may
    still shard the result through its `out_shardings`, and XLA's partitioner cannot split
    a block loop: it would draw the whole array on every device. Such draws stay whole,
    so that the partitioner gives each device only its shard.
    """
    return (
        (sharding is not None or not isinstance(key, jax.core.Tracer) or jax.device_count() == 1)
        and len(shape) > 0
        and compute == np.float32
        and shard_bytes(shape, sharding) > tunables.TUNABLES.block_bytes
        and math.prod(shape[1:]) < 2**32
        and shape[0] < 2**32
        and (sharding is None or isinstance(sharding, NamedSharding))
        and keys.bits_by_counter(key)
    )


def _times(x: Array, c: int) -> tuple[Array, Array]:
    """x·c as (high, low) uint32 words, for uint32 `x` and an int 0 <= c < 2^32, in 16-bit limbs."""
    x1, x0 = x >> 16, x & 0xFFFF
    c1, c0 = np.uint32(c >> 16), np.uint32(c & 0xFFFF)
    low, cross1, cross2, high = x0 * c0, x1 * c0, x0 * c1, x1 * c1
    cross = cross1 + cross2
    cross_carry = (cross < cross1).astype(jnp.uint32)
    lo = low + (cross << 16)
    return high + (cross >> 16) + (cross_carry << 16) + (lo < low).astype(jnp.uint32), lo


def counters(rows: Array, cols: Array, row_stride: int) -> tuple[Array, Array]:
    """The 64-bit flat index rows·row_stride + cols as (high, low) uint32 words, broadcast together."""
    high, low = _times(rows, row_stride)
    lo = low + cols
    return high + (lo < low).astype(jnp.uint32), lo


def bits_at(key_data: Array, shape: tuple[int, ...], start: tuple[Array, ...], block: tuple[int, ...]) -> Array:
    """`jax.random.bits(key, shape, uint32)[start : start + block]` for a threefry key's data, drawn alone."""
    row_stride = math.prod(shape[1:])
    # Global indices along each axis; the offset of all but the first fits in 32 bits.
    rows = start[0] + jax.lax.broadcasted_iota(jnp.uint32, block, 0)
    rest = jnp.zeros(block, jnp.uint32)
    for axis in range(1, len(shape)):
        index = start[axis] + jax.lax.broadcasted_iota(jnp.uint32, block, axis)
        rest = rest + index * np.uint32(math.prod(shape[axis + 1 :]))
    high, low = counters(rows, rest, row_stride)
    b1, b2 = threefry2x32_p.bind(key_data[0], key_data[1], high, low)
    return b1 ^ b2


def draw_in_blocks(key: Array, shape: tuple[int, ...], sharding, to_values, block_bytes: int) -> Array:
    """The array of `shape` whose bits are `jax.random.bits(key, shape)`, mapped by `to_values(bits) -> values`.

    Each device fills its shard of `sharding` in row blocks of about `block_bytes` of bits.
    """
    data = jax.random.key_data(key) if jnp.issubdtype(key.dtype, jax.dtypes.prng_key) else key
    local = placement.shard_shape(sharding, shape)
    if sharding is None:
        return _draw_shard(data, shape, local, (0,) * len(shape), to_values, block_bytes)
    spec = tuple(sharding.spec) + (None,) * (len(shape) - len(sharding.spec))
    sizes = dict(sharding.mesh.shape)

    def shard(data):
        offsets = tuple(_shard_index(entry, sizes) * n for entry, n in zip(spec, local, strict=True))
        return _draw_shard(data, shape, local, offsets, to_values, block_bytes)

    return jax.shard_map(shard, mesh=sharding.mesh, in_specs=P(), out_specs=P(*spec))(data)


def draw_by_layer(key: Array, shape: tuple[int, ...], to_values) -> Array:
    """`draw_in_blocks(key, shape, None, to_values, ...)`, bit for bit, drawn one index of the leading axis at a
    time (as `nn.scan` draws a stack's layers): under a caller's `jit` whose shardings the library cannot see, XLA's
    partitioner splits each step as the output is split, and one layer's bits are live at a time."""
    data = jax.random.key_data(key) if jnp.issubdtype(key.dtype, jax.dtypes.prng_key) else key
    layer = shape[1:]
    rest = (jnp.uint32(0),) * len(layer)
    dtype = jax.eval_shape(to_values, jax.ShapeDtypeStruct((1, *layer), jnp.uint32)).dtype

    def step(index: Array, out: Array) -> Array:
        values = to_values(bits_at(data, shape, (index.astype(jnp.uint32), *rest), (1, *layer)))
        return jax.lax.dynamic_update_slice_in_dim(out, stored(values), index, axis=0)

    # The buffer starts from the key, not from zeros: XLA would make one zero array for every leaf of a shape and
    # copy it into each (a whole leaf of temporaries); every element is written before it is read.
    start = jnp.broadcast_to(data[0].astype(stored_dtype(dtype)), shape)
    return loaded(jax.lax.fori_loop(0, shape[0], step, start), dtype)


def stored_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype a loop's output buffer holds values of `dtype` in: their bits, for a float narrower than 32 bits.

    XLA:CPU as jax 0.9 and 0.10 ship it computes bfloat16 in float32, an in-place write of it included: it converts
    the whole buffer to float32 and back at every step, so a loop of n steps makes n passes over its output
    (`docs/design.md`; later versions write in place, and float16 was not widened). A write of bits is a copy of
    one step's values whatever the dtype, so every narrow float is written so.
    """
    dtype = np.dtype(dtype)
    narrow = jnp.issubdtype(dtype, jnp.floating) and dtype.itemsize < 4
    return np.dtype(f"uint{8 * dtype.itemsize}") if narrow else dtype


def stored(values: Array) -> Array:
    """`values` as a loop's output buffer holds them (`stored_dtype`)."""
    dtype = stored_dtype(values.dtype)
    return values if dtype == values.dtype else jax.lax.bitcast_convert_type(values, dtype)


def loaded(buffer: Array, dtype: np.dtype) -> Array:
    """The values of `dtype` a buffer of `stored` values holds."""
    return buffer if buffer.dtype == dtype else jax.lax.bitcast_convert_type(buffer, dtype)


def _shard_index(entry, sizes: dict) -> Array | int:
    index: Array | int = 0
    for axis in placement.spec_axes(entry):
        index = index * sizes[axis] + jax.lax.axis_index(axis)
    return index


def _steps(rows: int, most: int) -> tuple[int, int, int]:
    """(full blocks, tail rows, rows per block): a divisor of `rows` near `most` when there is one, so no tail."""
    if rows <= most:
        return 1, 0, rows
    divisor = next((d for d in range(most, most // 2, -1) if rows % d == 0), None)
    step = divisor or most
    return rows // step, rows % step, step


def _draw_shard(data: Array, shape, local: tuple[int, ...], offsets, to_values, block_bytes: int) -> Array:
    full, tail, step = _steps(local[0], max(1, block_bytes // (4 * math.prod(local[1:]))))
    offsets = tuple(jnp.asarray(o, jnp.uint32) for o in offsets)

    def block(out, row, rows):
        start = (offsets[0] + row.astype(jnp.uint32), *offsets[1:])
        values = to_values(bits_at(data, shape, start, (rows, *local[1:])))
        return jax.lax.dynamic_update_slice_in_dim(out, stored(values), row, axis=0)

    dtype = jax.eval_shape(to_values, jax.ShapeDtypeStruct((1,), jnp.uint32)).dtype
    out = jnp.zeros(local, stored_dtype(dtype))
    out = jax.lax.fori_loop(0, full, lambda i, out: block(out, i * step, step), out)
    if tail:
        out = block(out, jnp.asarray(full * step), tail)
    return loaded(out, dtype)
