"""`wi.flax` and `wi.equinox`: fan-scaled rules at each real layer's own fans, and `wi.scaled`."""

import math
import subprocess
import sys

import chex
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import jax_weightinit as wi
from jax_weightinit import pytorch, testing

LECUN = wi.lecun_normal()


def _stacked_linear(rngs):
    @nnx.vmap(in_axes=0, out_axes=0)
    def make(key):
        return nnx.Linear(64, 96, rngs=nnx.Rngs(key))

    return make(jax.random.split(rngs.params(), 4))


# (layer, parameter, how Flax makes it, the initializer it uses by default written with default axes,
#  the shape Flax hands that initializer).
FLAX_LAYERS = [
    ("Linear", "kernel", lambda r: nnx.Linear(64, 96, rngs=r), LECUN, (64, 96)),
    ("LinearGeneral in->heads", "kernel", lambda r: nnx.LinearGeneral(64, (4, 16), rngs=r), LECUN, (64, 64)),
    (
        "LinearGeneral heads->out",
        "kernel",
        lambda r: nnx.LinearGeneral((4, 16), 96, axis=(-2, -1), rngs=r),
        LECUN,
        (64, 96),
    ),
    (
        "LinearGeneral batch_axis",
        "kernel",
        lambda r: nnx.LinearGeneral(32, 16, axis=1, batch_axis={0: 3}, rngs=r),
        LECUN,
        (96, 16),
    ),
    (
        "MultiHeadAttention",
        "query/kernel",
        lambda r: nnx.MultiHeadAttention(4, 64, decode=False, rngs=r),
        LECUN,
        (64, 64),
    ),
    ("Conv", "kernel", lambda r: nnx.Conv(16, 32, (3, 3), rngs=r), LECUN, (3, 3, 16, 32)),
    ("Conv grouped", "kernel", lambda r: nnx.Conv(16, 32, (3, 3), feature_group_count=4, rngs=r), LECUN, (3, 3, 4, 32)),
    ("ConvTranspose", "kernel", lambda r: nnx.ConvTranspose(16, 32, (3, 3), rngs=r), LECUN, (3, 3, 16, 32)),
    (
        "Embed",
        "embedding",
        lambda r: nnx.Embed(1000, 64, rngs=r),
        wi.variance_scaling(1.0, "fan_in", "normal"),
        (1000, 64),
    ),
    ("Einsum", "kernel", lambda r: nnx.Einsum("ab,bc->ac", (64, 96), rngs=r), LECUN, (64, 96)),
    ("nnx.vmap stack", "kernel", _stacked_linear, LECUN, (64, 96)),
]
# What Flax itself applies by default: jax.nn's initializers, whose law on Flax's shape we state with ours.
FLAX_OWN_LAW = {"Embed": wi.presets.flax_embed()}


def _param(tree, path):
    for part in path.split("/"):
        tree = getattr(tree, part)
    return np.asarray(tree[...], np.float64)


@pytest.mark.parametrize("name, param, make, init, flax_shape", FLAX_LAYERS, ids=[c[0] for c in FLAX_LAYERS])
def test_flax_layer_default_init_reinit_draws_the_layers_own_law(name, param, make, init, flax_shape, key):
    module = make(nnx.Rngs(0))
    own = _param(module, param)
    expected = FLAX_OWN_LAW.get(name, init).distribution(flax_shape)
    rules = [(f"{param}$", init), ("bias$", wi.zeros)]

    row = next(r for r in wi.flax.plan(module, rules) if r.path == param)
    assert math.isclose(row.law.std, expected.std, rel_tol=1e-12)
    assert row.law.family == expected.family
    wi.flax.reinit(module, key, rules, on_unused_rule="ignore")
    testing.assert_same_distribution(_param(module, param), own)


def test_flax_reinit_with_a_5_percent_wider_law_is_caught(key):
    module = nnx.Linear(512, 512, rngs=nnx.Rngs(0))
    own = _param(module, "kernel")
    wi.flax.reinit(module, key, [("kernel$", wi.scaled(LECUN, 1.05)), ("bias$", wi.zeros)])
    with pytest.raises(AssertionError, match="two-sample KS"):
        testing.assert_same_distribution(_param(module, "kernel"), own)


def test_flax_attention_without_layer_fans_is_caught(key):
    """The defect the layer-aware fans fix: init_tree reads a (256, 4, 64) query kernel as 4 in, 64 out, and says
    so, pointing to `wi.flax.reinit`."""
    module = nnx.MultiHeadAttention(4, 256, decode=False, rngs=nnx.Rngs(0))
    own = _param(module, "query/kernel")
    with pytest.warns(UserWarning, match=r"'query/kernel' \(256, 4, 64\).* read as one layer.*wi\.flax\.reinit"):
        state = wi.init_tree(key, nnx.state(module, nnx.Param), [("kernel$", LECUN), ("bias$", wi.zeros)])
    nnx.update(module, state)
    with pytest.raises(AssertionError, match="two-sample KS"):
        testing.assert_same_distribution(_param(module, "query/kernel"), own)


def test_flax_einsum_fans_follow_the_einsum_not_the_kernel_rank():
    """Flax's own Einsum init reads a (512, 8, 64) kernel as 8 in, 64 out with a 512 receptive field."""
    module = nnx.Einsum("btd,dhk->bthk", (512, 8, 64), rngs=nnx.Rngs(0))
    (row,) = wi.flax.plan(module, [("kernel$", wi.he_normal())])
    assert row.fans == (512, 512)
    assert math.isclose(row.law.std, math.sqrt(2 / 512), rel_tol=1e-12)


# (a rule's initializer, the fans the plan shows for nnx.Linear(64, 96)'s (64, 96) kernel).
FANS_KEPT_OR_FOLLOWED = [
    ("default axes follow the layer", wi.he_normal(), (64, 96)),
    ("torch factories follow the layer", pytorch.kaiming_normal(), (64, 96)),
    ("scaled follows the layer", wi.scaled(wi.he_normal(), 0.5), (64, 96)),
    ("explicit axes are kept, within one layer of the stack", wi.he_normal(in_axis=-1, out_axis=-2), (96, 64)),
    ("a fixed law has no fans", wi.normal(0.02), None),
]


@pytest.mark.parametrize("name, init, fans", FANS_KEPT_OR_FOLLOWED, ids=[c[0] for c in FANS_KEPT_OR_FOLLOWED])
def test_which_initializers_take_the_layers_fans(name, init, fans):
    module = _stacked_linear(nnx.Rngs(0))  # kernel (4, 64, 96): read as one kernel, fans would be (64·4, 96·4)
    (_, kernel) = wi.flax.plan(module, [("kernel$", init), ("bias$", wi.zeros)])
    assert kernel.fans == fans
    if fans is not None:
        assert ("(nnx.Linear)" in str(wi.flax.plan(module, [("kernel$", init), ("bias$", wi.zeros)]))) == (
            not name.startswith("explicit axes are kept")
        )


class Block(nnx.Module):
    def __init__(self, rngs):
        self.attn = nnx.MultiHeadAttention(4, 32, decode=False, rngs=rngs)
        self.up = nnx.Linear(32, 64, rngs=rngs)
        self.norm = nnx.LayerNorm(32, rngs=rngs)


RULES = [("kernel$", wi.he_normal()), ("bias$", wi.zeros), ("scale$", wi.ones)]


def test_flax_reinit_keys_are_init_trees_and_it_runs_under_jit(key):
    """Each leaf is its initializer at key_for(key, path); eager, under nnx.jit and from an abstract module."""
    eager = wi.flax.reinit(Block(nnx.Rngs(0)), key, RULES)
    direct = wi.init_tree(key, nnx.state(Block(nnx.Rngs(0)), nnx.Param), [("up/kernel$", wi.he_normal())])
    np.testing.assert_array_equal(eager.up.kernel[...], direct["up"]["kernel"][...])

    jitted = Block(nnx.Rngs(1))
    nnx.jit(lambda m, k: wi.flax.reinit(m, k, RULES))(jitted, key)
    abstract = wi.flax.reinit(nnx.eval_shape(lambda: Block(nnx.Rngs(0))), key, RULES)
    for other in (jitted, abstract):
        chex.assert_trees_all_close(nnx.state(other, nnx.Param), nnx.state(eager, nnx.Param), atol=1e-6)


def test_flax_reinit_takes_nnx_rngs_as_its_key(key):
    """nnx code passes randomness as `nnx.Rngs`: its `params` stream gives the root key, eager and under nnx.jit."""
    by_rngs = wi.flax.reinit(Block(nnx.Rngs(0)), nnx.Rngs(params=7), RULES)
    by_key = wi.flax.reinit(Block(nnx.Rngs(0)), nnx.Rngs(params=7).params(), RULES)
    chex.assert_trees_all_equal(nnx.state(by_rngs, nnx.Param), nnx.state(by_key, nnx.Param))
    jitted = Block(nnx.Rngs(0))
    nnx.jit(lambda m, rngs: wi.flax.reinit(m, rngs, RULES))(jitted, nnx.Rngs(params=7))
    chex.assert_trees_all_close(nnx.state(jitted, nnx.Param), nnx.state(by_key, nnx.Param), atol=1e-6)


def test_each_framework_refuses_the_others_modules(key):
    """A module of the wrong framework is refused rather than read with guessed fans."""
    flax_layer = nnx.Linear(4, 8, rngs=nnx.Rngs(0))
    eqx_layer = eqx.nn.Linear(4, 8, key=key)
    for call in (wi.equinox.reinit, lambda m, k, r: wi.equinox.plan(m, r)):
        with pytest.raises(TypeError, match=r"^`module` must be an Equinox module; got a flax Linear; .*wi\.flax\."):
            call(flax_layer, key, RULES)
    for call in (wi.flax.reinit, lambda m, k, r: wi.flax.plan(m, r)):
        with pytest.raises(TypeError, match=r"^`module` must be a Flax nnx module; got an equinox Linear; .*equinox"):
            call(eqx_layer, key, RULES)
    with pytest.raises(
        TypeError, match=r"got a dict of 1 item; for a params tree \(linen, Haiku\) use wi.init_tree\.$"
    ):
        wi.equinox.reinit({"w": jnp.zeros((4, 4))}, key, RULES)


def test_flax_reinit_leaves_other_variables_and_warns_on_unused_rules(key):
    module = nnx.Sequential(nnx.Linear(8, 8, rngs=nnx.Rngs(0)), nnx.BatchNorm(8, rngs=nnx.Rngs(0)))
    before = nnx.state(module, nnx.BatchStat)
    with pytest.warns(UserWarning, match="kernal"):
        wi.flax.reinit(module, key, [("kernal$", wi.he_normal())])
    chex.assert_trees_all_equal(nnx.state(module, nnx.BatchStat), before)


# (layer, how Equinox makes it, its own default law's bound, or None for its N(0, 1) table).
EQX_LAYERS = [
    ("Linear", lambda k: eqx.nn.Linear(64, 96, key=k), 1 / math.sqrt(64)),
    ("Linear scalar in", lambda k: eqx.nn.Linear("scalar", 4096, key=k), 1.0),
    ("Conv2d", lambda k: eqx.nn.Conv2d(16, 32, 3, key=k), 1 / math.sqrt(16 * 9)),
    ("Conv1d grouped", lambda k: eqx.nn.Conv1d(16, 32, 5, groups=4, key=k), 1 / math.sqrt(4 * 5)),
    ("ConvTranspose2d", lambda k: eqx.nn.ConvTranspose2d(16, 32, 3, key=k), 1 / math.sqrt(16 * 9)),
    (
        "filter_vmap stack",
        lambda k: eqx.filter_vmap(lambda k: eqx.nn.Linear(64, 96, key=k))(jax.random.split(k, 4)),
        1 / math.sqrt(64),
    ),
    ("Embedding", lambda k: eqx.nn.Embedding(1000, 64, key=k), None),
]


@pytest.mark.parametrize("name, make, bound", EQX_LAYERS, ids=[c[0] for c in EQX_LAYERS])
def test_equinox_layer_default_init_reinit_draws_the_layers_own_law(name, make, bound, key):
    module = make(jax.random.key(0))
    init = pytorch.default_weight() if bound is not None else wi.normal(1.0)
    rules = [("weight$|bias$", init)]
    plan = wi.equinox.plan(module, rules)
    for row in plan:
        if bound is None:
            assert row.law.std == 1.0
        else:
            assert math.isclose(row.law.high, bound, rel_tol=1e-12) and row.law.family == "uniform"
    new = wi.equinox.reinit(module, key, rules)
    testing.assert_same_distribution(np.asarray(new.weight), np.asarray(module.weight))


def test_equinox_reinit_with_a_5_percent_wider_law_is_caught(key):
    module = eqx.nn.Linear(512, 512, key=jax.random.key(0))
    new = wi.equinox.reinit(module, key, [("weight$", wi.scaled(pytorch.default_weight(), 1.05)), ("bias$", wi.zeros)])
    with pytest.raises(AssertionError, match="two-sample KS"):
        testing.assert_same_distribution(np.asarray(new.weight), np.asarray(module.weight))


def test_equinox_layer_fans_read_the_out_in_layout(key):
    """A plain `("weight$", he_normal())` reads eqx's (out, in) weight backwards; reinit reads the layer."""
    module = eqx.nn.Linear(256, 64, key=jax.random.key(0))
    rules = [("weight$", wi.he_normal()), ("bias$", wi.zeros)]
    assert wi.equinox.plan(module, rules)[0].fans == (256, 64)
    assert wi.plan(eqx.filter(module, eqx.is_array), rules)[0].fans == (64, 256)
    embedding = eqx.nn.Embedding(1000, 64, key=jax.random.key(0))
    (row,) = wi.equinox.plan(embedding, [("weight$", wi.variance_scaling(1.0, "fan_in", "normal"))])
    assert row.fans == (64, 1000)


def test_equinox_reinit_is_pure_and_runs_under_filter_jit_and_from_an_abstract_module(key):
    make = lambda: eqx.nn.MLP(16, 4, 32, depth=2, key=jax.random.key(0))  # noqa: E731
    rules = [("weight$", wi.he_normal()), ("bias$", wi.zeros)]
    module = make()
    eager = wi.equinox.reinit(module, key, rules)
    np.testing.assert_array_equal(module.layers[0].weight, make().layers[0].weight)
    jitted = eqx.filter_jit(lambda m, k: wi.equinox.reinit(m, k, rules))(module, key)
    abstract = wi.equinox.reinit(eqx.filter_eval_shape(make), key, rules)
    for other in (jitted, abstract):
        chex.assert_trees_all_close(eqx.filter(other, eqx.is_array), eqx.filter(eager, eqx.is_array), atol=1e-6)


def test_importing_the_library_imports_no_framework():
    code = (
        "import sys, jax_weightinit as wi\n"
        "assert not {'flax', 'equinox'} & set(sys.modules), 'imported early'\n"
        "wi.equinox.plan\n"
        "assert 'equinox' in sys.modules and 'flax' not in sys.modules\n"
        "wi.flax.plan\n"
        "assert 'flax' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# (initializer, factor): the scaled law is the law with loc, scale and bounds times the factor.
SCALED = [
    (wi.he_normal(), 0.5),
    (wi.glorot_uniform(), 3.0),
    (wi.truncated_normal(1.0, lower=-1.0, upper=3.0, mean=0.5), 0.25),
    (pytorch.kaiming_uniform(), 2.0),
    (wi.scaled(wi.normal(0.02), 0.5), 0.5),
]


@pytest.mark.parametrize("init, factor", SCALED)
def test_scaled_states_and_samples_the_scaled_law(init, factor, key):
    shape = (3, 3, 64, 128)
    law, base = wi.scaled(init, factor).distribution(shape), init.distribution(shape)
    assert math.isclose(law.std, base.std * factor, rel_tol=1e-12)
    assert math.isclose(law.mean, base.mean * factor, rel_tol=1e-12, abs_tol=1e-300)
    if base.low is not None:
        assert math.isclose(law.low, base.low * factor) and math.isclose(law.high, base.high * factor)
    for dtype in (jnp.float32, jnp.bfloat16):
        testing.assert_follows(wi.scaled(init, factor), key, shape, dtype)


@pytest.mark.parametrize("error", [0.95, 1.05], ids=["std 5% low", "std 5% high"])
def test_scaled_check_catches_a_5_percent_std_error(error, key):
    shape, init = (256, 1024), wi.he_normal()
    with pytest.raises(AssertionError, match="assert_follows"):
        testing.assert_follows(wi.scaled(init, 0.5 * error), key, shape, law=wi.scaled(init, 0.5).distribution(shape))


def test_scaled_constants_and_structured_initializers(key):
    assert float(wi.scaled(wi.ones, 0.25)(key, (2,))[0]) == 0.25
    base = wi.orthogonal()(key, (64, 64), jnp.float32)
    out = wi.scaled(wi.orthogonal(), 0.5)(key, (64, 64), jnp.bfloat16)
    assert out.dtype == jnp.bfloat16
    np.testing.assert_array_equal(out, (base * 0.5).astype(jnp.bfloat16))
    testing.assert_orthogonal(np.asarray(out, np.float32), 0.5, atol=1e-2)


@pytest.mark.parametrize(
    "init, factor, error, match",
    [
        (wi.he_normal(), 0.0, ValueError, "`factor` must be positive"),
        (wi.he_normal(), -1.0, ValueError, "`factor` must be positive"),
        (wi.he_normal(), math.nan, ValueError, "`factor` must be finite"),
        (wi.he_normal(), "2", TypeError, "`factor` must be a real number"),
        (3.0, 2.0, TypeError, "`init` must be an initializer"),
    ],
)
def test_scaled_rejects_bad_arguments(init, factor, error, match):
    with pytest.raises(error, match=match):
        wi.scaled(init, factor)
