"""The recipes of models people port, on the parameter trees of the checkpoints they load: every group's law equals
the one written here from the reference's code (cited per case), no rule goes unused, and each check catches a
planted defect (one group's std 5% off; T5's `o` swapped with `wo`; a stack not read per layer)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jax_weightinit as wi
from jax_weightinit import presets, testing

ONES, ZEROS = "ones", "zeros"


def normal(std):
    return wi.Distribution.normal(0.0, std)


def uniform(bound):
    return wi.Distribution.uniform(-bound, bound)


def nest(flat):
    tree: dict = {}
    for path, leaf in flat.items():
        *parents, name = path.split("/")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        node[name] = leaf
    return tree


def close(got, want):
    if got is None or want is None:
        return got is want
    return math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-300)


def holds(row, want) -> bool:
    """Whether a plan row draws `want`: ONES or ZEROS, or a law equal to `want` in every number to 1e-12."""
    if isinstance(want, str):
        return row.init is (wi.ones if want == ONES else wi.zeros)
    got = row.law
    return got is not None and got.family == want.family and all(
        close(getattr(got, f), getattr(want, f)) for f in ("loc", "scale", "low", "high")
    )


def mismatches(flat, rules, stacked=(), unused="raise"):
    """Each leaf whose planned law (or constant) is not the expected one, as 'path: got != want'."""
    tree = nest({path: jax.ShapeDtypeStruct(shape, jnp.float32) for path, (shape, _) in flat.items()})
    # No rule unused (a variant's missing part is `optional`): raised while tracing, before anything is drawn.
    jax.eval_shape(lambda k: wi.init_tree(k, tree, rules, stacked=stacked, on_unused_rule=unused), jax.random.key(0))
    rows = {row.path: row for row in wi.plan(tree, rules, stacked=stacked)}
    return [
        f"{path}: {rows[path].law or rows[path].init} != {want}"
        for path, (_, want) in flat.items()
        if not holds(rows[path], want)
    ]


# ---------------------------------------------------------------------------------------------------------- T5
# transformers/models/t5/modeling_t5.py, T5PreTrainedModel._init_weights (factor = initializer_factor = 1.0):
#   layer norm weight.fill_(factor * 1.0); shared and untied lm_head normal_(std=factor * 1.0);
#   wi / wi_0 / wi_1 std factor * d_model ** -0.5; wo std factor * d_ff ** -0.5;
#   q std factor * (d_model * d_kv) ** -0.5; k, v std factor * d_model ** -0.5; o std factor * (n_heads * d_kv) ** -0.5;
#   relative_attention_bias std factor * d_model ** -0.5.
D, KV, HEADS, FF, VOCAB, BUCKETS = 512, 64, 6, 1024, 320, 32  # Flan-T5 small's widths: heads * d_kv = 384 != 512
T5_ARGS = {"d_model": D, "d_kv": KV, "num_heads": HEADS, "d_ff": FF}
Q, KV_STD, O_STD, WI, WO = (D * KV) ** -0.5, D**-0.5, (HEADS * KV) ** -0.5, D**-0.5, FF**-0.5


def t5_attention(prefix, leaf, torch_layout):
    inner = HEADS * KV
    shape = (lambda i, o: (o, i)) if torch_layout else (lambda i, o: (i, o))
    return {
        f"{prefix}/q/{leaf}": (shape(D, inner), normal(Q)),
        f"{prefix}/k/{leaf}": (shape(D, inner), normal(KV_STD)),
        f"{prefix}/v/{leaf}": (shape(D, inner), normal(KV_STD)),
        f"{prefix}/o/{leaf}": (shape(inner, D), normal(O_STD)),
    }


def t5_hf(torch_layout=False, gated=True, tied=False, blocks=2):
    """Hugging Face's T5 names: the Flax port's (`kernel`, `embedding`) or PyTorch's (`weight`, (out, in))."""
    leaf, table = ("weight", "weight") if torch_layout else ("kernel", "embedding")
    shape = (lambda i, o: (o, i)) if torch_layout else (lambda i, o: (i, o))
    flat = {f"shared/{table}": ((VOCAB, D), normal(1.0))}
    for stack, ff_layer in (("encoder", 1), ("decoder", 2)):
        for i in range(blocks):
            block = f"{stack}/block/{i}/layer"
            flat |= t5_attention(f"{block}/0/SelfAttention", leaf, torch_layout)
            if stack == "decoder":
                flat |= t5_attention(f"{block}/1/EncDecAttention", leaf, torch_layout)
            if i == 0:
                flat[f"{block}/0/SelfAttention/relative_attention_bias/{table}"] = ((BUCKETS, HEADS), normal(KV_STD))
            ff = f"{block}/{ff_layer}/DenseReluDense"
            for name in ("wi_0", "wi_1") if gated else ("wi",):
                flat[f"{ff}/{name}/{leaf}"] = (shape(D, FF), normal(WI))
            flat[f"{ff}/wo/{leaf}"] = (shape(FF, D), normal(WO))
            for layer in range(ff_layer + 1):
                flat[f"{block}/{layer}/layer_norm/weight"] = ((D,), ONES)
        flat[f"{stack}/final_layer_norm/weight"] = ((D,), ONES)
    if not tied:
        flat[f"lm_head/{leaf}"] = (shape(D, VOCAB), normal(1.0))
    return flat


def t5x(layers=2):
    """t5x's names, its layers stacked by `nn.scan` (leading axis): `attention/query`, `mlp/wi_0`, `relpos_bias`."""
    inner = HEADS * KV
    flat = {"token_embedder/embedding": ((VOCAB, D), normal(1.0))}
    for stack in ("encoder", "decoder"):
        lay = f"{stack}/layers"
        flat |= {
            f"{lay}/attention/query/kernel": ((layers, D, HEADS, KV), normal(Q)),
            f"{lay}/attention/key/kernel": ((layers, D, HEADS, KV), normal(KV_STD)),
            f"{lay}/attention/value/kernel": ((layers, D, HEADS, KV), normal(KV_STD)),
            f"{lay}/attention/out/kernel": ((layers, HEADS, KV, D), normal(O_STD)),
            f"{lay}/mlp/wi_0/kernel": ((layers, D, FF), normal(WI)),
            f"{lay}/mlp/wi_1/kernel": ((layers, D, FF), normal(WI)),
            f"{lay}/mlp/wo/kernel": ((layers, FF, D), normal(WO)),
            f"{lay}/pre_attention_layer_norm/scale": ((layers, D), ONES),
            f"{lay}/pre_mlp_layer_norm/scale": ((layers, D), ONES),
            f"{stack}/relpos_bias/rel_embedding": ((HEADS, BUCKETS), normal(KV_STD)),
            f"{stack}/{stack}_norm/scale": ((D,), ONES),
        }
    flat["decoder/logits_dense/kernel"] = ((D, inner), normal(1.0))
    return flat


# -------------------------------------------------------------------------------------------------------- BERT
# transformers/models/bert/modeling_bert.py, BertPreTrainedModel._init_weights: Linear and Embedding
# weight.normal_(std=initializer_range), biases zero_(), LayerNorm weight fill_(1.0) and bias zero_(); the Flax port
# (modeling_flax_bert.py) gives every Dense and Embed `normal(initializer_range)` and `cls/predictions/bias` zeros.
def bert(d=64, layers=2, std=0.02):
    emb = "bert/embeddings"
    flat = {
        f"{emb}/word_embeddings/embedding": ((VOCAB, d), normal(std)),
        f"{emb}/position_embeddings/embedding": ((128, d), normal(std)),
        f"{emb}/token_type_embeddings/embedding": ((2, d), normal(std)),
        f"{emb}/LayerNorm/scale": ((d,), ONES),
        f"{emb}/LayerNorm/bias": ((d,), ZEROS),
        "bert/pooler/dense/kernel": ((d, d), normal(std)),
        "bert/pooler/dense/bias": ((d,), ZEROS),
        "cls/predictions/transform/dense/kernel": ((d, d), normal(std)),
        "cls/predictions/transform/LayerNorm/scale": ((d,), ONES),
        "cls/predictions/bias": ((VOCAB,), ZEROS),
    }
    for i in range(layers):
        layer = f"bert/encoder/layer/{i}"
        for name, (fan_in, fan_out) in {
            "attention/self/query": (d, d),
            "attention/self/key": (d, d),
            "attention/self/value": (d, d),
            "attention/output/dense": (d, d),
            "intermediate/dense": (d, 4 * d),
            "output/dense": (4 * d, d),
        }.items():
            flat[f"{layer}/{name}/kernel"] = ((fan_in, fan_out), normal(std))
            flat[f"{layer}/{name}/bias"] = ((fan_out,), ZEROS)
        for norm in ("attention/output/LayerNorm", "output/LayerNorm"):
            flat[f"{layer}/{norm}/scale"] = ((d,), ONES)
            flat[f"{layer}/{norm}/bias"] = ((d,), ZEROS)
    return flat


# --------------------------------------------------------------------------------------------------- GPT-NeoX
# gpt-neox megatron/model/init_functions.py: small_init_init_method std = math.sqrt(2 / (5 * dim));
# wang_init_method std = 2 / n_layers / math.sqrt(dim). transformer.py: attention `dense` and mlp `dense_4h_to_h`
# take output_layer_init_method (wang_init in the Pythia configs), every other weight init_method (small_init).
H, L = 128, 3
SMALL, WANG = math.sqrt(2 / (5 * H)), 2 / L / math.sqrt(H)


def neox(stacked_layers=False):
    """Hugging Face's GPT-NeoX names (PyTorch layout); `stacked_layers` stacks the layers on a leading axis."""
    layers = {
        "input_layernorm/weight": ((H,), ONES),
        "input_layernorm/bias": ((H,), ZEROS),
        "post_attention_layernorm/weight": ((H,), ONES),
        "post_attention_layernorm/bias": ((H,), ZEROS),
        "attention/query_key_value/weight": ((3 * H, H), normal(SMALL)),
        "attention/query_key_value/bias": ((3 * H,), ZEROS),
        "attention/dense/weight": ((H, H), normal(WANG)),
        "attention/dense/bias": ((H,), ZEROS),
        "mlp/dense_h_to_4h/weight": ((4 * H, H), normal(SMALL)),
        "mlp/dense_h_to_4h/bias": ((4 * H,), ZEROS),
        "mlp/dense_4h_to_h/weight": ((H, 4 * H), normal(WANG)),
        "mlp/dense_4h_to_h/bias": ((H,), ZEROS),
    }
    flat = {
        "gpt_neox/embed_in/weight": ((VOCAB, H), normal(SMALL)),
        "gpt_neox/final_layer_norm/weight": ((H,), ONES),
        "gpt_neox/final_layer_norm/bias": ((H,), ZEROS),
        "embed_out/weight": ((VOCAB, H), normal(SMALL)),
    }
    for name, (shape, law) in layers.items():
        if stacked_layers:
            flat[f"gpt_neox/layers/{name}"] = ((L, *shape), law)
        else:
            flat |= {f"gpt_neox/layers/{i}/{name}": (shape, law) for i in range(L)}
    return flat


# -------------------------------------------------------------------------------------------------- Megatron-LM
# megatron/core/utils.py: init_method_normal(sigma) std sigma; scaled_init_method_normal(sigma, num_layers)
# std sigma / math.sqrt(2.0 * num_layers); linear_proj and linear_fc2 take output_layer_init_method.
SIGMA = 0.02
SCALED = SIGMA / math.sqrt(2.0 * L)


def megatron_core():
    """Megatron-core's names (PyTorch layout), Transformer Engine's fused layer norms, an untied output layer."""
    flat = {
        "embedding/word_embeddings/weight": ((VOCAB, H), normal(SIGMA)),
        "embedding/position_embeddings/weight": ((256, H), normal(SIGMA)),
        "decoder/final_layernorm/weight": ((H,), ONES),
        "decoder/final_layernorm/bias": ((H,), ZEROS),
        "output_layer/weight": ((VOCAB, H), normal(SIGMA)),
    }
    for i in range(L):
        layer = f"decoder/layers/{i}"
        flat |= {
            f"{layer}/self_attention/linear_qkv/weight": ((3 * H, H), normal(SIGMA)),
            f"{layer}/self_attention/linear_qkv/bias": ((3 * H,), ZEROS),
            f"{layer}/self_attention/linear_qkv/layer_norm_weight": ((H,), ONES),
            f"{layer}/self_attention/linear_qkv/layer_norm_bias": ((H,), ZEROS),
            f"{layer}/self_attention/linear_proj/weight": ((H, H), normal(SCALED)),
            f"{layer}/self_attention/linear_proj/bias": ((H,), ZEROS),
            f"{layer}/mlp/linear_fc1/weight": ((4 * H, H), normal(SIGMA)),
            f"{layer}/mlp/linear_fc1/layer_norm_weight": ((H,), ONES),
            f"{layer}/mlp/linear_fc2/weight": ((H, 4 * H), normal(SCALED)),
        }
    return flat


def maxtext():
    """MaxText's names, its layers scanned with `param_scan_axis=1` (the stack is each leaf's second axis)."""
    heads, head_dim, ff = 4, 32, 4 * H
    lay = "decoder/layers"
    return {
        "token_embedder/embedding": ((VOCAB, H), normal(SIGMA)),
        f"{lay}/pre_self_attention_layer_norm/scale": ((H, L), ONES),
        f"{lay}/post_self_attention_layer_norm/scale": ((H, L), ONES),
        f"{lay}/self_attention/query/kernel": ((H, L, heads, head_dim), normal(SIGMA)),
        f"{lay}/self_attention/key/kernel": ((H, L, heads, head_dim), normal(SIGMA)),
        f"{lay}/self_attention/value/kernel": ((H, L, heads, head_dim), normal(SIGMA)),
        f"{lay}/self_attention/out/kernel": ((heads, L, head_dim, H), normal(SCALED)),
        f"{lay}/mlp/wi_0/kernel": ((H, L, ff), normal(SIGMA)),
        f"{lay}/mlp/wi_1/kernel": ((H, L, ff), normal(SIGMA)),
        f"{lay}/mlp/wo/kernel": ((ff, L, H), normal(SCALED)),
        "decoder/decoder_norm/scale": ((H,), ONES),
        "decoder/logits_dense/kernel": ((H, VOCAB), normal(SIGMA)),
    }


# ---------------------------------------------------------------------------------------------------------- ViT
# big_vision/models/vit.py: MlpBlock Dense kernel_init xavier_uniform, bias_init normal(stddev=1e-6);
# Encoder1DBlock MultiHeadDotProductAttention kernel_init xavier_uniform (DenseGeneral flattens the kernel to
# (width, heads * head_dim)); get_posemb "learn" normal(stddev=1 / np.sqrt(width)); cls zeros; head zeros
# (head_zeroinit); the `embedding` Conv and LayerNorm Flax's defaults (lecun_normal, zeros; scale ones).
# jax/_src/nn/initializers.py variance_scaling, "uniform": variance = scale / max(1., (fan_in + fan_out) / 2),
# bound sqrt(3 * variance).
WIDTH, VIT_HEADS, MLP, PATCH, DEPTH = 64, 4, 256, 4, 2


def glorot(fan_in, fan_out):
    return uniform(math.sqrt(3 * (1.0 / max(1.0, (fan_in + fan_out) / 2))))


def vit(scan=False):
    hd = WIDTH // VIT_HEADS
    flat = {
        "embedding/kernel": ((PATCH, PATCH, 3, WIDTH), wi.lecun_normal().distribution((PATCH, PATCH, 3, WIDTH))),
        "embedding/bias": ((WIDTH,), ZEROS),
        "pos_embedding": ((1, 16, WIDTH), normal(1 / np.sqrt(WIDTH))),
        "cls": ((1, 1, WIDTH), ZEROS),
        "Transformer/encoder_norm/scale": ((WIDTH,), ONES),
        "Transformer/encoder_norm/bias": ((WIDTH,), ZEROS),
        "head/kernel": ((WIDTH, 10), ZEROS),
        "head/bias": ((10,), ZEROS),
    }
    block = {
        "LayerNorm_0/scale": ((WIDTH,), ONES),
        "LayerNorm_0/bias": ((WIDTH,), ZEROS),
        "LayerNorm_1/scale": ((WIDTH,), ONES),
        "MlpBlock_0/Dense_0/kernel": ((WIDTH, MLP), glorot(WIDTH, MLP)),
        "MlpBlock_0/Dense_0/bias": ((MLP,), normal(1e-6)),
        "MlpBlock_0/Dense_1/kernel": ((MLP, WIDTH), glorot(MLP, WIDTH)),
        "MlpBlock_0/Dense_1/bias": ((WIDTH,), normal(1e-6)),
        "MultiHeadDotProductAttention_0/out/kernel": ((VIT_HEADS, hd, WIDTH), glorot(WIDTH, WIDTH)),
        "MultiHeadDotProductAttention_0/out/bias": ((WIDTH,), ZEROS),
    }
    for name in ("query", "key", "value"):
        block[f"MultiHeadDotProductAttention_0/{name}/kernel"] = ((WIDTH, VIT_HEADS, hd), glorot(WIDTH, WIDTH))
        block[f"MultiHeadDotProductAttention_0/{name}/bias"] = ((VIT_HEADS, hd), ZEROS)
    for name, (shape, law) in block.items():
        if scan:
            flat[f"Transformer/encoderblock/{name}"] = ((DEPTH, *shape), law)
        else:
            flat |= {f"Transformer/encoderblock_{i}/{name}": (shape, law) for i in range(DEPTH)}
    return flat


# ---------------------------------------------------------------------------------------------------------- DiT
# facebookresearch/DiT models.py, DiT.initialize_weights: every nn.Linear xavier_uniform_, bias 0; x_embedder.proj
# xavier_uniform_ of weight.view([w.shape[0], -1]), bias 0; y_embedder.embedding_table and t_embedder.mlp[0], [2]
# normal_(std=0.02); each block's adaLN_modulation[-1] and final_layer's adaLN_modulation[-1] and linear: 0.
# torch/nn/init.py xavier_uniform_: std = gain * math.sqrt(2.0 / float(fan_in + fan_out)); a = math.sqrt(3.0) * std.
def torch_xavier(fan_in, fan_out):
    return uniform(math.sqrt(3.0) * (1.0 * math.sqrt(2.0 / float(fan_in + fan_out))))


def dit(hidden=64, depth=2, patch=2, channels=4):
    out = patch * patch * 2 * channels  # learn_sigma
    flat = {
        "x_embedder/proj/weight": ((hidden, channels, patch, patch), torch_xavier(channels * patch * patch, hidden)),
        "x_embedder/proj/bias": ((hidden,), ZEROS),
        "t_embedder/mlp/0/weight": ((hidden, 256), normal(0.02)),
        "t_embedder/mlp/0/bias": ((hidden,), ZEROS),
        "t_embedder/mlp/2/weight": ((hidden, hidden), normal(0.02)),
        "t_embedder/mlp/2/bias": ((hidden,), ZEROS),
        "y_embedder/embedding_table/weight": ((11, hidden), normal(0.02)),
        "final_layer/adaLN_modulation/1/weight": ((2 * hidden, hidden), ZEROS),
        "final_layer/adaLN_modulation/1/bias": ((2 * hidden,), ZEROS),
        "final_layer/linear/weight": ((out, hidden), ZEROS),
        "final_layer/linear/bias": ((out,), ZEROS),
    }
    for i in range(depth):
        block = f"blocks/{i}"
        flat |= {
            f"{block}/attn/qkv/weight": ((3 * hidden, hidden), torch_xavier(hidden, 3 * hidden)),
            f"{block}/attn/qkv/bias": ((3 * hidden,), ZEROS),
            f"{block}/attn/proj/weight": ((hidden, hidden), torch_xavier(hidden, hidden)),
            f"{block}/mlp/fc1/weight": ((4 * hidden, hidden), torch_xavier(hidden, 4 * hidden)),
            f"{block}/mlp/fc2/weight": ((hidden, 4 * hidden), torch_xavier(4 * hidden, hidden)),
            f"{block}/mlp/fc2/bias": ((hidden,), ZEROS),
            f"{block}/adaLN_modulation/1/weight": ((6 * hidden, hidden), ZEROS),
            f"{block}/adaLN_modulation/1/bias": ((6 * hidden,), ZEROS),
        }
    return flat


# ------------------------------------------------------------------------------------------------------- ResNet
# torchvision/models/resnet.py, ResNet.__init__: Conv2d kaiming_normal_(mode="fan_out", nonlinearity="relu");
# BatchNorm2d weight 1, bias 0; zero_init_residual: Bottleneck bn3.weight 0. torch/nn/init.py kaiming_normal_:
# std = gain / math.sqrt(fan) with gain math.sqrt(2.0). nn.Linear.reset_parameters: kaiming_uniform_(a=math.sqrt(5))
# (gain math.sqrt(2.0 / (1 + 5)), bound math.sqrt(3.0) * gain / math.sqrt(fan_in)); bias bound 1 / math.sqrt(fan_in).
def kaiming_fan_out(out_channels, kh, kw):
    return normal(math.sqrt(2.0) / math.sqrt(out_channels * kh * kw))


def torchvision_resnet():
    flat = {
        "conv1/weight": ((64, 3, 7, 7), kaiming_fan_out(64, 7, 7)),
        "bn1/weight": ((64,), ONES),
        "bn1/bias": ((64,), ZEROS),
        "fc/weight": ((10, 2048), uniform(math.sqrt(3.0) * (math.sqrt(2.0 / (1 + 5)) / math.sqrt(2048)))),
        "fc/bias": ((10,), uniform(1 / math.sqrt(2048))),
    }
    block = "layer1/0"
    for name, (out, inp, k) in {"conv1": (64, 64, 1), "conv2": (64, 64, 3), "conv3": (256, 64, 1)}.items():
        flat[f"{block}/{name}/weight"] = ((out, inp, k, k), kaiming_fan_out(out, k, k))
    for name, width, gamma in (("bn1", 64, ONES), ("bn2", 64, ONES), ("bn3", 256, ZEROS), ("downsample/1", 256, ONES)):
        flat[f"{block}/{name}/weight"] = ((width,), gamma)
        flat[f"{block}/{name}/bias"] = ((width,), ZEROS)
    flat[f"{block}/downsample/0/weight"] = ((256, 64, 1, 1), kaiming_fan_out(256, 1, 1))
    return flat


def flax_resnet():
    """The Flax ImageNet example's names (examples/imagenet/models.py), laid out (kh, kw, in, out)."""
    flat = {
        "conv_init/kernel": ((7, 7, 3, 64), kaiming_fan_out(64, 7, 7)),
        "bn_init/scale": ((64,), ONES),
        "bn_init/bias": ((64,), ZEROS),
        "Dense_0/kernel": ((2048, 10), uniform(1 / math.sqrt(2048))),
        "Dense_0/bias": ((10,), uniform(1 / math.sqrt(2048))),
    }
    block = "BottleneckResNetBlock_0"
    for name, (inp, out, k) in {"Conv_0": (64, 64, 1), "Conv_1": (64, 64, 3), "Conv_2": (64, 256, 1)}.items():
        flat[f"{block}/{name}/kernel"] = ((k, k, inp, out), kaiming_fan_out(out, k, k))
    flat[f"{block}/conv_proj/kernel"] = ((1, 1, 64, 256), kaiming_fan_out(256, 1, 1))
    for name, width, gamma in (("BatchNorm_0", 64, ONES), ("BatchNorm_2", 256, ZEROS), ("norm_proj", 256, ONES)):
        flat[f"{block}/{name}/scale"] = ((width,), gamma)
        flat[f"{block}/{name}/bias"] = ((width,), ZEROS)
    return flat


# ------------------------------------------------------------------------------------------------------ spectral
# Yang, Simon & Bernstein (2023), Parametrization 1: sigma = 1 / sqrt(fan_in) * min(1, sqrt(fan_out / fan_in)).
def spectral(fan_in, fan_out):
    return normal(1 / math.sqrt(fan_in) * min(1.0, math.sqrt(fan_out / fan_in)))


def spectral_mlp():
    return {
        "Dense_0/kernel": ((256, 1024), spectral(256, 1024)),
        "Dense_0/bias": ((1024,), ZEROS),
        "Dense_1/kernel": ((1024, 1024), spectral(1024, 1024)),
        "LayerNorm_0/scale": ((1024,), ONES),
        "Dense_2/kernel": ((1024, 10), spectral(1024, 10)),
        "torch_head/weight": ((10, 1024), spectral(1024, 10)),  # PyTorch's (out, in)
        "torch_stem/weight": ((64, 3, 3, 3), spectral(27, 576)),  # a convolution, (out, in, kh, kw)
    }


# ---------------------------------------------------------------------------------------------------------- OLMo
# OLMo-core src/olmo_core/nn/transformer/init.py, InitMethod: _init_linear trunc_normal_(std=std, a=-3 * std,
# b=3 * std), bias zeros_; init_embeddings normal_() (std 1) under llama and llama_depth, else the truncated normal;
# init_final_w_out std = d_model**-0.5 under llama and llama_depth; init_attention w_q, w_k, w_v at std, w_out at
# std / (2 * num_blocks) ** 0.5 (llama) or std / (2 * (block_idx + 1)) ** 0.5 (llama_depth); init_feed_forward w1 at
# std, then w3 and w2 at the scaled std.
OLMO_D, BLOCKS, OLMO_STD = 128, 2, 0.02


def torch_trunc(std):
    return wi.Distribution.truncated_normal(0.0, std, -3 * std, 3 * std)


def olmo_core(method):
    scaled = {
        "normal": [OLMO_STD] * BLOCKS,
        "llama": [OLMO_STD / (2 * BLOCKS) ** 0.5] * BLOCKS,
        "llama_depth": [OLMO_STD / (2 * (i + 1)) ** 0.5 for i in range(BLOCKS)],
    }[method]
    llama = method != "normal"
    flat = {
        "embeddings/weight": ((VOCAB, OLMO_D), normal(1.0) if llama else torch_trunc(OLMO_STD)),
        "lm_head/norm/weight": ((OLMO_D,), ONES),
        "lm_head/w_out/weight": ((VOCAB, OLMO_D), torch_trunc(OLMO_D**-0.5 if llama else OLMO_STD)),
    }
    for i in range(BLOCKS):
        block = f"blocks/{i}"
        flat |= {
            f"{block}/attention/w_q/weight": ((OLMO_D, OLMO_D), torch_trunc(OLMO_STD)),
            f"{block}/attention/w_k/weight": ((OLMO_D, OLMO_D), torch_trunc(OLMO_STD)),
            f"{block}/attention/w_v/weight": ((OLMO_D, OLMO_D), torch_trunc(OLMO_STD)),
            f"{block}/attention/w_out/weight": ((OLMO_D, OLMO_D), torch_trunc(scaled[i])),
            f"{block}/attention/q_norm/weight": ((OLMO_D,), ONES),
            f"{block}/attention_norm/weight": ((OLMO_D,), ONES),
            f"{block}/feed_forward/w1/weight": ((4 * OLMO_D, OLMO_D), torch_trunc(OLMO_STD)),
            f"{block}/feed_forward/w3/weight": ((4 * OLMO_D, OLMO_D), torch_trunc(scaled[i])),
            f"{block}/feed_forward/w2/weight": ((OLMO_D, 4 * OLMO_D), torch_trunc(scaled[i])),
            f"{block}/feed_forward_norm/weight": ((OLMO_D,), ONES),
        }
    return flat


def hf_olmo2():
    """Hugging Face's OLMo 2 names (`gate_proj` is OLMo-core's w1, `up_proj` w3, `down_proj` w2), method "llama"."""
    scaled = OLMO_STD / (2 * BLOCKS) ** 0.5
    flat = {
        "model/embed_tokens/weight": ((VOCAB, OLMO_D), normal(1.0)),
        "model/norm/weight": ((OLMO_D,), ONES),
        "lm_head/weight": ((VOCAB, OLMO_D), torch_trunc(OLMO_D**-0.5)),
    }
    for i in range(BLOCKS):
        layer = f"model/layers/{i}"
        flat |= {
            f"{layer}/self_attn/q_proj/weight": ((OLMO_D, OLMO_D), torch_trunc(OLMO_STD)),
            f"{layer}/self_attn/o_proj/weight": ((OLMO_D, OLMO_D), torch_trunc(scaled)),
            f"{layer}/self_attn/k_norm/weight": ((OLMO_D,), ONES),
            f"{layer}/mlp/gate_proj/weight": ((4 * OLMO_D, OLMO_D), torch_trunc(OLMO_STD)),
            f"{layer}/mlp/up_proj/weight": ((4 * OLMO_D, OLMO_D), torch_trunc(scaled)),
            f"{layer}/mlp/down_proj/weight": ((OLMO_D, 4 * OLMO_D), torch_trunc(scaled)),
            f"{layer}/post_attention_layernorm/weight": ((OLMO_D,), ONES),
        }
    return flat


def olmo(method):
    return presets.olmo_rules(d_model=OLMO_D, num_blocks=BLOCKS, init_method=method, init_std=OLMO_STD)


T5_RULES = presets.t5_rules(**T5_ARGS)
MEGATRON = presets.megatron_rules(L)

# (id, the checkpoint's tree with each leaf's law, rules, stacked, index of a random rule to put 5% off)
CASES = [
    ("t5-hf-flax-gated-untied", t5_hf(), T5_RULES, (), 0),
    ("t5-hf-pytorch-relu-tied", t5_hf(torch_layout=True, gated=False, tied=True), T5_RULES, (), 2),
    ("t5x-scanned", t5x(), T5_RULES, [("layers/", 1)], 5),
    ("bert-hf-flax", bert(), presets.bert_rules(), (), 2),
    ("neox-hf", neox(), presets.neox_rules(hidden_size=H, num_layers=L), (), 0),
    ("neox-hf-stacked", neox(True), presets.neox_rules(hidden_size=H, num_layers=L), [("layers/", 1)], 3),
    ("megatron-core", megatron_core(), MEGATRON, (), 0),
    ("megatron-maxtext-scan-axis-1", maxtext(), MEGATRON, [("layers/", (1,))], 3),
    ("vit-big-vision", vit(), presets.vit_rules(WIDTH), (), 5),
    ("vit-big-vision-scan", vit(scan=True), presets.vit_rules(WIDTH), [("encoderblock/", 1)], 6),
    ("dit", dit(), presets.dit_rules(), (), 5),
    ("resnet-torchvision", torchvision_resnet(), presets.resnet_rules(), (), 2),
    ("resnet-flax-example", flax_resnet(), presets.resnet_rules(), (), 3),
    ("spectral-mlp", spectral_mlp(), presets.spectral_rules(), (), 2),
    ("olmo-core-normal", olmo_core("normal"), olmo("normal"), (), 2),
    ("olmo-core-llama", olmo_core("llama"), olmo("llama"), (), 2),
    ("olmo-core-llama-depth", olmo_core("llama_depth"), olmo("llama_depth"), (), 3),
    ("olmo2-hf-llama", hf_olmo2(), olmo("llama"), (), 0),
]
IDS = [case[0] for case in CASES]


@pytest.mark.parametrize("name, flat, rules, stacked, _", CASES, ids=IDS)
def test_every_group_has_its_references_law(name, flat, rules, stacked, _):
    assert mismatches(flat, rules, stacked) == []


@pytest.mark.parametrize("name, flat, rules, stacked, index", CASES, ids=IDS)
def test_twin_one_groups_std_five_percent_off_is_caught(name, flat, rules, stacked, index):
    pattern, init = rules[index]
    assert init.distribution is not None  # a random law, so that 5% changes it
    planted = [*rules[:index], (pattern, wi.scaled(init, 1.05)), *rules[index + 1 :]]
    assert mismatches(flat, planted, stacked)


def test_twin_t5s_o_swapped_with_wo_is_caught():
    by_pattern = dict(T5_RULES)
    o, wo = r"(^|/)(o|out)/(kernel|weight|w)$", r"(^|/)(wo)/(kernel|weight|w)$"
    swapped = [(p, by_pattern[wo] if p == o else by_pattern[o] if p == wo else i) for p, i in T5_RULES]
    wrong = mismatches(t5_hf(), swapped)
    assert any("/o/kernel" in w for w in wrong) and any("/wo/kernel" in w for w in wrong)


def test_twin_an_unanchored_o_pattern_takes_wo_and_is_caught():
    """`o/kernel$` also matches `wo/kernel`: the mistake the recipe's whole-component patterns rule out."""
    naive = [(r"o/(kernel|weight)$", wi.normal(O_STD)), *T5_RULES]
    wrong = mismatches(t5_hf(), naive, unused="ignore")  # it shadows the o and wo rules
    assert wrong and all("/wo/kernel" in w for w in wrong)


def test_twin_a_scanned_vit_not_read_per_layer_is_caught():
    """big_vision's scanned blocks are not named `layers`: undeclared, each stack is read as one layer's fans (and
    the plan says so)."""
    with pytest.warns(UserWarning, match="read as one layer each"):
        assert mismatches(vit(scan=True), presets.vit_rules(WIDTH), stacked=())


@pytest.mark.parametrize(
    "rules, path, shape, law",
    [
        (T5_RULES, "encoder/block/1/layer/0/SelfAttention/o/kernel", (HEADS * KV, D), normal(O_STD)),
        (presets.neox_rules(hidden_size=H, num_layers=L), "gpt_neox/layers/0/mlp/dense_4h_to_h/weight", (H, 4 * H),
         normal(WANG)),
        (presets.dit_rules(), "x_embedder/proj/weight", (1152, 4, 2, 2), torch_xavier(16, 1152)),
    ],
    ids=["t5-o", "neox-wang", "dit-patch-embedding"],
)
def test_drawn_values_follow_the_law_and_a_five_percent_error_is_caught(key, rules, path, shape, law):
    tree = nest({path: jax.ShapeDtypeStruct(shape, jnp.float32)})
    node = wi.init_tree(key, tree, rules, on_unused_rule="ignore")
    for part in path.split("/"):
        node = node[part]
    values = np.asarray(node, np.float64).ravel()
    testing.assert_ks(values, law.cdf)
    off = normal(law.scale * 1.05) if law.family == "normal" else uniform(law.high * 1.05)
    with pytest.raises(AssertionError, match="KS distance"):
        testing.assert_ks(values, off.cdf)


def test_t5_layer_norms_take_the_factor():
    rows = {r.path: r for r in wi.plan(nest({"encoder": {"final_layer_norm": {"weight": jnp.zeros(8)}}}),
                                       presets.t5_rules(**T5_ARGS, factor=2.0))}
    assert np.asarray(rows["encoder/final_layer_norm/weight"].init(None, (3,), jnp.float32)).tolist() == [2.0] * 3


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: presets.t5_rules(0, 64, 8, 2048), ValueError, "`d_model` must be a positive int; got 0"),
        (lambda: presets.t5_rules(512, 64, 8, 2048, factor=-1.0), ValueError, "`factor` must be positive"),
        (lambda: presets.bert_rules(0.0), ValueError, "`initializer_range` must be positive"),
        (lambda: presets.neox_rules(768, 2.5), TypeError, "`num_layers` must be an int; got 2.5"),
        (lambda: presets.megatron_rules(24, residual=3), TypeError, "`residual` must be a regex"),
        (lambda: presets.vit_rules(0), ValueError, "`width` must be a positive int; got 0"),
        (lambda: presets.resnet_rules("wide"), ValueError, '`block` must be "bottleneck" or "basic"; got \'wide\''),
        (lambda: presets.spectral_normal(0.0), ValueError, "`scale` must be positive"),
        (lambda: presets.olmo_rules(512, 4, "mitchell"), ValueError, "`init_method` must be one of 'normal', "),
    ],
)
def test_bad_arguments_get_one_sentence(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ------------------------------------------------------------------------------- the frameworks' own modules
# A GPT-NeoX block built with each framework's layers under Hugging Face's names, and a big_vision encoder block in
# linen: the recipes read the trees the frameworks themselves make (their leaf names, layouts and stacks).
def check_plan(plan, expected):
    """Each (path suffix -> law) in `expected` holds for every row whose path ends with it, and some row does."""
    wrong = []
    for suffix, want in expected.items():
        rows = [row for row in plan if row.path.endswith(suffix)]
        if not rows:
            wrong.append(f"no leaf ends with {suffix}")
        wrong += [f"{row.path}: {row.law or row.init} != {want}" for row in rows if not holds(row, want)]
    return wrong


NEOX_LAWS = {
    "attention/query_key_value/{w}": normal(SMALL),
    "attention/dense/{w}": normal(WANG),
    "mlp/dense_h_to_4h/{w}": normal(SMALL),
    "mlp/dense_4h_to_h/{w}": normal(WANG),
    "input_layernorm/{scale}": ONES,
    "attention/dense/{b}": ZEROS,
}
NEOX_RULES = presets.neox_rules(hidden_size=H, num_layers=L)


def neox_laws(w, scale, embed):
    laws = {k.format(w=w, scale=scale, b="b" if w == "w" else "bias"): v for k, v in NEOX_LAWS.items()}
    return laws | {f"embed_in/{embed}": normal(SMALL)}


def nnx_neox(stack):
    from flax import nnx

    class Attention(nnx.Module):
        def __init__(self, rngs):
            self.query_key_value = nnx.Linear(H, 3 * H, rngs=rngs)
            self.dense = nnx.Linear(H, H, rngs=rngs)

    class MLP(nnx.Module):
        def __init__(self, rngs):
            self.dense_h_to_4h = nnx.Linear(H, 4 * H, rngs=rngs)
            self.dense_4h_to_h = nnx.Linear(4 * H, H, rngs=rngs)

    class Layer(nnx.Module):
        def __init__(self, rngs):
            self.input_layernorm = nnx.LayerNorm(H, rngs=rngs)
            self.attention = Attention(rngs)
            self.mlp = MLP(rngs)

    @nnx.vmap(in_axes=0, out_axes=0)
    def stacked(key):
        return Layer(nnx.Rngs(key))

    class Model(nnx.Module):
        def __init__(self, rngs):
            self.embed_in = nnx.Embed(VOCAB, H, rngs=rngs)
            if stack:
                self.layers = stacked(jax.random.split(jax.random.key(1), L))
            else:
                self.layers = nnx.List([Layer(rngs) for _ in range(L)])

    return nnx.eval_shape(lambda: Model(nnx.Rngs(0)))


def linen_neox_params():
    import flax.linen as nn

    class Attention(nn.Module):
        @nn.compact
        def __call__(self, x):
            return nn.Dense(H, name="dense")(nn.Dense(3 * H, name="query_key_value")(x)[..., :H])

    class MLP(nn.Module):
        @nn.compact
        def __call__(self, x):
            return nn.Dense(H, name="dense_4h_to_h")(nn.Dense(4 * H, name="dense_h_to_4h")(x))

    class Layer(nn.Module):
        @nn.compact
        def __call__(self, x, _):
            x = nn.LayerNorm(name="input_layernorm")(x)
            return MLP(name="mlp")(Attention(name="attention")(x)), None

    class Model(nn.Module):
        @nn.compact
        def __call__(self, tokens):
            x = nn.Embed(VOCAB, H, name="embed_in")(tokens)
            scan = nn.scan(Layer, variable_axes={"params": 0}, split_rngs={"params": True}, length=L)
            return scan(name="layers")(x, None)[0]

    return jax.eval_shape(Model().init, jax.random.key(0), jnp.zeros((1, 4), jnp.int32))["params"]


def haiku_neox_params():
    import haiku as hk

    def forward(tokens):
        x = hk.Embed(VOCAB, H, name="embed_in")(tokens)
        for i in range(L):
            with hk.name_scope(f"layers_{i}"):
                x = hk.LayerNorm(-1, True, True, name="input_layernorm")(x)
                with hk.name_scope("attention"):
                    x = hk.Linear(H, name="dense")(hk.Linear(3 * H, name="query_key_value")(x)[..., :H])
                with hk.name_scope("mlp"):
                    x = hk.Linear(H, name="dense_4h_to_h")(hk.Linear(4 * H, name="dense_h_to_4h")(x))
        return x

    return jax.eval_shape(hk.transform(forward).init, jax.random.key(0), jnp.zeros((1, 4), jnp.int32))


def equinox_neox():
    import equinox as eqx

    class Attention(eqx.Module):
        query_key_value: eqx.nn.Linear
        dense: eqx.nn.Linear

        def __init__(self, key):
            k = jax.random.split(key)
            self.query_key_value = eqx.nn.Linear(H, 3 * H, key=k[0])
            self.dense = eqx.nn.Linear(H, H, key=k[1])

    class MLP(eqx.Module):
        dense_h_to_4h: eqx.nn.Linear
        dense_4h_to_h: eqx.nn.Linear

        def __init__(self, key):
            k = jax.random.split(key)
            self.dense_h_to_4h = eqx.nn.Linear(H, 4 * H, key=k[0])
            self.dense_4h_to_h = eqx.nn.Linear(4 * H, H, key=k[1])

    class Layer(eqx.Module):
        input_layernorm: eqx.nn.LayerNorm
        attention: Attention
        mlp: MLP

        def __init__(self, key):
            k = jax.random.split(key)
            self.input_layernorm = eqx.nn.LayerNorm(H)
            self.attention, self.mlp = Attention(k[0]), MLP(k[1])

    class Model(eqx.Module):
        embed_in: eqx.nn.Embedding
        layers: list

        def __init__(self, key):
            keys = jax.random.split(key, L + 1)
            self.embed_in = eqx.nn.Embedding(VOCAB, H, key=keys[0])
            self.layers = [Layer(k) for k in keys[1:]]

    return eqx.filter_eval_shape(Model, jax.random.key(0))


def flax_plan(tree, rules):
    return wi.flax.plan(tree, rules)


def equinox_plan(tree, rules):
    return wi.equinox.plan(tree, rules)


FRAMEWORK_TREES = [
    (lambda: nnx_neox(stack=False), flax_plan, neox_laws("kernel", "scale", "embedding")),
    (lambda: nnx_neox(stack=True), flax_plan, neox_laws("kernel", "scale", "embedding")),
    (linen_neox_params, wi.plan, neox_laws("kernel", "scale", "embedding")),
    (haiku_neox_params, wi.plan, neox_laws("w", "scale", "embeddings")),
    (equinox_neox, equinox_plan, neox_laws("weight", "weight", "weight")),
]


@pytest.mark.parametrize(
    "build, planner, expected", FRAMEWORK_TREES, ids=["nnx", "nnx-vmap-stack", "linen-scan", "haiku", "equinox"]
)
def test_neox_rules_on_each_frameworks_own_tree(build, planner, expected):
    tree = build()
    assert check_plan(planner(tree, NEOX_RULES), expected) == []
    wrong_depth = presets.neox_rules(hidden_size=H, num_layers=L + 1)  # twin: num_layers off by one
    assert check_plan(planner(tree, wrong_depth), expected)


def linen_vit_params(scan):
    """big_vision's ViT encoder, reduced (vit.py's Encoder1DBlock, MlpBlock, Encoder names)."""
    import flax.linen as nn

    class MlpBlock(nn.Module):
        @nn.compact
        def __call__(self, x):
            return nn.Dense(WIDTH)(nn.gelu(nn.Dense(MLP)(x)))

    class Encoder1DBlock(nn.Module):
        @nn.compact
        def __call__(self, x, _=None):
            y = nn.MultiHeadDotProductAttention(num_heads=VIT_HEADS)(nn.LayerNorm()(x), nn.LayerNorm()(x))
            return x + MlpBlock()(y), None

    class Encoder(nn.Module):
        @nn.compact
        def __call__(self, x):
            if scan:
                block = nn.scan(Encoder1DBlock, variable_axes={"params": 0}, split_rngs={"params": True}, length=2)
                x = block(name="encoderblock")(x, None)[0]
            else:
                for i in range(2):
                    x = Encoder1DBlock(name=f"encoderblock_{i}")(x)[0]
            return nn.LayerNorm(name="encoder_norm")(x)

    class ViT(nn.Module):
        @nn.compact
        def __call__(self, image):
            x = nn.Conv(WIDTH, (PATCH, PATCH), strides=PATCH, padding="VALID", name="embedding")(image)
            x = x.reshape(x.shape[0], -1, WIDTH)
            x = x + self.param("pos_embedding", nn.initializers.zeros, (1, x.shape[1], WIDTH))
            x = Encoder(name="Transformer")(x)
            return nn.Dense(10, name="head")(x[:, 0])

    return jax.eval_shape(ViT().init, jax.random.key(0), jnp.zeros((1, 16, 16, 3)))["params"]


VIT_LAWS = {
    "MultiHeadDotProductAttention_0/query/kernel": glorot(WIDTH, WIDTH),
    "MultiHeadDotProductAttention_0/out/kernel": glorot(WIDTH, WIDTH),
    "MlpBlock_0/Dense_0/kernel": glorot(WIDTH, MLP),
    "MlpBlock_0/Dense_1/bias": normal(1e-6),
    "LayerNorm_1/scale": ONES,
    "pos_embedding": normal(1 / np.sqrt(WIDTH)),
    "head/kernel": ZEROS,
}


@pytest.mark.parametrize("scan", [False, True], ids=["linen", "linen-scan"])
def test_vit_rules_on_linens_own_tree(scan):
    """Flax's DenseGeneral kernels (width, heads, head_dim) are read at width x width, plain and scanned."""
    params, stacked = linen_vit_params(scan), [("encoderblock/", 1)] if scan else ()
    assert check_plan(wi.plan(params, presets.vit_rules(WIDTH), stacked=stacked), VIT_LAWS) == []
    default_axes = [(p, wi.xavier_uniform() if "Attention" in str(p) else i) for p, i in presets.vit_rules(WIDTH)]
    assert check_plan(wi.plan(params, default_axes, stacked=stacked), VIT_LAWS)  # twin: 3-D kernels, jax's fans


def nnx_mlp():
    from flax import nnx

    class MLP(nnx.Module):
        def __init__(self, rngs):
            self.up = nnx.Linear(256, 1024, rngs=rngs)
            self.down = nnx.Linear(1024, 10, rngs=rngs)

    return nnx.eval_shape(lambda: MLP(nnx.Rngs(0)))


def equinox_mlp():
    import equinox as eqx

    return eqx.filter_eval_shape(eqx.nn.MLP, 256, 10, 1024, 1, key=jax.random.key(0))


@pytest.mark.parametrize(
    "build, planner, expected",
    [
        (nnx_mlp, wi.plan, {"up/kernel": spectral(256, 1024), "down/kernel": spectral(1024, 10)}),
        (equinox_mlp, wi.plan, {"0/weight": spectral(256, 1024), "1/weight": spectral(1024, 10)}),
        (nnx_mlp, flax_plan, {"up/kernel": spectral(256, 1024), "down/kernel": spectral(1024, 10)}),
        (equinox_mlp, equinox_plan, {"0/weight": spectral(256, 1024), "1/weight": spectral(1024, 10)}),
    ],
    ids=["nnx-tree", "equinox-tree", "nnx-adapter", "equinox-adapter"],
)
def test_spectral_rules_read_each_frameworks_layout(build, planner, expected):
    """On the bare tree the recipe reads each layout by the leaf's name; the adapters read the layers' own fans."""
    tree = build()
    assert check_plan(planner(tree, presets.spectral_rules()), expected) == []
    assert check_plan(planner(tree, presets.spectral_rules(scale=1.05)), expected)  # twin: 5% off
    if planner is wi.plan:  # twin: the layouts crossed, caught where no adapter supplies the fans
        swapped = presets.spectral_rules(weights=r"weight$", torch_weights=r"(kernel|w)$")
        assert check_plan(planner(tree, swapped), expected)
