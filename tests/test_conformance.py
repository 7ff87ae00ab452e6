"""Called the way real code calls jax.nn: every dtype spelling, shape form and key kind, side by side with jax.nn.

Wherever `jax.nn.initializers` accepts a call, this library accepts it with the same output
dtype and shape; wherever jax.nn refuses, this library refuses in one sentence. The few
cells where the two differ on purpose are listed below with the reason, and checked too.
"""

import itertools
import warnings

import chex
import equinox as eqx
import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
import pytest
from flax import nnx

import jax_weightinit as wi
from jax_weightinit import pytorch, testing

NAMES = sorted(n for n in dir(jax.nn.initializers) if not n.startswith("_") and n != "Initializer")


def _build(module, name):
    factory = getattr(module, name)
    if name in ("zeros", "ones"):
        return factory
    if name == "constant":
        return factory(0.5)
    if name == "variance_scaling":
        return factory(1.0, "fan_in", "normal")
    return factory()


# Every way real code names a dtype: NumPy scalar types (whose `dtype` attribute is a descriptor on the class),
# jnp types, ml_dtypes types, strings, np.dtype, Python types, and None.
DTYPES = {
    "np.float32": np.float32,
    "np.float16": np.float16,
    "np.float64": np.float64,
    "np.complex64": np.complex64,
    "np.int32": np.int32,
    "np.bool_": np.bool_,
    "jnp.float32": jnp.float32,
    "jnp.bfloat16": jnp.bfloat16,
    "jnp.complex64": jnp.complex64,
    "jnp.int8": jnp.int8,
    "ml_dtypes.bfloat16": ml_dtypes.bfloat16,
    "ml_dtypes.float8_e4m3fn": ml_dtypes.float8_e4m3fn,
    "'float32'": "float32",
    "'bfloat16'": "bfloat16",
    "np.dtype('float16')": np.dtype("float16"),
    "jnp.dtype('bfloat16')": jnp.dtype("bfloat16"),
    "float": float,
    "complex": complex,
    "int": int,
    "None": None,
}
SHAPES = {
    "tuple": (4, 6),
    "list": [4, 6],
    "NumPy ints": (np.int64(4), np.int32(6)),
    "concrete jnp ints": (jnp.int32(4), jnp.int32(3) * 2),
    "1-D int array": np.array([4, 6]),
    "jax int array": jnp.array([4, 6]),
}
JAX_INT_SHAPES = ("concrete jnp ints", "jax int array")
KEYS = {
    "key": lambda: jax.random.key(0),
    "PRNGKey": lambda: jax.random.PRNGKey(0),
    "rbg key": lambda: jax.random.key(0, impl="rbg"),
}
# delta_orthogonal needs a conv kernel; every other name is called on a matrix.
CONV = {"tuple": (3, 4, 6), "list": [3, 4, 6], "NumPy ints": (np.int64(3), np.int32(4), np.int8(6))}

# Cells where this library differs from jax.nn on purpose: (predicate on name, dtype, shape id) -> why.
REFUSED_ON_PURPOSE = {
    "constant(0.5) into an integer or bool dtype": (
        lambda name, dtype: name == "constant" and dtype in ("np.int32", "jnp.int8", "int"),
        "jax.nn truncates 0.5 to 0 silently; this library refuses what the dtype cannot hold",
    ),
}
SUPERSET = {
    "orthogonal family in 16- and 8-bit floats": (
        lambda name, dtype: "orthogonal" in name and any(s in dtype for s in ("bfloat16", "float16", "float8")),
        "jax.nn's QR runs in the output dtype, which LAPACK lacks; this library computes in float32, rounds once",
    ),
}


def _outcome(init, key, shape, dtype, eager):
    call = (lambda k: init(k, shape)) if dtype is None else (lambda k: init(k, shape, dtype))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # float64 without x64 warns in both
        try:
            out = call(key) if eager else jax.eval_shape(call, key)
        except (TypeError, ValueError, NotImplementedError) as error:
            return error
    return (np.dtype(out.dtype), tuple(out.shape))


def _cases():
    for name, (dtype_id, dtype), (shape_id, shape), key_id in itertools.product(
        NAMES, DTYPES.items(), SHAPES.items(), KEYS
    ):
        if shape_id != "tuple" and key_id != "key":
            continue  # shape forms are crossed with dtypes; key kinds with dtypes
        if name == "delta_orthogonal":
            if shape_id not in CONV:
                continue
            shape = CONV[shape_id]
        yield pytest.param(name, dtype_id, dtype, shape_id, shape, key_id, id=f"{name} {dtype_id} {shape_id} {key_id}")


def _exception(table, name, dtype_id):
    return next((why for rule, why in table.values() if rule(name, dtype_id)), None)


@pytest.mark.parametrize("name, dtype_id, dtype, shape_id, shape, key_id", list(_cases()))
def test_accepts_what_jax_nn_accepts_and_refuses_clearly_what_it_refuses(
    name, dtype_id, dtype, shape_id, shape, key_id
):
    key = KEYS[key_id]()
    # jax.nn takes jnp ints and jax int arrays as shapes eagerly, but under a trace its own code iterates them into
    # tracers and fails; its answer for the same dims as plain ints is the reference for them.
    reference = tuple(int(d) for d in shape) if shape_id in JAX_INT_SHAPES else shape
    theirs = _outcome(_build(jax.nn.initializers, name), key, reference, dtype, eager=False)
    ours = _outcome(_build(wi, name), key, shape, dtype, eager=False)
    refused, superset = _exception(REFUSED_ON_PURPOSE, name, dtype_id), _exception(SUPERSET, name, dtype_id)
    if isinstance(theirs, tuple) and refused is None:
        assert ours == theirs, (ours, theirs)
    elif isinstance(theirs, tuple):
        assert isinstance(ours, ValueError | TypeError), (refused, ours)
    elif superset is not None:
        assert isinstance(ours, tuple), (superset, ours)
    else:
        assert isinstance(ours, Exception), f"jax.nn refuses ({theirs!r}) but this library returns {ours}"
    if isinstance(ours, Exception):
        assert isinstance(ours, ValueError | TypeError), repr(ours)
        message = str(ours)
        assert "\n" not in message and "`" in message and message.endswith("."), message


NUMPY_TYPES = {"np.float32": np.float32, "np.float16": np.float16, "np.float64": np.float64}


@pytest.mark.parametrize("dtype_id", sorted(NUMPY_TYPES))
@pytest.mark.parametrize("name", [n for n in NAMES if n != "delta_orthogonal"])
def test_numpy_scalar_types_eagerly_and_as_the_factory_default(name, dtype_id):
    """The 0.2.0 regression, eagerly as users hit it: `np.float32` as the call's dtype and as the factory's."""
    key, dtype = jax.random.key(0), NUMPY_TYPES[dtype_id]
    expected = _outcome(_build(jax.nn.initializers, name), key, (4, 6), dtype, eager=True)
    if _exception(SUPERSET, name, dtype_id) is not None:
        expected = (np.dtype(dtype), (4, 6))
    assert _outcome(_build(wi, name), key, (4, 6), dtype, eager=True) == expected
    if name not in ("zeros", "ones", "variance_scaling"):
        factory = getattr(wi, name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # float64 without x64 warns when the factory is built
            init = factory(0.5, dtype=dtype) if name == "constant" else factory(dtype=dtype)
        assert _outcome(init, key, (4, 6), None, eager=True) == expected


@pytest.mark.parametrize("dtype_id", ["np.float32", "'bfloat16'", "ml_dtypes.bfloat16", "np.dtype('float16')"])
def test_whole_model_paths_take_every_spelling(dtype_id):
    dtype = DTYPES[dtype_id]
    want = jnp.dtype(dtype)
    rules = [("kernel$|weight$", wi.he_normal()), ("bias$", wi.zeros)]
    target = {"dense": {"kernel": jax.ShapeDtypeStruct((8, 4), dtype), "bias": jax.ShapeDtypeStruct((4,), dtype)}}
    out = wi.init_tree(jax.random.key(0), target, rules)
    chex.assert_trees_all_equal_dtypes(out, {"dense": {"kernel": jnp.zeros((), want), "bias": jnp.zeros((), want)}})
    assert [row.dtype for row in wi.plan(target, rules)] == [want, want]

    linear = nnx.Linear(8, 4, kernel_init=wi.he_normal(), param_dtype=dtype, rngs=nnx.Rngs(0))
    chex.assert_type(linear.kernel[...], want)
    chex.assert_type(wi.flax.reinit(linear, jax.random.key(1), rules).kernel[...], want)

    layer = eqx.nn.Linear(8, 4, dtype=dtype, key=jax.random.key(0))
    chex.assert_type(wi.equinox.reinit(layer, jax.random.key(1), rules).weight, want)


def test_a_planted_descriptor_read_fails_the_matrix(monkeypatch):
    """Twin: the 0.2.0 bug planted back (a key check that reads `dtype` off the class `np.float32`) fails a cell."""
    from jax_weightinit._src import validation

    def reads_the_descriptor(value):
        dt = getattr(value, "dtype", None)
        return dt is not None and jnp.issubdtype(dt, jax.dtypes.prng_key)

    monkeypatch.setattr(validation, "_is_key", reads_the_descriptor)
    with pytest.raises(AssertionError):
        test_accepts_what_jax_nn_accepts_and_refuses_clearly_what_it_refuses(
            "he_normal", "np.float32", np.float32, "tuple", (4, 6), "key"
        )
    test_accepts_what_jax_nn_accepts_and_refuses_clearly_what_it_refuses(
        "he_normal", "jnp.float32", jnp.float32, "tuple", (4, 6), "key"
    )  # the planted bug spares jnp types, as it did in 0.2.0


@pytest.mark.parametrize(
    "build",
    [
        lambda: wi.normal(np.float32(0.5)),
        lambda: wi.dirac(groups=np.int64(2)),
        lambda: wi.orthogonal(column_axis=np.int64(0)),
        lambda: wi.delta_orthogonal(column_axis=np.int32(-1)),
        lambda: pytorch.default_bias(np.int64(4)),
        lambda: pytorch.dirac(groups=np.int64(1)),
    ],
)
def test_numpy_scalars_are_accepted_where_python_ones_are(build):
    assert callable(build())


@pytest.mark.parametrize("impl", ["threefry2x32", "rbg", "unsafe_rbg"])
@pytest.mark.parametrize("init", [wi.he_normal(), wi.glorot_uniform(), wi.orthogonal()], ids=["he", "glorot", "orth"])
def test_what_each_key_implementation_guarantees(impl, init):
    """The determinism guide's table: eager == jit always; vmap == loop for threefry only, the law under vmap always."""
    keys = jax.random.split(jax.random.key(0, impl=impl), 4)
    loop = np.stack([np.asarray(init(k, (16, 16))) for k in keys])
    jitted = np.stack([np.asarray(jax.jit(lambda k: init(k, (16, 16)))(k)) for k in keys])
    mapped = np.asarray(jax.vmap(lambda k: init(k, (16, 16)))(keys))
    np.testing.assert_array_equal(jitted, loop)
    assert np.array_equal(mapped, loop) == (impl == "threefry2x32")
    if isinstance(init, wi.RandomInitializer):
        many = jax.vmap(lambda k: init(k, (64, 64)))(jax.random.split(jax.random.key(1, impl=impl), 64))
        testing.assert_ks(many, init.distribution((64, 64)).cdf)
        with pytest.raises(AssertionError, match="KS distance"):  # the twin: a 5% std error
            testing.assert_ks(many, init.distribution((64, 64)).scaled(1.05).cdf)
