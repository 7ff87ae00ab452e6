"""`init_tree`: the per-path key contract, rules, errors, and the real Flax, Haiku and Equinox."""

import re

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jax_weightinit as wi
from jax_weightinit import pytorch, testing


def abstract(depth=3, width=16):
    layer = {
        "attn": {"q": {"kernel": jax.ShapeDtypeStruct((width, width), jnp.float32)}},
        "mlp": {
            "kernel": jax.ShapeDtypeStruct((width, 4 * width), jnp.float32),
            "bias": jax.ShapeDtypeStruct((4 * width,), jnp.float32),
        },
        "step": jax.ShapeDtypeStruct((), jnp.int32),
    }
    return {"layers": [layer] * depth, "embed": jax.ShapeDtypeStruct((100, width), jnp.bfloat16)}


RULES = [("kernel$", wi.he_normal()), ("bias$", wi.zeros), ("step$", wi.zeros), ("embed", wi.normal(0.02))]
INITS = {"kernel": wi.he_normal(), "bias": wi.zeros, "step": wi.zeros, "embed": wi.normal(0.02)}


def expected_leaf(key, path, leaf):
    init = next(i for suffix, i in INITS.items() if path.endswith(suffix))
    return init(wi.key_for(key, path), leaf.shape, leaf.dtype)


@pytest.mark.parametrize("mode", ["eager", "under jit"])
def test_each_leaf_is_its_initializer_at_its_path_key(mode, key):
    target = abstract()

    def run(k):
        return wi.init_tree(k, target, RULES)

    out = run(key) if mode == "eager" else jax.jit(run)(key)
    for path, leaf in jax.tree_util.tree_flatten_with_path(out)[0]:
        name = wi.path_string(path)
        chex.assert_trees_all_equal(leaf, expected_leaf(key, name, leaf))
    chex.assert_trees_all_equal_shapes_and_dtypes(
        out, jax.tree_util.tree_map(lambda s: jnp.zeros(s.shape, s.dtype), target)
    )


# A tree whose groups span several chunks (a chunk holds up to 4 MiB per device), with every
# kind of leaf: the library's samplers, complex dtypes, structured inits and a plain jax.nn one.
MIXED_RULES = [
    ("small$", wi.he_normal()),
    ("wide/", wi.normal(0.02)),
    ("complex$", wi.normal(1.0)),
    ("orth$", wi.orthogonal()),
    ("jax_nn$", jax.nn.initializers.lecun_normal()),
    ("bias$", wi.zeros),
]


def mixed_tree():
    def leaf(shape, dtype=jnp.float32):
        return jax.ShapeDtypeStruct(shape, dtype)

    return {
        "blocks": [{"small": leaf((256, 256)), "bias": leaf((256,))} for _ in range(40)],
        "wide": [leaf((1024, 2048), jnp.bfloat16) for _ in range(3)],
        "extra": [
            {"complex": leaf((16, 16), jnp.complex64), "orth": leaf((32, 32)), "jax_nn": leaf((64, 64))}
            for _ in range(2)
        ],
    }


KEYS = {
    "threefry key": lambda: jax.random.key(7),
    "rbg key": lambda: jax.random.key(7, impl="rbg"),
    "unsafe_rbg key": lambda: jax.random.key(7, impl="unsafe_rbg"),
    "raw uint32 key": lambda: jax.random.PRNGKey(7),
}


@pytest.mark.parametrize("mode", ["eager", "under jit"])
@pytest.mark.parametrize("key_kind", KEYS)
def test_contract_holds_for_every_key_kind_across_chunks(key_kind, mode):
    key, target = KEYS[key_kind](), mixed_tree()

    def run(k):
        return wi.init_tree(k, target, MIXED_RULES)

    out = run(key) if mode == "eager" else jax.jit(run)(key)
    inits = [init for _, init in MIXED_RULES]
    for path, leaf in jax.tree_util.tree_flatten_with_path(out)[0]:
        name = wi.path_string(path)
        init = next(i for (p, _), i in zip(MIXED_RULES, inits, strict=True) if re.search(p, name))
        chex.assert_trees_all_equal(leaf, init(wi.key_for(key, name), leaf.shape, leaf.dtype))


def test_a_foreign_initializer_gets_exactly_its_jitted_value(key):
    """What is promised outside the library: the leaf is `jax.jit(init)` at the leaf's key, bit for bit."""
    init = jax.nn.initializers.normal(0.3)
    out = wi.init_tree(key, {"w": jax.ShapeDtypeStruct((64, 64), jnp.float32)}, [("w", init)])
    expected = jax.jit(init, static_argnums=(1, 2))(wi.key_for(key, "w"), (64, 64), jnp.float32)
    assert np.asarray(out["w"]).tobytes() == np.asarray(expected).tobytes()
    other = jax.jit(init, static_argnums=(1, 2))(wi.key_for(key, "v"), (64, 64), jnp.float32)
    assert np.asarray(out["w"]).tobytes() != np.asarray(other).tobytes()  # the twin: another path's key differs


def test_contract_twin_a_different_key_gives_other_values(key):
    out = wi.init_tree(key, abstract(), RULES)
    leaf = out["layers"][0]["mlp"]["kernel"]
    assert not np.array_equal(leaf, wi.he_normal()(wi.key_for(key, "layers/1/mlp/kernel"), leaf.shape))


def test_adding_a_layer_leaves_the_others_unchanged(key):
    small = wi.init_tree(key, abstract(depth=2), RULES)
    large = wi.init_tree(key, abstract(depth=5), RULES)
    chex.assert_trees_all_equal(small["layers"], large["layers"][:2])
    chex.assert_trees_all_equal(small["embed"], large["embed"])


def test_identical_layers_get_different_values(key):
    out = wi.init_tree(key, abstract(), RULES)
    kernels = [layer["attn"]["q"]["kernel"] for layer in out["layers"]]
    assert not np.array_equal(kernels[0], kernels[1])


def test_keys_differ_where_concatenated_names_would_collide(key):
    data = [jax.random.key_data(wi.key_for(key, p)) for p in ("ab/c", "a/bc", "abc", "a/b/c")]
    assert len({tuple(np.asarray(d).tolist()) for d in data}) == 4


def test_partial_reinit_keeps_unmatched_concrete_leaves(key):
    params = {"dense": {"kernel": jnp.ones((4, 8)), "bias": jnp.full((8,), 3.0)}}
    out = wi.init_tree(key, params, [("kernel", wi.glorot_uniform())])
    chex.assert_trees_all_equal(out["dense"]["bias"], params["dense"]["bias"])
    assert not np.array_equal(out["dense"]["kernel"], params["dense"]["kernel"])


def test_first_match_wins_and_predicates(key):
    target = {"a": {"kernel": jnp.zeros((4, 4))}, "b": {"kernel": jnp.zeros((4, 4))}}
    rules = [(lambda path, leaf: path.startswith("a/"), wi.ones), ("kernel", wi.constant(2.0)), ("a", wi.zeros)]
    shadowed = r"rules\[2\] 'a' matched no leaf it could take: rules\[0\] <predicate> comes first and took 'a/kernel'"
    with pytest.warns(UserWarning, match=shadowed):
        out = wi.init_tree(key, target, rules)
    assert float(out["a"]["kernel"][0, 0]) == 1.0 and float(out["b"]["kernel"][0, 0]) == 2.0


def test_unused_rules_are_reported(key):
    target = {"kernel": jnp.zeros((2, 2))}
    rules = [("kernel", wi.ones), ("bias", wi.zeros)]
    with pytest.warns(UserWarning, match=r"^rules\[1\] 'bias' matched no leaf\. Pass on_unused_rule='raise'"):
        wi.init_tree(key, target, rules, on_unused_rule="warn")
    with pytest.raises(ValueError, match=r"^rules\[1\] 'bias' matched no leaf\.$"):
        wi.init_tree(key, target, rules, on_unused_rule="raise")


def test_plan_footer_names_unused_and_shadowed_rules():
    target = {"attn": {"query": {"kernel": jax.ShapeDtypeStruct((4, 4), jnp.float32)}}}
    rules = [("kernel$", wi.he_normal()), ("attn/query/kernel$", wi.zeros), (r"convs/\d+/weight$", wi.ones)]
    plan = wi.plan(target, rules)
    assert plan.unused_rules == (
        "rules[1] 'attn/query/kernel$' matched no leaf it could take: rules[0] 'kernel$' comes first and took "
        "'attn/query/kernel'.",
        r"rules[2] 'convs/\d+/weight$' matched no leaf.",
    )
    lines = str(plan).splitlines()
    assert lines[-2:] == [f"note: {note}" for note in plan.unused_rules]  # written as typed: one backslash
    assert not wi.plan(target, rules[:1]).unused_rules and "note:" not in str(wi.plan(target, rules[:1]))


def test_empty_leaves_are_drawn_empty_as_a_direct_call_is(key):
    target = {"e": jax.ShapeDtypeStruct((0,), jnp.float32), "m": jax.ShapeDtypeStruct((0, 4), jnp.float32)}
    rules = [("e|m", wi.he_normal())]
    out = wi.init_tree(key, target, rules)
    chex.assert_shape([out["e"], out["m"]], [(0,), (0, 4)])
    assert [(row.fans, row.law) for row in wi.plan(target, rules)] == [(None, None), (None, None)]
    assert wi.he_normal()(key, (0,)).shape == (0,)


def test_a_leaf_the_law_cannot_take_is_named():
    """A one-axis leaf caught by a fan-scaled rule: the leaf, the rule and the fix (a rule for it first)."""
    with pytest.raises(
        ValueError,
        match=r"^cannot initialize 'b' \(3,\) float32 with rules\[0\]'s he_normal\(\): its fans need 2 dims, and a "
        r"one-axis leaf is a bias or a norm's scale.*put a rule for it before rules\[0\] 'b', such as \('bias\$'",
    ):
        wi.plan({"b": jax.ShapeDtypeStruct((3,), jnp.float32)}, [("b", wi.he_normal())])


BAD = [
    (
        "unmatched abstract leaf",
        {"w": jax.ShapeDtypeStruct((2, 2), jnp.float32)},
        [("bias", wi.zeros)],
        ValueError,
        "abstract leaves match no rule: 'w' \\(2, 2\\); add rules",
    ),
    (
        "int step counter with a float law",
        {"opt": {"step": jax.ShapeDtypeStruct((), jnp.int32)}},
        [("step", wi.normal())],
        TypeError,
        "cannot initialize 'opt/step' \\(\\) int32 with rules\\[0\\]'s normal\\(\\): `dtype` must be",
    ),
    ("rules as a dict", {"w": jnp.zeros(2)}, {"w": wi.zeros}, TypeError, "`rules` must be a sequence"),
    ("bad regex", {"w": jnp.zeros(2)}, [("(", wi.zeros)], ValueError, "is not a valid regular expression"),
    ("initializer not callable", {"w": jnp.zeros(2)}, [("w", 3)], TypeError, "must be callable"),
    (
        "duplicate paths",
        {"a/b": jnp.zeros(2), "a": {"b": jnp.zeros(2)}},
        [("b", wi.zeros)],
        ValueError,
        "two leaves share the path 'a/b'",
    ),
]


@pytest.mark.parametrize(("case", "target", "rules", "error", "match"), BAD, ids=[row[0] for row in BAD])
def test_bad_trees_fail_naming_the_path(case, target, rules, error, match, key):
    with pytest.raises(error, match=match):
        wi.init_tree(key, target, rules)


def test_out_shardings_tree_and_function(key):
    mesh = jax.sharding.Mesh(jax.devices()[:1], ("x",))
    sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("x"))
    target = {"w": jax.ShapeDtypeStruct((8, 4), jnp.float32), "b": jax.ShapeDtypeStruct((4,), jnp.float32)}
    rules = [("w", wi.he_normal()), ("b", wi.zeros)]
    by_tree = wi.init_tree(key, target, rules, out_shardings={"w": sharding, "b": None})
    by_fn = wi.init_tree(key, target, rules, out_shardings=lambda path, leaf: sharding if path == "w" else None)
    plain = wi.init_tree(key, target, rules)
    for out in (by_tree, by_fn):
        assert out["w"].sharding.is_equivalent_to(sharding, 2)
        chex.assert_trees_all_equal(out, plain)


def test_every_unmatched_abstract_leaf_is_named_up_to_twenty(key):
    target = {f"w{i:02d}": jax.ShapeDtypeStruct((2,), jnp.float32) for i in range(25)}
    with pytest.raises(ValueError, match=r"'w00' \(2,\), .*'w19' \(2,\) and 5 more; add rules for them\.$"):
        wi.init_tree(key, target, [("bias", wi.zeros)], on_unused_rule="ignore")


def test_unused_rules_warn_by_default(key):
    with pytest.warns(UserWarning, match=r"rules\[1\] 'kernal\$' matched no leaf \(the closest path is 'kernel'\)\."):
        wi.init_tree(key, {"kernel": jnp.zeros((2, 2))}, [("kernel$", wi.ones), ("kernal$", wi.zeros)])


def test_plan_states_what_init_tree_draws(key):
    target = abstract()
    rows = wi.plan(target, RULES)
    out = wi.init_tree(key, target, RULES)
    leaves = dict((wi.path_string(p), x) for p, x in jax.tree_util.tree_flatten_with_path(out)[0])
    assert [r.path for r in rows] == list(leaves)
    for row in rows:
        leaf = leaves[row.path]
        assert (row.shape, row.dtype) == (leaf.shape, leaf.dtype)
        chex.assert_trees_all_equal(leaf, row.init(wi.key_for(key, row.path), row.shape, row.dtype))
        if row.law is not None:
            assert row.law == row.init.distribution(row.shape)
    kernel = next(r for r in rows if r.path == "layers/0/mlp/kernel")
    assert kernel.pattern == "kernel$" and kernel.fans == (16, 64)
    assert kernel.law.std == pytest.approx((2 / 16) ** 0.5)
    bias = next(r for r in rows if r.path == "layers/0/mlp/bias")
    assert bias.law is None and bias.fans is None


def test_plan_table_reads_rule_fans_std_and_bounds_and_leaves_out_empty_columns():
    table = str(
        wi.plan({"dense": {"kernel": jax.ShapeDtypeStruct((256, 512), jnp.float32)}}, [("kernel$", wi.he_normal())])
    )
    header, row = table.splitlines()
    assert header.split() == ["path", "rule", "initializer", "shape", "dtype", "fan_in/out", "std", "bounds"]
    assert row.startswith("dense/kernel") and "'kernel$'" in row and "256/512" in row
    assert "0.08839" in row and "[-0.201, 0.201]" in row
    constant = str(wi.plan({"b": jax.ShapeDtypeStruct((4,), jnp.float32)}, [("", wi.zeros)]))
    assert constant.splitlines()[0].split() == ["path", "rule", "initializer", "shape", "dtype"]


def test_plan_keeps_unmatched_concrete_leaves_and_draws_nothing():
    rows = wi.plan({"step": jnp.zeros((), jnp.int32), "w": jax.ShapeDtypeStruct((3, 3), jnp.float32)}, [("w", wi.ones)])
    step = next(r for r in rows if r.path == "step")
    assert step.pattern is None and step.init is None and "keep" in str(rows)


def test_an_abstract_mesh_sharding_outside_a_mesh_is_an_error(key):
    mesh = jax.sharding.AbstractMesh((1,), ("x",))
    leaf = jax.ShapeDtypeStruct(
        (4, 4), jnp.float32, sharding=jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("x"))
    )
    with pytest.raises(
        ValueError, match="`out_shardings` for 'w' P\\('x',\\) is on an abstract mesh .* `with jax.set_mesh"
    ):
        wi.init_tree(key, {"w": leaf}, [("w", wi.he_normal())])


# The real frameworks, from the test extra.


def test_flax_nnx_state_update(key):
    nnx = pytest.importorskip("flax.nnx")

    class MLP(nnx.Module):
        def __init__(self, rngs):
            self.layers = nnx.List([nnx.Linear(8, 8, rngs=rngs) for _ in range(3)])

    model = MLP(nnx.Rngs(0))
    state = nnx.state(model, nnx.Param)
    new = wi.init_tree(key, state, [("kernel$", wi.orthogonal()), ("bias$", wi.constant(0.1))])
    nnx.update(model, new)
    testing.assert_orthogonal(model.layers[1].kernel[...])
    assert float(model.layers[2].bias[...][0]) == pytest.approx(0.1)
    chex.assert_trees_all_equal(
        model.layers[0].kernel[...], wi.orthogonal()(wi.key_for(key, "layers/0/kernel"), (8, 8))
    )
    abstract = nnx.state(nnx.eval_shape(lambda: MLP(nnx.Rngs(0))), nnx.Param)
    fresh = wi.init_tree(key, abstract, [("kernel$", wi.orthogonal()), ("bias$", wi.zeros)])
    chex.assert_trees_all_equal(fresh["layers"][0]["kernel"][...], model.layers[0].kernel[...])


def test_flax_linen_params(key):
    nn = pytest.importorskip("flax.linen")
    model = nn.Sequential([nn.Dense(16), nn.relu, nn.Dense(4)])
    params = model.init(key, jnp.ones((1, 8)))
    new = wi.init_tree(key, params, [("kernel$", wi.he_uniform())])
    chex.assert_trees_all_equal(new["params"]["layers_0"]["bias"], params["params"]["layers_0"]["bias"])
    chex.assert_trees_all_equal(
        new["params"]["layers_2"]["kernel"], wi.he_uniform()(wi.key_for(key, "params/layers_2/kernel"), (16, 4))
    )
    chex.assert_shape(model.apply(new, jnp.ones((2, 8))), (2, 4))
    dense = nn.Dense(4, kernel_init=wi.he_normal())  # drops into kernel_init= unchanged
    chex.assert_shape(dense.init(key, jnp.ones((1, 8)))["params"]["kernel"], (8, 4))
    embed = nn.Embed(100, 32, embedding_init=wi.variance_scaling(1.0, "fan_in", "normal", out_axis=0))
    chex.assert_shape(embed.init(key, jnp.ones((1,), jnp.int32))["params"]["embedding"], (100, 32))


def test_haiku_adapter_and_params(key):
    hk = pytest.importorskip("haiku")
    forward = hk.transform(lambda x: hk.Linear(32, w_init=wi.to_haiku(wi.he_normal()))(x))
    params = forward.init(key, jnp.ones((2, 64)))
    chex.assert_shape(params["linear"]["w"], (64, 32))
    testing.assert_moments(params["linear"]["w"], mean=0.0, std=float(jnp.sqrt(2 / 64)), alpha=1e-6)
    new = wi.init_tree(key, params, [("/w$", wi.lecun_normal()), ("/b$", wi.zeros)])
    chex.assert_trees_all_equal(new["linear"]["w"], wi.lecun_normal()(wi.key_for(key, "linear/w"), (64, 32)))


def test_equinox_partition_combine(key):
    eqx = pytest.importorskip("equinox")
    mlp = eqx.nn.MLP(8, 2, 16, 2, key=jax.random.key(1))
    params, static = eqx.partition(mlp, eqx.is_inexact_array)
    # Equinox stores Linear weights as (out, in): the PyTorch namespace reads that layout.
    new = wi.init_tree(key, params, [("weight$", pytorch.kaiming_normal(nonlinearity="relu")), ("bias$", wi.zeros)])
    model = eqx.combine(new, static)
    assert model.layers[0].weight.shape == (16, 8)
    chex.assert_trees_all_equal(
        model.layers[1].weight,
        pytorch.kaiming_normal(nonlinearity="relu")(wi.key_for(key, "layers/1/weight"), (16, 16)),
    )
    assert float(jnp.abs(model.layers[2].bias).sum()) == 0.0
    chex.assert_shape(model(jnp.ones(8)), (2,))


def test_equinox_linear_preset_is_equinox_default(key):
    eqx = pytest.importorskip("equinox")
    from jax_weightinit import presets

    layers = [eqx.nn.Linear(64, 128, key=k) for k in jax.random.split(key, 16)]
    theirs = jnp.stack([layer.weight for layer in layers])
    law = presets.equinox_linear().distribution((128, 64))
    assert float(jnp.abs(theirs).max()) <= law.high == 1 / 8
    testing.assert_ks(theirs, law.cdf)
    with pytest.raises(AssertionError):
        testing.assert_ks(theirs, pytorch.kaiming_uniform().distribution((128, 64)).cdf)
