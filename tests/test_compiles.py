"""What shares a compiled program: numbers that are data, not constants, and no host work at trace time."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jax_weightinit as wi
from jax_weightinit import pytorch

KEY = jax.random.key(0)


def test_negative_zero_scale_is_not_served_from_the_cache_of_zero(key):
    assert not np.signbit(np.asarray(wi.identity(0.0)(key, (2, 2)))).any()
    assert np.signbit(np.asarray(wi.identity(-0.0)(key, (2, 2)))).any()


@pytest.mark.parametrize(
    "init, shape, dtype",
    [
        (wi.zero_hadamard(), (4, 20000), jnp.float32),
        (wi.identity(), (16384, 16384), jnp.bfloat16),
        (wi.zero_hadamard(), (3, 3, 64, 2**20), jnp.float32),
    ],
)
def test_structured_initializers_build_nothing_on_the_host_under_eval_shape(init, shape, dtype):
    """Each used to build a dense float64 matrix on the host at trace time (4 × 20000: 39 s, 12.6 GB)."""
    out = jax.eval_shape(lambda k: init(k, shape, dtype), KEY)
    assert out.shape == shape and out.dtype == dtype


def test_complex_sampling_compiles_once_for_every_scale(key):
    from jax_weightinit._src import sampling

    before = sampling._sample_complex._cache_size()
    draws = [wi.normal(s)(key, (64, 64), jnp.complex64) for s in (0.1, 0.2, 0.5, 1.0, 2.0, 3.0, 5.0, 7.0, 9.0, 11.0)]
    assert sampling._sample_complex._cache_size() - before <= 1
    np.testing.assert_allclose(np.asarray(draws[3]) * 0.2, np.asarray(draws[1]), rtol=1e-6)


@pytest.mark.parametrize(
    "factory, shape",
    [(wi.orthogonal, (8, 8)), (wi.delta_orthogonal, (3, 3, 8, 8)), (pytorch.orthogonal, (8, 2, 3))],
    ids=["orthogonal", "delta_orthogonal", "pytorch.orthogonal"],
)
def test_orthogonal_scales_are_data_one_compile_serves_them_all(factory, shape, key):
    """A scale is a number the program reads, not a constant it is compiled for: ten scales, one program."""
    from jax_weightinit._src import structured

    scales = [1 + i * 1e-3 for i in range(10)]
    before = structured._compiled_build._cache_size()
    draws = [np.asarray(factory(s)(key, shape), np.float64) for s in scales]
    assert structured._compiled_build._cache_size() - before <= 1
    base = draws[0] / scales[0]
    for s, w in zip(scales, draws, strict=True):
        np.testing.assert_allclose(w, s * base, rtol=2e-6, atol=1e-7)  # the same matrix, scaled
    other = np.asarray(factory(1.0)(jax.random.key(1), shape), np.float64)
    assert np.abs(other - base).max() > 0.1  # the twin: another key is another matrix


def test_sparse_stddevs_are_data_one_compile_serves_them_all(key):
    """`sparse(p, s)`: ten stds, one program; the non-zero entries are exactly `normal(s)`'s draw there."""
    from jax_weightinit._src import structured

    stds = [0.5 + i * 1e-3 for i in range(10)]
    before = structured._compiled_build._cache_size()
    draws = [np.asarray(wi.sparse(0.5, s)(key, (16, 8))) for s in stds]
    assert structured._compiled_build._cache_size() - before <= 1
    for s, w in zip(stds, draws, strict=True):
        dense = np.asarray(wi.normal(s)(key, (16, 8)))
        np.testing.assert_array_equal(w[w != 0], dense[w != 0])
        assert ((w == 0).sum(axis=0) == 8).all()
    other = np.asarray(wi.sparse(0.5, stds[0])(jax.random.key(1), (16, 8)))
    assert not np.array_equal(other, draws[0])  # the twin: another key is another draw
