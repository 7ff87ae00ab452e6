"""Recipes of the models people port, each read from its reference's training code: T5, BERT, GPT-NeoX (Pythia),
Megatron-LM, ViT (big_vision), DiT, ResNet (zero-init residuals) and the spectral condition.

Each recipe is a rule list for `init_tree`, `plan`, `wi.flax.reinit` and `wi.equinox.reinit`, whose patterns
name the parameters of the checkpoints users load: Hugging Face's Flax ports (`kernel`, `embedding`, `scale`)
and their PyTorch names (`weight`), Megatron-core's, MaxText's, t5x's and big_vision's where those differ. A leaf
named `weight` is read in PyTorch's (out, in, ...) layout and one named `kernel` or `w` in Flax's and Haiku's
(..., in, out), which matters only where a law depends on the fans.
"""

import math

from . import calls, validation
from .constant import constant, ones, zeros
from .core import RandomInitializer, normal
from .formulas import fan_formula
from .optional import optional
from .plan import Pattern
from .pytorch import default_bias, default_weight, trunc_normal
from .recipes import Rule, _pattern, norm_weights
from .variance_scaling import lecun_normal, variance_scaling, xavier_uniform

# Biases: `bias`, and Haiku's `b` and LayerNorm `offset`.
_BIASES = r"(bias|(^|/)(b|offset))$"
_WEIGHTS = r"(kernel|weight|w|embeddings?)$"


def _named(*modules: str, leaves: str = "kernel|weight|w") -> str:
    """The pattern of the `leaves` of the modules named `modules`, each a whole path component (`o`, not `wo`)."""
    return rf"(^|/)({'|'.join(modules)})/({leaves})$"


def t5_rules(d_model: int, d_kv: int, num_heads: int, d_ff: int, factor: float = 1.0) -> list[Rule]:
    """T5's init (Mesh TensorFlow), as Hugging Face's `T5PreTrainedModel._init_weights` writes it.

    Source: `huggingface/transformers`, `src/transformers/models/t5/modeling_t5.py`,
    `T5PreTrainedModel._init_weights` (citing `mesh_tensorflow/transformer/attention.py` and `layers.py`).
    With f = `factor` (`initializer_factor`), every law N(0, std²):

    * query `q`: std f · (d_model · d_kv)^-½;
    * key and value `k`, `v`: f · d_model^-½;
    * output `o`: f · (num_heads · d_kv)^-½;
    * relative attention bias (first block of each stack): f · d_model^-½;
    * feed-forward in `wi` (or gated `wi_0`, `wi_1`): f · d_model^-½; out `wo`: f · d_ff^-½;
    * token embedding `shared` and an untied `lm_head`: f (the rule is optional: a tied head has no leaf);
    * layer norms (`layer_norm`, `final_layer_norm`, weights only): the constant f; biases, where a port has them, 0.

    Hugging Face's Flax port (`modeling_flax_t5.py`, `FlaxT5Attention.setup`) writes num_heads · d_kv where this
    writes d_model for q, k, v and the relative bias: the two agree only where num_heads · d_kv = d_model (T5 1.0),
    not for T5 1.1 or Flan-T5 small (512 against 384). The recipe follows Mesh TensorFlow and PyTorch, whose
    checkpoints were trained from it. Names read: Hugging Face's (`SelfAttention/q/kernel`,
    `EncDecAttention/o/weight`, `DenseReluDense/wi_0/kernel`, `relative_attention_bias/embedding`) and t5x's
    (`attention/query`, `key`, `value`, `out`, `mlp/wi_0`, `relpos_bias/rel_embedding`, `token_embedder`,
    `logits_dense`).

    Args:
      d_model: the model width (`d_model`).
      d_kv: the width of each head (`d_kv`).
      num_heads: the number of heads (`num_heads`).
      d_ff: the feed-forward width (`d_ff`).
      factor: `initializer_factor`; 1.0 in every released config.

    Returns:
      Rules: attention, relative bias, feed-forward, head, embedding, norms, biases.

    Example:
      >>> import jax_weightinit as wi
      >>> rules = wi.presets.t5_rules(d_model=512, d_kv=64, num_heads=6, d_ff=1024)
      >>> [round(init.distribution((512, 384)).std, 6) for _, init in rules[:3]]  # q, k and v, o
      [0.005524, 0.044194, 0.051031]
    """
    d_model, d_kv = validation.integer("d_model", d_model, low=1), validation.integer("d_kv", d_kv, low=1)
    num_heads, d_ff = validation.integer("num_heads", num_heads, low=1), validation.integer("d_ff", d_ff, low=1)
    factor = validation.positive("factor", factor)
    return [
        (_named("q", "query"), normal(factor * ((d_model * d_kv) ** -0.5))),
        (_named("k", "key", "v", "value"), normal(factor * (d_model**-0.5))),
        (_named("o", "out"), normal(factor * ((num_heads * d_kv) ** -0.5))),
        (
            optional(r"(^|/)relative_attention_bias/(embedding|weight)$|(^|/)relpos_bias/rel_embedding$"),
            normal(factor * (d_model**-0.5)),
        ),
        (_named("wi", "wi_0", "wi_1"), normal(factor * (d_model**-0.5))),
        (_named("wo"), normal(factor * (d_ff**-0.5))),
        (optional(_named("lm_head", "logits_dense")), normal(factor * 1.0)),
        (_named("shared", "token_embedder", leaves="embeddings?|weight"), normal(factor * 1.0)),
        (norm_weights, ones if factor == 1.0 else constant(factor * 1.0)),
        (optional(_BIASES), zeros),
    ]


def _plain_rules(std: float) -> list[Rule]:
    """Norm weights 1, biases 0, every other weight and embedding N(0, std²)."""
    return [(norm_weights, ones), (optional(_BIASES), zeros), (_WEIGHTS, normal(std))]


def bert_rules(initializer_range: float = 0.02) -> list[Rule]:
    """BERT's and RoBERTa's init, as Hugging Face's `BertPreTrainedModel._init_weights` writes it.

    Source: `huggingface/transformers`, `src/transformers/models/bert/modeling_bert.py`,
    `BertPreTrainedModel._init_weights` (RoBERTa's is the same), and the Flax port `modeling_flax_bert.py`:

    * every dense kernel (attention, intermediate, output, pooler, prediction head) and the word, position and
      token-type embeddings: N(0, initializer_range²);
    * LayerNorm weights 1; every bias (the prediction head's `cls/predictions/bias` included) 0.

    PyTorch also zeroes the word embedding's `pad_token_id` row (0 in BERT, 1 in RoBERTa); the Flax port, which
    Flax checkpoints come from, does not, and nor does this recipe: to match PyTorch, set that row to zero after
    `init_tree`.

    Args:
      initializer_range: the weights' std (`initializer_range`).

    Returns:
      Rules: norms, biases, weights.

    Example:
      >>> import jax_weightinit as wi
      >>> [str(init) for _, init in wi.presets.bert_rules()]
      ['ones', 'zeros', 'normal(0.02)']
    """
    return _plain_rules(validation.positive("initializer_range", initializer_range))


def neox_rules(hidden_size: int, num_layers: int) -> list[Rule]:
    """GPT-NeoX's init as the Pythia models were trained: `small_init` for most weights, `wang_init` for the
    residual projections.

    Source: `EleutherAI/gpt-neox`, `megatron/model/init_functions.py`, `small_init_init_method` and
    `wang_init_method`; `megatron/model/transformer.py` hands `output_layer_init_method` to the attention's
    `dense` and the MLP's `dense_4h_to_h`, and `init_method` to every other linear layer and the embedding
    (`megatron/model/gpt2_model.py`); the Pythia configs set `init_method: small_init`,
    `output_layer_init_method: wang_init`.

    * attention output `attention/dense` and MLP out `dense_4h_to_h`: N(0, (2 / num_layers / √hidden_size)²);
    * `query_key_value`, `dense_h_to_4h`, `embed_in` and `embed_out`: N(0, 2 / (5 · hidden_size));
    * LayerNorm weights 1; biases 0.

    Hugging Face's `GPTNeoXPreTrainedModel._init_weights` draws every weight from N(0, 0.02²) instead: that is
    not how Pythia was trained.

    Args:
      hidden_size: the model width (`hidden_size`).
      num_layers: the number of transformer layers (`num_layers`, `num_hidden_layers`).

    Returns:
      Rules: residual projections, norms, biases, weights.

    Example:
      >>> import jax_weightinit as wi
      >>> rules = wi.presets.neox_rules(hidden_size=768, num_layers=12)  # Pythia-160M
      >>> round(rules[0][1].distribution((768, 768)).std, 6), round(rules[-1][1].distribution((768, 768)).std, 6)
      (0.006014, 0.022822)
    """
    hidden_size = validation.integer("hidden_size", hidden_size, low=1)
    num_layers = validation.integer("num_layers", num_layers, low=1)
    small_init = normal(math.sqrt(2 / (5 * hidden_size)))
    wang_init = normal(2 / num_layers / math.sqrt(hidden_size))
    return [(_named("attention/dense", "dense_4h_to_h"), wang_init), *_plain_rules(1.0)[:2], (_WEIGHTS, small_init)]


# The residual projections (each block's attention output and MLP out) under the names of Megatron-core
# (`linear_proj`, `linear_fc2`), Hugging Face's Llama-style ports (`o_proj`, `down_proj`) and MaxText (`out`, `wo`).
_RESIDUAL_PROJECTIONS = _named("linear_proj", "linear_fc2", "o_proj", "down_proj", "out", "wo")


def megatron_rules(
    num_layers: int, init_method_std: float = 0.02, *, residual: Pattern = _RESIDUAL_PROJECTIONS
) -> list[Rule]:
    """Megatron-LM's init: N(0, σ²) everywhere, the residual projections N(0, σ² / (2 · num_layers)).

    Source: `NVIDIA/Megatron-LM`, `megatron/core/utils.py`, `init_method_normal` and `scaled_init_method_normal`
    (std σ / √(2 · num_layers)); `megatron/core/transformer/transformer_config.py` builds `init_method` and
    `output_layer_init_method` from `init_method_std`, and the attention's `linear_proj` and the MLP's `linear_fc2`
    take the latter.

    * residual projections (`linear_proj`, `linear_fc2`; `o_proj`, `down_proj`; MaxText's `out`, `wo`):
      N(0, (init_method_std / √(2 · num_layers))²);
    * `linear_qkv`, `linear_fc1`, the word and position embeddings and an untied `output_layer`:
      N(0, init_method_std²);
    * norm weights 1 (`input_layernorm`, `pre_mlp_layernorm`, `final_layernorm`, Transformer Engine's fused
      `linear_qkv/layer_norm_weight`); biases 0.

    Args:
      num_layers: the number of transformer layers (`num_layers`).
      init_method_std: σ (`init_method_std`).
      residual: the pattern of the residual projections' weights.

    Returns:
      Rules: residual projections, norms, biases, weights.

    Example:
      >>> import jax_weightinit as wi
      >>> rules = wi.presets.megatron_rules(num_layers=24)
      >>> round(rules[0][1].distribution((4096, 1024)).std, 6), str(rules[-1][1])
      (0.002887, 'normal(0.02)')
    """
    num_layers = validation.integer("num_layers", num_layers, low=1)
    sigma = validation.positive("init_method_std", init_method_std)
    scaled = normal(sigma / math.sqrt(2.0 * num_layers))
    return [(_pattern("residual", residual), scaled), *_plain_rules(sigma)]


def _olmo_normal(std: float):
    """OLMo-core's `_init_linear`: `nn.init.trunc_normal_(std=std, a=-3 * std, b=3 * std)`."""
    return trunc_normal(std=std, a=-3 * std, b=3 * std)


_OLMO_INIT_METHODS = ("normal", "llama", "llama_depth")


def olmo_rules(d_model: int, num_blocks: int, init_method: str = "normal", init_std: float = 0.02) -> list[Rule]:
    """OLMo's init as OLMo-core writes it: truncated normals at ±3 std, the residual projections scaled by depth
    under the Llama methods.

    Source: `allenai/OLMo-core`, `src/olmo_core/nn/transformer/init.py`, `InitMethod` (`_init_linear`,
    `init_embeddings`, `init_final_w_out`, `init_attention`, `init_feed_forward`). Every "TN(σ)" below is
    `trunc_normal_(std=σ, a=-3σ, b=3σ)`, σ = `init_std` unless said:

    * "normal" (OLMo 2): every linear weight, the embedding and the head TN(σ);
    * "llama": the embedding N(0, 1), untruncated; the head `lm_head/w_out` TN(d_model^-½); `w_q`, `w_k`, `w_v`
      (or fused `w_qkv`) and the feed-forward `w1` TN(σ); the attention `w_out` and the feed-forward `w3` and `w2`
      TN(σ / √(2 · num_blocks)) (OLMo-core scales `w3` with `w2`);
    * "llama_depth": as "llama", block i's scaled weights TN(σ / √(2 · (i + 1))): one law per block, so blocks
      must be separate leaves (`blocks/0/...`), not one stack;
    * biases 0 and norm weights (`attention_norm`, `feed_forward_norm`, `q_norm`, `k_norm`, `lm_head/norm`) 1,
      their modules' defaults.

    Names: OLMo-core's (`blocks/0/attention/w_out/weight`, `feed_forward/w1`, `embeddings/weight`,
    `lm_head/w_out`) and Hugging Face's OLMo 2 (`o_proj`, `gate_proj` = `w1`, `up_proj` = `w3`, `down_proj` = `w2`,
    `embed_tokens`, `lm_head`).

    Args:
      d_model: the model width (`d_model`).
      num_blocks: the number of transformer blocks (`n_layers`).
      init_method: "normal", "llama" or "llama_depth" (`init_method`).
      init_std: σ (`init_std`).

    Returns:
      Rules.

    Example:
      >>> import jax_weightinit as wi
      >>> law = wi.presets.olmo_rules(d_model=4096, num_blocks=32)[-1][1].distribution((4096, 4096))
      >>> law.low, law.high
      (-0.06, 0.06)
    """
    d_model = validation.integer("d_model", d_model, low=1)
    num_blocks = validation.integer("num_blocks", num_blocks, low=1)
    if init_method not in _OLMO_INIT_METHODS:
        allowed = ", ".join(map(repr, _OLMO_INIT_METHODS))
        raise ValueError(f"`init_method` must be one of {allowed}; got {init_method!r}.")
    std = validation.positive("init_std", init_std)
    head, embeddings = _named("lm_head/w_out", "lm_head"), _named("embeddings", "embed_tokens", leaves="weight")
    plain = [*_plain_rules(1.0)[:2], (_WEIGHTS, _olmo_normal(std))]
    if init_method == "normal":
        return plain
    scaled = _named("w_out", "w2", "w3", "o_proj", "down_proj", "up_proj")
    if init_method == "llama":
        by_depth = [(scaled, _olmo_normal(std / (2 * num_blocks) ** 0.5))]
    else:
        in_block = scaled.removeprefix("(^|/)")
        by_depth = [
            (rf"(^|/)(blocks|layers)/{i}/(.*/)?{in_block}", _olmo_normal(std / (2 * (i + 1)) ** 0.5))
            for i in range(num_blocks)
        ]
    return [(head, _olmo_normal(d_model**-0.5)), (embeddings, normal(1.0)), *by_depth, *plain]


def vit_rules(width: int, *, head_zeroinit: bool = True) -> list[Rule]:
    """The Vision Transformer's init as big_vision trains it.

    Source: `google-research/big_vision`, `big_vision/models/vit.py`: `MlpBlock`, `Encoder1DBlock`, `MAPHead`,
    `get_posemb` and `_Model`:

    * attention `query`, `key`, `value`, `out` kernels and the `MlpBlock`'s `Dense_0`, `Dense_1` kernels:
      Xavier uniform, at the layer's fans (an attention kernel (width, heads, head_dim) is width × width, as
      Flax's `DenseGeneral` flattens it); the `MlpBlock`'s biases N(0, 10⁻¹²);
    * the learned position embedding `pos_embedding`: N(0, 1 / width); the class token `cls`: 0;
      the MAP head's `probe`: Xavier uniform;
    * the patch embedding `embedding` (a convolution) and `pre_logits`: Flax's default, LeCun normal;
    * `head`: 0 (`head_zeroinit=True`, big_vision's default), else LeCun normal;
    * LayerNorm scales 1; every other bias 0.

    The original `google-research/vision_transformer` (`vit_jax/models_vit.py`) is the same but for the position
    embedding, N(0, 0.02²). Stacked blocks (big_vision's `scan=True`, `Transformer/encoderblock`) are read per
    layer when declared (`stacked=[("encoderblock/", 1)]`).

    Args:
      width: the model width (`width`).
      head_zeroinit: whether the classifier head starts at zero (`head_zeroinit`).

    Returns:
      Rules.

    Example:
      >>> import jax_weightinit as wi
      >>> rules = wi.presets.vit_rules(width=768)
      >>> round(rules[1][1].distribution((1, 196, 768)).std, 6)  # pos_embedding: 1 / sqrt(width)
      0.036084
    """
    width = validation.integer("width", width, low=1)
    xavier_3d = xavier_uniform(in_axis=-3, out_axis=(-2, -1))  # query, key, value: (width, heads, head_dim)
    return [
        (_named("head"), zeros if head_zeroinit else lecun_normal()),
        (optional(r"(^|/)pos_embedding$"), normal(1 / math.sqrt(width))),
        (optional(r"(^|/)cls$"), zeros),
        (optional(r"(^|/)probe$"), xavier_uniform()),
        (r"MlpBlock[^/]*/Dense_\d+/bias$", normal(1e-6)),
        (r"MlpBlock[^/]*/Dense_\d+/kernel$", xavier_uniform()),
        (r"MultiHeadDotProductAttention[^/]*/(query|key|value)/kernel$", xavier_3d),
        (r"MultiHeadDotProductAttention[^/]*/out/kernel$", xavier_uniform(in_axis=(-3, -2), out_axis=-1)),
        (norm_weights, ones),
        (_BIASES, zeros),
        # The patch embedding is a convolution (patch, patch, 3, width): its fan_in named, never a stack of layers.
        (_named("embedding"), lecun_normal(in_axis=(-4, -3, -2))),
        (optional(_named("pre_logits")), lecun_normal()),
    ]


def dit_rules() -> list[Rule]:
    """DiT's init with adaLN-Zero: every block starts as the identity.

    Source: `facebookresearch/DiT`, `models.py`, `DiT.initialize_weights`:

    * every linear weight (the attention's fused `qkv` and `proj`, the MLP's `fc1`, `fc2`): PyTorch's Xavier
      uniform, U(±√(6 / (fan_in + fan_out))); every linear bias 0;
    * the patch embedding `x_embedder/proj` (a convolution): Xavier uniform of its weight viewed as
      (hidden, channels · patch²), so fan_in = channels · patch², fan_out = hidden; its bias 0;
    * the class embedding `y_embedder/embedding_table` and the timestep MLP `t_embedder/mlp/0`, `mlp/2`:
      N(0, 0.02²);
    * each block's `adaLN_modulation/1` and the final layer's `adaLN_modulation/1` and `linear`: 0, weights and
      biases (adaLN-Zero).

    The fixed sin-cos `pos_embed` is a buffer, not a parameter; DiT's LayerNorms have no weights. Names are the
    reference's (`blocks/0/attn/qkv/weight`); a convolution named `weight` is read in PyTorch's layout
    (hidden, channels, patch, patch), one named `kernel` in Flax's (patch, patch, channels, hidden).

    Returns:
      Rules.

    Example:
      >>> import jax_weightinit as wi
      >>> rules = wi.presets.dit_rules()
      >>> round(rules[1][1].distribution((1152, 4, 2, 2)).high, 6)  # x_embedder/proj: sqrt(6 / (16 + 1152))
      0.071673
    """
    adaln_zero = r"(^|/)(adaLN_modulation/1|final_layer/linear)/(kernel|weight|bias)$"
    # The patch embedding's weight viewed as (hidden, channels * patch²), in either layout.
    torch_view = fan_formula("torch_xavier_uniform", 1.0, in_axis=(1, 2, 3), out_axis=0)
    flax_view = fan_formula("torch_xavier_uniform", 1.0, in_axis=(0, 1, 2))
    return [
        (adaln_zero, zeros),
        (optional(r"(^|/)x_embedder/proj/weight$"), torch_view),
        (optional(r"(^|/)x_embedder/proj/kernel$"), flax_view),
        (r"(^|/)(y_embedder/embedding_table/(weight|embedding)|t_embedder/mlp/[02]/(weight|kernel))$", normal(0.02)),
        (_BIASES, zeros),
        (r"(kernel|weight)$", fan_formula("torch_xavier_uniform", 1.0)),
    ]


# torch.nn.init.kaiming_normal_(mode="fan_out", nonlinearity="relu"): gain calculate_gain("relu") = sqrt(2).
_KAIMING_FAN_OUT = ("torch_kaiming_normal", math.sqrt(2.0), "fan_out")


def resnet_rules(block: str = "bottleneck") -> list[Rule]:
    """torchvision's ResNet init with `zero_init_residual=True`: each residual block's last norm starts at zero.

    Source: `pytorch/vision`, `torchvision/models/resnet.py`, `ResNet.__init__` (Goyal et al. 2017, "Accurate,
    Large Minibatch SGD", §5.1, zero γ in each block's last BatchNorm):

    * convolutions: Kaiming normal, `mode="fan_out"`, ReLU gain: N(0, 2 / (out_channels · kernel area));
    * the last BatchNorm of each block (`bn3` in a bottleneck block, `bn2` in a basic one): γ 0; every other
      BatchNorm γ 1, β 0;
    * the classifier `fc`: PyTorch's `nn.Linear` default, U(±1/√fan_in) for weight and bias
      (fan_in 512 · expansion: 2048 for bottleneck blocks, 512 for basic ones).

    Names: torchvision's (`layer1/0/conv1/weight`, `layer1/0/bn3/weight`, `layer1/0/downsample/0/weight`,
    `fc/weight`; PyTorch layout) and the Flax example's (`examples/imagenet/models.py`: `BottleneckResNetBlock_0/
    BatchNorm_2/scale`, `ResNetBlock_0/BatchNorm_1/scale`, `conv_init/kernel`, `Dense_0/kernel`; Flax layout).

    Args:
      block: "bottleneck" (ResNet-50 and deeper) or "basic" (ResNet-18, -34).

    Returns:
      Rules.

    Example:
      >>> import jax_weightinit as wi
      >>> rules = wi.presets.resnet_rules()
      >>> round(rules[2][1].distribution((64, 64, 3, 3)).std, 6)  # sqrt(2 / (64 * 9))
      0.058926
    """
    if block not in ("bottleneck", "basic"):
        raise ValueError(f'`block` must be "bottleneck" or "basic"; got {block!r}.')
    last, flax_last, fan_in = ("bn3", r"BatchNorm_2", 2048) if block == "bottleneck" else ("bn2", r"BatchNorm_1", 512)
    return [
        (rf"(^|/)layer\d+/\d+/{last}/weight$|ResNetBlock_\d+/{flax_last}/scale$", zeros),
        (norm_weights, ones),
        # Explicit axes, (out, in, kh, kw) read as PyTorch does: a convolution, never a stack of layers.
        (optional(r"(^|/)(conv\d*|downsample/0)/weight$"), fan_formula(*_KAIMING_FAN_OUT, in_axis=-3, out_axis=-4)),
        (optional(r"(^|/)[Cc]onv\w*/kernel$"), variance_scaling(2.0, "fan_out", "normal")),
        (optional(r"(^|/)fc/weight$"), default_weight()),
        (optional(r"(^|/)Dense_\d+/kernel$"), variance_scaling(1.0 / 3.0, "fan_in", "uniform")),
        (r"(^|/)(fc|Dense_\d+)/bias$", default_bias(fan_in)),
        (_BIASES, zeros),
    ]


@calls.rebuilt_as("presets.spectral_normal")
def spectral_normal(scale: float = 1.0, in_axis=-2, out_axis=-1) -> RandomInitializer:
    """The spectral condition's init (Yang, Simon & Bernstein 2023, "A Spectral Condition for Feature Learning",
    Parametrization 1): N(0, σ²) with σ = scale / √fan_in · min(1, √(fan_out / fan_in)).

    A weight so drawn has spectral norm of order √(fan_out / fan_in) however wide the layer, the condition under
    which features move by the right amount in every layer at every width.

    Args:
      scale: the constant in front of σ; must be positive.
      in_axis: the input axis or axes, as for `variance_scaling` (PyTorch's layout: 1).
      out_axis: the output axis or axes (PyTorch's layout: 0).

    Returns:
      An initializer.

    Example:
      >>> import jax_weightinit as wi
      >>> wi.presets.spectral_normal().distribution((1024, 256)).std  # 1/32 * sqrt(256 / 1024)
      0.015625
    """
    return fan_formula(
        "spectral", validation.positive("scale", scale), in_axis=in_axis, out_axis=out_axis
    )


def spectral_rules(
    scale: float = 1.0, *, weights: Pattern = r"(kernel|w)$", torch_weights: Pattern = r"weight$"
) -> list[Rule]:
    """The spectral condition's init for every weight: `spectral_normal` at each layer's fans, norms 1, biases 0.

    Source: Yang, Simon & Bernstein (2023), "A Spectral Condition for Feature Learning", Parametrization 1
    (its learning-rate half belongs to the optimizer and is not set here):

    * dense and convolution weights: N(0, σ²), σ = scale / √fan_in · min(1, √(fan_out / fan_in));
    * norm weights 1; biases 0.

    Embeddings and the output layer are the paper's first and last layers, whose fans are the vocabulary's and
    the width: give them a rule of your own before these where your model treats them otherwise.

    Args:
      scale: the constant in front of σ.
      weights: the pattern of the weights in Flax's and Haiku's layout, (..., in, out).
      torch_weights: the pattern of the weights in PyTorch's and Equinox's layout, (out, in, ...).

    Returns:
      Rules: norms, biases, weights, PyTorch-layout weights.

    Example:
      >>> import jax_weightinit as wi
      >>> rules = wi.presets.spectral_rules()
      >>> rules[3][1].distribution((256, 1024)).std  # (out, in): 1/32 * sqrt(256 / 1024)
      0.015625
    """
    scale = validation.positive("scale", scale)
    return [
        (norm_weights, ones),
        (optional(_BIASES), zeros),
        (optional(_pattern("weights", weights)), spectral_normal(scale)),
        (optional(_pattern("torch_weights", torch_weights)), spectral_normal(scale, in_axis=1, out_axis=0)),
    ]
