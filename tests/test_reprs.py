"""Every public initializer prints as the public call that rebuilds it, and that call rebuilds an equal one."""

import dataclasses

import jax
import jax.numpy as jnp
import pytest

import jax_weightinit as wi
from jax_weightinit import presets, pytorch

NAMESPACE = {**{name: getattr(wi, name) for name in wi.__all__}, "jax": jax}

# Calls as a user writes them, each printed back exactly; together they cover every public factory.
CALLS = [
    "constant(3)",
    "constant([1.0, 2.0])",
    "constant(0.5, dtype='bfloat16')",
    "delta_orthogonal()",
    "delta_orthogonal(scale=2.0, column_axis=0)",
    "dirac(groups=2)",
    "glorot_normal()",
    "glorot_uniform(in_axis=0, out_axis=(1, 2))",
    "he()",
    "he_normal()",
    "he_normal(batch_axis=0, dtype='bfloat16')",
    "he_uniform()",
    "identity(2.0)",
    "kaiming_normal()",
    "kaiming_uniform()",
    "lecun_normal()",
    "lecun_uniform()",
    "normal()",
    "normal(0.02)",
    "normal(stddev=2.0, mean=-1.0)",
    "normalized_xavier()",
    "ones_init()",
    "orthogonal()",
    "orthogonal(scale=2.0)",
    "scaled(he_normal(), 0.5)",
    "scaled(orthogonal(), 2.0)",
    "sparse(0.5)",
    "truncated_normal(0.2, lower=-1.0, upper=3.0)",
    "uniform(0.5)",
    "variance_scaling(2.0, 'fan_in', 'normal')",
    "variance_scaling(0.5, 'fan_geo_avg', 'uniform', out_axis=0)",
    "xavier()",
    "xavier_normal()",
    "xavier_uniform()",
    "zero_hadamard()",
    "zeros_init()",
    "presets.equinox_linear()",
    "presets.flax_conv_kernel()",
    "presets.flax_dense_kernel()",
    "presets.flax_embed()",
    "presets.haiku_linear()",
    "presets.keras_dense()",
    "presets.mup_readout(2.0)",
    "presets.spectral_normal(2.0)",
    "presets.spectral_normal(1.0, in_axis=1, out_axis=0)",
    "presets.torch_linear()",
    "pytorch.constant(2.0)",
    "pytorch.default_bias(3)",
    "pytorch.default_weight()",
    "pytorch.dirac(groups=2)",
    "pytorch.eye()",
    "pytorch.kaiming_normal(a=0.1, mode='fan_out', nonlinearity='relu')",
    "pytorch.kaiming_uniform()",
    "pytorch.normal(0.0, 0.02)",
    "pytorch.ones()",
    "pytorch.orthogonal(gain=2.0)",
    "pytorch.sparse(0.1, std=0.02)",
    "pytorch.trunc_normal(std=0.02)",
    "pytorch.uniform(-1.0, 1.0)",
    "pytorch.xavier_normal(gain=2.0)",
    "pytorch.xavier_uniform()",
    "pytorch.zeros(dtype='bfloat16')",
]
OBJECTS = ["zeros", "ones"]
# Public callables that are not initializer factories.
NOT_FACTORIES = {
    "activation_std", "calculate_gain", "compute_fans", "init_tree", "key_for", "lsuv", "path_string", "plan",
    "to_haiku", "Rules", "deepnet_constants", "deepnet_rules", "gpt2_rules", "llama_rules", "mup_rules",
    "optional", "norm_weights", "bert_rules", "dit_rules", "megatron_rules", "neox_rules", "olmo_rules", "resnet_rules",
    "spectral_rules", "t5_rules", "vit_rules",
}  # fmt: skip


@pytest.mark.parametrize("source", CALLS + OBJECTS)
def test_prints_as_the_call_that_built_it_and_that_call_rebuilds_it(source):
    init = eval(source, NAMESPACE)
    assert repr(init) == source
    assert eval(repr(init), NAMESPACE) == init


# A constant of an array prints its shape, and torch's kaiming keeps only the gain its `a` and nonlinearity give:
# these print as the recorded call alone.
RECORDED_ONLY = ("constant([", "pytorch.kaiming", "pytorch.default_weight", "presets.torch_linear")


@pytest.mark.parametrize("source", [c for c in CALLS if not c.startswith(RECORDED_ONLY)])
def test_a_copy_made_inside_the_library_prints_a_call_that_rebuilds_it(source):
    """An initializer not built by a recorded call (a copy with its fields) prints its class's own public call."""
    init = eval(source, NAMESPACE)
    copy = dataclasses.replace(init)  # type: ignore[type-var]
    assert "_call" not in copy.__dict__
    assert eval(repr(copy), NAMESPACE) == init, repr(copy)


def test_the_table_covers_every_public_factory():
    named = {source.split("(")[0] for source in CALLS} | set(OBJECTS)
    public = {name for name in wi.__all__ if callable(getattr(wi, name)) and not isinstance(getattr(wi, name), type)}
    public |= {f"pytorch.{name}" for name in pytorch.__all__} | {f"presets.{name}" for name in presets.__all__}
    assert public - NOT_FACTORIES - {"pytorch.calculate_gain"} - {f"presets.{n}" for n in NOT_FACTORIES} == named


def test_dtypes_print_by_name_however_they_were_given():
    assert repr(wi.normal(0.02, jnp.bfloat16)) == "normal(0.02, 'bfloat16')"
    assert eval(repr(wi.normal(0.02, jnp.bfloat16)), NAMESPACE) == wi.normal(0.02, jnp.bfloat16)


@pytest.mark.parametrize(
    ("init", "shown"),
    [
        (jax.nn.initializers.normal(0.02), "jax.nn.initializers.normal(0.02)"),
        (jax.nn.initializers.he_normal(), "jax.nn.initializers.variance_scaling(2.0, 'fan_in', 'truncated_normal')"),
        (lambda key, shape, dtype=jnp.float32: jnp.zeros(shape, dtype), "test_reprs.<lambda>"),
    ],
    ids=["jax.nn normal", "jax.nn he_normal", "a lambda"],
)
def test_the_plan_names_foreign_initializers_by_their_call_or_qualified_name(init, shown):
    table = str(wi.plan({"w": jax.ShapeDtypeStruct((4, 4), jnp.float32)}, [("w", init)]))
    assert shown in table and " at 0x" not in table


def test_row_is_renamed_plan_row_with_a_warning():
    with pytest.warns(DeprecationWarning, match="wi.Row is renamed wi.PlanRow"):
        assert wi.Row is wi.PlanRow
