"""Hyperparameters as data: scales, stds, means, gains and bounds traced by `jit`, `vmap` and `grad`."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jax_weightinit as wi
from jax_weightinit import pytorch, testing

KEY = jax.random.key(7)
SCALES = jnp.array([0.01, 0.02, 0.05], jnp.float32)

# (case, the initializer at a value s, shape, the most ulps a traced s may differ from the concrete one in float32).
# 0 where the law's numbers are s itself or s times a power of two; 2 where its formula rounds (a square root of
# s over the fans in float32: the host computes it in float64; under jax_enable_x64 these agree bit for bit too).
CASES = [
    ("normal stddev", lambda s: wi.normal(s), (256, 9), 0),
    ("normal mean", lambda s: wi.normal(0.02, mean=s), (16, 16), 0),
    ("uniform scale", lambda s: wi.uniform(s), (64, 64), 0),
    ("truncated_normal stddev", lambda s: wi.truncated_normal(s), (33, 7), 0),
    ("variance_scaling truncated", lambda s: wi.variance_scaling(s, "fan_in", "truncated_normal"), (64, 64), 2),
    ("variance_scaling uniform", lambda s: wi.variance_scaling(s, "fan_avg", "uniform"), (64, 64), 2),
    ("orthogonal scale", lambda s: wi.orthogonal(s), (32, 16), 0),
    ("delta_orthogonal scale", lambda s: wi.delta_orthogonal(s), (3, 3, 16, 16), 0),
    ("scaled factor", lambda s: wi.scaled(wi.he_normal(), s), (64, 64), 2),
    ("pytorch.normal std", lambda s: pytorch.normal(0.0, s), (16, 16), 0),
    ("pytorch.uniform bounds", lambda s: pytorch.uniform(-s, s), (16, 16), 0),
    ("pytorch.xavier_normal gain", lambda s: pytorch.xavier_normal(s), (16, 32), 2),
    ("pytorch.kaiming_uniform a", lambda s: pytorch.kaiming_uniform(a=s), (16, 32), 2),
    # Bounds themselves traced: the standardized numbers are computed in the trace, not on the host.
    ("pytorch.trunc_normal bounds", lambda s: pytorch.trunc_normal(0.0, 1.0, -s, s), (64, 64), 4),
]
IDS = [c[0] for c in CASES]


def _ulps(a: jax.Array, b: jax.Array) -> int:
    """The largest distance between `a` and `b` in units of the last place of their dtype."""
    width = {2: np.int16, 4: np.int32}[np.dtype(a.dtype).itemsize]
    return int(np.abs(np.asarray(a).view(width).astype(np.int64) - np.asarray(b).view(width).astype(np.int64)).max())


def _swept(make, shape, dtype=jnp.float32):
    return jax.jit(jax.vmap(lambda s: make(s)(KEY, shape, dtype)))(SCALES)


@pytest.mark.parametrize("name, make, shape, ulps", CASES, ids=IDS)
def test_a_sweep_under_jit_and_vmap_draws_each_value_as_its_concrete_call(name, make, shape, ulps):
    swept = _swept(make, shape)
    for i, s in enumerate(SCALES):
        assert _ulps(swept[i], make(float(s))(KEY, shape)) <= ulps, f"{name} at {float(s)}"


@pytest.mark.parametrize("name, make, shape, ulps", CASES[:6], ids=IDS[:6])
def test_a_traced_bfloat16_draw_is_rounded_once_as_the_concrete_one(name, make, shape, ulps):
    swept = _swept(make, shape, jnp.bfloat16)
    for i, s in enumerate(SCALES):
        assert _ulps(swept[i], make(float(s))(KEY, shape, jnp.bfloat16)) == 0, f"{name} at {float(s)}"


@pytest.mark.parametrize("name, make, shape, ulps", CASES, ids=IDS)
def test_a_sweep_drawn_at_a_scale_5_percent_off_is_caught(name, make, shape, ulps):
    """The planted defect: the concrete call at 1.05 times each value; the comparison above must fail."""
    swept = _swept(make, shape)
    assert all(_ulps(swept[i], make(1.05 * float(s))(KEY, shape)) > ulps for i, s in enumerate(SCALES))


def test_a_traced_draw_follows_its_law_and_a_wrong_law_is_caught():
    swept = _swept(lambda s: wi.truncated_normal(s), (512, 512))
    for i, s in enumerate(SCALES):
        law = wi.truncated_normal(float(s)).distribution((512, 512))
        testing.assert_ks(swept[i], law.cdf)
        with pytest.raises(AssertionError):  # the planted defect: the law 5% wider
            testing.assert_ks(swept[i], law.scaled(1.05).cdf)


# (case, the initializer at s, the unit-scale initializer whose draw is d draw / d s).
TANGENTS = [
    ("normal", lambda s: wi.normal(s), wi.normal(1.0)),
    ("truncated_normal", lambda s: wi.truncated_normal(s), wi.truncated_normal(1.0)),
    ("uniform", lambda s: wi.uniform(s), wi.uniform(1.0)),
    ("orthogonal", lambda s: wi.orthogonal(s), wi.orthogonal(1.0)),
]


@pytest.mark.parametrize("name, make, unit", TANGENTS, ids=[c[0] for c in TANGENTS])
def test_the_derivative_by_the_scale_is_the_unit_scale_draw(name, make, unit):
    shape = (64, 32)
    _, forward = jax.jvp(lambda s: make(s)(KEY, shape), (0.02,), (1.0,))
    np.testing.assert_array_equal(forward, unit(KEY, shape))
    reverse = jax.grad(lambda s: jnp.vdot(make(s)(KEY, shape), unit(KEY, shape)))(0.02)
    np.testing.assert_allclose(reverse, jnp.vdot(unit(KEY, shape), unit(KEY, shape)), rtol=1e-5)
    # As jax.nn's: its scale is a multiplier, so its derivative is its own unit draw.
    jax_nn = jax.jvp(lambda s: jax.nn.initializers.normal(s)(KEY, shape), (0.02,), (1.0,))[1]
    np.testing.assert_array_equal(jax_nn, jax.nn.initializers.normal(1.0)(KEY, shape))


def test_a_derivative_at_the_wrong_scale_is_caught():
    """The planted defect: a tangent compared with the draw of 1.05, not 1."""
    _, forward = jax.jvp(lambda s: wi.normal(s)(KEY, (64, 32)), (0.02,), (1.0,))
    assert not np.array_equal(forward, wi.normal(1.05)(KEY, (64, 32)))


def test_a_traced_law_is_stated_with_traced_numbers_inside_the_trace():
    def stds(s):
        return (
            wi.normal(s).distribution((4, 4)).std,
            wi.variance_scaling(s, "fan_in", "truncated_normal").distribution((256, 4)).std,
        )

    normal_std, fan_std = jax.jit(stds)(0.5)
    assert float(normal_std) == 0.5
    np.testing.assert_allclose(fan_std, (0.5 / 256) ** 0.5, rtol=1e-6)


# (what a traced argument is given, the error).
BAD = [
    (lambda s: wi.normal(s), jnp.ones(3), TypeError, "`stddev` must be one real number, not an array of shape"),
    (lambda s: wi.uniform(s), jnp.array(True), TypeError, "`scale` must be a real number; got a traced value of dtype"),
    (
        lambda s: wi.truncated_normal(1.0, lower=-s, upper=s, stddev_after_truncation=True),
        jnp.float32(2.0),
        TypeError,
        "`stddev_after_truncation` needs concrete bounds",
    ),
    (
        lambda s: wi.pytorch.trunc_normal(0.0, 1.0, -s, s).distribution((4,)).std,
        jnp.float32(2.0),
        TypeError,
        "the mean and std of a normal truncated to traced bounds are not computed inside a trace",
    ),
]


@pytest.mark.parametrize("make, value, error, message", BAD, ids=[m for *_, m in BAD])
def test_a_traced_argument_that_cannot_be_is_refused_in_one_sentence(make, value, error, message):
    with pytest.raises(error, match=message):
        jax.jit(make)(value)


@pytest.mark.parametrize("value", [0.0, -0.02, float("nan")])
def test_a_traced_scale_that_is_no_scale_draws_nan_not_a_wrong_array(value):
    out = jax.jit(lambda s: wi.truncated_normal(s)(KEY, (8, 8)))(jnp.float32(value))
    assert bool(jnp.isnan(out).all())


PARAMS = {
    f"block{i}": {
        "kernel": jax.ShapeDtypeStruct((64, 64), jnp.float32),
        "bias": jax.ShapeDtypeStruct((64,), jnp.float32),
    }
    for i in range(12)
}


def _rules(s):
    return [("kernel$", wi.variance_scaling(s, "fan_in", "normal")), ("bias$", wi.normal(0.1 * s))]


def test_a_sweep_of_whole_models_draws_each_as_its_concrete_init():
    swept = jax.jit(jax.vmap(lambda s: wi.init_tree(KEY, PARAMS, _rules(s))))(SCALES)
    eager = jax.vmap(lambda s: wi.init_tree(KEY, PARAMS, _rules(s)))(SCALES)
    for i, s in enumerate(SCALES):
        concrete = wi.init_tree(KEY, PARAMS, _rules(float(s)))
        leaves = zip(jax.tree.leaves(swept), jax.tree.leaves(eager), jax.tree.leaves(concrete), strict=True)
        for got, again, want in leaves:
            assert _ulps(got[i], want) <= 2 and _ulps(again[i], want) <= 2


def test_a_sweep_of_many_values_compiles_one_program():
    init = jax.jit(lambda s: wi.init_tree(KEY, PARAMS, _rules(s)))
    for s in (0.5, 1.0, 2.0, 3.0):
        init(jnp.float32(s))
    assert init._cache_size() == 1


def test_gradinit_multipliers_get_the_gradient_of_their_layer():
    """d/dm_i of Σ‖m_i·W_i‖² is 2·m_i·‖W_i‖², W_i the unit draw of layer i."""

    def rules(m):
        return [(f"^block{i}/kernel", wi.scaled(wi.he_normal(), m[i])) for i in range(12)] + [("bias$", wi.zeros)]

    def loss(m):
        params = wi.init_tree(KEY, PARAMS, rules(m))
        return sum(jnp.sum(params[f"block{i}"]["kernel"] ** 2) for i in range(12))

    m = jnp.linspace(0.5, 1.5, 12)
    unit = wi.init_tree(KEY, PARAMS, rules(np.ones(12)))
    expected = [2 * float(m[i]) * float(jnp.sum(unit[f"block{i}"]["kernel"] ** 2)) for i in range(12)]
    np.testing.assert_allclose(jax.grad(loss)(m), expected, rtol=1e-4)


def test_the_plan_shows_a_traced_law_as_traced():
    def plan(s):
        text = str(wi.plan(PARAMS, _rules(s)))
        assert "variance_scaling(<traced>, 'fan_in', 'normal')" in text and "traced" in text.splitlines()[1]
        return s

    jax.jit(plan)(1.0)


def test_equinox_reinit_takes_a_traced_scale():
    layer = eqx.nn.Linear(64, 32, key=KEY)
    rules = lambda s: [("weight$", pytorch.kaiming_uniform(a=s)), ("bias$", wi.zeros)]  # noqa: E731
    swept = jax.jit(jax.vmap(lambda s: wi.equinox.reinit(layer, KEY, rules(s)).weight))(SCALES)
    for i, s in enumerate(SCALES):
        assert _ulps(swept[i], wi.equinox.reinit(layer, KEY, rules(float(s))).weight) <= 2


def test_grad_flows_through_a_model_whose_leaves_are_drawn_one_after_another():
    """Leaves of three shapes are three groups, each drawn after the last (`generation._after`); `grad` by the
    multipliers under `jit` goes through that order as through the draws (the order's flag once broke it)."""
    params = {name: jax.ShapeDtypeStruct(shape, jnp.float32) for name, shape in (("a", (32, 64)), ("b", (64, 16)))}
    params["c"] = jax.ShapeDtypeStruct((16, 8), jnp.float32)

    def rules(m):
        return [(name, wi.scaled(wi.he_normal(), m[i])) for i, name in enumerate(("a", "b", "c"))]

    def loss(m):
        return sum(jnp.sum(leaf**2) for leaf in jax.tree.leaves(wi.init_tree(KEY, params, rules(m))))

    unit = wi.init_tree(KEY, params, rules(np.ones(3)))
    m = jnp.array([0.5, 1.0, 2.0])
    expected = [2 * float(m[i]) * float(jnp.sum(unit[name] ** 2)) for i, name in enumerate(("a", "b", "c"))]
    np.testing.assert_allclose(jax.jit(jax.value_and_grad(loss))(m)[1], expected, rtol=1e-4)
