"""Type aliases shared by the library's modules."""

from collections.abc import Sequence
from typing import Literal, TypeAlias

import jax
from jax.typing import ArrayLike, DTypeLike

Array: TypeAlias = jax.Array
Shape: TypeAlias = Sequence[int]
Axes: TypeAlias = int | Sequence[int]
Sharding: TypeAlias = jax.sharding.Sharding | jax.sharding.PartitionSpec | None
Mode: TypeAlias = Literal["fan_in", "fan_out", "fan_avg", "fan_geo_avg"]
Family: TypeAlias = Literal["truncated_normal", "normal", "uniform"]

__all__ = ["Array", "ArrayLike", "Axes", "DTypeLike", "Family", "Mode", "Shape", "Sharding"]
