"""GPT-2, μP and DeepNet inits of a small Flax nnx transformer: read each plan, then draw it.

The model is built abstractly (`nnx.eval_shape`), so nothing is drawn twice: `wi.flax.reinit`
materializes it, each fan-scaled law at its layer's own fans (attention kernels are d × d layers).
"""

import math

import jax
import numpy as np
from flax import nnx

import jax_weightinit as wi
from jax_weightinit import presets

VOCAB, CONTEXT, LAYERS = 1000, 64, 4


class MLP(nnx.Module):
    def __init__(self, d: int, rngs: nnx.Rngs):
        self.c_fc = nnx.Linear(d, 4 * d, rngs=rngs)
        self.c_proj = nnx.Linear(4 * d, d, rngs=rngs)


class Block(nnx.Module):
    def __init__(self, d: int, rngs: nnx.Rngs):
        self.ln_1 = nnx.LayerNorm(d, rngs=rngs)
        self.attn = nnx.MultiHeadAttention(4, d, decode=False, rngs=rngs)
        self.ln_2 = nnx.LayerNorm(d, rngs=rngs)
        self.mlp = MLP(d, rngs)


class GPT(nnx.Module):
    def __init__(self, d: int, rngs: nnx.Rngs):
        self.wte = nnx.Embed(VOCAB, d, rngs=rngs)
        self.wpe = nnx.Embed(CONTEXT, d, rngs=rngs)
        self.h = nnx.List([Block(d, rngs) for _ in range(LAYERS)])
        self.ln_f = nnx.LayerNorm(d, rngs=rngs)
        self.lm_head = nnx.Linear(d, VOCAB, use_bias=False, rngs=rngs)


def abstract(d: int) -> GPT:
    return nnx.eval_shape(lambda: GPT(d, nnx.Rngs(0)))


def stds(plan, *paths):
    return {p: round(next(r.law.std for r in plan if r.path == p), 6) for p in paths}


key = jax.random.key(0)

# GPT-2: 0.02 everywhere, residual projections 0.02 / sqrt(2 · layers).
gpt2 = presets.gpt2_rules(LAYERS, residual=r"(attn/out|mlp/c_proj)/kernel$")
model = abstract(256)
print(wi.flax.plan(model, gpt2))
wi.flax.reinit(model, key, gpt2)
print("GPT-2 residual kernel std:", float(np.std(model.h[0].mlp.c_proj.kernel[...])), "law", 0.02 / math.sqrt(8))

# μP (Tensor Programs V, Table 3): as the width grows 4x, hidden std halves, readout std quarters,
# embeddings stay put.
mup = presets.mup_rules(embedding=r"(wte|wpe)/embedding$", readout=r"lm_head/kernel$") + [("scale$", wi.ones)]
for d in (128, 512):
    print(
        f"μP width {d}:",
        stds(wi.flax.plan(abstract(d), mup), "h/0/attn/query/kernel", "lm_head/kernel", "wte/embedding"),
    )

# DeepNet: Xavier normal with gain β on the FFN, value and output projections; the model's own
# code applies x + α·G(x) before each LayerNorm.
alpha, beta = presets.deepnet_constants(decoder_layers=LAYERS)["decoder"]
deepnet = presets.deepnet_rules(beta, scaled_weights=r"(attn/(value|out)|mlp/c_\w+)/kernel$") + [
    (r"(wte|wpe)/embedding$", wi.normal(0.02)),
    ("lm_head/kernel$", wi.xavier_normal()),
    ("bias$", wi.zeros),
    ("scale$", wi.ones),
]
print(
    f"DeepNet α={alpha:.4f} β={beta:.4f}:",
    stds(wi.flax.plan(abstract(256), deepnet), "h/0/attn/key/kernel", "h/0/attn/value/kernel"),
)
