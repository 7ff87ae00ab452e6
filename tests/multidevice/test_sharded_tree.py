"""`init_tree` on 8 devices: the leaves' own shardings, every form of `out_shardings`, and the outer `jit`."""

import re

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import AxisType, NamedSharding
from jax.sharding import PartitionSpec as P

import jax_weightinit as wi

RULES = [("kernel$", wi.he_normal()), ("bias$", wi.zeros), ("embed$", wi.normal(0.02))]
KERNEL, BIAS = P("data", "model"), P("model")


def mesh_of(explicit):
    kind = AxisType.Explicit if explicit else AxisType.Auto
    return jax.make_mesh((2, 4), ("data", "model"), axis_types=(kind, kind))


def target(sharding_of=lambda path: None, depth=3):
    def leaf(path, shape):
        return jax.ShapeDtypeStruct(shape, jnp.float32, sharding=sharding_of(path))

    layers = [
        {"kernel": leaf(f"layers/{i}/kernel", (512, 256)), "bias": leaf(f"layers/{i}/bias", (256,))}
        for i in range(depth)
    ]
    return {"layers": layers, "embed": leaf("embed", (1000, 256))}


def spec_of(path):
    return KERNEL if path.endswith("kernel") else BIAS if path.endswith("bias") else P(None, "model")


def assert_placed_and_exact(out, mesh, key):
    plain = wi.init_tree(key, target(), RULES)
    for (path, leaf), want in zip(jax.tree_util.tree_flatten_with_path(out)[0], jax.tree.leaves(plain), strict=True):
        name = wi.path_string(path)
        assert leaf.sharding.is_equivalent_to(NamedSharding(mesh, spec_of(name)), leaf.ndim), (name, leaf.sharding)
        chex.assert_trees_all_equal(np.asarray(leaf), np.asarray(want))


@pytest.mark.parametrize("explicit", [False, True], ids=["Auto mesh", "Explicit mesh"])
@pytest.mark.parametrize("traced", [False, True], ids=["eager", "under the user's jit"])
def test_leaves_keep_the_shardings_they_carry(explicit, traced, key):
    mesh = mesh_of(explicit)
    abstract = target(lambda path: NamedSharding(mesh, spec_of(path)))
    with jax.set_mesh(mesh):
        out = jax.jit(lambda k: wi.init_tree(k, abstract, RULES))(key) if traced else wi.init_tree(key, abstract, RULES)
    assert_placed_and_exact(out, mesh, key)


@pytest.mark.parametrize("explicit", [False, True], ids=["Auto mesh", "Explicit mesh"])
@pytest.mark.parametrize("traced", [False, True], ids=["eager", "under the user's jit"])
def test_a_tree_part_sharded_part_not_with_numpy_dtypes_is_exact_under_a_mesh(explicit, traced, key):
    """Sharded kernels go by group, the unsharded biases and embedding (np.float32 / bfloat16 structs) in
    segments eagerly and by group under a jit on 8 devices: every leaf is still its direct call."""
    mesh = mesh_of(explicit)

    def leaf(path, shape, dtype):
        sharded = path.endswith("kernel")
        return jax.ShapeDtypeStruct(shape, dtype, sharding=NamedSharding(mesh, KERNEL) if sharded else None)

    abstract = {
        "layers": [
            {"kernel": leaf("kernel", (512, 256), np.float32), "bias": leaf("bias", (256,), np.float32)}
            for _ in range(3)
        ],
        "embed": leaf("embed", (1000, 256), jnp.bfloat16),
    }
    with jax.set_mesh(mesh):
        run = (
            jax.jit(lambda k: wi.init_tree(k, abstract, RULES))
            if traced
            else lambda k: wi.init_tree(k, abstract, RULES)
        )
        out = run(key)
    for path, got in jax.tree_util.tree_flatten_with_path(out)[0]:
        name = wi.path_string(path)
        init = next(i for pattern, i in RULES if re.search(pattern, name))
        want = init(wi.key_for(key, name), got.shape, got.dtype)
        chex.assert_trees_all_equal(np.asarray(got), np.asarray(want))


def test_placed_arrays_keep_their_shardings(key):
    mesh = mesh_of(False)
    placed = jax.tree_util.tree_map_with_path(
        lambda p, s: jax.device_put(jnp.zeros(s.shape, s.dtype), NamedSharding(mesh, spec_of(wi.path_string(p)))),
        target(),
    )
    assert_placed_and_exact(wi.init_tree(key, placed, RULES), mesh, key)


@pytest.mark.parametrize("explicit", [False, True], ids=["Auto mesh", "Explicit mesh"])
def test_out_shardings_forms_agree(explicit, key):
    mesh = mesh_of(explicit)
    named = {n: NamedSharding(mesh, spec_of(n)) for n in ("kernel", "bias", "embed")}
    forms = {
        "a function of (path, leaf)": lambda path, leaf: named[path.rsplit("/", 1)[-1]],
        "a full pytree": {"layers": [{"kernel": named["kernel"], "bias": named["bias"]}] * 3, "embed": named["embed"]},
    }
    for shardings in forms.values():
        assert_placed_and_exact(wi.init_tree(key, target(), RULES, out_shardings=shardings), mesh, key)


def test_one_sharding_for_every_leaf_and_a_prefix(key):
    mesh = mesh_of(False)
    everywhere = NamedSharding(mesh, P("model"))
    out = wi.init_tree(key, target(), RULES, out_shardings=everywhere)
    for leaf in jax.tree.leaves(out):
        assert leaf.sharding.is_equivalent_to(everywhere, leaf.ndim)
    prefix = {"layers": NamedSharding(mesh, P()), "embed": NamedSharding(mesh, P(None, "model"))}
    out = wi.init_tree(key, target(), RULES, out_shardings=prefix)
    assert out["layers"][1]["kernel"].sharding.is_equivalent_to(NamedSharding(mesh, P()), 2)
    assert out["embed"].sharding.is_equivalent_to(prefix["embed"], 2)
    chex.assert_trees_all_equal(out, wi.init_tree(key, target(), RULES))


def test_given_shardings_override_carried_ones_and_none_keeps_them(key):
    mesh = mesh_of(False)
    abstract = target(lambda path: NamedSharding(mesh, spec_of(path)))
    replicated = NamedSharding(mesh, P())
    out = wi.init_tree(key, abstract, RULES, out_shardings={"layers": None, "embed": replicated})
    assert out["embed"].sharding.is_equivalent_to(replicated, 2)
    assert out["layers"][0]["kernel"].sharding.is_equivalent_to(NamedSharding(mesh, KERNEL), 2)


BAD = [
    (
        "a sharding that does not fit a leaf",
        lambda mesh: lambda path, leaf: NamedSharding(mesh, KERNEL),
        "`out_shardings` for 'layers/0/bias' P\\('data', 'model'\\) has 2 entries",
    ),
    (
        "a tree missing a leaf",
        lambda mesh: {"layers": [{"kernel": None}] * 3, "embed": None},
        "`out_shardings` has no entry for the leaf 'layers/0/bias'",
    ),
    (
        "a tree with an extra entry",
        lambda mesh: {"layers": None, "embed": None, "head": None},
        "`out_shardings` has an entry at 'head' that matches no leaf",
    ),
    (
        "a tree with a non-sharding",
        lambda mesh: {"layers": None, "embed": "model"},
        "`out_shardings` at 'embed' must be a Sharding, a PartitionSpec or None; got 'model'",
    ),
]


@pytest.mark.parametrize(("case", "make", "match"), BAD, ids=[row[0] for row in BAD])
def test_bad_out_shardings_name_the_argument_and_the_path(case, make, match, key):
    with pytest.raises((ValueError, TypeError), match=match):
        wi.init_tree(key, target(), RULES, out_shardings=make(mesh_of(False)))


def test_model_scale_tree_under_jit_generates_only_local_shards(key):
    mesh = mesh_of(True)
    abstract = target(lambda path: NamedSharding(mesh, spec_of(path)), depth=8)
    with jax.set_mesh(mesh):
        compiled = jax.jit(lambda k: wi.init_tree(k, abstract, RULES)).lower(key).compile()
    total = sum(x.size * 4 for x in jax.tree.leaves(abstract))
    memory = compiled.memory_analysis()
    assert memory.output_size_in_bytes < total / 4, memory


COLLECTIVES = ("all-reduce", "all-gather", "collective-permute", "all-to-all", "reduce-scatter")


def collectives(explicit, key):
    """How many of each collective the compiled `init_tree` of a mixed sharded tree holds."""
    mesh = mesh_of(explicit)

    def leaf(shape, spec, dtype=jnp.float32):
        return jax.ShapeDtypeStruct(shape, dtype, sharding=NamedSharding(mesh, spec))

    tree = {
        f"layers/{i}": {
            "kernel": leaf((256, 512), KERNEL),
            "bias": leaf((512,), BIAS),
            "w16": leaf((128, 256), P(None, "model"), jnp.bfloat16),
        }
        for i in range(6)
    }
    tree["big"] = {"kernel": leaf((4096, 4096), KERNEL)}  # a blocked leaf
    rules = [("kernel$|w16$", wi.he_normal()), ("bias$", wi.zeros)]
    with jax.set_mesh(mesh):
        text = jax.jit(lambda k: wi.init_tree(k, tree, rules)).lower(key).compile().as_text()
    return {name: len(re.findall(rf"\b{name}(-start)?\(", text)) for name in COLLECTIVES}


@pytest.mark.parametrize("explicit", [False, True], ids=["Auto mesh", "Explicit mesh"])
def test_compiled_init_tree_has_no_collective(explicit, key):
    """Init is embarrassingly parallel: each device (each host) draws its shards with no traffic at all."""
    assert collectives(explicit, key) == dict.fromkeys(COLLECTIVES, 0)


def test_a_global_ordering_dependency_is_caught(monkeypatch, key):
    """Twin: chunks ordered by a reduction over the whole leaf (as before) compile to all-reduces."""
    from jax_weightinit._src import generation

    def global_order(keys, leaf, sharding):
        flag = jnp.isnan(leaf).any().astype(jnp.uint32)
        return jax.random.wrap_key_data(jax.random.key_data(keys) + flag, impl=jax.random.key_impl(keys))

    monkeypatch.setattr(generation, "_after", global_order)
    assert collectives(False, key)["all-reduce"] > 0


# A model of 300 leaves (the eager fixed-shape programs serve models of more than 128: drawn kernels cut out of a
# segment, constant biases filled on the host) and one of 6.
def _layers(n):
    leaf = jax.ShapeDtypeStruct
    return {f"l{i}": {"kernel": leaf((16, 8), jnp.float32), "bias": leaf((8,), jnp.float32)} for i in range(n)}


MANY, FEW = _layers(150), _layers(3)
FOLLOW_RULES = [("kernel$", wi.he_normal()), ("bias$", wi.zeros)]


def _keys_placed():
    """(name, key, the sharding every leaf drawn from it must have)."""
    committed = jax.device_put(jax.random.key(7), jax.devices()[3])
    replicated = NamedSharding(jax.make_mesh((2, 4), ("data", "model")), P())
    return [
        ("committed to device 3", committed, committed.sharding),
        ("replicated over the mesh", jax.device_put(jax.random.key(7), replicated), replicated),
    ]


@pytest.mark.parametrize("model", [MANY, FEW], ids=["300 leaves", "6 leaves"])
@pytest.mark.parametrize("case", range(2), ids=["committed", "replicated"])
def test_eager_leaves_follow_the_key_as_a_direct_call_does(model, case):
    _, key, expected = _keys_placed()[case]
    out = wi.init_tree(key, model, FOLLOW_RULES)
    direct = wi.he_normal()(wi.key_for(key, "l0/kernel"), (16, 8))
    assert direct.sharding.is_equivalent_to(expected, 2)
    for path, leaf in jax.tree_util.tree_flatten_with_path(out)[0]:
        assert leaf.sharding.is_equivalent_to(expected, leaf.ndim), (wi.path_string(path), leaf.sharding)
    np.testing.assert_array_equal(out["l0"]["kernel"], direct)


def test_twin_leaves_left_on_the_default_device_are_caught(monkeypatch):
    from jax_weightinit._src import placement

    monkeypatch.setattr(placement, "following", lambda key: None)
    _, key, expected = _keys_placed()[0]
    out = wi.init_tree(key, MANY, FOLLOW_RULES)
    assert not out["l0"]["kernel"].sharding.is_equivalent_to(expected, 2)
    assert not out["l0"]["bias"].sharding.is_equivalent_to(expected, 1)
