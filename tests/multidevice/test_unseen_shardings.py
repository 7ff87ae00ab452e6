"""`init_tree` under the caller's `jit(out_shardings=)`, the shardings unseen by the library: no collectives, the
eager values, and stacked leaves drawn layer by layer so that temporaries stay near one layer."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import AxisType, NamedSharding
from jax.sharding import PartitionSpec as P

import jax_weightinit as wi

# Every last dimension a multiple of 128: one that is not is padded on CPU to keep its bits those of the eager draw
# (`sampling.in_whole_vectors`), and under unseen shardings the partitioner moves the padding (collective-permutes).
LAYERS, D, F, VOCAB = 8, 256, 1024, 1024
COLLECTIVE = re.compile(r"\b(all-reduce|all-gather|reduce-scatter|all-to-all|collective-permute)(-start)?\(")


def model():
    def leaf(*shape):
        return jax.ShapeDtypeStruct(shape, jnp.float32)

    layers = {"up": leaf(LAYERS, D, F), "down": leaf(LAYERS, F, D), "gate": leaf(LAYERS, D, F), "norm": leaf(LAYERS, D)}
    return {"embed": leaf(VOCAB, D), "layers": layers, "head": leaf(D, VOCAB)}


def shardings(mesh):
    def named(*spec):
        return NamedSharding(mesh, P(*spec))

    layers = {
        "up": named(None, "data", "model"),
        "down": named(None, "model", "data"),
        "gate": named(None, "data", "model"),
        "norm": named(None, "data"),
    }
    return {"embed": named("model", "data"), "layers": layers, "head": named("data", "model")}


RULES = [("norm", wi.ones), ("", wi.normal(0.02))]


def compiled(stacked, kind=AxisType.Auto, told=False):
    """`init_tree` compiled under `jit(out_shardings=)`; `told` also hands the shardings to `init_tree` itself."""
    mesh = jax.make_mesh((2, 4), ("data", "model"), axis_types=(kind, kind))
    given = shardings(mesh) if told else None
    init = jax.jit(
        lambda k: wi.init_tree(k, model(), RULES, stacked=stacked, out_shardings=given), out_shardings=shardings(mesh)
    )
    with jax.set_mesh(mesh):  # an Explicit mesh's jit needs it; an Auto one takes it as well
        return init, init.lower(jax.random.key(0)).compile()


@pytest.mark.parametrize("kind", [AxisType.Auto, AxisType.Explicit], ids=["auto mesh", "explicit mesh"])
@pytest.mark.parametrize("stacked", [[("^layers/", 1)], [("", 0)]], ids=["stacked", "read as one layer each"])
def test_no_collectives_and_the_eager_values(key, stacked, kind):
    init, program = compiled(stacked, kind)
    assert not COLLECTIVE.findall(program.as_text())
    out = program(key)
    expected = wi.init_tree(key, model(), RULES, stacked=stacked)
    for got, want in zip(jax.tree.leaves(out), jax.tree.leaves(expected), strict=True):
        np.testing.assert_array_equal(got, want)
    assert out["layers"]["up"].sharding.spec == P(None, "data", "model")


def test_stacked_leaves_drawn_layer_by_layer_keep_temporaries_near_one_layer():
    """The stacked leaves' temporaries stay a fraction of the output; the twin, the same leaves read as one layer
    each and so drawn whole, needs more than the output again."""
    by_layer = compiled([("^layers/", 1)])[1].memory_analysis()
    whole = compiled([("", 0)])[1].memory_analysis()
    assert by_layer.temp_size_in_bytes < 0.5 * by_layer.output_size_in_bytes
    assert whole.temp_size_in_bytes > 1.0 * whole.output_size_in_bytes


def test_an_explicit_mesh_draws_split_when_told_the_shardings():
    """Under an Explicit mesh JAX's types carry the layout, and a draw not told it is replicated (as jax.nn's is):
    every device draws every leaf whole. Told through `out_shardings=`, each draws its own shards."""
    told = compiled([("^layers/", 1)], AxisType.Explicit, told=True)[1].memory_analysis()
    unseen = compiled([("^layers/", 1)], AxisType.Explicit)[1].memory_analysis()
    assert told.temp_size_in_bytes < 3 * told.output_size_in_bytes
    assert unseen.temp_size_in_bytes > 8 * unseen.output_size_in_bytes
