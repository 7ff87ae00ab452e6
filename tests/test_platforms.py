"""What is compiled for GPU and TPU, read on this CPU machine through `jax.export`.

Blocking is chosen per platform when the program is lowered: XLA:CPU draws large arrays
in 4 MiB row blocks (a loop), GPU and TPU draw a shard whole, as jax.random does, until
its bits pass 1 GiB. Counted here as `stablehlo.while` loops in the exported module.
"""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from registry import FAN_SCALED, FIXED

import jax_weightinit as wi
from jax_weightinit._src import keys

SEED = jax.ShapeDtypeStruct((), jnp.uint32)
MID = {"64 MiB": (4096, 4096), "256 MiB": (8192, 8192)}
RANDOM = {**{name: factory() for name, factory in FAN_SCALED.items()}, **FIXED, "sparse": wi.sparse(0.5)}


def loops(f, platform: str) -> int:
    """The `while` loops in `f(seed)` lowered for `platform`."""
    exported = jax.export.export(jax.jit(f), platforms=(platform,))(SEED)
    return len(re.findall(r"stablehlo\.while", exported.mlir_module()))


def drawn(init, shape):
    return lambda seed: init(jax.random.key(seed), shape)


@pytest.mark.parametrize("platform", ["cuda", "tpu"])
@pytest.mark.parametrize("name", sorted(RANDOM))
def test_accelerators_draw_mid_sized_arrays_whole_as_jax_random_does(name, platform):
    sizes = MID if name in ("he_normal", "uniform(0.5)", "truncated_normal(0.2)") else {"64 MiB": MID["64 MiB"]}
    for shape in sizes.values():
        assert loops(drawn(RANDOM[name], shape), platform) == 0


@pytest.mark.parametrize("platform", ["cuda", "tpu"])
def test_a_small_init_tree_compiles_to_no_loop_on_accelerators(platform):
    target = {
        f"layers/{i}": {
            "kernel": jax.ShapeDtypeStruct((512, 512), jnp.float32),
            "bias": jax.ShapeDtypeStruct((512,), jnp.float32),
        }
        for i in range(4)
    }
    target["embed"] = jax.ShapeDtypeStruct((4096, 4096), jnp.bfloat16)  # a leaf drawn alone, 64 MiB of bits
    rules = [("kernel$|embed$", wi.he_normal()), ("bias$", wi.zeros)]
    # Deriving the leaves' keys is one loop over the 8 words of each path's digest; drawing adds none.
    paths = [f"layers/{i}/kernel" for i in range(4)] + ["embed"]
    words = keys.digests(paths)
    derive = loops(lambda seed: jax.random.key_data(keys.fold_words(jax.random.key(seed), words, "threefry2x32")),
                   platform)
    assert derive == 1
    assert loops(lambda seed: wi.init_tree(jax.random.key(seed), target, rules), platform) == derive


@pytest.mark.parametrize("platform", ["cuda", "tpu"])
def test_a_16_gib_array_is_still_drawn_in_blocks_on_accelerators(platform):
    assert loops(drawn(wi.he_normal(), (65536, 65536)), platform) == 1


def test_cpu_still_draws_64_mib_in_blocks():
    """On CPU threefry is itself a loop; the block loop comes on top of it."""
    ours = loops(drawn(wi.he_normal(), MID["64 MiB"]), "cpu")
    assert ours == loops(drawn(jax.nn.initializers.he_normal(), MID["64 MiB"]), "cpu") + 1


def test_blocking_everywhere_is_caught(tunables):
    """Twin: a build that blocks on every platform (the policy before) compiles a loop for cuda."""
    tunables(accelerator_whole_bytes=0, accelerator_block_bytes=4 * 2**20)
    assert loops(drawn(wi.he_normal(), (4096, 4096 + 8)), "cuda") == 1  # a shape no test above compiled


def test_values_on_cpu_are_the_bits_of_the_whole_draw():
    """Whichever branch runs, the values are those of one whole-array draw: blocked on CPU, checked here."""
    key, shape = jax.random.key(3), (2048, 1024)  # 8 MiB of bits: two CPU blocks
    law = wi.he_normal().distribution(shape)
    from jax_weightinit._src import sampling

    case, params = sampling.prepare(law, np.dtype(np.float32))
    u = sampling.unit_uniform(key, shape, np.dtype(np.float32))
    whole = jax.jit(sampling.transform, static_argnums=(2, 3))(u, params, case, np.dtype(np.float32))
    assert np.asarray(wi.he_normal()(key, shape)).tobytes() == np.asarray(whole).tobytes()


def test_the_eager_segment_program_draws_whole_on_accelerators():
    """The fixed-shape program larger eager models use: no loop for cuda or tpu; on CPU its block loop (and
    threefry's own) show, so the count can see one."""
    from jax_weightinit._src import laws, sampling, segments, tunables

    case, numbers = sampling.prepare(laws.Distribution.normal(0.0, 0.02), np.dtype(np.float32))
    capacity = tunables.TUNABLES.segment_capacity
    args = (
        np.zeros((capacity, 2), np.uint32),
        np.zeros((capacity, numbers.size), np.float32),
        np.zeros(capacity, np.int32),
        segments.leaf_of_rows((0, 100)),
        np.int32(100),
        jnp.zeros((segments.buffer_rows(), segments.ROW), jnp.float32),
    )

    def program(*a):
        return segments.eager_segment(case, np.dtype(np.float32), *a)

    counts = {
        platform: len(
            re.findall(
                r"stablehlo\.while", jax.export.export(jax.jit(program), platforms=(platform,))(*args).mlir_module()
            )
        )
        for platform in ("cuda", "tpu", "cpu")
    }
    assert counts["cuda"] == counts["tpu"] == 0
    assert counts["cpu"] >= 1


# With rbg keys (TPU users' and MaxText's choice) a uniform law is the generator's bits mapped element by element:
# one pass, as jax.nn's, which XLA fuses into the consumer of the bits.
ELEMENTWISE = {
    "abs", "add", "and", "bitcast_convert", "broadcast_in_dim", "case", "clamp", "compare", "concatenate", "constant",
    "convert", "divide", "maximum", "minimum", "multiply", "negate", "optimization_barrier", "or", "reshape",
    "return", "rng_bit_generator", "select", "shift_left", "shift_right_logical", "slice", "subtract", "xor",
}  # fmt: skip
UNIFORM = {
    "glorot_uniform": wi.glorot_uniform(),
    "he_uniform": wi.he_uniform(),
    "uniform(0.02)": wi.uniform(0.02),
    "pytorch.uniform(-1, 1)": wi.pytorch.uniform(-1.0, 1.0),
}


def one_elementwise_pass(f, platform: str) -> bool:
    """Whether `f(seed)` lowered for `platform` draws the bits once and only maps them element by element: one
    `rng_bit_generator` and no operation but elementwise ones and reshapes, every function's, and no choice but
    `platform_dependent`'s, on the platform index (a constant that XLA folds)."""
    module = jax.export.export(jax.jit(f), platforms=(platform,))(SEED).mlir_module()
    ops = re.findall(r"stablehlo\.([a-z_]+)", module)
    return ops.count("rng_bit_generator") == 1 and set(ops) <= ELEMENTWISE and chooses_only_by_constants(module)


def chooses_only_by_constants(module: str) -> bool:
    """Whether every `case` of `module` selects on a constant, or on a case's result that itself does."""
    constants = set(re.findall(r"(%\w+) = stablehlo\.constant", module))
    for result, index in re.findall(r'(%\w+) = "stablehlo\.case"\((%\w+)\)', module):
        if index not in constants:
            return False
        constants.add(result)
    return True


@pytest.mark.parametrize("platform", ["cuda", "tpu"])
@pytest.mark.parametrize("impl", ["rbg", "unsafe_rbg"])
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16])
@pytest.mark.parametrize("name", UNIFORM)
def test_uniform_laws_with_rbg_keys_are_one_elementwise_pass_over_the_bits(name, dtype, impl, platform):
    assert one_elementwise_pass(
        lambda seed: UNIFORM[name](jax.random.key(seed, impl=impl), (2048, 4096), dtype), platform
    )


def test_twin_a_second_pass_over_the_bits_is_caught():
    """Twin: a draw followed by a scan over its values (a cumulative sum) is more than one elementwise pass."""

    def f(seed):
        return jnp.cumsum(wi.glorot_uniform()(jax.random.key(seed, impl="rbg"), (64, 64)), axis=0)

    assert one_elementwise_pass(lambda seed: wi.glorot_uniform()(jax.random.key(seed, impl="rbg"), (64, 64)), "cuda")
    assert not one_elementwise_pass(f, "cuda")


def test_twin_a_choice_on_the_drawn_values_is_caught():
    """Twin: a `lax.cond` on a drawn value is a choice made on data, not on the platform."""

    def f(seed):
        x = wi.glorot_uniform()(jax.random.key(seed, impl="rbg"), (64, 64))
        return jax.lax.cond(x[0, 0] > 0, lambda x: x, lambda x: -x, x)

    assert not one_elementwise_pass(f, "cuda")


def _ops(f, platform: str) -> tuple[list[str], str]:
    module = jax.export.export(jax.jit(f), platforms=(platform,))(SEED).mlir_module()
    return re.findall(r"stablehlo\.([a-z_]+)", module), module


@pytest.mark.parametrize("platform", ["cuda", "tpu"])
@pytest.mark.parametrize("init", [wi.he_normal(), wi.truncated_normal(0.02), wi.glorot_uniform()], ids=repr)
def test_odd_shapes_on_gpu_and_tpu_draw_as_they_are_with_no_padding_or_conditional(init, platform):
    """`in_whole_vectors` pads rows and isolates the law on CPU only: a (256, 9) draw exported for an accelerator has
    no `pad`, and no choice but the platform's."""
    ops, module = _ops(lambda seed: init(jax.random.key(seed, impl="rbg"), (256, 9)), platform)
    assert "pad" not in ops and chooses_only_by_constants(module)


def test_twin_the_cpu_program_pads_and_isolates_the_law():
    ops, module = _ops(lambda seed: wi.he_normal()(jax.random.key(seed, impl="rbg"), (256, 9)), "cpu")
    assert "pad" in ops and not chooses_only_by_constants(module)
