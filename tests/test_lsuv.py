"""LSUV: unit-variance layers on held-out data, and a collapsing deep ReLU net recovered."""

import chex
import jax
import jax.numpy as jnp
import pytest

import jax_weightinit as wi

DEPTH, WIDTH = 30, 64


def mlp_params(key, init):
    target = {"layers": [{"kernel": jax.ShapeDtypeStruct((WIDTH, WIDTH), jnp.float32)} for _ in range(DEPTH)]}
    return wi.init_tree(key, target, [("kernel$", init)])


def pre_activations(params, x):
    outputs = []
    for layer in params["layers"]:
        h = x @ layer["kernel"]
        outputs.append(h)
        x = jax.nn.relu(h)
    return outputs


WEIGHTS = [f"layers/{i}/kernel" for i in range(DEPTH)]


def test_plain_init_collapses_and_lsuv_recovers(key):
    train = jax.random.normal(jax.random.fold_in(key, 1), (512, WIDTH))
    held_out = jax.random.normal(jax.random.fold_in(key, 2), (512, WIDTH))
    params = mlp_params(key, wi.xavier())
    assert float(jnp.var(pre_activations(params, held_out)[-1])) < 1e-12  # the plain init's signal dies
    fixed = jax.jit(lambda p, x: wi.lsuv(p, pre_activations, x, WEIGHTS))(params, train)
    for i, h in enumerate(pre_activations(fixed, held_out)):
        assert abs(float(jnp.var(h)) - 1.0) < 0.25, (i, float(jnp.var(h)))


def test_lsuv_twin_without_it_variances_are_far_from_one(key):
    held_out = jax.random.normal(key, (512, WIDTH))
    variances = [float(jnp.var(h)) for h in pre_activations(mlp_params(key, wi.he_normal()), held_out)]
    fixed = wi.lsuv(mlp_params(key, wi.he_normal()), pre_activations, held_out, WEIGHTS)
    fixed_variances = [float(jnp.var(h)) for h in pre_activations(fixed, held_out)]
    assert max(abs(v - 1) for v in variances) > 0.25 > max(abs(v - 1) for v in fixed_variances)


def test_lsuv_only_rescales(key):
    params = mlp_params(key, wi.orthogonal())
    x = jax.random.normal(key, (256, WIDTH))
    fixed = wi.lsuv(params, pre_activations, x, WEIGHTS)
    ratio = fixed["layers"][3]["kernel"] / params["layers"][3]["kernel"]
    chex.assert_trees_all_close(ratio, jnp.full_like(ratio, ratio[0, 0]), rtol=1e-5)


def test_lsuv_bad_arguments(key):
    params = mlp_params(key, wi.he_normal())
    x = jnp.ones((4, WIDTH))
    with pytest.raises(ValueError, match="not in `params`"):
        wi.lsuv(params, pre_activations, x, ["layers/0/weight"])
    with pytest.raises(ValueError, match="returned 30 outputs but `weights` lists 2"):
        wi.lsuv(params, pre_activations, x, WEIGHTS[:2])


def test_lsuv_on_flax_and_equinox(key):
    nn = pytest.importorskip("flax.linen")
    eqx = pytest.importorskip("equinox")
    x = jax.random.normal(key, (256, 32))

    class Net(nn.Module):
        @nn.compact
        def __call__(self, x):
            outs = []
            for i in range(6):
                x = nn.Dense(32, kernel_init=wi.xavier(), name=f"dense_{i}")(x)
                outs.append(x)
                x = nn.tanh(x)
            return outs

    net = Net()
    params = net.init(key, x)
    fixed = wi.lsuv(params, net.apply, x, [f"params/dense_{i}/kernel" for i in range(6)])
    assert all(abs(float(jnp.var(h)) - 1) < 0.05 for h in net.apply(fixed, x))

    mlp = eqx.nn.MLP(32, 32, 32, depth=5, activation=jnp.tanh, key=key)
    leaves, static = eqx.partition(mlp, eqx.is_inexact_array)

    def outputs(p, batch):
        model, h, outs = eqx.combine(p, static), batch, []
        for layer in model.layers:
            h = jax.vmap(layer)(h)
            outs.append(h)
            h = jnp.tanh(h)
        return outs

    fixed = wi.lsuv(leaves, outputs, x, [f"layers/{i}/weight" for i in range(6)])
    assert all(abs(float(jnp.var(h)) - 1) < 0.1 for h in outputs(fixed, x))


def test_a_dead_layer_is_left_alone_and_the_layers_after_it_stay_finite():
    params = {"l0": jnp.zeros((4, 4)), "l1": 0.1 * jnp.eye(4)}
    outputs = lambda p, x: [x @ p["l0"], x @ p["l0"] @ p["l1"] + x]  # noqa: E731
    x = jax.random.normal(jax.random.key(0), (256, 4))
    new = wi.lsuv(params, outputs, x, ["l0", "l1"])
    assert float(jnp.abs(new["l0"]).max()) == 0.0
    assert bool(jnp.isfinite(new["l1"]).all())


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"weights": "l0"}, TypeError, "`weights` must be a sequence of paths"),
        ({"tol": -0.1}, ValueError, "`tol` must be a number in"),
        ({"tol": float("nan")}, ValueError, "`tol` must be a number in"),
        ({"max_iter": 0}, ValueError, "`max_iter` must be a positive int"),
        ({"layer_outputs": lambda p, x: {"a": x @ p["l0"]}}, TypeError, "must return a list"),
    ],
)
def test_lsuv_refuses_bad_arguments(kwargs, error, match):
    params = {"l0": jnp.eye(4)}
    call = {"layer_outputs": lambda p, x: [x @ p["l0"]], "weights": ["l0"], **kwargs}
    with pytest.raises(error, match=match):
        wi.lsuv(params, call.pop("layer_outputs"), jnp.ones((8, 4)), call.pop("weights"), **call)
