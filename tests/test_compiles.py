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


def _lowerings(f) -> int:
    """How many programs JAX lowers to XLA while `f()` runs (each one compiled, or read from the disk cache)."""
    events = []

    def listener(event: str, duration: float, **_) -> None:
        if event == "/jax/core/compile/jaxpr_to_mlir_module_duration":
            events.append(event)

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        jax.block_until_ready(f())
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)
    return len(events)


# An eager vmap over keys, as `jax.vmap(init)(keys)` and an eager `nnx.vmap` stack call it.
EAGER_VMAPS = [wi.he_normal(), wi.truncated_normal(0.02), wi.glorot_uniform()]


@pytest.mark.parametrize("init", EAGER_VMAPS, ids=repr)
def test_an_eager_vmap_over_keys_lowers_nothing_once_warm(init):
    keys = jax.random.split(KEY, 8)
    draw = jax.vmap(lambda k: init(k, (64, 64)))
    first = draw(keys)
    assert _lowerings(lambda: draw(keys)) == 0
    np.testing.assert_array_equal(draw(keys), first)


def test_twin_a_vmap_rule_built_anew_each_call_is_caught(monkeypatch):
    """Twin: the batching rule's program rebuilt on every call (no cache) lowers again on every warm call."""
    from jax_weightinit._src import sampling

    monkeypatch.setattr(sampling, "_keys_in_turn", sampling._keys_in_turn.__wrapped__)
    keys = jax.random.split(KEY, 8)
    draw = jax.vmap(lambda k: wi.he_normal()(k, (64, 64)))
    draw(keys)
    assert _lowerings(lambda: draw(keys)) > 0
