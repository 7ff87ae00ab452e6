"""The default initializers of popular layers, each with its exact law.

| preset | law |
|---|---|
| `flax_dense_kernel`, `flax_conv_kernel` | lecun_normal: truncated normal, std sqrt(1/fan_in) |
| `flax_embed` | variance_scaling(1, 'fan_in', 'normal', out_axis=0): N(0, 1/features) |
| `haiku_linear` | truncated normal of scale 1/sqrt(fan_in) at ±2 scale, uncorrected: std ≈ 0.8796/sqrt(fan_in) |
| `keras_dense` | glorot_uniform: U(±sqrt(6/(fan_in + fan_out))) |
| `torch_linear` | kaiming_uniform(a=√5) in (out, in) layout: U(±1/sqrt(fan_in)) |
| `equinox_linear` | U(±1/sqrt(in_features)) in (out, in) layout |

And whole-model recipes, as rule lists for `init_tree`, `plan`, `wi.flax.reinit` and
`wi.equinox.reinit`:

* `gpt2_rules(n_layers, residual=...)`: weights and embeddings N(0, 0.02²), residual
  projections N(0, (0.02 / sqrt(2·n_layers))²), biases 0, norm scales 1;
* `llama_rules()`: Llama as Hugging Face initializes it, every linear weight and the
  embedding N(0, 0.02²), biases 0, RMSNorm weights 1 (found by `norm_weights`);
* `mup_rules(embedding=..., readout=...)`: μP (Tensor Programs V, Table 3), hidden
  N(0, 1/fan_in), readout N(0, 1/fan_in²) (`mup_readout()`), embeddings N(0, 1);
* `deepnet_constants`, `deepnet_rules(beta, scaled_weights=...)`: DeepNet, Xavier normal
  with gain β on the FFN, value and output projections, gain 1 on query and key.

And the recipes of models people port, each read from its reference's training code (its docstring cites the
file and function, and states each group's law):

* `t5_rules(d_model, d_kv, num_heads, d_ff)`: Mesh TensorFlow's T5, as `T5PreTrainedModel._init_weights`;
* `bert_rules()`: BERT and RoBERTa, every weight N(0, 0.02²);
* `neox_rules(hidden_size, num_layers)`: GPT-NeoX as Pythia was trained, `small_init` and `wang_init`;
* `megatron_rules(num_layers)`: Megatron-LM, residual projections N(0, σ² / (2L));
* `olmo_rules(d_model, num_blocks, init_method)`: OLMo-core, truncated normals at ±3σ, Llama depth scaling;
* `vit_rules(width)`: big_vision's ViT, Xavier uniform, a zero head;
* `dit_rules()`: DiT with adaLN-Zero;
* `resnet_rules()`: torchvision's ResNet, each residual block's last BatchNorm at zero;
* `spectral_rules()`, `spectral_normal()`: the spectral condition of Yang, Simon & Bernstein (2023).

Every recipe's bias rule is `wi.optional`: a model without biases gives no unused-rule warning.
"""

from ._src.layer_defaults import equinox_linear as equinox_linear
from ._src.layer_defaults import flax_conv_kernel as flax_conv_kernel
from ._src.layer_defaults import flax_dense_kernel as flax_dense_kernel
from ._src.layer_defaults import flax_embed as flax_embed
from ._src.layer_defaults import haiku_linear as haiku_linear
from ._src.layer_defaults import keras_dense as keras_dense
from ._src.layer_defaults import torch_linear as torch_linear
from ._src.model_recipes import bert_rules as bert_rules
from ._src.model_recipes import dit_rules as dit_rules
from ._src.model_recipes import megatron_rules as megatron_rules
from ._src.model_recipes import neox_rules as neox_rules
from ._src.model_recipes import olmo_rules as olmo_rules
from ._src.model_recipes import resnet_rules as resnet_rules
from ._src.model_recipes import spectral_normal as spectral_normal
from ._src.model_recipes import spectral_rules as spectral_rules
from ._src.model_recipes import t5_rules as t5_rules
from ._src.model_recipes import vit_rules as vit_rules
from ._src.recipes import deepnet_constants as deepnet_constants
from ._src.recipes import deepnet_rules as deepnet_rules
from ._src.recipes import gpt2_rules as gpt2_rules
from ._src.recipes import llama_rules as llama_rules
from ._src.recipes import mup_readout as mup_readout
from ._src.recipes import mup_rules as mup_rules
from ._src.recipes import norm_weights as norm_weights

__all__ = [
    "bert_rules",
    "deepnet_constants",
    "deepnet_rules",
    "dit_rules",
    "equinox_linear",
    "flax_conv_kernel",
    "flax_dense_kernel",
    "flax_embed",
    "gpt2_rules",
    "haiku_linear",
    "keras_dense",
    "llama_rules",
    "megatron_rules",
    "mup_readout",
    "mup_rules",
    "neox_rules",
    "olmo_rules",
    "norm_weights",
    "resnet_rules",
    "spectral_normal",
    "spectral_rules",
    "t5_rules",
    "torch_linear",
    "vit_rules",
]
