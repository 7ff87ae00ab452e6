"""Parity with the real torch.nn.init, where torch is installed (CI need not install it)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jax_weightinit import pytorch, testing

torch = pytest.importorskip("torch")

SHAPE = (64, 32, 3, 3)

PAIRS = [
    ("uniform", lambda t: torch.nn.init.uniform_(t, -0.5, 2.0), pytorch.uniform(-0.5, 2.0)),
    ("normal", lambda t: torch.nn.init.normal_(t, 1.0, 0.3), pytorch.normal(1.0, 0.3)),
    (
        "trunc_normal",
        lambda t: torch.nn.init.trunc_normal_(t, 0.0, 1.0, -1.0, 3.0),
        pytorch.trunc_normal(0.0, 1.0, -1.0, 3.0),
    ),
    ("xavier_uniform", lambda t: torch.nn.init.xavier_uniform_(t, 1.3), pytorch.xavier_uniform(1.3)),
    ("xavier_normal", lambda t: torch.nn.init.xavier_normal_(t), pytorch.xavier_normal()),
    ("kaiming_uniform", lambda t: torch.nn.init.kaiming_uniform_(t, a=0.1), pytorch.kaiming_uniform(0.1)),
    (
        "kaiming_normal fan_out relu",
        lambda t: torch.nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"),
        pytorch.kaiming_normal(mode="fan_out", nonlinearity="relu"),
    ),
    ("nn.Conv2d default", lambda t: torch.nn.init.kaiming_uniform_(t, a=math.sqrt(5)), pytorch.default_weight()),
]


@pytest.mark.parametrize(("name", "torch_init", "ours"), PAIRS, ids=[p[0] for p in PAIRS])
def test_same_law_as_torch(name, torch_init, ours):
    torch.manual_seed(0)
    theirs = torch_init(torch.empty(SHAPE)).numpy()
    mine = np.asarray(ours(jax.random.key(0), SHAPE, jnp.float32))
    testing.assert_same_distribution(mine, theirs)
    testing.assert_follows(ours, jax.random.key(1), SHAPE, jnp.float32)


def test_twin_a_different_gain_is_caught():
    torch.manual_seed(0)
    theirs = torch.nn.init.kaiming_uniform_(torch.empty(SHAPE)).numpy()
    with pytest.raises(AssertionError):
        testing.assert_same_distribution(np.asarray(pytorch.default_weight()(jax.random.key(0), SHAPE)), theirs)


def test_bounds_equal_torch_to_the_bit():
    t = torch.nn.Linear(300, 7)
    bound = pytorch.default_weight().distribution(tuple(t.weight.shape)).high
    assert float(t.weight.detach().abs().max()) <= bound
    fan_in = torch.nn.init._calculate_fan_in_and_fan_out(t.weight)[0]
    assert bound == pytest.approx(1 / math.sqrt(fan_in), rel=1e-15)


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4)])
def test_eye_matches(shape):
    np.testing.assert_array_equal(
        pytorch.eye()(jax.random.key(0), shape), torch.nn.init.eye_(torch.empty(shape)).numpy()
    )


@pytest.mark.parametrize(
    ("shape", "groups"), [((4, 4, 3), 1), ((6, 3, 3, 3), 2), ((4, 2, 2, 2), 2), ((8, 4, 3, 3, 3), 1)]
)
def test_dirac_matches(shape, groups):
    ours = np.asarray(pytorch.dirac(groups)(jax.random.key(0), shape))
    np.testing.assert_array_equal(ours, torch.nn.init.dirac_(torch.empty(shape), groups).numpy())


@pytest.mark.parametrize(
    ("nonlinearity", "param"),
    [
        ("linear", None),
        ("conv_transpose2d", None),
        ("sigmoid", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.3),
        ("selu", None),
    ],
)
def test_gains_equal_torch(nonlinearity, param):
    assert pytorch.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(nonlinearity, param)


def test_sparse_zero_count_matches_torch():
    ours = np.asarray(pytorch.sparse(0.3)(jax.random.key(0), (10, 50)))
    theirs = torch.nn.init.sparse_(torch.empty(10, 50), 0.3).numpy()
    np.testing.assert_array_equal((ours == 0).sum(0), (theirs == 0).sum(0))
