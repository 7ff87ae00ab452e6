"""Fan rules: a table of layouts users meet, and properties over random shapes and axes."""

import math

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

import jax_weightinit as wi

# (layout, shape, axes, expected (fan_in, fan_out))
LAYOUTS = [
    ("dense (in, out)", (256, 512), {}, (256, 512)),
    ("Flax conv HWIO", (3, 3, 64, 128), {}, (576, 1152)),
    ("PyTorch/Equinox conv (out, in, kh, kw)", (128, 64, 3, 3), {"in_axis": 1, "out_axis": 0}, (576, 1152)),
    ("depthwise conv HWIO, groups = 64", (3, 3, 1, 64), {}, (9, 576)),
    ("transposed conv, PyTorch (in, out, kh, kw)", (64, 128, 3, 3), {"in_axis": 0, "out_axis": 1}, (576, 1152)),
    ("attention q kernel (embed, heads, head_dim)", (512, 8, 64), {"in_axis": 0, "out_axis": (1, 2)}, (512, 512)),
    ("attention out kernel (heads, head_dim, embed)", (8, 64, 512), {"in_axis": (0, 1), "out_axis": 2}, (512, 512)),
    ("stacked dense (layers, in, out)", (12, 256, 1024), {"batch_axis": 0}, (256, 1024)),
    ("conv1d HWIO", (5, 16, 32), {}, (80, 160)),
    ("Flax Embed table, out_axis=0 shares the in axis", (1000, 64), {"out_axis": 0}, (64, 64)),
]


@pytest.mark.parametrize(("layout", "shape", "axes", "fans"), LAYOUTS, ids=[row[0] for row in LAYOUTS])
def test_fans_of_common_layouts(layout, shape, axes, fans):
    assert wi.compute_fans(shape, **axes) == fans


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 9), min_size=2, max_size=5), st.data())
def test_fans_multiply_to_size_times_receptive_field(shape, data):
    rank = len(shape)
    axes = data.draw(st.permutations(range(rank)))
    n_in = data.draw(st.integers(1, rank - 1))
    n_out = data.draw(st.integers(1, rank - n_in))
    n_batch = data.draw(st.integers(0, rank - n_in - n_out))
    ins, outs = axes[:n_in], axes[n_in : n_in + n_out]
    batch = axes[n_in + n_out : n_in + n_out + n_batch]
    fan_in, fan_out = wi.compute_fans(shape, ins, outs, batch)
    receptive = math.prod(d for i, d in enumerate(shape) if i not in set(ins) | set(outs) | set(batch))
    assert fan_in == math.prod(shape[i] for i in ins) * receptive
    assert fan_out == math.prod(shape[i] for i in outs) * receptive
    assert fan_in * fan_out * math.prod(shape[i] for i in batch) == math.prod(shape) * receptive
    # Negative axes name the same dims.
    assert wi.compute_fans(shape, [a - rank for a in ins], [a - rank for a in outs], batch) == (fan_in, fan_out)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 9), min_size=2, max_size=5), st.data())
def test_fans_match_jax_even_with_shared_in_and_out_axes(shape, data):
    from jax._src.nn.initializers import _compute_fans

    rank = len(shape)
    in_axis = data.draw(st.integers(-rank, rank - 1))
    out_axis = data.draw(st.integers(-rank, rank - 1))
    expected = _compute_fans(shape, in_axis, out_axis)
    assert wi.compute_fans(shape, in_axis, out_axis) == pytest.approx(expected, rel=1e-12)


BAD = [
    ("rank 1 with default in_axis", (5,), {}, ValueError, "has rank 1"),
    ("out-of-range axis", (3, 4), {"in_axis": 2}, ValueError, "`in_axis` \\(2,\\) is out of range"),
    ("batch axis is an input axis", (3, 4, 5), {"batch_axis": 1}, ValueError, "`in_axis` and `batch_axis`"),
    ("repeated axis", (3, 4, 5), {"out_axis": (1, -2)}, ValueError, "names the same axis twice"),
    ("batch axis shared", (3, 4, 5), {"batch_axis": -1}, ValueError, "`out_axis` and `batch_axis`"),
    ("float axis", (3, 4), {"in_axis": 0.5}, TypeError, "`in_axis` must be an int"),
    ("negative dim", (3, -4), {}, ValueError, "non-negative dims"),
    ("float dim", (3, 4.0), {}, TypeError, "only ints"),
    ("int shape", 5, {}, TypeError, "sequence of non-negative ints"),
]


@pytest.mark.parametrize(("case", "shape", "axes", "error", "match"), BAD, ids=[row[0] for row in BAD])
def test_bad_fans_raise_clear_errors(case, shape, axes, error, match):
    with pytest.raises(error, match=match):
        wi.compute_fans(shape, **axes)
