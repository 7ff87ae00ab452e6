"""Equinox: re-initialize by path rules; fans are read from each layer, so (out, in)
weights need no axes."""

import equinox as eqx
import jax

import jax_weightinit as wi

mlp = eqx.nn.MLP(784, 10, 256, depth=3, key=jax.random.key(0))
rules = [("weight$", wi.he_normal()), ("bias$", wi.zeros)]
print(wi.equinox.plan(mlp, rules))
mlp = wi.equinox.reinit(mlp, jax.random.key(1), rules)  # a new, immutable module
std = float(mlp.layers[0].weight.std())
print("first weight std:", std, "expected", (2 / 784) ** 0.5)
