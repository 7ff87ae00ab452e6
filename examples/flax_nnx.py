"""Re-initialize a Flax nnx model by path rules, each fan-scaled law at its layer's own
fans."""

import jax
from flax import nnx

import jax_weightinit as wi


class Block(nnx.Module):
    def __init__(self, rngs: nnx.Rngs):
        # Kernels (256, 4, 64) and (4, 64, 256), each read as a 256 x 256 layer.
        self.attn = nnx.MultiHeadAttention(4, 256, decode=False, rngs=rngs)
        self.up = nnx.Linear(256, 1024, rngs=rngs)
        self.down = nnx.Linear(1024, 256, rngs=rngs)


model = Block(nnx.Rngs(0))
rules = [("kernel$", wi.he_normal()), ("bias$", wi.zeros)]
print(wi.flax.plan(model, rules))  # read it first: rule, fans, std and bounds per leaf
wi.flax.reinit(model, jax.random.key(42), rules)  # in place
std = float(model.attn.query.kernel[...].std())
print("query kernel std:", std, "expected", (2 / 256) ** 0.5)
