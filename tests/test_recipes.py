"""Presets' recipes: the laws GPT-2, μP (Tensor Programs V, Table 3) and DeepNet state, on a real nnx model."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import jax_weightinit as wi
from jax_weightinit import presets, testing

VOCAB, LAYERS = 500, 3


class Block(nnx.Module):
    def __init__(self, d, rngs):
        self.ln_1 = nnx.LayerNorm(d, rngs=rngs)
        self.attn = nnx.MultiHeadAttention(4, d, decode=False, rngs=rngs)
        self.c_fc = nnx.Linear(d, 4 * d, rngs=rngs)
        self.c_proj = nnx.Linear(4 * d, d, rngs=rngs)


class GPT(nnx.Module):
    def __init__(self, d, rngs):
        self.wte = nnx.Embed(VOCAB, d, rngs=rngs)
        self.h = nnx.List([Block(d, rngs) for _ in range(LAYERS)])
        self.lm_head = nnx.Linear(d, VOCAB, use_bias=False, rngs=rngs)


def gpt(d=128):
    return nnx.eval_shape(lambda: GPT(d, nnx.Rngs(0)))


def laws(plan):
    return {row.path: row.law for row in plan}


RESIDUAL = r"(attn/out|c_proj)/kernel$"


def test_gpt2_laws_are_hugging_faces():
    """GPT2PreTrainedModel._init_weights: N(0, 0.02²), c_proj N(0, (0.02 / sqrt(2 · n_layer))²), biases 0, LN 1."""
    plan = wi.flax.plan(gpt(), presets.gpt2_rules(LAYERS, residual=RESIDUAL))
    by_path = {row.path: row for row in plan}
    for i in range(LAYERS):
        for name in ("attn/out/kernel", "c_proj/kernel"):
            law = by_path[f"h/{i}/{name}"].law
            assert law.family == "normal" and math.isclose(law.std, 0.02 / math.sqrt(2 * LAYERS), rel_tol=1e-15)
        for name in ("attn/query/kernel", "c_fc/kernel"):
            assert by_path[f"h/{i}/{name}"].law == wi.Distribution.normal(0.0, 0.02)
        assert by_path[f"h/{i}/ln_1/scale"].init is wi.ones and by_path[f"h/{i}/c_fc/bias"].init is wi.zeros
    assert by_path["wte/embedding"].law == wi.Distribution.normal(0.0, 0.02)


def test_gpt2_residual_projection_is_drawn_with_its_law_and_a_wrong_depth_is_caught(key):
    model = gpt(256)
    wi.flax.reinit(model, key, presets.gpt2_rules(LAYERS, residual=RESIDUAL))
    values = np.asarray(model.h[0].c_proj.kernel[...], np.float64)
    testing.assert_ks(values, wi.Distribution.normal(0.0, 0.02 / math.sqrt(2 * LAYERS)).cdf)
    wrong = wi.Distribution.normal(0.0, 0.02 / math.sqrt(2 * (LAYERS + 1)))  # n_layers off by one: std 13% low
    with pytest.raises(AssertionError, match="KS distance"):
        testing.assert_ks(values, wrong.cdf)


MUP = presets.mup_rules(embedding=r"wte/embedding$", readout=r"lm_head/kernel$") + [("scale$", wi.ones)]


@pytest.mark.parametrize("d", [64, 256])
def test_mup_init_variances_are_table_3s(d):
    """Hidden 1/fan_in, output 1/fan_in², input weights constant in width (fan_in finite), biases 0."""
    by_path = laws(wi.flax.plan(gpt(d), MUP))
    for name in ("attn/query/kernel", "attn/out/kernel", "c_fc/kernel"):
        assert math.isclose(by_path[f"h/0/{name}"].std ** 2, 1 / d, rel_tol=1e-12), name
    assert math.isclose(by_path["h/0/c_proj/kernel"].std ** 2, 1 / (4 * d), rel_tol=1e-12)
    assert math.isclose(by_path["lm_head/kernel"].std ** 2, 1 / d**2, rel_tol=1e-12)
    assert by_path["wte/embedding"] == wi.Distribution.normal(0.0, 1.0)
    assert by_path["h/0/c_fc/bias"] is None  # zeros: a constant has no random law


def test_mup_readout_can_start_at_zero():
    rules = presets.mup_rules(embedding="wte/", readout="lm_head/", readout_std=0.0) + [("scale$", wi.ones)]
    row = next(r for r in wi.flax.plan(gpt(), rules) if r.path == "lm_head/kernel")
    assert row.init is wi.zeros


# (decoder-only M=12, encoder-only N=6, encoder-decoder N=6, M=6): (α, β) as the paper's Table 1 and
# torchscale write them.
DEEPNET = [
    ({"decoder_layers": 12}, {"decoder": ((2 * 12) ** 0.25, 1 / math.pow(8.0 * 12, 0.25))}),
    ({"encoder_layers": 6}, {"encoder": ((2 * 6) ** 0.25, 1 / math.pow(8.0 * 6, 0.25))}),
    (
        {"encoder_layers": 6, "decoder_layers": 6},
        {
            "encoder": (0.81 * (6**4 * 6) ** 0.0625, 0.87 * (6**4 * 6) ** -0.0625),
            "decoder": ((3 * 6) ** 0.25, 1 / math.pow(12.0 * 6, 0.25)),
        },
    ),
]


@pytest.mark.parametrize("layers, expected", DEEPNET)
def test_deepnet_constants(layers, expected):
    got = presets.deepnet_constants(**layers)
    assert got.keys() == expected.keys()
    for stack, (alpha, beta) in expected.items():
        assert math.isclose(got[stack][0], alpha, rel_tol=1e-12) and math.isclose(got[stack][1], beta, rel_tol=1e-12)


def test_deepnet_rules_are_xavier_normal_with_gain_beta_at_the_layers_fans():
    d = 128
    _, beta = presets.deepnet_constants(decoder_layers=LAYERS)["decoder"]
    rules = presets.deepnet_rules(beta, scaled_weights=r"(attn/(value|out)|c_fc|c_proj)/kernel$") + [
        ("wte/embedding$|lm_head/kernel$", wi.normal(0.02)),
        ("bias$", wi.zeros),
        ("scale$", wi.ones),
    ]
    by_path = laws(wi.flax.plan(gpt(d), rules))
    xavier = {
        "attn/query/kernel": (d, d, 1.0),
        "attn/key/kernel": (d, d, 1.0),
        "attn/value/kernel": (d, d, beta),
        "attn/out/kernel": (d, d, beta),
        "c_fc/kernel": (d, 4 * d, beta),
        "c_proj/kernel": (4 * d, d, beta),
    }
    for name, (fan_in, fan_out, gain) in xavier.items():
        law = by_path[f"h/1/{name}"]
        assert law.family == "normal" and math.isclose(law.std, gain * math.sqrt(2 / (fan_in + fan_out)), rel_tol=1e-12)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: presets.gpt2_rules(0, residual="c_proj"), ValueError, "`n_layers` must be positive"),
        (lambda: presets.gpt2_rules(2.5, residual="c_proj"), ValueError, "`n_layers` must be a non-negative int"),
        (lambda: presets.gpt2_rules(2, residual=3), TypeError, "`residual` must be a regex"),
        (lambda: presets.mup_rules(embedding="e", readout="r", readout_std=-1.0), ValueError, "`readout_std`"),
        (lambda: presets.deepnet_constants(), ValueError, "give the depth of at least one stack"),
        (lambda: presets.deepnet_rules(0.0, scaled_weights="mlp"), ValueError, "`beta` must be positive"),
    ],
)
def test_recipes_reject_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


# The norm weights of the ports people load Llama-family checkpoints into: Hugging Face's Flax names, MaxText's,
# Flax's own modules, Equinox/Haiku, a norm of another name (one axis), and a stacked norm (layers × d).
NORM_NAMES = [
    ("model/layers/0/input_layernorm/weight", (64,)),
    ("model/layers/0/post_attention_layernorm/weight", (64,)),
    ("model/norm/weight", (64,)),
    ("decoder/layers/pre_self_attention_layer_norm/scale", (4, 64)),
    ("decoder/layers/post_self_attention_layer_norm/scale", (4, 64)),
    ("decoder/decoder_norm/scale", (64,)),
    ("params/RMSNorm_0/scale", (64,)),
    ("blocks/0/rms_norm/scale", (64,)),
    ("layers/rms_1/weight", (64,)),
    ("transformer/h/0/ln_1/scale", (64,)),
]
# Weights that are not norms, whatever their name shares with one.
NOT_NORMS = [
    ("model/layers/0/self_attn/o_proj/weight", (64, 64)),
    ("model/embed_tokens/weight", (100, 64)),
    ("decoder/layers/mlp/wo/kernel", (4, 64, 64)),
    ("lm_head/weight", (64, 100)),
]


def _llama_like(named):
    return {path: jax.ShapeDtypeStruct(shape, jnp.float32) for path, shape in named}


@pytest.mark.parametrize("path, shape", NORM_NAMES, ids=[p for p, _ in NORM_NAMES])
def test_llama_norm_weights_are_found_in_every_port_naming(path, shape):
    assert wi.presets.norm_weights(path, jax.ShapeDtypeStruct(shape, jnp.float32))
    row = next(r for r in wi.plan(_llama_like([(path, shape), *NOT_NORMS]), wi.presets.llama_rules()) if r.path == path)
    assert row.init is wi.ones


@pytest.mark.parametrize("path, shape", NOT_NORMS, ids=[p for p, _ in NOT_NORMS])
def test_twin_a_weight_that_is_no_norm_keeps_its_normal_law(path, shape):
    assert not wi.presets.norm_weights(path, jax.ShapeDtypeStruct(shape, jnp.float32))
    plan = wi.plan(_llama_like([*NORM_NAMES, (path, shape)]), wi.presets.llama_rules())
    row = next(r for r in plan if r.path == path)
    assert row.law is not None and row.law.std == 0.02


# (recipe, its rules, a model of that family without biases).
RECIPES_WITH_BIASES = [
    ("llama_rules", lambda: wi.presets.llama_rules(), _llama_like([*NORM_NAMES, *NOT_NORMS])),
    (
        "gpt2_rules",
        lambda: wi.presets.gpt2_rules(2, residual="c_proj/kernel$"),
        _llama_like([("h/0/attn/c_proj/kernel", (64, 64)), ("h/0/ln_1/scale", (64,)), ("wte/embedding", (100, 64))]),
    ),
    (
        "mup_rules",
        lambda: wi.presets.mup_rules(embedding="embed", readout="head"),
        _llama_like([("embed/embedding", (100, 64)), ("h/kernel", (64, 64)), ("head/kernel", (64, 100))]),
    ),
]


@pytest.mark.parametrize("name, rules, model", RECIPES_WITH_BIASES, ids=[n for n, _, _ in RECIPES_WITH_BIASES])
def test_a_recipe_on_a_model_without_biases_raises_nothing_even_strictly(name, rules, model, key):
    """Llama has no biases: a recipe's rule for them is optional, and `on_unused_rule="raise"` passes."""
    out = wi.init_tree(key, model, rules(), on_unused_rule="raise")
    assert set(out) == set(model)


def test_twin_a_misspelt_rule_still_raises(key):
    """Twin: a rule that matches nothing and is not optional (a typo) is still refused."""
    model = _llama_like(NOT_NORMS)
    with pytest.raises(ValueError, match="'kernal\\$' matched no leaf"):
        wi.init_tree(key, model, [("kernal$", wi.he_normal()), ("", wi.zeros)], on_unused_rule="raise")
