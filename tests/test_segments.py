"""Whole-model draws in few programs: every leaf still its direct call, and what gets compiled, counted.

`init_tree` draws the unsharded leaves of the library's elementwise laws as rows of flat
segments, and fills constants from data (`_src/segments.py`): through one program per model
layout for small models and under a trace, through programs of fixed shapes for larger eager
ones. Both are checked leaf by leaf against `init(key_for(key, path), shape, dtype)`, with
segments shrunk so that a small tree spans many segments, blocks and leaf-capacity splits;
each check has a twin that plants a defect and must be caught.
"""

import contextlib
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jax_weightinit as wi
from jax_weightinit._src import generation, keys, sampling, segments

# The models here hold 3-D leaves that are one layer each (a 16 × 16 × 3 kernel): the bits are the subject, and
# init_tree's note that such a leaf may be an undeclared stack is tested in test_stacks.py.
pytestmark = pytest.mark.filterwarnings("ignore:.*read as one layer each")

LAWS = [
    ("normal", wi.normal(0.02)),
    ("scaled", wi.scaled(wi.normal(0.02), 0.25)),
    ("trunc", wi.truncated_normal(0.5)),
    ("far_tail", wi.truncated_normal(1.0, lower=5.0, upper=6.0)),
    ("uniform", wi.uniform(3.0)),
    ("he_uniform", wi.he_uniform()),
]
CONSTANTS = [
    ("zeros", wi.zeros),
    ("ones", wi.ones),
    ("tenth", wi.constant(0.1)),
    ("flag", wi.constant(True)),
    ("neg", wi.constant(-3)),
    ("cplx", wi.constant(1 - 2j)),
]
SHAPES = [(), (3,), (128,), (129,), (7, 300), (16, 16, 3), (300, 100)]
DTYPES = [jnp.float32, jnp.bfloat16]


def tree():
    """Every law in every dtype and shape (2-D and up for fan-scaled ones), and every constant."""
    layer = {}
    for j, (name, _) in enumerate(LAWS):
        for i, shape in enumerate(SHAPES):
            if name == "he_uniform" and len(shape) < 2:
                continue
            layer[f"{name}_{i}"] = jax.ShapeDtypeStruct(shape, DTYPES[(i + j) % len(DTYPES)])
    for j, (name, _) in enumerate(CONSTANTS):
        dtype = {"neg": jnp.int32, "cplx": jnp.complex64}.get(name, DTYPES[j % len(DTYPES)])
        for i, shape in enumerate(SHAPES[:4]):
            layer[f"{name}_{i}"] = jax.ShapeDtypeStruct(shape, dtype)
    return {"layers": [layer]}


RULES = [(rf"/{name}_\d+$", init) for name, init in LAWS + CONSTANTS]


EXPECTED: dict[tuple[bytes, str], np.ndarray] = {}


def expected(key, name, shape, dtype) -> np.ndarray:
    """`init(key_for(key, name), shape, dtype)` for the rule matching `name`, computed once per key and path."""
    cached = (np.asarray(jax.random.key_data(key)).tobytes(), name)
    if cached not in EXPECTED:
        init = next(i for pattern, i in RULES if re.search(pattern, name))
        EXPECTED[cached] = np.asarray(init(wi.key_for(key, name), shape, dtype))
    return EXPECTED[cached]


def mismatches(key, out) -> list[str]:
    """The paths whose leaf is not its initializer's direct call at its path key, bit for bit."""
    bad = []
    for path, leaf in jax.tree_util.tree_flatten_with_path(out)[0]:
        name = wi.path_string(path)
        want = expected(key, name, leaf.shape, leaf.dtype)
        if leaf.dtype != want.dtype or not np.array_equal(np.asarray(leaf), want, equal_nan=True):
            bad.append(name)
    return bad


def in_segments(target) -> set[str]:
    """The paths `init_tree` draws in segments (eagerly, with a threefry key)."""
    rows = [row for row in wi.plan(target, RULES) if row.init is not None]
    schedule = generation.schedule(rows, flat=True, eager=True)
    return {rows[i].path for _, members in schedule.segments for i in members}


#: Segments of 64 KiB (128 rows), at most 4 leaves, in blocks of 32 rows: a small tree spans many of each, eagerly
#: and under a trace.
SMALL_SEGMENTS = {"segment_bytes": 64 * 2**10, "segment_capacity": 4, "block_bytes": 16 * 2**10}


PROGRAMS = {"one program per layout": 10**9, "fixed-shape programs": 0}


def draw(mode, key, target):
    def run(k):
        return wi.init_tree(k, target, RULES)

    if mode == "eager":
        return run(key)
    if mode == "jit":
        return jax.jit(run)(key)
    keys = jax.random.split(key, 2)
    return jax.tree.map(lambda x: x[1], jax.vmap(run)(keys))  # the second key's draw


def key_of(mode, key):
    return jax.random.split(key, 2)[1] if mode == "vmap" else key


CASES = [
    (mode, programs, size)
    for programs in PROGRAMS
    for mode in (["eager", "jit", "vmap"] if programs == "one program per layout" else ["eager"])
    for size in ["default sizes", "small segments"]
    if not (mode == "vmap" and size == "small segments")
]


@pytest.mark.parametrize(("mode", "programs", "size"), CASES, ids=["-".join(case) for case in CASES])
def test_every_leaf_drawn_in_segments_is_its_direct_call(mode, programs, size, key, tunables):
    """Fixed-shape programs serve eager calls only (under a trace the layout is compiled), hence no jit/vmap rows."""
    tunables(fixed_from_leaves=PROGRAMS[programs], **(SMALL_SEGMENTS if size == "small segments" else {}))
    out = draw(mode, key, tree())
    assert mismatches(key_of(mode, key), out) == []


def test_twin_a_counter_off_by_one_is_caught(key, monkeypatch):
    """Twin: segments that count each leaf's elements from 1 instead of 0 give other values, and are caught."""

    class Shifted:
        @staticmethod
        def bind(k0, k1, high, low):
            return jax.extend.random.threefry2x32_p.bind(k0, k1, high, low + jnp.uint32(1))

    monkeypatch.setattr(segments, "threefry2x32_p", Shifted)
    jax.clear_caches()
    try:
        bad = mismatches(key, wi.init_tree(key, tree(), RULES))
    finally:
        jax.clear_caches()
    assert len(in_segments(tree())) >= 25
    assert set(bad) == in_segments(tree())


def test_twin_a_five_percent_std_error_is_caught(key, monkeypatch):
    """Twin: law numbers that scale every segment leaf's std by 1.05 are caught, leaf by leaf."""
    numbers = generation._numbers

    def planted(leaf):
        out = numbers(leaf).copy()
        if out.size:
            out[1] *= 1.05  # the scale
        return out

    monkeypatch.setattr(generation, "_numbers", planted)
    bad = set(mismatches(key, wi.init_tree(key, tree(), RULES)))
    assert in_segments(tree()) <= bad  # and the leaves drawn by group, which take law numbers as data too
    assert not {name for name in bad if re.search(r"/(zeros|ones|tenth|flag|neg|cplx)_\d+$", name)}


class Compiles:
    """Counts XLA compiles while active."""

    def __init__(self):
        self.count = 0
        self.active = False
        jax.monitoring.register_event_duration_secs_listener(self._listen)

    def _listen(self, event, duration, **kwargs):
        if self.active and event == "/jax/core/compile/backend_compile_duration":
            self.count += 1

    @contextlib.contextmanager
    def counting(self):
        self.count, self.active = 0, True
        try:
            yield self
        finally:
            self.active = False


COMPILES = Compiles()


def stack(depth, stds):
    target = {"layers": [{"w": jax.ShapeDtypeStruct((64, 64), jnp.float32)} for _ in range(depth)]}
    rules = [(f"layers/{i}/w$", wi.normal(stds(i))) for i in range(depth)]
    return target, rules


def cold_compiles(key, target, rules, jitted=False):
    jax.clear_caches()
    with COMPILES.counting() as seen:
        run = jax.jit(lambda k: wi.init_tree(k, target, rules)) if jitted else lambda k: wi.init_tree(k, target, rules)
        jax.block_until_ready(run(key))
    return seen.count


@pytest.mark.parametrize("jitted", [False, True], ids=["eager", "jit"])
def test_per_layer_stds_compile_no_more_than_one_shared_law(jitted, key):
    distinct = cold_compiles(key, *stack(24, lambda i: 0.02 / (i + 1) ** 0.5), jitted)
    shared = cold_compiles(key, *stack(24, lambda i: 0.02), jitted)
    assert distinct == shared


def test_twin_laws_compiled_as_constants_are_caught(key, monkeypatch):
    """Twin: grouping leaves by initializer (as before segments) with the laws baked in compiles once per std."""
    monkeypatch.setattr(generation, "_flat_draws", lambda key: False)
    monkeypatch.setattr(
        generation, "_group", lambda leaf: generation.Group(None, leaf.init, leaf.shape, leaf.dtype, leaf.sharding)
    )
    distinct = cold_compiles(key, *stack(24, lambda i: 0.02 / (i + 1) ** 0.5))
    shared = cold_compiles(key, *stack(24, lambda i: 0.02))
    assert distinct >= shared + 23


def model(depth):
    layer = {
        "q": {"kernel": jax.ShapeDtypeStruct((32, 32), jnp.float32), "bias": jax.ShapeDtypeStruct((32,), jnp.float32)},
        "up": {"kernel": jax.ShapeDtypeStruct((32, 128), jnp.float32)},
        "norm": {"scale": jax.ShapeDtypeStruct((32,), jnp.float32)},
    }
    target = {"layers": [layer] * depth, "embed": jax.ShapeDtypeStruct((100, 32), jnp.float32)}
    rules = wi.presets.gpt2_rules(depth, residual=r"up/kernel$", weights=r"(kernel|embed)$")
    return target, rules


@pytest.mark.parametrize(("programs", "new"), [("fixed-shape programs", 0), ("one program per layout", 1)])
def test_a_deeper_model_of_the_same_layer_kinds_compiles_at_most_one_program(programs, new, key, tunables):
    """Eager: fixed-shape programs serve a deeper model with nothing new; one program per layout compiles one,
    never one per layer."""
    tunables(fixed_from_leaves=PROGRAMS[programs])
    cold_compiles(key, *model(4))
    with COMPILES.counting() as seen:
        jax.block_until_ready(wi.init_tree(key, *model(12)))
    assert seen.count == new


@pytest.mark.parametrize(("programs", "compiles"), [("one program per layout", 1), ("fixed-shape programs", 0)])
def test_constants_of_many_shapes_compile_at_most_one_program(programs, compiles, key, tunables):
    """Eager: zeros and ones of 12 new shapes are filled by the model's one program, or on the host."""
    tunables(fixed_from_leaves=PROGRAMS[programs])
    target = {f"b{n}": jax.ShapeDtypeStruct((n,), jnp.float32) for n in range(1, 13)}
    rules = [(r"b([1-6])$", wi.zeros), (r"b\d+$", wi.ones)]
    jax.block_until_ready(wi.init_tree(key, target, rules))  # the key's own programs, compiled once
    target = {f"c{n}": jax.ShapeDtypeStruct((n, 2), jnp.float32) for n in range(1, 13)}
    rules = [(r"c([1-6])$", wi.zeros), (r"c\d+$", wi.ones)]
    with COMPILES.counting() as seen:
        out = jax.block_until_ready(wi.init_tree(key, target, rules))
    assert seen.count == compiles
    assert all(float(out[f"c{n}"].sum()) == (0 if n <= 6 else 2 * n) for n in range(1, 13))


def test_twin_a_wrong_constant_on_the_host_is_caught(key, monkeypatch, tunables):
    """Twin: host-filled constants off by one are caught, every constant but none of the random leaves."""
    tunables(fixed_from_leaves=0)
    full_on_host = sampling.full_on_host
    monkeypatch.setattr(sampling, "full_on_host", lambda *args: full_on_host(*args) + 1)
    bad = set(mismatches(key, wi.init_tree(key, tree(), RULES)))
    assert bad == {name for name in bad if re.search(r"/(zeros|ones|tenth|flag|neg|cplx)_\d+$", name)}
    assert len(bad) == len(CONSTANTS) * 4


def large_model_temp(key) -> float:
    """Compiled temporaries ÷ output of a jitted 96 MiB model (24 kernels of 1024²), compiled, not run."""
    target = {"layers": [{"w": jax.ShapeDtypeStruct((1024, 1024), jnp.float32)} for _ in range(24)]}
    compiled = jax.jit(lambda k: wi.init_tree(k, target, [("w$", wi.he_normal())])).lower(key).compile()
    memory = compiled.memory_analysis()
    return memory.temp_size_in_bytes / memory.output_size_in_bytes


def test_a_large_model_is_drawn_by_group_with_temporaries_under_half_its_size(key):
    assert large_model_temp(key) <= 0.5


def test_twin_a_large_model_in_segments_holds_them_all(key, tunables):
    """Twin: the same model drawn in segments keeps every segment's buffer alive, about its own size."""
    tunables(model_bytes=2**40)
    assert large_model_temp(key) > 0.5


def schedule_of(target, rules, **how):
    rows = [row for row in wi.plan(target, rules) if row.init is not None]
    schedule = generation.schedule(rows, **{"flat": True, "eager": True, **how})
    ways = {}
    for _, members in schedule.segments:
        ways.update({rows[i].path: "segment" for i in members})
    ways.update({rows[i].path: "filled" for i in schedule.filled})
    for _, members in schedule.groups:
        ways.update({rows[i].path: "group" for i in members})
    return schedule, ways, [rows[i].path for i in schedule.keyed]


LEAVES = {
    "kernel": jax.ShapeDtypeStruct((64, 32), jnp.float32),
    "bias": jax.ShapeDtypeStruct((32,), jnp.float32),
    "empty": jax.ShapeDtypeStruct((0, 4), jnp.float32),
    "orth": jax.ShapeDtypeStruct((8, 8), jnp.float32),
    "wide": jax.ShapeDtypeStruct((4, 4), jnp.complex64),
    "jaxnn": jax.ShapeDtypeStruct((4, 4), jnp.float32),
}
WAYS = [("kernel", wi.he_normal()), ("bias", wi.zeros), ("empty", wi.normal()), ("orth", wi.orthogonal())]
WAYS += [("wide", wi.normal()), ("jaxnn", jax.nn.initializers.normal(0.02))]


@pytest.mark.parametrize(
    ("how", "expected", "fixed"),
    [
        ({}, {"kernel": "segment", "bias": "filled", "empty": "filled"}, False),
        ({"flat": False}, {"kernel": "group", "bias": "filled", "empty": "filled"}, False),
        ({"eager": True, "fixed_from_leaves": 0}, {"kernel": "segment", "bias": "filled", "empty": "filled"}, True),
        ({"eager": False, "fixed_from_leaves": 0}, {"kernel": "segment", "bias": "filled", "empty": "filled"}, False),
        ({"model_bytes": 0}, {"kernel": "group", "bias": "filled", "empty": "filled"}, False),
    ],
    ids=["threefry eagerly", "other keys", "many leaves eagerly", "many leaves traced", "a large model"],
)
def test_the_schedule_states_how_each_leaf_is_drawn_and_in_what_key_order(how, expected, fixed, tunables):
    """Orthogonal, complex and foreign initializers always go by group; the keys run segments first, then groups."""
    sizes = {name: how.pop(name) for name in ("fixed_from_leaves", "model_bytes") if name in how}
    if sizes:
        tunables(**sizes)
    schedule, ways, keyed = schedule_of(LEAVES, WAYS, **how)
    assert ways == {**expected, "orth": "group", "wide": "group", "jaxnn": "group"}
    assert schedule.fixed == fixed
    assert keyed == [p for p in ways if ways[p] == "segment"] + [p for p in ways if ways[p] == "group"]
    assert not set(keyed) & {p for p in ways if ways[p] == "filled"}


# Eager draws compile only the segment program: keys are derived on the host and leaves cut out there (on CPU).

ROOTS = {
    "seed 0": jax.random.key(0),
    "seed 2^31 - 1": jax.random.key(2**31 - 1),
    "both words set": jax.random.fold_in(jax.random.key(5), 2**32 - 1),
}
WORDS = {
    "path digests": keys.digests([f"layers/{i}/kernel" for i in range(40)] + ["", "é/∑"]),
    "extremes": np.array([[0] * 8, [2**32 - 1] * 8, [1, 2**31, 2**32 - 2, 0, 7, 2**16, 2**31 - 1, 3]], np.uint32),
}


@pytest.mark.parametrize("root", ROOTS)
@pytest.mark.parametrize("words", WORDS)
def test_keys_derived_on_the_host_are_jax_s_bit_for_bit(root, words):
    want = np.asarray(jax.random.key_data(keys.folded(ROOTS[root], WORDS[words], "threefry2x32")))
    got = keys.threefry_fold_on_host(np.asarray(jax.random.key_data(ROOTS[root])), WORDS[words])
    assert got.dtype == np.uint32
    assert np.array_equal(got, want)


def test_twin_a_wrong_rotation_on_the_host_is_caught(monkeypatch):
    monkeypatch.setattr(keys, "_ROTATIONS", ((13, 15, 26, 6), (17, 29, 16, 25)))
    want = np.asarray(jax.random.key_data(keys.folded(ROOTS["seed 0"], WORDS["path digests"], "threefry2x32")))
    got = keys.threefry_fold_on_host(np.asarray(jax.random.key_data(ROOTS["seed 0"])), WORDS["path digests"])
    assert not (got == want).all(axis=-1).any()  # every key differs


def test_leaves_cut_out_on_the_host_are_those_the_accelerator_program_cuts(key):
    """On CPU `cut_out` copies leaves out with NumPy; elsewhere `extract` cuts them: the same arrays, and new ones
    (the buffer is donated to the next segment)."""
    shapes = ((3,), (128,), (129,), (7, 300), (16, 16, 3))
    starts = segments.Segment("normal", np.dtype(np.float32), shapes).row_starts
    buffer = jax.random.normal(key, (segments.buffer_rows(), segments.ROW))
    cut = segments.cut_out(buffer, starts, shapes)
    for start, shape, leaf in zip(starts, shapes, cut, strict=False):
        assert leaf.shape == shape
        assert np.array_equal(np.asarray(leaf), np.asarray(segments.extract(buffer, np.int32(start), shape)))
    pointers = {buffer.unsafe_buffer_pointer()} | {leaf.unsafe_buffer_pointer() for leaf in cut}
    assert len(pointers) == len(shapes) + 1


def test_a_row_s_leaf_given_by_the_host_is_the_one_the_search_finds():
    starts = (0, 1, 2, 4, 7, 7 + segments.buffer_rows() // 2)
    first = jnp.asarray(np.asarray(starts[:-1], np.int32))
    row = jnp.arange(segments.buffer_rows(), dtype=jnp.int32)
    searched = jnp.searchsorted(first, row, side="right", method="scan_unrolled") - 1
    assert np.array_equal(segments.leaf_of_rows(starts), np.asarray(searched))


def odd_shapes(offset):
    """Twelve kernels of shapes no other test draws, so that nothing about them is compiled yet."""
    target = {f"k{i}": jax.ShapeDtypeStruct((7 + offset + i, 3 + i), jnp.float32) for i in range(12)}
    return target, [("k", wi.normal(0.02))]


def test_eager_fixed_programs_compile_nothing_for_new_leaf_shapes(key, tunables):
    """Eagerly the fixed-shape program serves every model: keys are derived and leaves cut out on the host, so a
    model of leaf shapes never drawn before compiles nothing once the program exists."""
    tunables(fixed_from_leaves=0)
    jax.block_until_ready(wi.init_tree(key, *odd_shapes(0)))
    with COMPILES.counting() as seen:
        jax.block_until_ready(wi.init_tree(key, *odd_shapes(100)))
    assert seen.count == 0


def test_twin_cutting_leaves_out_by_program_compiles_per_shape(key, tunables, monkeypatch):
    """Twin: cutting each leaf out by `extract` (as accelerators do) compiles one program per new leaf shape."""
    tunables(fixed_from_leaves=0)

    def by_program(buffer, starts, shapes, where=None):
        return [segments.extract(buffer, np.int32(r), s) for r, s in zip(starts, shapes, strict=False)]

    monkeypatch.setattr(segments, "cut_out", by_program)
    jax.block_until_ready(wi.init_tree(key, *odd_shapes(200)))
    with COMPILES.counting() as seen:
        jax.block_until_ready(wi.init_tree(key, *odd_shapes(300)))
    assert seen.count == 12
