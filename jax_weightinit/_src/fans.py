"""Fan-in and fan-out of a weight shape."""

import math

from . import validation
from .typing import Axes, Shape


def compute_fans(
    shape: Shape,
    in_axis: Axes = -2,
    out_axis: Axes = -1,
    batch_axis: Axes = (),
) -> tuple[int, int]:
    """Computes the fan-in and fan-out of a weight of the given shape.

    Axes that are in none of `in_axis`, `out_axis` and `batch_axis` form the
    receptive field (the spatial axes of a convolution kernel); its size
    multiplies both fans. Batch axes (stacked or scanned layers) count in neither.

    Args:
      shape: the weight's shape.
      in_axis: the axis, or axes, of the inputs.
      out_axis: the axis, or axes, of the outputs.
      batch_axis: the axis, or axes, that index independent layers.

    Returns:
      `(fan_in, fan_out)` as ints: the product of the input (output) dims times
      the receptive field size.

    When `in_axis` and `out_axis` share an axis, the fans follow `jax.nn`'s arithmetic,
    fan_in = size / (out · batch) and fan_out = size / (in · batch): Flax's `Embed`
    default, `variance_scaling(1.0, "fan_in", "normal", out_axis=0)` on a
    (vocab, features) table, relies on it to get fan_in = features.

    Raises:
      ValueError: if an axis is out of range, an axis appears twice in one argument or
        in `batch_axis` and another, or the shape has fewer than two dims with the
        default `in_axis`.

    Example:
      >>> import jax_weightinit as wi
      >>> wi.compute_fans((3, 3, 64, 128))  # a Flax HWIO conv kernel
      (576, 1152)
      >>> wi.compute_fans((8, 512, 2048), batch_axis=0)  # 8 stacked dense layers
      (512, 2048)
      >>> wi.compute_fans((512, 8, 64), in_axis=0, out_axis=(1, 2))  # q projection
      (512, 512)
    """
    shape = validation.shape(shape)
    ins = validation.axes("in_axis", in_axis)
    outs = validation.axes("out_axis", out_axis)
    batch = validation.axes("batch_axis", batch_axis)
    rank = len(shape)
    if rank < 2 and ins == (-2,):
        raise ValueError(
            f"`shape` {shape!r} has rank {rank}; fans need at least 2 dims with the default `in_axis`, "
            "or an explicit `in_axis`."
        )
    ins = validation.resolve_axes("in_axis", ins, rank)
    outs = validation.resolve_axes("out_axis", outs, rank)
    batch = validation.resolve_axes("batch_axis", batch, rank)
    for name, other in (("in_axis", ins), ("out_axis", outs)):
        shared = set(other) & set(batch)
        if shared:
            raise ValueError(
                f"`{name}` and `batch_axis` must not share axes; both name axis {min(shared)} of {shape!r}."
            )
    size_in, size_out, size_batch = (math.prod(shape[i] for i in axes) for axes in (ins, outs, batch))
    if set(ins) & set(outs):
        # jax.nn's arithmetic, on which Flax's `Embed` default (out_axis=0 on a 2-D table) relies:
        # fan_in = size / (out · batch), fan_out = size / (in · batch).
        size = math.prod(shape)
        fan_in = size // (size_out * size_batch) if size else 0
        fan_out = size // (size_in * size_batch) if size else 0
        return fan_in, fan_out
    receptive_field = math.prod(d for i, d in enumerate(shape) if i not in set(ins) | set(outs) | set(batch))
    fan_in = size_in * receptive_field
    fan_out = size_out * receptive_field
    return fan_in, fan_out
