"""Every elementwise random initializer samples exactly its stated law, in every dtype."""

import contextlib
import math
import re

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from registry import DTYPES, FAN_SCALED, LAYOUTS, random_cases

import jax_weightinit as wi
from jax_weightinit import testing
from jax_weightinit._src import blocks, sampling

CASES = list(random_cases())


def dtype_context(dtype):
    if dtype == "float64 (x64)":
        return jax.enable_x64(True), jnp.float64
    return contextlib.nullcontext(), dtype


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: getattr(d, "__name__", d))
@pytest.mark.parametrize(("case", "init", "shape"), CASES, ids=[c[0] for c in CASES])
def test_samples_follow_the_stated_law(case, init, shape, dtype, key):
    context, dtype = dtype_context(dtype)
    with context:
        testing.assert_follows(init, key, shape, dtype)


# One case per sampling path (uniform, normal, central/upper/lower truncated) and per layout.
DETERMINISM = [c for c in CASES if c[0].startswith("he_normal on") or c[0].endswith("on dense")]


@pytest.mark.parametrize(("case", "init", "shape"), DETERMINISM, ids=[c[0] for c in DETERMINISM])
def test_jit_vmap_and_eager_agree(case, init, shape, key):
    eager = init(key, shape, jnp.float32)
    jitted = jax.jit(init, static_argnums=(1, 2))(key, shape, jnp.float32)
    keys = jax.random.split(key, 3)
    batched = jax.vmap(lambda k: init(k, shape, jnp.float32))(keys)
    chex.assert_trees_all_equal(eager, jitted)
    for i in range(3):
        chex.assert_trees_all_equal(batched[i], init(keys[i], shape, jnp.float32))


SHARED_WITH_JAX = ["glorot_uniform", "glorot_normal", "lecun_uniform", "lecun_normal", "he_uniform", "he_normal"]


@pytest.mark.parametrize("name", SHARED_WITH_JAX)
@pytest.mark.parametrize(("layout", "shape", "axes"), LAYOUTS, ids=[row[0] for row in LAYOUTS])
def test_law_is_jax_nn_law(name, layout, shape, axes, key):
    """jax.nn's float32 samples follow our stated law, so the two laws are one."""
    ours = getattr(wi, name)(**axes)
    theirs = getattr(jax.nn.initializers, name)(**axes)
    testing.assert_follows(theirs, key, shape, jnp.float32, law=ours.distribution(shape))
    testing.assert_same_distribution(ours(key, shape, jnp.float32), theirs(jax.random.fold_in(key, 1), shape))


@pytest.mark.parametrize(
    ("factory", "jax_factory", "args"),
    [
        (wi.uniform, jax.nn.initializers.uniform, (0.7,)),
        (wi.normal, jax.nn.initializers.normal, (0.7,)),
        (wi.truncated_normal, jax.nn.initializers.truncated_normal, (0.7,)),
    ],
    ids=["uniform", "normal", "truncated_normal"],
)
def test_fixed_laws_are_jax_nn_laws(factory, jax_factory, args, key):
    testing.assert_follows(jax_factory(*args), key, (512, 512), jnp.float32, law=factory(*args).distribution((1,)))


def test_seed_tutorial_numbers_are_exact():
    shape = (10, 20)
    assert wi.xavier().distribution(shape).low == -0.31622776601683794
    assert wi.xavier().distribution(shape).high == 0.31622776601683794
    assert wi.normalized_xavier().distribution(shape).high == 0.44721359549995787
    assert wi.he().distribution(shape).std == 0.4472135954999579
    assert wi.he().distribution(shape).family == "normal"


def test_truncated_normal_far_tail(key):
    init = wi.truncated_normal(1.0, lower=5.0, upper=6.0)
    law = init.distribution((1,))
    assert abs(law.mean - 5.1831) < 1e-4
    w = np.asarray(init(key, (1_000_000,)))
    # The law is inside (5, 6); in float32 a few draws within half an ulp of 5 round to 5.0 itself.
    assert w.min() >= 5.0 and w.max() <= 6.0
    assert abs(w.mean() - 5.1831) < 0.01


@pytest.mark.parametrize(
    ("family", "bound"), [("normal", None), ("uniform", np.sqrt(2.0)), ("truncated_normal", 2.0 / 0.9619616)]
)
@pytest.mark.parametrize("dtype", [jnp.complex64, "complex128 (x64)"], ids=["complex64", "complex128"])
def test_complex_variance_scaling(family, bound, dtype, key):
    context = jax.enable_x64(True) if dtype == "complex128 (x64)" else contextlib.nullcontext()
    dtype = jnp.complex128 if dtype == "complex128 (x64)" else dtype
    with context:
        init = wi.variance_scaling(2.0, "fan_in", family)
        w = init(key, (256, 1024), dtype)
        chex.assert_type(w, dtype)
        std = np.sqrt(2.0 / 256)
        modulus = np.abs(np.asarray(w))
        testing.assert_moments(modulus**2, mean=std**2, std=float(np.std(modulus**2)))
        testing.assert_moments(np.asarray(w).real, mean=0.0, std=float(np.std(np.asarray(w).real)))
        if bound is not None:
            assert modulus.max() <= bound * std * (1 + 1e-6)


def test_complex_truncated_normal_fixes_jax_constant(key):
    """jax.nn's complex truncated normal overshoots E|z|² by 1.9%; ours does not, and the check sees it."""
    shape = (256, 1024)
    ours = np.abs(np.asarray(wi.he_normal()(key, shape, jnp.complex64))) ** 2
    theirs = np.abs(np.asarray(jax.nn.initializers.he_normal()(key, shape, jnp.complex64))) ** 2
    testing.assert_moments(ours, mean=2.0 / 256, std=float(np.std(ours)))
    with pytest.raises(AssertionError, match="sample mean"):
        testing.assert_moments(theirs, mean=2.0 / 256, std=float(np.std(theirs)))


def test_complex_mean_square_is_checked(key):
    """Twin of the complex test: a 5% std error in the modulus is caught."""
    w = wi.variance_scaling(2.0 * 1.05**2, "fan_in", "normal")(key, (256, 1024), jnp.complex64)
    modulus2 = np.abs(np.asarray(w)) ** 2
    with pytest.raises(AssertionError, match="sample mean"):
        testing.assert_moments(modulus2, mean=2.0 / 256, std=float(np.std(modulus2)))


@pytest.mark.parametrize("impl", ["threefry2x32", "rbg", "unsafe_rbg"])
def test_typed_keys_of_every_impl(impl):
    w = wi.he_normal()(jax.random.key(0, impl=impl), (128, 128))
    chex.assert_shape(w, (128, 128))
    chex.assert_tree_all_finite(w)


def test_legacy_uint32_keys_give_the_same_values_as_typed_keys():
    legacy = wi.glorot_uniform()(jax.random.PRNGKey(3), (8, 8))
    typed = wi.glorot_uniform()(jax.random.key(3), (8, 8))
    chex.assert_trees_all_equal(legacy, typed)


def test_default_dtype_is_the_default_float(key):
    chex.assert_type(wi.he_normal()(key, (4, 4)), jnp.float32)
    chex.assert_type(wi.he_normal(dtype=jnp.bfloat16)(key, (4, 4)), jnp.bfloat16)
    with jax.enable_x64(True):
        chex.assert_type(wi.he_normal()(key, (4, 4)), jnp.float64)


@pytest.mark.parametrize("shape", [(0, 5), (3, 0), (0, 3, 3, 8)])
def test_zero_size_shapes(shape, key):
    w = wi.he_normal()(key, shape, jnp.bfloat16)
    chex.assert_shape(w, shape)
    chex.assert_type(w, jnp.bfloat16)


def test_initializers_are_hashable_immutable_and_static(key):
    a, b = wi.he_normal(), wi.he_normal()
    assert a == b and hash(a) == hash(b) and a != wi.he_uniform()
    with pytest.raises(AttributeError):
        a.scale = 3.0
    chex.assert_trees_all_equal(jax.jit(lambda k, init: init(k, (4, 4)), static_argnums=1)(key, a), a(key, (4, 4)))
    assert isinstance(a, jax.nn.initializers.Initializer)


def test_low_precision_has_full_resolution(key):
    """jax.random.normal gives 128 levels in bfloat16; rounding a float32 draw gives thousands."""
    ours = np.asarray(wi.normal(1.0)(key, (200_000,), jnp.bfloat16).astype(jnp.float32))
    theirs = np.asarray(jax.nn.initializers.normal(1.0)(key, (200_000,), jnp.bfloat16).astype(jnp.float32))
    assert len(np.unique(ours)) > 1000 > len(np.unique(theirs))
    assert np.abs(ours).max() > 3.5


def test_bfloat16_is_float32_rounded_once(key):
    init = wi.he_normal()
    chex.assert_trees_all_equal(
        init(key, (64, 64), jnp.bfloat16), init(key, (64, 64), jnp.float32).astype(jnp.bfloat16)
    )


def test_out_sharding_keeps_values(key):
    sharding = jax.sharding.NamedSharding(jax.sharding.Mesh(jax.devices()[:1], ("x",)), jax.sharding.PartitionSpec("x"))
    w = wi.he_normal()(key, (64, 32), out_sharding=sharding)
    assert w.sharding.is_equivalent_to(sharding, w.ndim)
    chex.assert_trees_all_equal(w, wi.he_normal()(key, (64, 32)))


# Values pinned for jax.random.key(0): a change to any sampler fails here on purpose.
GOLDEN = {
    "he_normal": (wi.he_normal(), [1.1704057455062866, 1.3784399032592773, -0.331738144159317]),
    "glorot_uniform": (wi.glorot_uniform(), [0.6330968141555786, 0.6768141984939575, -0.2371755689382553]),
    "he": (wi.he(), [1.14738130569458, 1.4320787191390991, -0.30659744143486023]),
    "truncated_normal [5, 6]": (
        wi.truncated_normal(1.0, lower=5.0, upper=6.0),
        [5.530826091766357, 5.670825958251953, 5.076992511749268],
    ),
}


@pytest.mark.parametrize("name", list(GOLDEN))
def test_golden_values(name):
    init, expected = GOLDEN[name]
    w = init(jax.random.key(0), (4, 8), jnp.float32)
    np.testing.assert_array_equal(np.asarray(w).ravel()[:3], np.asarray(expected, np.float32))


@pytest.mark.parametrize("name", list(FAN_SCALED))
def test_laws_scale_with_fans(name):
    """The std of each fan-scaled law matches its formula for a conv kernel."""
    law = FAN_SCALED[name]().distribution((3, 3, 64, 128))
    fan_in, fan_out = 576, 1152
    expected = {
        "glorot_uniform": (2 / (fan_in + fan_out)) ** 0.5,
        "glorot_normal": (2 / (fan_in + fan_out)) ** 0.5,
        "lecun_uniform": (1 / fan_in) ** 0.5,
        "lecun_normal": (1 / fan_in) ** 0.5,
        "he_uniform": (2 / fan_in) ** 0.5,
        "he_normal": (2 / fan_in) ** 0.5,
        "variance_scaling(0.5, fan_geo_avg, normal)": (0.5 / (fan_in * fan_out) ** 0.5) ** 0.5,
        "variance_scaling(3, fan_out, truncated_normal)": (3 / fan_out) ** 0.5,
        "xavier": (1 / (3 * fan_in)) ** 0.5,
        "normalized_xavier": (2 / (fan_in + fan_out)) ** 0.5,
        "he": (2 / fan_in) ** 0.5,
    }[name]
    assert law.std == pytest.approx(expected, rel=1e-12)


# Arrays whose bits exceed a few MiB are drawn in row blocks; the blocks must reproduce the
# whole-array bits exactly. U[0, 1) makes that checkable bit for bit against jax.random:
# its value is the midpoint (m + 1/2)·2^-23 of jax.random.uniform's m·2^-23, exactly.
BLOCKED_SHAPES = [(4096, 2048), (4099, 2053), (40000, 300), (3, 2048, 1100), (5_000_001,)]


@pytest.mark.parametrize("mode", ["eager", "under jit", "under vmap"])
@pytest.mark.parametrize("shape", BLOCKED_SHAPES, ids=str)
def test_large_arrays_drawn_in_blocks_keep_every_bit(shape, mode, key):
    def init(k):
        return wi.uniform(1.0)(k, shape)

    keys = jax.random.split(key, 2)
    if mode == "under vmap":
        got, want = jax.vmap(init)(keys)[1], jax.random.uniform(keys[1], shape)
    else:
        got, want = (init(key) if mode == "eager" else jax.jit(init)(key)), jax.random.uniform(key, shape)
    chex.assert_trees_all_equal(got, want + jnp.float32(2.0**-24))


def test_blocked_draw_twin_a_shifted_block_is_caught(key):
    shape = (4096, 2048)
    w = wi.uniform(1.0)(key, shape)
    reference = jax.random.uniform(key, shape) + jnp.float32(2.0**-24)
    shifted = jnp.roll(reference, 1, axis=0)
    assert not np.array_equal(w, shifted)


def test_large_array_temporaries_stay_below_the_output(key):
    shape = (8192, 4096)
    memory = jax.jit(lambda k: wi.he_normal()(k, shape)).lower(key).compile().memory_analysis()
    # Drawn whole, the counters and threefry state alone take three times the output.
    assert memory.temp_size_in_bytes <= 8192 * 4096 * 4 // 2, memory


def _widest_float32(fn, key) -> int:
    """The most elements of any float32 array in `fn`'s compiled program."""
    text = jax.jit(fn).lower(key).compile().as_text()
    shapes = re.findall(r"f32\[([\d,]*)\]", text)
    return max((math.prod(int(n) for n in shape.split(",") if n) for shape in shapes), default=0)


# (loop, a bfloat16 draw of 2^21 elements it makes in steps): the loops that write a draw into its output a step at
# a time.
NARROW_LOOPS = [
    ("row blocks", lambda k: wi.glorot_uniform()(k, (2048, 1024), jnp.bfloat16)),
    (
        "keys in turn",
        lambda k: jax.vmap(lambda k: wi.he_normal()(k, (512, 1024), jnp.bfloat16))(jax.random.split(k, 4)),
    ),
    ("one layer at a time", lambda k: blocks.draw_by_layer(k, (4, 512, 1024), lambda b: b.astype(jnp.bfloat16))),
]


@pytest.mark.parametrize(("loop", "draw"), NARROW_LOOPS, ids=[row[0] for row in NARROW_LOOPS])
def test_loops_write_bfloat16_without_widening_the_output(loop, draw, key):
    """XLA:CPU widens bfloat16 to float32 around an in-place write, the whole buffer at every step: the loops write
    the values' bits, so no float32 array is as large as the output."""
    assert _widest_float32(draw, key) < 2**21


@pytest.mark.parametrize(("loop", "draw"), NARROW_LOOPS, ids=[row[0] for row in NARROW_LOOPS])
def test_loops_writing_bfloat16_twin_a_float32_buffer_is_caught(loop, draw, key, monkeypatch):
    monkeypatch.setattr(blocks, "stored_dtype", lambda dtype: np.dtype(np.float32))
    monkeypatch.setattr(blocks, "stored", lambda values: values.astype(jnp.float32))
    monkeypatch.setattr(blocks, "loaded", lambda buffer, dtype: buffer.astype(dtype))
    with _fresh_programs():
        assert _widest_float32(draw, key) >= 2**21


# XLA:CPU as jax 0.9.1 and 0.10 ship it widens a bfloat16 buffer written in place; jax 0.11.2 and 0.12.1 do not.
XLA_WIDENS_BFLOAT16_WRITES = jax.__version_info__ < (0, 11)


@pytest.mark.parametrize(("loop", "draw"), NARROW_LOOPS, ids=[row[0] for row in NARROW_LOOPS])
def test_loops_writing_bfloat16_as_floats_widen_where_xla_does(loop, draw, key, monkeypatch):
    """Why the loops write bits: the same loops writing the floats themselves."""
    monkeypatch.setattr(blocks, "stored_dtype", np.dtype)
    with _fresh_programs():
        assert (_widest_float32(draw, key) >= 2**21) == XLA_WIDENS_BFLOAT16_WRITES


def _bits_written_out(init, key) -> list[str]:
    """The draw-sized arrays of 32-bit words that `init`'s compiled program writes out in its entry computation,
    outside the conditional its law is computed in."""
    text = jax.jit(lambda k: init(k, (512, 1024))).lower(key).compile().as_text()
    return re.findall(r"%\S+ = u32\[512,1024\]", text[text.index("ENTRY") :])


@pytest.mark.parametrize("impl", ["rbg", "unsafe_rbg"])
@pytest.mark.parametrize("name", ["glorot_uniform", "he_normal"])
def test_rbg_bits_are_made_inside_the_laws_loop(impl, name):
    """Bits not counted per element are not drawn in blocks: they are made where the law is computed, so XLA:CPU
    fuses them into its loop rather than writing them out whole and reading them back."""
    assert _bits_written_out(getattr(wi, name)(), jax.random.key(0, impl=impl)) == []


@pytest.mark.parametrize("impl", ["rbg", "unsafe_rbg"])
def test_rbg_bits_twin_made_before_the_law_are_caught(impl, monkeypatch):
    monkeypatch.setattr(sampling, "bits_by_counter", lambda key: True)  # the bits made first, then mapped
    with _fresh_programs():
        assert _bits_written_out(wi.glorot_uniform(), jax.random.key(0, impl=impl)) != []


@contextlib.contextmanager
def _fresh_programs():
    """Programs traced anew inside, and none of those kept after."""
    jax.clear_caches()
    try:
        yield
    finally:
        jax.clear_caches()


# (value, shape): jax.nn.initializers.constant broadcasts any array-like; so does wi.constant.
ARRAY_CONSTANTS = [
    ([1.0, 2.0, 3.0], (2, 3)),
    (np.eye(3), (4, 3, 3)),
    ([[1], [2]], (2, 5)),
    (np.arange(6, dtype=np.int32).reshape(2, 3), (2, 3)),
    (-0.0, (2,)),
]


@pytest.mark.parametrize("value, shape", ARRAY_CONSTANTS)
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16])
def test_constant_broadcasts_arrays_as_jax_nn_does(value, shape, dtype, key):
    ours = wi.constant(value)(key, shape, dtype)
    theirs = jax.nn.initializers.constant(np.asarray(value))(key, shape, dtype)  # jax.nn takes no lists
    chex.assert_trees_all_equal(ours, theirs)
    np.testing.assert_array_equal(np.signbit(np.asarray(ours, np.float32)), np.signbit(np.asarray(theirs, np.float32)))


def test_constant_under_jit_takes_a_traced_value(key):
    out = jax.jit(lambda k, v: wi.constant(v)(k, (2, 3)))(key, jnp.arange(3.0))
    chex.assert_trees_all_equal(out, jnp.broadcast_to(jnp.arange(3.0), (2, 3)))


def test_negative_zero_is_not_served_from_the_cache_of_positive_zero(key):
    """Compiled generators are cached by initializer: constant(-0.0) must not equal constant(0.0)."""
    target = {"b": jax.ShapeDtypeStruct((4,), jnp.float32)}
    assert not np.signbit(np.asarray(wi.init_tree(key, target, [("b", wi.constant(0.0))])["b"])).any()
    assert np.signbit(np.asarray(wi.init_tree(key, target, [("b", wi.constant(-0.0))])["b"])).all()
    assert wi.constant(-0.0) != wi.constant(0.0) and wi.constant([1, 2]) == wi.constant(np.array([1, 2]))
