"""Structured initializers: orthogonality, Dirac as an identity conv, exact sparsity, ZerO, gains."""

import math

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jax_weightinit as wi
from jax_weightinit import testing

ORTHO_SHAPES = [(16, 16), (8, 32), (32, 8), (3, 3, 16, 32), (5, 7, 4)]


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16, jnp.float16], ids=["float32", "bfloat16", "float16"])
@pytest.mark.parametrize("shape", ORTHO_SHAPES, ids=str)
def test_orthogonal_rows_or_columns(shape, dtype, key):
    w = wi.orthogonal(1.5)(key, shape, dtype)
    chex.assert_shape(w, shape)
    chex.assert_type(w, dtype)
    testing.assert_orthogonal(w, 1.5)


def test_orthogonal_twin_catches_a_skewed_matrix(key):
    w = wi.orthogonal()(key, (16, 16)).at[0, 0].add(0.01)
    with pytest.raises(AssertionError):
        testing.assert_orthogonal(w)


def test_orthogonal_column_axis_and_complex(key):
    w = wi.orthogonal(column_axis=0)(key, (16, 3, 3))
    testing.assert_orthogonal(w, column_axis=0)
    z = wi.orthogonal()(key, (8, 8), jnp.complex64)
    chex.assert_trees_all_close(z @ z.conj().T, jnp.eye(8, dtype=jnp.complex64), atol=1e-5)


def test_orthogonal_is_haar(key):
    """A Haar orthogonal matrix's entries have variance 1/n: compare with jax.nn's sampler."""
    ours = jax.vmap(lambda k: wi.orthogonal()(k, (32, 32)))(jax.random.split(key, 64))
    theirs = jax.vmap(lambda k: jax.nn.initializers.orthogonal()(k, (32, 32)))(jax.random.split(key, 64))
    testing.assert_same_distribution(ours, theirs)
    testing.assert_moments(ours, mean=0.0, std=1 / math.sqrt(32))


def test_orthogonal_batched_by_vmap_and_empty(key):
    w = jax.vmap(lambda k: wi.orthogonal()(k, (4, 8)))(jax.random.split(key, 3))
    for matrix in w:
        testing.assert_orthogonal(matrix)
    chex.assert_shape(wi.orthogonal()(key, (0, 4)), (0, 4))


def test_delta_orthogonal_centre_matches_jax(key):
    shape = (4, 4, 8, 8)
    ours = wi.delta_orthogonal()(key, shape)
    assert (ours.sum(axis=(2, 3)) != 0).sum() == 1
    testing.assert_orthogonal(ours[1, 1])  # (k - 1) // 2 = 1 for k = 4
    theirs = jax.nn.initializers.delta_orthogonal()(key, shape)
    assert (theirs[1, 1] != 0).any()


@pytest.mark.parametrize(("spatial", "groups"), [((5,), 1), ((3, 3), 1), ((3, 3), 2), ((3, 3, 3), 1), ((3, 5), 4)])
def test_dirac_conv_is_identity(spatial, groups, key):
    channels = 8
    w = wi.dirac(groups)(key, (*spatial, channels // groups, channels))
    x = jax.random.normal(key, (2, *[6] * len(spatial), channels))
    dims = "".join("DHW"[-len(spatial) :])
    numbers = jax.lax.conv_dimension_numbers(x.shape, w.shape, (f"N{dims}C", f"{dims}IO", f"N{dims}C"))
    y = jax.lax.conv_general_dilated(
        x, w, (1,) * len(spatial), "SAME", dimension_numbers=numbers, feature_group_count=groups
    )
    chex.assert_trees_all_close(y, x)


def test_dirac_twin_a_shifted_kernel_is_not_identity(key):
    w = jnp.roll(wi.dirac()(key, (3, 3, 4, 4)), 1, axis=0)
    x = jax.random.normal(key, (1, 6, 6, 4))
    y = jax.lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
    assert not jnp.allclose(y, x)


@pytest.mark.parametrize(("rows", "sparsity"), [(10, 0.1), (10, 0.25), (7, 0.5), (16, 0.0), (5, 1.0)])
def test_sparse_zero_count_per_column(rows, sparsity, key):
    w = wi.sparse(sparsity, stddev=0.5)(key, (rows, 300))
    np.testing.assert_array_equal((np.asarray(w) == 0).sum(axis=0), math.ceil(sparsity * rows))


def test_sparse_nonzeros_are_normal(key):
    w = np.asarray(wi.sparse(0.5, stddev=0.5)(key, (512, 512)))
    nonzero = w[w != 0]
    testing.assert_ks(nonzero, wi.normal(0.5).distribution((1,)).cdf)
    with pytest.raises(AssertionError):
        testing.assert_ks(nonzero, wi.normal(0.525).distribution((1,)).cdf)


def test_identity_and_batches(key):
    chex.assert_trees_all_equal(wi.identity()(key, (3, 4)), jnp.eye(3, 4))
    w = wi.identity(0.5)(key, (2, 3, 3))
    chex.assert_trees_all_equal(w, jnp.broadcast_to(0.5 * jnp.eye(3), (2, 3, 3)))


@pytest.mark.parametrize(("fan_in", "fan_out"), [(4, 4), (8, 4), (4, 8), (3, 5), (16, 64)])
def test_zero_hadamard_matches_the_paper(fan_in, fan_out, key):
    """Checked against H[i, j] = (-1)^popcount(i & j), an independent form of Sylvester's matrix."""
    w = np.asarray(wi.zero_hadamard()(key, (fan_in, fan_out)), np.float64)
    if fan_out <= fan_in:
        expected = np.eye(fan_in, fan_out)
    else:
        k = math.ceil(math.log2(fan_out))
        signs = [[(-1) ** bin(i & j).count("1") for j in range(fan_out)] for i in range(fan_in)]
        expected = 2.0 ** (-(k - 1) / 2) * np.array(signs)
    np.testing.assert_allclose(w, expected, rtol=1e-6)


def test_zero_hadamard_kernel_holds_the_matrix_at_the_centre(key):
    w = wi.zero_hadamard()(key, (3, 3, 4, 8))
    chex.assert_trees_all_equal(w[1, 1], wi.zero_hadamard()(key, (4, 8)))
    assert float(jnp.abs(w).sum()) == float(jnp.abs(w[1, 1]).sum())


GAINS = [
    ("linear", None, 1.0),
    ("conv2d", None, 1.0),
    ("conv_transpose3d", None, 1.0),
    ("sigmoid", None, 1.0),
    ("tanh", None, 5.0 / 3),
    ("relu", None, math.sqrt(2.0)),
    ("leaky_relu", None, math.sqrt(2.0 / (1 + 0.01**2))),
    ("leaky_relu", 0.2, math.sqrt(2.0 / (1 + 0.2**2))),
    ("leaky_relu", 1, 1.0),
    ("selu", None, 0.75),
]


@pytest.mark.parametrize(("nonlinearity", "param", "gain"), GAINS)
def test_calculate_gain_is_torch_table(nonlinearity, param, gain):
    assert wi.calculate_gain(nonlinearity, param) == gain


def test_sparse_reaches_as_far_as_its_float32_sampler(key):
    """Its nonzero entries are N(0, stddev²) drawn at float32 (5.2947 std at most), so stddev 12,370 fits float16:
    the float16 draw is the float32 one rounded once."""
    init = wi.sparse(0.1, 12370.0)
    w = init(key, (256, 256), jnp.float16)
    assert np.isfinite(np.asarray(w, np.float32)).all()
    assert np.asarray(w).tobytes() == np.asarray(init(key, (256, 256), jnp.float32).astype(jnp.float16)).tobytes()


def test_delta_orthogonal_draws_complex_as_jax_nn_does(key):
    w = wi.delta_orthogonal()(key, (3, 4, 4), jnp.complex64)
    chex.assert_type(w, jnp.complex64)
    centre = np.asarray(w[1], np.complex128)
    np.testing.assert_allclose(centre @ centre.conj().T, np.eye(4), atol=1e-5)  # unitary
    assert not np.abs(np.asarray(w[0])).any() and np.abs(centre.imag).max() > 0.1


def test_zero_hadamard_is_the_sylvester_matrix_from_indices(key):
    def sylvester(m):
        h = np.ones((1, 1))
        for _ in range(m):
            h = np.block([[h, h], [h, -h]])
        return h

    got = np.asarray(wi.zero_hadamard()(key, (5, 12)))
    np.testing.assert_array_equal(got, (2.0**-1.5 * sylvester(4)[:5, :12]).astype(np.float32))
    np.testing.assert_array_equal(np.asarray(wi.zero_hadamard()(key, (6, 4))), np.eye(6, 4))
