"""Where an initializer's output lands: the sharding the user wrote, checked, and applied by JAX's own means.

A user writes a sharding three ways: a `NamedSharding` on an Auto mesh, a
`NamedSharding` on an Explicit (or mixed) mesh, or a bare `PartitionSpec` inside
`with jax.set_mesh(mesh)`. `resolve` turns each into one `Sharding` and checks it
against the shape; `place` generates under it, so that each device computes only
its own shards: `with_sharding_constraint` when every named axis is Auto, and
`jax.sharding.auto_axes` (as `jax.random`'s own `out_sharding` does) when some are
Explicit, since a constraint only accepts Auto axes.
"""

import contextlib
import math
from collections.abc import Callable, Iterator

import jax
from jax.sharding import AbstractMesh, AxisType, NamedSharding, PartitionSpec

from .typing import Array, Sharding


def spec_axes(entry: object) -> tuple[str, ...]:
    """The mesh axes one entry of a PartitionSpec names."""
    if entry is None or entry is PartitionSpec.UNCONSTRAINED:
        return ()
    return (entry,) if isinstance(entry, str) else tuple(entry)  # type: ignore[arg-type]


def resolve(value: Sharding, shape: tuple[int, ...], what: str = "`out_sharding`") -> jax.sharding.Sharding | None:
    """Returns the `Sharding` that `value` names for an array of `shape`, or None for the default placement.

    Raises:
      TypeError: if `value` is not a Sharding, a PartitionSpec or None.
      ValueError: for a bare PartitionSpec or an abstract-mesh sharding outside a mesh, or a sharding that
        does not divide `shape`.
    """
    if value is None:
        return None
    if isinstance(value, PartitionSpec):
        mesh = jax.sharding.get_abstract_mesh()
        if mesh.empty:
            raise ValueError(
                f"{what} {value} is a bare PartitionSpec outside a mesh; call inside `with jax.set_mesh(mesh):` "
                "or pass NamedSharding(mesh, spec)."
            )
        value = NamedSharding(mesh, value)
    elif not isinstance(value, jax.sharding.Sharding):
        raise TypeError(f"{what} must be a jax.sharding.Sharding, a PartitionSpec or None; got {value!r}.")
    elif (
        isinstance(value, NamedSharding)
        and isinstance(value.mesh, jax.sharding.AbstractMesh)
        and jax.sharding.get_abstract_mesh().empty
    ):
        raise ValueError(
            f"{what} {value.spec} is on an abstract mesh (as `eval_shape` gives) with no mesh set; call inside "
            "`with jax.set_mesh(mesh):`."
        )
    if isinstance(value, NamedSharding) and any(e is PartitionSpec.UNCONSTRAINED for e in value.spec):
        raise ValueError(
            f"{what} {value.spec} leaves a dim UNCONSTRAINED, which says nothing of where its values go; name a "
            "mesh axis or None for each dim."
        )
    _check_fits(value, shape, what)
    return value


def for_call(key: Array, out_sharding: Sharding, shape: tuple[int, ...]) -> jax.sharding.Sharding | None:
    """The sharding a call's `out_sharding` names for `shape` (`resolve`), once `key` is checked to be placeable
    there (`check_key`): the placement part of every random initializer's call."""
    sharding = resolve(out_sharding, shape)
    check_key(key, sharding)
    return sharding


def following(key: Array) -> jax.sharding.Sharding | None:
    """Where a leaf drawn eagerly from `key` goes when no sharding is asked for: a committed key's devices, the leaf
    replicated there, as a `jit` of the direct call places it; None for an uncommitted key (the default device)."""
    if isinstance(key, jax.core.Tracer) or not getattr(key, "committed", False):
        return None
    sharding = key.sharding
    if isinstance(sharding, NamedSharding):
        return NamedSharding(sharding.mesh, PartitionSpec(), memory_kind=sharding.memory_kind)
    return sharding if len(sharding.device_set) == 1 else None


def check_key(key: Array, sharding: jax.sharding.Sharding | None) -> None:
    """Refuses a key committed to other devices than `sharding`'s (one local device, say), which `jit` cannot mix.

    An uncommitted key, or one replicated over the sharding's devices (in a multi-process
    run, a global array), is what each device's shard is drawn from.
    """
    if sharding is None or isinstance(key, jax.core.Tracer) or not getattr(key, "committed", False):
        return
    try:
        wanted = sharding.device_set
    except (AttributeError, ValueError):  # an abstract mesh names no devices
        return
    held = key.sharding.device_set
    if held != wanted:
        ids = sorted(d.id for d in held)  # type: ignore[attr-defined]
        raise ValueError(
            f"`key` is committed to device{'s' if len(ids) > 1 else ''} {ids} but the output spans {len(wanted)} "
            "devices; pass an uncommitted key such as jax.random.key(seed), or one replicated over the mesh with "
            "jax.device_put(key, NamedSharding(mesh, P()))."
        )


def _check_fits(sharding: jax.sharding.Sharding, shape: tuple[int, ...], what: str) -> None:
    if not isinstance(sharding, NamedSharding):
        try:
            sharding.shard_shape(shape)
        except (ValueError, IndexError, TypeError):
            raise ValueError(f"{what} {sharding} does not fit `shape` {shape}.") from None
        return
    spec = sharding.spec
    if len(spec) > len(shape):
        raise ValueError(f"{what} {spec} has {len(spec)} entries, more than the {len(shape)} dims of `shape` {shape}.")
    for dim, ways in zip(shape, _ways(sharding, len(shape)), strict=True):
        if dim % ways:
            raise ValueError(
                f"{what} {spec} does not divide `shape` {shape}: a dim of {dim} cannot be split {ways} ways."
            )


def shard_shape(sharding: jax.sharding.Sharding | None, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape of one device's shard of an array of `shape` laid out on `sharding`."""
    if sharding is None:
        return shape
    if not isinstance(sharding, NamedSharding):
        return tuple(sharding.shard_shape(shape))
    return tuple(dim // ways for dim, ways in zip(shape, _ways(sharding, len(shape)), strict=True))


def _ways(sharding: NamedSharding, rank: int) -> list[int]:
    """How many ways `sharding` splits each of `rank` dims (1 past the end of its spec)."""
    sizes = dict(sharding.mesh.shape)
    ways = [math.prod(sizes[axis] for axis in spec_axes(entry)) for entry in sharding.spec]
    return ways + [1] * (rank - len(ways))


def explicit_context() -> bool:
    """Whether the context mesh (`jax.set_mesh`) has an axis of type Explicit."""
    mesh = jax.sharding.get_abstract_mesh()
    return not mesh.empty and AxisType.Explicit in mesh.axis_types


def explicit_axes(sharding: jax.sharding.Sharding | None) -> tuple[str, ...]:
    """The mesh axes of `sharding` that are of type Explicit."""
    if not isinstance(sharding, NamedSharding):
        return ()
    mesh = sharding.mesh
    return tuple(name for name, kind in zip(mesh.axis_names, mesh.axis_types, strict=True) if kind == AxisType.Explicit)


def stacked(sharding: jax.sharding.Sharding | None) -> jax.sharding.Sharding | None:
    """The sharding of a stack of arrays each laid out on `sharding`, stacked along a new leading axis."""
    if isinstance(sharding, NamedSharding):
        return NamedSharding(sharding.mesh, PartitionSpec(None, *sharding.spec))
    return sharding


def settle(out: Array, sharding: jax.sharding.Sharding | None) -> Array:
    """`out` on exactly `sharding`, its memory kind included: checked after placement, and moved where the draw
    left it elsewhere.

    Two cases need the move. A combined entry of an Explicit and an Auto axis on a mixed mesh
    (`P(('a', 'b'))` on a 1-D leaf): `auto_axes` keeps only the Explicit part, so each device
    would hold 4x its shard. And a host memory kind (`pinned_host`): the library computes on
    the device, as `jit(..., out_shardings=)` does, and the result goes where it was asked to.
    Under a trace only the memory kind is moved; the caller's `jit` places the rest.
    """
    if sharding is None or (isinstance(sharding, NamedSharding) and isinstance(sharding.mesh, AbstractMesh)):
        return out  # an abstract mesh's arrays are placed on the mesh set around the call, which they match
    kind = sharding.memory_kind
    if isinstance(out, jax.core.Tracer):
        moves = kind is not None and kind != _default_kind(sharding)
        return jax.device_put(out, sharding) if moves else out
    if out.sharding.is_equivalent_to(sharding, out.ndim) and (kind is None or out.sharding.memory_kind == kind):
        return out
    return jax.device_put(out, sharding)


def _default_kind(sharding: jax.sharding.Sharding) -> str | None:
    device = next(iter(sharding.device_set))
    try:
        return device.default_memory().kind  # type: ignore[attr-defined]
    except Exception:  # a platform that has no memories API
        return None


def place(fn: Callable[..., Array], sharding: jax.sharding.Sharding | None, *args) -> Array:
    """Returns `fn(*args)` laid out on `sharding`, computed shard by shard; call it inside a traced function."""
    if sharding is None:
        return fn(*args)
    explicit = explicit_axes(sharding)
    if not explicit or not isinstance(sharding, NamedSharding):
        return jax.lax.with_sharding_constraint(fn(*args), sharding)
    # Inside `auto_axes` every axis is Auto, so the constraint may name them all; the
    # result's type keeps the Explicit ones, as `jax.random`'s `out_sharding` does.
    spec = PartitionSpec(*sharding.spec)
    typed = PartitionSpec(*(tuple(a for a in spec_axes(e) if a in explicit) or None for e in spec))

    def generate(*inner):
        return jax.lax.with_sharding_constraint(fn(*inner), spec)

    return jax.sharding.auto_axes(generate, axes=explicit, out_sharding=NamedSharding(sharding.mesh, typed))(*args)


@contextlib.contextmanager
def entered(sharding: jax.sharding.Sharding | None) -> Iterator[None]:
    """Enters the mesh of an Explicit `sharding` around an eager call when no mesh is set, as `jit` needs one.

    Under a trace `jax.set_mesh` refuses; there the caller's own `jit` needs a mesh
    context or `out_shardings`, exactly as for `jax.random` with that sharding.
    """
    mesh = getattr(sharding, "mesh", None)
    with contextlib.ExitStack() as stack:
        if isinstance(mesh, jax.sharding.Mesh) and explicit_axes(sharding) and jax.sharding.get_abstract_mesh().empty:
            try:
                stack.enter_context(jax.set_mesh(mesh))
            except ValueError:
                pass
        yield
