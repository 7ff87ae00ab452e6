"""Equinox: eqx.partition -> init_tree -> eqx.combine; Linear weights are (out, in), torch's layout."""

import equinox as eqx
import jax

import jax_weightinit as wi
from jax_weightinit import pytorch

mlp = eqx.nn.MLP(784, 10, 256, depth=3, key=jax.random.key(0))
params, static = eqx.partition(mlp, eqx.is_inexact_array)
rules = [("weight$", pytorch.kaiming_normal(nonlinearity="relu")), ("bias$", wi.zeros)]
mlp = eqx.combine(wi.init_tree(jax.random.key(1), params, rules), static)
print("first weight std:", float(mlp.layers[0].weight.std()), "expected", (2 / 784) ** 0.5)
