"""Re-initialize a Flax nnx model by path rules: nnx.state -> init_tree -> nnx.update."""

import jax
from flax import nnx

import jax_weightinit as wi


class MLP(nnx.Module):
    def __init__(self, rngs: nnx.Rngs):
        self.layers = nnx.List([nnx.Linear(64, 64, rngs=rngs) for _ in range(4)])

    def __call__(self, x):
        for layer in self.layers:
            x = nnx.relu(layer(x))
        return x


model = MLP(nnx.Rngs(0))
rules = [("kernel$", wi.he_normal()), ("bias$", wi.zeros)]
nnx.update(model, wi.init_tree(jax.random.key(42), nnx.state(model, nnx.Param), rules))
print("layer 0 kernel std:", float(model.layers[0].kernel[...].std()), "expected", (2 / 64) ** 0.5)
