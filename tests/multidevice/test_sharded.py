"""Sharded init on every kind of mesh and every way a user writes a sharding: placement, values, memory, errors."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import AxisType, NamedSharding
from jax.sharding import PartitionSpec as P

import jax_weightinit as wi
from jax_weightinit import presets, pytorch

MESHES = {
    "Auto mesh": (AxisType.Auto, AxisType.Auto),
    "Explicit mesh": (AxisType.Explicit, AxisType.Explicit),
    "mixed Explicit and Auto mesh": (AxisType.Explicit, AxisType.Auto),
}

INITS = {
    "he_normal": wi.he_normal(),
    "glorot_uniform": wi.glorot_uniform(),
    "truncated_normal far tail": wi.truncated_normal(1.0, lower=5.0, upper=6.0),
    "he (tutorial)": wi.he(),
    "pytorch.kaiming_uniform": pytorch.kaiming_uniform(),
    "presets.equinox_linear": presets.equinox_linear(),
    "orthogonal": wi.orthogonal(),
    "identity": wi.identity(),
    "constant": wi.constant(3.0),
    "zeros": wi.zeros,
}

SPEC = P("data", "model")
SHAPE = (512, 256)


def mesh_of(kind):
    return jax.make_mesh((2, 4), ("data", "model"), axis_types=MESHES[kind])


def draw_eager(init, key, mesh):
    return init(key, SHAPE, out_sharding=NamedSharding(mesh, SPEC))


def draw_under_jit(init, key, mesh):
    with jax.set_mesh(mesh):
        return jax.jit(lambda k: init(k, SHAPE, out_sharding=NamedSharding(mesh, SPEC)))(key)


def draw_bare_spec(init, key, mesh):
    with jax.set_mesh(mesh):
        return init(key, SHAPE, out_sharding=SPEC)


def draw_bare_spec_under_jit(init, key, mesh):
    with jax.set_mesh(mesh):
        return jax.jit(lambda k: init(k, SHAPE, out_sharding=SPEC))(key)


def draw_outer_out_shardings(init, key, mesh):
    sharding = NamedSharding(mesh, SPEC)
    return jax.jit(lambda k: init(k, SHAPE, out_sharding=sharding), out_shardings=sharding)(key)


CALLS = {
    "eager with a NamedSharding": draw_eager,
    "under jit in a mesh context": draw_under_jit,
    "with a bare spec under set_mesh": draw_bare_spec,
    "under jit with a bare spec under set_mesh": draw_bare_spec_under_jit,
    "under jit with out_shardings": draw_outer_out_shardings,
}


def test_all_eight_devices_are_there():
    assert jax.device_count() == 8


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("init_name", INITS)
@pytest.mark.parametrize("mesh_kind", MESHES)
def test_lands_on_the_sharding_with_the_unsharded_values(mesh_kind, init_name, call, key):
    init, mesh = INITS[init_name], mesh_of(mesh_kind)
    w = CALLS[call](init, key, mesh)
    assert w.sharding.is_equivalent_to(NamedSharding(mesh, SPEC), 2), w.sharding
    assert {s.data.shape for s in w.addressable_shards} == {(256, 64)}
    chex.assert_trees_all_equal(np.asarray(w), np.asarray(init(key, SHAPE)))


def test_on_an_explicit_mesh_the_sharding_is_part_of_the_type(key):
    specs = []

    def init(k):
        w = wi.he_normal()(k, SHAPE, out_sharding=SPEC)
        specs.append(jax.typeof(w).sharding.spec)
        return w

    with jax.set_mesh(mesh_of("Explicit mesh")):
        w = jax.jit(init)(key)
    assert specs == [SPEC] and jax.typeof(w).sharding.spec == SPEC


@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float16, jnp.complex64])
@pytest.mark.parametrize("mesh_kind", MESHES)
def test_low_precision_and_complex_dtypes(mesh_kind, dtype, key):
    init = wi.normal(0.5)
    w = init(key, SHAPE, dtype, out_sharding=NamedSharding(mesh_of(mesh_kind), SPEC))
    assert w.dtype == dtype and {s.data.shape for s in w.addressable_shards} == {(256, 64)}
    chex.assert_trees_all_equal(np.asarray(w), np.asarray(init(key, SHAPE, dtype)))


BAD = [
    ("a spec that does not divide the shape", (63, 95), SPEC, "does not divide `shape` \\(63, 95\\)"),
    ("a spec longer than the shape", (64,), SPEC, "has 2 entries, more than the 1 dims"),
]


@pytest.mark.parametrize("mesh_kind", MESHES)
@pytest.mark.parametrize(("case", "shape", "spec", "match"), BAD, ids=[row[0] for row in BAD])
def test_a_sharding_that_does_not_fit_is_an_error_naming_shape_and_spec(mesh_kind, case, shape, spec, match, key):
    with pytest.raises(ValueError, match=f"`out_sharding` P\\('data', 'model'\\) {match}"):
        wi.he_normal()(key, shape, out_sharding=NamedSharding(mesh_of(mesh_kind), spec))


def test_a_bare_spec_outside_a_mesh_is_an_error(key):
    with pytest.raises(ValueError, match="bare PartitionSpec outside a mesh; call inside `with jax.set_mesh"):
        wi.he_normal()(key, SHAPE, out_sharding=SPEC)


@pytest.mark.parametrize("mesh_kind", ["Auto mesh", "Explicit mesh"])
def test_each_device_generates_only_its_shards(mesh_kind, key):
    mesh = mesh_of(mesh_kind)
    shape = (1024, 512)
    with jax.set_mesh(mesh):
        compiled = jax.jit(lambda k: wi.he_normal()(k, shape, out_sharding=SPEC)).lower(key).compile()
    memory = compiled.memory_analysis()
    full_bytes = 1024 * 512 * 4
    assert memory.output_size_in_bytes == full_bytes // 8
    # A replicated generator would hold the full array's bits and floats on every device.
    assert memory.temp_size_in_bytes < full_bytes, memory


def test_vmap_over_keys_under_a_mesh(key):
    mesh = mesh_of("Auto mesh")
    keys = jax.random.split(key, 8)
    rows = jax.jit(
        jax.vmap(lambda k: wi.he_normal()(k, (64, 64))), out_shardings=NamedSharding(mesh, P(("data", "model")))
    )(keys)
    for i in range(8):
        chex.assert_trees_all_equal(rows[i], wi.he_normal()(keys[i], (64, 64)))


# Shards larger than a few MiB of bits are drawn in row blocks on each device; the values
# must still be the unsharded draw's, bit for bit (see test_initializers.py for why U[0, 1)).
BLOCKED_SPECS = [P("data", None), P(None, ("data", "model")), P("model", "data")]


LARGE = (8192, 4096)


@pytest.fixture(scope="module")
def large_uniform():
    """A key and the unsharded U[0, 1) draw of `LARGE` at it as uint32 bit patterns, drawn once for the module."""
    key = jax.random.key(3)
    return key, np.asarray(jax.random.uniform(key, LARGE) + jnp.float32(2.0**-24)).view(np.uint32)


@pytest.mark.parametrize("spec", BLOCKED_SPECS, ids=str)
@pytest.mark.parametrize("mesh_kind", MESHES)
def test_large_shards_drawn_in_blocks_keep_every_bit(mesh_kind, spec, large_uniform):
    (key, want), mesh = large_uniform, mesh_of(mesh_kind)
    eager = wi.uniform(1.0)(key, LARGE, out_sharding=NamedSharding(mesh, spec))
    with jax.set_mesh(mesh):
        jitted = jax.jit(lambda k: wi.uniform(1.0)(k, LARGE, out_sharding=spec))(key)
    for w in (eager, jitted):
        assert w.sharding.is_equivalent_to(NamedSharding(mesh, spec), 2)
        # Bit patterns compared with NumPy: chex's tree comparison takes ~1 s on 32 M elements.
        assert np.array_equal(np.asarray(w).view(np.uint32), want)


def test_the_jax_19893_array_needs_less_than_its_shard_in_temporaries(key):
    # One 32768 x 262144 float32 lecun_normal sharded 8 ways: 4 GiB a device. Compiled, not run.
    mesh = jax.make_mesh((8,), ("x",))
    shape, share = (32768, 262144), 32768 * 262144 * 4 // 8
    with jax.set_mesh(mesh):
        compiled = jax.jit(lambda k: wi.lecun_normal()(k, shape, out_sharding=P(None, "x"))).lower(key).compile()
    memory = compiled.memory_analysis()
    assert memory.output_size_in_bytes == share
    assert memory.temp_size_in_bytes < share / 8, memory


@pytest.mark.parametrize("mesh_kind", ["Auto mesh", "Explicit mesh"])
def test_jit_out_shardings_alone_still_draws_only_local_shards(mesh_kind, key):
    # No out_sharding for the initializer: the layout comes from the caller's jit alone, so the
    # draw must stay one the partitioner can split (a block loop would be drawn whole on each device).
    mesh, shape = mesh_of(mesh_kind), (8192, 4096)
    sharding = NamedSharding(mesh, SPEC)
    jitted = jax.jit(lambda k: wi.he_normal()(k, shape), out_shardings=sharding)
    memory = jitted.lower(key).compile().memory_analysis()
    assert memory.temp_size_in_bytes < 8192 * 4096 * 4 // 2, memory
    chex.assert_trees_all_equal(np.asarray(jitted(key)), np.asarray(wi.he_normal()(key, shape)))


@pytest.mark.parametrize("mesh_kind", MESHES)
def test_a_key_committed_to_one_device_is_refused_and_a_replicated_one_draws(mesh_kind, key):
    """jit cannot mix a key on device 0 with an 8-device output; the error says which key to pass instead."""
    mesh = mesh_of(mesh_kind)
    sharding = NamedSharding(mesh, SPEC)
    committed = jax.device_put(key, jax.devices()[0])
    tree = {"w": jax.ShapeDtypeStruct(SHAPE, jnp.float32, sharding=sharding)}
    calls = [
        lambda k: wi.he_normal()(k, SHAPE, out_sharding=sharding),
        lambda k: wi.orthogonal()(k, SHAPE, out_sharding=sharding),
        lambda k: wi.init_tree(k, tree, [("w", wi.he_normal())])["w"],
    ]
    replicated = jax.device_put(key, NamedSharding(mesh, P()))
    for call in calls:
        with pytest.raises(ValueError, match=r"^`key` is committed to device \[0\] but the output spans 8 devices; "):
            call(committed)
        chex.assert_trees_all_equal(np.asarray(call(replicated)), np.asarray(call(key)))


@pytest.mark.parametrize("mesh_kind", MESHES)
def test_shards_compile_per_platform_through_export(mesh_kind):
    """On a mesh too: 8 MiB shards are blocked for CPU and drawn whole for GPU/TPU; 4 GiB shards block everywhere."""
    mesh = mesh_of(mesh_kind)
    sharding = NamedSharding(mesh, P("data", "model"))

    def loops(shape, platform):
        f = jax.jit(lambda seed: wi.he_normal()(jax.random.key(seed), shape, out_sharding=sharding))
        with jax.set_mesh(mesh):
            exported = jax.export.export(f, platforms=(platform,))(jax.ShapeDtypeStruct((), jnp.uint32))
        return exported.mlir_module().count("stablehlo.while")

    assert [loops((4096, 4096), p) for p in ("cpu", "cuda", "tpu")] == [2, 0, 0]  # CPU: threefry's loop + blocks
    assert [loops((131072, 65536), p) for p in ("cuda", "tpu")] == [1, 1]  # the jax#19893 scale: 4 GiB shards
