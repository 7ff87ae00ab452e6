"""Whole-model recipes as rule lists: GPT-2, Llama, μP (Tensor Programs V, Table 3) and DeepNet.

Each returns `(pattern, initializer)` pairs for `init_tree`, `plan`, `wi.flax.reinit` and
`wi.equinox.reinit`; put your own rules before them to override, after them to cover
the rest. The default patterns use Flax's parameter names (`kernel`, `embedding`,
`scale`, `bias`; attention `query`/`key`/`value`/`out`). Fan-scaled laws should be read
at each layer's own fans: use `wi.flax.reinit` / `wi.equinox.reinit` (an attention
kernel (d, heads, head_dim) is a d × d layer, not 3-D arithmetic).
"""

import math
import numbers
import re
from collections.abc import Callable
from typing import Any

from . import calls, validation
from .constant import ones, zeros
from .core import RandomInitializer, normal
from .formulas import fan_formula
from .optional import optional
from .plan import Pattern
from .pytorch import xavier_normal
from .scaling import scaled
from .variance_scaling import variance_scaling

Rule = tuple[Pattern, Callable]


def _layers(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"`{name}` must be a non-negative int; got {value!r}.")
    return int(value)


def _pattern(name: str, value: object) -> Pattern:
    if not (isinstance(value, str) or callable(value)):
        raise TypeError(f"`{name}` must be a regex string or a predicate (path, leaf) -> bool; got {value!r}.")
    return value  # type: ignore[return-value]


_NORM_NAME = re.compile(r"norm|rms|(^|/)ln(_\w+)?/", re.IGNORECASE)


def norm_weights(path: str, leaf: Any) -> bool:
    """Whether the leaf at `path` is a LayerNorm or RMSNorm weight: a `scale` or `weight` of one axis, or under a
    norm's name (`*norm*`, `*rms*`, `ln_*`) at any rank, as stacked layers keep it.

    The names of Hugging Face's ports (`input_layernorm/weight`, `post_attention_layernorm/weight`,
    `norm/weight`, `ln_1/scale`), MaxText's (`pre_self_attention_layer_norm/scale`, `decoder_norm/scale`),
    Flax's (`RMSNorm_0/scale`, `LayerNorm_0/scale`), Equinox's and Haiku's (`rms_norm/scale`, `norm/weight`)
    and a norm of any other name that keeps one axis (`rms_1/weight`).

    Example:
      >>> import jax.numpy as jnp
      >>> from jax_weightinit import presets
      >>> presets.norm_weights("layers/rms_1/weight", jnp.zeros(4096))
      True
      >>> presets.norm_weights("o_proj/weight", jnp.zeros((8, 8)))
      False
    """
    if not re.search(r"(scale|weight)$", path):
        return False
    return len(getattr(leaf, "shape", ())) == 1 or bool(_NORM_NAME.search(path))


def gpt2_rules(
    n_layers: int,
    *,
    residual: Pattern,
    std: float = 0.02,
    weights: Pattern = r"(kernel|embedding)$",
    biases: Pattern = r"bias$",
    norms: Pattern = r"scale$",
) -> list[Rule]:
    """GPT-2's init (Radford et al. 2019), as Hugging Face's `GPT2PreTrainedModel` and nanoGPT write it.

    Linear weights and the token and position embeddings are N(0, std²) (std = 0.02,
    `initializer_range`); the residual projections (attention output and MLP down
    projection, `c_proj` in GPT-2) N(0, (std / sqrt(2 · n_layers))²), since each block
    adds two residual branches; biases 0; LayerNorm scales 1.

    Args:
      n_layers: the number of transformer blocks.
      residual: the pattern of the residual projections' weights, e.g.
        `r"(attn/out|mlp/c_proj)/kernel$"`.
      std: the weights' std.
      weights: the pattern of every other weight and embedding.
      biases: the pattern of the biases.
      norms: the pattern of the LayerNorm scales (Equinox: `r"norm\\w*/weight$"`).

    Returns:
      Rules, residual first.

    Example:
      >>> import jax_weightinit as wi
      >>> rules = wi.presets.gpt2_rules(12, residual=r"(attn/out|mlp/c_proj)/kernel$")
      >>> [(p, round(i.distribution((768, 768)).std, 6)) for p, i in rules if hasattr(i, "distribution")]
      [('(attn/out|mlp/c_proj)/kernel$', 0.004082), ('(kernel|embedding)$', 0.02)]
    """
    n = _layers("n_layers", n_layers)
    if n == 0:
        raise ValueError("`n_layers` must be positive; got 0.")
    base = normal(validation.positive("std", std))
    return [
        (_pattern("residual", residual), scaled(base, 1.0 / math.sqrt(2.0 * n))),
        (_pattern("norms", norms), ones),
        (optional(_pattern("biases", biases)), zeros),
        (_pattern("weights", weights), base),
    ]


def llama_rules(
    *,
    std: float = 0.02,
    norms: Pattern = norm_weights,
    biases: Pattern = r"bias$",
    weights: Pattern = r"(kernel|embedding|weight)$",
) -> list[Rule]:
    """Llama's init, as Hugging Face's `LlamaPreTrainedModel._init_weights` writes it.

    Every linear weight (`q_proj`, `k_proj`, `v_proj`, `o_proj`, `gate_proj`, `up_proj`,
    `down_proj`, `lm_head`) and the token embedding are N(0, std²) with std = 0.02
    (`initializer_range`), with no depth scaling; biases (where a port has them; the rule
    is `optional`, so a Llama without biases gives no unused-rule warning) 0; RMSNorm
    weights 1, found by `norm_weights` (a `scale` or `weight` of one axis, or under a
    norm's name). The default patterns read the names of the Flax linen and nnx ports
    (`kernel`, `embedding`, norms' `scale`), of MaxText (`*_norm/scale`) and of Equinox
    and Haiku ports (`weight`). Stacked blocks (`nn.scan`,
    `nnx.vmap`) need nothing more: a fixed law is the same in every layer. Hugging Face
    also zeroes the embedding row of `padding_idx`; Llama has none.

    Args:
      std: the weights' and embedding's std.
      norms: the pattern of the RMSNorm weights (`input_layernorm`,
        `post_attention_layernorm`, the final `norm`); `norm_weights` by default.
      biases: the pattern of the biases.
      weights: the pattern of every linear weight and the embedding.

    Returns:
      Rules, in the order norms, biases, weights.

    Example:
      >>> import jax_weightinit as wi
      >>> rules = wi.presets.llama_rules()
      >>> [i for _, i in rules][:2] == [wi.ones, wi.zeros]  # norms, biases
      True
      >>> round(rules[2][1].distribution((4096, 11008)).std, 6)
      0.02
    """
    return [
        (_pattern("norms", norms), ones),
        (optional(_pattern("biases", biases)), zeros),
        (_pattern("weights", weights), normal(validation.positive("std", std))),
    ]


@calls.rebuilt_as("presets.mup_readout")
def mup_readout(readout_std: float = 1.0) -> RandomInitializer:
    """μP's output (readout) weights: N(0, readout_std² / fan_in²), the law `mup_rules` gives its readout.

    Args:
      readout_std: σ of the readout, times 1 / fan_in; must be positive.

    Returns:
      An initializer.

    Example:
      >>> import jax_weightinit as wi
      >>> wi.presets.mup_readout(2.0).distribution((256, 1000)).std  # 2 / 256
      0.0078125
    """
    return fan_formula("mup_readout", validation.positive("readout_std", readout_std))


def mup_rules(
    *,
    embedding: Pattern,
    readout: Pattern,
    hidden: Pattern = r"(kernel|weight)$",
    biases: Pattern = r"bias$",
    std: float = 1.0,
    embedding_std: float = 1.0,
    readout_std: float = 1.0,
) -> list[Rule]:
    """μP's initialization (Yang et al. 2022, "Tensor Programs V", Table 3, the variant without multipliers).

    Table 3's "Init. Var." row, with its constants made explicit: hidden weights
    N(0, std² / fan_in); output (readout) weights N(0, readout_std² / fan_in²), so the
    logits start small however wide the model; input weights (embeddings) variance
    1 / fan_in with a fan_in that does not grow with width — so N(0, embedding_std²),
    constant in width. Table 3 gives biases the input weights' column (constant in
    width); they are zero here, as is usual. The learning-rate rows of Table 3 belong
    to the optimizer and are not set here. `readout_std=0` makes the readout zero, the
    zero-readout option TP5 recommends in practice.

    Args:
      embedding: the pattern of the input weights (token/position embeddings).
      readout: the pattern of the output weights (the unembedding / LM head).
      hidden: the pattern of every other weight.
      biases: the pattern of the biases.
      std: σ of the hidden weights, times 1 / sqrt(fan_in).
      embedding_std: the input weights' std.
      readout_std: σ of the readout, times 1 / fan_in; 0 for a zero readout.

    Returns:
      Rules, in the order embedding, readout, biases, hidden.

    Example:
      >>> import jax_weightinit as wi
      >>> rules = wi.presets.mup_rules(embedding="wte/embedding$", readout="lm_head/kernel$")
      >>> round(rules[1][1].distribution((256, 1000)).std, 6)  # readout: 1 / fan_in
      0.003906
      >>> round(rules[3][1].distribution((256, 1024)).std, 6)  # hidden: 1 / sqrt(fan_in)
      0.0625
    """
    sigma_out = validation.real("readout_std", readout_std)
    if sigma_out < 0:
        raise ValueError(f"`readout_std` must be non-negative; got {sigma_out!r}.")
    out = zeros if sigma_out == 0 else mup_readout(sigma_out)
    return [
        (_pattern("embedding", embedding), normal(validation.positive("embedding_std", embedding_std))),
        (_pattern("readout", readout), out),
        (optional(_pattern("biases", biases)), zeros),
        (_pattern("hidden", hidden), variance_scaling(validation.positive("std", std) ** 2, "fan_in", "normal")),
    ]


def deepnet_constants(*, encoder_layers: int = 0, decoder_layers: int = 0) -> dict[str, tuple[float, float]]:
    """DeepNorm's (α, β) for each stack (Wang et al. 2022, "DeepNet", Table 1).

    α multiplies the residual in x + α·G(x) (the model's code, not an init); β is
    the gain of the scaled weights, for `deepnet_rules`:

    * encoder-only, N layers: α = (2N)^(1/4), β = (8N)^(-1/4);
    * decoder-only, M layers: α = (2M)^(1/4), β = (8M)^(-1/4);
    * encoder-decoder: encoder α = 0.81·(N⁴M)^(1/16), β = 0.87·(N⁴M)^(-1/16);
      decoder α = (3M)^(1/4), β = (12M)^(-1/4).

    Args:
      encoder_layers: N, 0 for a decoder-only model.
      decoder_layers: M, 0 for an encoder-only model.

    Returns:
      For each stack the model has, "encoder" and/or "decoder", its (α, β).

    Example:
      >>> import jax_weightinit as wi
      >>> alpha, beta = wi.presets.deepnet_constants(decoder_layers=12)["decoder"]
      >>> round(alpha, 4), round(beta, 4)
      (2.2134, 0.3195)
    """
    n, m = _layers("encoder_layers", encoder_layers), _layers("decoder_layers", decoder_layers)
    if n == 0 and m == 0:
        raise ValueError("`encoder_layers` and `decoder_layers` are both 0; give the depth of at least one stack.")
    if m == 0:
        return {"encoder": ((2 * n) ** 0.25, (8 * n) ** -0.25)}
    if n == 0:
        return {"decoder": ((2 * m) ** 0.25, (8 * m) ** -0.25)}
    return {
        "encoder": (0.81 * (n**4 * m) ** (1 / 16), 0.87 * (n**4 * m) ** (-1 / 16)),
        "decoder": ((3 * m) ** 0.25, (12 * m) ** -0.25),
    }


def deepnet_rules(beta: float, *, scaled_weights: Pattern, unscaled: Pattern = r"(query|key)/kernel$") -> list[Rule]:
    """DeepNet's init (Wang et al. 2022, Figure 2): Xavier normal, gain β on the branches DeepNorm scales.

    The feed-forward weights and the attention value and output projections get
    `xavier_normal(gain=β)`; the query and key projections `xavier_normal(gain=1)`, as
    the paper's pseudo-code writes it: N(0, gain² · 2 / (fan_in + fan_out)),
    untruncated. (The reference implementation, torchscale, instead divides its own
    Xavier-uniform init of those weights by 1/β; same variance where its gains are 1.)

    Args:
      beta: β from `deepnet_constants` for the stack these weights belong to.
      scaled_weights: the pattern of the feed-forward, value and output projection
        weights, e.g. `r"(attn/(value|out)|mlp/\\w+)/kernel$"`.
      unscaled: the pattern of the query and key projection weights.

    Returns:
      Rules: unscaled first, then scaled.

    Example:
      >>> import jax_weightinit as wi
      >>> _, beta = wi.presets.deepnet_constants(decoder_layers=12)["decoder"]
      >>> rules = wi.presets.deepnet_rules(beta, scaled_weights=r"(attn/(value|out)|mlp/\\w+)/kernel$")
      >>> round(rules[1][1].distribution((512, 512)).std, 6)  # beta * sqrt(2 / 1024)
      0.014119
    """
    return [
        (_pattern("unscaled", unscaled), xavier_normal(1.0)),
        (_pattern("scaled_weights", scaled_weights), xavier_normal(validation.positive("beta", beta))),
    ]
