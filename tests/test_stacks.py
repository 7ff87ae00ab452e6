"""Stacked layers (linen `nn.scan`, `hk.layer_stack`, `nnx.vmap`, `eqx.filter_vmap`): one layer's law in every layer."""

import math

import equinox as eqx
import flax.linen as nn
import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import jax_weightinit as wi
from jax_weightinit import testing

LAYERS, D, H = 6, 256, 1024
HE = [("kernel$", wi.he_normal()), ("bias$", wi.zeros)]


class _Block(nn.Module):
    partitioned: bool

    @nn.compact
    def __call__(self, x, _):
        up = down = nn.initializers.lecun_normal()
        if self.partitioned:
            up, down = nn.with_partitioning(up, ("embed", "mlp")), nn.with_partitioning(down, ("mlp", "embed"))
        hidden = nn.Dense(H, kernel_init=up)(x)  # Dense_0: D -> H
        return nn.Dense(D, kernel_init=down)(hidden), None


def linen_scan(partitioned: bool):
    stack = nn.scan(
        _Block,
        variable_axes={"params": 0},
        split_rngs={"params": True},
        length=LAYERS,
        metadata_params={nn.PARTITION_NAME: "layers"},
    )
    return jax.eval_shape(lambda: stack(partitioned).init(jax.random.key(0), jnp.zeros((2, D)), None))


class _Model(nn.Module):
    """A plain `nn.scan` inside a model, as Flax users write it: no partitioning names, the lifted `Scan_Block_0`."""

    @nn.compact
    def __call__(self, x):
        stack = nn.scan(_Block, variable_axes={"params": 0}, split_rngs={"params": True}, length=LAYERS)
        return stack(False)(x, None)[0]


class _SecondAxisModel(nn.Module):
    """A plain `nn.scan` whose layer axis is the second of each parameter (`variable_axes={'params': 1}`)."""

    @nn.compact
    def __call__(self, x):
        stack = nn.scan(_Block, variable_axes={"params": 1}, split_rngs={"params": True}, length=LAYERS)
        return stack(False)(x, None)[0]


def linen_scan_on_axis_1(partitioned: bool):
    if not partitioned:
        return jax.eval_shape(lambda: _SecondAxisModel().init(jax.random.key(0), jnp.zeros((2, D))))
    stack = nn.scan(
        _Block,
        variable_axes={"params": 1},
        split_rngs={"params": True},
        length=LAYERS,
        metadata_params={nn.PARTITION_NAME: "layers"},
    )
    return jax.eval_shape(lambda: stack(True).init(jax.random.key(0), jnp.zeros((2, D)), None))


def linen_plain_scan():
    return jax.eval_shape(lambda: _Model().init(jax.random.key(0), jnp.zeros((2, D))))


def named_haiku_stack():
    def forward(x):
        return hk.layer_stack(LAYERS, name="trunk")(lambda x: jax.nn.relu(hk.Linear(D)(x)))(x)

    return jax.eval_shape(hk.transform(forward).init, jax.random.key(0), jnp.zeros((2, D)))


def haiku_stack():
    def forward(x):
        return hk.layer_stack(LAYERS)(lambda x: jax.nn.relu(hk.Linear(D)(x)))(x)

    return jax.eval_shape(hk.transform(forward).init, jax.random.key(0), jnp.zeros((2, D)))


def _leaf(tree, path):
    return next(leaf for p, leaf in jax.tree_util.tree_flatten_with_path(tree)[0] if wi.path_string(p) == path)


# (case, the params, rules, init_tree's keywords, the stacked leaf's path, one layer's expected std).
CASES = [
    (
        "linen nn.scan with a 'layers' partitioning name",
        lambda: linen_scan(True),
        HE,
        {},
        "params/Dense_0/kernel",
        math.sqrt(2 / D),
    ),
    (
        "linen nn.scan, plain params declared with stacked=",
        lambda: linen_scan(False),
        HE,
        {"stacked": [("params/", 1)]},
        "params/Dense_1/kernel",
        math.sqrt(2 / H),
    ),
    (
        "linen nn.scan inside a model, no partitioning names",
        linen_plain_scan,
        HE,
        {},
        "params/Scan_Block_0/Dense_1/kernel",
        math.sqrt(2 / H),
    ),
    (
        "named Haiku layer_stack declared as its warning says",
        named_haiku_stack,
        [("w$", wi.he_normal()), ("b$", wi.zeros)],
        {"stacked": [("^trunk(/|$)", 1)]},
        "trunk/linear/w",
        math.sqrt(2 / D),
    ),
    (
        "Haiku layer_stack",
        haiku_stack,
        [("w$", wi.he_normal()), ("b$", wi.zeros)],
        {},
        "__layer_stack_no_per_layer/linear/w",
        math.sqrt(2 / D),
    ),
    (
        "Haiku layer_stack with mup_rules' hidden weights",
        haiku_stack,
        wi.presets.mup_rules(embedding="embed", readout="head", hidden="w$", biases="b$"),
        {"on_unused_rule": "ignore"},
        "__layer_stack_no_per_layer/linear/w",
        math.sqrt(1 / D),
    ),
    (
        "Haiku layer_stack with a jax.nn initializer, drawn per layer",
        haiku_stack,
        [("w$", jax.nn.initializers.lecun_normal()), ("b$", wi.zeros)],
        {},
        "__layer_stack_no_per_layer/linear/w",
        math.sqrt(1 / D),
    ),
]
IDS = [c[0] for c in CASES]

# (case, the params, rules, init_tree's keywords, the stacked leaf's path, its stack axis, one layer's std): stacks
# whose layer axis is not the leading one.
SECOND_AXIS_CASES = [
    (
        "linen nn.scan(variable_axes={'params': 1}) with a 'layers' partitioning name",
        lambda: linen_scan_on_axis_1(True),
        HE,
        {},
        "params/Dense_0/kernel",
        1,
        math.sqrt(2 / D),
    ),
    (
        "linen nn.scan(variable_axes={'params': 1}) inside a model, no partitioning names",
        lambda: linen_scan_on_axis_1(False),
        HE,
        {},
        "params/Scan_Block_0/Dense_1/kernel",
        1,
        math.sqrt(2 / H),
    ),
    (
        "plain params declared with stacked= positions, a jax.nn initializer drawn per layer",
        lambda: linen_scan(False),
        [("kernel$", jax.nn.initializers.lecun_normal()), ("bias$", wi.zeros)],
        {"stacked": [("params/", (0,))]},
        "params/Dense_0/kernel",
        0,
        math.sqrt(1 / D),
    ),
    (
        "a jax.nn initializer on a stack at axis 1, declared by position from the end",
        lambda: linen_scan_on_axis_1(False),
        [("kernel$", jax.nn.initializers.lecun_normal()), ("bias$", wi.zeros)],
        {"stacked": [("kernel$", (-2,)), ("bias$", (1,))]},
        "params/Scan_Block_0/Dense_0/kernel",
        1,
        math.sqrt(1 / D),
    ),
]


def _check_layers(leaf: jax.Array, std: float, axis: int = 0) -> None:
    """Each layer (along `axis`) has the std `std` (within 3% at these sizes) and the layers differ."""
    layers = np.moveaxis(np.asarray(leaf, np.float64), axis, 0).reshape(leaf.shape[axis], -1)
    stds = layers.std(axis=1)
    assert np.all(np.abs(stds / std - 1) < 0.03), f"per-layer stds {stds} against {std:.4g}"
    assert len({row.tobytes() for row in layers}) == len(layers), "two layers are drawn alike"


@pytest.mark.parametrize("name, params, rules, kwargs, path, std", CASES, ids=IDS)
def test_every_layer_of_a_stack_gets_one_layers_law(key, name, params, rules, kwargs, path, std):
    out = wi.init_tree(key, params(), rules, **kwargs)
    _check_layers(_leaf(out, path), std)
    row = next(
        r for r in wi.plan(params(), rules, **{k: v for k, v in kwargs.items() if k == "stacked"}) if r.path == path
    )
    assert row.stack == (LAYERS,)
    assert row.law is not None and math.isclose(row.law.std, std, rel_tol=1e-12)


@pytest.mark.parametrize("name, params, rules, kwargs, path, std", CASES, ids=IDS)
def test_a_stack_read_as_one_layer_is_caught(key, name, params, rules, kwargs, path, std):
    """The planted defect: `stacked=[("", 0)]` reads every leaf as one layer, as the library did before stacks."""
    out = wi.init_tree(key, params(), rules, **{**kwargs, "stacked": [("", 0)]})
    with pytest.raises(AssertionError, match="per-layer stds"):
        _check_layers(_leaf(out, path), std)


@pytest.mark.parametrize(
    "name, params, rules, kwargs, path, axis, std", SECOND_AXIS_CASES, ids=[c[0] for c in SECOND_AXIS_CASES]
)
def test_a_stack_whose_layer_axis_is_not_leading_gets_one_layers_law(key, name, params, rules, kwargs, path, axis, std):
    out = wi.init_tree(key, params(), rules, **kwargs)
    _check_layers(_leaf(out, path), std, axis)
    row = next(r for r in wi.plan(params(), rules, stacked=kwargs.get("stacked", ())) if r.path == path)
    assert row.stack == (LAYERS,)


@pytest.mark.parametrize(
    "name, params, rules, kwargs, path, axis, std", SECOND_AXIS_CASES, ids=[c[0] for c in SECOND_AXIS_CASES]
)
def test_a_stack_read_at_the_wrong_axis_is_caught(key, name, params, rules, kwargs, path, axis, std):
    """The planted defect: the stack read at the other of the first two axes, as the library read these before."""
    wrong = [("kernel$", (1 - axis,)), ("bias$", (0,))]
    out = wi.init_tree(key, params(), rules, stacked=wrong)
    with pytest.raises(AssertionError, match="per-layer stds"):
        _check_layers(_leaf(out, path), std, axis)


def _nnx_linears_on_axis_1():
    @nnx.vmap(in_axes=0, out_axes=1)
    def make(key):
        return nnx.Linear(D, H, rngs=nnx.Rngs(key))

    return make(jax.random.split(jax.random.key(0), LAYERS))


def _max_off_orthogonal(kernel: jax.Array, axis: int) -> float:
    layers = np.moveaxis(np.asarray(kernel, np.float64), axis, 0)
    return max(float(np.abs(w @ w.T - np.eye(len(w))).max()) for w in layers)


def test_an_nnx_vmap_stack_with_out_axes_1_is_found_by_its_layers_shape(key):
    stack = _nnx_linears_on_axis_1()
    rules = [("kernel$", wi.orthogonal()), ("bias$", wi.zeros)]
    assert [r.stack for r in wi.flax.plan(stack, rules)] == [(LAYERS,), (LAYERS,)]
    wi.flax.reinit(stack, key, rules)
    assert _max_off_orthogonal(stack.kernel[...], 1) < 1e-5
    wi.flax.reinit(stack, key, [("kernel$", jax.nn.initializers.lecun_normal()), ("bias$", wi.zeros)])
    _check_layers(stack.kernel[...], math.sqrt(1 / D), 1)


def test_an_nnx_stack_read_at_its_leading_axis_is_caught(key):
    """The planted defect: `stacked=[("", 1)]`, the leading axis, as the library read an `out_axes=1` stack."""
    stack = _nnx_linears_on_axis_1()
    wi.flax.reinit(stack, key, [("kernel$", wi.orthogonal()), ("bias$", wi.zeros)], stacked=[("", 1)])
    assert _max_off_orthogonal(stack.kernel[...], 1) > 0.1


def test_a_foreign_initializer_on_a_later_stack_axis_draws_the_leading_stack_moved():
    """Layer `i` of a stack at axis 1 is the frameworks' `vmap(..., out_axes=1)` draw: layer `i` at split key `i`."""
    init = jax.nn.initializers.orthogonal()
    key = jax.random.key(3)
    per_layer = wi.init_tree(key, {"w": jnp.zeros((D, LAYERS, 64))}, [("w", init)], stacked=[("w", (1,))])["w"]
    expected = jax.vmap(lambda k: init(k, (D, 64)), out_axes=1)(jax.random.split(wi.key_for(key, "w"), LAYERS))
    np.testing.assert_array_equal(per_layer, expected)


# (case, the params, rules, init_tree's keywords, the leaf init_tree must warn of, or None).
WARNED = [
    ("named hk.layer_stack", named_haiku_stack, [("w$", wi.he_normal()), ("b$", wi.zeros)], {}, "trunk/linear/w"),
    (
        "a jax.nn initializer on a named hk.layer_stack",
        named_haiku_stack,
        [("w$", jax.nn.initializers.lecun_normal()), ("b$", wi.zeros)],
        {},
        "trunk/linear/w",
    ),
    ("a declared stack", named_haiku_stack, [("w$", wi.he_normal()), ("b$", wi.zeros)], {"stacked": [("", 1)]}, None),
    ("a stack the framework names", linen_plain_scan, HE, {}, None),
    (
        "a conv kernel",
        lambda: {"Conv_0": {"kernel": jax.ShapeDtypeStruct((3, 3, 64, 128), jnp.float32)}},
        [("kernel$", wi.he_normal())],
        {},
        None,
    ),
    ("a rank-3 kernel outside a conv", lambda: {"k": jnp.zeros((3, 64, 128))}, [("", wi.he_normal())], {}, "k"),
]


@pytest.mark.parametrize("name, params, rules, kwargs, warned", WARNED, ids=[c[0] for c in WARNED])
def test_init_tree_warns_of_a_leaf_that_may_be_an_undeclared_stack(key, name, params, rules, kwargs, warned):
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        wi.init_tree(key, params(), rules, **kwargs)
    messages = [str(w.message) for w in caught]
    if warned is None:
        assert messages == []
        return
    (message,) = messages
    assert f"{warned!r}" in message and "read as one layer" in message
    # The advice in the warning, followed, silences it.
    advised = eval(message.split("pass `stacked=")[1].split("`")[0])  # noqa: S307
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wi.init_tree(key, params(), rules, stacked=advised)


def test_the_plan_notes_leaves_that_may_be_undeclared_stacks():
    plan = wi.plan(linen_scan(False), HE)
    assert "params/Dense_0/kernel" in plan.stack_hints[0] and "stacked=" in str(plan)
    assert not wi.plan(linen_scan(False), HE, stacked=[("params/", 1)]).stack_hints


def test_a_stacked_library_law_is_one_draw_with_the_stack_as_batch_axis(key):
    """The key contract for the library's laws: `init(key_for(key, p), shape)` with the stack axes as batch axes."""
    params = linen_scan(True)
    path = "params/Dense_0/kernel"
    expected = wi.he_normal(batch_axis=0)(wi.key_for(key, path), (LAYERS, D, H))
    eager = _leaf(wi.init_tree(key, params, HE), path)
    jitted = _leaf(jax.jit(lambda k: wi.init_tree(k, params, HE))(key), path)
    np.testing.assert_array_equal(np.asarray(nn.unbox(eager)), np.asarray(expected))
    np.testing.assert_array_equal(np.asarray(nn.unbox(jitted)), np.asarray(expected))


def test_a_foreign_initializer_is_drawn_per_layer_at_split_keys(key):
    """The key contract for other initializers: layer i is `init(split(key_for(key, p), L)[i], layer_shape)`."""
    init = jax.nn.initializers.orthogonal()
    params = haiku_stack()
    path = "__layer_stack_no_per_layer/linear/w"
    out = _leaf(wi.init_tree(key, params, [("w$", init), ("b$", wi.zeros)]), path)
    keys = jax.random.split(wi.key_for(key, path), LAYERS)
    for i in range(LAYERS):
        np.testing.assert_array_equal(np.asarray(out[i]), np.asarray(jax.jit(init, static_argnums=1)(keys[i], (D, D))))
        testing.assert_orthogonal(out[i])


def _nnx_stack():
    class Block(nnx.Module):
        def __init__(self, rngs):
            self.attn = nnx.MultiHeadAttention(4, D, decode=False, rngs=rngs)
            self.norm = nnx.LayerNorm(D, rngs=rngs)

    @nnx.vmap(in_axes=0, out_axes=0)
    def make(key):
        return Block(nnx.Rngs(key))

    return make(jax.random.split(jax.random.key(0), LAYERS))


def _unstacked_nnx():
    return nnx.MultiHeadAttention(4, D, decode=False, rngs=nnx.Rngs(0))


# (case, a rule for the attention kernels, the fans the plan states for one query kernel).
NNX_RULES = [
    (
        "explicit axes count within one layer",
        wi.variance_scaling(1, "fan_in", "normal", in_axis=0, out_axis=(1, 2)),
        (D, D),
    ),
    ("default axes take the layer's fans", wi.lecun_normal(), (D, D)),
    # jax.nn's own arithmetic on one (256, 4, 64) kernel: 4 in and 64 out, 256 as receptive field.
    ("a jax.nn initializer is drawn per layer", jax.nn.initializers.lecun_normal(), (4 * D, 64 * D)),
]


@pytest.mark.parametrize("name, init, fans", NNX_RULES, ids=[c[0] for c in NNX_RULES])
def test_an_nnx_vmap_stack_draws_what_one_unstacked_layer_draws(key, name, init, fans):
    rules = [("kernel$", init), ("bias$", wi.zeros)]
    stack = _nnx_stack()
    row = next(r for r in wi.flax.plan(stack, rules) if r.path == "attn/query/kernel")
    assert (row.stack, row.fans) == ((LAYERS,), fans)
    one = wi.flax.plan(_unstacked_nnx(), rules)
    expected = next(r for r in one if r.path == "query/kernel").law
    assert row.law == expected
    wi.flax.reinit(stack, key, rules)
    _check_layers(stack.attn.query.kernel[...], expected.std)


def test_a_stacked_norm_refuses_a_fan_scaled_law_as_an_unstacked_one_does(key):
    rules = [("(kernel|scale)$", wi.he_normal()), ("bias$", wi.zeros)]
    with pytest.raises(
        ValueError,
        match=r"'norm/scale' \(6, 256\) float32 \(one layer of its \(6,\) stack is \(256,\)\) with rules\[0\]'s "
        r"he_normal\(\): its fans need 2 dims, and a one-axis leaf is a bias or a norm's scale",
    ):
        wi.flax.reinit(_nnx_stack(), key, rules)

    @eqx.filter_vmap
    def norms(k):
        return eqx.nn.LayerNorm(D)

    with pytest.raises(ValueError, match="one-axis leaf is a bias or a norm's scale"):
        wi.equinox.reinit(
            norms(jax.random.split(key, LAYERS)), key, [("weight$", wi.he_normal())], on_unused_rule="ignore"
        )
    with pytest.raises(ValueError, match="one-axis leaf is a bias or a norm's scale"):
        wi.equinox.reinit(eqx.nn.LayerNorm(D), key, [("weight$", wi.he_normal())], on_unused_rule="ignore")


def test_an_equinox_filter_vmap_stack_gets_one_layers_law(key):
    @eqx.filter_vmap
    def linears(k):
        return eqx.nn.Linear(D, H, key=k)

    stack = linears(jax.random.split(key, LAYERS))
    rules = [("weight$", wi.variance_scaling(2, "fan_in", "normal", in_axis=-1, out_axis=-2)), ("bias$", wi.zeros)]
    (weight, _) = wi.equinox.plan(stack, rules)
    assert (weight.stack, weight.fans) == ((LAYERS,), (D, H))
    _check_layers(wi.equinox.reinit(stack, key, rules).weight, math.sqrt(2 / D))


def test_assert_follows_checks_one_layers_law_on_a_stack(key):
    testing.assert_follows(wi.he_normal(), key, (LAYERS, D, H), stack_axes=1)
    testing.assert_follows(jax.nn.initializers.he_normal(), key, (LAYERS, D, H), stack_axes=1)


def test_assert_follows_catches_a_stacked_law_and_layers_drawn_alike(key):
    """Twins: each layer drawn with the whole stack's fans (std off by √6), and every layer from one key."""
    law = wi.he_normal().distribution((D, H))

    def stacked_fans(k, shape, dtype=None):
        return wi.he_normal()(k, (LAYERS, *shape), dtype)[0]

    def alike(k, shape, dtype=None):
        return wi.he_normal()(jax.random.key(0), shape, dtype)

    with pytest.raises(AssertionError, match="std"):
        testing.assert_follows(stacked_fans, key, (LAYERS, D, H), stack_axes=1, law=law)
    with pytest.raises(AssertionError, match="only 1 of the 6 stacked layers differ"):
        testing.assert_follows(alike, key, (LAYERS, D, H), stack_axes=1, law=law)


def test_llama_rules_on_a_stacked_and_an_unstacked_model(key):
    rules = wi.presets.llama_rules()
    for params in (linen_scan(True), nn.unbox(linen_scan(False))):
        out = wi.init_tree(key, params, rules, on_unused_rule="ignore")
        kernel = np.asarray(nn.unbox(out["params"]["Dense_0"]["kernel"]))
        assert abs(kernel.std() / 0.02 - 1) < 0.01
        assert not np.asarray(nn.unbox(out["params"]["Dense_0"]["bias"])).any()
    norm = {"model": {"layers_0": {"input_layernorm": {"weight": jax.ShapeDtypeStruct((D,), jnp.float32)}}}}
    assert (
        float(
            wi.init_tree(key, norm, rules, on_unused_rule="ignore")["model"]["layers_0"]["input_layernorm"][
                "weight"
            ].min()
        )
        == 1
    )


# (what is given as `stacked`, the error it raises).
BAD_STACKED = [
    ({"layers": 1}, TypeError, "`stacked` must be a sequence of \\(pattern, axes\\) pairs; got dict"),
    ([("layers",)], TypeError, "`stacked\\[0\\]` must be a \\(pattern, axes\\) pair"),
    ([("(", 1)], ValueError, "`stacked\\[0\\]` pattern '\\(' is not a valid regular expression"),
    ([("layers", -1)], ValueError, "`stacked\\[0\\]` axes must be a non-negative int"),
    ([("layers", True)], ValueError, "`stacked\\[0\\]` axes must be a non-negative int"),
    ([("layers", (1, 1))], ValueError, "or a tuple of distinct axis positions; got \\(1, 1\\)"),
    (
        [("", (2,))],
        ValueError,
        "`stacked` gives 'params/Dense_0/bias' \\(6, 1024\\) stack axes at \\(2,\\), not all among its 2 dims; "
        "give positions in \\[-2, 2\\)",
    ),
    ([("", (1, -1))], ValueError, "stack axes at \\(1, -1\\), which name one axis twice"),
    (
        [("", 4)],
        ValueError,
        "`stacked` gives 'params/Dense_0/bias' \\(6, 1024\\) 4 stack axes, more than its 2 dims; declare at most 1",
    ),
]


@pytest.mark.parametrize("stacked, error, message", BAD_STACKED, ids=[m for _, _, m in BAD_STACKED])
def test_a_bad_stacked_argument_is_refused_in_one_sentence(key, stacked, error, message):
    with pytest.raises(error, match=message):
        wi.init_tree(key, linen_scan(False), HE, stacked=stacked)


def test_an_unstacked_model_draws_what_it_drew_before(key):
    """Stacks change nothing where nothing is stacked: each leaf is its direct call."""
    params = {
        "dense": {"kernel": jax.ShapeDtypeStruct((D, H), jnp.float32)},
        "conv": {"kernel": jax.ShapeDtypeStruct((3, 3, 8, 16), jnp.float32)},
    }
    out = wi.init_tree(key, params, [("kernel$", wi.he_normal())])
    for path, shape in (("dense/kernel", (D, H)), ("conv/kernel", (3, 3, 8, 16))):
        np.testing.assert_array_equal(
            np.asarray(_leaf(out, path)), np.asarray(wi.he_normal()(wi.key_for(key, path), shape))
        )


# (initializer, shape): laws and sizes on both sides of a CPU block (4 MiB of bits), in float32 and bfloat16.
VMAP_CASES = [
    (wi.he_normal(), (1024, 1024)),
    (wi.glorot_uniform(), (1100, 1024)),
    (wi.normal(0.02), (33, 65)),
    (wi.truncated_normal(0.02), (3, 2)),
    (wi.he_normal(dtype=jnp.bfloat16), (64, 96)),
]


@pytest.mark.parametrize("init, shape", VMAP_CASES, ids=[f"{i!r} {s}" for i, s in VMAP_CASES])
def test_vmap_over_keys_draws_each_key_as_its_own_call(key, init, shape):
    """`vmap(init)(keys)` (as `nn.scan` and `nnx.vmap` call an initializer) is each key's direct call, bit for bit,
    under `jit` and eagerly, and nested."""
    keys = jax.random.split(key, 5)
    jitted = jax.jit(jax.vmap(lambda k: init(k, shape)))(keys)
    eager = jax.vmap(lambda k: init(k, shape))(keys)
    nested = jax.vmap(jax.vmap(lambda k: init(k, shape)))(keys.reshape(1, 5))[0]
    for i in range(5):
        direct = np.asarray(init(keys[i], shape))
        for batched in (jitted, eager, nested):
            np.testing.assert_array_equal(np.asarray(batched[i]), direct)


def test_an_nnx_param_found_stacked_by_its_layers_partitioning_name(key):
    """A Param of no known layer, stacked by `nnx.vmap` with `transform_metadata={nnx.PARTITION_NAME: 'layers'}`."""
    mesh = jax.make_mesh((1, 1), ("layers", "model"), axis_types=(jax.sharding.AxisType.Auto,) * 2)

    class Block(nnx.Module):
        def __init__(self, rngs):
            init = nnx.with_partitioning(nnx.initializers.lecun_normal(), (None, "model"))
            self.w = nnx.Param(init(rngs.params(), (D, 64)))

    @nnx.vmap(in_axes=0, out_axes=0, transform_metadata={nnx.PARTITION_NAME: "layers"})
    def make(k):
        return Block(nnx.Rngs(k))

    with jax.set_mesh(mesh):
        stack = nnx.eval_shape(lambda: make(jax.random.split(key, LAYERS)))
        (row,) = wi.flax.plan(stack, [("w$", wi.he_normal())])
        assert (row.stack, row.fans) == ((LAYERS,), (D, 64))
        (unnamed,) = wi.flax.plan(stack, [("w$", wi.he_normal())], stack_names=("stages",))
        assert (unnamed.stack, unnamed.fans) == ((), (LAYERS * D, LAYERS * 64))  # the twin: another name, one layer
        wi.flax.reinit(stack, key, [("w$", wi.he_normal())])
    _check_layers(stack.w[...], math.sqrt(2 / D))
